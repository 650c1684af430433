#!/usr/bin/env bash
# t_14_move.sh - idle sessions move to the new writer (issue 17): same state, other node.
#
# A proxy of its own (16240/16241, HTTP 16242). Persistent sessions with a schema, SET NAMES,
# sql_mode, time_zone, an isolation level, a last insert id and a server-side prepared
# statement go through a maintenance switch, a desync and a kill -9 of their writer while
# idle: each is moved, not closed, and afterwards runs on the new writer with every value the
# same (its statement runs again: the proxy re-sends the parameter types). Clients: mysqli,
# PDO with native prepares, the mariadb CLI and Node mysql2. A session inside a transaction
# at a kill gets an error; ed25519 sessions, sessions with a user variable and sessions of a
# dropped user are not moved; no secret reaches the log, /status or /metrics.
set -uo pipefail
# shellcheck source=test/integration-galera/lib/gt.sh
. "$(dirname "$0")/lib/gt.sh"
# shellcheck source=test/lib/lost.sh
. "$GT_ROOT/test/lib/lost.sh"
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
mv_since() { tail -n +$(($1 + 1)) "$MV_LOG" | grep -- "$2"; }
mv_writer() { gt_sql "$MV_PORT" "SELECT @@wsrep_node_name"; }
mv_q() { gt_sess_q "$1" "$2" 15; }
# mv_v NAME SQL: the value of a reply, or the whole reply if it is not ok.
mv_v() {
  local r
  r=$(mv_q "$1" "$2") || r="no reply"
  if [[ "$r" == ok* ]]; then gt_field 4 "$r"; else echo "$r"; fi
}
declare -A MV_CONN=()
# mv_open NAME DRIVER [USER PASS]: a session through the move proxy with one of the client
# drivers; MV_CONN[NAME]: its conn= in the proxy's log (mysqli reports the proxy's id).
mv_open() {
  local r
  GT_SESS_DRIVER=$2 gt_sess_open "$1" "$MV_PORT" "${3:-app}" "${4:-app}"
  r=$(gt_sess_recv "$1" 15) || r="no greeting"
  gt_match '^connected ' "$r" "$1 connects"
  MV_CONN[$1]=$(($(gt_field 2 "$r") & 0x3FFFFFFF))
}
# mv_state NAME: the session values a move must keep, as one line.
mv_state() {
  local q="SELECT CONCAT_WS('|', DATABASE(), @@character_set_client, @@character_set_results,"
  q+=" @@collation_connection, @@sql_mode, @@time_zone, @@tx_isolation, LAST_INSERT_ID())"
  mv_v "$1" "$q"
}
declare -A MV_STATE=() MV_PREP=()
# mv_setup NAME PREPARED: give the session state worth keeping (and a statement, if 1).
mv_setup() {
  local q id
  for q in "SET NAMES latin1" "SET SESSION sql_mode = 'ANSI_QUOTES,NO_ENGINE_SUBSTITUTION'" \
    "SET time_zone = '+03:00'" "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED" \
    "INSERT INTO test.t_move (v) VALUES ('$1')"; do
    gt_eq "ok -" "$(mv_q "$1" "$q" | cut -d' ' -f1,4)" "$1: $q"
  done
  id=$(mv_v "$1" "SELECT LAST_INSERT_ID()")
  gt_match '^[1-9][0-9]*$' "$id" "$1 has a last insert id"
  MV_STATE[$1]=$(mv_state "$1")
  gt_match "^test\\|latin1\\|latin1\\|latin1_swedish_ci\\|ANSI_QUOTES,NO_ENGINE_SUBSTITUTION\\|\\+03:00\\|READ-COMMITTED\\|$id\$" \
    "${MV_STATE[$1]}" "$1's state before any move"
  MV_PREP[$1]=$2
  if [ "$2" = 1 ]; then
    gt_eq "ok -" "$(mv_q "$1" "!prepare s1 SELECT CONCAT(?, '-', DATABASE())" | cut -d' ' -f1,4)" \
      "$1 prepares s1 (one parameter)"
    gt_eq "a-test" "$(mv_v "$1" "!execute s1 a")" "$1 executes s1"
  fi
}
# mv_check NAME NODE TAG: after a move the session runs on NODE with the same state.
mv_check() {
  gt_eq "$2" "$(mv_v "$1" "SELECT @@wsrep_node_name")" "$3: $1 runs on $2"
  gt_eq "${MV_STATE[$1]}" "$(mv_state "$1")" "$3: $1 kept schema, charset, sql_mode, time zone, isolation, insert id"
  if [ "${MV_PREP[$1]}" = 1 ]; then
    gt_eq "b-test" "$(mv_v "$1" "!execute s1 b")" "$3: $1's s1 runs there (types re-sent)"
    gt_eq "c-test" "$(mv_v "$1" "!execute s1 c")" "$3: ... and again"
  fi
}
# mv_check_movers NODE WHY: mv_check for each client that moves (P, C, and N when node runs).
mv_check_movers() {
  local n
  for n in P C N; do
    [ "$n" = N ] && [ -z "$node_drv" ] && continue
    mv_check "$n" "$1" "$2"
  done
}
# mv_new_writer FROM SECONDS: the proxy's writer once it is not FROM (node name).
mv_new_writer() {
  local i w
  for i in $(seq 1 $(($2 * 10))); do
    w=$(mv_writer 2>/dev/null) && [ -n "$w" ] && [ "$w" != "$1" ] && {
      echo "$w"
      return 0
    }
    sleep 0.1
    : "$i"
  done
  return 1
}

