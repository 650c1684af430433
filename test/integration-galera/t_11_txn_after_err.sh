#!/usr/bin/env bash
# t_11_txn_after_err.sh - after an ERR the proxy's view of a session's transaction is the server's.
#
# Each case runs on a session through a proxy of its own (HTTP for /status and the admin
# POSTs, drain_timeout_ms 20 s so that waiting for a transaction cannot pass for a prompt
# switch) and is checked against that proxy's /status (sessions in a transaction, sessions
# it is unsure about) and against SELECT @@in_transaction on the same session.
set -uo pipefail
# shellcheck source=test/integration-galera/lib/gt.sh
. "$(dirname "$0")/lib/gt.sh"
gt_scenario_init

TX_PORT=16235 TX_RO_PORT=16236 TX_HTTP=127.0.0.1:16237
trap 'gt_sess_close_all; gt_stop_tracked; gt_proxy_stop txn' EXIT
conf=$GT_WORK/proxy-txn.conf
gt_proxy_conf "$conf" listen=127.0.0.1:$TX_PORT listen_ro=127.0.0.1:$TX_RO_PORT move_sessions=false \
  drain_timeout_ms=20000 connect_wait_ms=3000
echo "http_listen = \"$TX_HTTP\";" >>"$conf"
if ! gt_proxy_start txn "$conf" "$TX_PORT"; then
  gt_notok "a proxy with HTTP on $TX_HTTP serves 127.0.0.1:$TX_PORT"
  gt_finish
  exit 1
fi
TX_LOG=$(gt_proxy_log txn)

# tx_status: "SESSIONS IN_TRANSACTION UNKNOWN" of the proxy's writer in its /status.
tx_status() {
  curl -s --max-time 5 "http://$TX_HTTP/status" | php -r '
    $d = json_decode(stream_get_contents(STDIN), true);
    foreach ($d["backends"] ?? [] as $b)
      if ($b["name"] === $d["writer"])
        echo $b["sessions"], " ", $b["sessions_in_transaction"], " ",
             $b["sessions_transaction_unknown"], "\n";'
}
# tx_writer: the proxy's writer (db1..db3).
tx_writer() {
  curl -s --max-time 5 "http://$TX_HTTP/status" |
    php -r 'echo json_decode(stream_get_contents(STDIN), true)["writer"] ?? "", "\n";'
}
# tx_post PATH: POST to the proxy's admin API; prints the HTTP status.
tx_post() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 -X POST "http://$TX_HTTP$1"; }
# tx_open NAME...: sessions through the proxy's read-write endpoint.
tx_open() {
  local n
  for n in "$@"; do
    gt_sess_open "$n" "$TX_PORT"
    gt_sess_recv "$n" 10 >/dev/null
  done
}
# tx_kind REPLY: a session's reply as "ok VALUE" or "err CODE" ("none": no reply).
tx_kind() {
  case "$1" in
  ok\ * | err\ *) echo "$(gt_field 1 "$1") $(gt_field 4 "$1")" ;;
  *) echo none ;;
  esac
}
# tx_q NAME SQL: run SQL on session NAME; its reply as tx_kind prints it.
tx_q() {
  local r
  r=$(gt_sess_q "$1" "$2") || r=""
  tx_kind "$r"
}
tx_in_trans() { tx_q "$1" "SELECT @@in_transaction"; }
# tx_diag NAME: the error code of the session's last ERR as the server still has it.
tx_diag() {
  tx_q "$1" "GET DIAGNOSTICS CONDITION 1 @txn_code = MYSQL_ERRNO" >/dev/null
  tx_q "$1" "SELECT @txn_code"
}
# tx_other N: a node number other than N.
tx_other() { echo $(($1 % 3 + 1)); }

gt_nsql 1 "CREATE TABLE IF NOT EXISTS test.txn_t (id INT PRIMARY KEY, v INT) ENGINE=InnoDB;
  DELETE FROM test.txn_t; INSERT INTO test.txn_t VALUES (1, 0), (2, 0), (3, 0);
  DROP PROCEDURE IF EXISTS test.txn_p;
  DELIMITER //
  CREATE PROCEDURE test.txn_p() BEGIN START TRANSACTION; INSERT INTO test.txn_t VALUES (1, 1); END //
  DELIMITER ;"
