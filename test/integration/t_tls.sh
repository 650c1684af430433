#!/usr/bin/env bash
# TLS on the client leg: a proxy of this test's own with a tls section (certificates made here
# with the openssl CLI), tried with the mariadb client, PHP mysqli and PDO, a wrong CA, garbage
# after an SSL request, compression inside TLS, and a plain client under tls.require.
#
# Ports: GP_TEST_TLS_PORT (default the runner's proxy port + 531) and the next one for HTTP.
set -uo pipefail
# shellcheck source=test/integration/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=test/integration/lib/proxyinst.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/proxyinst.sh"
gp_need_env PROXY_PORT DB_PORT TEST_TMP

if [[ "${PROXY_MODE:-}" == direct ]]; then
  echo "# direct mode: this test runs a proxy of its own with TLS; nothing to compare"
  gp_ok "skipped in direct mode (SKIP)"
  gp_done
fi

PORT=${GP_TEST_TLS_PORT:-$((PROXY_PORT + 531))}
HTTP=127.0.0.1:$((PORT + 1))
D=$TEST_TMP/tls
mkdir -p "$D"
BIN=$(gp_inst_bin) || {
  gp_notok "no proxy binary"
  gp_done
}
PID=""
cleanup() { [[ -z "$PID" ]] || stop_pid "$PID" 20; }
trap cleanup EXIT

# ---- certificates: a CA, a server certificate it signs for 127.0.0.1, another CA ----------
mkcert() { # mkcert NAME CA_NAME SUBJ [SAN]
  openssl req -newkey rsa:2048 -nodes -keyout "$D/$1.key" -out "$D/$1.csr" -subj "$3" \
    2>/dev/null || return 1
  local ext=()
  if [[ -n "${4:-}" ]]; then
    printf 'subjectAltName=%s\n' "$4" >"$D/$1.ext"
    ext=(-extfile "$D/$1.ext")
  fi
  openssl x509 -req -in "$D/$1.csr" -CA "$D/$2.pem" -CAkey "$D/$2.key" -CAcreateserial \
    -days 2 -out "$D/$1.pem" "${ext[@]}" 2>/dev/null
}
for ca in ca other; do
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$D/$ca.key" -out "$D/$ca.pem" -days 2 \
    -subj "/CN=galera-proxy test $ca" 2>/dev/null || gp_notok "openssl: CA $ca"
done
mkcert server ca /CN=127.0.0.1 IP:127.0.0.1 || gp_notok "openssl: server certificate"
mkcert client ca /CN=app-client || gp_notok "openssl: client certificate"
mkcert rogue other /CN=rogue-client || gp_notok "openssl: rogue client certificate"

# write_conf [TLS SETTINGS...]: the proxy's configuration with these in its tls section.
write_conf() {
  cat >"$D/proxy.conf" <<EOF
listen = "127.0.0.1:$PORT";
http_listen = "$HTTP";
log_level = "debug";
limits = { client_handshake_timeout_ms = 2000; };
monitor = { user = "monitor"; password = "monitor"; interval_ms = 250; };
tls = { cert = "$D/server.pem"; key = "$D/server.key"; $* };
${EXTRA:-}
backends = ( { name = "db1"; address = "127.0.0.1:$DB_PORT"; priority = 1; } );
EOF
}
start() {
  PID=""
  if ! "$BIN" --check-config -c "$D/proxy.conf" >"$D/check.log" 2>&1; then
    gp_notok "--check-config rejected: $(cat "$D/check.log")"
    return 1
  fi
  gp_inst_start "$BIN" "$D/proxy.conf" "$D/proxy.log"
  PID=$GP_INST_PID
  local end=$((SECONDS + 30))
  while ((SECONDS < end)); do
    alive "$PID" || break
    if tls_sql -e 'SELECT 1' >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.2
  done
  gp_notok "the TLS proxy did not come up: $(tail -5 "$D/proxy.log")"
  stop
  return 1
}
stop() { # and the proxy must have exited cleanly: 0, no sanitizer report
  [[ -n "$PID" ]] || return 0
  stop_pid "$PID" "$(gp_inst_stop_s 20)"
  PID=""
  local vg
  if ! vg=$(gp_inst_valgrind_problem "$D/proxy.log"); then
    gp_notok "the TLS proxy under valgrind: $vg"
  elif [[ "$STOP_RC" == 0 ]] && ! grep -qE 'AddressSanitizer|LeakSanitizer|runtime error' \
    "$D/proxy.log"; then
    gp_ok "the TLS proxy shut down cleanly"
  else
    gp_notok "the TLS proxy exited $STOP_RC: $(grep -m3 -E 'Sanitizer|runtime error' "$D/proxy.log")"
  fi
}
tls_sql() { # through the proxy, TLS verified against the test's CA
  gp_client -h127.0.0.1 -P"$PORT" -uapp -papp -N -B test --ssl --ssl-verify-server-cert \
    --ssl-ca="$D/ca.pem" "$@"
}
plain_sql() { gp_client -h127.0.0.1 -P"$PORT" -uapp -papp -N -B test --skip-ssl "$@"; }
tlsm() { gp_metric_value "$HTTP" "galera_proxy_client_tls_handshakes_total{outcome=\"$1\"}"; }

