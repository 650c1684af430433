#!/usr/bin/env bash
# t_03_desync.sh - a planned switch: an open transaction commits, new sessions wait, then move.
set -uo pipefail
# shellcheck source=test/integration-galera/lib/gt.sh
. "$(dirname "$0")/lib/gt.sh"
gt_scenario_init

gt_sql "$GT_PORT" "CREATE TABLE IF NOT EXISTS t_desync (id INT PRIMARY KEY, v INT);
  DELETE FROM t_desync" || gt_notok "create table t_desync"
w=$(gt_writer)
wn=$(gt_node_num "$w")
gt_info "writer before the switch: $w"

# Client A holds a transaction open on the writer.
gt_sess_open A "$GT_PORT"
gt_sess_recv A 10 >/dev/null
gt_eq "$w" "$(gt_field 4 "$(gt_sess_q A "SELECT @@wsrep_node_name")")" "A is on the writer $w"
gt_match '^ok ' "$(gt_sess_q A "BEGIN")" "A: BEGIN"
gt_match '^ok ' "$(gt_sess_q A "INSERT INTO t_desync VALUES (1, 1)")" "A: first INSERT"

from=$(gt_log_lines)
gt_nsql "$wn" "SET GLOBAL wsrep_desync=ON" || gt_notok "desync ON on node$wn"
line=$(gt_log_wait "$from" "event=writer_change from=db$wn" 10) || line=""
gt_match "reason=desynced" "$line" "the proxy moves the writer away from the desynced db$wn"
new_db=$(sed -n 's/.* to=\(db[0-9]\) .*/\1/p' <<<"$line")
gt_match "event=barrier_start from=db$wn" "$(gt_log_wait "$from" 'event=barrier_start' 5)" \
  "a barrier holds new sessions while A's transaction is open"

# Client B connects meanwhile: held by the barrier (no greeting yet).
gt_sess_open B "$GT_PORT"
if r=$(gt_sess_recv B 1); then
  gt_notok "B is held while A's transaction is open (got: $r)"
else
  gt_ok "B is held while A's transaction is open"
fi

# A finishes its transaction on the old writer: no error in the middle of it.
gt_match '^ok ' "$(gt_sess_q A "INSERT INTO t_desync VALUES (2, 2)")" "A: second INSERT after the switch"
r=$(gt_sess_q A "COMMIT")
gt_match '^ok ' "$r" "A: COMMIT succeeds"
t_commit=$(gt_field 2 "$r")

# B goes through now, to the new writer.
r=$(gt_sess_recv B 5) || r="no reply within 5 s"
gt_match '^connected ' "$r" "B connects once A has committed"
if [[ "$r" == connected* ]]; then
  gt_le "$t_commit" "$(gt_field 3 "$r")" "B's session opened after A's COMMIT started (epoch ms)"
fi
r=$(gt_sess_q B "SELECT @@wsrep_node_name")
gt_eq "node${new_db#db}" "$(gt_field 4 "$r")" "B is on the new writer"
gt_ne "$w" "$(gt_field 4 "$r")" "B is not on the desynced node"
gt_sess_q B "SET SESSION wsrep_sync_wait=1" >/dev/null
gt_eq 2 "$(gt_field 4 "$(gt_sess_q B "SELECT COUNT(*) FROM t_desync")")" "B sees both rows A committed"
gt_match "event=barrier_end from=db$wn to=$new_db how=drained" \
  "$(gt_log_wait "$from" 'event=barrier_end' 5)" "the barrier ended because A's session drained"

# A, idle after its transaction, moved to the new writer (routing.move_sessions): no error.
r=$(gt_sess_q A "SELECT @@wsrep_node_name" 5) || r="no reply"
gt_eq "node${new_db#db}" "$(gt_field 4 "$r")" "A's idle session moved to the new writer after its COMMIT"
gt_match "from=db$wn to=$new_db reason=planned" "$(gt_log_since "$from" 'event=session_move ' | head -n 1)" \
  "the proxy logged A's move, planned"
gt_eq "" "$(gt_log_since "$from" 'event=session_close' | head -n 1)" "no session was closed"
gt_sess_close_all

gt_nsql "$wn" "SET GLOBAL wsrep_desync=OFF" || gt_notok "desync OFF on node$wn"
gt_wait_healthy 30 || gt_notok "node$wn Synced again"
gt_finish
