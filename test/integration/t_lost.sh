#!/usr/bin/env bash
# t_lost.sh - the backend dies with a statement in flight: each client library reports a lost connection and reconnects.
# gp-test-timeout: 240
#
# MariaDB is killed (-9) under clients of libmariadb, mysqlnd (mysqli, PDO), PyMySQL and Node
# mysql2 (test/lib/lost.sh) in each state a statement can be in: nothing of the reply relayed
# yet, rows relayed and the next one not (a packet boundary), a packet cut in the middle, a
# prepared statement executing, LOCAL INFILE data on its way, and an idle session. Each must
# report a lost connection (never "malformed packet" or a protocol complaint) and connect
# anew at once when the server is back. A clean shutdown (SIGTERM) may instead end the
# statement with the server's own error, parsed cleanly. The server is restarted on its
# datadir after each round, so the tests after this one find it as before.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source=test/integration/lib/common.sh
source "$HERE/lib/common.sh"
# shellcheck source=test/lib/mariadb.sh
source "$ROOT/test/lib/mariadb.sh"
# shellcheck source=test/lib/lost.sh
source "$ROOT/test/lib/lost.sh"
gp_need_env PROXY_HOST PROXY_PORT DB_DIR DB_PORT TEST_TMP PROXY_MODE

LOST_OK=gp_ok
LOST_NOTOK=gp_notok
RECONNECT_BOUND_MS=1500 # monitor: rise 2 x interval 250 ms, the client's 50 ms retry, slack

if ! lost_setup "$TEST_TMP/lost"; then
  gp_notok "the four client libraries are installed (test/lib/deps.sh)"
  gp_done
fi

# shellcheck disable=SC2317 # reached through the EXIT trap
cleanup() {
  local name
  for name in "${!LOST_PID[@]}"; do
    kill -9 "${LOST_PID[$name]}" 2>/dev/null
  done
  # Whatever happened, leave a running server behind for the next tests.
  mariadb_pid "$DB_DIR" >/dev/null || db_start
}
trap cleanup EXIT

db_start() {
  setsid mariadbd --defaults-file="$DB_DIR/my.cnf" </dev/null >>"$DB_DIR/mariadbd.out" 2>&1 &
  local i
  for ((i = 0; i < 600; i++)); do
    mariadb_sql "$DB_DIR" "SELECT 1" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  return 1
}

# db_kill SIG: signal the server and wait until it is gone.
db_kill() {
  local pid i
  pid=$(mariadb_pid "$DB_DIR") || {
    gp_notok "MariaDB runs before the kill"
    return 1
  }
  kill "-$1" "$pid"
  for ((i = 0; i < 600; i++)); do
    mariadb_pid_is_ours "$DB_DIR" "$pid" || return 0
    sleep 0.05
  done
  gp_notok "MariaDB (pid $pid) ended on SIG$1 within 30 s"
  return 1
}

# running TAG: the server's threads running a statement that carries TAG.
running() {
  mariadb_sql "$DB_DIR" "SELECT COUNT(*) FROM information_schema.PROCESSLIST
    WHERE INFO LIKE '%$1%' AND ID <> CONNECTION_ID()" 2>/dev/null || echo 0
}

# wait_running TAG N: until N statements carrying TAG run on the server (10 s).
wait_running() {
  local i
  for ((i = 0; i < 200; i++)); do
    [[ "$(running "$1")" -ge "$2" ]] && return 0
    sleep 0.05
  done
  gp_notok "$1: $2 statements in flight on the server (have $(running "$1"))"
  return 1
}

# wait_proxy_up: until the proxy relays again (its monitor has seen the server back).
wait_proxy_up() {
  local i
  for ((i = 0; i < 200; i++)); do
    gp_sql -e "SELECT 1" >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  return 1
}

# round TAG SIG: kill the server with SIG, restart it; T_UP is when it answered again.
T_UP=0
round_kill() {
  local tag=$1 sig=$2
  db_kill "$sig" || return 1
  db_start || {
    gp_notok "$tag: MariaDB restarted on its datadir"
    return 1
  }
  T_UP=$(gp_now_ms)
}