# ---- TLS offered, not required -----------------------------------------------------------
write_conf 'require = false;'
if start; then
  echo "# mariadb --ssl --ssl-verify-server-cert"
  gp_match 'Cipher in use is (TLS_AES|TLS_CHACHA|ECDHE)' \
    "$(tls_sql -e 'status' 2>&1 | grep -i 'SSL:')" "the client reports a cipher in use"
  gp_eq 42 "$(tls_sql -e 'SELECT 42' 2>&1)" "a query over TLS"
  gp_eq "" "$(tls_sql -e "SHOW SESSION STATUS LIKE 'Ssl_cipher'" 2>&1 | cut -f2)" \
    "the backend leg is plain (the server sees no cipher)"
  out=$(gp_client -h127.0.0.1 -P"$PORT" -uapp -papp -N -B test --ssl --ssl-verify-server-cert \
    --ssl-ca="$D/other.pem" -e 'SELECT 1' 2>&1)
  gp_match 'ERROR 2026' "$out" "a client trusting another CA fails verification"
  gp_eq 7 "$(plain_sql -e 'SELECT 7' 2>&1)" "a plain client still works (require is off)"
  end=$(date -d "$(openssl x509 -enddate -noout -in "$D/server.pem" | cut -d= -f2)" +%s)
  gp_eq "$end" "$(gp_metric_value "$HTTP" galera_proxy_tls_certificate_expiry_timestamp_seconds)" \
    "the expiry gauge is the certificate's notAfter"

  echo "# large results, auth exchanges, compression inside TLS"
  want=$(gp_sql_direct -e 'SELECT seq, REPEAT(MD5(seq), 20) FROM seq_1_to_20000' | md5sum)
  gp_eq "$want" "$(tls_sql -e 'SELECT seq, REPEAT(MD5(seq), 20) FROM seq_1_to_20000' 2>&1 |
    md5sum)" "13 MB result over TLS identical to a direct one"
  gp_eq "$want" "$(tls_sql --compress -e 'SELECT seq, REPEAT(MD5(seq), 20) FROM seq_1_to_20000' \
    2>&1 | md5sum)" "the same result over TLS with compression"
  big=$(head -c 17000000 /dev/zero | tr '\0' 'k')
  gp_eq 17000000 "$(printf "SELECT LENGTH('%s');\n" "$big" |
    tls_sql --compress --max-allowed-packet=64M 2>&1)" "17 MB query, TLS + compression"
  gp_eq 17000000 "$(printf "SELECT LENGTH('%s');\n" "$big" |
    tls_sql --max-allowed-packet=64M 2>&1)" "17 MB query over TLS"
  # An account that needs an auth switch (mysql_native_password asked of a client that
  # offered another plugin): the exchange's sequence ids are renumbered both ways.
  gp_eq 1 "$(tls_sql --default-auth=client_ed25519 -e 'SELECT 1' 2>&1)" \
    "an auth switch over TLS (renumbered exchange)"

  echo "# PHP mysqli and PDO with verification"
  php_out=$(CA="$D/ca.pem" OTHER="$D/other.pem" PORT="$PORT" php -d display_errors=stderr -r '
    mysqli_report(MYSQLI_REPORT_OFF);
    $m = mysqli_init();
    $m->options(MYSQLI_OPT_SSL_VERIFY_SERVER_CERT, true);
    $m->ssl_set(null, null, getenv("CA"), null, null);
    $ok = @$m->real_connect("127.0.0.1", "app", "app", "test", (int)getenv("PORT"), null,
                            MYSQLI_CLIENT_SSL);
    echo "mysqli=", $ok ? $m->query("SELECT 5")->fetch_row()[0] : "fail:" . mysqli_connect_error(), "\n";
    $m2 = mysqli_init();
    $m2->options(MYSQLI_OPT_SSL_VERIFY_SERVER_CERT, true);
    $m2->ssl_set(null, null, getenv("OTHER"), null, null);
    $ok2 = @$m2->real_connect("127.0.0.1", "app", "app", "test", (int)getenv("PORT"), null,
                              MYSQLI_CLIENT_SSL);
    echo "mysqli_other=", $ok2 ? "connected" : "refused", "\n";
    try {
      $p = new PDO("mysql:host=127.0.0.1;port=" . getenv("PORT") . ";dbname=test", "app", "app",
                   [PDO::MYSQL_ATTR_SSL_CA => getenv("CA"),
                    PDO::MYSQL_ATTR_SSL_VERIFY_SERVER_CERT => true,
                    PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION]);
      echo "pdo=", $p->query("SELECT 6")->fetchColumn(), "\n";
    } catch (Throwable $e) { echo "pdo=fail:", $e->getMessage(), "\n"; }
  ' 2>&1)
  gp_match 'mysqli=5' "$php_out" "mysqli MYSQLI_CLIENT_SSL with verification"
  gp_match 'mysqli_other=refused' "$php_out" "mysqli trusting another CA is refused"
  gp_match 'pdo=6' "$php_out" "PDO with MYSQL_ATTR_SSL_CA"

  echo "# garbage after an SSL request, and a stall inside the handshake"
  f0=$(tlsm failed)
  # An SSL request (32 bytes, sequence id 1, CLIENT_SSL|PROTOCOL_41) and then not TLS.
  out=$(PORT=$PORT timeout 10 php -r '
    $s = stream_socket_client("tcp://127.0.0.1:" . getenv("PORT"), $e, $es, 5);
    $g = fread($s, 4096);
    $caps = 0x800 | 0x200 | 0x8000 | 0x80000;
    $req = pack("V", $caps) . pack("V", 16777216) . chr(33) . str_repeat("\0", 23);
    fwrite($s, substr(pack("V", strlen($req)), 0, 3) . chr(1) . $req);
    fwrite($s, str_repeat("GET / HTTP/1.0\r\n", 4));
    stream_set_timeout($s, 5);
    $t = microtime(true);
    while (!feof($s) && microtime(true) - $t < 5) { fread($s, 4096); }
    echo feof($s) ? "closed" : "open", "\n";
  ' 2>&1)
  gp_eq closed "$out" "garbage after an SSL request is closed"
  gp_eq $((f0 + 1)) "$(tlsm failed)" "...and counted as a failed handshake"
  start_ms=$(gp_now_ms)
  out=$(PORT=$PORT timeout 15 php -r '
    $s = stream_socket_client("tcp://127.0.0.1:" . getenv("PORT"), $e, $es, 5);
    fread($s, 4096);
    $caps = 0x800 | 0x200 | 0x8000 | 0x80000;
    $req = pack("V", $caps) . pack("V", 16777216) . chr(33) . str_repeat("\0", 23);
    fwrite($s, substr(pack("V", strlen($req)), 0, 3) . chr(1) . $req);
    fwrite($s, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"); /* half a ClientHello */
    stream_set_timeout($s, 12);
    while (!feof($s)) { if (fread($s, 4096) === false) break; }
    echo "closed\n";
  ' 2>&1)
  took=$(($(gp_now_ms) - start_ms))
  if [[ "$out" == closed ]] && ((took >= 1500 && took < 6000)); then
    gp_ok "a client stalled inside the TLS handshake is closed after ~2 s (${took} ms)"
  else
    gp_notok "stalled handshake: [$out] after ${took} ms"
  fi
  gp_match 'reason="handshake_timeout"' \
    "$(gp_metrics "$HTTP" | grep 'client_connections_closed_total{reason="handshake_timeout"}')" \
    "closed as a handshake time-out"
  n=$(tlsm established)
  gp_match '^[0-9]+$' "$n" "established handshakes counted ($n)"
  ((n >= 8)) && gp_ok "at least 8 handshakes established" || gp_notok "only $n handshakes"

  echo "# session resumption (openssl s_client -starttls mysql)"
  sc=(openssl s_client -starttls mysql -connect "127.0.0.1:$PORT" -CAfile "$D/ca.pem"
    -verify_return_error)
  r0=$(tlsm resumed)
  out=$(timeout 20 "${sc[@]}" -reconnect -tls1_2 </dev/null 2>&1)
  reused=$(grep -c '^Reused, ' <<<"$out")
  ((reused == 5)) && gp_ok "TLS 1.2: the five reconnects resumed the session (session cache)" ||
    gp_notok "TLS 1.2: $reused of 5 reconnects resumed: $(grep -m3 -E '^(New|Reused)' <<<"$out")"
  # TLS 1.3 tickets come after the handshake: the first client waits a second to read one.
  sleep 1 | timeout 20 "${sc[@]}" -tls1_3 -sess_out "$D/sess13" >"$D/sc1.log" 2>&1
  out=$(timeout 20 "${sc[@]}" -tls1_3 -sess_in "$D/sess13" </dev/null 2>&1)
  gp_match '(^|'$'\n'')Reused, TLSv1\.3' "$out" "TLS 1.3: a ticket resumes the session"
  gp_eq $((r0 + 6)) "$(tlsm resumed)" "the proxy counted the six resumptions"

  echo "# sysbench --mysql-ssl=on (8 threads, 5 s), beside the same run in clear"
  sb=(sysbench oltp_point_select --db-driver=mysql --mysql-host=127.0.0.1 --mysql-port="$PORT"
    --mysql-user=app --mysql-password=app --mysql-db=test --tables=1 --table-size=2000)
  "${sb[@]}" cleanup >/dev/null 2>&1
  if "${sb[@]}" prepare >"$D/sb-prepare.log" 2>&1; then
    e0=$(tlsm established)
    # sysbench 1.0 loads client-key.pem, client-cert.pem and cacert.pem from its directory.
    cp "$D/ca.pem" "$D/cacert.pem"
    cp "$D/client.pem" "$D/client-cert.pem"
    cp "$D/client.key" "$D/client-key.pem"
    (cd "$D" && "${sb[@]}" --mysql-ssl=on --threads=8 --time=5 --report-interval=0 run) \
      >"$D/sb-tls.log" 2>&1
    rc=$?
    gp_eq 0 "$rc" "sysbench --mysql-ssl=on exit status"
    gp_eq 0 "$(awk '/ignored errors:/ { print $3; exit }' "$D/sb-tls.log")" "...0 errors"
    gp_eq 0 "$(grep -c FATAL "$D/sb-tls.log")" "...no FATAL lines"
    e1=$(tlsm established)
    ((e1 - e0 >= 8)) && gp_ok "...its 8 connections were TLS ($((e1 - e0)) handshakes)" ||
      gp_notok "sysbench did not use TLS: $((e1 - e0)) handshakes"
    "${sb[@]}" --mysql-ssl=off --threads=8 --time=5 --report-interval=0 run >"$D/sb-plain.log" 2>&1
    q_tls=$(awk '/queries:/ { print $3; exit }' "$D/sb-tls.log" | tr -d '(')
    q_plain=$(awk '/queries:/ { print $3; exit }' "$D/sb-plain.log" | tr -d '(')
    echo "# point_select, 8 threads: ${q_tls:-?} qps over TLS, ${q_plain:-?} in clear (a shared machine: indicative)"
  else
    gp_notok "sysbench prepare over the TLS proxy failed: $(tail -n 3 "$D/sb-prepare.log")"
  fi
  "${sb[@]}" cleanup >/dev/null 2>&1

  echo "# reload: a renewed certificate (same path) for new clients; open sessions go on"
  reloads() { grep -c "event=$1" "$D/proxy.log"; }
  wait_log() { # wait_log EVENT COUNT: up to 10 s for the COUNTth line of EVENT
    local end=$((SECONDS + 10))
    while ((SECONDS < end)); do
      (($(reloads "$1") >= $2)) && return 0
      sleep 0.1
    done
    return 1
  }
  mkcert server2 other /CN=127.0.0.1 IP:127.0.0.1 || gp_notok "openssl: second server cert"
  cp "$D/server.pem" "$D/server1.pem"
  cp "$D/server.key" "$D/server1.key"
  tls_sql -e 'SELECT SLEEP(2), 8' >"$D/long.out" 2>&1 &
  long=$!
  sleep 0.5
  cp "$D/server2.pem" "$D/server.pem"
  cp "$D/server2.key" "$D/server.key"
  r0=$(reloads reload_done)
  kill -HUP "$PID"
  wait_log reload_done $((r0 + 1)) || gp_notok "no reload_done after SIGHUP"
  gp_match 'ERROR 2026' "$(tls_sql -e 'SELECT 1' 2>&1)" \
    "after the reload a client trusting only the old CA fails"
  gp_eq 1 "$(gp_client -h127.0.0.1 -P"$PORT" -uapp -papp -N -B test --ssl \
    --ssl-verify-server-cert --ssl-ca="$D/other.pem" -e 'SELECT 1' 2>&1)" \
    "...and new clients get the renewed certificate"
  wait "$long"
  gp_eq $'0\t8' "$(cat "$D/long.out")" "a TLS session open across the reload finished"
  echo "not a key" >"$D/server.key"
  f0=$(reloads reload_failed)
  kill -HUP "$PID"
  wait_log reload_failed $((f0 + 1)) || gp_notok "no reload_failed for a broken key"
  gp_match 'reload_failed.*cannot load key' "$(grep reload_failed "$D/proxy.log" | tail -1)" \
    "a key that does not load fails the reload, naming it"
  gp_eq 1 "$(gp_client -h127.0.0.1 -P"$PORT" -uapp -papp -N -B test --ssl \
    --ssl-verify-server-cert --ssl-ca="$D/other.pem" -e 'SELECT 1' 2>&1)" \
    "...and the running certificate stays"
  cp "$D/server1.pem" "$D/server.pem"
  cp "$D/server1.key" "$D/server.key"
  stop
fi

# ---- tls.ca: client certificates -----------------------------------------------------------
write_conf "ca = \"$D/ca.pem\";"
tls_sql() { # with the client certificate the CA signed
  gp_client -h127.0.0.1 -P"$PORT" -uapp -papp -N -B test --ssl --ssl-verify-server-cert \
    --ssl-ca="$D/ca.pem" --ssl-cert="$D/client.pem" --ssl-key="$D/client.key" "$@"
}
if start; then
  echo "# tls.ca: clients show a certificate"
  gp_eq 9 "$(tls_sql -e 'SELECT 9' 2>&1)" "a client with a certificate the CA signed"
  f0=$(tlsm failed)
  out=$(gp_client -h127.0.0.1 -P"$PORT" -uapp -papp -N -B test --ssl --ssl-verify-server-cert \
    --ssl-ca="$D/ca.pem" -e 'SELECT 1' 2>&1)
  gp_match '^ERROR (2013|2026)' "$out" "a client without a certificate is refused"
  out=$(gp_client -h127.0.0.1 -P"$PORT" -uapp -papp -N -B test --ssl --ssl-verify-server-cert \
    --ssl-ca="$D/ca.pem" --ssl-cert="$D/rogue.pem" --ssl-key="$D/rogue.key" -e 'SELECT 1' 2>&1)
  gp_match '^ERROR (2013|2026)' "$out" "a client certificate another CA signed is refused"
  gp_eq $((f0 + 2)) "$(tlsm failed)" "both counted as failed handshakes"
  stop
fi
tls_sql() {
  gp_client -h127.0.0.1 -P"$PORT" -uapp -papp -N -B test --ssl --ssl-verify-server-cert \
    --ssl-ca="$D/ca.pem" "$@"
}

# ---- deferred greetings (the slots are full: the proxy greets the client itself) -----------
EXTRA='handshake = { slots = 1; greeting_timeout_ms = 8000; };' write_conf 'require = true;'
if start; then
  echo "# deferred greetings offer TLS too"
  deferred() { gp_metric_value "$HTTP" 'galera_proxy_backend_deferred_greetings_total{backend="db1"}'; }
  exec 3<>"/dev/tcp/127.0.0.1/$PORT" # half-open: holds the one slot, answers nothing
  sleep 0.5
  d0=$(deferred)
  gp_eq 4 "$(tls_sql -e 'SELECT 4' 2>&1)" "a TLS login through a deferred greeting"
  gp_eq 1 "$(tls_sql --default-auth=client_ed25519 -e 'SELECT 1' 2>&1)" \
    "...and one with an auth switch"
  gp_eq $((${d0:-0} + 2)) "$(deferred)" "both were greeted by the proxy"
  want="ERROR 1045 (28000): Access denied for user 'app'@'127.0.0.1' (using password: YES)"
  gp_eq "$want" "$(plain_sql -e 'SELECT 1' 2>&1)" "a deferred plain client is refused (require)"
  exec 3<&-
  stop
fi

# ---- a certificate that does not load -----------------------------------------------------
sed "s|$D/server.key|$D/missing.key|" "$D/proxy.conf" >"$D/bad.conf"
out=$("$BIN" --check-config -c "$D/bad.conf" 2>&1)
gp_match 'cannot load key .*missing.key' "$out" \
  "--check-config names a key that does not load"

# ---- tls.require ---------------------------------------------------------------------------
write_conf 'require = true; min_version = "TLSv1.3";'
if start; then
  echo "# tls.require = true, min_version = TLSv1.3"
  f0=$(tlsm failed)
  gp_match '^ERROR 2026' "$(tls_sql --tls-version=TLSv1.2 -e 'SELECT 1' 2>&1)" \
    "a TLS 1.2-only client is refused under min_version TLSv1.3"
  gp_eq $((f0 + 1)) "$(tlsm failed)" "...counted as a failed handshake"
  gp_match 'Cipher in use is TLS_(AES|CHACHA)' "$(tls_sql -e 'status' 2>&1 | grep -i 'SSL:')" \
    "the default client gets a TLS 1.3 suite"
  aborted() { gp_sql_direct -e "SHOW GLOBAL STATUS LIKE 'Aborted_connects'" | cut -f2; }
  a0=$(aborted)
  want="ERROR 1045 (28000): Access denied for user 'app'@'127.0.0.1' (using password: YES)"
  gp_eq "$want" "$(plain_sql -e 'SELECT 1' 2>&1)" \
    "a plain client gets MariaDB's own refusal under require_secure_transport"
  gp_eq 1 "$(tlsm plain_refused)" "...counted"
  gp_eq 3 "$(tls_sql -e 'SELECT 3' 2>&1)" "a TLS client is served"
  sleep 1 # the refused client's backend connection is finished (or parked) by now
  gp_eq "$a0" "$(aborted)" "the refusal is no aborted connect on the server"
  stop
fi
gp_done
