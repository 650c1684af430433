#!/usr/bin/env bash
# HTTP/observability integration: three single MariaDB servers, galera-proxy with http_listen,
# a real Prometheus scraping it; /metrics, /health, /status, admin POSTs, reloads, assets.
#
#   test/integration-http/run.sh [--build DIR] [--keep]
#
#   --build DIR  meson build directory holding proxy/galera-proxy (default: build)
#   --keep       keep the scratch directory (logs, datadirs) even when everything passed
#
# Ports (environment overrides): GP_HTTP_TEST_DB_PORTS="3350 3351 3352", proxy rw 16133,
# ro 16134, HTTP 19580, Prometheus 19590; the HTTPS pass: HTTPS 19582, its peer proxy 16143
# with HTTPS 19584 (GP_HTTP_TEST_HTTPS_PORT, GP_HTTP_TEST_PEER_PORT, GP_HTTP_TEST_PEER_HTTPS_PORT). Prints "ok N - name" / "not ok N - name" and
# "N passed, N failed"; exits non-zero on any failure. Stops everything it started (by pid).
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source=test/lib/mariadb.sh
source "$ROOT/test/lib/mariadb.sh"

# shellcheck source=test/lib/runner.sh
source "$ROOT/test/lib/runner.sh"
runner_args "$@"

read -r -a DB_PORTS <<<"${GP_HTTP_TEST_DB_PORTS:-3350 3351 3352}"
LISTEN_PORT=${GP_HTTP_TEST_PROXY_PORT:-16133}
LISTEN_RO_PORT=${GP_HTTP_TEST_PROXY_RO_PORT:-16134}
HTTP_PORT=${GP_HTTP_TEST_HTTP_PORT:-19580}
PROM_PORT=${GP_HTTP_TEST_PROM_PORT:-19590}
# The HTTPS pass (http_tls): its proxy's HTTP port, and a second proxy polling it as its peer.
HTTPS_PORT=${GP_HTTP_TEST_HTTPS_PORT:-$((HTTP_PORT + 2))}
PEER_HTTPS_PORT=${GP_HTTP_TEST_PEER_HTTPS_PORT:-$((HTTP_PORT + 4))}
PEER_PORT=${GP_HTTP_TEST_PEER_PORT:-$((LISTEN_PORT + 10))}
PROXY_BIN=$BUILD/proxy/galera-proxy
HTTP=127.0.0.1:$HTTP_PORT
PROM=127.0.0.1:$PROM_PORT
# Distinctive secrets: the test greps every output for them.
MON_PASS=Mon-Pw-7c41e9d2
TOKEN=Tok-5d2b88a1f0c3

sanitizer_env

WORK=$(mktemp -d /tmp/gp-http.XXXXXX)
chmod 755 "$WORK" # mariadbd runs as mysql and must reach its datadir
CONF=$WORK/proxy.conf
PROXY_LOG=$WORK/proxy.log
PROXY_PID=""
PROM_PID=""
LOOP_PID=""
LOAD_PID=""
PEER_PID=""

# ---- process control ------------------------------------------------------------------------

PROXY_RC=""
proxy_stop() {
  [[ -n "$PROXY_PID" ]] || return 0
  stop_pid "$PROXY_PID"
  PROXY_RC=$STOP_RC
  PROXY_PID=""
}