# settle NAMES...: wait for the clients, each in its own time.
settle() {
  local name
  for name in "$@"; do
    lost_end "$name" 30
  done
}

gp_sql -e "CREATE TABLE IF NOT EXISTS lost_t (id INT AUTO_INCREMENT PRIMARY KEY, v INT);
  CREATE TABLE IF NOT EXISTS lost_infile (v BIGINT)" || gp_notok "create the test tables"

# ---- 1. nothing of the reply relayed yet -------------------------------------------------
echo "# round 1: SELECT SLEEP in flight, kill -9"
names=()
for lib in "${LOST_LIBS[@]}"; do
  lost_start "sleep-$lib" "$lib" once "SELECT /*lost-r1*/ SLEEP(60)" "$PROXY_PORT"
  names+=("sleep-$lib")
done
lost_start idle-libmariadb libmariadb idle "SELECT 1" "$PROXY_PORT"
lost_start loop-libmariadb libmariadb loop "INSERT INTO lost_t (v) VALUES (1)" "$PROXY_PORT"
lost_wait idle-libmariadb '^connected' 10 || gp_notok "round 1: the idle client connected"
lost_wait loop-libmariadb '^sent' 10 || gp_notok "round 1: the persistent client connected"
if wait_running lost-r1 "${#LOST_LIBS[@]}"; then
  sleep 0.3 # the persistent client's INSERTs run
  round_kill r1 9
  lost_poke idle-libmariadb
  settle "${names[@]}" idle-libmariadb loop-libmariadb
  for name in "${names[@]}"; do
    lost_check_lost "$name" "reply not begun"
    lost_check_reconnect "$name" "$T_UP" "$RECONNECT_BOUND_MS" "reply not begun"
  done
  lost_check_lost idle-libmariadb "idle session"
  lost_check_lost loop-libmariadb "an INSERT every 10 ms"
  lost_check_reconnect loop-libmariadb "$T_UP" "$RECONNECT_BOUND_MS" "an INSERT every 10 ms"
  count=$(lost_line loop-libmariadb count)
  if [[ "${count#count }" =~ ^[0-9]+$ && "${count#count }" -gt 0 ]]; then
    gp_ok "the persistent client wrote before the kill ($count)"
  else
    gp_notok "the persistent client wrote before the kill: [$count]"
  fi
fi
settle "${!LOST_PID[@]}"
LOST_PID=()
wait_proxy_up || gp_notok "round 1: the proxy relays again"

# ---- 2. rows relayed, the next one not yet: a packet boundary ----------------------------
# Rows of 100 kB are larger than the server's net buffer: each goes out whole as it is made;
# the third one waits in SLEEP, so the client has read two complete rows when the server dies.
echo "# round 2: a result set cut between two rows, kill -9"
names=()
for lib in "${LOST_LIBS[@]}"; do
  lost_start "rows-$lib" "$lib" rows "SELECT /*lost-r2*/ REPEAT('x', 100000), SLEEP(IF(seq = 3, 60, 0))
    FROM seq_1_to_3" "$PROXY_PORT"
  names+=("rows-$lib")
done
ready=1
for name in "${names[@]}"; do
  lost_wait "$name" '^row 2 100000$' 10 || {
    gp_notok "round 2: $name read two rows before the kill: $(paste -sd ';' "$LOST_DIR/$name.out")"
    ready=0
  }
done
if ((ready)); then
  round_kill r2 9
  settle "${names[@]}"
  for name in "${names[@]}"; do
    lost_check_lost "$name" "between rows"
    [[ -z "$(lost_line "$name" 'row 3')" ]] || gp_notok "$name: no third row"
    lost_check_reconnect "$name" "$T_UP" "$RECONNECT_BOUND_MS" "between rows"
  done
fi
settle "${!LOST_PID[@]}"
LOST_PID=()
wait_proxy_up || gp_notok "round 2: the proxy relays again"

