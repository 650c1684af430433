#!/usr/bin/env bash
# vip-local.sh - vrrp-hooks/vip-local on two "proxy hosts" in namespaces: a moved VIP is refused.
#
#   test/vrrp-hooks/vip-local.sh
#
# Three namespaces on a bridge (gpv-a .1, gpv-b .2: proxy hosts; gpv-c .3: a client), the VIP
# 10.215.0.50. Checks, each against the real kernel:
#   1 vip-local sets up (route on lo, arp_ignore 1, arp_announce 2), --check agrees, a second
#     run changes nothing, a bad address or interface is refused (exit 2)
#   2 the VIP on a (as keepalived adds it) beside the route; removed again, the route stays and
#     a's getifaddrs() (ip -4 addr) never shows the VIP: the proxy's own VIP check is unaffected
#   3 a's server gone and the VIP moved to b, the client's ARP entry still pointing at a: a
#     connect to the VIP is refused at once (RST) by a; without vip-local on a it is not answered (it times out): so the check
#     can fail
#   4 the client asks ARP again: only b answers (a, holding the VIP as a route only, keeps
#     quiet: arp_ignore), and the connect reaches b's listener
#   5 --remove takes the route away (--check then fails)
# Needs root, ip, socat. Every namespace and process it starts is removed on exit.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
VL=$ROOT/vrrp-hooks/vip-local
VIP=10.215.0.50
PORT=7306
declare -A IP=([a]=10.215.0.1 [b]=10.215.0.2 [c]=10.215.0.3)
PIDS=()
declare -A LISTENER=()
FAILS=0

[ "$(id -u)" = 0 ] || {
  echo "vip-local.sh: needs root (network namespaces)" >&2
  exit 2
}
for t in ip socat; do
  command -v "$t" >/dev/null || {
    echo "vip-local.sh: $t not found (test/lib/deps.sh installs it)" >&2
    exit 2
  }
done
if ip netns list | grep -qE '^gpv-'; then
  echo "vip-local.sh: namespaces gpv-* exist already (another run?)" >&2
  exit 2
fi

cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  for h in a b c sw; do ip netns delete "gpv-$h" 2>/dev/null; done
}
trap cleanup EXIT

ok() { echo "ok   $*"; }
bad() {
  echo "FAIL $*"
  FAILS=$((FAILS + 1))
}
ns() {
  local h=$1
  shift
  ip netns exec "gpv-$h" "$@"
}

ip netns add gpv-sw
ip -n gpv-sw link add br0 type bridge
ip -n gpv-sw link set br0 type bridge stp_state 0 forward_delay 0
ip -n gpv-sw link set br0 up
for h in a b c; do
  ip netns add "gpv-$h"
  ip -n "gpv-$h" link set lo up
  ip link add veth0 netns "gpv-$h" type veth peer name "p-$h" netns gpv-sw
  ip -n gpv-sw link set "p-$h" master br0
  ip -n gpv-sw link set "p-$h" up
  ip -n "gpv-$h" addr add "${IP[$h]}/24" dev veth0
  ip -n "gpv-$h" link set veth0 up
done

