#!/usr/bin/env bash
# Issue 17, step 2: native-password logins teach the proxy SHA1(password) only when it proves the stored hash; a changed or locked account wipes it.
# gp-test-timeout: 120
#
# Runs its own proxy (the runner's binary and MariaDB; port GP_TEST_LEARN_PORT, default the
# runner's + 742, HTTP on the next) with auth.refresh_ms 60000: after the first read, the
# only reads are those a login of an unknown user asks for, so each step below knows when
# the table changes. Checks, from /metrics (auth_logins_total{result}, auth_sessions_learned,
# auth_secrets_dropped_total) and the log: a held native session is learned (and given back
# when it ends); an empty password is learned; a user created after the read is not
# (no_hash) but its login asks for a read, and its next login is; an ed25519 login learns
# nothing (not_native); a COM_CHANGE_USER (mysqli::change_user) is learned; ALTER USER ...
# IDENTIFIED BY and ACCOUNT LOCK wipe a held session's secret at the next read
# (auth_forgotten); no password and no SHA1 of one in the log, /status or /metrics.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=test/integration/lib/common.sh
source "$HERE/lib/common.sh"
# shellcheck source=test/integration/lib/proxyinst.sh
source "$HERE/lib/proxyinst.sh"
gp_need_env PROXY_HOST PROXY_PORT DB_PORT DB_DIR TEST_TMP PROXY_MODE

gp_inst_own learn "${GP_TEST_LEARN_PORT:-$((PROXY_PORT + 742))}"
R=$RANDOM
READER=gp_lreader_$R
RPW=Rpw-$R$RANDOM-kept-out
PW1=Lpw-$R$RANDOM-kept-out
PW2=Lpw2-$R$RANDOM-kept-out
LPW=Kpw-$R$RANDOM-kept-out
CPW=Cpw-$R$RANDOM-kept-out
USERS=("$READER" "gp_learner_$R" "gp_empty_$R" "gp_locker_$R" "gp_cu_$R" "gp_new1_$R" "gp_new2_$R")

root_sql() {
  mariadb --defaults-file="$DB_DIR/my.cnf" --protocol=socket -uroot -N -B -e "$1"
}

PID=""
HELD=()
# shellcheck disable=SC2317 # reached through the EXIT trap
cleanup() {
  local p u
  for p in "${HELD[@]}"; do kill "$p" 2>/dev/null; done
  [[ -n "$PID" ]] && alive "$PID" && stop_pid "$PID" 10
  for u in "${USERS[@]}"; do root_sql "DROP USER IF EXISTS '$u'@'%'" 2>/dev/null; done
}
trap cleanup EXIT

metric() {
  curl -s --max-time 2 "http://127.0.0.1:$HTTP/metrics" |
    awk -v k="galera_proxy_$1" '$1 == k { print $2; exit }'
}
logins() { metric "auth_logins_total{result=\"$1\"}"; }
wait_for() {
  local end=$(($(gp_now_ms) + $1 * 1000))
  shift
  until "$@"; do
    (($(gp_now_ms) < end)) || return 1
    sleep 0.1
  done
}
metric_is() { [[ $(metric "$1") == "$2" ]]; }
login() { # login USER PASSWORD: one SELECT through the proxy
  gp_client -h127.0.0.1 -P"$PORT" -u"$1" ${2:+-p"$2"} -N -B -e 'SELECT 1' 2>&1
}
hold() { # hold USER PASSWORD: a session kept open in the background (pid in HELD)
  gp_client -h127.0.0.1 -P"$PORT" -u"$1" ${2:+-p"$2"} -N -B -e 'SELECT SLEEP(60)' \
    >/dev/null 2>&1 &
  HELD+=($!)
}
# expect_delta RESULT BEFORE WANT WHAT: auth_logins_total{result} rose by WANT
expect_delta() {
  local now
  wait_for 5 eval "(( \$(logins $1) - $2 >= $3 ))"
  now=$(logins "$1")
  gp_eq "$3" "$((now - $2))" "$4"
}

root_sql "CREATE USER '$READER'@'%' IDENTIFIED BY '$RPW';
  GRANT SELECT ON mysql.global_priv TO '$READER'@'%';
  CREATE USER 'gp_learner_$R'@'%' IDENTIFIED BY '$PW1';
  CREATE USER 'gp_empty_$R'@'%';
  CREATE USER 'gp_locker_$R'@'%' IDENTIFIED BY '$LPW';
  CREATE USER 'gp_cu_$R'@'%' IDENTIFIED BY '$CPW';
  GRANT ALL ON test.* TO 'gp_cu_$R'@'%';" || {
  gp_notok "cannot create the accounts"
  gp_done
}
mkdir -p "$DIR"
cat >"$CONF" <<EOF
listen = "127.0.0.1:$PORT";
http_listen = "127.0.0.1:$HTTP";
log_level = "info";
limits = { shutdown_timeout_ms = 2000; };
monitor = { user = "monitor"; password = "monitor"; interval_ms = 250; timeout_ms = 1000; };
auth = { user = "$READER"; password = "$RPW"; refresh_ms = 60000; };
backends = ( { name = "db1"; address = "127.0.0.1:$DB_PORT"; } );
EOF
gp_inst_start "$BIN" "$CONF" "$LOG"
PID=$GP_INST_PID
if ! gp_inst_wait_ready "$PID" "$PORT" 30; then
  gp_notok "no SELECT 1 through the proxy within 30 s"
  tail -n 20 "$LOG" | sed 's/^/#   /'
  gp_done
fi
wait_for 10 metric_is 'auth_accounts_state{state="ok"}' 1 && gp_ok "the accounts are read" ||
  gp_notok "the accounts were not read"
