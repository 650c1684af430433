#!/usr/bin/env bash
# Aborted handshakes across a real network: MariaDB, galera-proxy and clients in namespaces.
#
#   test/integration-ns/run.sh [--build DIR] [--keep]
#
# Loopback is exempt from max_connect_errors, so this runs the server (gpx-db, 10.214.0.1),
# the proxy (gpx-px, .2) and two client hosts (gpx-c1 .3, gpx-c2 .4) in namespaces joined
# by a bridge (gpx-br). The server: max_connect_errors=5, name resolution on (without it
# MariaDB never blocks a host), proxy_protocol_networks = the proxy. Scenarios:
#   1 protection off: 10 clients close after the greeting, 10 send garbage: the proxy's
#     host is blocked (proves the test can fail)
#   2 parking on: 200 such clients, then a healthy one logs in; the proxy's host has no
#     connect errors; unused parked greetings are finished with a monitor login
#   3 PROXY protocol v2: the server sees the client's address; the abuse blocks only the
#     abusive client host, the other still logs in
#   4 slots: 4 slots, 300 half-open connections held: a healthy client logs in quickly
#     (greeted by the proxy itself) and the server's Threads_connected stays bounded
#   5 deferred greetings: 1 slot held; 20 clients answer the proxy's greeting and leave at
#     the server's auth switch, 20 leave right after answering: the proxy's host has no
#     connect errors (their logins were refused, not aborted) and a healthy client logs in
# Namespaces, /etc/netns/gpx-db and every process started are removed on any exit.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source=test/lib/mariadb.sh
source "$ROOT/test/lib/mariadb.sh"

# shellcheck source=test/lib/runner.sh
source "$ROOT/test/lib/runner.sh"
runner_args "$@"
sanitizer_env
BIN=$BUILD/proxy/galera-proxy
[[ -x "$BIN" ]] || {
  echo "run.sh: no $BIN (build first)" >&2
  exit 2
}

NS=(gpx-db gpx-px gpx-c1 gpx-c2) # .1 .2 .3 .4
DB_IP=10.214.0.1
PX_IP=10.214.0.2
DB_PORT=3400
PX_PORT=16400
HTTP_PORT=16410
WORK=$(mktemp -d /tmp/gp-ns.XXXXXX)
chmod 755 "$WORK"
DB_DIR=$WORK/db
PROXY_PID=""
PROXY_WHAT=""

# check DESCRIPTION COMMAND...: one result line, from the command's exit status.
check() {
  local what=$1
  shift
  "$@"
  verdict $? "$what"
}

# proxy_stop: SIGTERM to the running proxy, which must exit 0 and leave no sanitizer report.
proxy_stop() {
  local problems
  [[ -n "$PROXY_PID" ]] || return 0
  stop_pid "$PROXY_PID"
  PROXY_PID=""
  problems=$(proxy_exit_problems "$STOP_RC" "$WORK/proxy.log")
  verdict $? "the proxy ($PROXY_WHAT) exits 0 on SIGTERM, no sanitizer report" "$problems"
}

# shellcheck disable=SC2317 # reached through the EXIT trap
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_pid "$PROXY_PID"
  mariadb_stop "$DB_DIR" >/dev/null 2>&1
  local ns
  for ns in "${NS[@]}" gpx-br; do
    ip netns del "$ns" 2>/dev/null
  done
  rm -rf /etc/netns/gpx-db
  runner_scratch_done "$WORK" "$rc"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- network ------------------------------------------------------------------------------
for ns in "${NS[@]}" gpx-br; do
  if ip netns list | grep -qw "$ns"; then
    log "namespace $ns exists (a crashed earlier run?); removing it"
    ip netns del "$ns"
  fi
  ip netns add "$ns" || exit 1
  ip -n "$ns" link set lo up
done
ip -n gpx-br link add br0 type bridge && ip -n gpx-br link set br0 up || exit 1
for i in 1 2 3 4; do
  ns=${NS[$((i - 1))]}
  ip link add "v$i" netns "$ns" type veth peer name "b$i" netns gpx-br || exit 1
  ip -n gpx-br link set "b$i" master br0
  ip -n gpx-br link set "b$i" up
  ip -n "$ns" addr add "10.214.0.$i/24" dev "v$i"
  ip -n "$ns" link set "v$i" up
done
# The server resolves client addresses (it blocks hosts only then): names from a hosts
# file, and a resolver that answers "no" at once instead of timing out.
mkdir -p /etc/netns/gpx-db
printf '127.0.0.1 localhost\n10.214.0.1 db.gpx\n10.214.0.2 px.gpx\n10.214.0.3 c1.gpx\n10.214.0.4 c2.gpx\n' \
  >/etc/netns/gpx-db/hosts
printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' >/etc/netns/gpx-db/resolv.conf

