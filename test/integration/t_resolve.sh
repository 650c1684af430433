#!/usr/bin/env bash
# Host names resolve off the event loop: a slow DNS server never stalls relaying; reloads stay all or nothing.
# gp-test-timeout: 180
#
# Runs its own proxy (the runner's binary, in front of the runner's MariaDB; port
# GP_TEST_RESOLVE_PORT, default the runner's + 710, HTTP on the next) in a private mount
# namespace whose /etc/resolv.conf names a DNS server that never answers (socat swallowing
# UDP on 127.0.N.53), so a name outside /etc/hosts takes as long to fail as the options in
# that file say. Checks:
#   - peer = "localhost:HTTP" is looked up and polled (peer_resolved, peer_view)
#   - a reload adding db2 = "localhost:DB" answers 202 resolving, then applies; db2 is probed
#     at its resolved address and serves once db1 is in maintenance
#   - a reload naming a slow name answers at once, a second one meanwhile gets 409, SELECTs
#     through the proxy keep their latency during the lookup, then the reload is refused
#     (cannot resolve, running configuration kept)
#   - a lookup slower than the 10 s limit is refused at the limit
#   - SIGTERM while a lookup is in flight: exit 0, no sanitizer report
# localhost resolves to its first address as getaddrinfo orders them; when that is ::1, socat
# forwards [::1] to the 127.0.0.1 listeners. Needs root (mount namespace, port 53).
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=test/integration/lib/common.sh
source "$HERE/lib/common.sh"
# shellcheck source=test/integration/lib/proxyinst.sh
source "$HERE/lib/proxyinst.sh"
gp_need_env PROXY_HOST PROXY_PORT DB_PORT TEST_TMP PROXY_MODE

if [[ "$PROXY_MODE" == direct ]]; then
  echo "# direct mode: this test runs a proxy of its own; nothing to check"
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  gp_notok "needs root: a private mount namespace for /etc/resolv.conf and a DNS port"
  gp_done
fi
BIN=$(gp_inst_bin) || exit 1
PORT=${GP_TEST_RESOLVE_PORT:-$((PROXY_PORT + 710))}
HTTP=$((PORT + 1))
NS_IP=127.0.$((PROXY_PORT % 200 + 20)).53
RC=$TEST_TMP/resolv.conf
CONF=$TEST_TMP/resolve.conf
LOG=$TEST_TMP/resolve-proxy.log
SLOW=gp-slow.test # not in /etc/hosts: asks the DNS server that never answers

STARTED=()
PID=""
# shellcheck disable=SC2317 # reached through the EXIT trap
cleanup() {
  local p
  for p in "${STARTED[@]}"; do
    alive "$p" && stop_pid "$p" 10
  done
}
trap cleanup EXIT

# resolver OPTIONS: the DNS server that never answers, with these options.
resolver() { printf 'nameserver %s\noptions %s\n' "$NS_IP" "$1" >"$RC"; }

# write_conf [BACKEND...]: db1 by address, then the given backend entries.
write_conf() {
  local extra="" b
  for b in "$@"; do extra+=", $b"; done
  cat >"$CONF" <<EOF
listen = "127.0.0.1:$PORT";
http_listen = "127.0.0.1:$HTTP";
peer = "localhost:$HTTP";
log_level = "info";
limits = { shutdown_timeout_ms = 2000; };
monitor = { user = "monitor"; password = "monitor"; interval_ms = 250; timeout_ms = 1000; };
backends = ( { name = "db1"; address = "127.0.0.1:$DB_PORT"; priority = 1; }$extra );
EOF
}