gt_sql "$MV_PORT" "CREATE TABLE IF NOT EXISTS test.t_move (id INT AUTO_INCREMENT PRIMARY KEY,
  v VARCHAR(20))" || gt_notok "create table t_move"
php_drv="php $GT_LIB/sess.php"

# ---- mysqli: maintenance, desync, kill -9 of its writer ------------------------------------

w=$(mv_writer)
wdb=db$(gt_node_num "$w")
mv_open M "$php_drv"
gt_eq "$w" "$(mv_v M "SELECT @@wsrep_node_name")" "M is on the writer $w"
mv_setup M 1
thread_before=$(mv_v M "SELECT CONNECTION_ID()")
# O idles along with M; at the end a KILL of the server thread it had first must reach it.
mv_open O "$php_drv"
p_thread=$(mv_v O "SELECT CONNECTION_ID()")
gt_match '^[0-9]+$' "$p_thread" "O's first server thread is $p_thread"
# T holds a transaction: not idle, so it is drained; idle after its COMMIT, it moves.
mv_open T "$php_drv"
gt_eq "ok -" "$(mv_q T "BEGIN" | cut -d' ' -f1,4)" "T: BEGIN"
gt_eq "ok -" "$(mv_q T "INSERT INTO test.t_move (v) VALUES ('t')" | cut -d' ' -f1,4)" "T: INSERT"

from=$(mv_lines)
gt_eq 200 "$(mv_post "/backends/$wdb/maintenance?on=1")" "POST /backends/$wdb/maintenance?on=1"
line=$(mv_wait "$from" "event=session_move conn=${MV_CONN[M]} " 10) || line=""
gt_match "from=$wdb to=db[0-9] reason=planned" "$line" "maintenance: M's session_move line, planned"
gt_match "stmts=1 " "$line" "... with the statement prepared again"
new=$(sed -n 's/.* to=\(db[0-9]\) .*/\1/p' <<<"$line")
# T commits on the old writer; the barrier then ends and M's next command runs there.
gt_eq "ok -" "$(mv_q T "COMMIT" | cut -d' ' -f1,4)" "T: COMMIT on the old writer succeeds"
mv_check M "node${new#db}" maintenance
gt_ne "$thread_before" "$(mv_v M "SELECT CONNECTION_ID()")" "CONNECTION_ID() is the new server's"
gt_eq "ok -" "$(mv_q M "!prepare s3 SELECT UPPER(?)" | cut -d' ' -f1,4)" "M prepares s3 after the move"
gt_eq "XY" "$(mv_v M "!execute s3 xy")" "s3 executes"
gt_eq "d-test" "$(mv_v M "!execute s1 d")" "s1 still executes (no id clash with s3)"
gt_eq "1" "$(mv_v M "SELECT COUNT(*) FROM test.t_move WHERE v = 't'")" "M sees T's committed row"
gt_eq "node${new#db}" "$(mv_v T "SELECT @@wsrep_node_name")" "T, idle after its COMMIT, moved too"
gt_eq "" "$(mv_since "$from" "event=session_close")" "no session was closed"
gt_sess_close T
gt_eq 200 "$(mv_post "/backends/$wdb/maintenance?on=0")" "maintenance off again"

