#!/usr/bin/env bash
# POST authorisation across a real network: a proxy in one namespace, a client in another.
#
#   auth_netns.sh PROXY_BIN
#
# Loopback and the proxy's own address are "same host" (no token); a client on another
# host needs the bearer token (401 without it), and with no token configured it gets 403.
# Creates namespaces gph-a (proxy) and gph-b (client) joined by one veth pair on a private
# subnet that exists only inside them; removes them and stops the proxy on any exit.
set -uo pipefail

BIN=${1:?usage: auth_netns.sh PROXY_BIN}
NS_A=gph-a
NS_B=gph-b
ADDR_A=10.214.0.1
ADDR_B=10.214.0.2
PORT=19480
TOKEN=netns-test-token-7f3a
WORK=$(mktemp -d /tmp/gp-auth-netns.XXXXXX)
PID=""
FAILS=0
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=test/lib/procs.sh
source "$ROOT/test/lib/procs.sh"
# shellcheck source=test/lib/sanitizers.sh
source "$ROOT/test/lib/sanitizers.sh"

# stop_proxy: SIGTERM; the proxy must exit 0 and leave no sanitizer report.
stop_proxy() {
  local problems
  [[ -n "$PID" ]] || return 0
  stop_pid "$PID"
  PID=""
  if problems=$(proxy_exit_problems "$STOP_RC" "$WORK/proxy.log"); then
    echo "    ok: the proxy exits 0 on SIGTERM, no sanitizer report"
  else
    echo "    FAIL: proxy shutdown: $problems"
    FAILS=$((FAILS + 1))
  fi
}

cleanup() {
  [[ -z "$PID" ]] || stop_pid "$PID"
  ip netns del "$NS_A" 2>/dev/null
  ip netns del "$NS_B" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

for ns in "$NS_A" "$NS_B"; do
  if ip netns list | grep -qw "$ns"; then
    echo "auth_netns: namespace $ns exists (a crashed earlier run?); removing it" >&2
    ip netns del "$ns"
  fi
done
ip netns add "$NS_A" && ip netns add "$NS_B" || exit 1
ip -n "$NS_A" link set lo up
ip -n "$NS_B" link set lo up
ip link add veth-a netns "$NS_A" type veth peer name veth-b netns "$NS_B" || exit 1
ip -n "$NS_A" addr add "$ADDR_A/24" dev veth-a
ip -n "$NS_B" addr add "$ADDR_B/24" dev veth-b
ip -n "$NS_A" link set veth-a up
ip -n "$NS_B" link set veth-b up

start_proxy() { # start_proxy TOKEN
  stop_proxy
  cat >"$WORK/proxy.conf" <<CONF
listen = "127.0.0.1:16433";
http_listen = "0.0.0.0:$PORT";
http_admin_token = "$1";
log_level = "warn";
monitor = { user = "monitor"; password = "monitor"; };
backends = ( { name = "db1"; address = "127.0.0.1:3399"; priority = 1; } );
CONF
  ip netns exec "$NS_A" "$BIN" -c "$WORK/proxy.conf" 2>>"$WORK/proxy.log" &
  PID=$!
  local i
  for ((i = 0; i < 50; i++)); do
    ip netns exec "$NS_A" curl -s -o /dev/null "http://127.0.0.1:$PORT/status" && return 0
    sleep 0.1
  done
  echo "auth_netns: proxy did not start"
  cat "$WORK/proxy.log"
  return 1
}

post() { # post NS URLHOST [curl args...] -> HTTP code
  local ns=$1 host=$2
  shift 2
  ip netns exec "$ns" curl -s -o /dev/null -w '%{http_code}' --max-time 3 -X POST "$@" \
    "http://$host:$PORT/vrrp?state=BACKUP"
}

expect() { # expect WANT GOT WHAT
  if [[ "$2" == "$1" ]]; then
    echo "    ok: $3 -> $2"
  else
    echo "    FAIL: $3 -> $2, want $1"
    FAILS=$((FAILS + 1))
  fi
}

start_proxy "$TOKEN" || exit 1
expect 200 "$(ip netns exec "$NS_B" curl -s -o /dev/null -w '%{http_code}' "http://$ADDR_A:$PORT/status")" \
  "GET /status from another host"
expect 401 "$(post "$NS_B" "$ADDR_A")" "POST from another host without a token"
expect 401 "$(post "$NS_B" "$ADDR_A" -H 'Authorization: Bearer wrong')" "POST from another host, wrong token"
expect 200 "$(post "$NS_B" "$ADDR_A" -H "Authorization: Bearer $TOKEN")" "POST from another host with the token"
expect 200 "$(post "$NS_A" 127.0.0.1)" "POST over loopback without a token"
expect 200 "$(post "$NS_A" "$ADDR_A")" "POST to the proxy's own address from itself"

start_proxy "" || exit 1
expect 403 "$(post "$NS_B" "$ADDR_A" -H "Authorization: Bearer $TOKEN")" "POST from another host, no token configured"
expect 200 "$(post "$NS_A" 127.0.0.1)" "POST over loopback, no token configured"

stop_proxy
if grep -q "$TOKEN" "$WORK/proxy.log"; then
  echo "    FAIL: the token appears in the proxy log"
  FAILS=$((FAILS + 1))
fi
exit $((FAILS > 0))