# ---- server -------------------------------------------------------------------------------
log "starting MariaDB in gpx-db"
ip netns exec gpx-db bash -c "source '$ROOT/test/lib/mariadb.sh'; mariadb_start '$DB_DIR' $DB_PORT" \
  >/dev/null 2>"$WORK/db-start.log" || {
  cat "$WORK/db-start.log"
  exit 1
}
mariadb_stop "$DB_DIR" >/dev/null 2>&1
# The same datadir, reachable from the other namespaces and with the settings under test.
ip netns exec gpx-db mariadbd --defaults-file="$DB_DIR/my.cnf" --bind-address=$DB_IP \
  --skip-name-resolve=0 --max-connect-errors=5 --proxy-protocol-networks=$PX_IP \
  --performance-schema=ON --connect-timeout=10 </dev/null >>"$DB_DIR/mariadbd.out" 2>&1 &
echo $! >"$DB_DIR/launch.pid"
for ((i = 0; i < 300; i++)); do
  mariadb_sql "$DB_DIR" "SELECT 1" >/dev/null 2>&1 && break
  sleep 0.1
done
sql() { mariadb_sql "$DB_DIR" "$@"; }
sql "SELECT 1" >/dev/null || {
  log "server did not come up"
  tail -20 "$DB_DIR/mariadbd.err"
  exit 1
}
sql "GRANT SUPER ON *.* TO 'monitor'@'%'"

# ---- proxy --------------------------------------------------------------------------------
proxy_start() { # proxy_start HANDSHAKE_GROUP_BODY
  proxy_stop
  PROXY_WHAT="handshake = { $1 }"
  cat >"$WORK/proxy.conf" <<CONF
listen = "0.0.0.0:$PX_PORT";
http_listen = "127.0.0.1:$HTTP_PORT";
log_level = "info";
monitor = { user = "monitor"; password = "monitor"; interval_ms = 200; };
handshake = { $1 };
backends = ( { name = "db1"; address = "$DB_IP:$DB_PORT"; } );
CONF
  ip netns exec gpx-px "$BIN" -c "$WORK/proxy.conf" >>"$WORK/proxy.log" 2>&1 &
  PROXY_PID=$!
  local i
  for ((i = 0; i < 100; i++)); do
    if [[ $(client gpx-c2 login) == ok* ]]; then return 0; fi
    sleep 0.1
  done
  log "proxy did not start serving"
  tail -20 "$WORK/proxy.log"
  return 1
}

client() { # client NS MODE [ARGS...]
  local ns=$1
  shift
  ip netns exec "$ns" php "$HERE/client.php" "$1" $PX_IP $PX_PORT "${@:2}"
}

metric() { # metric NAME_WITH_LABELS -> value (0 if absent)
  ip netns exec gpx-px curl -s "http://127.0.0.1:$HTTP_PORT/metrics" |
    awk -v m="$1" 'index($0, m " ") == 1 { print $2; f = 1 } END { if (!f) print 0 }'
}

host_errors() { # host_errors IP -> SUM_CONNECT_ERRORS
  local v
  v=$(sql "SELECT SUM_CONNECT_ERRORS FROM performance_schema.host_cache WHERE IP = '$1'")
  echo "${v:-0}"
}

reset_server() {
  sql "FLUSH HOSTS"
}

# ---- 1: protection off --------------------------------------------------------------------
log "scenario 1: no parking, no slots"
reset_server
proxy_start 'park = false; slots = 0;' || exit 1
client gpx-c1 close 10 | sed 's/^/#   close: /'
client gpx-c1 garbage 10 | sed 's/^/#   garbage: /'
out=$(client gpx-c2 login)
log "healthy client: $out"
check "protection off: the proxy's host is blocked" grep -q "is blocked" <<<"$out"
log "proxy host connect errors: $(host_errors $PX_IP)"

# ---- 2: parking ---------------------------------------------------------------------------
log "scenario 2: parking on"
reset_server
proxy_start 'park = true; greeting_timeout_ms = 2000;' || exit 1
before=$(sql "SHOW GLOBAL STATUS LIKE 'Aborted_connects'" | awk '{print $2}')
client gpx-c1 close 100 | sed 's/^/#   close: /'
client gpx-c1 garbage 100 | sed 's/^/#   garbage: /'
out=$(client gpx-c2 login)
log "healthy client: $out"
check "parking: a healthy client logs in after 200 aborted handshakes" grep -q "^ok" <<<"$out"
errs=$(host_errors $PX_IP)
check "parking: the proxy's host has no connect errors (got $errs)" test "$errs" -eq 0
reused=$(metric 'galera_proxy_backend_parked_total{backend="db1",event="reused"}')
check "parking: parked greetings were reused ($reused)" test "${reused%.*}" -ge 150
sleep 2.5 # past greeting_timeout_ms/2: what is still parked is finished
finished=$(metric 'galera_proxy_backend_parked_total{backend="db1",event="finished"}')
parked=$(metric 'galera_proxy_backend_parked_connections{backend="db1"}')
check "parking: unused parked greetings finished with a login ($finished), none left ($parked)" \
  test "${finished%.*}" -ge 1 -a "${parked%.*}" -eq 0
