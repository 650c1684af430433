#!/usr/bin/env bash
# t_04_failback.sh - a rejoining old writer does not take the role back, unless failback is on.
set -uo pipefail
# shellcheck source=test/integration-galera/lib/gt.sh
. "$(dirname "$0")/lib/gt.sh"
gt_scenario_init

# kill_restart_db1: kill -9 node1 (the writer), wait for the proxy to move, restart node1 (IST).
# Prints the new writer's node name.
kill_restart_db1() {
  local new
  galera_kill 1 "$GALERA_DIR" 2>/dev/null
  new=$(gt_wait_writer_not node1 15) || new=""
  galera_restart 1 "$GALERA_DIR" >>"$GT_TMP/galera.log" 2>&1 || true
  gt_wait_healthy 60 >/dev/null || true
  echo "$new"
}

# Stickiness (routing.failback=false, the default).
gt_proxy_restart || gt_notok "proxy restart (default configuration)"
gt_eq node1 "$(gt_writer)" "sticky: db1 (priority 1) is the writer after a proxy start"
from=$(gt_log_lines)
new=$(kill_restart_db1)
gt_match '^node[23]$' "$new" "sticky: node1 killed, the writer moved to $new"
if gt_cluster_healthy; then gt_ok "sticky: node1 rejoined, 3 x Synced"; else gt_notok "sticky: node1 rejoined"; fi
gt_log_wait "$from" "event=node_state backend=db1 .*to=synced" 10 >/dev/null ||
  gt_notok "sticky: the proxy saw db1 Synced again"
sleep 3 # well past any rise/eligibility delay
# The rejoin's IST donor (node2 or node3, Galera's choice) is not eligible while it donates:
# if that is the writer, the role moves once more, to the third node, and stays there.
w=$(gt_writer)
gt_match '^node[23]$' "$w" "sticky: the writer stays off node1 after db1 is back ($w)"
gt_eq 0 "$(gt_log_since "$from" 'event=writer_change .*to=db1 ' | grep -c .)" \
  "sticky: no writer change back to db1"
gt_eq 1 "$(gt_log_since "$from" 'event=writer_change' | grep -vc 'reason=donor')" \
  "sticky: one writer change besides moves off an IST donor (the failover)"

# Failback after routing.failback_after_ms.
gt_proxy_restart failback=true failback_after_ms=2000 || gt_notok "proxy restart with failback=true"
gt_eq node1 "$(gt_writer)" "failback: db1 is the writer after a proxy start"
from=$(gt_log_lines)
new=$(kill_restart_db1)
gt_match '^node[23]$' "$new" "failback: node1 killed, the writer moved to $new"
line=$(gt_log_wait "$from" "event=writer_change from=db[23] to=db1" 20) || line=""
gt_match "reason=failback" "$line" "failback: the writer moves back to db1"
synced=$(gt_log_since "$from" "event=node_state backend=db1 .*to=synced" | tail -n 1)
if [ -n "$line" ] && [ -n "$synced" ]; then
  d=$(($(gt_ts_ms "$line") - $(gt_ts_ms "$synced")))
  gt_le 1900 "$d" "failback: not before db1 was eligible for failback_after_ms=2000 (ms)"
  gt_le "$d" 5000 "failback: soon after failback_after_ms (ms)"
fi
gt_eq node1 "$(gt_writer)" "failback: new sessions land on node1 again"

gt_proxy_restart || gt_notok "proxy restart (default configuration)"
gt_finish
