#!/usr/bin/env bash
# Compressed clients outside mysqlnd: `mariadb --compress` (libmariadb) and Node mysql2, with the
# proxy's byte counters showing that the client leg is compressed (the server's Compression
# status describes the backend leg, which stays plain).
set -uo pipefail
# shellcheck source=test/integration/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=test/lib/lost.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lost.sh"
gp_need_env PROXY_HOST PROXY_PORT PROXY_HTTP DB_PORT TEST_TMP

metric() { # metric SAMPLE: its value in the proxy's /metrics (empty if absent)
  curl -s --max-time 5 "http://$PROXY_HTTP/metrics" |
    awk -v s="galera_proxy_$1" '$1 == s { print $2 }'
}

direct=0
[[ "${PROXY_MODE:-}" == direct ]] && direct=1

echo "# mariadb --compress"
if ((!direct)); then
  s0=$(metric client_compressed_sessions_total)
  w0=$(metric 'client_compressed_bytes_total{direction="out"}')
  p0=$(metric 'client_compressed_payload_bytes_total{direction="out"}')
fi
if ((direct)); then
  gp_eq ON "$(gp_sql --compress -e "SHOW SESSION STATUS LIKE 'Compression'" 2>&1 | cut -f2)" \
    "direct: the server's leg is compressed"
fi
sum=$(gp_sql --compress -e 'SELECT seq, REPEAT(MD5(seq), 20) FROM seq_1_to_40000' 2>&1 | md5sum)
gp_eq "$(gp_sql_direct -e 'SELECT seq, REPEAT(MD5(seq), 20) FROM seq_1_to_40000' | md5sum)" "$sum" \
  "26 MB result identical to a plain direct one"
big=$(head -c 18000000 /dev/zero | tr '\0' 'k')
gp_eq 18000000 "$(printf "SELECT LENGTH('%s');\n" "$big" | gp_sql --compress --max-allowed-packet=64M 2>&1)" \
  "18 MB query"
seq 1 200000 >"$TEST_TMP/z_load.tsv"
out=$(gp_sql --compress --local-infile=1 -e "DROP TABLE IF EXISTS z_cli_load;
  CREATE TABLE z_cli_load (id INT PRIMARY KEY);
  LOAD DATA LOCAL INFILE '$TEST_TMP/z_load.tsv' INTO TABLE z_cli_load;
  SELECT COUNT(*), SUM(id) FROM z_cli_load" 2>&1)
gp_eq $'200000\t20000100000' "$out" "LOAD DATA LOCAL INFILE (1.3 MB, many packets)"
if ((!direct)); then
  s1=$(metric client_compressed_sessions_total)
  w1=$(metric 'client_compressed_bytes_total{direction="out"}')
  p1=$(metric 'client_compressed_payload_bytes_total{direction="out"}')
  gp_eq 3 "$((s1 - s0))" "three compressed sessions counted"
  gp_match '^[0-9]+$' "$((p1 - p0))" "payload counted"
  if ((p1 - p0 > 25000000 && (w1 - w0) * 3 < p1 - p0)); then
    gp_ok "client leg compressed: $((w1 - w0)) wire bytes for $((p1 - p0)) payload bytes"
  else
    gp_notok "client leg not compressed: wire=$((w1 - w0)) payload=$((p1 - p0))"
  fi
  gp_eq OFF "$(gp_sql --compress -e "SHOW SESSION STATUS LIKE 'Compression'" 2>&1 | cut -f2)" \
    "the backend leg stays plain (the proxy did not ask the server for compression)"
  w2=$(metric 'client_compressed_bytes_total{direction="out"}')
  gp_sql -e 'SELECT REPEAT("x", 1000000)' >/dev/null 2>&1
  gp_eq "$w2" "$(metric 'client_compressed_bytes_total{direction="out"}')" \
    "a plain client adds nothing to the compressed counters"
fi

echo "# Node mysql2 compress: true"
if ! command -v node >/dev/null || ! lost_npm_install; then
  gp_notok "node and mysql2 (npm ci in $LOST_NPM_DIR) are needed"
else
  out=$(NODE_PATH="$LOST_NPM_DIR/node_modules" timeout 120 node \
    "$(dirname "${BASH_SOURCE[0]}")/lib/zclient.js" "$PROXY_HOST" "$PROXY_PORT" 2>&1)
  echo "$out" | sed 's/^/#   /'
  gp_match $'(^|\n)rows 30000(\n|$)' "$out" "mysql2: 30000 rows"
  want=$(head -c $((9 * 1024 * 1024)) /dev/zero | tr '\0' '\n' | sed 's/^/nq/' | tr -d '\n' | md5sum | cut -d' ' -f1)
  gp_match "(^|"$'\n'")big 18874368 $want" "$out" "mysql2: 18 MB value intact"
  gp_match $'(^|\n)stmt 42(\n|$)' "$out" "mysql2: prepared statement"
  gp_match $'(^|\n)multi 1,2(\n|$)' "$out" "mysql2: multi-results"
  blob=$(echo "$out" | awk '$1 == "blob" { print ($2 == $3 && $3 == $4) ? "same" : "differ" }')
  gp_eq same "$blob" "mysql2: 3 MB random blob both ways"
fi
gp_done