after=$(sql "SHOW GLOBAL STATUS LIKE 'Aborted_connects'" | awk '{print $2}')
log "Aborted_connects: $before -> $after"
check "parking: the server counted no aborted connect" test "$after" -eq "$before"

# ---- 3: PROXY protocol --------------------------------------------------------------------
log "scenario 3: PROXY protocol v2"
reset_server
proxy_start 'proxy_protocol = "v2";' || exit 1
out=$(client gpx-c1 login)
log "client c1: $out"
check "proxy protocol: the server sees the client's host" grep -q "^ok app@c1.gpx" <<<"$out"
client gpx-c1 close 10 | sed 's/^/#   close: /'
out=$(client gpx-c1 login)
log "client c1 after its abuse: $out"
# The server refuses a blocked host once it has read the header, after its greeting; PHP
# then reports a lost connection rather than ERR 1129, so the server's own count decides.
c1=$(sql "SELECT CONCAT(SUM_CONNECT_ERRORS, ' ', COUNT_HOST_BLOCKED_ERRORS) FROM performance_schema.host_cache WHERE IP = '10.214.0.3'")
log "c1 connect errors, blocked attempts: $c1"
check "proxy protocol: the abusive host is blocked (login fails, server counts it blocked)" \
  test "${out%% *}" = err -a "${c1#* }" -ge 1 -a "${c1%% *}" -ge 5
out=$(client gpx-c2 login)
log "client c2: $out"
check "proxy protocol: another client host still logs in" grep -q "^ok app@c2.gpx" <<<"$out"
errs=$(host_errors $PX_IP)
check "proxy protocol: no connect errors for the proxy's host ($errs)" test "$errs" -eq 0
proxy_stop

# ---- 4: slots -----------------------------------------------------------------------------
log "scenario 4: 4 handshake slots, 300 half-open connections"
reset_server
proxy_start 'slots = 4;' || exit 1
client gpx-c1 hold 300 8 | sed 's/^/#   /' &
HOLD_PID=$!
sleep 2
threads=$(sql "SHOW GLOBAL STATUS LIKE 'Threads_connected'" | awk '{print $2}')
out=$(client gpx-c2 login)
log "healthy client during the flood: $out (server Threads_connected $threads)"
ms=$(awk '{print $3}' <<<"$out")
check "slots: a healthy client logs in during the flood" grep -q "^ok" <<<"$out"
check "slots: ...within 2 s (${ms:-?} ms)" test "${ms:-99999}" -le 2000
check "slots: the server holds at most slots + 3 connections ($threads)" test "$threads" -le 7
deferred=$(metric 'galera_proxy_backend_deferred_greetings_total{backend="db1"}')
log "deferred greetings: $deferred, queued: $(metric 'galera_proxy_backend_handshake_queued{backend="db1"}')"
check "slots: clients beyond the slots were greeted by the proxy ($deferred)" test "${deferred%.*}" -ge 290
wait "$HOLD_PID"
errs=$(host_errors $PX_IP)
check "slots: no connect errors for the proxy's host ($errs)" test "$errs" -eq 0
proxy_stop

# ---- 5: deferred greetings, clients that leave at the auth switch --------------------------
log "scenario 5: 1 slot held, 40 clients leave a deferred login midway"
reset_server
proxy_start 'slots = 1;' || exit 1
client gpx-c1 hold 3 12 | sed 's/^/#   /' &
HOLD_PID=$!
sleep 1
client gpx-c1 vanish 20 | sed 's/^/#   vanish at the switch: /'
client gpx-c1 vanish-early 20 | sed 's/^/#   vanish after answering: /'
sleep 2 # the proxy answers the switches wrongly; the server refuses the logins
deferred=$(metric 'galera_proxy_backend_deferred_greetings_total{backend="db1"}')
check "deferred: the 40 were greeted by the proxy ($deferred)" test "${deferred%.*}" -ge 40
refused=$(grep -c 'event=defer_abandoned backend=db1 outcome=refused' "$WORK/proxy.log")
check "deferred: the server refused all 40 abandoned logins ($refused)" test "$refused" -ge 40
errs=$(host_errors $PX_IP)
check "deferred: no connect errors for the proxy's host ($errs)" test "$errs" -eq 0
out=$(client gpx-c2 login)
log "healthy client: $out"
check "deferred: a healthy client logs in (its host is not blocked)" grep -q "^ok" <<<"$out"
wait "$HOLD_PID"
proxy_stop

reports=$(sanitizer_clean "$WORK/proxy.log")
verdict $? "no sanitizer report in the proxy log" "$reports"
[[ $FAILED -eq 0 ]] || log "proxy log: $WORK/proxy.log"
finish
