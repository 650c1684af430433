#!/usr/bin/env bash
# t_02_kill_writer.sh - kill -9 the writer: failover, eviction (on and off), old sessions, rejoin.
set -uo pipefail
# shellcheck source=test/integration-galera/lib/gt.sh
. "$(dirname "$0")/lib/gt.sh"
gt_scenario_init

gt_sql "$GT_PORT" "CREATE TABLE IF NOT EXISTS t_kill (id BIGINT PRIMARY KEY, t BIGINT)" ||
  gt_notok "create table t_kill"

# kill_round TAG BASE EVICTION: one kill -9 of the current writer under a writing client.
kill_round() {
  local tag=$1 base=$2 eviction=$3 w wn s r from t_kill t_drop first_ok last_ok wout new
  w=$(gt_writer)
  wn=$(gt_node_num "$w")
  [ -n "$wn" ] || {
    gt_notok "$tag: no writer before the kill"
    return
  }
  s=1
  [ "$s" = "$wn" ] && s=2
  gt_info "$tag: writer $w, watching node$s's cluster size"

  # Old sessions on the writer: one idle, one with a query in flight.
  gt_sess_open idle "$GT_PORT"
  gt_sess_recv idle 10 >/dev/null
  gt_eq "$w" "$(gt_field 4 "$(gt_sess_q idle "SELECT @@wsrep_node_name")")" "$tag: idle session on $w"
  gt_sess_open busy "$GT_PORT"
  gt_sess_recv busy 10 >/dev/null
  gt_sess_send busy "SELECT SLEEP(20)"

  wout=$GT_TMP/writer-$tag.out
  php "$GT_LIB/writer.php" 127.0.0.1 "$GT_PORT" t_kill "$base" 10 >"$wout" 2>&1 &
  local wpid=$!
  gt_track "$wpid"
  php "$GT_LIB/sizewatch.php" $((3310 + s)) 30 >"$GT_TMP/size-$tag.out" 2>&1 &
  local spid=$!
  gt_track "$spid"
  sleep 1.5
  grep -q '^ok ' "$wout" || gt_notok "$tag: the writer client wrote nothing before the kill"

  from=$(gt_log_lines)
  local pid
  pid=$(galera_pid "$wn" "$GALERA_DIR")
  t_kill=$(gt_now_ms)
  kill -9 "$pid"
  while kill -0 "$pid" 2>/dev/null; do sleep 0.01; done

  # The in-flight query: an error quickly, not a 20 s hang.
  r=$(gt_sess_recv busy 5) || r="no reply within 5 s"
  gt_match '^err ' "$r" "$tag: the query in flight on the dead writer gets an error"
  [[ "$r" == err* ]] && gt_le $(($(gt_field 3 "$r") - t_kill)) 3000 "$tag: ... within 3 s (ms)"
  # The idle session moves to the new writer (routing.move_sessions): its next statement
  # runs there. Without eviction the new writer may come later than routing.connect_wait_ms
  # (3 s): the session is closed then (2006/2013), as it was before moves.
  r=$(gt_sess_q idle "SELECT @@wsrep_node_name" 8) || r="no reply within 8 s"
  if [ "$eviction" = true ] || [[ "$r" == ok* ]]; then
    gt_match '^ok [0-9]+ [0-9]+ node[0-9]$' "$r" "$tag: the idle session moved and runs on"
    gt_ne "$w" "$(gt_field 4 "$r")" "$tag: ... on another node"
    gt_match "reason=loss" "$(gt_log_since "$from" 'event=session_move ')" \
      "$tag: the proxy logged the move (reason=loss)"
  else
    gt_match '^err [0-9]+ [0-9]+ 20(06|13) ' "$r" "$tag: the idle session was closed (2006/2013)"
  fi
  gt_sess_close busy
  gt_sess_close idle

  # Wait for the first acknowledged write after the kill (at most 30 s).
  first_ok=""
  for _ in $(seq 1 300); do
    first_ok=$(awk -v k="$t_kill" '$1 == "ok" && $3 > k {print $4; exit}' "$wout")
    [ -n "$first_ok" ] && break
    sleep 0.1
  done
  wait "$spid" 2>/dev/null
  t_drop=$(awk '$1 == "drop" {print $2}' "$GT_TMP/size-$tag.out")
  sleep 0.5
  gt_stop_pid "$wpid"
  wait "$wpid" 2>/dev/null
  last_ok=$(awk -v k="$t_kill" '$1 == "ok" && $4 <= k {t = $4} END {print t}' "$wout")

  if [ -z "$first_ok" ]; then
    gt_notok "$tag: writes through the proxy succeed again after the kill"
  else
    gt_info "$tag: last write before the kill $((t_kill - last_ok)) ms before it," \
      "first after it $((first_ok - t_kill)) ms after; Galera dropped the node after" \
      "$([ -n "$t_drop" ] && echo $((t_drop - t_kill)) || echo '?') ms;" \
      "errors: $(grep -c '^c\{0,1\}err' "$wout")"
    if [ "$eviction" = true ]; then
      gt_le $((first_ok - t_kill)) 3000 "$tag: writes succeed again within 3 s of the kill (ms)"
    elif [ -n "$t_drop" ]; then
      gt_le $((first_ok - t_kill)) $((t_drop - t_kill + 3000)) \
        "$tag: writes succeed again within Galera's own eviction time + 3 s (ms)"
    else
      gt_notok "$tag: node$s never saw the cluster shrink"
    fi
  fi
  new=$(awk -v k="$t_kill" '$1 == "conn" && $2 > k {print $3; exit}' "$wout")
  gt_ne "$w" "${new:-none}" "$tag: new sessions went to another node ($new)"
  gt_match "to=db[0-9] reason=down" "$(gt_log_since "$from" "event=writer_change from=db$wn")" \
    "$tag: the proxy logged the writer change away from db$wn"
  if [ "$eviction" = true ]; then
    gt_match "event=evict_done node=db$wn" "$(gt_log_since "$from" 'event=evict_done')" \
      "$tag: the proxy evicted db$wn"
  else
    gt_eq "" "$(gt_log_since "$from" 'event=evict ')" "$tag: no eviction with eviction.enabled=false"
  fi

  # Every acknowledged write is in the cluster.
  local acked missing
  acked=$(awk '$1 == "ok" {print $2}' "$wout" | sort -u)
  gt_nsql "$s" "SET SESSION wsrep_sync_wait=1; SELECT id FROM test.t_kill WHERE id > $base AND
    id < $((base + 10000000))" | sort -u >"$GT_TMP/have-$tag"
  missing=$(comm -23 <(echo "$acked") "$GT_TMP/have-$tag" | grep -c .)
  gt_eq 0 "$missing" "$tag: acknowledged writes missing from the cluster ($(echo "$acked" | grep -c .) acked)"

  # The killed node rejoins by IST.
  if galera_restart "$wn" "$GALERA_DIR" >>"$GT_TMP/galera.log" 2>&1 && gt_wait_healthy 60; then
    gt_ok "$tag: node$wn restarted (IST) and the cluster is 3 x Synced"
  else
    gt_notok "$tag: node$wn restarted (IST) and the cluster is 3 x Synced"
  fi
}

kill_round evict 1000000000 true

# The same without the proxy's eviction: Galera's own suspect timeout decides.
gt_proxy_restart eviction=false || gt_notok "proxy restart with eviction.enabled=false"
kill_round noevict 2000000000 false

gt_proxy_restart || gt_notok "proxy restart with the default configuration"
gt_finish
