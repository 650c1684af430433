#!/usr/bin/env bash
# The mariadb command-line client through the proxy: queries, relayed errors, auth plugins, LOCAL INFILE.
set -uo pipefail
# shellcheck source=test/integration/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
gp_need_env PROXY_HOST PROXY_PORT DB_PORT TEST_TMP

echo "# queries"
gp_eq 2 "$(gp_sql -e 'SELECT 1+1' 2>&1)" "SELECT 1+1"
gp_eq "$DB_PORT" "$(gp_sql -e 'SELECT @@port' 2>&1)" "SELECT @@port is the backend's port"
gp_eq "$(gp_sql_direct -e 'SELECT @@version, @@hostname, @@server_id')" \
  "$(gp_sql -e 'SELECT @@version, @@hostname, @@server_id' 2>&1)" "same server as direct"
gp_eq "app@%" "$(gp_sql -e 'SELECT CURRENT_USER()' 2>&1)" "logged in as app"
out=$(gp_sql -e 'DROP TABLE IF EXISTS cli_t;
  CREATE TABLE cli_t (id INT PRIMARY KEY, v VARCHAR(20));
  INSERT INTO cli_t VALUES (1, "one"), (2, NULL), (3, "three");
  SELECT id, COALESCE(v, "null") FROM cli_t ORDER BY id;
  UPDATE cli_t SET v = "deux" WHERE id = 2;
  SELECT v FROM cli_t WHERE id = 2;
  SELECT ROW_COUNT();' 2>&1)
gp_eq $'1\tone\n2\tnull\n3\tthree\ndeux\n-1' "$out" "several statements in one session"
gp_eq 100000 "$(gp_sql -e 'SELECT COUNT(*) FROM seq_1_to_100000' 2>&1)" "count over 100k rows"
rows=$(gp_sql -e 'SELECT seq, MD5(seq) FROM seq_1_to_50000' 2>&1 | md5sum)
gp_eq "$(gp_sql_direct -e 'SELECT seq, MD5(seq) FROM seq_1_to_50000' | md5sum)" "$rows" \
  "50000-row result identical to direct"
gp_eq "héllo 😀" "$(gp_sql --default-character-set=utf8mb4 -e "SELECT 'héllo 😀'" 2>&1)" "utf8mb4 literal"

echo "# errors relayed intact (same text as direct)"
for sql in "SELECT * FROM no_such_table" "SELEC 1" \
  "INSERT INTO cli_t VALUES (1, 'dup')" \
  "SIGNAL SQLSTATE '45003' SET MESSAGE_TEXT = 'cli custom message', MYSQL_ERRNO = 4323" \
  "SELECT * FROM no_such_db.t" "KILL 999999999"; do
  want=$(gp_sql_direct -e "$sql" 2>&1)
  got=$(gp_sql -e "$sql" 2>&1)
  gp_match '^ERROR [0-9]+ \([0-9A-Z]{5}\)' "$want" "direct gives an error for: $sql"
  gp_eq "$want" "$got" "error relayed for: $sql"
done
gp_eq "ERROR 4323 (45003) at line 1: cli custom message" \
  "$(gp_sql -e "SIGNAL SQLSTATE '45003' SET MESSAGE_TEXT = 'cli custom message', MYSQL_ERRNO = 4323" 2>&1)" \
  "SIGNAL code, SQLSTATE and message"
# The session survives an error; --force runs the rest of the batch.
gp_eq $'1\n3' "$(echo 'SELECT 1; SELECT * FROM no_such_table; SELECT 3;' | gp_sql --force 2>/dev/null)" \
  "statements after an error still run"

echo "# authentication"
gp_eq "edapp@%" "$(gp_client -h"$PROXY_HOST" -P"$PROXY_PORT" -uedapp -pedpass -N -B -e 'SELECT CURRENT_USER()' 2>&1)" \
  "ed25519 user logs in"
want=$(gp_client -h127.0.0.1 -P"$DB_PORT" -uapp -pwrong -e 'SELECT 1' 2>&1)
got=$(gp_client -h"$PROXY_HOST" -P"$PROXY_PORT" -uapp -pwrong -e 'SELECT 1' 2>&1)
rc=$?
gp_eq 1 "$rc" "wrong password: client exits 1"
gp_match "^ERROR 1045 \(28000\): Access denied for user 'app'@'" "$got" "wrong password: ERROR 1045 (28000)"
gp_eq "$want" "$got" "wrong password: same message as direct"
got=$(gp_client -h"$PROXY_HOST" -P"$PROXY_PORT" -uedapp -pwrong -e 'SELECT 1' 2>&1)
gp_match "^ERROR 1045 \(28000\): Access denied for user 'edapp'@" "$got" "ed25519 wrong password: ERROR 1045"
got=$(gp_client -h"$PROXY_HOST" -P"$PROXY_PORT" -unobody -px -e 'SELECT 1' 2>&1)
gp_match "^ERROR 1045 \(28000\)" "$got" "unknown user: ERROR 1045"
got=$(gp_client -h"$PROXY_HOST" -P"$PROXY_PORT" -uapp -papp no_such_db -e 'SELECT 1' 2>&1)
gp_match "^ERROR 1049 \(42000\): Unknown database 'no_such_db'" "$got" "unknown database at connect: ERROR 1049"
gp_eq 1 "$(gp_sql -e 'SELECT 1' 2>&1)" "login still works after failures"

echo "# LOAD DATA LOCAL INFILE"
f=$TEST_TMP/cli_load.tsv
seq 1 30000 | awk '{ printf "%d\tline %d %s\n", $1, $1, substr("abcdefghijklmnopqrstuvwxyz", $1 % 26 + 1) }' >"$f"
out=$(gp_sql --local-infile=1 -e "
  DROP TABLE IF EXISTS cli_load;
  CREATE TABLE cli_load (id INT PRIMARY KEY, v VARCHAR(40));
  LOAD DATA LOCAL INFILE '$f' INTO TABLE cli_load;
  SELECT COUNT(*), SUM(id), MD5(GROUP_CONCAT(v ORDER BY id SEPARATOR '|')) FROM cli_load;" 2>&1)
want_md5=$(cut -f2 "$f" | paste -sd'|' | tr -d '\n' | md5sum | cut -d' ' -f1)
gp_eq $'30000\t450015000\t'"$want_md5" "$out" "30000 rows loaded with identical content"
gp_eq 30000 "$(gp_sql -e 'SELECT COUNT(*) FROM cli_load' 2>&1)" "rows visible to a new session"
out=$(gp_sql --local-infile=1 -e "LOAD DATA LOCAL INFILE '$TEST_TMP/missing.tsv' INTO TABLE cli_load" 2>&1)
gp_match "^ERROR" "$out" "missing local file is an error"

gp_sql -e 'DROP TABLE IF EXISTS cli_t, cli_load' >/dev/null 2>&1
gp_done
