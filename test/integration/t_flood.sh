#!/usr/bin/env bash
# Floods: 5,000 half-open connections, and a connect flood beyond max_client_connections.
# gp-test-timeout: 300
#
# Runs its own proxies (the runner's binary) in front of the runner's MariaDB, so that the
# limits can be low: A (ports GP_TEST_FLOOD_PORT, +1 for HTTP; default 16540) with a 2 s
# client handshake timeout, B (+2, +3) with max_client_connections = 50. A healthy client
# works through the flooded proxy the whole time (lib/flood.c). Afterwards each proxy's fds
# and session gauges are back at their baseline and it exits 0 on SIGTERM.
#
# Alone: test/integration/run.sh --only t_flood. FLOOD_HALFOPEN (5000), FLOOD_CONNS (300).
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=test/integration/lib/common.sh
source "$HERE/lib/common.sh"
# shellcheck source=test/integration/lib/proxyinst.sh
source "$HERE/lib/proxyinst.sh"
gp_need_env PROXY_HOST DB_PORT DB_DIR TEST_TMP PROXY_MODE

if [[ "$PROXY_MODE" == direct ]]; then
  echo "# direct mode: this test runs proxies of its own; nothing to check"
  exit 0
fi

HALFOPEN_N=${FLOOD_HALFOPEN:-5000}
PARTIAL_PCT=20        # share of the half-open clients that send a truncated handshake response
HANDSHAKE_MS=2000     # limits.client_handshake_timeout_ms of proxy A
SLACK_MS=1000         # accept latency + timer and poll granularity on a loaded 2-core machine
CONN_N=${FLOOD_CONNS:-300}
CONN_LIMIT=50         # limits.max_client_connections of proxy B
BASE=${GP_TEST_FLOOD_PORT:-16540}
BIN=$(gp_inst_bin) || exit 1

# 5,000 clients here and 10,000 sockets in the proxy: both need a high open-file limit.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if (($(ulimit -n) < HALFOPEN_N + 200)); then
  gp_notok "open-file limit $(ulimit -n) is too low for $HALFOPEN_N connections (raise ulimit -Hn)"
  gp_done
fi

STARTED=()
# shellcheck disable=SC2317 # reached through the EXIT trap
cleanup() {
  local p
  for p in "${STARTED[@]}"; do
    alive "$p" && stop_pid "$p" 10
  done
}
trap cleanup EXIT

echo "# building lib/flood.c"
# shellcheck disable=SC2046 # mariadb_config prints several words on purpose
if ! gcc -O2 -std=gnu11 -Wall -Wextra -Werror $(mariadb_config --cflags) -o "$TEST_TMP/flood" \
  "$HERE/lib/flood.c" $(mariadb_config --libs) -pthread 2>"$TEST_TMP/flood-build.log"; then
  gp_notok "lib/flood.c does not compile: $(head -n 5 "$TEST_TMP/flood-build.log")"
  gp_done
fi

# write_conf FILE PORT HTTP MAX_CLIENTS HANDSHAKE_MS
write_conf() {
  cat >"$1" <<EOF
listen = "127.0.0.1:$2";
http_listen = "127.0.0.1:$3";
log_level = "info";
limits = {
  max_client_connections = $4;
  client_handshake_timeout_ms = $5;
  backend_connect_timeout_ms = 2000;
  shutdown_timeout_ms = 5000;
};
monitor = { user = "monitor"; password = "monitor"; interval_ms = 250; timeout_ms = 1000; };
backends = ( { name = "db1"; address = "127.0.0.1:$DB_PORT"; priority = 1; } );
EOF
}

# db_threads: Threads_connected on MariaDB, read as root over its socket.
db_threads() {
  mariadb --defaults-file="$DB_DIR/my.cnf" --protocol=socket -uroot -N -B \
    -e "SHOW GLOBAL STATUS LIKE 'Threads_connected'" 2>/dev/null | awk '{print $2}'
}