# ---- 3. a packet cut in the middle; a prepared statement; LOCAL INFILE ---------------------
# lazy: the client sends the query of a 40 MB result and reads no further than its column
# definitions; the server blocks in the middle of the row's packet behind the full socket
# buffers, and dies there. The client reads on after the kill.
echo "# round 3: mid-packet, prepared statements, LOCAL INFILE, kill -9"
names=()
lazy=(libmariadb mysqli pymysql mysql2) # PDO cannot send without reading the answer
for lib in "${lazy[@]}"; do
  lost_start "midpacket-$lib" "$lib" lazy "SELECT /*lost-r3*/ REPEAT('y', 40000000)" "$PROXY_PORT"
  names+=("midpacket-$lib")
done
for lib in libmariadb mysqli pdo mysql2; do # PyMySQL has no server-side prepared statements
  lost_start "stmt-$lib" "$lib" stmt "SELECT /*lost-r3*/ SLEEP(60)" "$PROXY_PORT"
  names+=("stmt-$lib")
done
lost_start infile-libmariadb libmariadb infile \
  "LOAD DATA /*lost-r3*/ LOCAL INFILE 'endless' INTO TABLE lost_infile (v)" "$PROXY_PORT"
names+=(infile-libmariadb)
if wait_running lost-r3 9; then
  sleep 1 # the 40 MB replies fill the buffers; LOCAL INFILE rows flow
  round_kill r3 9
  for lib in "${lazy[@]}"; do
    lost_poke "midpacket-$lib"
  done
  settle "${names[@]}"
  for lib in "${lazy[@]}"; do
    lost_check_lost "midpacket-$lib" "mid-packet"
    [[ -z "$(lost_line "midpacket-$lib" 'row 1')" ]] || gp_notok "midpacket-$lib: no whole row"
    lost_check_reconnect "midpacket-$lib" "$T_UP" "$RECONNECT_BOUND_MS" "mid-packet"
  done
  for lib in libmariadb mysqli pdo mysql2; do
    lost_check_lost "stmt-$lib" "prepared statement executing"
    lost_check_reconnect "stmt-$lib" "$T_UP" "$RECONNECT_BOUND_MS" "prepared statement executing"
  done
  lost_check_lost infile-libmariadb "LOCAL INFILE"
  lost_check_reconnect infile-libmariadb "$T_UP" "$RECONNECT_BOUND_MS" "LOCAL INFILE"
fi
settle "${!LOST_PID[@]}"
LOST_PID=()
wait_proxy_up || gp_notok "round 3: the proxy relays again"

# ---- 4. a clean shutdown: the server's own error, or a lost connection ---------------------
echo "# round 4: SELECT SLEEP in flight, SIGTERM"
names=()
for lib in "${LOST_LIBS[@]}"; do
  lost_start "term-$lib" "$lib" once "SELECT /*lost-r4*/ SLEEP(60)" "$PROXY_PORT"
  names+=("term-$lib")
done
lost_start termidle-libmariadb libmariadb idle "SELECT 1" "$PROXY_PORT"
lost_wait termidle-libmariadb '^connected' 10 || gp_notok "round 4: the idle client connected"
if wait_running lost-r4 "${#LOST_LIBS[@]}"; then
  round_kill r4 TERM
  lost_poke termidle-libmariadb
  settle "${names[@]}" termidle-libmariadb
  for name in "${names[@]}" termidle-libmariadb; do
    lost_check_ended "$name" "clean shutdown"
    lost_check_reconnect "$name" "$T_UP" "$RECONNECT_BOUND_MS" "clean shutdown"
  done
fi
settle "${!LOST_PID[@]}"
LOST_PID=()
wait_proxy_up || gp_notok "round 4: the proxy relays again"

if [[ "$PROXY_MODE" == proxy ]]; then
  n=$(grep -c 'event=backend_lost' "$PROXY_LOG")
  if [[ "$n" -gt 0 ]]; then
    gp_ok "the proxy logged backend_lost ($n)"
  else
    gp_notok "the proxy logged backend_lost"
  fi
fi
gp_done
