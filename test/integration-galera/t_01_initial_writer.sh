#!/usr/bin/env bash
# t_01_initial_writer.sh - the best-priority node is the writer; listen_ro sessions go elsewhere.
set -uo pipefail
# shellcheck source=test/integration-galera/lib/gt.sh
. "$(dirname "$0")/lib/gt.sh"
gt_scenario_init

# The proxy was (re)started with all three nodes Synced: db1 (priority 1) is the writer.
line=$(grep -E 'event=writer_change from=none' "$GT_LOG" | tail -n 1)
gt_match 'to=db1 reason=initial' "$line" "the proxy's first writer is db1 (priority 1)"
for i in 1 2 3; do
  gt_eq node1 "$(gt_node "$GT_PORT")" "read-write session $i lands on node1"
done

out=$(gt_sql "$GT_PORT" "CREATE TABLE IF NOT EXISTS t_initial (id INT AUTO_INCREMENT PRIMARY KEY,
  node VARCHAR(16)); INSERT INTO t_initial (node) VALUES (@@wsrep_node_name);
  SELECT node FROM t_initial WHERE id = LAST_INSERT_ID()" 2>&1)
gt_eq node1 "$out" "a write through listen is executed on node1"

# Four read-only sessions held open at once: least-sessions spreads them over node2 and node3.
seen=""
for i in 1 2 3 4; do
  gt_sess_open "ro$i" "$GT_RO_PORT"
  r=$(gt_sess_recv "ro$i" 10) || r="no reply"
  [[ "$r" == connected* ]] || gt_notok "ro$i connects: $r"
  r=$(gt_sess_q "ro$i" "SELECT @@wsrep_node_name")
  seen="$seen $(gt_field 4 "$r")"
done
gt_info "listen_ro sessions landed on:$seen"
case "$seen" in *node1*) gt_notok "no listen_ro session on the writer node1" ;;
*) gt_ok "no listen_ro session on the writer node1" ;; esac
gt_match 'node2' "$seen" "listen_ro sessions use node2"
gt_match 'node3' "$seen" "listen_ro sessions use node3"

# The read-only endpoint really is read-only (the proxy sets SESSION TRANSACTION READ ONLY).
r=$(gt_sess_q ro1 "INSERT INTO t_initial (node) VALUES ('ro')")
gt_match '^err [0-9]+ [0-9]+ 1792 ' "$r" "a write through listen_ro fails with ERROR 1792"
gt_sess_close_all
gt_finish
