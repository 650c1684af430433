#!/usr/bin/env bash
# t_15_lastid.sh - a planned move keeps LAST_INSERT_ID() as the server had it (issue 17).
#
# A proxy of its own (16250/16251, HTTP 16252). MariaDB's OK reports the id of an INSERT of
# an explicit value into an AUTO_INCREMENT column while LAST_INSERT_ID() keeps the last
# generated one: a move that replayed the last OK's id would hand the session the wrong
# value. A planned move asks the old session instead. L inserts a generated id n, then an
# explicit 1000 (its OK says 1000, LAST_INSERT_ID() stays n); Z only inserts an explicit id
# (LAST_INSERT_ID() stays 0). After a maintenance switch both run on the new writer with
# LAST_INSERT_ID() as before (n and 0), and no move fell back to the tracked value.
set -uo pipefail
# shellcheck source=test/integration-galera/lib/gt.sh
. "$(dirname "$0")/lib/gt.sh"
gt_scenario_init

LI_PORT=16250 LI_RO_PORT=16251 LI_HTTP=127.0.0.1:16252
conf=$GT_WORK/proxy-lastid.conf
gt_proxy_conf "$conf" listen=127.0.0.1:$LI_PORT listen_ro=127.0.0.1:$LI_RO_PORT \
  drain_timeout_ms=20000
echo "http_listen = \"$LI_HTTP\";" >>"$conf"
if ! gt_proxy_start lastid "$conf" "$LI_PORT"; then
  gt_notok "the lastid proxy starts"
  gt_finish
fi
LI_LOG=$(gt_proxy_log lastid)

li_post() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 -X POST "http://$LI_HTTP$1"; }
# li_v NAME SQL: the value of a reply, or the whole reply if it is not ok.
li_v() {
  local r
  r=$(gt_sess_q "$1" "$2" 15) || r="no reply"
  if [[ "$r" == ok* ]]; then gt_field 4 "$r"; else echo "$r"; fi
}
declare -A LI_CONN=()
li_open() {
  local r
  GT_SESS_DRIVER="php $GT_LIB/sess.php" gt_sess_open "$1" "$LI_PORT"
  r=$(gt_sess_recv "$1" 15) || r="no greeting"
  gt_match '^connected ' "$r" "$1 connects"
  LI_CONN[$1]=$(($(gt_field 2 "$r") & 0x3FFFFFFF))
}
# li_moves FROM COUNT SECONDS: wait until COUNT session_move lines follow line FROM.
li_moves() {
  local i
  for i in $(seq 1 $(($3 * 10))); do
    [ "$(tail -n +$(($1 + 1)) "$LI_LOG" | grep -c 'event=session_move ')" -ge "$2" ] && return 0
    sleep 0.1
    : "$i"
  done
  return 1
}

gt_sql "$LI_PORT" "DROP TABLE IF EXISTS test.t_lid" || gt_notok "drop table t_lid"
gt_sql "$LI_PORT" "CREATE TABLE test.t_lid (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(20))" ||
  gt_notok "create table t_lid"

w=$(gt_sql "$LI_PORT" "SELECT @@wsrep_node_name")
gt_match '^node[0-9]$' "$w" "the writer is $w"
li_open L
li_open Z
n=$(li_v L "!insert_id INSERT INTO test.t_lid (v) VALUES ('gen')")
gt_match '^[1-9][0-9]*$' "$n" "L: an INSERT generates id $n"
gt_eq "$n" "$(li_v L "SELECT LAST_INSERT_ID()")" "L: LAST_INSERT_ID() = $n"
gt_eq 1000 "$(li_v L "!insert_id INSERT INTO test.t_lid (id, v) VALUES (1000, 'explicit')")" \
  "L: an INSERT of id 1000: its OK says 1000"