# st PATH: a field of /status ("reload.resolving", "config_version"; "backend.NAME.FIELD").
st() {
  # shellcheck disable=SC2016 # PHP code
  curl -s --max-time 2 "http://127.0.0.1:$HTTP/status" 2>/dev/null | php -r '
    $v = json_decode(stream_get_contents(STDIN), true);
    $p = explode(".", $argv[1]);
    if ($p[0] === "backend") {
      $b = array_values(array_filter($v["backends"] ?? [], fn($x) => $x["name"] === $p[1]));
      $v = $b[0] ?? null;
      $p = array_slice($p, 2);
    }
    foreach ($p as $k) $v = is_array($v) ? ($v[$k] ?? null) : null;
    echo is_bool($v) ? ($v ? "true" : "false") : (is_scalar($v) ? $v : json_encode($v));' "$1"
}
nbackends() {
  curl -s --max-time 2 "http://127.0.0.1:$HTTP/status" | php -r \
    'echo count(json_decode(stream_get_contents(STDIN), true)["backends"] ?? []);'
}
post() { curl -s --max-time 5 -X POST -w ' %{http_code}' "http://127.0.0.1:$HTTP$1"; }
select1() { gp_client -h127.0.0.1 -P"$PORT" -uapp -papp -N -B -e 'SELECT 1' 2>&1; }
# wait_for SECONDS CMD...: poll CMD every 0.1 s.
wait_for() {
  local end=$(($(gp_now_ms) + $1 * 1000))
  shift
  until "$@"; do
    (($(gp_now_ms) < end)) || return 1
    sleep 0.1
  done
}
is() { [[ $(st "$2") == "$1" ]]; }
logged() { grep -qE -- "$1" "$LOG"; }

# ---- the DNS server that never answers, and localhost ----------------------------------------
socat -u "UDP-RECV:53,bind=$NS_IP" /dev/null &
STARTED+=($!)
sleep 0.2
if ! alive "${STARTED[0]}"; then
  gp_notok "cannot listen on $NS_IP:53 (udp)"
  gp_done
fi
LH=$(getent ahosts localhost | awk 'NR == 1 { print $1 }')
echo "# localhost resolves first to $LH; the silent DNS server is $NS_IP"
if [[ "$LH" == ::1 ]]; then
  for p in "$DB_PORT" "$HTTP"; do
    socat "TCP6-LISTEN:$p,bind=[::1],reuseaddr,fork" "TCP4:127.0.0.1:$p" &
    STARTED+=($!)
  done
elif [[ "$LH" != 127.0.0.1 ]]; then
  gp_notok "localhost resolves first to '$LH', neither 127.0.0.1 nor ::1"
  gp_done
fi

# ---- the proxy, in its own mount namespace -----------------------------------------------------
resolver "timeout:2 attempts:1"
write_conf
: >"$LOG"
unshare --mount --propagation private \
  sh -c 'mount --bind "$1" /etc/resolv.conf && exec "$2" -c "$3"' sh "$RC" "$BIN" "$CONF" \
  </dev/null >>"$LOG" 2>&1 &
PID=$!
STARTED+=("$PID")
if ! gp_inst_wait_ready "$PID" "$PORT" 30; then
  gp_notok "the proxy did not relay SELECT 1 within 30 s"
  tail -n 20 "$LOG" | sed 's/^/#   /'
  gp_done
fi

echo "# peer named by host"
if wait_for 5 logged "event=peer_resolved peer=localhost:$HTTP ip=$LH"; then
  gp_ok "peer = localhost:$HTTP resolved to $LH off the loop"
else
  gp_notok "no peer_resolved line for localhost:$HTTP"
fi
wait_for 5 logged "event=peer_view" && gp_ok "the peer named by host is polled" ||
  gp_notok "the peer named by host was never polled"

echo "# a reload naming a backend by host name"
write_conf "{ name = \"db2\"; address = \"localhost:$DB_PORT\"; priority = 2; }"
out=$(post /reload)
gp_match '"result":"resolving".* 202$' "$out" "POST /reload: 202 resolving"
wait_for 5 is 2 config_version && gp_ok "applied once resolved (config_version 2)" ||
  gp_notok "not applied: config_version $(st config_version), reload $(st reload)"
logged "event=reload_resolved source=127.0.0.1 backend=db2 host=localhost ip=$LH" &&
  gp_ok "reload_resolved names db2's address" || gp_notok "no reload_resolved line for db2"
wait_for 10 is true backend.db2.up && gp_ok "db2 is probed at $LH: up, $(st backend.db2.state)" ||
  gp_notok "db2 is $(st backend.db2.state) ($(st backend.db2.reason))"
