#!/usr/bin/env bash
# causal.sh - what routing.ro_causal_reads costs a read on listen_ro, on a real 3-node Galera cluster.
#
#   bench/causal.sh [--build DIR | --bin FILE] [--time S] [--repeats N] [--threads N] [--out FILE] [--keep]
#
#   --build DIR   meson build directory holding proxy/galera-proxy (default: build)
#   --bin FILE    a galera-proxy binary instead (bench/run.sh passes its release build)
#   --time S      seconds per sysbench run (default 10)
#   --repeats N   interleaved repeats (default 3)
#   --threads N   sysbench threads reading (default 8)
#   --out FILE    the Markdown section (default bench/RESULTS-causal.md)
#   --keep        keep the scratch directory
#
# Starts its own cluster (test/lib/galera.sh: SQL 3311-3313, gcomm 4511-4513, ...; so it runs
# under the suite lock, never beside test/integration-galera) and two galera-proxy instances in
# front of it that differ only in routing.ro_causal_reads: off on 127.0.0.1:16438/16439, on on
# :16440/:16441. sysbench oltp_point_select reads through each listen_ro in turn (interleaved),
# once on a quiet cluster and once while sysbench oltp_update_non_index writes 200 tx/s through
# listen (the readers then have write sets to apply before a causal read may run). Reported per
# row: QPS, average and 95th-percentile read latency (medians over the repeats). Stops
# everything it started, by pid.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
TIME=10
REPEATS=3
THREADS=8
BIN=""
OUT=$HERE/RESULTS-causal.md
# shellcheck source=test/lib/runner.sh
source "$ROOT/test/lib/runner.sh"
RUNNER_VALUES=(--bin BIN --time TIME --repeats REPEATS --threads THREADS --out OUT)
runner_args "$@"
GT_BIN=${BIN:-$BUILD/proxy/galera-proxy}
[ -x "$GT_BIN" ] || {
  echo "causal.sh: no $GT_BIN (meson setup $BUILD && ninja -C $BUILD, or --bin FILE)" >&2
  exit 2
}
command -v sysbench >/dev/null || {
  echo "causal.sh: sysbench not found (test/lib/deps.sh installs it)" >&2
  exit 2
}

declare -A RW=([off]=16438 [on]=16440) RO=([off]=16439 [on]=16441)
SB=(--mysql-host=127.0.0.1 --mysql-user=app --mysql-password=app --mysql-db=test
  --tables=2 --table-size=10000)

say() { printf '# %s\n' "$*" >&2; }

GC_PREFIX=gp-causal GC_PROXIES="off on" GC_PORTS='1643[89]|1644[01]'
# shellcheck source=bench/galera-cluster.sh
. "$HERE/galera-cluster.sh"
for k in off on; do
  v=false
  [ "$k" = on ] && v=true
  gt_proxy_conf "$GT_WORK/$k.conf.tmp" listen="127.0.0.1:${RW[$k]}" \
    listen_ro="127.0.0.1:${RO[$k]}" || exit 1
  sed "s/^routing = {\$/routing = {\n  ro_causal_reads = $v;/; s/log_level = \"info\"/log_level = \"warn\"/" \
    "$GT_WORK/$k.conf.tmp" >"$GT_WORK/$k.conf"
  grep -q "ro_causal_reads = $v;" "$GT_WORK/$k.conf" || exit 1
  gt_proxy_start "$k" "$GT_WORK/$k.conf" "${RW[$k]}" || exit 1
done
gt_eq 1 "$(gt_sql "${RO[on]}" 'SELECT @@wsrep_sync_wait')" "on: listen_ro sessions wait" >&2
gt_eq 0 "$(gt_sql "${RO[off]}" 'SELECT @@wsrep_sync_wait')" "off: listen_ro sessions do not" >&2
[ "$GT_FAIL" = 0 ] || exit 1
say "sysbench prepare (2 tables x 10000 rows) through listen"
sysbench oltp_point_select "${SB[@]}" --mysql-port="${RW[off]}" prepare >"$GT_WORK/prepare.log" 2>&1 || {
  tail -n 20 "$GT_WORK/prepare.log" >&2
  exit 1
}

TSV=$GT_WORK/causal.tsv # load key rep qps avg_ms p95_ms errors
: >"$TSV"

# read_run LOAD KEY REP: sysbench point_select through KEY's listen_ro; one line in $TSV.
read_run() {
  local load=$1 key=$2 rep=$3 out=$GT_TMP/read-$1-$2-$3.txt wpid=""
  if [ "$load" = writes ]; then
    sysbench oltp_update_non_index "${SB[@]}" --mysql-port="${RW[off]}" --threads=2 --rate=200 \
      --time=$((TIME + 3)) run >"$GT_TMP/write-$key-$rep.txt" 2>&1 &
    wpid=$!
    gt_track "$wpid"
    sleep 1
  fi
  sysbench oltp_point_select "${SB[@]}" --mysql-port="${RO[$key]}" --threads="$THREADS" \
    --time="$TIME" run >"$out" 2>&1
  [ -z "$wpid" ] || wait "$wpid" 2>/dev/null
  awk -v l="$load" -v k="$key" -v r="$rep" '
    /^ *queries:/ { q = $3; gsub(/[(]/, "", q) }
    /^ *avg:/ { avg = $2 }
    /^ *95th percentile:/ { p95 = $3 }
    /^ *ignored errors:/ { err = $3 }
    END { printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", l, k, r, (q == "" ? "NA" : q),
      (avg == "" ? "NA" : avg), (p95 == "" ? "NA" : p95), (err == "" ? "NA" : err) }' \
    "$out" >>"$TSV"
  say "$(tail -n 1 "$TSV" | tr '\t' ' ')"
}

for load in idle writes; do
  for ((rep = 1; rep <= REPEATS; rep++)); do
    for key in off on; do
      read_run "$load" "$key" "$rep"
    done
  done
done

# The section: medians per (load, key).
{
  echo "## routing.ro_causal_reads: the price of a causal read"
  echo
  echo "Written by \`bench/causal.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC'): a 3-node Galera cluster on"
  echo "loopback (test/lib/galera.sh), two galera-proxy instances ($("$GT_BIN" --version 2>&1 | head -n 1))"
  echo "differing only in \`routing.ro_causal_reads\`; sysbench oltp_point_select, $THREADS threads, $TIME s"
  echo "per run through each \`listen_ro\` in turn, $REPEATS interleaved repeats, medians (min-max);"
  echo "\"writes\": meanwhile oltp_update_non_index at 200 tx/s, 2 threads, through \`listen\`."
  echo "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
  echo
  echo "| load | ro_causal_reads | QPS | avg latency ms | p95 latency ms | errors |"
  echo "|---|---|---:|---:|---:|---:|"
  for load in idle writes; do
    for key in off on; do
      awk -F'\t' -v l="$load" -v k="$key" '
        function med(a, n,   i, j, t) {
          for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
          return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
        }
        $1 == l && $2 == k && $4 != "NA" { n++; q[n] = $4; a[n] = $5; p[n] = $6; e += $7
          if (!qmin || $4 < qmin) qmin = $4; if ($4 > qmax) qmax = $4 }
        END {
          if (!n) { printf "| %s | %s | NA | NA | NA | NA |\n", l, k; exit }
          printf "| %s | %s | %.0f (%.0f-%.0f) | %.2f | %.2f | %d |\n", l, k, med(q, n), qmin,
            qmax, med(a, n), med(p, n), e
        }' "$TSV"
    done
  done
} >"$OUT"
cat "$OUT"
say "written to $OUT"