# start_proxy NAME PORT HTTP MAX_CLIENTS HANDSHAKE_MS: sets PID, FD0 (baseline fds), G0.
start_proxy() {
  local name=$1 port=$2 http=127.0.0.1:$3
  write_conf "$TEST_TMP/$name.conf" "$port" "$3" "$4" "$5"
  LOG=$TEST_TMP/$name.log
  gp_inst_start "$BIN" "$TEST_TMP/$name.conf" "$LOG"
  PID=$GP_INST_PID
  STARTED+=("$PID")
  HTTP=$http
  if ! gp_inst_wait_ready "$PID" "$port" 30; then
    gp_notok "proxy $name did not relay SELECT 1 within 30 s"
    tail -n 20 "$LOG" | sed 's/^/#   /'
    return 1
  fi
  # Baseline: no sessions, and the fd count steady (the readiness client is gone).
  local last="" now i
  for ((i = 0; i < 50; i++)); do
    G0=$(gp_session_gauges "$http")
    sleep 0.3
    now=$(gp_fd_count "$PID")
    [[ "$G0" == "0 0 0" && "$now" == "$last" ]] && break
    last=$now
  done
  FD0=$now
  echo "# proxy $name pid $PID: baseline $FD0 fds, session gauges [$G0], RSS $(gp_rss_kib "$PID") KiB"
  gp_eq "0 0 0" "$G0" "proxy $name: no sessions at the baseline"
}

# finish_proxy NAME: back to the baseline, then SIGTERM and a clean exit.
finish_proxy() {
  local name=$1 got
  if got=$(gp_wait_baseline "$PID" "$HTTP" "$FD0" "$G0" 20); then
    gp_ok "proxy $name: fds and session gauges back to the baseline ($got)"
  else
    gp_notok "proxy $name: not back to the baseline after 20 s: fds/gauges [$got], want [$FD0 $G0]"
    find "/proc/$PID/fd" -mindepth 1 -printf '%f -> %l\n' 2>/dev/null | tail -n 5 | sed 's/^/#   /'
  fi
  echo "# proxy $name RSS $(gp_rss_kib "$PID") KiB"
  stop_pid "$PID" 20
  gp_eq 0 "$STOP_RC" "proxy $name exits 0 on SIGTERM"
  local m
  for m in "ERROR: AddressSanitizer" "ERROR: LeakSanitizer" "runtime error:"; do
    if grep -qF "$m" "$LOG"; then
      gp_notok "proxy $name log contains '$m'"
      grep -m 1 -A 20 -F "$m" "$LOG" | sed 's/^/#   /'
    fi
  done
}