post "/backends/db1/maintenance?on=1" >/dev/null
wait_for 10 is db2 writer && gp_ok "db1 in maintenance: db2 (by name) is the writer" ||
  gp_notok "writer is $(st writer)"
gp_eq 1 "$(select1)" "a client is served through db2"
post "/backends/db1/maintenance?on=0" >/dev/null

echo "# a reload naming a host the DNS server never answers for"
write_conf "{ name = \"db2\"; address = \"localhost:$DB_PORT\"; priority = 2; }" \
  "{ name = \"db3\"; address = \"$SLOW:$DB_PORT\"; priority = 3; }"
t0=$(gp_now_ms)
out=$(post /reload)
ms=$(($(gp_now_ms) - t0))
gp_match '"result":"resolving".* 202$' "$out" "POST /reload: 202 resolving"
((ms < 1000)) && gp_ok "the reload answered in $ms ms (the 2 s lookup runs off the loop)" ||
  gp_notok "the reload took $ms ms to answer"
out=$(post /reload)
gp_match '"result":"busy".*still resolving host names.* 409$' "$out" \
  "a second reload meanwhile: 409 busy"
gp_eq true "$(st reload.resolving)" "/status reload.resolving is true"
worst=0
bad=0
for _ in 1 2 3 4 5; do
  t0=$(gp_now_ms)
  [[ $(select1) == 1 ]] || bad=$((bad + 1))
  ms=$(($(gp_now_ms) - t0))
  ((ms > worst)) && worst=$ms
done
still=$(st reload.resolving)
gp_eq 0 "$bad" "5 clients served during the lookup"
((worst < 800)) && gp_ok "slowest connect + SELECT during the lookup: $worst ms" ||
  gp_notok "a connect + SELECT took $worst ms during the lookup"
gp_eq true "$still" "the lookup was still running after those clients"
wait_for 6 is false reload.resolving || gp_notok "still resolving after 6 s"
gp_eq false "$(st reload.last_ok)" "reload.last_ok is false"
gp_match "backend 'db3': cannot resolve $SLOW \\(.*\\); the running configuration is kept" \
  "$(st reload.last_error)" "reload.last_error names db3, its host and the outcome"
gp_eq 2 "$(st config_version)" "config_version is still 2"
gp_eq 2 "$(nbackends)" "still 2 backends"
logged "event=reload_failed source=127.0.0.1 error=\".*backend 'db3': cannot resolve $SLOW" &&
  gp_ok "reload_failed logged" || gp_notok "no reload_failed line for db3"
gp_eq 1 "$(select1)" "clients are served after the refused reload"

echo "# a lookup slower than the 10 s limit"
resolver "timeout:6 attempts:2"
t0=$(gp_now_ms)
out=$(post /reload)
gp_match '"result":"resolving".* 202$' "$out" "POST /reload: 202 resolving"
wait_for 15 is false reload.resolving
ms=$(($(gp_now_ms) - t0))
((ms >= 9500 && ms < 12000)) && gp_ok "refused after $ms ms (limit 10 s)" ||
  gp_notok "refused after $ms ms, want about 10 s"
gp_match "host name\\(s\\) did not resolve within 10000 ms; the running configuration is kept" \
  "$(st reload.last_error)" "reload.last_error says the lookup took too long"
gp_eq 2 "$(st config_version)" "config_version is still 2"

echo "# SIGTERM while a lookup is in flight"
resolver "timeout:3 attempts:1"
out=$(post /reload)
gp_match '"result":"resolving".* 202$' "$out" "POST /reload: 202 resolving"
gp_eq true "$(st reload.resolving)" "a lookup is in flight"
stop_pid "$PID" 20
gp_eq 0 "$STOP_RC" "SIGTERM: exit status 0"
logged "event=shutdown_complete" && gp_ok "shutdown_complete logged" ||
  gp_notok "no shutdown_complete line"
for marker in "ERROR: AddressSanitizer" "ERROR: LeakSanitizer" "runtime error:" \
  "event=loop_not_empty"; do
  grep -qF -- "$marker" "$LOG" && gp_notok "the log has '$marker'" || gp_ok "no '$marker' in the log"
done
gp_done
