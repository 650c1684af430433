#!/usr/bin/env bash
# t_05_quorum.sh - two of three nodes killed: a clear error at once, service back after recovery.
set -uo pipefail
# shellcheck source=test/integration-galera/lib/gt.sh
. "$(dirname "$0")/lib/gt.sh"
gt_scenario_init

# quorum_round TAG: kill -9 the writer and one more node with the running proxy.
quorum_round() {
  local tag=$1 proxy_pid w wn victims other s p1 p2 st from t0 t1 out new ok n
  proxy_pid=$(gt_proxy_pid main)
  w=$(gt_writer)
  wn=$(gt_node_num "$w")
  # Kill the writer and the next node; the remaining one (s) loses quorum.
  victims=()
  for n in 1 2 3; do [ "$n" != "$wn" ] && victims+=("$n"); done
  other=${victims[0]}
  s=${victims[1]}
  gt_info "$tag: writer $w; killing node$wn and node$other, node$s survives"

  from=$(gt_log_lines)
  p1=$(galera_pid "$wn" "$GALERA_DIR")
  p2=$(galera_pid "$other" "$GALERA_DIR")
  kill -9 "$p1" "$p2"
  while kill -0 "$p1" 2>/dev/null || kill -0 "$p2" 2>/dev/null; do sleep 0.01; done

  # Galera's own suspect timeout is 5 s; under load views took up to ~11 s here.
  st=""
  for _ in $(seq 1 200); do
    st=$(gt_status "$s" wsrep_cluster_status 2>/dev/null)
    [ -n "$st" ] && [ "$st" != Primary ] && break
    sleep 0.1
  done
  gt_eq non-Primary "$st" "$tag: node$s lost quorum (one of three nodes left)"
  gt_match 'to=none' "$(gt_log_wait "$from" 'event=writer_change .*to=none' 5)" \
    "$tag: the proxy has no writer"

  t0=$(gt_now_ms)
  out=$(gt_sql "$GT_PORT" "SELECT @@wsrep_node_name" 2>&1)
  t1=$(gt_now_ms)
  gt_info "$tag: client saw: $out"
  gt_match '^ERROR 1047 ' "$out" "$tag: a client of listen gets ERROR 1047"
  gt_match "db$wn down" "$out" "$tag: ... naming db$wn as down"
  gt_match "db$other down" "$out" "$tag: ... naming db$other as down"
  gt_match "db$s non-Primary" "$out" "$tag: ... naming db$s as non-Primary"
  gt_le $((t1 - t0)) 5000 "$tag: ... within connect_wait_ms (3000) + 2 s (ms)"
  out=$(gt_sql "$GT_RO_PORT" "SELECT @@wsrep_node_name" 2>&1)
  gt_match '^ERROR 1047 .*no readable Galera node' "$out" \
    "$tag: a client of listen_ro gets ERROR 1047 too"

  # Recovery: bootstrap the survivor, then bring the two others back.
  if [ "$(gt_status "$s" wsrep_cluster_status)" != Primary ]; then
    gt_nsql "$s" "SET GLOBAL wsrep_provider_options='pc.bootstrap=YES'" ||
      gt_notok "$tag: pc.bootstrap"
  fi
  new=""
  for _ in $(seq 1 50); do
    new=$(gt_writer)
    [ -n "$new" ] && break
    sleep 0.2
  done
  gt_eq "node$s" "$new" "$tag: after pc.bootstrap=YES the survivor node$s is the writer"
  gt_eq 1 "$(gt_sql "$GT_PORT" "CREATE TABLE IF NOT EXISTS t_quorum (id INT PRIMARY KEY);
    REPLACE INTO t_quorum VALUES (1); SELECT COUNT(*) FROM t_quorum" 2>&1)" \
    "$tag: writes through the proxy work again"
  ok=1
  for n in "$wn" "$other"; do
    galera_restart "$n" "$GALERA_DIR" >>"$GT_TMP/galera.log" 2>&1 || ok=0
  done
  gt_wait_healthy 60 || ok=0
  gt_eq 1 "$ok" "$tag: node$wn and node$other restarted (IST), 3 x Synced"
  gt_eq "$proxy_pid" "$(gt_proxy_pid main)" "$tag: the same proxy process served throughout"
  gt_match '^node[123]$' "$(gt_writer)" "$tag: new sessions get a writer"
  gt_match '^node[123]$' "$(gt_node "$GT_RO_PORT")" "$tag: new read-only sessions get a reader"
}

# With the default configuration (eviction on): evicting dead nodes must not hand the lone
# survivor a Primary component of its own.
quorum_round evict
# Galera's own detection alone.
gt_proxy_restart eviction=false || gt_notok "proxy restart with eviction.enabled=false"
quorum_round noevict
gt_proxy_restart || gt_notok "proxy restart (default configuration)"
gt_finish