# Desync of M's writer: planned, like maintenance.
w=node${new#db}
wn=$(gt_node_num "$w")
from=$(mv_lines)
gt_nsql "$wn" "SET GLOBAL wsrep_desync=ON" || gt_notok "desync ON on node$wn"
line=$(mv_wait "$from" "event=session_move " 10) || line=""
gt_match "from=db$wn to=db[0-9] reason=planned why=writer_changed" "$line" "desync: M moved, planned"
new=$(sed -n 's/.* to=\(db[0-9]\) .*/\1/p' <<<"$line")
mv_check M "node${new#db}" desync
gt_nsql "$wn" "SET GLOBAL wsrep_desync=OFF" || gt_notok "desync OFF on node$wn"
gt_wait_healthy 30 || gt_notok "node$wn Synced again"

# ---- PDO, the CLI and Node mysql2 through a maintenance switch ----------------------------

if lost_npm_install; then
  node_drv="env NODE_PATH=$LOST_NPM_DIR/node_modules node $GT_LIB/sess.js"
else
  gt_notok "Node mysql2 is installed (test/lib/lost.sh, npm)"
  node_drv=""
fi
# Not movable: a user variable (the server cannot be given it), an ed25519 login. Opened
# first: at the switch they are old enough for the drain to close them at once.
mv_open U "$php_drv"
gt_eq "ok -" "$(mv_q U "SET @u = 1" | cut -d' ' -f1,4)" "U sets a user variable"
# ...a temporary table, a named lock, a FOUND_ROWS() still to come.
mv_open TT "$php_drv"
gt_eq "ok -" "$(mv_q TT "CREATE TEMPORARY TABLE test.t_tmp (a INT)" | cut -d' ' -f1,4)" \
  "TT creates a temporary table"
mv_open GL "$php_drv"
gt_eq "ok 1" "$(mv_q GL "SELECT GET_LOCK('t14', 1)" | cut -d' ' -f1,4)" "GL takes GET_LOCK"
mv_open FR "$php_drv"
gt_match '^ok ' "$(mv_q FR "SELECT SQL_CALC_FOUND_ROWS id FROM test.t_move LIMIT 1")" \
  "FR: SELECT SQL_CALC_FOUND_ROWS (its FOUND_ROWS() still to come)"
mv_open E "$GT_LIB/sess_cli.sh" edapp edapp # mysqlnd has no ed25519; libmariadb has
MV_CONN[E]=$(grep "event=session_open .*user=edapp " "$MV_LOG" | tail -n 1 |
  sed -n 's/.*event=session_open conn=\([0-9]*\) .*/\1/p')
gt_match '^[0-9]+$' "${MV_CONN[E]}" "E's session is in the log (conn=${MV_CONN[E]})"
mv_open P "php $GT_LIB/sess_pdo.php"
mv_setup P 1
mv_open C "$GT_LIB/sess_cli.sh"
mv_setup C 0
if [ -n "$node_drv" ]; then
  mv_open N "$node_drv"
  mv_setup N 1
fi
w=$(mv_writer)
wdb=db$(gt_node_num "$w")
from=$(mv_lines)
gt_eq 200 "$(mv_post "/backends/$wdb/maintenance?on=1")" "POST /backends/$wdb/maintenance?on=1"
new=$(mv_new_writer "$w" 10) || new=""
gt_match '^node[0-9]$' "$new" "maintenance: the writer moved from $w ($new)"
sleep 1
mv_check_movers "$new" "maintenance"
gt_match '^err [0-9]+ [0-9]+ (2006|2013) ' "$(mv_q U "SELECT @u")" \
  "U (user variable) was not moved: closed by the drain"
gt_match '^err [0-9]+ [0-9]+ (2006|2013) ' "$(mv_q E "SELECT 1")" \
  "E (ed25519) was not moved: closed by the drain"
for n in TT GL FR; do
  gt_match '^err [0-9]+ [0-9]+ (2006|2013) ' "$(mv_q "$n" "SELECT 1")" \
    "$n was not moved: closed by the drain"
  gt_eq "" "$(mv_since "$from" "event=session_move conn=${MV_CONN[$n]} ")" "no move logged for $n"
  gt_sess_close "$n"
done
gt_eq "" "$(mv_since "$from" "event=session_move conn=${MV_CONN[U]} ")" "no move logged for U"
gt_eq "" "$(mv_since "$from" "event=session_move conn=${MV_CONN[E]} ")" "no move logged for E"
gt_sess_close U
gt_sess_close E
gt_eq 200 "$(mv_post "/backends/$wdb/maintenance?on=0")" "maintenance off again"

# ...and through a desync of their writer (planned, as for M above).
w=$new
wn=$(gt_node_num "$w")
gt_nsql "$wn" "SET GLOBAL wsrep_desync=ON" || gt_notok "desync ON on node$wn"
new=$(mv_new_writer "$w" 10) || new=""
gt_match '^node[0-9]$' "$new" "desync: the writer moved from $w ($new)"
sleep 1
mv_check_movers "$new" "desync"
gt_nsql "$wn" "SET GLOBAL wsrep_desync=OFF" || gt_notok "desync OFF on node$wn"
gt_wait_healthy 30 || gt_notok "node$wn Synced again"

# ---- a read-only session whose node goes into maintenance moves to another reader ---------

GT_SESS_DRIVER=$php_drv gt_sess_open R "$MV_RO_PORT"
gt_match '^connected ' "$(gt_sess_recv R 15)" "R connects to listen_ro"
gt_eq "ok -" "$(mv_q R "SET time_zone = '-04:00'" | cut -d' ' -f1,4)" "R: SET time_zone"
gt_eq "ok -" "$(mv_q R "!prepare s1 SELECT CONCAT(?, '-', DATABASE())" | cut -d' ' -f1,4)" "R prepares s1"
gt_eq "a-test" "$(mv_v R "!execute s1 a")" "R executes s1"
r_node=$(mv_v R "SELECT @@wsrep_node_name")
gt_match '^node[0-9]$' "$r_node" "R reads from $r_node"
gt_eq "ON|-04:00" "$(mv_v R "SELECT CONCAT_WS('|', @@tx_read_only, @@time_zone)")" "R is read-only, at -04:00"
from=$(mv_lines)
gt_eq 200 "$(mv_post "/backends/db${r_node#node}/maintenance?on=1")" "POST maintenance on R's node"
line=$(mv_wait "$from" "event=session_move " 10) || line=""
gt_match "from=db${r_node#node} to=db[0-9] reason=planned" "$line" "R moved to another reader"
gt_eq "node$(sed -n 's/.* to=db\([0-9]\) .*/\1/p' <<<"$line")" "$(mv_v R "SELECT @@wsrep_node_name")" \
  "R reads from the new node"
gt_eq "ON|-04:00" "$(mv_v R "SELECT CONCAT_WS('|', @@tx_read_only, @@time_zone)")" \
  "R is still read-only, at -04:00"
gt_eq "b-test" "$(mv_v R "!execute s1 b")" "R's s1 runs there"
gt_sess_close R
gt_eq 200 "$(mv_post "/backends/db${r_node#node}/maintenance?on=0")" "maintenance off again"
sleep 1

# ---- kill -9 of the writer: idle sessions move, one in a transaction gets an error --------

# D: a user dropped after its login is not logged in again (the server refuses it).
gt_nsql 1 "CREATE USER IF NOT EXISTS 'mv_drop'@'%' IDENTIFIED BY 'mvpass';
  GRANT ALL ON test.* TO 'mv_drop'@'%'" || gt_notok "create user mv_drop"
mv_open D "$php_drv" mv_drop mvpass
gt_eq "ok 1" "$(mv_q D "SELECT 1" | cut -d' ' -f1,4)" "D (mv_drop) works"
# LK: a user locked after its login is not logged in again either.
gt_nsql 1 "CREATE USER IF NOT EXISTS 'mv_lock'@'%' IDENTIFIED BY 'mvpass';
  GRANT ALL ON test.* TO 'mv_lock'@'%'" || gt_notok "create user mv_lock"
mv_open LK "$php_drv" mv_lock mvpass
gt_eq "ok 1" "$(mv_q LK "SELECT 1" | cut -d' ' -f1,4)" "LK (mv_lock) works"
mv_open X "$php_drv"
gt_eq "ok -" "$(mv_q X "BEGIN" | cut -d' ' -f1,4)" "X: BEGIN"
gt_eq "ok -" "$(mv_q X "INSERT INTO test.t_move (v) VALUES ('x')" | cut -d' ' -f1,4)" "X: INSERT"
gt_nsql 1 "DROP USER 'mv_drop'@'%'" || gt_notok "drop user mv_drop"
gt_nsql 1 "ALTER USER 'mv_lock'@'%' ACCOUNT LOCK" || gt_notok "lock user mv_lock"
w=$(mv_writer)
wn=$(gt_node_num "$w")
gt_eq "$w" "$(mv_v M "SELECT @@wsrep_node_name")" "M is on the writer $w before the kill"
from=$(mv_lines)
pid=$(galera_pid "$wn" "$GALERA_DIR")
kill -9 "$pid"
while kill -0 "$pid" 2>/dev/null; do sleep 0.01; done
new=$(mv_new_writer "$w" 15) || new=""
gt_match '^node[0-9]$' "$new" "kill: a new writer ($new)"
sleep 1
mv_check M "$new" "kill -9"
mv_check_movers "$new" "kill -9"
gt_match '^err [0-9]+ [0-9]+ (2006|2013) ' "$(mv_q X "COMMIT")" \
  "X, inside a transaction at the kill, gets an error"
r=$(mv_q D "SELECT CURRENT_USER()") || r="no reply"
gt_match '^err ' "$r" "D (user dropped) is not logged in again"
gt_eq "" "$(mv_since "$from" "event=session_move conn=${MV_CONN[D]} ")" "no move logged for D"
gt_match "event=(session_move_failed|session_close) conn=${MV_CONN[D]} " \
  "$(mv_since "$from" "conn=${MV_CONN[D]} " | grep -E "session_move_failed|session_close")" \
  "D's session was closed (its move failed, or its secret was dropped first)"
r=$(mv_q LK "SELECT CURRENT_USER()") || r="no reply"
gt_match '^err ' "$r" "LK (user locked) is not logged in again"
gt_eq "" "$(mv_since "$from" "event=session_move conn=${MV_CONN[LK]} ")" "no move logged for LK"
gt_match "reason=loss" "$(mv_since "$from" "event=session_move " | head -n 1)" "the kill's moves say reason=loss"
gt_match '^[1-9]' "$(mv_metric 'galera_proxy_sessions_moved_total{reason="loss"}')" \
  "sessions_moved_total{reason=\"loss\"} counts them"
# KILL by the id M saw at connect still reaches M, three servers later.
mv_open K "$php_drv"
gt_eq "ok -" "$(mv_q K "KILL $((0x40000000 | MV_CONN[M]))" | cut -d' ' -f1,4)" \
  "K: KILL of M's proxy id (M moved three times)"
gt_match '^err [0-9]+ [0-9]+ (1927|2006|2013) ' "$(mv_q M "SELECT 1")" "M's connection ends"
# KILL of the server thread O had before its moves (what CONNECTION_ID() told it) reaches O.
gt_match '^node[0-9]$' "$(mv_v O "SELECT @@wsrep_node_name")" "O still answers after the moves"
gt_eq "ok -" "$(mv_q K "KILL $p_thread" | cut -d' ' -f1,4)" "K: KILL of O's first server thread"
gt_match '^err [0-9]+ [0-9]+ (1927|2006|2013) ' "$(mv_q O "SELECT 1")" "O's connection ends"
gt_eq "" "$(mv_since "$from" "event=session_move conn=${MV_CONN[M]} " | sed -n 2p)" \
  "M was not moved away from the KILL"
if galera_restart "$wn" "$GALERA_DIR" >>"$GT_TMP/galera.log" 2>&1 && gt_wait_healthy 60; then
  gt_ok "node$wn restarted (IST) and the cluster is 3 x Synced"
else
  gt_notok "node$wn restarted (IST) and the cluster is 3 x Synced"
fi

# ---- no secret anywhere ------------------------------------------------------------------

# The passwords are "app" and "mvpass": neither their SHA1 nor its SHA1 may show up.
for pw in app mvpass; do
  sha1=$(printf '%s' "$pw" | sha1sum | cut -d' ' -f1)
  dsha1=$(printf '%s' "$pw" | sha1sum | cut -d' ' -f1 | xxd -r -p | sha1sum | cut -d' ' -f1)
  for what in "$sha1" "$dsha1"; do
    gt_eq 0 "$(grep -ci "$what" "$MV_LOG")" "the log holds no ${what:0:6}... (of $pw)"
    gt_eq 0 "$(curl -s --max-time 5 "http://$MV_HTTP/metrics" "http://$MV_HTTP/status" |
      grep -ci "$what")" "/metrics and /status hold no ${what:0:6}..."
  done
done
gt_eq 0 "$(grep -c "mvpass" "$MV_LOG")" "the log holds no password"

gt_sess_close_all
gt_nsql 1 "DROP USER IF EXISTS 'mv_lock'@'%'" || gt_notok "drop user mv_lock"
gt_nsql 1 "DROP TABLE IF EXISTS test.t_move"
gt_proxy_stop move
gt_eq 0 "$(grep -cE 'ERROR: [A-Za-z]+Sanitizer|runtime error:' "$MV_LOG")" \
  "the proxy's log has no sanitizer report"
gt_finish
