#!/usr/bin/env bash
# supervise.sh - vrrp-hooks/supervise and the systemd unit's track-file lines, with a real proxy.
#
#   test/vrrp-hooks/supervise.sh [--bin PATH]
#
# PATH is a built galera-proxy (default: ${GP_BUILD_PREFIX:-build}/proxy/galera-proxy). The proxy
# runs on 127.0.0.1 with two free ports picked at random below 32768 and one backend nobody
# listens on, so its /health answers 503 "no writer": it serves, which is what the track file
# reports (the writer is vrrp-hooks/check's business). No root, no namespace, no keepalived:
# test/drill/run.sh (drill 3s) runs the same supervisor under keepalived. Checks: the track file
# says 1 before the proxy serves and 0 once it does; a kill -9 of the proxy turns it to 1 (how fast
# is printed; make drill judges it) under /bin/sh and under bash; restarts as --restart says;
# SIGHUP and SIGTERM are passed on; usage errors; --mark-up / --mark-down; the unit's
# ExecStartPost= and ExecStopPost= lines run as written.
#
# Prints "ok N - name" / "not ok N - name" and "N passed, N failed"; exit status 1 on a failure.
# Stops everything it started, by pid.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SUP=$ROOT/vrrp-hooks/supervise
UNIT=$ROOT/docker/systemd/galera-proxy.service
BIN=${GP_BUILD_PREFIX:-build}/proxy/galera-proxy
while (($#)); do
  case $1 in
  --bin)
    BIN=${2:?}
    shift 2
    ;;
  *)
    echo "usage: $0 [--bin PATH]" >&2
    exit 2
    ;;
  esac
