#!/usr/bin/env bash
# Issue 17, step 1: the proxy reads mysql.global_priv as auth.user, says so once when it may not, and shows no secret.
# gp-test-timeout: 90
#
# Runs its own proxy (the runner's binary, in front of the runner's MariaDB; port
# GP_TEST_ACCOUNTS_PORT, default the runner's + 740, HTTP on the next) whose auth.user is an
# account this test creates without SELECT on mysql.global_priv, with refresh_ms 300.
# Checks: the reads are denied (auth_accounts_state denied, reads_total{denied} counting)
# with exactly one auth_accounts state=denied log line for many reads, and clients are
# served as before; after GRANT SELECT ON mysql.global_priv the next read succeeds (state ok,
# one state=ok line) and auth_accounts equals the table's row count, following a CREATE USER;
# a reload to a wrong auth.password turns the state to failed (once) without touching the
# monitor; neither password appears in the log, /status or /metrics.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=test/integration/lib/common.sh
source "$HERE/lib/common.sh"
# shellcheck source=test/integration/lib/proxyinst.sh
source "$HERE/lib/proxyinst.sh"
gp_need_env PROXY_HOST PROXY_PORT DB_PORT DB_DIR TEST_TMP PROXY_MODE

gp_inst_own accounts "${GP_TEST_ACCOUNTS_PORT:-$((PROXY_PORT + 740))}"
USER_=gp_privreader
PASS=Pw-$RANDOM$RANDOM-kept-out-of-logs
WRONG=Wrong-$RANDOM$RANDOM-kept-out-of-logs
NEWUSER=gp_acct_new_$RANDOM

root_sql() {
  mariadb --defaults-file="$DB_DIR/my.cnf" --protocol=socket -uroot -N -B -e "$1"
}

PID=""
# shellcheck disable=SC2317 # reached through the EXIT trap
cleanup() {
  [[ -n "$PID" ]] && alive "$PID" && stop_pid "$PID" 10
  root_sql "DROP USER IF EXISTS '$USER_'@'%'; DROP USER IF EXISTS '$NEWUSER'@'%'" 2>/dev/null
}
trap cleanup EXIT

metric() { # metric NAME_WITH_LABELS: its value, or "" if absent
  curl -s --max-time 2 "http://127.0.0.1:$HTTP/metrics" |
    awk -v k="galera_proxy_$1" '$1 == k { print $2; exit }'
}
wait_for() {
  local end=$(($(gp_now_ms) + $1 * 1000))
  shift
  until "$@"; do
    (($(gp_now_ms) < end)) || return 1
    sleep 0.1
  done
}
state_is() { [[ $(metric "auth_accounts_state{state=\"$1\"}") == 1 ]]; }
reads_at_least() { (($(metric "auth_accounts_reads_total{result=\"$1\"}") >= $2)); }
count_is() { [[ $(metric auth_accounts) == "$1" ]]; }
lines() { grep -c -- "$1" "$LOG"; }
st() { # st KEY: /status .auth.KEY
  # shellcheck disable=SC2016 # PHP code
  curl -s --max-time 2 "http://127.0.0.1:$HTTP/status" | php -r '
    $v = json_decode(stream_get_contents(STDIN), true);
    echo json_encode($v["auth"][$argv[1]] ?? null);' "$1"
}

root_sql "DROP USER IF EXISTS '$USER_'@'%';
  CREATE USER '$USER_'@'%' IDENTIFIED BY '$PASS'; GRANT USAGE ON *.* TO '$USER_'@'%';" || {
  gp_notok "cannot create the auth account $USER_"
  gp_done
}
mkdir -p "$DIR"
write_conf() { # write_conf PASSWORD
  cat >"$CONF" <<EOF
listen = "127.0.0.1:$PORT";
http_listen = "127.0.0.1:$HTTP";
log_level = "info";
limits = { shutdown_timeout_ms = 2000; };
monitor = { user = "monitor"; password = "monitor"; interval_ms = 250; timeout_ms = 1000; };
auth = { user = "$USER_"; password = "$1"; refresh_ms = 300; };
backends = ( { name = "db1"; address = "127.0.0.1:$DB_PORT"; } );
EOF
}
write_conf "$PASS"

echo "# auth.user without SELECT on mysql.global_priv"
gp_inst_start "$BIN" "$CONF" "$LOG"
PID=$GP_INST_PID
if ! gp_inst_wait_ready "$PID" "$PORT" 30; then
  gp_notok "no SELECT 1 through the proxy within 30 s"
  tail -n 20 "$LOG" | sed 's/^/#   /'
  gp_done
