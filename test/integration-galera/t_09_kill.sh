#!/usr/bin/env bash
# t_09_kill.sh - KILL QUERY through the proxy stops the right query on the right node.
set -uo pipefail
# shellcheck source=test/integration-galera/lib/gt.sh
. "$(dirname "$0")/lib/gt.sh"
gt_scenario_init

# kill_case TAG A_PORT B_PORT: A runs SELECT SLEEP(30) on A_PORT; B (on B_PORT) runs
# KILL QUERY <A's thread id as A's client sees it>; A must get ERROR 1317 quickly.
kill_case() {
  local tag=$1 ap=$2 bp=$3 r ida anode bnode t0 t1 victim
  gt_sess_open A "$ap"
  r=$(gt_sess_recv A 10) || r=""
  ida=$(gt_field 2 "$r")
  anode=$(gt_field 4 "$(gt_sess_q A "SELECT @@wsrep_node_name")")
  gt_sess_open B "$bp"
  gt_sess_recv B 10 >/dev/null
  bnode=$(gt_field 4 "$(gt_sess_q B "SELECT @@wsrep_node_name")")
  gt_le 1073741824 "${ida:-0}" "$tag: A's thread id ($ida) is a proxy id (>= 2^30)"
  # Which server thread runs A's query (to check that the right one was killed).
  victim=$(gt_field 4 "$(gt_sess_q A "SELECT CONNECTION_ID()")")
  gt_sess_send A "SELECT SLEEP(30)"
  sleep 0.3
  t0=$(gt_now_ms)
  r=$(gt_sess_q B "KILL QUERY $ida")
  gt_match '^ok ' "$r" "$tag: B ($bnode) runs KILL QUERY $ida (A on $anode): OK"
  r=$(gt_sess_recv A 5) || r="no reply within 5 s"
  t1=$(gt_now_ms)
  gt_match '^err [0-9]+ [0-9]+ 1317 ' "$r" "$tag: A's SLEEP(30) ends with ERROR 1317"
  gt_le $((t1 - t0)) 3000 "$tag: ... quickly (ms)"
  # A's session survives a KILL QUERY, still on the same server thread.
  gt_eq "$victim" "$(gt_field 4 "$(gt_sess_q A "SELECT CONNECTION_ID()")")" \
    "$tag: A's session lives on (same server thread)"
  gt_sess_close A
  gt_sess_close B
}

kill_case "rw->rw" "$GT_PORT" "$GT_PORT"
kill_case "ro->ro" "$GT_RO_PORT" "$GT_RO_PORT"
kill_case "rw kills ro" "$GT_RO_PORT" "$GT_PORT"
kill_case "ro kills rw" "$GT_PORT" "$GT_RO_PORT"

# The server's own ids keep their meaning: KILL QUERY <CONNECTION_ID()> from a session on the
# same node (both on the writer through listen).
gt_sess_open A "$GT_PORT"
gt_sess_recv A 10 >/dev/null
gt_sess_open B "$GT_PORT"
gt_sess_recv B 10 >/dev/null
sid=$(gt_field 4 "$(gt_sess_q A "SELECT CONNECTION_ID()")")
gt_le "${sid:-2000000000}" 1073741823 "A's CONNECTION_ID() ($sid) is the server's id"
gt_sess_send A "SELECT SLEEP(30)"
sleep 0.3
gt_match '^ok ' "$(gt_sess_q B "KILL QUERY $sid")" "B runs KILL QUERY $sid (server id, same node)"
r=$(gt_sess_recv A 5) || r="no reply within 5 s"
gt_match '^err [0-9]+ [0-9]+ 1317 ' "$r" "A's SLEEP(30) ends with ERROR 1317"
# A session killing its own server connection.
r=$(gt_sess_q A "KILL CONNECTION $sid")
# MariaDB closes the connection without an answer (a direct client sees 2006): the proxy's
# client gets 2013 "lost connection"; either way the session ends, with an error.
gt_match '^err [0-9]+ [0-9]+ (1927|2006|2013) ' "$r" "A's KILL CONNECTION CONNECTION_ID() ends A"
r=$(gt_sess_q A "SELECT 1" 5) || r="no reply"
gt_match '^err ' "$r" "A's session is gone afterwards"
gt_match '^ok ' "$(gt_sess_q B "SELECT 1")" "B is unaffected"
gt_sess_close_all
gt_finish
