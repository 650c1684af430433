#!/usr/bin/env bash
# t_13_evict_list_restart.sh - evict-list entries outlive no proxy: a kill -9'd proxy's are cleared by the next one.
#
# A proxy evicted a killed writer and was itself killed -9 before it cleared the evict lists
# (it clears its own ~200 ms after an eviction). A new proxy does not know those entries
# (they are not in its own list of evictions): it must keep them while the evicted node could
# still be a live member somewhere (the node is not back), and clear them on every node once
# the group is whole again under new UUIDs. Then the next writer kill is evicted at once, not after
# Galera's ~5 s suspect timeout (any entry in a node's evict list slows the next evs.evict).
set -uo pipefail
# shellcheck source=test/integration-galera/lib/gt.sh
. "$(dirname "$0")/lib/gt.sh"
gt_scenario_init

gt_sql "$GT_PORT" "CREATE TABLE IF NOT EXISTS t_evl (id BIGINT PRIMARY KEY, t BIGINT)" ||
  gt_notok "create table t_evl"

# evict_lists: "node1=LIST node2=LIST node3=LIST" of the running nodes (down ones: "-").
evict_lists() {
  local n out=""
  for n in 1 2 3; do
    if galera_pid "$n" "$GALERA_DIR" >/dev/null; then
      out+="node$n=$(gt_status "$n" wsrep_evs_evict_list) "
    else
      out+="node$n=- "
    fi
  done
  echo "${out% }"
}

# kill_writer: kill -9 the writer's mariadbd (as the proxy names it); prints its node number.
kill_writer() {
  local w wn pid
  w=$(gt_writer)
  wn=$(gt_node_num "$w")
  pid=$(galera_pid "$wn" "$GALERA_DIR") || return 1
  kill -9 "$pid"
  while kill -0 "$pid" 2>/dev/null; do sleep 0.01; done
  echo "$wn"
}

# 1. A proxy evicted the killed writer and was killed -9 before it could clear the lists. Done
# here without a race (the proxy clears its own entries ~200 ms after an eviction, and a test
# that must kill it inside that window fails on a loaded machine): the proxy is killed first,
# then the writer, and its eviction (the same statement the proxy runs) is issued by hand.
w=$(gt_writer)
wn=$(gt_node_num "$w")
uuid=$(gt_status "$wn" wsrep_gcomm_uuid)
gt_info "writer $w, gcomm UUID $uuid; lists before: $(evict_lists)"
gt_proxy_kill main
kn=$wn
if pid=$(galera_pid "$kn" "$GALERA_DIR"); then
  kill -9 "$pid"
  while kill -0 "$pid" 2>/dev/null; do sleep 0.01; done
  gt_ok "node$kn (the writer) killed -9"
else
  gt_notok "node$kn (the writer) killed -9"
fi
s=1
[ "$s" = "$kn" ] && s=2
if gt_nsql "$s" "SET GLOBAL wsrep_provider_options='evs.evict=$uuid'" >/dev/null; then
  gt_ok "db$kn's old UUID evicted through node$s, as the killed proxy had done"
else
  gt_notok "db$kn's old UUID evicted through node$s, as the killed proxy had done"
fi
for n in 1 2 3; do
  [ "$n" = "$kn" ] && continue
  gt_match "$uuid" "$(gt_status "$n" wsrep_evs_evict_list)" "node$n's evict list holds db$kn's old UUID"
done

# 2. A new proxy while db$kn is still down: the entry could be a live member, it stays.
from=$(gt_log_lines)
gt_proxy_start main "$GT_WORK/proxy-main.conf" || gt_notok "a new proxy starts"
line=$(gt_log_wait "$from" "event=evict_list_kept" 10) || line=""
gt_match "reason=not_all_evicted_here" "$line" "the new proxy keeps the lists while db$kn is down"
sleep 4
gt_match "$uuid" "$(gt_status "$s" wsrep_evs_evict_list)" "... still there 4 s later"
gt_eq "" "$(gt_log_since "$from" 'event=evict_list_cleared')" "... and nothing cleared"

# 3. db$kn rejoins (IST) under a new UUID: the group is whole, the new proxy clears every list.
t0=$(gt_now_ms)
if galera_restart "$kn" "$GALERA_DIR" >>"$GT_TMP/galera.log" 2>&1 && gt_wait_healthy 60; then
  gt_ok "node$kn restarted (IST) and the cluster is 3 x Synced"
else
  gt_notok "node$kn restarted (IST) and the cluster is 3 x Synced"
fi
gt_info "node$kn back after $(($(gt_now_ms) - t0)) ms with UUID $(gt_status "$kn" wsrep_gcomm_uuid)"
gt_ne "$uuid" "$(gt_status "$kn" wsrep_gcomm_uuid)" "node$kn rejoined under a new gcomm UUID"
for n in 1 2 3; do
  [ "$n" = "$kn" ] && continue # a new process: its own list starts empty
  line=$(gt_log_wait "$from" "event=evict_list_cleared node=db$n " 15) || line=""
  gt_match "proof=no_member" "$line" "the new proxy cleared db$n's list (entries it did not make)"
done
sleep 1
gt_eq "node1= node2= node3=" "$(evict_lists)" "every node's evict list is empty"

# 4. The next writer kill is evicted fast.
wout=$GT_TMP/writer.out
php "$GT_LIB/writer.php" 127.0.0.1 "$GT_PORT" t_evl 3000000000 10 >"$wout" 2>&1 &
wpid=$!
gt_track "$wpid"
sleep 1.5
from=$(gt_log_lines)
t_kill=$(gt_now_ms)
kn=$(kill_writer) || gt_notok "kill the writer again"
first_ok=""
for _ in $(seq 1 150); do
  first_ok=$(awk -v k="$t_kill" '$1 == "ok" && $3 > k {print $4; exit}' "$wout")
  [ -n "$first_ok" ] && break
  sleep 0.1
done
gt_stop_pid "$wpid"
wait "$wpid" 2>/dev/null
gt_match "event=evict_done node=db$kn" "$(gt_log_since "$from" 'event=evict_done')" \
  "the new proxy evicted db$kn"
if [ -n "$first_ok" ]; then
  gt_le $((first_ok - t_kill)) 1500 "writes succeed again soon after the kill, not after ~5 s (ms)"
else
  gt_notok "writes succeed again after the kill"
fi
acked=$(awk '$1 == "ok" {print $2}' "$wout" | sort -u)
s=1
[ "$s" = "$kn" ] && s=2
missing=$(comm -23 <(echo "$acked") <(gt_nsql "$s" "SET SESSION wsrep_sync_wait=1;
  SELECT id FROM test.t_evl WHERE id >= 3000000000" | sort -u) | grep -c .)
gt_eq 0 "$missing" "acknowledged writes missing ($(echo "$acked" | grep -c .) acked)"

if galera_restart "$kn" "$GALERA_DIR" >>"$GT_TMP/galera.log" 2>&1 && gt_wait_healthy 60; then
  gt_ok "node$kn restarted (IST) and the cluster is 3 x Synced"
else
  gt_notok "node$kn restarted (IST) and the cluster is 3 x Synced"
fi
gt_sql "$GT_PORT" "DROP TABLE IF EXISTS t_evl" || true
gt_finish
