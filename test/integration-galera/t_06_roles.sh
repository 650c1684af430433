#!/usr/bin/env bash
# t_06_roles.sh - read_only=ON and wsrep_reject_queries=ALL on the writer each move the role.
set -uo pipefail
# shellcheck source=test/integration-galera/lib/gt.sh
. "$(dirname "$0")/lib/gt.sh"
gt_scenario_init

# move_role SETTING UNDO REASON STATE [FIRST]: apply SETTING on the writer's node, expect the
# role to move, the writer_change to give REASON or FIRST, and the node to settle in STATE.
# FIRST: SET GLOBAL read_only=ON on a Galera node takes the global read lock, which desyncs
# the node for a moment (wsrep_local_state 2 without wsrep_desync); a probe that lands in that
# moment sees a donor, and that is what moves the writer.
move_role() {
  local set=$1 undo=$2 reason=$3 state=$4 first=${5:-$3} w wn from new line
  w=$(gt_writer)
  wn=$(gt_node_num "$w")
  from=$(gt_log_lines)
  gt_nsql "$wn" "SET GLOBAL $set" || gt_notok "SET GLOBAL $set on node$wn"
  new=$(gt_wait_writer_not "$w" 10) || new=""
  gt_match '^node[123]$' "$new" "$set on $w: new sessions go to another node ($new)"
  line=$(gt_log_since "$from" "event=writer_change from=db$wn" | head -n 1)
  gt_match "reason=($reason|$first)( |$)" "$line" "$set on $w: the proxy logs reason=$reason"
  line=$(gt_log_wait "$from" "event=node_state backend=db$wn .*to=$state " 10) || line=""
  gt_match "to=$state why=$reason " "$line" "$set on $w: the proxy marks db$wn $state"
  gt_eq "$new" "$(gt_sql "$GT_PORT" "CREATE TABLE IF NOT EXISTS t_roles (id INT AUTO_INCREMENT
    PRIMARY KEY, node VARCHAR(16)); INSERT INTO t_roles (node) VALUES (@@wsrep_node_name);
    SELECT node FROM t_roles WHERE id = LAST_INSERT_ID()" 2>&1)" \
    "$set on $w: writes through the proxy run on $new"
  gt_nsql "$wn" "SET GLOBAL $undo" || gt_notok "SET GLOBAL $undo on node$wn"
  sleep 1
  gt_eq "$new" "$(gt_writer)" "$undo on $w: the writer stays on $new (sticky)"
}

move_role "read_only=ON" "read_only=OFF" read_only read_only donor
move_role "wsrep_reject_queries=ALL" "wsrep_reject_queries=NONE" reject_queries rejecting
gt_wait_healthy 20 || gt_notok "cluster healthy afterwards"
gt_finish
