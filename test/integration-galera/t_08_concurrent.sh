#!/usr/bin/env bash
# t_08_concurrent.sh - 8 clients on the same rows during a planned switch: no certification conflict.
set -uo pipefail
# shellcheck source=test/integration-galera/lib/gt.sh
. "$(dirname "$0")/lib/gt.sh"
gt_scenario_init

CLIENTS=8 ROWS=4 SECS=8
gt_sql "$GT_PORT" "DROP TABLE IF EXISTS t_hammer; CREATE TABLE t_hammer (id INT PRIMARY KEY,
  v BIGINT NOT NULL); INSERT INTO t_hammer VALUES (1, 0), (2, 0), (3, 0), (4, 0)" ||
  gt_notok "create table t_hammer"
sleep 0.5 # let the table reach every node before counting

# counters: "cert bf deadlocks" summed per node, one line per node
counters() {
  local n
  for n in 1 2 3; do
    gt_nsql "$n" "SELECT GROUP_CONCAT(VARIABLE_VALUE ORDER BY VARIABLE_NAME SEPARATOR ' ')
      FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME IN
      ('INNODB_DEADLOCKS', 'WSREP_LOCAL_BF_ABORTS', 'WSREP_LOCAL_CERT_FAILURES')"
  done
}
before=$(counters)

w=$(gt_writer)
wn=$(gt_node_num "$w")
pids=()
for i in $(seq 1 $CLIENTS); do
  php "$GT_LIB/hammer.php" 127.0.0.1 "$GT_PORT" "$SECS" "$i" "$ROWS" >"$GT_TMP/hammer-$i.json" 2>&1 &
  pids+=($!)
  gt_track $!
done
sleep 2.5
from=$(gt_log_lines)
gt_info "$CLIENTS clients running on $w; desync ON there"
gt_nsql "$wn" "SET GLOBAL wsrep_desync=ON" || gt_notok "desync ON on node$wn"
line=$(gt_log_wait "$from" "event=writer_change from=db$wn" 10) || line=""
gt_match 'reason=desynced' "$line" "the writer moves away from db$wn during the load"
for p in "${pids[@]}"; do
  timeout 60 tail --pid="$p" -f /dev/null
done
gt_nsql "$wn" "SET GLOBAL wsrep_desync=OFF" || gt_notok "desync OFF on node$wn"
sleep 1
after=$(counters)

# Per-node deltas of (Innodb_deadlocks, bf_aborts, cert_failures).
read -r -d '' -a b <<<"$before"
read -r -d '' -a a <<<"$after"
dl=0
for n in 0 1 2; do
  d_dl=$((a[n * 3] - b[n * 3]))
  d_bf=$((a[n * 3 + 1] - b[n * 3 + 1]))
  d_cert=$((a[n * 3 + 2] - b[n * 3 + 2]))
  dl=$((dl + d_dl))
  gt_eq 0 "$d_cert" "node$((n + 1)): wsrep_local_cert_failures did not rise"
  gt_eq 0 "$d_bf" "node$((n + 1)): wsrep_local_bf_aborts did not rise"
done

# The clients' view.
# shellcheck disable=SC2016 # PHP code, not shell
sum=$(php -r '
  $t = ["commits" => 0, "lost_commit" => 0, "reconnects" => 0, "errors" => [], "nodes" => []];
  foreach (array_slice($argv, 1) as $f) {
      $j = json_decode(trim((string)file_get_contents($f)), true);
      if (!is_array($j)) { echo "bad $f\n"; exit(1); }
      foreach (["commits", "lost_commit", "reconnects"] as $k) { $t[$k] += $j[$k]; }
      foreach (["errors", "nodes"] as $k) {
          foreach ($j[$k] as $x => $v) { $t[$k][$x] = ($t[$k][$x] ?? 0) + $v; }
      }
  }
  $mid = 0; $dead = 0;
  foreach ($t["errors"] as $k => $v) {
      [$phase, $code] = explode(":", $k);
      if ((int)$code >= 2000 && $phase !== "begin" && $phase !== "connect") { $mid += $v; }
      if ((int)$code === 1213) { $dead += $v; }
  }
  ksort($t["errors"]); ksort($t["nodes"]);
  $e = []; foreach ($t["errors"] as $k => $v) { $e[] = "$k=$v"; }
  $n = []; foreach ($t["nodes"] as $k => $v) { $n[] = "$k=$v"; }
  printf("%d %d %d %d %d %s %s\n", $t["commits"], $t["lost_commit"], $mid, $dead,
      count($t["nodes"]), implode(",", $e) ?: "-", implode(",", $n) ?: "-");
' "$GT_TMP"/hammer-*.json) || gt_notok "client results: $sum"
read -r commits lost mid dead nnodes errs nodes <<<"$sum"
gt_info "commits=$commits by node: $nodes; client errors (phase:code): $errs"
gt_info "deadlocks: clients saw $dead x ERROR 1213; InnoDB counted $dl local deadlocks;" \
  "certification conflicts: 0 expected"
gt_le 1 "$commits" "the clients committed transactions"
# A client names its node when it connects; one idle between transactions at the switch is
# moved to the new writer (routing.move_sessions) and goes on there without reconnecting.
moves=$(gt_log_since "$from" "event=session_move " | grep -c "from=db$wn ")
if [ "$nnodes" -ge 2 ] || [ "$moves" -ge 1 ]; then
  gt_ok "commits happened on the old and on the new writer (nodes at connect: $nodes; moved: $moves)"
else
  gt_notok "commits happened on the old and on the new writer: nodes $nodes, no session moved"
fi
gt_eq 0 "$mid" "no client lost its session in the middle of a transaction"
gt_eq "$dead" "$dl" "every ERROR 1213 the clients saw is a local InnoDB deadlock"
total=$(gt_nsql "$(gt_node_num "$(gt_writer)")" "SET SESSION wsrep_sync_wait=1;
  SELECT SUM(v) FROM test.t_hammer")
gt_le $((2 * commits)) "$total" "every acknowledged commit is in the table (sum of v)"
gt_le "$total" $((2 * (commits + lost))) "nothing beyond acknowledged and unknown-outcome commits"
gt_wait_healthy 30 || gt_notok "node$wn Synced again"
gt_finish