done
[[ "$BIN" == /* ]] || BIN=$ROOT/$BIN
[ -x "$BIN" ] || {
  echo "supervise.sh: no galera-proxy at $BIN (build it first)" >&2
  exit 2
}
command -v curl >/dev/null || {
  echo "supervise.sh: curl not found (test/lib/deps.sh installs it)" >&2
  exit 2
}

N=0
FAILED=0
WORK=$(mktemp -d /tmp/gp-supervise.XXXXXX)
PIDS=()

cleanup() {
  local p
  for p in "${PIDS[@]}"; do
    kill -TERM "$p" 2>/dev/null
  done
  sleep 0.3
  for p in "${PIDS[@]}"; do
    kill -KILL "$p" 2>/dev/null
  done
  if ((FAILED)); then
    echo "# work directory kept: $WORK"
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT

ok() {
  N=$((N + 1))
  echo "ok $N - $*"
}
not_ok() {
  N=$((N + 1))
  FAILED=$((FAILED + 1))
  echo "not ok $N - $*"
}
check() {
  local name=$1
  shift
  if "$@"; then ok "$name"; else not_ok "$name"; fi
}
evidence() { sed 's/^/    /' "$@" | tail -n 20; }

now_ms() {
  local t=${EPOCHREALTIME/[.,]/}
  echo "${t:0:${#t}-3}"
}

# wait_for SECONDS CMD...: poll CMD every 20 ms.
wait_for() {
  local end=$(($(now_ms) + $1 * 1000))
  shift
  while (($(now_ms) < end)); do
    "$@" && return 0
    sleep 0.02
  done
  return 1
}

free_port() {
  local p used
  used=$(ss -Htln 2>/dev/null | awk '{print $4}' | sed 's/.*://')
  while :; do
    p=$((20000 + RANDOM % 12000))
    grep -qx "$p" <<<"$used" || {
      echo "$p"
      return
    }
  done
}

SQL_PORT=$(free_port)
HTTP_PORT=$(free_port)
while [ "$HTTP_PORT" = "$SQL_PORT" ]; do HTTP_PORT=$(free_port); done
HTTP=127.0.0.1:$HTTP_PORT
cat >"$WORK/proxy.conf" <<EOF
# galera-proxy for test/vrrp-hooks/supervise.sh: one backend that refuses every connection.
listen = "127.0.0.1:$SQL_PORT";
http_listen = "$HTTP";
log_level = "info";
limits = { shutdown_timeout_ms = 1000; };
monitor = { user = "monitor"; password = "x"; interval_ms = 100; timeout_ms = 200; };
backends = ( { name = "db1"; address = "127.0.0.1:1"; } );
EOF
TRACK=$WORK/track

track_is() { [ "$(cat "$TRACK" 2>/dev/null)" = "$1" ]; }
serving() {
  curl -s --noproxy '*' --max-time 1 "http://$HTTP/health" | grep -q '^unavailable: no writer'
}
gone() { ! kill -0 "$1" 2>/dev/null; }
child_of() { [ "$(awk '{print $4}' "/proc/$1/stat" 2>/dev/null)" = "$2" ]; }
pid_in() { cat "$1" 2>/dev/null; }
# new_pid: the pid file names a proxy other than P1; P2 is it.
new_pid() {
  P2=$(pid_in "$WORK/proxy.pid")
  [ -n "$P2" ] && [ "$P2" != "$p1" ]
}
# rc_is WANT [TRACK]: the last exit status was WANT (and the track file says TRACK).
rc_is() { [ "$rc" = "$1" ] && { [ $# -lt 2 ] || track_is "$2"; }; }
# exited PID: the supervisor (our child) has exited; its status in RC.
exited() {
  gone "$1" || return 1
  wait "$1"
  RC=$?
}

# start_sup LOG SHELL ARGS...: start the supervisor (under SHELL) in the background; SUP_PID.
start_sup() {
  local log=$1 sh=$2
  shift 2
  rm -f "$TRACK" "$WORK/proxy.pid"
  # A shell cannot trap a signal ignored when it started (nohup does that to SIGHUP): start
  # it with the defaults, as systemd or an init would.
  env --default-signal=HUP,TERM,INT "$sh" "$SUP" --track-file "$TRACK" --http "$HTTP" \
    --pid-file "$WORK/proxy.pid" "$@" \
    -- "$BIN" -c "$WORK/proxy.conf" >"$log" 2>&1 &
  SUP_PID=$!
  PIDS+=("$SUP_PID")
}

# first_track_is_1 LOG: supervise's first supervise_track line says value=1.
first_track_is_1() {
  grep -m1 'event=supervise_track ' "$1" 2>/dev/null | grep -q ' value=1 '
}

# ---- usage -----------------------------------------------------------------------------

"$SUP" -- /bin/true 2>"$WORK/usage1.log"
rc=$?
rc_is 2 && grep -q "event=supervise_usage" "$WORK/usage1.log"
check "no --track-file: exit 2 with a usage line" [ $? = 0 ]
"$SUP" --track-file "$TRACK" --restart sometimes -- /bin/true 2>/dev/null
check "--restart sometimes: exit 2" [ $? = 2 ]
"$SUP" --track-file "$TRACK" 2>/dev/null
check "no command: exit 2" [ $? = 2 ]
"$SUP" --track-file "$WORK/no/such/dir/track" -- /bin/true 2>"$WORK/usage2.log"
rc=$?
rc_is 2 && grep -q "event=supervise_track_failed" "$WORK/usage2.log"
check "a track file that cannot be written: exit 2 before anything starts" [ $? = 0 ]

# ---- the supervisor, under /bin/sh and under bash ------------------------------------------

for sh in /bin/sh bash; do
  log=$WORK/sup-$(basename "$sh").log
  start_sup "$log" "$sh" --restart on-failure --restart-delay 0.5
  # The file may already say 0 again on a loaded machine by the time it is read: the log's
  # first track line (written right after the file) shows it said 1 first.
  if wait_for 2 track_is 1 || first_track_is_1 "$log"; then
    ok "$sh: the track file says 1 at once (before the proxy serves)"
  else
    not_ok "$sh: the track file says 1 at once"
  fi
  if wait_for 10 track_is 0 && serving; then
    ok "$sh: 0 once the proxy serves (/health: $(curl -s --noproxy '*' "http://$HTTP/health"))"
  else
    not_ok "$sh: 0 once the proxy serves"
    evidence "$log"
  fi
  p1=$(pid_in "$WORK/proxy.pid")
  check "$sh: --pid-file names the proxy, a child of supervise" child_of "${p1:-0}" "$SUP_PID"

  # kill -9: how long until the file says 1, read the way keepalived reads it (after the write).
  t0=$(now_ms)
  kill -KILL "$p1"
  # Correctness here (the file turns to 1 without a poll interval); timing belongs to make drill.
  while ! track_is 1 && (($(now_ms) - t0 < 5000)); do :; done
  lat=$(($(now_ms) - t0))
  if track_is 1; then
    ok "$sh: kill -9 of the proxy: the track file says 1 (after $lat ms)"
  else
    not_ok "$sh: kill -9 of the proxy: the track file says 1 (not within $lat ms)"
    evidence "$log"
  fi
  if wait_for 10 new_pid && wait_for 10 track_is 0; then
    ok "$sh: restarted after the delay (pid $p1 -> $P2) and 0 again once it serves"
  else
    not_ok "$sh: restarted after the delay and 0 again"
    evidence "$log"
  fi
  check "$sh: the exit was logged with its signal" \
    grep -q "event=supervise_exit status=137 signal=KILL track=1 restart_in_s=0.5" "$log"

  # SIGHUP: passed on, the proxy reloads and keeps running.
  kill -HUP "$SUP_PID"
  if wait_for 5 grep -q 'event=reload' "$log" && kill -0 "$P2" && kill -0 "$SUP_PID" &&
    track_is 0; then
    ok "$sh: SIGHUP is passed on (the proxy reloaded), nothing restarted"
  else
    not_ok "$sh: SIGHUP is passed on"
    evidence "$log"
  fi

  # SIGTERM: passed on, the proxy stops gracefully, supervise exits with its status (0).
  kill -TERM "$SUP_PID"
  if wait_for 10 exited "$SUP_PID" && [ "$RC" = 0 ] && gone "$P2" && track_is 1 &&
    [ ! -e "$WORK/proxy.pid" ]; then
    ok "$sh: SIGTERM: the proxy stopped, supervise exited 0, the track file says 1"
  else
    not_ok "$sh: SIGTERM: proxy stopped, exit 0, track 1 (rc ${RC:-?})"
    evidence "$log"
  fi
  grep -q 'event=signal signal=SIGTERM' "$log"
  check "$sh: the proxy got SIGTERM (its graceful stop), not SIGKILL" [ $? = 0 ]
done

# ---- --restart no / on-failure after a clean exit ------------------------------------------

start_sup "$WORK/sup-no.log" /bin/sh --restart no
wait_for 10 track_is 0
p1=$(pid_in "$WORK/proxy.pid")
kill -KILL "${p1:-0}"
if wait_for 5 exited "$SUP_PID" && [ "$RC" = 137 ] && track_is 1; then
  ok "--restart no: kill -9 of the proxy ends supervise with 137, the track file says 1"
else
  not_ok "--restart no: exit 137 and track 1 (rc ${RC:-?})"
  evidence "$WORK/sup-no.log"
fi

start_sup "$WORK/sup-clean.log" /bin/sh --restart on-failure
wait_for 10 track_is 0
p1=$(pid_in "$WORK/proxy.pid")
kill -TERM "${p1:-0}" # the proxy alone, as an operator's kill would
if wait_for 10 exited "$SUP_PID" && [ "$RC" = 0 ] && track_is 1; then
  ok "--restart on-failure: a clean exit of the proxy is not restarted (exit 0, track 1)"
else
  not_ok "--restart on-failure: a clean exit is not restarted (rc ${RC:-?})"
  evidence "$WORK/sup-clean.log"
fi

start_sup "$WORK/sup-always.log" /bin/sh --restart always --restart-delay 0.2
wait_for 10 track_is 0
p1=$(pid_in "$WORK/proxy.pid")
kill -TERM "${p1:-0}"
if wait_for 10 new_pid && wait_for 10 track_is 0; then
  ok "--restart always: a clean exit is restarted too"
else
  not_ok "--restart always: a clean exit is restarted"
  evidence "$WORK/sup-always.log"
fi
# SIGTERM during the restart pause: no new start.
kill -KILL "$(pid_in "$WORK/proxy.pid")"
wait_for 2 track_is 1
kill -TERM "$SUP_PID"
if wait_for 5 exited "$SUP_PID" && sleep 0.5 && ! grep -q "event=supervise_start" <(
  awk '/restart=no why=signal/ {f = 1} f' "$WORK/sup-always.log"); then
  ok "SIGTERM during the restart pause ends supervise without a new start"
else
  not_ok "SIGTERM during the restart pause ends supervise without a new start"
  evidence "$WORK/sup-always.log"
fi

# ---- --mark-up / --mark-down and the unit's lines --------------------------------------------

"$SUP" --mark-up "$TRACK" --http "$HTTP" --pid 999999999 --timeout 5 2>"$WORK/mark1.log"
check "--mark-up for a process that is gone: exit 1 at once" [ $? = 1 ]
"$BIN" -c "$WORK/proxy.conf" >"$WORK/direct.log" 2>&1 &
DIRECT=$!
PIDS+=("$DIRECT")
echo 1 >"$TRACK"
"$SUP" --mark-up "$TRACK" --http "$HTTP" --pid "$DIRECT" --timeout 10 2>"$WORK/mark2.log"
rc=$?
check "--mark-up: exit 0 and the track file says 0 once the proxy serves" rc_is 0 0
"$SUP" --mark-down "$TRACK" 2>"$WORK/mark3.log"
rc=$?
check "--mark-down: the track file says 1" rc_is 0 1

# The unit's ExecStartPost= / ExecStopPost= as written (the "+" prefix is systemd's: full
# privileges), with this test's paths: install path -> the checkout, the track file, the port.
unit_cmd() {
  sed -n "s/^$1=+//p" "$UNIT" | sed -e "s#/usr/local/lib/galera-proxy/supervise#$SUP#" \
    -e "s#/run/galera-proxy.track#$TRACK#" -e "s#127.0.0.1:9480#$HTTP#" \
    -e "s#\$MAINPID#$DIRECT#"
}
start_post=$(unit_cmd ExecStartPost)
stop_post=$(unit_cmd ExecStopPost)
if [ -n "$start_post" ] && [ -n "$stop_post" ]; then
  echo 1 >"$TRACK"
  eval "$start_post" 2>>"$WORK/unit.log"
  rc=$?
  check "unit: ExecStartPost= ($start_post) writes 0 once the proxy serves" rc_is 0 0
  kill -KILL "$DIRECT"
  wait "$DIRECT" 2>/dev/null
  eval "$stop_post" 2>>"$WORK/unit.log"
  rc=$?
  check "unit: ExecStopPost= ($stop_post) writes 1 after the proxy died" rc_is 0 1
else
  not_ok "unit: ExecStartPost=+ and ExecStopPost=+ lines found in $UNIT"
fi

echo "$((N - FAILED)) passed, $FAILED failed"
((FAILED == 0))
