#!/usr/bin/env bash
# gt.sh - shared helpers of the Galera integration suite: proxy control, clients, checks.
#
# Sourced by run.sh and by every t_*.sh (and by bench/drill_writer.sh). The runner exports
# GT_WORK (scratch dir), GALERA_DIR, GT_BIN (galera-proxy), GT_PORT / GT_RO_PORT (the proxy's
# endpoints) and GT_LOG (the main proxy's log); a scenario gets its own GT_TMP.
#
# Everything started here is recorded by pid: proxies in $GT_WORK/proxy-NAME.pid, background
# clients in $GT_WORK/pids. gt_cleanup_all stops all of it (the runner's EXIT trap).
#
# What no single check sees goes to $GT_WORK/problems, one line each, and the runner fails the
# scenario during which a line appeared: a proxy that did not exit 0 on SIGTERM, exited by
# itself, or left a sanitizer report (gt_proxy_stop), and a log file that was not there when
# a scenario read it (gt_log_lines, gt_log_since).

GT_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
GT_ROOT=$(cd "$GT_LIB/../../.." && pwd)
# shellcheck source=test/lib/procs.sh
. "$GT_ROOT/test/lib/procs.sh"
# shellcheck source=test/lib/sanitizers.sh
. "$GT_ROOT/test/lib/sanitizers.sh"
# shellcheck source=test/lib/galera.sh
. "$GT_ROOT/test/lib/galera.sh"
# shellcheck source=test/lib/mariadb.sh
. "$GT_ROOT/test/lib/mariadb.sh"

GT_PORT=${GT_PORT:-16233}
GT_RO_PORT=${GT_RO_PORT:-16234}
GT_CLIENT_TIMEOUT=${GT_CLIENT_TIMEOUT:-15} # seconds: no client call may hang longer

gt_now_ms() { date +%s%3N; }

# gt_ts_ms LINE: epoch ms of a logfmt line's ts= field.
gt_ts_ms() {
  local ts
  ts=$(sed -n 's/^ts=\([^ ]*\).*/\1/p' <<<"$1")
  [ -n "$ts" ] && date -d "$ts" +%s%3N
}

# ---- checks -----------------------------------------------------------------------------

GT_PASS=0
GT_FAIL=0
gt_ok() {
  GT_PASS=$((GT_PASS + 1))
  echo "  ok - $*"
}
gt_notok() {
  GT_FAIL=$((GT_FAIL + 1))
  echo "  not ok - $*"
}
# gt_check COND_EXIT_STATUS WHAT: gt_check "$([ a = b ]; echo $?)" ... is clumsy; use gt_eq/gt_le.
gt_eq() { if [ "$1" = "$2" ]; then gt_ok "$3"; else gt_notok "$3: expected [$1], got [$2]"; fi; }
gt_ne() { if [ "$1" != "$2" ]; then gt_ok "$3"; else gt_notok "$3: got [$2], must differ"; fi; }
gt_match() { if [[ "$2" =~ $1 ]]; then gt_ok "$3"; else gt_notok "$3: [$2] !~ /$1/"; fi; }
# gt_le A B WHAT: integers, A <= B.
gt_le() {
  if [[ "$1" =~ ^-?[0-9]+$ && "$2" =~ ^-?[0-9]+$ ]] && [ "$1" -le "$2" ]; then
    gt_ok "$3 ($1 <= $2)"
  else
    gt_notok "$3: [$1] not <= [$2]"
  fi
}
gt_info() { echo "  # $*"; }
# gt_finish: a scenario's exit status: no check failed, and at least one ran.
gt_finish() {
  echo "  # $GT_PASS checks passed, $GT_FAIL failed"
  if [ "$GT_PASS" = 0 ] && [ "$GT_FAIL" = 0 ]; then
    echo "  not ok - the scenario made no check"
    return 1
  fi
  [ "$GT_FAIL" = 0 ]
}

# gt_problem TEXT: something the runner must fail the current scenario for (see the top).
gt_problem() {
  echo "gt: $*" >&2
  echo "$*" >>"$GT_WORK/problems"
}

# ---- background processes ---------------------------------------------------------------

# gt_track PID: remember a background process so that cleanup stops it whatever happens.
gt_track() { echo "$1" >>"$GT_WORK/pids"; }

