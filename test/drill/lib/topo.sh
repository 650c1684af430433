#!/usr/bin/env bash
# topo.sh - the drills' network: one bridge in namespace gpd-sw, one namespace per "host".
#
#   gpd-sw   br0, and one port p-HOST per host
#   gpd-db1 .. gpd-db3   10.213.0.11-13   Galera nodes (SQL 3306, gcomm 4567, IST 4568, SST 4444)
#   gpd-ha1, gpd-ha2     10.213.0.21-22   galera-proxy (6033, http 9480) + keepalived, VIP .50
#   gpd-cl               10.213.0.31      the drill clients
# Nothing is added to the root namespace: the subnet exists only on the bridge. A host is
# "unplugged" by setting its switch port down (gpd_topo_unplug), as if its cable were pulled.

gpd_topo_up() {
  local h
  ip netns add "$GPD_SW" || return 1
  ip -n "$GPD_SW" link set lo up
  ip -n "$GPD_SW" link add br0 type bridge
  # No STP and no forwarding delay: a port set up again forwards at once.
  ip -n "$GPD_SW" link set br0 type bridge stp_state 0 forward_delay 0
  ip -n "$GPD_SW" link set br0 up
  for h in "${GPD_HOSTS[@]}"; do
    ip netns add "gpd-$h" || return 1
    ip -n "gpd-$h" link set lo up
    ip link add veth0 netns "gpd-$h" type veth peer name "p-$h" netns "$GPD_SW" || return 1
    ip -n "$GPD_SW" link set "p-$h" master br0
    ip -n "$GPD_SW" link set "p-$h" up
    ip -n "gpd-$h" addr add "${GPD_IP[$h]}/$GPD_PREFIX" dev veth0
    ip -n "gpd-$h" link set veth0 up
  done
  # Every host answers the client host before anything starts on them (no ping here: a TCP
  # connection to a closed port is refused by a reachable host and times out otherwise).
  for h in "${GPD_HOSTS[@]}"; do
    [ "$h" = cl ] && continue
    gpd_reachable cl "${GPD_IP[$h]}" || gpd_die "topology: gpd-cl cannot reach $h (${GPD_IP[$h]})"
  done
  gpd_log "topology up: ${#GPD_HOSTS[@]} hosts on br0 in $GPD_SW, 10.213.0.0/24, VIP $GPD_VIP"
}

# gpd_reachable FROM IP: IP answers (RST from its port 9) from host FROM within 2 s.
gpd_reachable() {
  local err
  err=$(gpd_ns "$1" timeout 2 bash -c "exec 3<>/dev/tcp/$2/9" 2>&1)
  [[ "$err" == *refused* ]]
}

# gpd_topo_unplug HOST / gpd_topo_plug HOST: the host's switch port down / up.
gpd_topo_unplug() { ip -n "$GPD_SW" link set "p-$1" down; }
gpd_topo_plug() { ip -n "$GPD_SW" link set "p-$1" up; }

# gpd_vip_on HOST: the VIP is configured on HOST's veth0.
gpd_vip_on() {
  ip -n "gpd-$1" -4 -o addr show dev veth0 2>/dev/null | grep -q " $GPD_VIP/"
}
