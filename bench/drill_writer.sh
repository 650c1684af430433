#!/usr/bin/env bash
# drill_writer.sh - kill -9 the writer N times under a writing client; failover numbers to a report.
#
#   bench/drill_writer.sh [--build DIR] [--rounds N] [--out FILE] [--keep]
#
#   --build DIR   meson build directory holding proxy/galera-proxy (default: build)
#   --rounds N    kills per mode (default 10); two modes: eviction.enabled=true, then false
#   --out FILE    the report (default bench/DRILL-WRITER.md)
#   --keep        keep the scratch directory (logs, datadirs)
#
# Starts its own 3-node cluster (test/lib/galera.sh: SQL 3311-3313, gcomm 4511-4513, ...) and
# galera-proxy on 127.0.0.1:16233/16234 (monitor.interval_ms 250, connect_wait_ms 3000), so it
# cannot run beside test/integration-galera/run.sh. Per round: a client writes a unique id
# every 10 ms through the proxy (a new session after any error); the writer node is killed -9;
# measured from the kill:
#   detection   the proxy's writer_change line (its log timestamp)
#   eviction    a survivor's wsrep_cluster_size drops (polled every 10 ms over one session)
#   downtime    last acknowledged write before the kill -> first acknowledged write after it
# plus the client's errors, and acknowledged ids missing from the cluster afterwards (must be 0).
# The killed node is restarted (IST) between rounds. Exits non-zero if a write was lost or a
# round did not recover. Stops everything it started, by pid.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
ROUNDS=10
OUT=$HERE/DRILL-WRITER.md
# shellcheck source=test/lib/runner.sh
source "$ROOT/test/lib/runner.sh"
RUNNER_VALUES=(--rounds ROUNDS --out OUT)
runner_args "$@"
GT_BIN=$BUILD/proxy/galera-proxy
[ -x "$GT_BIN" ] || {
  echo "drill_writer.sh: no $GT_BIN (meson setup $BUILD && ninja -C $BUILD)" >&2
  exit 2
}

say() { printf '# %s\n' "$*"; }

GC_PREFIX=gp-drill GC_PROXIES="main" GC_PORTS='1623[34]'
# shellcheck source=bench/galera-cluster.sh
. "$HERE/galera-cluster.sh"
gt_proxy_restart || exit 1
gt_sql "$GT_PORT" "CREATE TABLE drill (id BIGINT PRIMARY KEY, t BIGINT)" || exit 1

RESULTS=$GT_WORK/results.txt # mode round writer detect_ms evict_ms downtime_ms errors acked missing
: >"$RESULTS"

# round MODE I: one kill; appends a line to $RESULTS.
round() {
  local mode=$1 i=$2 w wn s base wout sout wpid spid from pid t_kill first_ok last_ok t_drop
  local line detect evict down errs acked missing
  w=$(gt_writer)
  wn=$(gt_node_num "$w")
  if [ -z "$wn" ]; then
    say "$mode round $i: no writer"
    FAILED=1
    return 1
  fi
  s=1
  [ "$s" = "$wn" ] && s=2
  base=$(((mode == 1 ? 1 : 2) * 1000000000 + i * 10000000))
  wout=$GT_TMP/writer-$mode-$i.out
  sout=$GT_TMP/size-$mode-$i.out
  php "$LIB/writer.php" 127.0.0.1 "$GT_PORT" drill "$base" 10 >"$wout" 2>&1 &
  wpid=$!
  gt_track "$wpid"
  php "$LIB/sizewatch.php" $((3310 + s)) 60 >"$sout" 2>&1 &
  spid=$!
  gt_track "$spid"
  sleep 1
  from=$(gt_log_lines)
  pid=$(galera_pid "$wn" "$GALERA_DIR")
  t_kill=$(gt_now_ms)
  kill -9 "$pid"
  while kill -0 "$pid" 2>/dev/null; do sleep 0.01; done

  first_ok=""
  for _ in $(seq 1 600); do
    first_ok=$(awk -v k="$t_kill" '$1 == "ok" && $3 > k {print $4; exit}' "$wout")
    [ -n "$first_ok" ] && break
    sleep 0.1
  done
  timeout 60 tail --pid="$spid" -f /dev/null
  sleep 0.3
  gt_stop_pid "$wpid"
  wait "$wpid" 2>/dev/null
  last_ok=$(awk -v k="$t_kill" '$1 == "ok" && $4 <= k {t = $4} END {print t}' "$wout")
  t_drop=$(awk '$1 == "drop" {print $2}' "$sout")
  line=$(gt_log_since "$from" "event=writer_change from=db$wn" | head -n 1)
  detect=-
  [ -n "$line" ] && detect=$(($(gt_ts_ms "$line") - t_kill))
  evict=-
  [ -n "$t_drop" ] && evict=$((t_drop - t_kill))
  down=-
  [ -n "$first_ok" ] && [ -n "$last_ok" ] && down=$((first_ok - last_ok))
  errs=$(grep -c '^c\{0,1\}err ' "$wout")
  acked=$(awk '$1 == "ok" {print $2}' "$wout" | sort -u)
  gt_nsql "$s" "SET SESSION wsrep_sync_wait=1; SELECT id FROM test.drill WHERE id > $base AND
    id < $((base + 10000000))" | sort -u >"$GT_TMP/have-$mode-$i"
  missing=$(comm -23 <(echo "$acked") "$GT_TMP/have-$mode-$i" | grep -c .)
  echo "$mode $i $w $detect $evict $down $errs $(echo "$acked" | grep -c .) $missing" >>"$RESULTS"
  say "eviction=$([ "$mode" = 1 ] && echo on || echo off) round $i: killed $w; detection" \
    "${detect} ms, Galera eviction ${evict} ms, write downtime ${down} ms, errors $errs," \
    "missing $missing"
  [ "$down" = - ] && FAILED=1
  [ "$missing" = 0 ] || FAILED=1

  # The killed node rejoins by IST; evict lists are cleared so they do not pile up.
  if ! galera_restart "$wn" "$GALERA_DIR" >>"$GT_WORK/galera.log" 2>&1 || ! gt_wait_healthy 90; then
    say "node$wn did not rejoin"
    FAILED=1
    return 1
  fi
  for n in 1 2 3; do gt_nsql "$n" "SET GLOBAL wsrep_provider_options='evs.evict='"; done
}

