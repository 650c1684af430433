#!/usr/bin/env bash
# run.sh - Galera integration suite: one real 3-node cluster, galera-proxy in front, t_* scenarios.
#
#   test/integration-galera/run.sh [--build DIR] [--only NAME[,NAME...]] [--keep]
#
#   --build DIR  meson build directory holding proxy/galera-proxy (default: build)
#   --only NAME  run only these scenarios (t_03_desync, 03, t_03_desync.sh, ...)
#   --keep       keep the scratch directory (logs, datadirs) even when everything passed
#
# Ports: Galera nodes SQL 3311-3313, gcomm 4511-4513, IST 4521-4523, SST 4531-4533 (see
# test/lib/galera.sh); proxy 127.0.0.1:16233 (listen) and :16234 (listen_ro); scenario 7 adds
# a standalone MariaDB on 3360 and a second proxy on 16235/16236; scenario 11 a second proxy
# on 16235/16236 with HTTP on 16237.
# GT_BACKEND_TLS=on|verify (environment) runs it all with TLS from the proxies to the nodes.
# Each scenario gets GT_WORK GALERA_DIR GT_BIN GT_PORT GT_RO_PORT GT_LOG GT_TMP, runs under a
# time limit, and must leave 3 Synced nodes and the main proxy running (the runner checks, and
# repairs before the next scenario if not). A scenario passes when it exits 0, printed at least
# one "ok - CHECK" line and no "not ok" line (lib/gt.sh's gt_ok / gt_notok), and nothing was
# recorded in $GT_WORK/problems meanwhile: a proxy that exited non-zero on SIGTERM or by itself,
# or left a sanitizer report, a proxy log that was missing. At the end the main proxy is stopped
# and must exit 0 with no sanitizer report. Sanitizer builds halt at the first report, with leak
# detection on (test/lib/sanitizers.sh). Prints "ok N - name" / "not ok N - name" and
# "N passed, N failed"; exits non-zero on any failure. Stops everything it started, by pid.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)

# shellcheck source=test/lib/runner.sh
source "$ROOT/test/lib/runner.sh"
runner_args "$@"
sanitizer_env

SCENARIO_TIMEOUT=${GT_SCENARIO_TIMEOUT:-240}
GT_BIN=$BUILD/proxy/galera-proxy
if [[ ! -x "$GT_BIN" ]]; then
  echo "run.sh: no $GT_BIN (build it: meson setup $BUILD && ninja -C $BUILD)" >&2
  exit 2
fi

GT_WORK=$(mktemp -d /tmp/gp-itg.XXXXXX)
chmod 755 "$GT_WORK" # mariadbd runs as mysql and must reach its datadir
GALERA_DIR=$GT_WORK/galera
GT_LOG=$GT_WORK/proxy.log
export GT_WORK GALERA_DIR GT_BIN GT_LOG
# GT_BACKEND_TLS=on|verify: the nodes offer TLS and the suite's proxies speak it to them.
[[ "${GT_BACKEND_TLS:-off}" == off ]] || export GALERA_TLS=1
# shellcheck source=test/integration-galera/lib/gt.sh
. "$HERE/lib/gt.sh"
export GT_PORT GT_RO_PORT
: >"$GT_WORK/pids"
: >"$GT_WORK/problems"

say() { printf '# %s\n' "$*"; }

