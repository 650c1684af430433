#!/usr/bin/env bash
# TLS to the backend (tls.backend): proxies of this test's own in front of the suite's MariaDB,
# which offers TLS with certificates test/lib/mariadb.sh made (DB_DIR/tls). What the server
# sees is checked on the server: Ssl_cipher of the backend session, accounts that REQUIRE SSL
# or X509 (the monitor's own account too), and the session counts.
#
# Ports: GP_TEST_BTLS_PORT (default the runner's proxy port + 750) and the next one for HTTP.
set -uo pipefail
# shellcheck source=test/integration/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=test/integration/lib/proxyinst.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/proxyinst.sh"
gp_need_env PROXY_PORT DB_PORT DB_DIR TEST_TMP

if [[ "${PROXY_MODE:-}" == direct ]]; then
  echo "# direct mode: this test runs proxies of its own with TLS to the node; nothing to compare"
  gp_ok "skipped in direct mode (SKIP)"
  gp_done
fi

PORT=${GP_TEST_BTLS_PORT:-$((PROXY_PORT + 750))}
HTTP=127.0.0.1:$((PORT + 1))
D=$TEST_TMP/btls
T=$DB_DIR/tls
mkdir -p "$D"
BIN=$(gp_inst_bin) || {
  gp_notok "no proxy binary"
  gp_done
}
for f in ca.pem server.pem server.key client.pem client.key; do
  [[ -r "$T/$f" ]] || {
    gp_notok "the test MariaDB has no $T/$f (test/lib/mariadb.sh makes it)"
    gp_done
  }
done
PID=""
cleanup() { [[ -z "$PID" ]] || stop_pid "$PID" 20; }
trap cleanup EXIT

# Another CA (the wrong one to trust), and a copy of the right one that the test swaps.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
  -keyout "$D/other.key" -out "$D/other.pem" -subj "/CN=galera-proxy test other CA" \
  2>/dev/null || gp_notok "openssl: other CA"
cp "$T/ca.pem" "$D/bca.pem"

# Accounts: the monitor's twin that must come over TLS, and one per REQUIRE option.
root_sql() { mariadb --defaults-file="$DB_DIR/my.cnf" --protocol=socket -uroot -N -B -e "$*"; }
root_sql "
  DROP USER IF EXISTS btls_mon@'%', btls_ssl@'%', btls_x509@'%', btls_subj@'%';
  CREATE USER btls_mon@'%' IDENTIFIED VIA mysql_native_password USING PASSWORD('m') REQUIRE SSL;
  GRANT USAGE, PROCESS, REPLICATION CLIENT ON *.* TO btls_mon@'%';
  GRANT SELECT ON mysql.global_priv TO btls_mon@'%';
  CREATE USER btls_ssl@'%' IDENTIFIED BY 's' REQUIRE SSL;
  CREATE USER btls_x509@'%' IDENTIFIED BY 'x' REQUIRE X509;
  CREATE USER btls_subj@'%' IDENTIFIED BY 'j' REQUIRE SUBJECT '/CN=galera-proxy-test-client';
  GRANT ALL ON test.* TO btls_ssl@'%', btls_x509@'%', btls_subj@'%';" ||
  gp_notok "creating the test accounts failed"