reads() { metric 'auth_accounts_reads_total{result="ok"}'; }

echo "# a native login, held"
l0=$(logins learned)
hold "gp_learner_$R" "$PW1"
expect_delta learned "$l0" 1 "the native login is learned"
wait_for 5 metric_is auth_sessions_learned 1 && gp_ok "one session holds a learned secret" ||
  gp_notok "auth_sessions_learned $(metric auth_sessions_learned), want 1"

echo "# an empty password"
l0=$(logins learned)
gp_eq 1 "$(login "gp_empty_$R" "")" "the empty-password user is served"
expect_delta learned "$l0" 1 "an empty password is learned too"
wait_for 5 metric_is auth_sessions_learned 1 && gp_ok "its slot is given back when it ends" ||
  gp_notok "auth_sessions_learned $(metric auth_sessions_learned), want 1"

echo "# a user the last read did not hold"
root_sql "CREATE USER 'gp_new1_$R'@'%' IDENTIFIED BY 'n1'"
n0=$(logins no_hash)
u0=$(metric auth_accounts_unknown_user_reads_total)
r0=$(reads)
gp_eq 1 "$(login "gp_new1_$R" n1)" "the new user is served (the server decides)"
expect_delta no_hash "$n0" 1 "its login learns nothing (no_hash)"
wait_for 5 eval "(( \$(reads) > $r0 ))" && gp_ok "...and asks for a read" || gp_notok "no read after the unknown user"
gp_eq $((u0 + 1)) "$(metric auth_accounts_unknown_user_reads_total)" "counted as an unknown-user read"
l0=$(logins learned)
gp_eq 1 "$(login "gp_new1_$R" n1)" "its next login is served"
expect_delta learned "$l0" 1 "...and learned"

echo "# ed25519"
x0=$(logins not_native)
gp_eq 1 "$(login edapp edpass)" "the ed25519 user is served"
expect_delta not_native "$x0" 1 "an ed25519 login learns nothing (not_native)"

echo "# COM_CHANGE_USER"
l0=$(logins learned)
# shellcheck disable=SC2016 # PHP code
out=$(php -r '
  $m = new mysqli("127.0.0.1", "app", "app", "test", (int)$argv[1]);
  if (!$m->change_user($argv[2], $argv[3], "test")) { echo "change_user failed: ", $m->error; exit(1); }
  echo $m->query("SELECT CURRENT_USER()")->fetch_row()[0];' "$PORT" "gp_cu_$R" "$CPW" 2>&1)
gp_match "^gp_cu_$R@" "$out" "mysqli::change_user to gp_cu_$R through the proxy"
expect_delta learned "$l0" 2 "the login and the COM_CHANGE_USER are both learned"

echo "# a changed password and a locked account wipe held secrets"
hold "gp_locker_$R" "$LPW"
wait_for 5 metric_is auth_sessions_learned 2 && gp_ok "two sessions hold secrets" ||
  gp_notok "auth_sessions_learned $(metric auth_sessions_learned), want 2"
d0=$(metric auth_secrets_dropped_total)
root_sql "ALTER USER 'gp_learner_$R'@'%' IDENTIFIED BY '$PW2';
  ALTER USER 'gp_locker_$R'@'%' ACCOUNT LOCK;
  CREATE USER 'gp_new2_$R'@'%' IDENTIFIED BY 'n2'"
sleep 1.1 # unknown-user reads: one a second
gp_eq 1 "$(login "gp_new2_$R" n2)" "a new user's login asks for a read"
wait_for 5 metric_is auth_secrets_dropped_total $((d0 + 2)) && gp_ok "both held secrets are wiped" ||
  gp_notok "auth_secrets_dropped_total $(metric auth_secrets_dropped_total), want $((d0 + 2))"
gp_eq 0 "$(metric auth_sessions_learned)" "no session holds a secret"
grep -q "event=auth_forgotten user=gp_learner_$R " "$LOG" && gp_ok "auth_forgotten names the changed user" ||
  gp_notok "no auth_forgotten for gp_learner_$R"
grep -q "event=auth_forgotten user=gp_locker_$R " "$LOG" && gp_ok "auth_forgotten names the locked user" ||
  gp_notok "no auth_forgotten for gp_locker_$R"
l0=$(logins learned)
gp_eq 1 "$(login "gp_learner_$R" "$PW2")" "the new password logs in"
expect_delta learned "$l0" 1 "...and is learned"

echo "# secrets never shown"
for p in "${HELD[@]}"; do kill "$p" 2>/dev/null; done
HELD=()
metrics=$(curl -s --max-time 2 "http://127.0.0.1:$HTTP/metrics")
status=$(curl -s --max-time 2 "http://127.0.0.1:$HTTP/status")
for s in "$RPW" "$PW1" "$PW2" "$LPW" "$CPW"; do
  h1=$(php -r 'echo sha1($argv[1]);' "$s")
  h2=$(php -r 'echo sha1(sha1($argv[1], true));' "$s")
  what=${s%%-*}
  for v in "$s" "$h1" "$h2"; do
    if grep -qiF -- "$v" "$LOG" || [[ "${metrics,,}${status,,}" == *"${v,,}"* ]]; then
      gp_notok "the $what password (or a SHA1 of it) is shown"
    fi
  done
  gp_ok "neither the $what password nor its SHA1s are in the log, /status or /metrics"
done
stop_pid "$PID" 10
PID=""
gp_eq 0 "$STOP_RC" "SIGTERM: exit status 0"
for marker in "ERROR: AddressSanitizer" "ERROR: LeakSanitizer" "runtime error:"; do
  grep -qF -- "$marker" "$LOG" && gp_notok "the log has '$marker'" || gp_ok "no '$marker' in the log"
done
gp_done
