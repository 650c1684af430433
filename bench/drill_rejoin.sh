#!/usr/bin/env bash
# drill_rejoin.sh - kill -9 the writer and restart it after a delay: the write gaps over kill and rejoin.
#
#   bench/drill_rejoin.sh [--build DIR] [--delays "0.5 1 3 5 30"] [--rounds N]
#                         [--eviction true|false] [--out FILE] [--keep]
#
#   --delays LIST  restart delays in seconds, one table row each (default "0.5 1 3 5 30")
#   --rounds N     kill/restart cycles per delay (default 10; the writer moves, so the killed
#                  node alternates)
#   --eviction B   eviction.enabled of the proxy (default true)
#   --out FILE     the report (default bench/DRILL-REJOIN.md)
#   --keep         keep the scratch directory (proxy log, every node's error.log)
#
# Starts its own 3-node cluster (test/lib/galera.sh ports) and galera-proxy on
# 127.0.0.1:16233 (monitor.interval_ms 250), so it cannot run beside the Galera suites: run
# it under the shared lock. Per cycle: a PHP client writes a unique id every 10 ms through
# the proxy (one session, a new one after any error); the writer's mariadbd is killed -9 and
# started again DELAY s later as a supervisor would: recover the position (--wsrep-recover,
# what MariaDB's systemd unit runs first), then start, rejoining by IST (a start without the
# position after a kill -9 asks for a full SST, whose rsync donor blocks writes with FLUSH
# TABLES WITH READ LOCK). The client writes on until 2 s after the node is Synced. Measured (epoch ms of the client's acknowledgements):
#   kill gap     the longest gap between two acknowledged writes that ends before the restart
#   rejoin gap   the longest one that ends after the restart (the new incarnation's join)
#   synced       restart -> the node is Synced
#   missing      acknowledged ids not in the cluster afterwards (must be 0)
# Target (issue 15): the longest gap <= 1000 ms in every row, 0 missing. Between cycles the
# drill waits until every evict list is empty (the proxy clears them) and says if not.
# Each cycle's Galera log lines (every node, from the kill to the end) go to the scratch
# directory (cycle-D-I.galera.log). Exits non-zero if a write was lost or a node did not rejoin.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
ROUNDS=10
DELAYS="0.5 1 3 5 30"
EVICTION=true
OUT=$HERE/DRILL-REJOIN.md
# shellcheck source=test/lib/runner.sh
source "$ROOT/test/lib/runner.sh"
RUNNER_VALUES=(--rounds ROUNDS --out OUT --delays DELAYS --eviction EVICTION)
runner_args "$@"
GT_BIN=$BUILD/proxy/galera-proxy
[ -x "$GT_BIN" ] || {
  echo "drill_rejoin.sh: no $GT_BIN (meson setup $BUILD && ninja -C $BUILD)" >&2
  exit 2
}

say() { printf '# %s\n' "$*"; }

GC_PREFIX=gp-rejoin GC_PROXIES="main" GC_PORTS='1623[34]'
# shellcheck source=bench/galera-cluster.sh
. "$HERE/galera-cluster.sh"
gt_proxy_restart eviction="$EVICTION" || exit 1
gt_sql "$GT_PORT" "CREATE TABLE drill (id BIGINT PRIMARY KEY, t BIGINT)" || exit 1

RESULTS=$GT_WORK/results.txt # delay round node kill_gap rejoin_gap synced_ms errors acked missing lists
: >"$RESULTS"

# lists_empty: every node's wsrep_evs_evict_list is empty.
lists_empty() {
  local n
  for n in 1 2 3; do
    [ -z "$(gt_status "$n" wsrep_evs_evict_list)" ] || return 1
  done
}

# node_logs N FROM_S: node N's error.log lines from epoch second FROM_S on (MariaDB's
# "YYYY-MM-DD HH:MM:SS" prefix, local time).
node_logs() {
  local from
  from=$(date -d "@$2" '+%Y-%m-%d %k:%M:%S')
  awk -v f="$from" 'substr($0, 1, 19) >= f' "$GALERA_DIR/node$1/error.log" 2>/dev/null
}

