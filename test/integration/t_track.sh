#!/usr/bin/env bash
# Issue 17, step 3: the proxy tracks every session's state without a client ever seeing it, and counts sessions movable or not by reason.
# gp-test-timeout: 120
#
# Runs its own proxy (the runner's binary and MariaDB, whose config turns session tracking
# on; port GP_TEST_TRACK_PORT, default the runner's + 760, HTTP on the next). Checks:
# - a raw-socket client (lib/rawclient.php) that did not ask for CLIENT_SESSION_TRACK reads
#   the same bytes, packet for packet, through the proxy as directly from the server (login
#   OK, SET NAMES, an INSERT with a last insert id and an info string, COM_INIT_DB, USE, a
#   multi-statement, SET of variables, a prepared INSERT executed, a result set, a
#   transaction, COM_PING, COM_RESET_CONNECTION), with classic EOFs and with DEPRECATE_EOF;
# - a client that asked for tracking reads the server's state blocks untouched (same bytes);
# - /status and /metrics count a plain session movable and, one session each, the reasons
#   user_var (SET @a), temp_table (CREATE TEMPORARY TABLE), sql_prepare (PREPARE s FROM),
#   lock (GET_LOCK), found_rows (SQL_CALC_FOUND_ROWS); the counts go back to 0 when the
#   sessions end; every backend reports session_track true.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=test/integration/lib/common.sh
source "$HERE/lib/common.sh"
# shellcheck source=test/integration/lib/proxyinst.sh
source "$HERE/lib/proxyinst.sh"
gp_need_env PROXY_HOST PROXY_PORT DB_PORT TEST_TMP PROXY_MODE

gp_inst_own track "${GP_TEST_TRACK_PORT:-$((PROXY_PORT + 760))}"
RAW=$HERE/lib/rawclient.php

PID=""
# shellcheck disable=SC2317 # reached through the EXIT trap
cleanup() {
  [[ -n "$PID" ]] && alive "$PID" && stop_pid "$PID" 10
}
trap cleanup EXIT

mkdir -p "$DIR"
cat >"$CONF" <<EOF
listen = "127.0.0.1:$PORT";
http_listen = "127.0.0.1:$HTTP";
log_level = "info";
limits = { shutdown_timeout_ms = 2000; };
monitor = { user = "monitor"; password = "monitor"; interval_ms = 250; timeout_ms = 1000; };
backends = ( { name = "db1"; address = "127.0.0.1:$DB_PORT"; } );
EOF
gp_inst_start "$BIN" "$CONF" "$LOG"
PID=$GP_INST_PID
if ! gp_inst_wait_ready "$PID" "$PORT" 30; then
  gp_notok "no SELECT 1 through the proxy within 30 s"
  tail -n 20 "$LOG" | sed 's/^/#   /'
  gp_done
fi

metric() {
  curl -s --max-time 2 "http://127.0.0.1:$HTTP/metrics" |
    awk -v k="galera_proxy_$1" '$1 == k { print $2; exit }'
}
status() { curl -s --max-time 2 "http://127.0.0.1:$HTTP/status"; }

# compare CAPS WHAT: the raw client's bytes directly and through the proxy
compare() {
  local caps=$1 what=$2 direct proxied t=trk_${RANDOM}
  direct=$(php "$RAW" 127.0.0.1 "$DB_PORT" app app "$t" "$caps" 2>&1) || {
    gp_notok "$what: the direct run failed: $direct"
    return
  }
  proxied=$(php "$RAW" 127.0.0.1 "$PORT" app app "$t" "$caps" 2>&1) || {
    gp_notok "$what: the run through the proxy failed: $proxied"
    return
  }
  # one table, dropped and created afresh by each run: the same ids, the same metadata
  if [[ "$direct" == "$proxied" ]]; then
    gp_ok "$what: $(wc -l <<<"$direct") packets byte-identical through the proxy and directly"
  else
    gp_notok "$what: the bytes differ"
    diff <(echo "$direct") <(echo "$proxied") | head -n 20 | sed 's/^/#   /'
  fi
}