# run_flood OUT ARGS...: runs lib/flood.c, keeps its key=value output in the array F.
declare -A F=()
run_flood() {
  local out=$1 k v
  shift
  "$TEST_TMP/flood" -h 127.0.0.1 "$@" >"$out" 2>"$out.err"
  local rc=$?
  F=()
  while IFS='=' read -r k v; do
    [[ -n "$k" ]] && F[$k]=${v//\"/}
  done <"$out"
  sed 's/^/#   /' "$out"
  [[ -s "$out.err" ]] && sed 's/^/#   stderr: /' "$out.err"
  return $rc
}

db0=$(db_threads)

# ---- (a) half-open connections ---------------------------------------------------------------
echo "# (a) $HALFOPEN_N half-open connections ($PARTIAL_PCT% send a partial handshake response)"
if start_proxy A "$BASE" $((BASE + 1)) $((HALFOPEN_N + 1000)) "$HANDSHAKE_MS"; then
  bound=$((HANDSHAKE_MS + SLACK_MS))
  run_flood "$TEST_TMP/halfopen.out" -P "$BASE" halfopen "$HALFOPEN_N" "$PARTIAL_PCT" "$bound"
  gp_eq 0 $? "flood halfopen ran"
  gp_eq "$HALFOPEN_N" "${F[connected]:-}" "every TCP connect accepted"
  echo "# held at once: ${F[peak_open]:-?} (greeted ${F[greeted]:-?}, refused with ERR" \
    "${F[refused]:-?} [${F[err_codes]:-}], partial responses ${F[partial_sent]:-?})"
  gp_eq 0 "${F[never_closed]:-?}" "every half-open connection was closed by the proxy"
  gp_eq 0 "${F[late]:-?}" "all closed within handshake timeout ${HANDSHAKE_MS} ms + ${SLACK_MS} ms (worst ${F[close_ms_max]:-?} ms, median ${F[close_ms_p50]:-?} ms)"
  gp_eq 0 "${F[healthy_logins_failed]:-?}" "healthy client: no failed login (${F[healthy_logins_ok]:-?} ok, worst ${F[healthy_worst_login_ms]:-?} ms; last error: ${F[healthy_login_error]:-})"
  gp_eq 0 "${F[healthy_queries_failed]:-?}" "healthy client: no failed query on its session (${F[healthy_queries_ok]:-?} ok, worst ${F[healthy_worst_query_ms]:-?} ms; last error: ${F[healthy_query_error]:-})"
  if ((${F[healthy_held_logins]:-0} > 0 && ${F[healthy_held_queries]:-0} > 0)); then
    gp_ok "healthy client worked while the flood was held (${F[healthy_held_logins]} logins, ${F[healthy_held_queries]} queries in ${F[held_seconds]:-?} s)"
  else
    gp_notok "healthy client did nothing while the flood was held (${F[healthy_held_logins]:-0} logins, ${F[healthy_held_queries]:-0} queries in ${F[held_seconds]:-?} s)"
  fi
  echo "# proxy A log: $(grep -c 'event=handshake_timeout' "$LOG") handshake_timeout," \
    "$(grep -c 'event=backend_refused' "$LOG") backend_refused," \
    "$(grep -c 'event=backend_connect_failed' "$LOG") backend_connect_failed"
  finish_proxy A
fi

# MariaDB got one backend connection per half-open client: they must all be gone.
for ((i = 0; i < 100; i++)); do
  db1=$(db_threads)
  ((${db1:-999999} <= db0)) && break
  sleep 0.2
done
gp_eq "$db0" "$db1" "MariaDB Threads_connected back to its baseline after (a)"

# ---- (b) connect flood beyond max_client_connections -----------------------------------------
echo "# (b) $CONN_N clients at once, max_client_connections = $CONN_LIMIT"
if start_proxy B $((BASE + 2)) $((BASE + 3)) "$CONN_LIMIT" 10000; then
  run_flood "$TEST_TMP/connflood.out" -P $((BASE + 2)) connflood "$CONN_N" "$CONN_LIMIT"
  gp_eq 0 $? "flood connflood ran"
  gp_eq $((CONN_LIMIT - 1)) "${F[greeted]:-}" "the first $((CONN_LIMIT - 1)) (limit - the healthy client) were greeted"
  gp_eq $((CONN_N - CONN_LIMIT + 1)) "${F[refused_1040]:-}" "the others got ERR 1040 as their first packet"
  gp_eq "${F[refused]:-?}" "${F[refused_1040]:-}" "no other refusal"
  gp_eq "08004 Too many connections" "${F[err_sqlstate]:-} ${F[err_message]:-}" "ERR 1040's SQLSTATE and message"
  gp_eq "${F[refused]:-?}" "${F[refused_closed]:-}" "every refused client was closed after its ERR"
  gp_eq "${F[greeted]:-?}" "${F[greeted_still_open]:-}" "greeted clients are kept (until their handshake timeout)"
  gp_eq "${F[real_tries]:-?}" "${F[real_1040]:-}" "real clients during the flood get 1040 (${F[real_last_error]:-})"
  gp_eq 0 "${F[healthy_queries_failed]:-?}" "the connected healthy client kept working (${F[healthy_queries_ok]:-?} queries, ${F[healthy_held_queries]:-?} during the flood, worst ${F[healthy_worst_query_ms]:-?} ms; ${F[healthy_query_error]:-})"
  if [[ "${F[relogin_ms]:--1}" =~ ^[0-9]+$ ]]; then
    gp_ok "a new client logs in once the flood ends (after ${F[relogin_ms]} ms)"
  else
    gp_notok "no new login within 10 s of the flood's end"
  fi
  rejected=$(gp_metric_value "$HTTP" 'galera_proxy_client_connections_rejected_total{reason="max_connections"}')
  gp_eq $((${F[refused_1040]:-0} + ${F[real_1040]:-0} + ${F[relogin_refused]:-0})) "$rejected" \
    "client_connections_rejected_total{reason=max_connections} counts them"
  finish_proxy B
fi

gp_done