# write_conf MONITOR_USER MONITOR_PASSWORD TLS_SETTINGS [EXTRA]: the proxy's configuration.
write_conf() {
  cat >"$D/proxy.conf" <<EOF
listen = "127.0.0.1:$PORT";
http_listen = "$HTTP";
log_level = "debug";
limits = { client_handshake_timeout_ms = 5000; };
monitor = { user = "$1"; password = "$2"; interval_ms = 250; timeout_ms = 5000; };
tls = { cert = "$T/server.pem"; key = "$T/server.key"; $3 };
${4:-}
backends = ( { name = "db1"; address = "127.0.0.1:$DB_PORT"; priority = 1; } );
EOF
}
start() {
  PID=""
  if ! "$BIN" --check-config -c "$D/proxy.conf" >"$D/check.log" 2>&1; then
    gp_notok "--check-config rejected: $(cat "$D/check.log")"
    return 1
  fi
  : >"$D/proxy.log"
  gp_inst_start "$BIN" "$D/proxy.conf" "$D/proxy.log"
  PID=$GP_INST_PID
  if gp_inst_wait_ready "$PID" "$PORT" 30; then
    return 0
  fi
  gp_notok "the proxy did not serve: $(tail -5 "$D/proxy.log")"
  stop
  return 1
}
stop() { # and the proxy must have exited cleanly: 0, no sanitizer report
  [[ -n "$PID" ]] || return 0
  stop_pid "$PID" 20
  PID=""
  if [[ "$STOP_RC" == 0 ]] && ! grep -qE 'AddressSanitizer|LeakSanitizer|runtime error' \
    "$D/proxy.log"; then
    gp_ok "the proxy shut down cleanly"
  else
    gp_notok "the proxy exited $STOP_RC: $(grep -m3 -E 'Sanitizer|runtime error' "$D/proxy.log")"
  fi
}
# psql USER PASSWORD [mariadb options...]: a plain client through the proxy.
psql() {
  local u=$1 p=$2
  shift 2
  gp_client -h127.0.0.1 -P"$PORT" -u"$u" -p"$p" -N -B test --skip-ssl "$@"
}
tsql() { # a TLS client through the proxy, verifying the proxy's certificate
  gp_client -h127.0.0.1 -P"$PORT" -uapp -papp -N -B test --ssl --ssl-verify-server-cert \
    --ssl-ca="$T/ca.pem" "$@"
}
cipher() { "$@" -e "SHOW SESSION STATUS LIKE 'Ssl_cipher'" 2>&1 | cut -f2; }
btm() { gp_metric_value "$HTTP" "galera_proxy_backend_tls_handshakes_total{outcome=\"$1\"}"; }
healthy() { curl -s --max-time 5 "http://$HTTP/status" | grep -o '"healthy":[a-z]*'; }
denied() { printf "ERROR 1045 (28000): Access denied for user '%s'@'127.0.0.1' (using password: YES)" "$1"; }

# ---- off: the backend leg is plain ---------------------------------------------------------
write_conf monitor monitor 'backend = "off";'
if start; then
  echo "# tls.backend = off"
  gp_eq "" "$(cipher psql app app)" "the server sees no cipher on the backend session"
  gp_eq "" "$(cipher tsql)" "...not even for a TLS client (its TLS ends in the proxy)"
  gp_eq "$(denied btls_ssl)" "$(psql btls_ssl s -e 'SELECT 1' 2>&1)" \
    "a REQUIRE SSL account is refused by the server"
  echo "# reload to backend = on: new backend legs are TLS, an open one goes on in clear"
  psql app app -e "SELECT SLEEP(2), (SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS
    WHERE VARIABLE_NAME = 'SSL_CIPHER')" >"$D/long.out" 2>&1 &
  long=$!
  sleep 0.5
  write_conf monitor monitor 'backend = "on";'
  r0=$(grep -c 'event=reload_done' "$D/proxy.log")
  kill -HUP "$PID"
  for _ in $(seq 50); do
    (($(grep -c 'event=reload_done' "$D/proxy.log") > r0)) && break
    sleep 0.1
  done
  gp_match 'reload_done.*monitor_restarted=1' "$(grep 'event=reload_done' "$D/proxy.log" | tail -1)" \
    "the reload restarted the monitor (TLS settings changed)"
  for _ in $(seq 30); do # until the new monitor has seen the node
    [[ "$(healthy)" == '"healthy":true' ]] && break
    sleep 0.1
  done
  gp_match '^TLS_' "$(cipher psql app app)" "a new session's backend leg is TLS"
  wait "$long"
  gp_eq $'0\t' "$(cat "$D/long.out")" "the session open across the reload finished, in clear"
  stop