# cycle DELAY I: one kill and restart; appends a line to $RESULTS.
cycle() {
  local delay=$1 i=$2 w wn s base wout wpid pid t_kill t_start t_synced kill_gap rejoin_gap
  local errs acked missing lists=clean n
  w=$(gt_writer)
  wn=$(gt_node_num "$w")
  if [ -z "$wn" ]; then
    say "delay $delay cycle $i: no writer"
    FAILED=1
    return 1
  fi
  s=$((wn % 3 + 1))
  base=$(((${delay%.*} + 1) * 100000000 + i * 1000000))
  wout=$GT_TMP/writer-$delay-$i.out
  php "$LIB/writer.php" 127.0.0.1 "$GT_PORT" drill "$base" 10 >"$wout" 2>&1 &
  wpid=$!
  gt_track "$wpid"
  sleep 1
  pid=$(galera_pid "$wn" "$GALERA_DIR")
  t_kill=$(gt_now_ms)
  kill -9 "$pid"
  while kill -0 "$pid" 2>/dev/null; do sleep 0.01; done
  sleep "$delay"
  t_start=$(gt_now_ms)
  galera_restart "$wn" "$GALERA_DIR" >>"$GT_WORK/galera.log" 2>&1 && gt_wait_healthy 60
  t_synced=$(gt_now_ms)
  sleep 2
  gt_stop_pid "$wpid"
  wait "$wpid" 2>/dev/null
  for n in 1 2 3; do
    node_logs "$n" $((t_kill / 1000 - 1)) | sed "s/^/node$n: /"
  done >"$GT_WORK/cycle-$delay-$i.galera.log"

  # Gaps between consecutive acknowledgements: by where they end (before/after the restart).
  read -r kill_gap rejoin_gap <<<"$(awk -v r="$t_start" -v k="$t_kill" '$1 == "ok" {
      if (p && $4 > k) { g = $4 - p; if ($4 < r) { if (g > kg) kg = g } else if (g > rg) rg = g }
      p = $4 } END { print kg + 0, rg + 0 }' "$wout")"
  errs=$(grep -c '^c\{0,1\}err ' "$wout")
  acked=$(awk '$1 == "ok" {print $2}' "$wout" | sort -u)
  gt_nsql "$s" "SET SESSION wsrep_sync_wait=1; SELECT id FROM test.drill WHERE id > $base AND
    id < $((base + 1000000))" | sort -u >"$GT_TMP/have-$delay-$i"
  missing=$(comm -23 <(echo "$acked") "$GT_TMP/have-$delay-$i" | grep -c .)
  # The next cycle starts from empty evict lists (the proxy's job); wait up to 15 s.
  for _ in $(seq 1 75); do
    lists_empty && break
    sleep 0.2
  done
  lists_empty || lists=left
  echo "$delay $i node$wn $kill_gap $rejoin_gap $((t_synced - t_start)) $errs" \
    "$(echo "$acked" | grep -c .) $missing $lists" >>"$RESULTS"
  say "delay $delay s cycle $i: killed node$wn; longest gap at the kill ${kill_gap} ms, at the" \
    "rejoin ${rejoin_gap} ms; Synced $((t_synced - t_start)) ms after the restart; errors" \
    "$errs, missing $missing, evict lists $lists"
  [ "$missing" = 0 ] || FAILED=1
  gt_cluster_healthy || {
    say "the cluster is not 3 x Synced after cycle $i"
    FAILED=1
    return 1
  }
}

T0=$(date +%s)
for delay in $DELAYS; do
  for i in $(seq 1 "$ROUNDS"); do
    cycle "$delay" "$i" || break 2
  done
done
ELAPSED=$(($(date +%s) - T0))

# agg DELAY COLUMN: "median max" of a column over the delay's cycles.
agg() {
  awk -v d="$1" -v c="$2" '$1 == d && $c ~ /^-?[0-9]+$/ {print $c}' "$RESULTS" | sort -n |
    awk '{v[NR] = $1} END {
      if (NR == 0) { print "- -"; exit }
      med = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
      printf "%d %d\n", med, v[NR] }'
}
sum() { awk -v d="$1" -v c="$2" '$1 == d {s += $c} END {print s + 0}' "$RESULTS"; }
count() { awk -v d="$1" '$1 == d' "$RESULTS" | grep -c .; }
meets() {
  awk -v d="$1" '$1 == d && ($4 > 1000 || $5 > 1000 || $9 > 0) {bad = 1} END {print bad ? "no" : "yes"}' "$RESULTS"
}

{
  echo "# Writer kill and fast restart drill (bench/drill_rejoin.sh)"
  echo
  echo "Generated $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(nproc) cores (load average at the end:"
  echo "$(cut -d' ' -f1-3 /proc/loadavg)), MariaDB $(mariadbd --version | awk '{print $3}'),"
  echo "$("$GT_BIN" --version), eviction.enabled=$EVICTION. $ROUNDS cycles per delay, $ELAPSED s in all."
  echo
  echo "Each cycle: a PHP client writes a unique id every 10 ms through galera-proxy; the"
  echo "writer's mariadbd is killed -9 and started again after the delay (IST). Gaps are between"
  echo "two acknowledged writes: at the kill (ending before the restart) and at the rejoin"
  echo "(ending after it). Target: every gap <= 1000 ms, 0 missing."
  echo
  echo "| restart delay (s) | cycles | gap at the kill median / max (ms) | gap at the rejoin median / max (ms) | Synced after restart median / max (ms) | client errors | acked | missing | target met |"
  echo "|---|---|---|---|---|---|---|---|---|"
  for delay in $DELAYS; do
    read -r km kx <<<"$(agg "$delay" 4)"
    read -r rm rx <<<"$(agg "$delay" 5)"
    read -r sm sx <<<"$(agg "$delay" 6)"
    echo "| $delay | $(count "$delay") | $km / $kx | $rm / $rx | $sm / $sx | $(sum "$delay" 7) |" \
      "$(sum "$delay" 8) | $(sum "$delay" 9) | $(meets "$delay") |"
  done
  echo
  echo "## Cycles"
  echo
  echo "| delay (s) | cycle | killed | gap at the kill (ms) | gap at the rejoin (ms) | Synced after (ms) | errors | acked | missing | evict lists after |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  awk '{printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6,
    $7, $8, $9, $10}' "$RESULTS"
} >"$OUT"
cat "$OUT"
say "report written to $OUT"
[ "$FAILED" = 0 ]
