#!/usr/bin/env bash
# Secrets from files: the monitor logs in with password_file, reloads re-read it, and no secret is ever shown.
# gp-test-timeout: 120
#
# Runs its own proxy (the runner's binary, in front of the runner's MariaDB; port
# GP_TEST_SECRETS_PORT, default the runner's + 720, HTTP on the next) whose monitor account
# is one this test creates with a password of its own, given only through
# monitor.password_file (a relative path) and http_admin_token_file. Checks: the monitor
# logs in (db1 up, clients served); a wrong password written to the file and a SIGHUP make
# the reload re-read it (monitor restarted, db1 down); the right one brings db1 back; a
# missing file refuses the reload with the key and the path, keeping the running
# configuration; neither password nor token ever appears in the log, /status or /metrics.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=test/integration/lib/common.sh
source "$HERE/lib/common.sh"
# shellcheck source=test/integration/lib/proxyinst.sh
source "$HERE/lib/proxyinst.sh"
gp_need_env PROXY_HOST PROXY_PORT DB_PORT DB_DIR TEST_TMP PROXY_MODE

gp_inst_own secrets "${GP_TEST_SECRETS_PORT:-$((PROXY_PORT + 720))}"
USER_=gp_secret_mon
PASS=Pw-$RANDOM$RANDOM-kept-out-of-logs
WRONG=Wrong-$RANDOM$RANDOM-kept-out-of-logs
TOKEN=Tok-$RANDOM$RANDOM-kept-out-of-logs

root_sql() {
  mariadb --defaults-file="$DB_DIR/my.cnf" --protocol=socket -uroot -N -B -e "$1"
}

PID=""
# shellcheck disable=SC2317 # reached through the EXIT trap
cleanup() {
  [[ -n "$PID" ]] && alive "$PID" && stop_pid "$PID" 10
  root_sql "DROP USER IF EXISTS '$USER_'@'%'" 2>/dev/null
}
trap cleanup EXIT

st() {
  # shellcheck disable=SC2016 # PHP code
  curl -s --max-time 2 "http://127.0.0.1:$HTTP/status" 2>/dev/null | php -r '
    $v = json_decode(stream_get_contents(STDIN), true);
    foreach (explode(".", $argv[1]) as $k) $v = is_array($v) ? ($v[$k] ?? null) : null;
    echo is_bool($v) ? ($v ? "true" : "false") : (is_scalar($v) ? $v : json_encode($v));' "$1"
}
db1_up() { [[ $(st backends.0.up) == "$1" ]]; }
wait_for() {
  local end=$(($(gp_now_ms) + $1 * 1000))
  shift
  until "$@"; do
    (($(gp_now_ms) < end)) || return 1
    sleep 0.1
  done
}
logged() { grep -qE -- "$1" "$LOG"; }

root_sql "CREATE USER '$USER_'@'%' IDENTIFIED BY '$PASS';
  GRANT USAGE, PROCESS, REPLICATION CLIENT ON *.* TO '$USER_'@'%';" ||
  {
    gp_notok "cannot create the monitor account $USER_"
    gp_done
  }
mkdir -p "$DIR"
printf '%s\n' "$PASS" >"$DIR/monitor-password"
printf '%s\n' "$TOKEN" >"$DIR/admin-token"
chmod 600 "$DIR/monitor-password" "$DIR/admin-token"
cat >"$CONF" <<EOF
listen = "127.0.0.1:$PORT";
http_listen = "127.0.0.1:$HTTP";
http_admin_token_file = "admin-token";
log_level = "info";
limits = { shutdown_timeout_ms = 2000; };
monitor = { user = "$USER_"; password_file = "monitor-password"; interval_ms = 250; timeout_ms = 1000; };
backends = ( { name = "db1"; address = "127.0.0.1:$DB_PORT"; } );
EOF

echo "# start with the monitor password in a file"
gp_inst_start "$BIN" "$CONF" "$LOG"
PID=$GP_INST_PID
if gp_inst_wait_ready "$PID" "$PORT" 30; then
  gp_ok "the monitor logged in with password_file: clients are served"
else
  gp_notok "no SELECT 1 through the proxy within 30 s"
  tail -n 20 "$LOG" | sed 's/^/#   /'
  gp_done
fi
wait_for 5 db1_up true && gp_ok "db1 is up" || gp_notok "db1 is not up: $(st backends.0.reason)"

echo "# a reload re-reads the file"
printf '%s\n' "$WRONG" >"$DIR/monitor-password"
kill -HUP "$PID"
wait_for 5 logged "event=reload_done source=sighup config_version=2 .*changed=monitor\.password[, ].*monitor_restarted=1" &&
  gp_ok "SIGHUP: the changed file is a changed monitor.password (by name)" ||
  gp_notok "no reload_done naming monitor.password"
wait_for 10 db1_up false && gp_ok "with the wrong password in the file the monitor fails: db1 down" ||
  gp_notok "db1 stayed up with a wrong password"
printf '%s\r\n' "$PASS" >"$DIR/monitor-password" # CRLF: the line ending is not the secret
kill -HUP "$PID"
wait_for 10 db1_up true && gp_ok "the right password (CRLF file) brings db1 back" ||
  gp_notok "db1 is not back: $(st backends.0.reason)"
gp_eq 1 "$(gp_client -h127.0.0.1 -P"$PORT" -uapp -papp -N -B -e 'SELECT 1' 2>&1)" \
  "clients are served"

echo "# a missing file refuses the reload"
mv "$DIR/monitor-password" "$DIR/monitor-password.away"
kill -HUP "$PID"
wait_for 5 logged "event=reload_failed source=sighup" || true
gp_match "'password_file' in monitor: cannot read '$DIR/monitor-password': No such file or directory" \
  "$(st reload.last_error)" "reload.last_error names the key and the path"
gp_eq 3 "$(st config_version)" "the running configuration is kept (config_version 3)"
sleep 1
gp_eq true "$(st backends.0.up)" "the running monitor keeps its password: db1 stays up"
mv "$DIR/monitor-password.away" "$DIR/monitor-password"

echo "# secrets never shown"
metrics=$(curl -s --max-time 2 "http://127.0.0.1:$HTTP/metrics")
status=$(curl -s --max-time 2 "http://127.0.0.1:$HTTP/status")
for s in "$PASS" "$WRONG" "$TOKEN"; do
  what=${s%%-*}
  grep -qF -- "$s" "$LOG" && gp_notok "the log holds the $what" || gp_ok "the log never holds the $what"
  [[ "$metrics$status" == *"$s"* ]] && gp_notok "/status or /metrics holds the $what" ||
    gp_ok "/status and /metrics never hold the $what"
done
stop_pid "$PID" 10
PID=""
gp_eq 0 "$STOP_RC" "SIGTERM: exit status 0"
for marker in "ERROR: AddressSanitizer" "ERROR: LeakSanitizer" "runtime error:"; do
  grep -qF -- "$marker" "$LOG" && gp_notok "the log has '$marker'" || gp_ok "no '$marker' in the log"
done
gp_done