cleanup() {
  local rc=$? d
  trap - EXIT INT TERM
  if [[ -n "$LOOP_PID" ]]; then
    touch "$WORK/loop.stop"
    stop_pid "$LOOP_PID"
  fi
  stop_pid "$LOAD_PID"
  proxy_stop
  stop_pid "$PEER_PID"
  stop_pid "$PROM_PID"
  for d in db1 db2 db3; do
    mariadb_stop "$WORK/$d" >/dev/null 2>&1
  done
  runner_scratch_done "$WORK" "$rc"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- results --------------------------------------------------------------------------------

# run_test NAME FUNCTION: the function prints why it failed and returns non-zero.
run_test() {
  local name=$1 fn=$2 out rc
  out=$("$fn" 2>&1)
  rc=$?
  if [[ $rc -eq 0 ]]; then
    result OK "$name"
  else
    result FAIL "$name"
    printf '%s\n' "$out" | tail -n 40 | sed 's/^/#   /'
    log "last 15 lines of $PROXY_LOG:"
    tail -n 15 "$PROXY_LOG" | sed 's/^/#   /'
  fi
}

setup_failed() {
  result FAIL "setup: $*"
  [[ -s "$PROXY_LOG" ]] && tail -n 30 "$PROXY_LOG" | sed 's/^/#   /'
  finish
}

fail() { # fail MESSAGE: print and return 1 (use as `... || fail "why"; ` with return)
  echo "$*"
  return 1
}

# ---- helpers --------------------------------------------------------------------------------

# wait_for SECONDS CMD...: poll CMD every 0.1 s until it succeeds.
wait_for() {
  local secs=$1 i
  shift
  for ((i = 0; i < secs * 10; i++)); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  return 1
}

# get PATH: body to stdout; the status code goes to $WORK/code.
get() {
  curl -s -m 5 -o "$WORK/body" -w '%{http_code}' "http://$HTTP$1" >"$WORK/code"
  cat "$WORK/body"
}

# post PATH [curl args]: prints "CODE BODY".
post() {
  local path=$1 code
  shift
  code=$(curl -s -m 10 -o "$WORK/body" -w '%{http_code}' -X POST "$@" "http://$HTTP$path")
  printf '%s %s\n' "$code" "$(cat "$WORK/body")"
}

status_json() { curl -s -m 5 "http://$HTTP/status" >"$WORK/status.json"; }

# st PATH: one value of /status (fresh), e.g. st writer, st 'backends[name=db1].state'.
st() {
  status_json
  php "$HERE/json.php" get "$WORK/status.json" "$1"
}

scrape() { curl -s -m 5 "http://$HTTP/metrics" >"$WORK/metrics.txt"; }

# metric SERIES: its value in a fresh scrape, e.g. metric 'galera_proxy_has_writer'.
metric() {
  scrape
  awk -v s="$1" '$1 == s { print $2; found = 1 } END { if (!found) print "missing" }' \
    "$WORK/metrics.txt"
}

# prom QUERY: value of an instant query against the test Prometheus.
prom() {
  curl -s -m 5 --data-urlencode "query=$1" "http://$PROM/api/v1/query" >"$WORK/prom.json"
  php "$HERE/json.php" prom "$WORK/prom.json"
}

is() { [[ "$("${@:2}")" == "$1" ]]; } # is EXPECTED CMD...

db_start() { # db_start NAME PORT: a fresh server plus the test's monitor account
  local dir=$WORK/$1 try
  # mariadb-install-db fails now and then when other bootstraps share /tmp: try again.
  for try in 1 2 3; do
    mariadb_start "$dir" "$2" >/dev/null 2>"$WORK/$1-start.log" && break
    ((try < 3)) || return 1
    sleep 1
  done
  mariadb_sql "$dir" "CREATE USER 'gpmon'@'%' IDENTIFIED BY '$MON_PASS';
    GRANT USAGE, PROCESS, REPLICATION CLIENT ON *.* TO 'gpmon'@'%';" || return 1
}

write_conf() { # write_conf FILE TOKEN "BACKEND LINES" [EXTRA ROUTING LINES]
  cat >"$1" <<EOF
listen = "127.0.0.1:$LISTEN_PORT";
listen_ro = "127.0.0.1:$LISTEN_RO_PORT";
http_listen = "127.0.0.1:$HTTP_PORT";
http_admin_token = "$2";
log_level = "info";
limits = { client_handshake_timeout_ms = 8000; backend_connect_timeout_ms = 2000;
           shutdown_timeout_ms = 5000; };
monitor = { user = "gpmon"; password = "$MON_PASS"; interval_ms = 200; timeout_ms = 1000; };
routing = { connect_wait_ms = 6000; drain_timeout_ms = 4000; ${4:-} };
backends = (
$3
);
EOF
}

BK1="  { name = \"db1\"; address = \"127.0.0.1:${DB_PORTS[0]}\"; priority = 1; }"
BK2="  { name = \"db2\"; address = \"127.0.0.1:${DB_PORTS[1]}\"; priority = 2; }"

# A connection-per-request client: one short transaction per connection through the rw
# endpoint, until $WORK/loop.stop exists. Successes and failures go to loop.ok / loop.err.
loop_start() {
  rm -f "$WORK/loop.stop"
  : >"$WORK/loop.ok"
  : >"$WORK/loop.err"
  (
    while [[ ! -e "$WORK/loop.stop" ]]; do
      if out=$(mariadb --connect-timeout=10 -h127.0.0.1 -P"$LISTEN_PORT" -uapp -papp -N -B \
        -e 'BEGIN; SELECT @@port; COMMIT' 2>&1); then
        echo "$out" >>"$WORK/loop.ok"
      else
        echo "$(date +%T.%N) $out" >>"$WORK/loop.err"
      fi
    done
  ) &
  LOOP_PID=$!
}

# loop_stop: stop the client loop; sets LOOP_OK LOOP_ERR.
loop_stop() {
  touch "$WORK/loop.stop"
  wait "$LOOP_PID" 2>/dev/null
  LOOP_PID=""
  LOOP_OK=$(wc -l <"$WORK/loop.ok")
  LOOP_ERR=$(wc -l <"$WORK/loop.err")
}

loop_report() { # loop_report MIN_OK: zero errors and at least MIN_OK successes
  echo "client loop: $LOOP_OK ok, $LOOP_ERR errors; ports served: $(sort "$WORK/loop.ok" | uniq -c | tr '\n' ' ')"
  if ((LOOP_ERR > 0)); then
    head -n 5 "$WORK/loop.err"
    return 1
  fi
  ((LOOP_OK >= $1)) || fail "only $LOOP_OK successful requests (want >= $1)"
}

reload_http() { post /reload; }

# ---- setup ----------------------------------------------------------------------------------

for bin in "$PROXY_BIN" /usr/bin/prometheus /usr/bin/promtool; do
  [[ -x "$bin" ]] || setup_failed "missing $bin"
done
ulimit -n 65536 2>/dev/null || true

log "starting MariaDB on ports ${DB_PORTS[*]} in $WORK"
db_start db1 "${DB_PORTS[0]}" &
p1=$!
db_start db2 "${DB_PORTS[1]}" &
p2=$!
db_start db3 "${DB_PORTS[2]}" &
p3=$!
ok=1
for p in $p1 $p2 $p3; do
  wait "$p" || ok=0
done
if ((ok == 0)); then
  cat "$WORK"/db*-start.log | sed 's/^/#   /'
  setup_failed "MariaDB did not start"
fi

write_conf "$CONF" "$TOKEN" "$BK1,
$BK2"
"$PROXY_BIN" --check-config -c "$CONF" >"$WORK/check.log" 2>&1 ||
  setup_failed "--check-config: $(cat "$WORK/check.log")"
log "starting galera-proxy (http $HTTP)"
# GP_HTTP_TEST_WRAPPER="valgrind --error-exitcode=99 --leak-check=full" runs the proxy under it.
read -r -a WRAPPER <<<"${GP_HTTP_TEST_WRAPPER:-}"
(cd "$WORK" && exec "${WRAPPER[@]}" "$PROXY_BIN" -c proxy.conf </dev/null >>"$PROXY_LOG" 2>&1) &
PROXY_PID=$!
wait_for 20 curl -sf "http://$HTTP/health" || setup_failed "/health did not answer 200 within 20 s"

mkdir -p "$WORK/prom"
cat >"$WORK/prometheus.yml" <<EOF
global: { scrape_interval: 1s, evaluation_interval: 1s }
rule_files: [ "$ROOT/metrics/alerts.yml" ]
scrape_configs:
  - job_name: galera-proxy
    static_configs: [ { targets: [ "$HTTP" ] } ]
EOF
log "starting Prometheus on $PROM"
/usr/bin/prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/prom" \
  --web.listen-address="$PROM" --log.level=warn </dev/null >"$WORK/prometheus.log" 2>&1 &
PROM_PID=$!
wait_for 30 curl -sf "http://$PROM/-/ready" || setup_failed "Prometheus not ready within 30 s"

# ---- tests ----------------------------------------------------------------------------------

t_health() {
  local body
  body=$(get /health)
  [[ $(cat "$WORK/code") == 200 ]] || fail "code $(cat "$WORK/code"): $body" || return 1
  [[ "$body" == *"writer db1"* ]] || fail "body does not name writer db1: $body"
}

t_promtool_metrics() {
  scrape
  [[ -s "$WORK/metrics.txt" ]] || fail "empty scrape" || return 1
  promtool check metrics <"$WORK/metrics.txt" || fail "promtool check metrics complained"
  # Content-Type of the text format 0.0.4
  curl -s -D - -o /dev/null "http://$HTTP/metrics" | grep -qi '^Content-Type: text/plain; version=0.0.4' ||
    fail "Content-Type is not text/plain; version=0.0.4"
}

t_families() {
  local f missing=0
  scrape
  for f in backend_up backend_state backend_is_writer backend_wsrep_local_state \
    backend_wsrep_cluster_size backend_wsrep_local_recv_queue backend_probe_duration_seconds \
    backend_sessions client_connections_accepted_total client_connections_rejected_total \
    client_connections_closed_total client_connections_active commands_total \
    client_received_bytes_total client_sent_bytes_total err_packets_relayed_total \
    writer_changes_total no_writer_seconds failover_duration_seconds sessions_drained_total \
    sessions_killed_total request_duration_seconds vrrp_state evictions_total \
    config_reloads_total build_info last_writer_change_seconds writer_change_gap_seconds; do
    if ! grep -q "^# HELP galera_proxy_$f " "$WORK/metrics.txt" ||
      ! grep -q "^# TYPE galera_proxy_$f " "$WORK/metrics.txt"; then
      echo "family galera_proxy_$f lacks HELP or TYPE"
      missing=1
    fi
  done
  ((missing == 0)) || return 1
  # one-hot: exactly one state per backend is 1
  local n
  n=$(awk '/^galera_proxy_backend_state\{backend="db1",/ { s += $2 } END { print s }' "$WORK/metrics.txt")
  [[ "$n" == 1 ]] || fail "backend_state of db1 sums to $n, not 1" || return 1
  is 1 metric 'galera_proxy_vrrp_state{state="UNKNOWN"}' || fail "vrrp_state UNKNOWN is not 1" || return 1
  is 1 metric 'galera_proxy_backend_is_writer{backend="db1"}' || fail "db1 is not writer in /metrics" || return 1
  is 1 metric 'galera_proxy_build_info{version="'"$("$PROXY_BIN" --version | awk '{print $2}')"'"}' ||
    fail "build_info does not carry the version"
}

t_status() {
  status_json
  php "$HERE/json.php" status "$WORK/status.json" || return 1
  is db1 st writer || fail "writer is not db1" || return 1
  is UNKNOWN st vrrp_state || fail "vrrp_state is not UNKNOWN" || return 1
  is 1 st config_version || fail "config_version is not 1" || return 1
  is writer st 'backends[name=db1].role' || fail "db1 role is not writer" || return 1
  is reader st 'backends[name=db2].role' || fail "db2 role is not reader" || return 1
  is "127.0.0.1:${DB_PORTS[0]}" st 'backends[name=db1].address' || fail "db1 address" || return 1
  is initial st last_change.reason || fail "last_change.reason is not initial" || return 1
  is db1 st last_change.to || fail "last_change.to is not db1"
}

t_prometheus_writer() {
  wait_for 20 is 1 prom 'galera_proxy_backend_is_writer{backend="db1"}' ||
    fail "Prometheus never saw is_writer{db1}=1 (last: $(prom 'galera_proxy_backend_is_writer{backend="db1"}'))" || return 1
  is 0 prom 'galera_proxy_backend_is_writer{backend="db2"}' || fail "Prometheus: db2 is writer too?" || return 1
  # the alert rules loaded into the same Prometheus
  curl -s "http://$PROM/api/v1/rules" | grep -q '"name":"NoWriter"' || fail "alerts.yml not loaded"
}

t_auth() {
  local r
  # 127.0.0.2 is loopback: the same host, so no token is needed (another host: t_auth_netns)
  r=$(curl -s -o /dev/null -w '%{http_code}' --interface 127.0.0.2 "http://$HTTP/status")
  [[ $r == 200 ]] || fail "GET /status from 127.0.0.2: $r, want 200" || return 1
  r=$(post '/vrrp?state=BACKUP' --interface 127.0.0.2)
  [[ $r == 200* ]] || fail "POST from loopback 127.0.0.2 without token: $r, want 200" || return 1
  is BACKUP st vrrp_state || fail "vrrp_state not BACKUP after the loopback POST" || return 1
  r=$(post '/vrrp?state=FAULT')
  [[ $r == 200* ]] || fail "POST from the same host without a token: $r, want 200" || return 1
  is FAULT st vrrp_state || fail "vrrp_state not FAULT after the same-host POST"
}

# Another host for real: a proxy and a client in two network namespaces.
t_auth_netns() {
  bash "$HERE/auth_netns.sh" "$PROXY_BIN"
}

t_vrrp() {
  local r
  r=$(post '/vrrp?state=MASTER')
  [[ $r == 200* ]] || fail "POST /vrrp?state=MASTER: $r" || return 1
  is MASTER st vrrp_state || fail "/status vrrp_state is not MASTER" || return 1
  scrape
  local ones
  ones=$(awk '/^galera_proxy_vrrp_state\{/ && $2 == 1 { print $1 }' "$WORK/metrics.txt")
  [[ "$ones" == 'galera_proxy_vrrp_state{state="MASTER"}' ]] || fail "vrrp one-hot wrong: $ones" || return 1
  is 200 curl -s -o /dev/null -w '%{http_code}' "http://$HTTP/health" ||
    fail "/health depends on the VRRP role"
}

t_admin_errors() {
  local r
  r=$(post /backends/nosuch/maintenance?on=1)
  [[ $r == 404* ]] || fail "unknown backend: $r, want 404" || return 1
  r=$(post /backends/nosuch/drain)
  [[ $r == 404* ]] || fail "drain unknown backend: $r, want 404" || return 1
  r=$(post '/backends/db1/maintenance?on=yes-please')
  [[ $r == 400* ]] || fail "bad on=: $r, want 400" || return 1
  r=$(post '/backends/db1/maintenance')
  [[ $r == 400* ]] || fail "missing on=: $r, want 400" || return 1
  r=$(post '/vrrp?state=PRIMARY')
  [[ $r == 400* ]] || fail "bad state=: $r, want 400" || return 1
  r=$(curl -s -o /dev/null -w '%{http_code}' "http://$HTTP/reload")
  [[ $r == 405 ]] || fail "GET /reload: $r, want 405" || return 1
  r=$(post /metrics)
  [[ $r == 405* ]] || fail "POST /metrics: $r, want 405" || return 1
  r=$(curl -s -o /dev/null -w '%{http_code}' "http://$HTTP/nothing-here")
  [[ $r == 404 ]] || fail "GET /nothing-here: $r, want 404" || return 1
  is false st 'backends[name=db1].maintenance' || fail "a refused request changed maintenance"
}

t_http_protocol() {
  local n r
  # keep-alive: three requests on one connection
  n=$(curl -s -v "http://$HTTP/health" "http://$HTTP/status" "http://$HTTP/metrics" -o /dev/null 2>&1 |
    grep -c 'Re-using existing connection')
  [[ $n == 2 ]] || fail "curl did not reuse the connection ($n reuses)" || return 1
  # pipelining: two requests in one write, the second closes
  n=$(printf 'GET /health HTTP/1.1\r\nHost: a\r\n\r\nGET /health HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n' |
    timeout 5 socat -t 5 - "TCP:$HTTP" | grep -c '^HTTP/1.1 200')
  [[ $n == 2 ]] || fail "pipelined requests: $n answers, want 2" || return 1
  # a header beyond the bound
  r=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Big: $(head -c 9000 /dev/zero | tr '\0' a)" "http://$HTTP/health")
  [[ $r == 431 ]] || fail "9000-byte header: $r, want 431" || return 1
  head -c 100000 /dev/zero >"$WORK/big.bin"
  r=$(curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary "@$WORK/big.bin" "http://$HTTP/vrrp?state=MASTER")
  [[ $r == 413 ]] || fail "100 kB body: $r, want 413" || return 1
  r=$(printf 'NONSENSE\r\n\r\n' | timeout 5 socat -t 5 - "TCP:$HTTP" | head -n 1 | tr -d '\r')
  [[ $r == "HTTP/1.1 400 Bad Request" ]] || fail "garbage: [$r], want 400" || return 1
  # a request that never completes is cut off after GP_HTTP_REQUEST_TIMEOUT_MS (5 s)
  local t0 t1 fd
  exec {fd}<>"/dev/tcp/127.0.0.1/$HTTP_PORT" || fail "cannot connect" || return 1
  t0=$(date +%s%N)
  printf 'GET /health HTTP/1.1\r\n' >&"$fd"
  r=""
  read -r -t 10 r <&"$fd"
  t1=$(date +%s%N)
  exec {fd}>&-
  r=${r%$'\r'}
  [[ $r == "HTTP/1.1 408 Request Timeout" ]] || fail "stalled request: [$r], want 408" || return 1
  (((t1 - t0) / 1000000 < 7000)) || fail "408 came after $(((t1 - t0) / 1000000)) ms"
}

t_maintenance_writer() {
  local r
  loop_start
  sleep 1.5
  r=$(post '/backends/db1/maintenance?on=1')
  [[ $r == 200* ]] || {
    loop_stop
    fail "maintenance on: $r"
    return 1
  }
  echo "maintenance answer: $r"
  wait_for 10 is db2 st writer || {
    loop_stop
    fail "writer did not move to db2: $(st writer)"
    return 1
  }
  sleep 2
  loop_stop
  loop_report 30 || return 1
  grep -q "^${DB_PORTS[1]}$" "$WORK/loop.ok" || fail "no request reached db2" || return 1
  is maintenance st 'backends[name=db1].state' || fail "db1 state: $(st 'backends[name=db1].state')" || return 1
  is none st 'backends[name=db1].role' || fail "db1 still has a role" || return 1
  is 0 st 'backends[name=db1].sessions' || fail "db1 still has sessions" || return 1
  is 1 metric 'galera_proxy_writer_changes_total{reason="maintenance"}' || fail "writer_changes_total{maintenance} != 1" || return 1
  grep -q 'event=drain_start backend=db1 reason=maintenance' "$PROXY_LOG" || fail "no drain_start logged" || return 1
  r=$(post '/backends/db1/maintenance?on=0')
  [[ $r == 200* ]] || fail "maintenance off: $r" || return 1
  is db2 st writer || fail "writer moved back without failback: $(st writer)"
}

t_prometheus_change() {
  wait_for 20 is 1 prom 'galera_proxy_backend_is_writer{backend="db2"}' ||
    fail "Prometheus never saw is_writer{db2}=1" || return 1
  wait_for 10 is 0 prom 'galera_proxy_backend_is_writer{backend="db1"}' ||
    fail "Prometheus still sees is_writer{db1}=$(prom 'galera_proxy_backend_is_writer{backend="db1"}')"
}

db2_plain() { # db2 is back to its plain state (standalone here, synced on Galera)
  local s
  s=$(st 'backends[name=db2].state')
  [[ $s == standalone || $s == synced ]]
}

t_drain() {
  local r before after pid
  before=$(metric galera_proxy_sessions_drained_total)
  mariadb -h127.0.0.1 -P"$LISTEN_PORT" -uapp -papp -N -B -e 'SELECT SLEEP(2)' >/dev/null 2>&1 &
  pid=$!
  wait_for 5 is 1 st 'backends[name=db2].sessions' || {
    wait "$pid"
    fail "the sleeping session never showed on db2"
    return 1
  }
  r=$(post /backends/db2/drain)
  echo "drain answer: $r"
  [[ $r == 200*'"sessions":1'* ]] || {
    wait "$pid"
    fail "drain: $r"
    return 1
  }
  is draining st 'backends[name=db2].state' || echo "note: state $(st 'backends[name=db2].state') right after drain"
  is true st 'backends[name=db2].draining' || fail "draining flag not shown" || return 1
  is db2 st writer || fail "a drain moved the writer" || return 1
  wait "$pid"
  wait_for 5 is 0 st 'backends[name=db2].sessions' || fail "db2 sessions not drained" || return 1
  wait_for 5 grep -q 'event=drain_end backend=db2 sessions_left=0' "$PROXY_LOG" || fail "no drain_end logged" || return 1
  wait_for 5 db2_plain || fail "db2 did not return from draining: $(st 'backends[name=db2].state')" || return 1
  after=$(metric galera_proxy_sessions_drained_total)
  ((after > before)) || fail "sessions_drained_total did not grow ($before -> $after)"
}

t_health_flips() {
  local body failovers
  failovers=$(metric galera_proxy_failover_duration_seconds_count)
  post '/backends/db1/maintenance?on=1' >/dev/null
  mariadb_stop "$WORK/db2" >/dev/null 2>&1
  wait_for 15 is 503 curl -s -o /dev/null -w '%{http_code}' "http://$HTTP/health" ||
    fail "/health stayed $(curl -s "http://$HTTP/health") with db1 in maintenance and db2 stopped" || return 1
  body=$(get /health)
  echo "503 body: $body"
  [[ "$body" == *"no writer"* && "$body" == *db2* ]] || fail "503 body does not say why: $body" || return 1
  is 0 metric galera_proxy_has_writer || fail "has_writer is not 0" || return 1
  is null st writer || fail "/status writer is not null" || return 1
  sleep 1
  scrape
  awk '$1 == "galera_proxy_no_writer_seconds" && $2 > 0 { ok = 1 } END { exit !ok }' "$WORK/metrics.txt" ||
    fail "no_writer_seconds is not > 0" || return 1
  post '/backends/db1/maintenance?on=0' >/dev/null
  wait_for 10 is 200 curl -s -o /dev/null -w '%{http_code}' "http://$HTTP/health" ||
    fail "/health did not return to 200: $(curl -s "http://$HTTP/health")" || return 1
  is db1 st writer || fail "writer is not db1" || return 1
  is 1 metric galera_proxy_has_writer || fail "has_writer is not 1" || return 1
  (($(metric galera_proxy_failover_duration_seconds_count) > failovers)) ||
    fail "failover_duration_seconds_count did not grow" || return 1
  grep -q 'event=writer_change from=db2 to=none reason=down' "$PROXY_LOG" ||
    fail "no writer_change to none logged"
}

t_health_under_load() {
  local i t max=0 slow=0 times=()
  sysbench --db-driver=mysql --mysql-host=127.0.0.1 --mysql-port="$LISTEN_PORT" --mysql-user=app \
    --mysql-password=app --mysql-db=test --tables=1 --table-size=2000 oltp_read_only prepare \
    >"$WORK/sysbench-prepare.log" 2>&1 || fail "sysbench prepare failed: $(tail -n 3 "$WORK/sysbench-prepare.log")" || return 1
  sysbench --db-driver=mysql --mysql-host=127.0.0.1 --mysql-port="$LISTEN_PORT" --mysql-user=app \
    --mysql-password=app --mysql-db=test --tables=1 --table-size=2000 --threads=16 --time=8 \
    oltp_read_only run >"$WORK/sysbench-run.log" 2>&1 &
  LOAD_PID=$!
  sleep 2
  for ((i = 0; i < 60; i++)); do
    t=$(curl -s -o /dev/null -w '%{time_total}' "http://$HTTP/health")
    t=$(awk -v t="$t" 'BEGIN { printf "%d", t * 1000000 }')
    ((t > max)) && max=$t
    ((t > 100000)) && slow=$((slow + 1))
    times+=("$t")
    sleep 0.05
  done
  local median
  median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 30p)
  wait "$LOAD_PID"
  LOAD_PID=""
  echo "/health time under load: median ${median} us, max ${max} us; over 100 ms: $slow of 60"
  grep -E 'queries:|transactions:' "$WORK/sysbench-run.log"
  grep -q 'transactions:' "$WORK/sysbench-run.log" || fail "sysbench did not run" || return 1
  # The loop answers /health between relayed packets: the median stays far below 100 ms.
  # A single slow answer is the machine (curl itself is a process to schedule), but none
  # may come near the keepalived check's 0.8 s limit.
  ((median < 100000 && slow <= 3)) || fail "/health took over 100 ms $slow times (median $median us)" || return 1
  ((max < 800000)) || fail "/health took $max us once: the check would have failed" || return 1
  # the traffic shows in the latency histogram and command counters
  scrape
  awk '$1 == "galera_proxy_request_duration_seconds_count{endpoint=\"rw\"}" && $2 > 1000 { ok = 1 } END { exit !ok }' \
    "$WORK/metrics.txt" || fail "request_duration_seconds_count{rw} did not grow" || return 1
  awk '/^galera_proxy_commands_total\{endpoint="rw",command="stmt_execute"\}/ && $2 > 1000 { ok = 1 } END { exit !ok }' \
    "$WORK/metrics.txt" || fail "commands_total{rw,stmt_execute} did not grow (sysbench prepares statements)"
}

