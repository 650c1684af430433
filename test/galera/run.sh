#!/usr/bin/env bash
# run.sh - prove the monitor against a real 3-node cluster: detection, eviction, rejoin, timeouts.
#
# Usage: test/galera/run.sh [--valgrind|--asan] [--keep]
#   --valgrind  run the probe harness under valgrind (leaks and errors fail the run)
#   --asan      build it with AddressSanitizer + UndefinedBehaviorSanitizer (leak detection on;
#               any report, or an exit other than 0 on SIGTERM, fails the run)
#   --keep      leave the cluster running at the end (a cluster found running is always kept)
# Env: GALERA_DIR (default: a fresh directory, removed afterwards; name the directory of a
# running cluster to reuse it), BUILD (default build-galera).
# `make test` runs it with --asan (test/run-all.sh). The integration-galera suite covers the
# whole proxy's failover; this harness drives the monitor alone, for what only it shows: a
# monitor connection the server kills is not a failure, a node that rejoins gets a new gcomm
# UUID and the evict lists clear, and timeouts (a frozen node) never evict.
#
# Builds test/galera/monitor_probe.c with a plain gcc line (monitor.c, evict.c, mconn.c, galera.c,
# log.c, status.c, config.c, config_keys.c, config_tls.c; no meson), starts the cluster unless it already runs, then:
#   1. all three nodes come up; gp_monitor_exec runs "DO 1" on each
#   2. the server kills the monitor's connection: it reconnects at once, no failure
#   3. node3 is killed -9: down, evicted through a survivor, survivors' cluster size 2 fast
#   4. node3 restarts (IST), rejoins with a new gcomm UUID; evict lists cleared with evs.evict=
#   5. node2 is frozen (SIGSTOP) 3.5 s: down by timeouts, NO eviction, up again after SIGCONT
# (the freeze comes last: it leaves gcomm relaying for a few seconds, which slows views)
# Measurements go to $BUILD/galera-harness/results.txt and stdout.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=test/lib/sanitizers.sh
. "$ROOT/test/lib/sanitizers.sh"
own_dir=0
if [ -z "${GALERA_DIR:-}" ]; then
  GALERA_DIR=$(mktemp -d /tmp/gp-galera.XXXXXX)
  chmod 755 "$GALERA_DIR" # mariadbd runs as mysql and must reach its datadir
  own_dir=1
fi
# shellcheck source=test/lib/galera.sh
. "$ROOT/test/lib/galera.sh"
DIR=$GALERA_DIR
BUILD=${BUILD:-$ROOT/build-galera}
OUT=$BUILD/galera-harness
VALGRIND=0
ASAN=0
KEEP=0
for arg in "$@"; do
  case "$arg" in
  --valgrind) VALGRIND=1 ;;
  --asan) ASAN=1 ;;
  --keep) KEEP=1 ;;
  *)
    echo "usage: $0 [--valgrind|--asan] [--keep]" >&2
    exit 2
    ;;
  esac
done

started_cluster=0
probe_pid=
stopped_pid=
cleanup() {
  local rc=$?
  if [ -n "$stopped_pid" ]; then kill -CONT "$stopped_pid" 2>/dev/null || true; fi
  if [ -n "$probe_pid" ] && kill -0 "$probe_pid" 2>/dev/null; then
    kill "$probe_pid" 2>/dev/null || true
    wait "$probe_pid" 2>/dev/null || true
  fi
  if [ "$started_cluster" = 1 ] && [ "$KEEP" = 0 ]; then
    galera_stop "$DIR"
    [ "$own_dir" = 1 ] && [ "$rc" = 0 ] && rm -rf "$DIR"
  fi
  if [ "$rc" != 0 ]; then
    echo "FAILED (rc=$rc); harness output in $OUT; its last lines:" >&2
    tail -n 15 "$OUT/probe.out" "$OUT/probe.err" >&2 2>/dev/null || true
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '== %s\n' "$*"; }
fail() {
  printf 'FAIL: %s\n' "$*" >&2
  exit 1
}
now_ms() { date +%s%3N; }
# Epoch ms of the first logfmt line on the harness's stderr matching PATTERN (after line FROM).
log_ms() {
  local ts
  ts=$(tail -n +"${2:-1}" "$OUT/probe.err" | grep -m1 -E "$1" | sed -n 's/^ts=\([^ ]*\).*/\1/p')
  [ -n "$ts" ] && date -d "$ts" +%s%3N
}
# Wait up to $3 s for PATTERN in FILE.
wait_for() {
  local pat=$1 file=$2 t=$3 i
  for i in $(seq 1 $((t * 20))); do
    grep -qE "$pat" "$file" 2>/dev/null && return 0
    [ -n "$probe_pid" ] && ! kill -0 "$probe_pid" 2>/dev/null && fail "harness died"
    sleep 0.05
    : "$i"
  done
  fail "timeout waiting for /$pat/ in $file"
}
lines() { wc -l <"$1"; }