fi

echo "# --check-config loads the backend client certificate"
write_conf monitor monitor "backend = \"on\"; backend_cert = \"$T/client.pem\";
  backend_key = \"$D/missing.key\";"
gp_match 'missing.key' "$("$BIN" --check-config -c "$D/proxy.conf" 2>&1)" \
  "a backend_key that does not load is named"

# ---- on: encrypted, no certificate check -----------------------------------------------------
write_conf btls_mon m 'backend = "on";'
if start; then
  echo "# tls.backend = on"
  gp_eq '"healthy":true' "$(healthy)" \
    "the monitor logs in with a REQUIRE SSL account: it reaches the node over TLS"
  gp_eq 1 "$(root_sql "SELECT COUNT(*) > 0 FROM information_schema.PROCESSLIST WHERE USER = 'btls_mon'")" \
    "...the server has its connection"
  gp_match '^TLS_' "$(cipher psql app app)" "plain client: the backend session has a cipher"
  gp_match 'Cipher in use is TLS_' "$(tsql -e 'status' 2>&1 | grep -i 'SSL:')" \
    "TLS client: its own leg reports a cipher"
  gp_match '^TLS_' "$(cipher tsql)" "...and so does its backend session"
  gp_match '^TLS_' "$(cipher psql app app --compress)" "compressed client over a TLS backend"
  gp_match '^TLS_' "$(cipher tsql --compress)" "compressed TLS client over a TLS backend"
  gp_eq 1 "$(psql app app --default-auth=client_ed25519 -e 'SELECT 1' 2>&1)" \
    "an auth switch (renumbered exchange), plain client"
  gp_eq 1 "$(tsql --default-auth=client_ed25519 -e 'SELECT 1' 2>&1)" "...and TLS client"
  gp_eq 2 "$(psql edapp edpass -e 'SELECT 2' 2>&1)" "an ed25519 account"
  gp_eq "$(denied app)" "$(psql app wrong -e 'SELECT 1' 2>&1)" "a wrong password: the server's refusal"
  gp_eq btls_ssl@% "$(psql btls_ssl s -e 'SELECT CURRENT_USER()' 2>&1)" \
    "a REQUIRE SSL account logs in (the server sees the backend leg's TLS)"
  gp_eq "$(denied btls_x509)" "$(psql btls_x509 x -e 'SELECT 1' 2>&1)" \
    "a REQUIRE X509 account is refused without backend_cert"

  echo "# large packets over the TLS backend"
  want=$(gp_sql_direct -e 'SELECT seq, REPEAT(MD5(seq), 20) FROM seq_1_to_20000' | md5sum)
  gp_eq "$want" "$(psql app app -e 'SELECT seq, REPEAT(MD5(seq), 20) FROM seq_1_to_20000' 2>&1 |
    md5sum)" "13 MB result identical to a direct one"
  gp_eq "$want" "$(tsql --compress -e 'SELECT seq, REPEAT(MD5(seq), 20) FROM seq_1_to_20000' \
    2>&1 | md5sum)" "...and through a compressed TLS client"
  big=$(head -c 17000000 /dev/zero | tr '\0' 'q')
  gp_eq 17000000 "$(printf "SELECT LENGTH('%s');\n" "$big" |
    psql app app --max-allowed-packet=64M 2>&1)" "17 MB query"
  want=$(printf "SELECT MD5('%s');\n" "$big" | gp_sql_direct --max-allowed-packet=64M)
  gp_eq "$want" "$(printf "SELECT MD5('%s');\n" "$big" | tsql --max-allowed-packet=64M 2>&1)" \
    "17 MB query from a TLS client, md5 as direct"

  echo "# PHP mysqli and PDO"
  php_out=$(PORT="$PORT" CA="$T/ca.pem" php -d display_errors=stderr -r '
    mysqli_report(MYSQLI_REPORT_OFF);
    $m = @new mysqli("127.0.0.1", "app", "app", "test", (int)getenv("PORT"));
    echo "mysqli=", $m->connect_errno ? "fail:" . $m->connect_error
      : $m->query("SHOW SESSION STATUS LIKE \"Ssl_cipher\"")->fetch_row()[1], "\n";
    $t = mysqli_init();
    $t->options(MYSQLI_OPT_SSL_VERIFY_SERVER_CERT, true);
    $t->ssl_set(null, null, getenv("CA"), null, null);
    $ok = @$t->real_connect("127.0.0.1", "btls_ssl", "s", "test", (int)getenv("PORT"), null,
                            MYSQLI_CLIENT_SSL);
    echo "mysqli_tls=", $ok ? $t->query("SELECT CURRENT_USER()")->fetch_row()[0]
      : "fail:" . mysqli_connect_error(), "\n";
    try {
      $p = new PDO("mysql:host=127.0.0.1;port=" . getenv("PORT") . ";dbname=test", "app", "app",
                   [PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION]);
      echo "pdo=", $p->query("SHOW SESSION STATUS LIKE \"Ssl_cipher\"")->fetch(PDO::FETCH_NUM)[1], "\n";
      $q = new PDO("mysql:host=127.0.0.1;port=" . getenv("PORT") . ";dbname=test", "app", "app",
                   [PDO::MYSQL_ATTR_SSL_CA => getenv("CA"),
                    PDO::MYSQL_ATTR_SSL_VERIFY_SERVER_CERT => true,
                    PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION]);
      $st = $q->prepare("SELECT ? + 1");
      $st->execute([41]);
      echo "pdo_tls=", $st->fetchColumn(), "\n";
    } catch (Throwable $e) { echo "pdo=fail:", $e->getMessage(), "\n"; }
  ' 2>&1)
  gp_match 'mysqli=TLS_' "$php_out" "mysqli (plain) over a TLS backend"
  gp_match 'mysqli_tls=btls_ssl@%' "$php_out" "mysqli MYSQLI_CLIENT_SSL, REQUIRE SSL account"
  gp_match 'pdo=TLS_' "$php_out" "PDO (plain) over a TLS backend"
  gp_match 'pdo_tls=42' "$php_out" "PDO with MYSQL_ATTR_SSL_CA, a prepared statement"

  s=$(btm started) e=$(btm established)
  gp_match '^[0-9]+$' "$e" "backend handshakes counted ($e)"
  ((e >= 15)) && gp_ok "every backend leg above was TLS ($e handshakes)" ||
    gp_notok "only $e backend TLS handshakes"
  gp_eq "$s" "$e" "as many established as started"
  gp_eq 0 "$(btm failed)" "none failed"
  stop
fi

# ---- verify, with a client certificate for REQUIRE X509 -------------------------------------
write_conf btls_mon m "backend = \"verify\"; backend_ca = \"$D/bca.pem\";
  backend_cert = \"$T/client.pem\"; backend_key = \"$T/client.key\";"
if start; then
  echo "# tls.backend = verify, backend_cert/key"
  gp_eq '"healthy":true' "$(healthy)" "the monitor verifies the node and is served"
  gp_match '^TLS_' "$(cipher psql app app)" "the backend session is TLS"
  gp_eq btls_x509@% "$(psql btls_x509 x -e 'SELECT CURRENT_USER()' 2>&1)" \
    "a REQUIRE X509 account logs in with the proxy's certificate"
  gp_eq btls_subj@% "$(psql btls_subj j -e 'SELECT CURRENT_USER()' 2>&1)" \
    "...and a REQUIRE SUBJECT one (the subject of backend_cert)"
  gp_eq btls_x509@% "$(tsql -ubtls_x509 -px -e 'SELECT CURRENT_USER()' 2>&1)" \
    "...from a TLS client without a certificate of its own (X509 is not forwarded)"

  echo "# the CA file now holds another CA (reloaded): new legs fail, clearly"
  cp "$D/other.pem" "$D/bca.pem"
  r0=$(grep -c 'event=reload_done' "$D/proxy.log")
  kill -HUP "$PID"
  for _ in $(seq 50); do
    (($(grep -c 'event=reload_done' "$D/proxy.log") > r0)) && break
    sleep 0.1
  done
  f0=$(btm failed)
  out=$(psql app app -e 'SELECT 1' 2>&1)
  gp_match '^ERROR 1047 \(08S01\).*TLS to backend db1 failed: certificate verify failed' "$out" \
    "a plain client gets an ERR naming the backend and the reason"
  out=$(tsql -e 'SELECT 1' 2>&1)
  gp_match '^ERROR 1047 \(08S01\).*TLS to backend db1 failed' "$out" \
    "...and so does a TLS client (renumbered ERR)"
  gp_eq $((f0 + 2)) "$(btm failed)" "both counted as failed backend handshakes"
  gp_match 'event=backend_tls_failed .*backend=db1 .*certificate verify failed' \
    "$(grep -m1 'event=backend_tls_failed' "$D/proxy.log")" "logged, naming the backend"
  gp_match '[1-9]' "$(gp_metric_value "$HTTP" \
    'galera_proxy_client_connections_closed_total{reason="backend_tls_failed"}')" \
    "closed as backend_tls_failed"
  cp "$T/ca.pem" "$D/bca.pem"
  kill -HUP "$PID"
  sleep 0.5
  gp_match '^TLS_' "$(cipher psql app app)" "the right CA back (reload): served again"
  stop
fi

echo "# verify against another CA from the start: the monitor fails its probes, saying why"
cp "$D/other.pem" "$D/bca.pem"
write_conf btls_mon m "backend = \"verify\"; backend_ca = \"$D/bca.pem\";"
: >"$D/proxy.log"
gp_inst_start "$BIN" "$D/proxy.conf" "$D/proxy.log"
PID=$GP_INST_PID
for _ in $(seq 100); do # until the monitor has failed its probes (valgrind starts slowly)
  grep -q 'probe_failed' "$D/proxy.log" &&
    curl -s --max-time 5 "http://$HTTP/status" | grep -q '"health":"unavailable' && break
  sleep 0.2
done
gp_match 'unavailable' "$(curl -s --max-time 5 "http://$HTTP/status" | grep -o '"health":"[a-z]*')" \
  "the node is down for the proxy"
gp_match 'probe_failed.*(certificate|TLS/SSL)' "$(grep -m1 'probe_failed' "$D/proxy.log")" \
  "the probe's failure names the certificate"
stop
cp "$T/ca.pem" "$D/bca.pem"

# ---- a node that offers no TLS: never used in clear ----------------------------------------
# A server that greets like MariaDB without CLIENT_SSL and accepts any login, in clear.
FAKE=$((PORT + 2))
FAKE_PORT=$FAKE php -r '
  $srv = stream_socket_server("tcp://127.0.0.1:" . getenv("FAKE_PORT"), $en, $es);
  if (!$srv) { fwrite(STDERR, "listen: $es\n"); exit(1); }
  $end = microtime(true) + 60; // stopped below, once both modes are checked
  while (microtime(true) < $end) {
    $c = @stream_socket_accept($srv, 1);
    if (!$c) continue;
    $p = chr(10) . "10.11.0-fake\0" . pack("V", 4) . "abcdefgh\0" . pack("v", 0xF7FF & ~0x0800)
       . chr(45) . pack("v", 2) . pack("v", 0x81BF) . chr(21) . str_repeat("\0", 10)
       . "ijklmnopqrst\0mysql_native_password\0";
    fwrite($c, substr(pack("V", strlen($p)), 0, 3) . chr(0) . $p);
    stream_set_timeout($c, 2);
    $a = fread($c, 4096);
    if ($a !== false && strlen($a) > 4) {
      fwrite($c, "\x07\x00\x00\x02\x00\x00\x00\x02\x00\x00\x00");
      fread($c, 4096);
    }
    fclose($c);
  }' >"$D/fake.log" 2>&1 &
FAKE_PID=$!
sleep 0.3
for mode in on verify; do
  tls="backend = \"$mode\";"
  want='the node offers no TLS \(tls.backend is on\): not used in clear'
  if [[ $mode == verify ]]; then
    tls="backend = \"verify\"; backend_ca = \"$T/ca.pem\";"
    want="TLS/SSL error: SSL is required, but the server does not support it"
  fi
  write_conf monitor monitor "$tls"
  sed "s/127.0.0.1:$DB_PORT/127.0.0.1:$FAKE/" "$D/proxy.conf" >"$D/fake.conf"
  : >"$D/proxy.log"
  gp_inst_start "$BIN" "$D/fake.conf" "$D/proxy.log"
  PID=$GP_INST_PID
  for _ in $(seq 1 150); do # ~1 s natively; under valgrind the start alone takes seconds
    grep -q 'probe_failed' "$D/proxy.log" &&
      curl -s --max-time 5 "http://$HTTP/status" | grep -q '"health":"unavailable' && break
    sleep 0.1
  done
  gp_match "probe_failed.*msg=\"$want\"" "$(grep -m1 'probe_failed' "$D/proxy.log")" \
    "$mode: a node without TLS fails the probe, saying so"
  gp_match 'unavailable' "$(curl -s --max-time 5 "http://$HTTP/status" | grep -o '"health":"[a-z]*')" \
    "$mode: ...and is down for routing"
  stop
done
stop_pid "$FAKE_PID" 5

# ---- deferred greetings and warm connections ------------------------------------------------
write_conf btls_mon m 'backend = "on";' 'handshake = { slots = 1; greeting_timeout_ms = 8000; };'
if start; then
  echo "# deferred greetings: the proxy runs the backend's TLS before answering"
  deferred() { gp_metric_value "$HTTP" 'galera_proxy_backend_deferred_greetings_total{backend="db1"}'; }
  exec 3<>"/dev/tcp/127.0.0.1/$PORT" # half-open: holds the one slot, answers nothing
  sleep 0.5
  d0=$(deferred)
  gp_match '^TLS_' "$(cipher psql app app)" "a plain client through a deferred greeting"
  gp_match '^TLS_' "$(cipher tsql --default-auth=client_ed25519)" \
    "...a TLS client with an auth switch"
  gp_eq btls_ssl@% "$(psql btls_ssl s -e 'SELECT CURRENT_USER()' 2>&1)" "...a REQUIRE SSL account"
  gp_eq $((${d0:-0} + 3)) "$(deferred)" "all three were greeted by the proxy"
  exec 3<&-
  stop
fi
write_conf btls_mon m 'backend = "on";' 'handshake = { slots = 4; warm = 2; greeting_timeout_ms = 1500; };'
if start; then
  echo "# warm connections: greeted ahead in clear, TLS once a client answers"
  sleep 0.5
  for i in 1 2 3; do
    gp_match '^TLS_' "$(cipher psql app app)" "client $i over a warm connection"
    sleep 0.3
  done
  n=$(grep -c 'event=greeting_reused' "$D/proxy.log")
  ((n >= 2)) && gp_ok "warm greetings were handed out ($n)" || gp_notok "only $n warm greetings used"
  sleep 2.5 # the unused ones are finished with the monitor's login, inside TLS (REQUIRE SSL)
  gp_match 'from=login to=quit' "$(grep -m1 'event=park_state.*to=quit' "$D/proxy.log")" \
    "an unused warm connection finished cleanly (logged in, COM_QUIT)"
  gp_eq 0 "$(grep -c 'event=park_login_failed' "$D/proxy.log")" "...never refused"
  stop
fi

root_sql "DROP USER IF EXISTS btls_mon@'%', btls_ssl@'%', btls_x509@'%', btls_subj@'%';"
gp_done