t_reload_add() {
  local r
  db_start db2 "${DB_PORTS[1]}" || fail "restarting db2 failed" || return 1
  wait_for 15 is true st 'backends[name=db2].up' || fail "db2 not up again" || return 1
  loop_start
  sleep 1
  # db3 joins with the best priority, db1 gets the worst; failback moves the writer to db3.
  write_conf "$CONF" "$TOKEN" "  { name = \"db1\"; address = \"127.0.0.1:${DB_PORTS[0]}\"; priority = 10; },
$BK2,
  { name = \"db3\"; address = \"127.0.0.1:${DB_PORTS[2]}\"; priority = 0; }" \
    "failback = true; failback_after_ms = 1000;"
  r=$(reload_http)
  echo "reload: $r"
  [[ $r == 200*'"applied"'* ]] || {
    loop_stop
    fail "reload: $r"
    return 1
  }
  wait_for 15 is db3 st writer || {
    loop_stop
    fail "writer did not fail back to db3: $(st writer)"
    return 1
  }
  sleep 1.5
  loop_stop
  loop_report 30 || return 1
  is 2 st config_version || fail "config_version is not 2" || return 1
  is 0 st 'backends[name=db3].priority' || fail "db3 priority" || return 1
  is 10 metric 'galera_proxy_backend_priority{backend="db1"}' || fail "metric priority of db1 is not 10" || return 1
  is 1 metric 'galera_proxy_config_reloads_total{result="success"}' || fail "reload success not counted" || return 1
  is 1 metric 'galera_proxy_writer_changes_total{reason="failback"}' || fail "failback not counted" || return 1
  grep -q 'event=reload_done source=127.0.0.1 config_version=2 backends=3 added=db3' "$PROXY_LOG" ||
    fail "no reload_done line naming db3"
}

t_reload_broken() {
  local r line
  loop_start
  sleep 1
  cp "$CONF" "$WORK/good.conf"
  printf 'routing = { failback = "yes"; };\n' >>"$CONF"
  line=$(wc -l <"$CONF")
  r=$(reload_http)
  echo "reload: $r"
  sleep 1
  loop_stop
  loop_report 10 || return 1
  [[ $r == 500*'"invalid"'* ]] || fail "broken reload answered $r" || return 1
  [[ $r == *"proxy.conf:"* ]] || fail "the answer lacks file:line" || return 1
  is 2 st config_version || fail "config_version moved: $(st config_version)" || return 1
  is 1 st reload.failures || fail "reload.failures is not 1" || return 1
  is false st reload.last_ok || fail "reload.last_ok is not false" || return 1
  is 1 metric 'galera_proxy_config_reloads_total{result="failure"}' || fail "failure not counted" || return 1
  is 0 metric galera_proxy_config_last_reload_successful || fail "last_reload_successful is not 0" || return 1
  is 3 bash -c "curl -s http://$HTTP/status | grep -o '\"name\":\"db[0-9]\"' | wc -l" ||
    fail "the running config lost backends" || return 1
  grep -q "event=reload_failed source=127.0.0.1 error=\"proxy.conf:$line:" "$PROXY_LOG" ||
    grep -q "event=reload_failed source=127.0.0.1 error=\"proxy.conf:" "$PROXY_LOG" ||
    fail "reload_failed line without file:line" || return 1
  # the alert fires in the real Prometheus
  wait_for 20 is 1 prom 'ALERTS{alertname="ReloadFailed",alertstate="firing"}' ||
    fail "Prometheus did not fire ReloadFailed"
}

t_reload_sighup() {
  cp "$WORK/good.conf" "$CONF"
  kill -HUP "$PROXY_PID"
  wait_for 5 is 3 st config_version || fail "SIGHUP reload not applied: version $(st config_version)" || return 1
  is 1 metric galera_proxy_config_last_reload_successful || fail "last_reload_successful not back to 1" || return 1
  grep -q 'event=reload_done source=sighup config_version=3' "$PROXY_LOG" || fail "no reload_done for sighup"
}

t_reload_remove_writer() {
  local r
  loop_start
  sleep 1
  write_conf "$CONF" "$TOKEN" "$BK1,
$BK2"
  r=$(reload_http)
  echo "reload: $r"
  [[ $r == 200* || $r == 202* ]] || {
    loop_stop
    fail "reload: $r"
    return 1
  }
  wait_for 15 is 4 st config_version || {
    loop_stop
    fail "removal never applied: $(st reload)"
    return 1
  }
  sleep 1.5
  loop_stop
  loop_report 30 || return 1
  is missing st 'backends[name=db3].name' || fail "db3 still listed" || return 1
  [[ $(st writer) == db1 || $(st writer) == db2 ]] || fail "writer is $(st writer)" || return 1
  grep -q 'event=writer_change from=db3' "$PROXY_LOG" || fail "the removed writer did not hand over first" || return 1
  grep -q 'removed=db3' "$PROXY_LOG" || fail "no reload_done naming removed=db3"
}

t_no_token_403() {
  local r
  write_conf "$CONF" "" "$BK1,
$BK2"
  r=$(reload_http)
  [[ $r == 200* ]] || fail "reload without token: $r" || return 1
  r=$(post '/vrrp?state=MASTER')
  [[ $r == 200* ]] || fail "same-host POST with no token configured: $r, want 200"
}

t_secrets() {
  local leak=0 f
  status_json
  scrape
  for f in "$WORK/status.json" "$WORK/metrics.txt" "$PROXY_LOG"; do
    for s in "$MON_PASS" "$TOKEN"; do
      if grep -qF -- "$s" "$f"; then
        echo "$(basename "$f") contains a secret"
        leak=1
      fi
    done
  done
  grep -qi 'authorization\|bearer' "$PROXY_LOG" && {
    echo "the log mentions the Authorization header"
    leak=1
  }
  ((leak == 0))
}

t_promtool_rules() {
  promtool check rules "$ROOT/metrics/alerts.yml" || return 1
  promtool check config "$ROOT/metrics/prometheus.yml" || return 1
  promtool test rules "$ROOT/metrics/alerts_test.yml" || return 1
  local a
  for a in NoWriter WriterChanged NodeNotSynced NodeDown HighRecvQueue ProxyDown ReloadFailed \
    WriterChangeLongGap; do
    grep -q "alert: $a\$" "$ROOT/metrics/alerts.yml" || fail "alert $a missing" || return 1
    grep -q "alertname: $a\$" "$ROOT/metrics/alerts_test.yml" || fail "alert $a has no test" || return 1
  done
  # every metric an alert uses is exported
  scrape
  while read -r a; do
    grep -q "^${a}[{ ]" "$WORK/metrics.txt" || fail "alerts.yml uses $a, not exported" || return 1
  done < <(grep -o 'galera_proxy_[a-z_]*' "$ROOT/metrics/alerts.yml" | sort -u)
}

t_dashboard() {
  scrape
  php "$HERE/json.php" dashboard "$ROOT/metrics/grafana-dashboard.json" "$WORK/metrics.txt"
}

t_promtail() {
  local bad
  python3 -c 'import yaml' 2>/dev/null ||
    fail "python3-yaml is not installed (test/lib/deps.sh installs it): promtail.yml unchecked" ||
    return 1
  python3 - "$ROOT/metrics/promtail.yml" <<'EOF' || return 1
import sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
for job in d["scrape_configs"]:
    st = job["pipeline_stages"]
    keys = set(st[0]["logfmt"]["mapping"])
    assert {"ts", "level", "event"} <= keys, keys
    assert set(st[1]["labels"]) == {"level", "event"}, st[1]
    assert st[2]["timestamp"]["source"] == "ts", st[2]
print("promtail.yml parses; stages: logfmt(ts, level, event) -> labels -> timestamp")
EOF
  # what the pipeline relies on holds for every line the proxy wrote
  bad=$(grep -cvE '^ts=[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z level=(debug|info|warn|error) event=[a-z_]+( [a-z_]+=("([^"\\]|\\.)*"|[^ "]*))*$' "$PROXY_LOG")
  [[ $bad == 0 ]] || {
    echo "$bad log lines do not parse as the promtail pipeline expects:"
    grep -vE '^ts=[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z level=(debug|info|warn|error) event=[a-z_]+( [a-z_]+=("([^"\\]|\\.)*"|[^ "]*))*$' "$PROXY_LOG" | head -n 5
    return 1
  }
  # decision events carry their reason
  grep -q 'event=writer_change .*reason=' "$PROXY_LOG" || fail "writer_change without reason" || return 1
  grep -q 'event=node_state .*why=.*local_state=' "$PROXY_LOG" || fail "node_state without probe values" || return 1
  grep -q 'event=drain_start .*reason=.*local_state=' "$PROXY_LOG" || fail "drain_start without probe values"
}

run_test "/health is 200 and names the writer" t_health
run_test "promtool check metrics passes on a live scrape" t_promtool_metrics
run_test "/metrics has the issue's families with HELP and TYPE, one-hot states" t_families
run_test "/status JSON has the documented fields" t_status
run_test "Prometheus scrapes the proxy: is_writer{db1}=1, alert rules loaded" t_prometheus_writer
run_test "POST auth: loopback and own address need no token" t_auth
run_test "POST auth across namespaces: other host 401 / token 200 / no token configured 403" t_auth_netns
run_test "POST /vrrp sets the role (status, one-hot metric), /health ignores it" t_vrrp
run_test "admin errors: 404 unknown backend, 400 bad parameter, 405 wrong method" t_admin_errors
run_test "HTTP: keep-alive, pipelining, 431/413 bounds, 400 garbage, 408 timeout" t_http_protocol
run_test "maintenance on the writer: writer moves, drained, zero client errors" t_maintenance_writer
run_test "Prometheus sees the writer change (db2=1, db1=0)" t_prometheus_change
run_test "POST /backends/NAME/drain drains the node's sessions, node stays eligible" t_drain
run_test "/health flips to 503 without a writer and back to 200" t_health_flips
run_test "/health answers in < 100 ms (median; none near 0.8 s) under sysbench load" t_health_under_load
run_test "reload: add a backend, change priorities, failback, zero client errors" t_reload_add
run_test "reload: a broken file keeps the running config, failure counted, alert fires" t_reload_broken
run_test "reload on SIGHUP applies the fixed file" t_reload_sighup
run_test "reload: removing the writer hands over and drains first, zero client errors" t_reload_remove_writer
run_test "no token configured: same-host POST still works" t_no_token_403
run_test "secrets never appear in /status, /metrics or the log" t_secrets
run_test "promtool check/test rules: alerts.yml, alerts_test.yml, prometheus.yml" t_promtool_rules
run_test "grafana dashboard: well-formed, every query names an exported metric" t_dashboard
run_test "promtail example matches the proxy's log lines" t_promtail

# ---- shutdown -------------------------------------------------------------------------------
was_alive=0
alive "$PROXY_PID" && was_alive=1
proxy_stop
problems=()
((was_alive)) || problems+=("it had already exited")
exit_problems=$(proxy_exit_problems "$PROXY_RC" "$PROXY_LOG") || problems+=("$exit_problems")
grep -qE 'definitely lost: [1-9]|Invalid (read|write)' "$PROXY_LOG" &&
  problems+=("valgrind report in the log")
if ((${#problems[@]} == 0)); then
  result OK "proxy shut down cleanly on SIGTERM"
else
  result FAIL "proxy shutdown: ${problems[*]}"
fi

# shellcheck source=test/integration-http/https.sh
source "$HERE/https.sh"
finish