fi
wait_for 10 state_is denied && gp_ok "auth_accounts_state is denied" ||
  gp_notok "auth_accounts_state is not denied: $(curl -s "http://127.0.0.1:$HTTP/metrics" | grep auth_accounts)"
wait_for 10 reads_at_least denied 4 && gp_ok "it keeps reading every refresh_ms (4 denied reads)" ||
  gp_notok "denied reads: $(metric 'auth_accounts_reads_total{result="denied"}')"
gp_eq 1 "$(lines 'event=auth_accounts state=denied')" "one log line for all the denied reads"
gp_match "user=$USER_ code=1142 .*GRANT SELECT ON mysql.global_priv" \
  "$(grep 'event=auth_accounts state=denied' "$LOG")" "the line names the account, the code and the grant"
gp_eq 0 "$(metric auth_accounts)" "no accounts known"
gp_eq '"denied"' "$(st accounts_state)" "/status auth.accounts_state is denied"
gp_eq 1 "$(gp_client -h127.0.0.1 -P"$PORT" -uapp -papp -N -B -e 'SELECT 1' 2>&1)" \
  "clients are served as before"

echo "# GRANT SELECT ON mysql.global_priv"
root_sql "GRANT SELECT ON mysql.global_priv TO '$USER_'@'%'"
wait_for 10 state_is ok && gp_ok "the next read succeeds: state ok" || gp_notok "state is not ok"
rows=$(root_sql "SELECT COUNT(*) FROM mysql.global_priv")
wait_for 5 count_is "$rows" && gp_ok "auth_accounts = $rows, the table's rows" ||
  gp_notok "auth_accounts $(metric auth_accounts), the table has $rows"
gp_eq 1 "$(lines 'event=auth_accounts state=ok')" "one state=ok line"
gp_eq '"ok"' "$(st accounts_state)" "/status auth.accounts_state is ok"
gp_eq "$rows" "$(st accounts)" "/status auth.accounts is the row count"
root_sql "CREATE USER '$NEWUSER'@'%' IDENTIFIED BY 'x'"
wait_for 5 count_is "$((rows + 1))" && gp_ok "a CREATE USER is seen by the next read" ||
  gp_notok "auth_accounts $(metric auth_accounts) after CREATE USER (want $((rows + 1)))"
sleep 1
gp_eq 1 "$(lines 'event=auth_accounts state=ok')" "reads that repeat the state log nothing at info"

echo "# a reload to a wrong auth.password"
write_conf "$WRONG"
kill -HUP "$PID"
wait_for 10 state_is failed && gp_ok "state failed after the reload" || gp_notok "state is not failed"
gp_match "event=auth_accounts state=failed user=$USER_ code=1045" \
  "$(grep 'event=auth_accounts state=failed' "$LOG")" "one line with the login's error code"
gp_eq "$((rows + 1))" "$(metric auth_accounts)" "the last good table is kept"
gp_eq 1 "$(gp_client -h127.0.0.1 -P"$PORT" -uapp -papp -N -B -e 'SELECT 1' 2>&1)" \
  "the monitor is untouched: clients are served"
write_conf "$PASS"
kill -HUP "$PID"
wait_for 10 state_is ok && gp_ok "the right password again: state ok" || gp_notok "state not ok again"

echo "# secrets never shown"
metrics=$(curl -s --max-time 2 "http://127.0.0.1:$HTTP/metrics")
status=$(curl -s --max-time 2 "http://127.0.0.1:$HTTP/status")
for s in "$PASS" "$WRONG"; do
  what=${s%%-*}
  grep -qF -- "$s" "$LOG" && gp_notok "the log holds the $what" || gp_ok "the log never holds the $what"
  [[ "$metrics$status" == *"$s"* ]] && gp_notok "/status or /metrics holds the $what" ||
    gp_ok "/status and /metrics never hold the $what"
done
hash=$(root_sql "SELECT JSON_VALUE(Priv, '$.authentication_string') FROM mysql.global_priv WHERE User='app' LIMIT 1")
[[ -n "$hash" ]] && grep -qF -- "${hash#\*}" "$LOG" && gp_notok "the log holds app's stored hash" ||
  gp_ok "the log never holds a stored hash"
stop_pid "$PID" 10
PID=""
gp_eq 0 "$STOP_RC" "SIGTERM: exit status 0"
for marker in "ERROR: AddressSanitizer" "ERROR: LeakSanitizer" "runtime error:"; do
  grep -qF -- "$marker" "$LOG" && gp_notok "the log has '$marker'" || gp_ok "no '$marker' in the log"
done
gp_done
