#!/usr/bin/env bash
# t_14_move.sh - idle sessions move to the new writer (issue 17): same state, other node.
#
# A proxy of its own (16240/16241, HTTP 16242). A persistent mysqli session with a schema
# and a server-side prepared statement goes through a maintenance switch of its writer while
# idle: it is moved, not closed, and afterwards runs on the new writer with the same schema
# and statement ids (executing it again needs the types the proxy re-sends). A session in a
# transaction at the switch finishes it on the old writer and moves once idle; no secret
# reaches the log, /status or /metrics.
set -uo pipefail
# shellcheck source=test/integration-galera/lib/gt.sh
. "$(dirname "$0")/lib/gt.sh"
gt_scenario_init

MV_PORT=16240 MV_RO_PORT=16241 MV_HTTP=127.0.0.1:16242
conf=$GT_WORK/proxy-move.conf
gt_proxy_conf "$conf" listen=127.0.0.1:$MV_PORT listen_ro=127.0.0.1:$MV_RO_PORT \
  drain_timeout_ms=20000
echo "http_listen = \"$MV_HTTP\";" >>"$conf"
if ! gt_proxy_start move "$conf" "$MV_PORT"; then
  gt_notok "the move proxy starts"
  gt_finish
fi
MV_LOG=$(gt_proxy_log move)

mv_post() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 -X POST "http://$MV_HTTP$1"; }
mv_metric() { curl -s --max-time 5 "http://$MV_HTTP/metrics" | awk -v k="$1" '$1 == k {print $2}'; }
mv_lines() { wc -l <"$MV_LOG"; }
# mv_wait FROM PATTERN SECONDS: the first log line after line FROM that matches.
mv_wait() {
  local i line
  for i in $(seq 1 $(($3 * 10))); do
    line=$(tail -n +$(($1 + 1)) "$MV_LOG" | grep -m1 -- "$2") && {
      echo "$line"
      return 0
    }
    sleep 0.1
    : "$i"
  done
  return 1
}
mv_writer() { gt_sql "$MV_PORT" "SELECT @@wsrep_node_name"; }
mv_q() { gt_sess_q "$1" "$2" 10; }
# mv_v NAME SQL: the value of a reply, or the whole reply if it is not ok.
mv_v() {
  local r
  r=$(mv_q "$1" "$2") || r="no reply"
  if [[ "$r" == ok* ]]; then gt_field 4 "$r"; else echo "$r"; fi
}

gt_sql "$MV_PORT" "CREATE TABLE IF NOT EXISTS test.t_move (id INT AUTO_INCREMENT PRIMARY KEY,
  v VARCHAR(20))" || gt_notok "create table t_move"

# ---- a maintenance switch of the writer moves an idle session ----------------------------

w=$(mv_writer)
wdb=db$(gt_node_num "$w")
gt_sess_open M "$MV_PORT"
gt_match '^connected ' "$(gt_sess_recv M 10)" "M connects (mysqli, schema test)"
gt_eq "$w" "$(mv_v M "SELECT @@wsrep_node_name")" "M is on the writer $w"
gt_eq "ok -" "$(mv_q M "!prepare s1 SELECT CONCAT(?, '-', DATABASE())" | cut -d' ' -f1,4)" \
  "M prepares s1 (one parameter)"
gt_eq "a-test" "$(mv_v M "!execute s1 a")" "M executes s1 before the move"
gt_eq "ok -" "$(mv_q M "!prepare s2 SELECT LENGTH(?)" | cut -d' ' -f1,4)" "M prepares s2"
gt_eq "3" "$(mv_v M "!execute s2 abc")" "M executes s2 before the move"
thread_before=$(mv_v M "SELECT CONNECTION_ID()")
# Session state the server tracks: character set, sql_mode, time zone, isolation, insert id.
for q in "SET NAMES latin1" "SET SESSION sql_mode = 'ANSI_QUOTES,NO_ENGINE_SUBSTITUTION'" \
  "SET time_zone = '+03:00'" "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED" \
  "INSERT INTO test.t_move (v) VALUES ('m')"; do
  gt_eq "ok -" "$(mv_q M "$q" | cut -d' ' -f1,4)" "M: $q"
done
insert_id=$(mv_v M "SELECT LAST_INSERT_ID()")
gt_match '^[1-9][0-9]*$' "$insert_id" "M has a last insert id"
# mv_state NAME: the session values a move must keep, as one line.
mv_state() {
  local q="SELECT CONCAT_WS('|', DATABASE(), @@character_set_client, @@character_set_results,"
  q+=" @@collation_connection, @@sql_mode, @@time_zone, @@tx_isolation, LAST_INSERT_ID())"
  mv_v "$1" "$q"
}
state_before=$(mv_state M)
gt_match "^test\|latin1\|latin1\|latin1_swedish_ci\|ANSI_QUOTES,NO_ENGINE_SUBSTITUTION\|\+03:00\|READ-COMMITTED\|$insert_id\$" \
  "$state_before" "M's state before the move"

