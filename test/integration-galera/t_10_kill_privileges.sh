#!/usr/bin/env bash
# t_10_kill_privileges.sh - a KILL through the proxy succeeds exactly when one server holding both sessions would allow it.
set -uo pipefail
# shellcheck source=test/integration-galera/lib/gt.sh
. "$(dirname "$0")/lib/gt.sh"
gt_scenario_init

# MariaDB lets a session KILL another's thread when both logged in with the same user name,
# or when the killer holds SUPER or CONNECTION ADMIN (its own or an active role's); anyone else
# gets ERROR 1095 "You are not owner of thread N". Through the proxy the same must hold with
# the target on the issuer's node (the server decides) and on another node (the proxy does, and
# runs the KILL there with its eviction account): listen goes to the writer, listen_ro to
# another node. Users (replicated by Galera): gp_low and gp_low2 with SELECT, INSERT on test
# only, gp_cadm with CONNECTION ADMIN, gp_rusr with it through a default role, app with ALL.
BASE=1073741824 # proxy connection ids start at 2^30
LOG_FROM=$(gt_log_lines)
gt_nsql 1 "
  CREATE OR REPLACE USER 'gp_low'@'%' IDENTIFIED BY 'gp_low';
  GRANT SELECT, INSERT ON test.* TO 'gp_low'@'%';
  CREATE OR REPLACE USER 'gp_low2'@'%' IDENTIFIED BY 'gp_low2';
  GRANT SELECT, INSERT ON test.* TO 'gp_low2'@'%';
  CREATE OR REPLACE USER 'gp_cadm'@'%' IDENTIFIED BY 'gp_cadm';
  GRANT CONNECTION ADMIN ON *.* TO 'gp_cadm'@'%';
  GRANT SELECT ON test.* TO 'gp_cadm'@'%';
  CREATE OR REPLACE ROLE gp_killer;
  GRANT CONNECTION ADMIN ON *.* TO gp_killer;
  CREATE OR REPLACE USER 'gp_rusr'@'%' IDENTIFIED BY 'gp_rusr';
  GRANT SELECT ON test.* TO 'gp_rusr'@'%';
  GRANT gp_killer TO 'gp_rusr'@'%';
  SET DEFAULT ROLE gp_killer FOR 'gp_rusr'@'%';"
for n in 2 3; do
  for _ in $(seq 1 50); do
    users=$(gt_nsql "$n" "SELECT COUNT(*) FROM mysql.global_priv WHERE User LIKE 'gp\\_%'")
    [ "$users" = 5 ] && break # four users and the role
    sleep 0.1
  done
  gt_eq 5 "$users" "the users and the role reached node$n"
done
# shellcheck disable=SC2317 # reached through the trap
drop_users() {
  gt_nsql 1 "DROP USER IF EXISTS 'gp_low'@'%', 'gp_low2'@'%', 'gp_cadm'@'%', 'gp_rusr'@'%';
    DROP ROLE IF EXISTS gp_killer" 2>/dev/null
}
trap 'gt_sess_close_all; gt_stop_tracked; drop_users' EXIT

# sess NAME PORT USER: open a session as USER (password = user name); sets SESS_ID to its
# thread id (what the client sees) and NODE_<NAME> to its node.
sess() {
  local r
  gt_sess_open "$1" "$2" "$3" "$3"
  r=$(gt_sess_recv "$1" 10) || r=""
  [[ "$r" == connected* ]] || gt_notok "$3 could not connect through $2: [$r]"
  SESS_ID=$(gt_field 2 "$r")
  printf -v "NODE_$1" '%s' "$(gt_field 4 "$(gt_sess_q "$1" "SELECT @@wsrep_node_name")")"
}

