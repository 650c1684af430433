#!/usr/bin/env bash
# Soak: sysbench plus connection churn through galera-proxy; RSS, fds and session gauges must not leak.
#
#   test/soak/run.sh [--minutes N] [--seconds N] [--build DIR] [--keep]
#
#   --minutes N  load time (default 30; `make test` runs 2)
#   --seconds N  load time in seconds instead (for trying the script out)
#   --build DIR  meson build directory holding proxy/galera-proxy (default: build)
#   --keep       keep the work directory (samples.csv, logs, datadir) even when it passed
#
# One MariaDB (127.0.0.1:3420) and galera-proxy (16420 rw, 16421 ro, HTTP 16422; override
# with GP_SOAK_DB_PORT / GP_SOAK_PORT, which moves all three). sysbench oltp_read_write with
# SOAK_THREADS (4) threads and bench/churn.c with SOAK_CHURN_WORKERS (4) workers (connect,
# SELECT 1, close) run through the proxy for the whole time. Every SOAK_INTERVAL seconds
# (default 2, 5 beyond 10 minutes) the proxy's RSS, fds and session gauges go to samples.csv.
# After the load and SOAK_SETTLE (20) seconds at most, it asserts:
#   - the session gauges and the fd count are back at their baseline (exactly);
#   - RSS does not grow: the median anonymous RSS of the last quarter of the load is within
#     SOAK_RSS_TOL_KIB (2048) of the median of the second quarter (the first quarter is
#     warm-up: the buffer pool, malloc arenas and libmariadb-free code paths settle there);
#   - sysbench exits 0 with no FATAL line and no reconnect, churn has no failed cycle, the
#     proxy logged no error line, and it exits 0 on SIGTERM with no sanitizer report.
# Deadlocks that sysbench ignores (1213, 1020, 1205) are reported, not failed: the server
# makes them, with or without a proxy.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source=test/lib/mariadb.sh
source "$ROOT/test/lib/mariadb.sh"
# shellcheck source=test/integration/lib/proxyinst.sh
source "$ROOT/test/integration/lib/proxyinst.sh"

MINUTES=30
SECONDS_OPT=""
# shellcheck source=test/lib/runner.sh
source "$ROOT/test/lib/runner.sh"
RUNNER_VALUES=(--minutes MINUTES --seconds SECONDS_OPT)
runner_args "$@"
LOAD_SECONDS=${SECONDS_OPT:-$((MINUTES * 60))}
PROXY_BIN=$BUILD/proxy/galera-proxy
if ((LOAD_SECONDS < 20)); then
  echo "soak: the load must run at least 20 s (the RSS check needs samples)" >&2
  exit 2
fi

DB_PORT=${GP_SOAK_DB_PORT:-3420}
PORT=${GP_SOAK_PORT:-16420}
RO_PORT=$((PORT + 1))
HTTP=127.0.0.1:$((PORT + 2))
THREADS=${SOAK_THREADS:-4}
WORKERS=${SOAK_CHURN_WORKERS:-4}
INTERVAL=${SOAK_INTERVAL:-$((LOAD_SECONDS > 600 ? 5 : 2))}
SETTLE=${SOAK_SETTLE:-20}
RSS_TOL=${SOAK_RSS_TOL_KIB:-2048}

sanitizer_env
WORK=$(mktemp -d /tmp/gp-soak.XXXXXX)
chmod 755 "$WORK" # mariadbd runs as mysql and must reach its datadir
CSV=$WORK/samples.csv
PROXY_LOG=$WORK/proxy.log
PROXY_PID=""
DB_STARTED=0
LOAD_PIDS=()
FAILS=()
RESULT_ROWS=()

log() {
  printf 'soak: %s\n' "$*"
}