gt_eq "$n" "$(li_v L "SELECT LAST_INSERT_ID()")" "L: LAST_INSERT_ID() is still $n (the server's rule)"
gt_eq 1001 "$(li_v Z "!insert_id INSERT INTO test.t_lid (id, v) VALUES (1001, 'explicit')")" \
  "Z: an INSERT of id 1001: its OK says 1001"
gt_eq 0 "$(li_v Z "SELECT LAST_INSERT_ID()")" "Z: LAST_INSERT_ID() is 0"
# C sets a collation the tracker never names: a planned move reads it off the old session.
li_open C
gt_eq "ok -" "$(gt_sess_q C "SET NAMES utf8mb4 COLLATE utf8mb4_unicode_ci" 15 | cut -d' ' -f1,4)" \
  "C: SET NAMES utf8mb4 COLLATE utf8mb4_unicode_ci"
gt_eq utf8mb4_unicode_ci "$(li_v C "SELECT @@collation_connection")" "C: its collation"
gt_match '^[1-9]' "$(curl -s --max-time 5 "http://$LI_HTTP/metrics" |
  awk '$1 == "galera_proxy_sessions_not_movable{reason=\"collation\"}" {print $2}')" \
  "/metrics: sessions_not_movable{reason=\"collation\"} counts C (not movable after a loss)"

from=$(wc -l <"$LI_LOG")
wdb=db$(gt_node_num "$w")
gt_eq 200 "$(li_post "/backends/$wdb/maintenance?on=1")" "POST /backends/$wdb/maintenance?on=1"
if li_moves "$from" 3 15; then
  gt_ok "maintenance: three session_move lines"
else
  gt_notok "maintenance: three session_move lines"
fi
for s in L Z C; do
  gt_match "from=$wdb to=db[0-9] reason=planned" \
    "$(tail -n +$((from + 1)) "$LI_LOG" | grep -m1 "event=session_move conn=${LI_CONN[$s]} ")" \
    "$s moved, planned"
done
new=$(li_v L "SELECT @@wsrep_node_name")
gt_match '^node[0-9]$' "$new" "L runs on $new"
gt_ne "$w" "$new" "... not on the old writer $w"
gt_eq "$n" "$(li_v L "SELECT LAST_INSERT_ID()")" "L on $new: LAST_INSERT_ID() = $n (not the OK's 1000)"
gt_eq "$new" "$(li_v Z "SELECT @@wsrep_node_name")" "Z runs on $new"
gt_eq 0 "$(li_v Z "SELECT LAST_INSERT_ID()")" "Z on $new: LAST_INSERT_ID() = 0 (not the OK's 1001)"
gt_eq "$new|utf8mb4_unicode_ci|utf8mb4" \
  "$(li_v C "SELECT CONCAT_WS('|', @@wsrep_node_name, @@collation_connection, @@character_set_client)")" \
  "C on $new: the same collation and character set"
gt_eq "" "$(tail -n +$((from + 1)) "$LI_LOG" | grep -E 'event=(session_move_lastid_fallback|session_move_failed|session_close)')" \
  "no fallback to the tracked id, no failed move, no session closed"
# The moved sessions go on as before: a new generated id is theirs.
m=$(li_v L "!insert_id INSERT INTO test.t_lid (v) VALUES ('after')")
gt_match '^[1-9][0-9]*$' "$m" "L: an INSERT on $new generates id $m"
gt_eq "$m" "$(li_v L "SELECT LAST_INSERT_ID()")" "L: LAST_INSERT_ID() = $m there"
gt_eq 200 "$(li_post "/backends/$wdb/maintenance?on=0")" "maintenance off again"

gt_sess_close_all
gt_sql "$LI_PORT" "DROP TABLE IF EXISTS test.t_lid" || gt_notok "drop table t_lid"
gt_proxy_stop lastid
gt_eq 0 "$(grep -cE 'ERROR: [A-Za-z]+Sanitizer|runtime error:' "$LI_LOG")" \
  "the proxy's log has no sanitizer report"
gt_finish