W=$(tx_writer)
WN=${W#db}
gt_match '^db[123]$' "$W" "the proxy has a writer"
DUP="INSERT INTO test.txn_t VALUES (1, 9)"

# ---- what the proxy believes right after the ERR ---------------------------------------

echo "  # COMMIT that loses to a conflicting write on another node (certification / BF abort)"
tx_open A
gt_eq "ok node$WN" "$(tx_q A "SELECT @@wsrep_node_name")" "A is on the writer"
tx_q A "BEGIN" >/dev/null
gt_eq "ok -" "$(tx_q A "UPDATE test.txn_t SET v = v + 1 WHERE id = 1")" "A updates row 1"
cert0=$(gt_status "$WN" wsrep_local_cert_failures)
bf0=$(gt_status "$WN" wsrep_local_bf_aborts)
gt_nsql "$(tx_other "$WN")" "SET SESSION wsrep_sync_wait = 3;
  UPDATE test.txn_t SET v = v + 100 WHERE id = 1"
gt_eq "err 1213" "$(tx_q A "COMMIT")" "A's COMMIT fails with 1213"
gt_info "on node$WN: certification failures +$(($(gt_status "$WN" wsrep_local_cert_failures) - cert0)), BF aborts +$(($(gt_status "$WN" wsrep_local_bf_aborts) - bf0))"
gt_eq "1 0 0" "$(tx_status)" "the proxy: A holds no transaction"
gt_eq "ok 0" "$(tx_in_trans A)" "the server: A holds no transaction"
gt_eq "100" "$(gt_nsql "$WN" "SET SESSION wsrep_sync_wait = 1; SELECT v FROM test.txn_t WHERE id = 1")" \
  "only the other node's update committed"
gt_sess_close A

echo "  # deadlock between two sessions"
tx_open A B
tx_q A "BEGIN" >/dev/null
tx_q B "BEGIN" >/dev/null
tx_q A "UPDATE test.txn_t SET v = v + 1 WHERE id = 1" >/dev/null
tx_q B "UPDATE test.txn_t SET v = v + 1 WHERE id = 2" >/dev/null
gt_sess_send A "UPDATE test.txn_t SET v = v + 1 WHERE id = 2"
sleep 0.3
rb=$(tx_q B "UPDATE test.txn_t SET v = v + 1 WHERE id = 1")
ra=$(tx_kind "$(gt_sess_recv A 15)")
if [ "$ra" = "err 1213" ]; then
  victim=A survivor=B other=$rb
else
  victim=B survivor=A other=$ra
fi
gt_eq "err 1213" "$(if [ $victim = A ]; then echo "$ra"; else echo "$rb"; fi)" \
  "one of them ($victim) is the deadlock's victim"
gt_eq "ok -" "$other" "the other ($survivor) goes on"
gt_eq "2 1 0" "$(tx_status)" "the proxy: $survivor in a transaction, $victim not"
gt_eq "ok 0" "$(tx_in_trans $victim)" "the server: $victim holds no transaction"
gt_eq "ok 1" "$(tx_in_trans $survivor)" "the server: $survivor holds one"
tx_q $survivor "ROLLBACK" >/dev/null
gt_sess_close A
gt_sess_close B

echo "  # lock wait timeout (innodb_rollback_on_timeout=$(gt_nsql "$WN" "SELECT @@innodb_rollback_on_timeout"))"
tx_open A B
tx_q A "BEGIN" >/dev/null
tx_q A "UPDATE test.txn_t SET v = v + 1 WHERE id = 1" >/dev/null
tx_q B "BEGIN" >/dev/null
tx_q B "SET SESSION innodb_lock_wait_timeout = 1" >/dev/null
gt_eq "err 1205" "$(tx_q B "UPDATE test.txn_t SET v = v + 1 WHERE id = 1")" "B times out (1205)"
gt_eq "2 1 1" "$(tx_status)" "the proxy: A in a transaction, B unknown (the ERR cannot tell)"
gt_eq "ok 1" "$(tx_in_trans B)" "the server: B still holds its transaction"
gt_eq "2 2 0" "$(tx_status)" "the proxy learns it from that statement's status"
tx_q A "ROLLBACK" >/dev/null
tx_q B "ROLLBACK" >/dev/null
gt_sess_close A
gt_sess_close B

echo "  # duplicate key inside BEGIN"
tx_open A
tx_q A "BEGIN" >/dev/null
gt_eq "err 1062" "$(tx_q A "$DUP")" "A's INSERT fails with 1062"
gt_eq "1 1 0" "$(tx_status)" "the proxy: A still in its transaction"
gt_eq "ok 1" "$(tx_in_trans A)" "the server: A still in its transaction"
tx_q A "ROLLBACK" >/dev/null
gt_sess_close A

echo "  # ERR in the middle of a multi-statement"
tx_open A
gt_eq "err 1062" "$(tx_q A "MULTI BEGIN; $DUP; SELECT 1")" "BEGIN; INSERT (duplicate); SELECT 1 ends with 1062"
gt_eq "1 1 0" "$(tx_status)" "the proxy: in the transaction the BEGIN opened"
gt_eq "ok 1" "$(tx_in_trans A)" "the server: in that transaction"
tx_q A "ROLLBACK" >/dev/null
gt_eq "err 1062" "$(tx_q A "MULTI SELECT 1; $DUP; SELECT 3")" "SELECT 1; INSERT (duplicate); SELECT 3 ends with 1062"
gt_eq "1 0 1" "$(tx_status)" "the proxy: unknown (the statement might have opened one)"
gt_eq "ok 0" "$(tx_in_trans A)" "the server: no transaction"
# An ERR ends the results: the proxy's own answer after it (a KILL of a session on another
# node) must not announce more results, or the client waits for them. MULTI for the KILL
# too: a plain mysqli query() first turns multi-statements off (COM_SET_OPTION), and that
# answer would carry the server's own, correct, flags.
for i in 1 2 3 4; do
  gt_sess_open "X$i" "$TX_RO_PORT"
  xid=$(gt_field 2 "$(gt_sess_recv "X$i" 10)")
  xnode=$(tx_q "X$i" "SELECT @@wsrep_node_name")
  [ "$xnode" != "ok node$WN" ] && break
done
gt_ne "ok node$WN" "$xnode" "X$i, a read-only session, is on another node (${xnode#ok })"
gt_eq "err 1062" "$(tx_q A "MULTI SELECT 1; $DUP; SELECT 3")" "the same multi-statement again"
gt_eq "ok -" "$(tx_q A "MULTI KILL QUERY $xid")" \
  "A's KILL QUERY of X$i, answered by the proxy itself, has no results left pending"
gt_eq "ok 1" "$(tx_q A "MULTI SELECT 1")" "A's next statement works"
gt_sess_close A

echo "  # ERR inside a CALL that opened a transaction"
tx_open A
gt_eq "err 1062" "$(tx_q A "CALL test.txn_p()")" "CALL (START TRANSACTION; INSERT duplicate) fails with 1062"
gt_eq "1 0 1" "$(tx_status)" "the proxy: unknown (it does not read the procedure)"
gt_eq "ok 1" "$(tx_in_trans A)" "the server: in the transaction the procedure opened"
tx_q A "ROLLBACK" >/dev/null
gt_sess_close A
gt_sess_close_all

# ---- a drain asks the server (COM_PING) and cuts only sessions without a transaction ---

echo "  # a drain with sessions the proxy is unsure about"
tx_open L D1 D2 D3 D4 D5 D6 D7
tx_q L "BEGIN" >/dev/null
tx_q L "UPDATE test.txn_t SET v = v + 1 WHERE id = 2" >/dev/null
tx_q D1 "BEGIN" >/dev/null
tx_q D1 "$DUP" >/dev/null
tx_q D2 "BEGIN" >/dev/null
tx_q D2 "SET SESSION innodb_lock_wait_timeout = 1" >/dev/null
gt_eq "err 1205" "$(tx_q D2 "UPDATE test.txn_t SET v = v + 1 WHERE id = 2")" "D2 times out"
gt_eq "err 1062" "$(tx_q D3 "CALL test.txn_p()")" "D3's CALL fails"
gt_eq "err 1062" "$(tx_q D4 "MULTI SELECT 1; $DUP; SELECT 3")" "D4's multi-statement fails"
gt_eq "err 1062" "$(tx_q D5 "MULTI BEGIN; $DUP; SELECT 1")" "D5's multi-statement fails"
gt_eq "err 1062" "$(tx_q D6 "$DUP")" "D6's INSERT fails"
# D7's transaction is aborted by the cluster while D7 is idle: only its next command (the
# proxy's ping) learns it, with ERR 1213, which the client would then never see.
tx_q D7 "BEGIN" >/dev/null
tx_q D7 "UPDATE test.txn_t SET v = v + 1 WHERE id = 3" >/dev/null
gt_eq "err 1062" "$(tx_q D7 "$DUP")" "D7's INSERT fails inside its transaction"
gt_nsql "$(tx_other "$WN")" "UPDATE test.txn_t SET v = v + 100 WHERE id = 3"
gt_eq "8 4 4" "$(tx_status)" "the proxy: L, D1, D5, D7 in a transaction; D2, D3, D4, D6 unknown"
sleep 1.2 # past the drain's young-session and quiet rules
from=$(gt_log_lines txn)
gt_eq 200 "$(tx_post "/backends/$W/drain")" "POST /backends/$W/drain"
sleep 0.5
gt_eq "5 5 0" "$(tx_status)" \
  "asked: D2, D3 hold a transaction; D4, D6 none and D7's was aborted: those were closed"
# Asked: every session whose state an ERR implied (D1, D5 too: a DDL statement may commit
# before it fails), not L, whose state the server's flags gave.
gt_eq 4 "$(gt_log_since "$from" 'event=txn_asked .*in_trans=open' txn | wc -l)" \
  "four asks answered open (D1, D2, D3, D5)"
gt_eq 2 "$(gt_log_since "$from" 'event=txn_asked .*in_trans=none' txn | wc -l)" \
  "two asks answered none (D4, D6)"
gt_match 'code=1213' "$(gt_log_since "$from" 'event=txn_check_failed' txn)" \
  "D7's ping was refused with 1213"
for n in D4 D6 D7; do
  gt_match '^err 20(06|13)' "$(tx_q $n "SELECT 1")" "$n was closed by the drain"
done
sleep 1.2 # past GP_DRAIN_PATIENCE_MS: any idle instant would do for a session without one
for n in D1:1062 D2:1205 D3:1062 D5:1062; do
  gt_eq "ok ${n#*:}" "$(tx_diag "${n%:*}")" "${n%:*} is not cut, and its ERR ${n#*:} is still there to read"
  gt_eq "ok 1" "$(tx_in_trans "${n%:*}")" "the server: ${n%:*} holds its transaction"
done
for n in L D1 D2 D3 D5; do
  gt_eq "ok -" "$(tx_q $n "ROLLBACK")" "$n ends its transaction"
  gt_match '^err 20(06|13)' "$(tx_q $n "SELECT 1")" "... and is closed by the drain then"
done
gt_eq "0 0 0" "$(tx_status)" "no session left on $W"
gt_sess_close_all

# ---- the user's view: a maintenance switch lets new clients in at once -----------------

# switch_case TAG FAILED_COMMIT: a session on the writer, idle (after a COMMIT that failed
# with 1213 if FAILED_COMMIT is 1); the writer goes into maintenance; a new client connects.
switch_case() {
  local tag=$1 failed=$2 w wn t0 t1 r
  w=$(tx_writer)
  wn=${w#db}
  tx_open A
  gt_eq "ok node$wn" "$(tx_q A "SELECT @@wsrep_node_name")" "$tag: A is on the writer $w"
  if [ "$failed" = 1 ]; then
    tx_q A "BEGIN" >/dev/null
    tx_q A "UPDATE test.txn_t SET v = v + 1 WHERE id = 3" >/dev/null
    gt_nsql "$(tx_other "$wn")" "SET SESSION wsrep_sync_wait = 3;
      UPDATE test.txn_t SET v = v + 100 WHERE id = 3"
    gt_eq "err 1213" "$(tx_q A "COMMIT")" "$tag: A's COMMIT fails with 1213"
  fi
  sleep 1.2 # A is neither young nor busy: a drain may close it at once
  t0=$(gt_now_ms)
  gt_eq 200 "$(tx_post "/backends/$w/maintenance?on=1")" "$tag: POST /backends/$w/maintenance?on=1"
  r=$(gt_sql "$TX_PORT" "SELECT @@wsrep_node_name" 2>&1)
  t1=$(gt_now_ms)
  gt_match '^node[123]$' "$r" "$tag: a new client is served"
  gt_ne "node$wn" "$r" "$tag: ... by the new writer"
  gt_le $((t1 - t0)) 1500 "$tag: ... within 1.5 s of the POST (connect_wait_ms 3000, drain_timeout_ms 20000; ms)"
  gt_match '^err 20(06|13)' "$(tx_q A "SELECT 1")" "$tag: A was drained"
  gt_sess_close A
  gt_eq 200 "$(tx_post "/backends/$w/maintenance?on=0")" "$tag: maintenance off again"
}
switch_case "idle session" 0
switch_case "after a failed COMMIT" 1

gt_nsql 1 "DROP PROCEDURE IF EXISTS test.txn_p; DROP TABLE IF EXISTS test.txn_t"
gt_proxy_stop txn
gt_eq 0 "$(grep -cE 'ERROR: [A-Za-z]+Sanitizer|runtime error:' "$TX_LOG")" \
  "the proxy's log has no sanitizer report"
gt_finish