# listener HOST: a server on HOST's every address that says which host it is.
listener() {
  ip netns exec "gpv-$1" socat "TCP-LISTEN:$PORT,reuseaddr,fork" "SYSTEM:echo $1" </dev/null >/dev/null 2>&1 &
  PIDS+=($!)
  LISTENER[$1]=$!
  sleep 0.3
}
# try: connect from c to the VIP (2 s at most); prints "host a", "refused" or "timeout".
try() {
  local out rc
  out=$(ns c timeout 2 socat -T 1 - "TCP:$VIP:$PORT,connect-timeout=2" </dev/null 2>&1)
  rc=$?
  if ((rc == 124)) || [[ "$out" == *"timed out"* ]]; then
    echo timeout
  elif [[ "$out" == *refused* ]]; then
    echo refused
  elif [ -n "$out" ] && ((rc == 0)); then
    echo "host $out"
  else
    echo "other: rc $rc $out"
  fi
}
mac() { ip -n "gpv-$1" -o link show veth0 | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p'; }

# 1 setup
if ns a "$VL" "$VIP" veth0 && ns b "$VL" "$VIP" veth0; then ok "1 vip-local set up on a and b"; else bad "1 vip-local failed"; fi
ns a "$VL" --check "$VIP" veth0 && ok "1 --check agrees" || bad "1 --check says not set up"
ns a "$VL" "$VIP" veth0 || bad "1 a second run failed"
n=$(ip -n gpv-a -4 route show table local type local "$VIP" dev lo | grep -c .)
[ "$n" = 1 ] && ok "1 a second run changes nothing (one route)" || bad "1 $n routes after two runs"
[ "$(ns a cat /proc/sys/net/ipv4/conf/veth0/arp_ignore)" = 1 ] &&
  [ "$(ns a cat /proc/sys/net/ipv4/conf/veth0/arp_announce)" = 2 ] &&
  ok "1 arp_ignore 1, arp_announce 2 on veth0" || bad "1 ARP settings not made"
ns a "$VL" 10.215.0 veth0 2>/dev/null
[ $? = 2 ] && ok "1 a bad address: exit 2" || bad "1 a bad address accepted"
ns a "$VL" "$VIP" nosuch0 2>/dev/null
[ $? = 2 ] && ok "1 a missing interface: exit 2" || bad "1 a missing interface accepted"

# 2 keepalived's address beside the route
listener a
listener b
ip -n gpv-a addr add "$VIP/24" dev veth0 || bad "2 the VIP could not be added beside the route"
r=$(try)
[ "$r" = "host a" ] && ok "2 the VIP on a: a serves ($r)" || bad "2 the VIP on a: $r"
ip -n gpv-a addr del "$VIP/24" dev veth0
if ns a "$VL" --check "$VIP" veth0 && ! ip -n gpv-a -4 -o addr show | grep -q " $VIP/"; then
  ok "2 the address gone, the route stays; no interface shows the VIP"
else
  bad "2 after the address went: route or address wrong"
fi

# 3 a's proxy dies (its port closes), the VIP moves to b, the client's ARP entry still on a (no
# gratuitous ARP yet)
kill "${LISTENER[a]}"
wait "${LISTENER[a]}" 2>/dev/null
ip -n gpv-c neigh replace "$VIP" lladdr "$(mac a)" nud reachable dev veth0
ip -n gpv-b addr add "$VIP/24" dev veth0
t0=${EPOCHREALTIME/./}
r=$(try)
dt=$(((${EPOCHREALTIME/./} - t0) / 1000))
[ "$r" = refused ] && ((dt < 500)) && ok "3 stale ARP: a refuses at once ($dt ms)" ||
  bad "3 stale ARP: $r after $dt ms (want refused)"
ns a "$VL" --remove "$VIP" veth0
ip -n gpv-c neigh replace "$VIP" lladdr "$(mac a)" nud reachable dev veth0
r=$(try)
[ "$r" = timeout ] && ok "3 without vip-local on a the SYN is dropped: $r" ||
  bad "3 without vip-local on a: $r (want timeout: the check could not fail)"
ns a "$VL" "$VIP" veth0

# 4 a fresh ARP: only b answers
ip -n gpv-c neigh del "$VIP" dev veth0 2>/dev/null
r=$(try)
m=$(ip -n gpv-c neigh show "$VIP" dev veth0 | awk '{print $3}')
[ "$r" = "host b" ] && [ "$m" = "$(mac b)" ] && ok "4 ARP answered by b only; the connect reaches b" ||
  bad "4 after a fresh ARP: $r, VIP at $m (b is $(mac b), a $(mac a))"

# 5 remove
ns a "$VL" --remove "$VIP" veth0 && ! ns a "$VL" --check "$VIP" veth0 &&
  ok "5 --remove: the route is gone" || bad "5 --remove left the route"

((FAILS == 0)) && echo "vip-local.sh: all passed" || echo "vip-local.sh: $FAILS failed"
((FAILS == 0))