# T holds a transaction: not idle, so it is drained; idle after its COMMIT, it moves.
gt_sess_open T "$MV_PORT"
gt_sess_recv T 10 >/dev/null
gt_eq "ok -" "$(mv_q T "BEGIN" | cut -d' ' -f1,4)" "T: BEGIN"
gt_eq "ok -" "$(mv_q T "INSERT INTO test.t_move (v) VALUES ('t')" | cut -d' ' -f1,4)" "T: INSERT"

from=$(mv_lines)
gt_eq 200 "$(mv_post "/backends/$wdb/maintenance?on=1")" "POST /backends/$wdb/maintenance?on=1"
line=$(mv_wait "$from" "event=session_move " 10) || line=""
gt_match "from=$wdb to=db[0-9] reason=planned" "$line" "a session_move line: from $wdb, planned"
gt_match "stmts=2 " "$line" "... with both statements prepared again"
new=$(sed -n 's/.* to=\(db[0-9]\) .*/\1/p' <<<"$line")

# T commits on the old writer; the barrier then ends and M's next command runs there.
gt_eq "ok -" "$(mv_q T "COMMIT" | cut -d' ' -f1,4)" "T: COMMIT on the old writer succeeds"
gt_eq "node${new#db}" "$(mv_v M "SELECT @@wsrep_node_name")" "M now runs on the new writer $new"
gt_ne "$w" "node${new#db}" "... which is not the old one"
gt_eq "$state_before" "$(mv_state M)" \
  "M: schema, character set, sql_mode, time zone, isolation, last insert id the same"
gt_ne "$thread_before" "$(mv_v M "SELECT CONNECTION_ID()")" "CONNECTION_ID() is the new server's"
gt_eq "b-test" "$(mv_v M "!execute s1 b")" "s1 executes after the move (types re-sent)"
gt_eq "5" "$(mv_v M "!execute s2 abcde")" "s2 executes after the move"
gt_eq "c-test" "$(mv_v M "!execute s1 c")" "s1 executes again"
gt_eq "ok -" "$(mv_q M "!prepare s3 SELECT UPPER(?)" | cut -d' ' -f1,4)" "M prepares s3 after the move"
gt_eq "XY" "$(mv_v M "!execute s3 xy")" "s3 executes"
gt_eq "6" "$(mv_v M "!execute s2 abcdef")" "s2 still executes (no id clash with s3)"
gt_eq "1" "$(mv_v M "SELECT COUNT(*) FROM test.t_move WHERE v = 't'")" "M sees T's committed row"
gt_eq "node${new#db}" "$(mv_v T "SELECT @@wsrep_node_name")" "T, idle after its COMMIT, moved too"
gt_eq 0 "$(tail -n +$((from + 1)) "$MV_LOG" | grep -c "event=session_close")" "no session was closed"
gt_match '^[1-9]' "$(mv_metric 'galera_proxy_sessions_moved_total{reason="planned"}')" \
  "sessions_moved_total{reason=\"planned\"} counts it"
gt_eq 0 "$(mv_metric galera_proxy_session_moves_failed_total)" "no move failed"
gt_sess_close T
gt_eq 200 "$(mv_post "/backends/$wdb/maintenance?on=0")" "maintenance off again"

# ---- no secret anywhere ------------------------------------------------------------------

# The app account's password is "app": its SHA1 and double SHA1 must not show up.
sha1=$(printf 'app' | sha1sum | cut -d' ' -f1)
dsha1=$(printf 'app' | sha1sum | cut -d' ' -f1 | xxd -r -p | sha1sum | cut -d' ' -f1)
for what in "$sha1" "$dsha1"; do
  gt_eq 0 "$(grep -ci "$what" "$MV_LOG")" "the log holds no ${what:0:6}... (SHA1 of the password)"
  gt_eq 0 "$(curl -s --max-time 5 "http://$MV_HTTP/metrics" "http://$MV_HTTP/status" |
    grep -ci "$what")" "/metrics and /status hold no ${what:0:6}..."
done

gt_sess_close_all
gt_nsql 1 "DROP TABLE IF EXISTS test.t_move"
gt_proxy_stop move
gt_eq 0 "$(grep -cE 'ERROR: [A-Za-z]+Sanitizer|runtime error:' "$MV_LOG")" \
  "the proxy's log has no sanitizer report"
gt_wait_healthy 30 || gt_notok "the cluster is healthy again"
gt_finish