echo "# a client without session tracking never sees it"
compare "" "classic EOF, no tracking"
compare deprecate_eof "DEPRECATE_EOF, no tracking"
gp_eq 2 "$(grep -c 'event=session_open .*track=proxy' "$LOG")" \
  "both sessions were tracked at the proxy's request (track=proxy)"
echo "# a client with session tracking reads the server's blocks"
c0=$(grep -c 'event=session_open .*track=client' "$LOG")
compare session_track "classic EOF, tracking"
compare deprecate_eof,session_track "DEPRECATE_EOF, tracking"
sum=$(php "$RAW" 127.0.0.1 "$PORT" app app "trk_${RANDOM}_s" deprecate_eof,session_track 2>&1 |
  grep -c '^set_names: .*636861726163746572')
gp_eq 1 "$sum" "the tracked SET NAMES names character_set_client (the block reached the client)"
gp_eq $((c0 + 3)) "$(grep -c 'event=session_open .*track=client' "$LOG")" \
  "those sessions asked for tracking themselves (track=client)"

echo "# sessions counted movable and not movable by reason"
gp_eq true "$(status | jq -r '.backends[0].session_track')" "the monitor sees db1 track session state"
gp_eq 0 "$(metric sessions_movable)" "no session, none movable"
# shellcheck disable=SC2016 # PHP code
out=$(php -r '
  [$port, $http] = [(int)$argv[1], $argv[2]];
  $steps = ["plain" => "SELECT 1", "user_var" => "SET @a = 1",
    "temp_table" => "CREATE TEMPORARY TABLE tt (a INT)", "sql_prepare" => "PREPARE s FROM \"SELECT 1\"",
    "lock" => "SELECT GET_LOCK(\"gp_track\", 0)", "found_rows" => "SELECT SQL_CALC_FOUND_ROWS 1 LIMIT 1"];
  $c = [];
  foreach ($steps as $k => $sql) {
    $m = new mysqli("127.0.0.1", "app", "app", "test", $port);
    $r = $m->query($sql);
    if (!$r) { echo "$k: ", $m->error, "\n"; exit(1); }
    $c[] = $m;
  }
  echo file_get_contents("http://$http/status"), "\n";
  echo file_get_contents("http://$http/metrics");
  foreach ($c as $m) $m->close();' "$PORT" "127.0.0.1:$HTTP" 2>&1)
st=$(head -n 1 <<<"$out")
gp_eq 1 "$(jq -r '.session_state.movable' <<<"$st" 2>&1)" "/status: the plain session is movable"
for r in user_var temp_table sql_prepare lock found_rows; do
  n=$(jq -r ".session_state.not_movable.$r" <<<"$st" 2>&1)
  gp_eq 1 "$n" "/status: one session not movable for $r"
  m=$(awk -v k="galera_proxy_sessions_not_movable{reason=\"$r\"}" '$1 == k { print $2 }' <<<"$out")
  gp_eq 1 "$m" "/metrics: sessions_not_movable{reason=\"$r\"} 1"
done
gp_eq 1 "$(awk '$1 == "galera_proxy_sessions_movable" { print $2 }' <<<"$out")" "/metrics: sessions_movable 1"
gp_eq 0 "$(jq -r '.session_state.not_movable.no_tracking' <<<"$st" 2>&1)" "no session lacks tracking"
end=$((SECONDS + 5))
until [[ $(metric sessions_movable) == 0 && $(metric 'sessions_not_movable{reason="lock"}') == 0 ]] ||
  ((SECONDS > end)); do sleep 0.1; done
gp_eq "0 0" "$(metric sessions_movable) $(metric 'sessions_not_movable{reason="user_var"}')" \
  "the counts go back to 0 when the sessions end"

echo "# the proxy"
grep -q 'event=untrack_failed' "$LOG" && gp_notok "an OK could not be untracked" ||
  gp_ok "no untrack_failed in the log"
stop_pid "$PID" 10
PID=""
gp_eq 0 "$STOP_RC" "SIGTERM: exit status 0"
for marker in "ERROR: AddressSanitizer" "ERROR: LeakSanitizer" "runtime error:"; do
  grep -q "$marker" "$LOG" && gp_notok "sanitizer: $marker" && tail -n 30 "$LOG" | sed 's/^/#   /'
done
gp_done