# kill_case TAG KILLER KPORT TARGET TPORT VERB EXPECT [SETUP]: TARGET (on TPORT) runs
# SELECT SLEEP(2); KILLER (on KPORT, after SETUP) sends VERB naming the target's proxy id:
# "KILL QUERY", "KILL" or "!kill" (COM_PROCESS_KILL, which kills the connection).
# EXPECT refused: ERROR 1095 naming that id, and the target finishes its SLEEP on the same
# server thread. EXPECT allowed: OK, and the target's statement or connection ends at once.
kill_case() {
  local tag=$1 killer=$2 kport=$3 target=$4 tport=$5 verb=$6 expect=$7 setup=${8:-}
  local tid sid kid r t0 t1 from
  sess T "$tport" "$target"
  tid=$SESS_ID
  sid=$(gt_field 4 "$(gt_sess_q T "SELECT CONNECTION_ID()")")
  sess K "$kport" "$killer"
  kid=$SESS_ID
  if [[ "$tag" == *x-node* ]]; then
    gt_ne "$NODE_K" "$NODE_T" "$tag: $killer on $NODE_K, $target on another node"
  else
    gt_eq "$NODE_K" "$NODE_T" "$tag: $killer and $target on one node"
  fi
  [ -n "$setup" ] && gt_match '^ok ' "$(gt_sess_q K "$setup")" "$tag: $killer runs $setup"
  from=$(gt_log_lines)
  gt_sess_send T "SELECT SLEEP(2)"
  sleep 0.3
  t0=$(gt_now_ms)
  r=$(gt_sess_q K "$verb $tid")
  if [ "$expect" = refused ]; then
    gt_match "^err [0-9]+ [0-9]+ 1095 You are not owner of thread $tid\$" "$r" \
      "$tag: $killer's $verb of $target ($NODE_K -> $NODE_T) is refused with 1095"
    r=$(gt_sess_recv T 5) || r="no reply within 5 s"
    gt_match '^ok [0-9]+ [0-9]+ 0$' "$r" "$tag: ... and $target's SLEEP(2) runs to its end"
    gt_eq "$sid" "$(gt_field 4 "$(gt_sess_q T "SELECT CONNECTION_ID()")")" \
      "$tag: ... on the same server thread"
    if [ "$NODE_K" != "$NODE_T" ]; then
      gt_match "event=kill_refused conn=$((kid - BASE)) .*target=$tid .*reason=not_owner" \
        "$(gt_log_since "$from" 'event=kill_refused')" "$tag: ... logged as one line naming both"
    fi
  else
    gt_match '^ok ' "$r" "$tag: $killer's $verb of $target ($NODE_K -> $NODE_T) succeeds"
    r=$(gt_sess_recv T 5) || r="no reply within 5 s"
    t1=$(gt_now_ms)
    if [ "$verb" = "KILL QUERY" ]; then
      gt_match '^err [0-9]+ [0-9]+ 1317 ' "$r" "$tag: ... $target's SLEEP ends with 1317"
    else
      gt_match '^err [0-9]+ [0-9]+ (1927|2006|2013) ' "$r" "$tag: ... $target's connection ends"
    fi
    gt_le $((t1 - t0)) 1500 "$tag: ... at once (ms)"
  fi
  gt_sess_close T
  gt_sess_close K
}

P=$GT_PORT
R=$GT_RO_PORT
# Another node: the proxy decides.
kill_case "low->app x-node" gp_low "$P" app "$R" "KILL QUERY" refused
kill_case "low->app x-node" gp_low "$P" app "$R" "KILL" refused
kill_case "low->app x-node" gp_low "$P" app "$R" "!kill" refused
kill_case "low->low2 x-node" gp_low "$P" gp_low2 "$R" "KILL QUERY" refused
kill_case "low->low x-node" gp_low "$P" gp_low "$R" "KILL QUERY" allowed
kill_case "app->low x-node" app "$P" gp_low "$R" "KILL QUERY" allowed
kill_case "app->low x-node" app "$P" gp_low "$R" "!kill" allowed
kill_case "cadm->app x-node" gp_cadm "$P" app "$R" "KILL QUERY" allowed
kill_case "cadm->app x-node" gp_cadm "$P" app "$R" "KILL" allowed
kill_case "role->app x-node" gp_rusr "$P" app "$R" "KILL QUERY" allowed
kill_case "role off->app x-node" gp_rusr "$P" app "$R" "KILL QUERY" refused "SET ROLE NONE"
kill_case "role on->app x-node" gp_rusr "$P" app "$R" "KILL QUERY" allowed "SET ROLE gp_killer"
# The same node: the server decides; its refusal names the id the client gave.
kill_case "low->app same node" gp_low "$P" app "$P" "KILL QUERY" refused
kill_case "low->app same node" gp_low "$P" app "$P" "!kill" refused
kill_case "low->low same node" gp_low "$P" gp_low "$P" "KILL QUERY" allowed
kill_case "cadm->app same node" gp_cadm "$P" app "$P" "KILL QUERY" allowed

# COM_CHANGE_USER moves the login once the server accepts it: gp_low becomes gp_low2 and may
# no longer kill gp_low's session elsewhere; app becomes gp_low and may kill only gp_low's.
sess T "$R" gp_low
tid=$SESS_ID
sess K "$P" gp_low
gt_match '^ok ' "$(gt_sess_q K "!change_user gp_low2 gp_low2")" "gp_low changes user to gp_low2"
gt_sess_send T "SELECT SLEEP(2)"
sleep 0.3
gt_match "^err [0-9]+ [0-9]+ 1095 You are not owner of thread $tid\$" \
  "$(gt_sess_q K "KILL QUERY $tid")" "... then its KILL of gp_low's session on $NODE_T is refused"
