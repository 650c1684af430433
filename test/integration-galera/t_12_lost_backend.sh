#!/usr/bin/env bash
# t_12_lost_backend.sh - kill -9 the writer under statements in flight: each client library reports a lost connection and reconnects at once.
#
# Clients of libmariadb, mysqlnd (mysqli, PDO), PyMySQL and Node mysql2 (test/lib/lost.sh)
# each hold a SELECT SLEEP in flight on the writer, and each runs an INSERT every 10 ms on one
# persistent connection (the drills' client), when the writer is killed. Every one must end
# its statement with the library's own lost-connection error (never "malformed packet",
# which libmariadb reported for the proxy's ERR with client code 2013), and its next
# connection must work on the new writer within 3 s of the kill (as t_02's writes do).
set -uo pipefail
# shellcheck source=test/integration-galera/lib/gt.sh
. "$(dirname "$0")/lib/gt.sh"
# shellcheck source=test/lib/lost.sh
. "$GT_ROOT/test/lib/lost.sh"
gt_scenario_init

LOST_OK=gt_ok
LOST_NOTOK=gt_notok
LOST_TRACK=gt_track
RECONNECT_BOUND_MS=3000
# How each library sees a lost backend: an idle persistent client would be moved to the new
# writer instead (routing.move_sessions, t_14_move), so moves are off here.
gt_proxy_restart move_sessions=false || gt_notok "proxy restart with routing.move_sessions=false"

if ! lost_setup "$GT_TMP/lost"; then
  gt_notok "the four client libraries are installed (test/lib/deps.sh)"
  gt_finish
  exit
fi

gt_sql "$GT_PORT" "CREATE TABLE IF NOT EXISTS t_lost (id BIGINT AUTO_INCREMENT PRIMARY KEY, v INT)" ||
  gt_notok "create table t_lost"

w=$(gt_writer)
wn=$(gt_node_num "$w")
if [ -z "$wn" ]; then
  gt_notok "a writer before the kill"
  gt_finish
  exit
fi
gt_info "writer $w"

names=()
for lib in "${LOST_LIBS[@]}"; do
  lost_start "sleep-$lib" "$lib" once "SELECT /*lost-g1*/ SLEEP(60)" "$GT_PORT"
  lost_start "loop-$lib" "$lib" loop "INSERT INTO t_lost (v) VALUES (1)" "$GT_PORT"
  names+=("sleep-$lib" "loop-$lib")
done

# running TAG: statements carrying TAG on the writer.
running() {
  gt_nsql "$wn" "SELECT COUNT(*) FROM information_schema.PROCESSLIST
    WHERE INFO LIKE '%$1%' AND ID <> CONNECTION_ID()" 2>/dev/null || echo 0
}
ready=0
for _ in $(seq 1 200); do
  if [ "$(running lost-g1)" -ge "${#LOST_LIBS[@]}" ]; then
    ready=1
    break
  fi
  sleep 0.05
done
[ "$ready" = 1 ] || gt_notok "${#LOST_LIBS[@]} SLEEPs in flight on $w (have $(running lost-g1))"
for lib in "${LOST_LIBS[@]}"; do
  lost_wait "loop-$lib" '^sent' 10 || gt_notok "the persistent $lib client connected"
done
sleep 0.5 # the persistent clients write

from=$(gt_log_lines)
pid=$(galera_pid "$wn" "$GALERA_DIR")
t_kill=$(gt_now_ms)
kill -9 "$pid"
while kill -0 "$pid" 2>/dev/null; do sleep 0.01; done

for name in "${names[@]}"; do
  lost_end "$name" 30
done
for lib in "${LOST_LIBS[@]}"; do
  lost_check_lost "sleep-$lib" "SELECT SLEEP on the killed writer"
  lost_check_reconnect "sleep-$lib" "$t_kill" "$RECONNECT_BOUND_MS" \
    "SELECT SLEEP on the killed writer" "the kill"
  lost_check_lost "loop-$lib" "an INSERT every 10 ms"
  lost_check_reconnect "loop-$lib" "$t_kill" "$RECONNECT_BOUND_MS" "an INSERT every 10 ms" \
    "the kill"
  count=$(lost_line "loop-$lib" count)
  if [[ "${count#count }" =~ ^[0-9]+$ ]] && [ "${count#count }" -gt 0 ]; then
    gt_ok "the persistent $lib client wrote before the kill ($count)"
  else
    gt_notok "the persistent $lib client wrote before the kill: [$count]"
  fi
done
new=$(gt_writer)
gt_ne "$w" "${new:-none}" "new sessions go to another node ($new)"
gt_match "event=backend_lost" "$(gt_log_since "$from" 'event=backend_lost')" \
  "the proxy logged the lost backend sessions"

if galera_restart "$wn" "$GALERA_DIR" >>"$GT_TMP/galera.log" 2>&1 && gt_wait_healthy 60; then
  gt_ok "node$wn restarted (IST) and the cluster is 3 x Synced"
else
  gt_notok "node$wn restarted (IST) and the cluster is 3 x Synced"
fi
gt_proxy_restart || gt_notok "proxy restart with the default configuration"
gt_finish
