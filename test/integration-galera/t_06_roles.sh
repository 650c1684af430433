#!/usr/bin/env bash
# t_06_roles.sh - read_only=ON and wsrep_reject_queries=ALL on the writer each move the role.
set -uo pipefail
# shellcheck source=test/integration-galera/lib/gt.sh
. "$(dirname "$0")/lib/gt.sh"
gt_scenario_init

# move_role SETTING UNDO REASON: apply SETTING on the writer's node, expect the role to move.
move_role() {
  local set=$1 undo=$2 reason=$3 w wn from new line
  w=$(gt_writer)
  wn=$(gt_node_num "$w")
  from=$(gt_log_lines)
  gt_nsql "$wn" "SET GLOBAL $set" || gt_notok "SET GLOBAL $set on node$wn"
  new=$(gt_wait_writer_not "$w" 10) || new=""
  gt_match '^node[123]$' "$new" "$set on $w: new sessions go to another node ($new)"
  line=$(gt_log_since "$from" "event=writer_change from=db$wn" | head -n 1)
  gt_match "reason=$reason" "$line" "$set on $w: the proxy logs reason=$reason"
  gt_eq "$new" "$(gt_sql "$GT_PORT" "CREATE TABLE IF NOT EXISTS t_roles (id INT AUTO_INCREMENT
    PRIMARY KEY, node VARCHAR(16)); INSERT INTO t_roles (node) VALUES (@@wsrep_node_name);
    SELECT node FROM t_roles WHERE id = LAST_INSERT_ID()" 2>&1)" \
    "$set on $w: writes through the proxy run on $new"
  gt_nsql "$wn" "SET GLOBAL $undo" || gt_notok "SET GLOBAL $undo on node$wn"
  sleep 1
  gt_eq "$new" "$(gt_writer)" "$undo on $w: the writer stays on $new (sticky)"
}

move_role "read_only=ON" "read_only=OFF" read_only
move_role "wsrep_reject_queries=ALL" "wsrep_reject_queries=NONE" reject_queries
gt_wait_healthy 20 || gt_notok "cluster healthy afterwards"
gt_finish