# gt_stop_pid PID: TERM, then KILL after 3 s; only if it is still one of ours (php/mariadb/bash).
gt_stop_pid() {
  local pid=$1 i
  kill -0 "$pid" 2>/dev/null || return 0
  kill "$pid" 2>/dev/null || true
  for i in $(seq 1 30); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
    : "$i"
  done
  kill -9 "$pid" 2>/dev/null || true
}

# gt_stop_tracked: stop every tracked background process still alive.
gt_stop_tracked() {
  local pid
  [ -f "$GT_WORK/pids" ] || return 0
  while read -r pid; do
    [ -n "$pid" ] && [ -d "/proc/$pid" ] && gt_stop_pid "$pid"
  done <"$GT_WORK/pids"
  : >"$GT_WORK/pids"
}

# ---- the proxy --------------------------------------------------------------------------

# gt_proxy_conf FILE [key=value...]: the suite's proxy configuration. Keys (defaults):
#   listen=127.0.0.1:$GT_PORT listen_ro=127.0.0.1:$GT_RO_PORT failback=false
#   failback_after_ms=30000 eviction=true connect_wait_ms=3000 drain_timeout_ms=5000
#   backends=galera (the 3 nodes) | single:PORT (one server)
# GT_BACKEND_TLS=on|verify (environment; the runner then starts the nodes with GALERA_TLS=1):
# the proxy speaks TLS to the nodes (verify: against the CA their certificates were made with).
gt_proxy_conf() {
  local file=$1 kv
  shift
  local listen=127.0.0.1:$GT_PORT listen_ro=127.0.0.1:$GT_RO_PORT failback=false
  local failback_after_ms=30000 eviction=true connect_wait_ms=3000 drain_timeout_ms=5000
  local backends=galera
  for kv in "$@"; do
    case "$kv" in
    listen=*) listen=${kv#*=} ;;
    listen_ro=*) listen_ro=${kv#*=} ;;
    failback=*) failback=${kv#*=} ;;
    failback_after_ms=*) failback_after_ms=${kv#*=} ;;
    eviction=*) eviction=${kv#*=} ;;
    connect_wait_ms=*) connect_wait_ms=${kv#*=} ;;
    drain_timeout_ms=*) drain_timeout_ms=${kv#*=} ;;
    backends=*) backends=${kv#*=} ;;
    *)
      echo "gt_proxy_conf: unknown key $kv" >&2
      return 2
      ;;
    esac
  done
  # The monitor's and the eviction account's password come from a file (password_file),
  # so the suite's logins and evictions prove the file form.
  printf 'monitor\n' >"$(dirname "$file")/monitor-password"
  {
    cat <<EOF
listen = "$listen";
listen_ro = "$listen_ro";
log_level = "info";
limits = { shutdown_timeout_ms = 2000; backend_connect_timeout_ms = 2000; };
monitor = { user = "monitor"; password_file = "monitor-password"; interval_ms = 250; timeout_ms = 1000; };
routing = {
  connect_wait_ms = $connect_wait_ms;
  drain_timeout_ms = $drain_timeout_ms;
  failback = $failback;
  failback_after_ms = $failback_after_ms;
};
eviction = { enabled = $eviction; user = "monitor"; password_file = "monitor-password"; };
EOF
    case "${GT_BACKEND_TLS:-off}" in
    on) echo 'tls = { backend = "on"; };' ;;
    verify) echo "tls = { backend = \"verify\"; backend_ca = \"$GALERA_DIR/tls/ca.pem\"; };" ;;
    esac
    case "$backends" in
    galera)
      echo 'backends = ('
      echo '  { name = "db1"; address = "127.0.0.1:3311"; priority = 1; },'
      echo '  { name = "db2"; address = "127.0.0.1:3312"; priority = 2; },'
      echo '  { name = "db3"; address = "127.0.0.1:3313"; priority = 3; }'
      echo ');'
      ;;
    single:*)
      echo "backends = ( { name = \"single\"; address = \"127.0.0.1:${backends#single:}\"; } );"
      ;;
    esac
  } >"$file"
}

