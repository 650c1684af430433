#!/usr/bin/env bash
# sysbench oltp_read_write through the proxy: 8 threads, ~10 s, no fatal errors, no reconnects.
# gp-test-timeout: 240
set -uo pipefail
# shellcheck source=test/integration/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
gp_need_env PROXY_HOST PROXY_PORT TEST_TMP

SECONDS_RUN=${SYSBENCH_SECONDS:-10}
sb=(sysbench oltp_read_write --db-driver=mysql --mysql-host="$PROXY_HOST" --mysql-port="$PROXY_PORT"
  --mysql-user=app --mysql-password=app --mysql-db=test --tables=4 --table-size=5000)

echo "# prepare"
"${sb[@]}" cleanup >/dev/null 2>&1
if "${sb[@]}" prepare >"$TEST_TMP/prepare.log" 2>&1; then
  gp_ok "sysbench prepare through the proxy"
else
  gp_notok "sysbench prepare failed: $(tail -n 5 "$TEST_TMP/prepare.log")"
  gp_done
fi
gp_eq 20000 "$(gp_sql -e 'SELECT (SELECT COUNT(*) FROM sbtest1) + (SELECT COUNT(*) FROM sbtest2) +
  (SELECT COUNT(*) FROM sbtest3) + (SELECT COUNT(*) FROM sbtest4)' 2>&1)" "prepared rows"

echo "# run: 8 threads, ${SECONDS_RUN}s"
"${sb[@]}" --threads=8 --time="$SECONDS_RUN" --report-interval=0 \
  --mysql-ignore-errors=1213,1020,1205 run >"$TEST_TMP/run.log" 2>&1
rc=$?
sed -n '/SQL statistics/,/Latency/p' "$TEST_TMP/run.log" | sed 's/^/#   /'
gp_eq 0 "$rc" "sysbench run exit status"
fatal=$(grep -c 'FATAL' "$TEST_TMP/run.log")
gp_eq 0 "$fatal" "no FATAL lines"
if [[ $fatal -ne 0 ]]; then
  grep -m 5 FATAL "$TEST_TMP/run.log" | sed 's/^/#   /'
fi
reconnects=$(awk '/reconnects:/ { print $2; exit }' "$TEST_TMP/run.log")
gp_eq 0 "$reconnects" "reconnects: 0"
tx=$(awk '/transactions:/ { print $2; exit }' "$TEST_TMP/run.log")
if [[ "${tx:-0}" =~ ^[0-9]+$ ]] && ((tx >= 100)); then
  gp_ok "transactions done: $tx"
else
  gp_notok "too few transactions: [${tx:-none}]"
fi
errors=$(awk '/ignored errors:/ { print $3; exit }' "$TEST_TMP/run.log")
echo "# ignored errors (deadlocks etc.): ${errors:-?}"
# The data is still consistent: every table keeps its row count (oltp_read_write deletes and re-inserts).
gp_eq 20000 "$(gp_sql -e 'SELECT (SELECT COUNT(*) FROM sbtest1) + (SELECT COUNT(*) FROM sbtest2) +
  (SELECT COUNT(*) FROM sbtest3) + (SELECT COUNT(*) FROM sbtest4)' 2>&1)" "row count after the run"

"${sb[@]}" cleanup >/dev/null 2>&1
gp_done