T0=$(date +%s)
for mode in 1 2; do
  if [ "$mode" = 1 ]; then gt_proxy_restart || exit 1; else gt_proxy_restart eviction=false || exit 1; fi
  for i in $(seq 1 "$ROUNDS"); do
    round "$mode" "$i" || break
  done
done
ELAPSED=$(($(date +%s) - T0))

# agg MODE COLUMN: "median max" of a column over the mode's rounds (numeric values only).
agg() {
  awk -v m="$1" -v c="$2" '$1 == m && $c ~ /^-?[0-9]+$/ {print $c}' "$RESULTS" | sort -n |
    awk '{v[NR] = $1} END {
      if (NR == 0) { print "- -"; exit }
      med = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
      printf "%d %d\n", med, v[NR] }'
}
sum() { awk -v m="$1" -v c="$2" '$1 == m {s += $c} END {print s + 0}' "$RESULTS"; }
count() { awk -v m="$1" '$1 == m' "$RESULTS" | grep -c .; }

{
  echo "# Writer failover drill (bench/drill_writer.sh)"
  echo
  echo "Generated $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(nproc) cores (load average at the end:"
  echo "$(cut -d' ' -f1-3 /proc/loadavg)), MariaDB $(mariadbd --version | awk '{print $3}'),"
  echo "$("$GT_BIN" --version). $ROUNDS kills per mode, $ELAPSED s in all."
  echo
  echo "Each round: a PHP client writes a unique id every 10 ms through galera-proxy"
  echo "(127.0.0.1:16233, monitor.interval_ms=250, a new session after any error); the writer"
  echo "node's mariadbd is killed -9; the node is restarted (IST) before the next round."
  echo
  echo "- **detection**: kill -> the proxy's \`writer_change\` log line"
  echo "- **Galera eviction**: kill -> a survivor's \`wsrep_cluster_size\` drops (polled every 10 ms)"
  echo "- **write downtime**: last acknowledged write before the kill -> first one after it"
  echo "- **missing**: acknowledged ids not in the cluster afterwards (must be 0)"
  echo
  echo "| eviction | rounds | detection median / max (ms) | Galera eviction median / max (ms) | write downtime median / max (ms) | client errors | acked writes | missing |"
  echo "|---|---|---|---|---|---|---|---|"
  for mode in 1 2; do
    read -r dm dx <<<"$(agg "$mode" 4)"
    read -r em ex <<<"$(agg "$mode" 5)"
    read -r wm wx <<<"$(agg "$mode" 6)"
    echo "| $([ "$mode" = 1 ] && echo on || echo off) | $(count "$mode") | $dm / $dx | $em / $ex |" \
      "$wm / $wx | $(sum "$mode" 7) | $(sum "$mode" 8) | $(sum "$mode" 9) |"
  done
  echo
  echo "## Rounds"
  echo
  echo "| eviction | round | killed | detection (ms) | Galera eviction (ms) | write downtime (ms) | errors | acked | missing |"
  echo "|---|---|---|---|---|---|---|---|---|"
  awk '{printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", ($1 == 1 ? "on" : "off"),
    $2, $3, $4, $5, $6, $7, $8, $9}' "$RESULTS"
} >"$OUT"
cat "$OUT"
say "report written to $OUT"
[ "$FAILED" = 0 ]