# gt_proxy_pid [NAME]: pid of proxy NAME (default main) if it runs (and really is ours).
gt_proxy_pid() {
  local name=${1:-main} f pid
  f=$GT_WORK/proxy-$name.pid
  [ -s "$f" ] || return 1
  pid=$(cat "$f")
  [ -d "/proc/$pid" ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "galera-proxy -c $GT_WORK/" || return 1
  [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ] || return 1
  echo "$pid"
}

# gt_proxy_log [NAME]: the log file of proxy NAME.
gt_proxy_log() {
  local name=${1:-main}
  if [ "$name" = main ]; then echo "$GT_LOG"; else echo "$GT_WORK/proxy-$name.log"; fi
}

# gt_proxy_start NAME CONF [PORT]: start galera-proxy, wait until PORT answers SELECT 1. Its
# exit status will be in $GT_WORK/proxy-NAME.rc (test/lib/procs.sh start_recorded), for
# gt_proxy_stop to check whoever started it.
gt_proxy_start() {
  local name=$1 conf=$2 port=${3:-$GT_PORT} log pid i
  log=$(gt_proxy_log "$name")
  if gt_proxy_pid "$name" >/dev/null; then
    echo "gt_proxy_start: proxy $name already runs" >&2
    return 1
  fi
  gt_proxy_ended "$name"
  echo "ts=- event=gt_proxy_start conf=$conf" >>"$log"
  # Sanitizer reports are looked for in what this process writes, from here on.
  wc -c <"$log" >"$GT_WORK/proxy-$name.logpos"
  start_recorded "$GT_WORK/proxy-$name.rc" "$log" "$GT_BIN" -c "$conf" || {
    echo "gt_proxy_start: proxy $name did not start" >&2
    return 1
  }
  pid=$RECORDED_PID
  echo "$pid" >"$GT_WORK/proxy-$name.pid"
  for i in $(seq 1 100); do
    alive "$pid" || {
      echo "gt_proxy_start: proxy $name exited; log tail:" >&2
      tail -n 20 "$log" >&2
      return 1
    }
    if gt_sql "$port" "SELECT 1" >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.1
    : "$i"
  done
  echo "gt_proxy_start: proxy $name did not serve 127.0.0.1:$port within 10 s" >&2
  return 1
}

# gt_proxy_ended NAME [WHY]: proxy NAME has ended (or never ran): check how, once. Its exit
# status must be 0 and what it logged must hold no sanitizer report, else a problem is
# recorded (WHY says how it was stopped: "on SIGTERM"; without it, it had exited by itself).
# Returns non-zero on a problem.
gt_proxy_ended() {
  local name=$1 why=${2:-} f log rc pos reports
  f=$GT_WORK/proxy-$name
  [ -e "$f.pid" ] || [ -e "$f.rc" ] || return 0
  log=$(gt_proxy_log "$name")
  rc=$(recorded_rc "$f.rc" 5)
  pos=$(cat "$f.logpos" 2>/dev/null || echo 0)
  rm -f "$f.pid" "$f.rc" "$f.rc.child" "$f.logpos"
  if [ -f "$f.expected" ]; then # gt_proxy_kill: the end was the test's doing
    rm -f "$f.expected"
    return 0
  fi
  reports=$(tail -c +"$((pos + 1))" "$log" | grep -E "$SANITIZER_MARKERS" | head -n 1)
  if [ -z "$why" ]; then
    gt_problem "proxy $name had exited by itself (exit status $rc)${reports:+; $reports}"
    return 1
  fi
  if [ "$rc" != 0 ] || [ -n "$reports" ]; then
    gt_problem "proxy $name: exit status $rc $why${reports:+; sanitizer report: $reports}"
    return 1
  fi
}

# gt_proxy_stop [NAME]: SIGTERM, wait up to 10 s, then SIGKILL; then gt_proxy_ended checks
# that it exited 0 without a sanitizer report. Returns non-zero if not.
gt_proxy_stop() {
  local name=${1:-main} pid i
  pid=$(gt_proxy_pid "$name") || {
    gt_proxy_ended "$name"
    return
  }
  kill "$pid" 2>/dev/null || true
  for i in $(seq 1 100); do
    alive "$pid" || break
    sleep 0.1
    : "$i"
  done
  if alive "$pid"; then
    gt_problem "proxy $name did not exit within 10 s of SIGTERM: SIGKILL"
    kill -9 "$pid" 2>/dev/null
  fi
  gt_proxy_ended "$name" "on SIGTERM"
}

# gt_proxy_kill [NAME]: kill -9 proxy NAME on purpose (a scenario about a crashed proxy): its
# end is not a problem. Waits until it is gone.
gt_proxy_kill() {
  local name=${1:-main} pid
  pid=$(gt_proxy_pid "$name") || return 0
  : >"$GT_WORK/proxy-$name.expected"
  kill -9 "$pid" 2>/dev/null
  while alive "$pid"; do sleep 0.05; done
}

# gt_proxy_restart [key=value...]: the main proxy with the suite's config plus these keys.
# shellcheck disable=SC2120 # the keys are optional
gt_proxy_restart() {
  local conf=$GT_WORK/proxy-main.conf
  gt_proxy_stop main
  gt_proxy_conf "$conf" "$@" || return 1
  gt_proxy_start main "$conf" "$GT_PORT"
}

# gt_log_file NAME: the log file of proxy NAME, which must exist (else a problem: a count of
# lines in a missing file would be 0, and a check that nothing was logged would pass).
gt_log_file() {
  local log
  log=$(gt_proxy_log "$1")
  if [ ! -f "$log" ]; then
    gt_problem "proxy log $log does not exist (proxy '$1')"
    return 1
  fi
  echo "$log"
}
# shellcheck disable=SC2120 # NAME is optional
# gt_log_lines [NAME]: current line count of a proxy log (grep after it with gt_log_since).
gt_log_lines() {
  local log
  log=$(gt_log_file "${1:-main}") || {
    echo 0
    return 1
  }
  wc -l <"$log"
}
# gt_log_since FROM PATTERN [NAME]: matching lines after line FROM.
gt_log_since() {
  local log
  log=$(gt_log_file "${3:-main}") || return 2
  tail -n +"$(($1 + 1))" "$log" | grep -E "$2"
}
# gt_log_wait FROM PATTERN SECONDS [NAME]: wait for a matching line; prints it.
gt_log_wait() {
  local from=$1 pat=$2 t=$3 name=${4:-main} i line
  gt_log_file "$name" >/dev/null || return 1
  for i in $(seq 1 $((t * 20))); do
    line=$(gt_log_since "$from" "$pat" "$name" | head -n 1)
    if [ -n "$line" ]; then
      echo "$line"
      return 0
    fi
    sleep 0.05
    : "$i"
  done
  return 1
}

# ---- clients ----------------------------------------------------------------------------

# gt_sql PORT SQL: statements through 127.0.0.1:PORT as app/app; tab-separated, no header.
# --skip-ssl: the proxy speaks no TLS, and this client reports an ERR packet sent in place of
# the greeting (ERROR 1047 when no node is usable) as "ERROR 2002 ... TLS handshake" otherwise.
gt_sql() {
  timeout -k 2 "$GT_CLIENT_TIMEOUT" mariadb --no-defaults --skip-ssl -h127.0.0.1 -P"$1" -uapp -papp \
    --connect-timeout=10 -N -B -e "$2" test
}

# gt_node PORT: @@wsrep_node_name of a fresh session through PORT (empty on failure).
gt_node() { gt_sql "$1" "SELECT @@wsrep_node_name" 2>/dev/null; }
gt_writer() { gt_node "$GT_PORT"; }
# gt_writer_name: the proxy's writer as a backend name db1..db3 (from the node name).
gt_writer_db() {
  local n
  n=$(gt_writer) || return 1
  [ -n "$n" ] && echo "db${n#node}"
}

# gt_wait_writer_not NODE SECONDS: wait until new sessions through the proxy land elsewhere.
gt_wait_writer_not() {
  local node=$1 t=$2 t0 w
  t0=$(date +%s)
  while [ $(($(date +%s) - t0)) -lt "$t" ]; do
    w=$(gt_writer)
    if [ -n "$w" ] && [ "$w" != "$node" ]; then
      echo "$w"
      return 0
    fi
    sleep 0.2
  done
  return 1
}

# gt_node_num NODE_NAME: node2 -> 2
gt_node_num() { echo "${1#node}"; }

# gt_status N VAR: a wsrep status value of node N over its socket.
gt_status() { galera_status_var "$1" "$2" "$GALERA_DIR"; }
gt_nsql() { timeout -k 2 "$GT_CLIENT_TIMEOUT" mariadb --no-defaults -S "$GALERA_DIR/node$1/mysqld.sock" -uroot -N -B -e "$2"; }

# gt_cluster_healthy: every node runs, is Synced, and sees 3 members.
gt_cluster_healthy() {
  local n
  for n in 1 2 3; do
    galera_pid "$n" "$GALERA_DIR" >/dev/null || return 1
    [ "$(gt_status "$n" wsrep_local_state 2>/dev/null)" = 4 ] || return 1
    [ "$(gt_status "$n" wsrep_cluster_size 2>/dev/null)" = 3 ] || return 1
  done
}

# gt_wait_healthy SECONDS
gt_wait_healthy() {
  local t0
  t0=$(date +%s)
  while [ $(($(date +%s) - t0)) -lt "$1" ]; do
    gt_cluster_healthy && return 0
    sleep 0.3
  done
  return 1
}

# ---- interactive sessions (a PHP client per name, driven over two FIFOs) ----------------
#
# gt_sess_open NAME PORT [USER PASS]: connects (as app/app by default); the first reply is
# "connected THREAD_ID MS" or "connect_err MS ERRNO MSG" (read it with gt_sess_recv).
# gt_sess_send NAME SQL runs one statement ("!kill ID" sends COM_PROCESS_KILL, "!change_user
# USER PASS" COM_CHANGE_USER); its reply: "ok T0 T1 VALUE" (first column of the first row,
# "-" if none) or "err T0 T1 ERRNO MESSAGE". Times are epoch ms. gt_sess_close NAME ends it.

declare -A GT_SESS_W=() GT_SESS_R=() GT_SESS_PID=()

gt_sess_open() {
  local name=$1 port=$2 user=${3:-app} pass=${4:-app} d w r
  d=$GT_TMP/sess-$name
  rm -f "$d.in" "$d.out"
  mkfifo "$d.in" "$d.out"
  timeout -k 2 "${GT_SESS_LIFE:-120}" php "$GT_LIB/sess.php" 127.0.0.1 "$port" "$user" "$pass" \
    <"$d.in" >"$d.out" 2>"$d.err" &
  GT_SESS_PID[$name]=$!
  gt_track $!
  exec {w}>"$d.in"
  exec {r}<"$d.out"
  GT_SESS_W[$name]=$w
  GT_SESS_R[$name]=$r
}

gt_sess_send() {
  local w=${GT_SESS_W[$1]}
  { printf '%s\n' "$2" 1>&"$w"; } 2>/dev/null
}

# gt_sess_recv NAME SECONDS: the next reply line on stdout (status 1 on timeout/EOF).
gt_sess_recv() {
  local line
  if read -r -t "$2" -u "${GT_SESS_R[$1]}" line; then
    echo "$line"
    return 0
  fi
  return 1
}

# gt_sess_q NAME SQL [SECONDS]: send and wait for the reply.
gt_sess_q() {
  gt_sess_send "$1" "$2"
  gt_sess_recv "$1" "${3:-$GT_CLIENT_TIMEOUT}"
}

gt_sess_close() {
  local name=$1 w=${GT_SESS_W[$1]:-} r=${GT_SESS_R[$1]:-} pid=${GT_SESS_PID[$1]:-}
  [ -n "$w" ] && exec {w}>&-
  [ -n "$r" ] && exec {r}<&-
  if [ -n "$pid" ]; then
    gt_stop_pid "$pid"
    wait "$pid" 2>/dev/null || true
  fi
  unset "GT_SESS_W[$name]" "GT_SESS_R[$name]" "GT_SESS_PID[$name]"
  rm -f "$GT_TMP/sess-$name.in" "$GT_TMP/sess-$name.out"
}

gt_sess_close_all() {
  local name
  for name in "${!GT_SESS_PID[@]}"; do gt_sess_close "$name"; done
}

# gt_field N LINE: the Nth space-separated word of a reply (1-based).
gt_field() { awk -v n="$1" '{print $n}' <<<"$2"; }

# ---- scenario boilerplate ---------------------------------------------------------------

# gt_scenario_init: call first in a t_*.sh; sets GT_TMP and a trap that stops its clients.
gt_scenario_init() {
  GT_TMP=${GT_TMP:-$(mktemp -d "$GT_WORK/t.XXXXXX")}
  mkdir -p "$GT_TMP"
  trap '' PIPE # a dead client's FIFO must not kill the scenario
  trap 'gt_sess_close_all; gt_stop_tracked' EXIT
  trap 'exit 143' TERM INT
}

# gt_restore_node N: bring node N back (IST) if it is not running; wait Synced.
gt_restore_node() {
  galera_pid "$1" "$GALERA_DIR" >/dev/null && return 0
  galera_restart "$1" "$GALERA_DIR" >>"$GT_WORK/galera.log" 2>&1
}