# shellcheck disable=SC2317 # reached through the EXIT trap
cleanup() {
  local rc=$? p
  trap - EXIT INT TERM
  for p in "${LOAD_PIDS[@]}"; do
    kill -TERM "$p" 2>/dev/null
  done
  for p in "${LOAD_PIDS[@]}"; do
    wait "$p" 2>/dev/null
  done
  if [[ -n "$PROXY_PID" ]] && alive "$PROXY_PID"; then
    stop_pid "$PROXY_PID" 20
  fi
  ((DB_STARTED)) && mariadb_stop "$WORK/db" 2>/dev/null
  if ((KEEP || rc != 0)); then
    log "work directory kept: $WORK"
  else
    rm -rf "$WORK"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

die() {
  log "$*"
  [[ -s "$PROXY_LOG" ]] && tail -n 20 "$PROXY_LOG" | sed 's/^/  proxy: /'
  exit 1
}

# check NAME OK DETAIL: one line of the summary table; a failed check fails the run.
check() {
  local status=ok
  if [[ "$2" != 1 ]]; then
    status=FAIL
    FAILS+=("$1")
  fi
  RESULT_ROWS+=("$(printf '%-5s %-34s %s' "$status" "$1" "$3")")
}

# median of the numbers on stdin
median() {
  sort -n | awk '{ a[NR] = $1 } END { if (NR == 0) print "NA"; else if (NR % 2) print a[(NR + 1) / 2]; else printf "%d\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

for tool in mariadbd mariadb-install-db sysbench gcc mariadb_config curl; do
  command -v "$tool" >/dev/null || die "$tool is not installed (make deps)"
done
[[ -x "$PROXY_BIN" ]] || die "no proxy binary at $PROXY_BIN (build it first)"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# ---- MariaDB, churn, proxy ---------------------------------------------------------------------
log "MariaDB on 127.0.0.1:$DB_PORT in $WORK/db"
mariadb_start "$WORK/db" "$DB_PORT" >"$WORK/db.pid" 2>"$WORK/mariadb-start.log" ||
  die "MariaDB did not start: $(tail -n 5 "$WORK/mariadb-start.log")"
DB_STARTED=1

log "building bench/churn.c"
# shellcheck disable=SC2046 # mariadb_config prints several words on purpose
gcc -O2 -std=gnu11 -Wall -Wextra -Werror $(mariadb_config --cflags) -o "$WORK/churn" \
  "$ROOT/bench/churn.c" $(mariadb_config --libs) -pthread || die "bench/churn.c does not compile"

cat >"$WORK/proxy.conf" <<EOF
listen = "127.0.0.1:$PORT";
listen_ro = "127.0.0.1:$RO_PORT";
http_listen = "$HTTP";
log_level = "warn"; # info logs two lines per connection: gigabytes in 30 minutes of churn
limits = {
  max_client_connections = 2000;
  client_handshake_timeout_ms = 5000;
  backend_connect_timeout_ms = 2000;
  shutdown_timeout_ms = 5000;
};
monitor = { user = "monitor"; password = "monitor"; interval_ms = 250; timeout_ms = 1000; };
backends = ( { name = "db1"; address = "127.0.0.1:$DB_PORT"; priority = 1; } );
EOF
log "galera-proxy on 127.0.0.1:$PORT (HTTP $HTTP)"
gp_inst_start "$PROXY_BIN" "$WORK/proxy.conf" "$PROXY_LOG"
PROXY_PID=$GP_INST_PID
gp_inst_wait_ready "$PROXY_PID" "$PORT" 30 || die "the proxy did not relay SELECT 1 within 30 s"

SB=(sysbench oltp_read_write --db-driver=mysql --mysql-host=127.0.0.1 --mysql-user=app
  --mysql-password=app --mysql-db=test --tables=4 --table-size=10000)
log "sysbench prepare (direct): 4 tables x 10000 rows"
"${SB[@]}" --mysql-port="$DB_PORT" prepare >"$WORK/prepare.log" 2>&1 ||
  die "sysbench prepare failed: $(tail -n 5 "$WORK/prepare.log")"

# ---- baseline ----------------------------------------------------------------------------------
# No session, fd count steady over a few reads (the readiness client is gone).
last=""
for ((i = 0; i < 50; i++)); do
  G0=$(gp_session_gauges "$HTTP")
  sleep 0.3
  FD0=$(gp_fd_count "$PROXY_PID")
  [[ "$G0" == "0 0 0" && "$FD0" == "$last" ]] && break
  last=$FD0
done
RSS0=$(gp_rss_kib "$PROXY_PID")
log "baseline: $FD0 fds, session gauges (sessions active backend_sessions) [$G0], RSS $RSS0 KiB"

# ---- load + samples ----------------------------------------------------------------------------
echo "t_s,phase,rss_kib,rss_anon_kib,fds,sessions,active,backend_sessions,accepted_total" >"$CSV"
# sample T PHASE: one CSV row.
sample() {
  local g acc
  g=$(gp_session_gauges "$HTTP")
  acc=$(gp_metric_value "$HTTP" galera_proxy_client_connections_accepted_total)
  printf '%s,%s,%s,%s,%s,%s,%s\n' "$1" "$2" "$(gp_rss_kib "$PROXY_PID")" \
    "$(gp_rss_kib "$PROXY_PID" RssAnon)" "$(gp_fd_count "$PROXY_PID")" "${g// /,}" "${acc:-?}" >>"$CSV"
}

log "load: sysbench oltp_read_write ($THREADS threads) + churn ($WORKERS workers) for ${LOAD_SECONDS} s, a sample every ${INTERVAL} s"
T0=$(date +%s)
"${SB[@]}" --mysql-port="$PORT" --threads="$THREADS" --time="$LOAD_SECONDS" --report-interval=60 \
  --mysql-ignore-errors=1213,1020,1205 run >"$WORK/sysbench.log" 2>&1 &
SB_PID=$!
"$WORK/churn" -h 127.0.0.1 -P "$PORT" -u app -p app -D test run "$WORKERS" "$LOAD_SECONDS" \
  >"$WORK/churn.out" 2>"$WORK/churn.err" &
CHURN_PID=$!
LOAD_PIDS=("$SB_PID" "$CHURN_PID")
next=$T0
while :; do
  now=$(date +%s)
  if ((now >= next)); then
    sample $((now - T0)) load
    next=$((next + INTERVAL))
  fi
  alive "$PROXY_PID" || break
  if ! kill -0 "$SB_PID" 2>/dev/null && ! kill -0 "$CHURN_PID" 2>/dev/null; then
    break
  fi
  if ((now - T0 > LOAD_SECONDS + 120)); then
    log "the load did not stop 120 s after its time"
    break
  fi
  sleep 0.5
done
wait "$SB_PID"
SB_RC=$?
wait "$CHURN_PID"
CHURN_RC=$?
LOAD_PIDS=()
T_LOAD=$(($(date +%s) - T0))
alive "$PROXY_PID" || die "the proxy died during the load"

# ---- settle ------------------------------------------------------------------------------------
log "load done after ${T_LOAD} s; waiting up to ${SETTLE} s for the baseline"
t_settle=$(date +%s)
settled=0
while (($(date +%s) - t_settle <= SETTLE)); do
  g=$(gp_session_gauges "$HTTP")
  sleep 0.2 # the scrape's own HTTP connection closes
  f=$(gp_fd_count "$PROXY_PID")
  if [[ "$g" == "$G0" && "$f" == "$FD0" ]]; then
    settled=1
    break
  fi
done
SETTLE_S=$(($(date +%s) - t_settle))
sleep 1
sample $(($(date +%s) - T0)) settled
IFS=, read -r _ _ RSS_END _ FD_END S_END A_END B_END ACC_END < <(tail -n 1 "$CSV")

# ---- verdicts ----------------------------------------------------------------------------------
check "session gauges back to baseline" \
  "$([[ "$S_END $A_END $B_END" == "$G0" ]] && echo 1)" \
  "sessions/active/backend_sessions $S_END/$A_END/$B_END, baseline ${G0// //} (settled in ${SETTLE_S} s: $settled)"
check "fds back to baseline" "$([[ "$FD_END" == "$FD0" ]] && echo 1)" "$FD_END fds, baseline $FD0"

# RSS: drop the first quarter of the load samples as warm-up, compare the medians of the
# second and the last quarter of anonymous RSS (code pages of the binary and libraries come
# and go with what was executed; they are no leak). One sample per quarter is too few.
mapfile -t ANON < <(awk -F, '$2 == "load" { print $4 }' "$CSV")
mapfile -t RSS < <(awk -F, '$2 == "load" { print $3 }' "$CSV")
mapfile -t ACC < <(awk -F, '$2 == "load" { print $9 }' "$CSV")
n=${#ANON[@]}
q=$((n / 4))
if ((q >= 2)); then
  early=$(printf '%s\n' "${ANON[@]:q:q}" | median)
  late=$(printf '%s\n' "${ANON[@]:n-q:q}" | median)
  growth=$((late - early))
  peak=$(printf '%s\n' "${RSS[@]}" | sort -n | tail -n 1)
  # The connections between the middles of the two quarters bound a per-connection leak.
  conns=$((${ACC[n - q + q / 2]:-0} - ${ACC[q + q / 2]:-0}))
  per_conn=$(awk -v g="$growth" -v c="$conns" 'BEGIN { if (c > 0) printf "%.2f", g * 1024 / c; else print "NA" }')
  check "RSS not growing" "$((growth <= RSS_TOL ? 1 : 0))" \
    "RssAnon median $early -> $late KiB: $growth KiB over $conns connections ($per_conn B/conn), tolerance $RSS_TOL KiB; VmRSS $RSS0 at start, peak $peak, $RSS_END at end"
else
  check "RSS not growing" 0 "only $n samples: run longer or sample more often"
fi

sb_fatal=$(grep -c FATAL "$WORK/sysbench.log")
sb_reconn=$(awk '/reconnects:/ { print $2; exit }' "$WORK/sysbench.log")
sb_tx=$(awk '/transactions:/ { print $2; exit }' "$WORK/sysbench.log")
sb_tps=$(awk '/transactions:/ { gsub(/[(]/, "", $3); print $3; exit }' "$WORK/sysbench.log")
sb_ign=$(awk '/ignored errors:/ { print $3; exit }' "$WORK/sysbench.log")
check "sysbench without errors" \
  "$([[ $SB_RC == 0 && $sb_fatal == 0 && ${sb_reconn:-x} == 0 && ${sb_tx:-0} -gt 0 ]] && echo 1)" \
  "exit $SB_RC, ${sb_tx:-?} transactions (${sb_tps:-?}/s), FATAL $sb_fatal, reconnects ${sb_reconn:-?}, ignored deadlocks ${sb_ign:-?}"
churn_field() {
  tr ' ' '\n' <"$WORK/churn.out" | awk -F= -v k="$1" '$1 == k { print $2; exit }'
}
c_ok=$(churn_field connects)
c_err=$(churn_field errors)
c_rate=$(churn_field rate)
check "churn without errors" \
  "$([[ $CHURN_RC == 0 && ${c_err:-x} == 0 && ${c_ok:-0} -gt 0 ]] && echo 1)" \
  "exit $CHURN_RC, ${c_ok:-?} connect+SELECT 1+close cycles (${c_rate:-?}/s), errors ${c_err:-?} $(tail -n 1 "$WORK/churn.err" 2>/dev/null)"
n_err=$(grep -c 'level=error' "$PROXY_LOG")
n_warn=$(grep -c 'level=warn' "$PROXY_LOG")
warn_events=$(grep -o 'level=warn event=[a-z_]*' "$PROXY_LOG" | sort | uniq -c | sort -rn |
  awk '{ sub("event=", "", $3); printf "%s%s x%s", sep, $3, $1; sep = ", " }')
check "proxy logged no error" "$([[ "$n_err" == 0 ]] && echo 1)" \
  "$n_err error lines, $n_warn warn lines${warn_events:+ ($warn_events)}"

stop_pid "$PROXY_PID" 20
PROXY_PID=""
exit_problems=$(proxy_exit_problems "$STOP_RC" "$PROXY_LOG")
check "proxy exits 0 on SIGTERM" "$([[ -z "$exit_problems" ]] && echo 1)" \
  "exit $STOP_RC${exit_problems:+: $exit_problems}"

echo
echo "soak summary: ${T_LOAD} s of load, $n samples in samples.csv, accepted ${ACC_END:-?} client connections"
printf '  %s\n' "${RESULT_ROWS[@]}"
if ((${#FAILS[@]})); then
  KEEP=1
  echo "soak: FAILED (${FAILS[*]})"
  exit 1
fi
echo "soak: passed"