# shellcheck disable=SC2317 # reached through the trap
cleanup() {
  local rc=$? f name
  trap - EXIT INT TERM
  gt_stop_tracked
  for f in "$GT_WORK"/proxy-*.pid; do
    [ -e "$f" ] || continue
    name=${f##*/proxy-}
    gt_proxy_stop "${name%.pid}"
  done
  [ -d "$GT_WORK/single" ] && mariadb_stop "$GT_WORK/single" 2>/dev/null
  galera_stop "$GALERA_DIR" >>"$GT_WORK/galera.log" 2>&1
  if [ "$rc" != 0 ] && [ "$FAILED" = 0 ]; then # failed outside a scenario
    echo "# proxy log tail ($GT_LOG):"
    tail -n 40 "$GT_LOG" 2>/dev/null | sed 's/^/#   /'
  fi
  [ "$FAILED" != 0 ] || [ "$rc" != 0 ] && KEEP=1
  if [ "$KEEP" = 1 ]; then
    echo "# scratch directory kept: $GT_WORK"
  else
    rm -rf "$GT_WORK"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Nothing may already listen on our ports (another run, a developer's cluster).
busy=$(ss -Hltn 2>/dev/null | awk '{print $4}' |
  grep -E ':(331[123]|45[123][123]|1623[34567]|3360)$' || true)
if [ -n "$busy" ]; then
  echo "run.sh: ports already in use: $(echo "$busy" | tr '\n' ' ')" >&2
  exit 2
fi

# repair: bring the cluster back to 3 Synced nodes and the main proxy up (after a scenario
# that failed half-way). Returns non-zero if it could not.
repair() {
  local n primary=0
  gt_stop_tracked
  for n in 1 2 3; do
    if galera_pid "$n" "$GALERA_DIR" >/dev/null &&
      [ "$(gt_status "$n" wsrep_cluster_status)" = Primary ]; then
      primary=1
    fi
  done
  if [ "$primary" = 0 ]; then
    for n in 1 2 3; do
      if galera_pid "$n" "$GALERA_DIR" >/dev/null; then
        say "repair: bootstrapping node$n"
        gt_nsql "$n" "SET GLOBAL wsrep_provider_options='pc.bootstrap=YES'"
        break
      fi
    done
  fi
  for n in 1 2 3; do
    if ! galera_pid "$n" "$GALERA_DIR" >/dev/null; then
      say "repair: restarting node$n"
      galera_restart "$n" "$GALERA_DIR" >>"$GT_WORK/galera.log" 2>&1
    fi
    gt_nsql "$n" "SET GLOBAL wsrep_desync=OFF; SET GLOBAL read_only=OFF;
      SET GLOBAL wsrep_reject_queries=NONE" 2>/dev/null
  done
  gt_wait_healthy 60 || return 1
  if [ -d "$GT_WORK/single" ]; then
    gt_proxy_stop single
    mariadb_stop "$GT_WORK/single" 2>/dev/null
  fi
  gt_proxy_restart
}

say "starting a 3-node Galera cluster in $GALERA_DIR"
if ! galera_start "$GALERA_DIR" >>"$GT_WORK/galera.log" 2>&1; then
  echo "run.sh: the cluster did not start; $GT_WORK/galera.log:" >&2
  tail -n 30 "$GT_WORK/galera.log" >&2
  exit 1
fi
say "cluster up after $(($(date +%s) - T_START)) s; starting galera-proxy"
# Ssl_accepts of the 3 nodes, read in clear (10.11's client takes TLS when a server offers it).
ssl_accepts() {
  local n
  for n in 1 2 3; do
    mariadb --no-defaults --skip-ssl -S "$GALERA_DIR/node$n/mysqld.sock" -uroot -N -B \
      -e "SHOW GLOBAL STATUS LIKE 'Ssl_accepts'" | cut -f2
  done | paste -sd' '
}
[[ "${GT_BACKEND_TLS:-off}" == off ]] || acc0=$(ssl_accepts)
if ! gt_proxy_restart; then
  echo "run.sh: galera-proxy did not start" >&2
  exit 1
fi
if [[ "${GT_BACKEND_TLS:-off}" != off ]]; then
  # Proof on the servers' side: since the proxy started, each node accepted TLS connections
  # (the monitor's), and nothing else connected meanwhile.
  sleep 1
  acc1=$(ssl_accepts)
  say "tls.backend = $GT_BACKEND_TLS: the nodes' Ssl_accepts went from $acc0 to $acc1"
  read -r a1 a2 a3 <<<"$acc0"
  read -r b1 b2 b3 <<<"$acc1"
  if ! ((b1 > a1 && b2 > a2 && b3 > a3)); then
    echo "run.sh: a node has accepted no TLS connection from the proxy" >&2
    exit 1
  fi
fi

for t in "$HERE"/t_*.sh "$HERE"/t_*.php; do
  [ -e "$t" ] || continue
  name=$(basename "$t")
  name=${name%.*}
  runner_selected "$name" || continue
  N=$((N + 1))
  echo "# --- $name"
  t0=$(date +%s)
  log_from=$(wc -l <"$GT_LOG")
  tmp=$GT_WORK/$name
  mkdir -p "$tmp"
  case "$t" in
  *.sh) runner=(bash "$t") ;;
  *.php) runner=(php "$t") ;;
  esac
  problems_from=$(wc -l <"$GT_WORK/problems")
  GT_TMP=$tmp timeout -k 10 "$SCENARIO_TIMEOUT" "${runner[@]}" 2>"$tmp/stderr" | tee "$tmp/out"
  rc=${PIPESTATUS[0]}
  [ "$rc" = 124 ] && echo "  not ok - timed out after ${SCENARIO_TIMEOUT}s"
  note=""
  # A scenario that checked nothing, or printed a failed check and still exited 0, fails.
  if ! grep -Eq '^[[:space:]]*ok( [0-9]+)? - ' "$tmp/out"; then
    note="$note # made no check (no \"ok - \" line)"
    [ "$rc" = 0 ] && rc=1
  fi
  if [ "$rc" = 0 ] && grep -Eq '^[[:space:]]*not ok( [0-9]+)? - ' "$tmp/out"; then
    note="$note # a check failed but the scenario exited 0"
    rc=1
  fi
  gt_stop_tracked
  if ! gt_cluster_healthy || ! gt_proxy_pid main >/dev/null; then
    note="$note # left the cluster or the proxy unhealthy: repaired"
    [ "$rc" = 0 ] && rc=1
    galera_status "$GALERA_DIR" 2>/dev/null | sed 's/^/#   /'
    if ! repair; then
      echo "not ok $N - $name (took $(($(date +%s) - t0)) s)$note; repair failed, stopping"
      FAILED=$((FAILED + 1))
      break
    fi
  fi
  # What gt.sh recorded meanwhile (the repair's proxy restart included).
  new_problems=$(tail -n +"$((problems_from + 1))" "$GT_WORK/problems")
  if [ -n "$new_problems" ]; then
    note="$note # $(grep -c . <<<"$new_problems") problem(s) recorded"
    [ "$rc" = 0 ] && rc=1
  fi
  if [ "$rc" = 0 ]; then
    echo "ok $N - $name (took $(($(date +%s) - t0)) s)"
    PASSED=$((PASSED + 1))
  else
    echo "not ok $N - $name (took $(($(date +%s) - t0)) s, exit $rc)$note"
    FAILED=$((FAILED + 1))
    [ -z "$new_problems" ] || awk '{ print "#   problem: " $0 }' <<<"$new_problems"
    if [ -s "$tmp/stderr" ]; then
      echo "# its stderr:"
      tail -n 15 "$tmp/stderr" | sed 's/^/#   /'
    fi
    # The decisions the proxy logged during the scenario (the whole log is in GT_WORK).
    echo "# proxy log tail (warnings, node states, writer changes, evictions during $name):"
    tail -n +"$((log_from + 1))" "$GT_LOG" |
      grep -E 'level=(warn|error)|event=(node_state|writer_change|evict|barrier|start )' |
      tail -n 30 | sed 's/^/#   /'
  fi
done

if [ "$N" = 0 ]; then
  N=1
  echo "not ok $N - no scenario matched ${ONLY:-t_*}"
  FAILED=$((FAILED + 1))
fi

# The main proxy (and any other still running) must stop cleanly: exit 0 on SIGTERM, no
# sanitizer report (LeakSanitizer reports at exit).
problems_from=$(wc -l <"$GT_WORK/problems")
for f in "$GT_WORK"/proxy-*.pid; do
  [ -e "$f" ] || continue
  name=${f##*/proxy-}
  gt_proxy_stop "${name%.pid}"
done
new_problems=$(tail -n +"$((problems_from + 1))" "$GT_WORK/problems")
N=$((N + 1))
if [ -z "$new_problems" ]; then
  echo "ok $N - the proxy shut down cleanly on SIGTERM (exit 0, no sanitizer report)"
  PASSED=$((PASSED + 1))
else
  echo "not ok $N - the proxy shut down cleanly on SIGTERM"
  awk '{ print "#   problem: " $0 }' <<<"$new_problems"
  FAILED=$((FAILED + 1))
fi

echo "# total $(($(date +%s) - T_START)) s"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