gt_match '^ok [0-9]+ [0-9]+ 0$' "$(gt_sess_recv T 5)" "... which runs on"
gt_match '^err [0-9]+ [0-9]+ 1045 ' "$(gt_sess_q K "!change_user gp_low wrong")" \
  "a change of user with a wrong password is refused"
gt_match "^err [0-9]+ [0-9]+ 1095 " "$(gt_sess_q K "KILL QUERY $tid")" \
  "... and the session is still gp_low2 to the proxy"
gt_sess_close K
sess K "$P" app
gt_match '^ok ' "$(gt_sess_q K "!change_user gp_low gp_low")" "app changes user to gp_low"
gt_sess_send T "SELECT SLEEP(2)"
sleep 0.3
gt_match '^ok ' "$(gt_sess_q K "KILL QUERY $tid")" "... then it may kill gp_low's query on $NODE_T"
gt_match '^err [0-9]+ [0-9]+ 1317 ' "$(gt_sess_recv T 5)" "... which ends with 1317"
gt_sess_close_all

# Server thread ids keep the server's meaning: they name threads on the issuer's own node,
# and the server's own answer comes back.
sess T "$P" app
sid=$(gt_field 4 "$(gt_sess_q T "SELECT CONNECTION_ID()")")
sess K "$P" gp_low
gt_match "^err [0-9]+ [0-9]+ 1095 You are not owner of thread $sid\$" \
  "$(gt_sess_q K "KILL QUERY $sid")" "gp_low's KILL QUERY of app's server id $sid: the server's 1095"
gt_sess_close K
sess K "$P" gp_cadm
gt_sess_send T "SELECT SLEEP(2)"
sleep 0.3
gt_match '^ok ' "$(gt_sess_q K "KILL QUERY $sid")" "gp_cadm's KILL QUERY of server id $sid succeeds"
gt_match '^err [0-9]+ [0-9]+ 1317 ' "$(gt_sess_recv T 5)" "... and ends app's SLEEP"
gt_sess_close_all

# No secret in the log: the check reads SHOW GRANTS rows, password hashes included.
gt_eq 0 "$(gt_log_since "$LOG_FROM" 'IDENTIFIED|PASSWORD|GRANT ' | wc -l)" \
  "the proxy's log holds no grant line"

# At most 16 cross-node KILLs in flight: with the target's node stopped (SIGSTOP), 16 KILLs
# wait for it and the 17th is refused at once; after SIGCONT the 16 complete.
sess T "$R" app
tid=$SESS_ID
node=$NODE_T
pid=$(galera_pid "$(gt_node_num "$node")" "$GALERA_DIR")
for i in $(seq 1 17); do sess "K$i" "$P" app; done
gt_le 1 "${pid:-0}" "the target's node $node runs as pid $pid"
kill -STOP "$pid"
for i in $(seq 1 17); do gt_sess_send "K$i" "KILL QUERY $tid"; done
declare -a GOT=()
busy=0 early=0
t0=$(gt_now_ms)
while [ $(($(gt_now_ms) - t0)) -lt 600 ]; do
  for i in $(seq 1 17); do
    [ -n "${GOT[$i]:-}" ] && continue
    if r=$(gt_sess_recv "K$i" 0.02); then
      GOT[i]=$r
      early=$((early + 1))
      [[ "$r" =~ ^err\ [0-9]+\ [0-9]+\ 1105\ galera-proxy:\ too\ many\ KILLs ]] && busy=$((busy + 1))
    fi
  done
done
kill -CONT "$pid"
gt_eq 1 "$early" "while $node is stopped, one KILL of 17 is answered"
gt_eq 1 "$busy" "... refused as too many in flight"
ok=0
for i in $(seq 1 17); do
  [ -n "${GOT[$i]:-}" ] && continue
  r=$(gt_sess_recv "K$i" 10) || r=""
  [[ "$r" == ok* ]] && ok=$((ok + 1))
done
gt_eq 16 "$ok" "after SIGCONT the 16 in flight complete"
r=$(gt_sess_q K1 "KILL QUERY $tid")
gt_match '^ok ' "$r" "... and the slots are free again"
gt_sess_close_all
gt_wait_healthy 30 || gt_notok "the cluster is not healthy after the stop"
gt_finish