mkdir -p "$OUT"
rm -f "$OUT"/*
say "building monitor_probe"
san=()
if [ "$ASAN" = 1 ]; then
  san=("-fsanitize=address,undefined" -fno-omit-frame-pointer -fno-sanitize-recover=all)
  sanitizer_env
fi
# shellcheck disable=SC2046 # pkg-config output is a list of words
gcc "${san[@]}" -std=gnu11 -D_GNU_SOURCE -g -O1 -Wall -Wextra -Wshadow -Wstrict-prototypes \
  -Wmissing-prototypes -Werror -I"$ROOT/proxy" $(pkg-config --cflags libuv libmariadb libconfig) \
  -o "$BUILD/monitor_probe" "$ROOT/test/galera/monitor_probe.c" "$ROOT/proxy/cluster/monitor.c" \
  "$ROOT/proxy/cluster/evict.c" "$ROOT/proxy/cluster/mconn.c" "$ROOT/proxy/cluster/galera.c" \
  "$ROOT/proxy/base/log.c" "$ROOT/proxy/base/status.c" "$ROOT/proxy/base/config.c" \
  "$ROOT/proxy/base/config_keys.c" "$ROOT/proxy/base/config_tls.c" $(pkg-config --libs libuv libmariadb libconfig)

running=0
for n in 1 2 3; do
  if galera_pid "$n" "$DIR" >/dev/null && [ "$(galera_status_var "$n" wsrep_local_state "$DIR")" = 4 ]; then
    running=$((running + 1))
  fi
done
if [ "$running" = 3 ]; then
  say "reusing the cluster running in $DIR"
else
  say "starting a 3-node cluster in $DIR"
  galera_stop "$DIR"
  started_cluster=1
  galera_start "$DIR"
fi
for n in 1 2 3; do galera_sql "$n" "SET GLOBAL wsrep_provider_options='evs.evict='" "$DIR"; done

slow=1
cmd=("$BUILD/monitor_probe" -e "DO 1" 127.0.0.1:3311 127.0.0.1:3312 127.0.0.1:3313)
if [ "$VALGRIND" = 1 ]; then
  slow=3
  cmd=(valgrind --leak-check=full --show-leak-kinds=all --errors-for-leak-kinds=all
    --error-exitcode=99 --log-file="$OUT/valgrind.log" "${cmd[@]}")
fi
say "starting the harness: ${cmd[*]}"
"${cmd[@]}" >"$OUT/probe.out" 2>"$OUT/probe.err" &
probe_pid=$!

# 1. up, writer, exec
wait_for "WRITER from=none to=db1" "$OUT/probe.out" $((10 * slow))
for n in 1 2 3; do wait_for "EXEC node=db$n " "$OUT/probe.out" $((10 * slow)); done
[ "$(grep -c 'EXEC node=db. ok=1' "$OUT/probe.out")" = 3 ] || fail "exec on every node"
say "1. three nodes up, writer db1, exec ok on all"

# 2. the server kills the monitor's connection: immediate reconnect, not a failure
from=$(lines "$OUT/probe.err")
for id in $(galera_sql 1 "SELECT ID FROM information_schema.PROCESSLIST WHERE USER='monitor'" "$DIR"); do
  galera_sql 1 "KILL $id" "$DIR" || true
done
wait_for "event=monitor_conn_lost node=db1" "$OUT/probe.err" $((5 * slow))
sleep 1
# (a timeout would be the machine's load, not the lost connection)
if tail -n +"$from" "$OUT/probe.err" | grep "event=backend_down node=db1" | grep -vq error=timeout; then
  fail "a killed monitor connection must not mark the node down"
fi
say "2. monitor connection killed by the server: reconnected, node stayed up"

# 3. kill -9 node3: down, evicted, the group shrinks at once
old_uuid=$(galera_status_var 3 wsrep_gcomm_uuid "$DIR")
from=$(lines "$OUT/probe.err")
t_kill=$(now_ms)
galera_kill 3 "$DIR"
t_size2=
for _ in $(seq 1 1000); do
  if [ "$(galera_status_var 1 wsrep_cluster_size "$DIR")" = 2 ]; then
    t_size2=$(now_ms)
    break
  fi
  sleep 0.01
done
[ -n "$t_size2" ] || fail "node1 never saw cluster size 2"
wait_for "event=evict_done node=db3" "$OUT/probe.err" $((5 * slow))
t_down=$(log_ms "event=backend_down node=db3" "$from")
t_evict=$(log_ms "event=evict node=db3" "$from")
t_evicted=$(log_ms "event=evict_done node=db3" "$from")
evict_line=$(tail -n +"$from" "$OUT/probe.err" | grep -m1 "event=evict node=db3")
down_line=$(tail -n +"$from" "$OUT/probe.err" | grep -m1 "event=backend_down node=db3")
case "$down_line" in *error=refused*) ;; *) fail "db3 down for another reason: $down_line" ;; esac
case "$evict_line" in *"uuid=$old_uuid"*evidence=refused*) ;; *) fail "evict line: $evict_line" ;; esac
for n in 1 2; do
  list=$(galera_status_var "$n" wsrep_evs_evict_list "$DIR")
  case "$list" in *"$old_uuid"*) ;; *) fail "node$n evict list '$list' lacks $old_uuid" ;; esac
done
size2_ms=$((t_size2 - t_kill))
say "3. node3 killed: down after $((t_down - t_kill)) ms (refused), evict issued after" \
  "$((t_evict - t_kill)) ms, done after $((t_evicted - t_kill)) ms, node1 cluster_size=2 after" \
  "$size2_ms ms (evict list has $old_uuid)"
[ "$((t_down - t_kill))" -le $((1000 * slow)) ] || fail "detection took too long"
[ "$size2_ms" -le $((2500 * slow)) ] || fail "the group did not shrink fast (baseline without eviction: ~5.5 s)"

# 4. restart node3: a new gcomm UUID, rejoins despite the evict list; then clear the lists
from_out=$(lines "$OUT/probe.out")
galera_restart 3 "$DIR"
for _ in $(seq 1 $((200 * slow))); do
  tail -n +"$from_out" "$OUT/probe.out" | grep -q "UP node=db3 up=1" && break
  sleep 0.05
done
up_line=$(tail -n +"$from_out" "$OUT/probe.out" | grep -m1 "UP node=db3 up=1") ||
  fail "db3 not back up in the harness"
new_uuid=$(galera_status_var 3 wsrep_gcomm_uuid "$DIR")
[ "$new_uuid" != "$old_uuid" ] || fail "node3 kept its gcomm UUID"
case "$up_line" in *"gcomm_uuid=$new_uuid"*) ;; *) fail "harness saw $up_line, node has $new_uuid" ;; esac
for n in 1 2 3; do
  [ "$(galera_status_var "$n" wsrep_cluster_size "$DIR")" = 3 ] || fail "node$n not in a group of 3"
done
for n in 1 2; do
  galera_sql "$n" "SET GLOBAL wsrep_provider_options='evs.evict='" "$DIR"
  [ -z "$(galera_status_var "$n" wsrep_evs_evict_list "$DIR")" ] || fail "node$n evict list not cleared"
done
say "4. node3 rejoined with gcomm UUID $new_uuid (was $old_uuid); evict lists cleared"

# 5. freeze node2: timeouts mark it down, never an eviction
stopped_pid=$(galera_pid 2 "$DIR")
t_stop=$(now_ms)
kill -STOP "$stopped_pid"
from=$(lines "$OUT/probe.err")
wait_for "event=backend_down node=db2 error=timeout" "$OUT/probe.err" $((6 * slow))
t_down2=$(log_ms "event=backend_down node=db2" "$from")
sleep 1.5
kill -CONT "$stopped_pid"
stopped_pid=
if tail -n +"$from" "$OUT/probe.err" | grep -q "event=evict node=db2"; then
  fail "timeouts must never evict"
fi
from_out=$(lines "$OUT/probe.out")
for _ in $(seq 1 $((200 * slow))); do
  tail -n +"$from_out" "$OUT/probe.out" | grep -q "UP node=db2 up=1" && break
  sleep 0.05
done
tail -n +"$from_out" "$OUT/probe.out" | grep -q "UP node=db2 up=1" || fail "db2 back up after SIGCONT"
for _ in $(seq 1 100); do
  [ "$(galera_status_var 1 wsrep_cluster_size "$DIR")" = 3 ] && break
  sleep 0.1
done
say "5. node2 frozen: down by timeout after $((t_down2 - t_stop)) ms, no eviction, back up"

# Clean shutdown of the harness: exit 0, every exec answered, one eviction.
kill -TERM "$probe_pid"
rc=0
wait "$probe_pid" || rc=$?
probe_pid=
[ "$rc" = 0 ] || fail "harness exited $rc"
reports=$(sanitizer_clean "$OUT/probe.err") || fail "sanitizer report from the harness: $reports"
stats=$(grep STATS "$OUT/probe.out")
case "$stats" in *" evictions=1 "*) ;; *) fail "expected exactly one eviction: $stats" ;; esac
if [ "$VALGRIND" = 1 ]; then
  grep -q "ERROR SUMMARY: 0 errors" "$OUT/valgrind.log" || fail "valgrind errors, see $OUT/valgrind.log"
  grep -E "in use at exit|ERROR SUMMARY" "$OUT/valgrind.log"
fi
say "harness stopped cleanly: $stats"

{
  echo "kill -9 node3 -> backend_down db3:        $((t_down - t_kill)) ms"
  echo "kill -9 node3 -> evict issued:            $((t_evict - t_kill)) ms"
  echo "kill -9 node3 -> evict_done:              $((t_evicted - t_kill)) ms"
  echo "kill -9 node3 -> node1 cluster_size=2:    $size2_ms ms"
  echo "SIGSTOP node2 -> backend_down db2 (timeout): $((t_down2 - t_stop)) ms"
  echo "valgrind: $VALGRIND asan: $ASAN"
} | tee "$OUT/results.txt"
say "PASS"
