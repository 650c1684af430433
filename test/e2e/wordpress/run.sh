#!/usr/bin/env bash
# WordPress end to end through galera-proxy: install, REST write/read, load, admin drain under load.
#
#   test/e2e/wordpress/run.sh [--build DIR] [--keep]
#
#   --build DIR  meson build directory holding proxy/galera-proxy (default: build)
#   --keep       keep the scratch directory (logs, summaries, datadir) even when all passed
#
# One standalone MariaDB on 127.0.0.1:3370 (the 3311-3313 cluster ports belong to the Galera
# suite), galera-proxy in front (rw 16333, ro 16334, HTTP 19680), and Debian's WordPress on
# nginx + php-fpm at 127.0.0.1:18080 with DB_HOST = the proxy (setup.sh). All real HTTP: the
# REST API with an application password, load.php for the load. The planned-maintenance check
# is an admin drain of db1 four times a second during the load (POST /backends/db1/drain:
# sessions closed at their next idle point; WordPress reconnects) with 0 failed requests and 0
# lost acknowledged posts/comments expected. Then the site restarts with MYSQL_CLIENT_FLAGS =
# MYSQLI_CLIENT_COMPRESS (setup.sh WP_DB_COMPRESS=1) and the pages, writes and a shorter load are
# checked again; the proxy's /metrics must show compressed sessions (none in the plain pass) and
# fewer wire bytes than payload bytes. Then twice more over TLS (the proxy has a `tls` section with
# a certificate from a CA made here): MYSQL_CLIENT_FLAGS = MYSQLI_CLIENT_SSL with MYSQL_SSL_CA, then
# MYSQLI_CLIENT_SSL | MYSQLI_CLIENT_SSL_VERIFY_SERVER_CERT | MYSQLI_CLIENT_COMPRESS (setup.sh
# WP_DB_SSL=1|verify, WP_DB_SSL_CA: PHP's openssl.cafile), each with pages, writes and a shorter
# load; /metrics must count a TLS handshake (and, with compression, a compressed session) for
# every connection WordPress opened during the load, none failed. What mysqlnd verifies in each
# mode is checked with mysqli directly. At the end the proxy must exit 0 on SIGTERM with no sanitizer report. Prints "ok N - name" / "not ok N - name" and "N passed, N failed";
# exits non-zero on any failure. Stops everything it started (by pid) on any exit.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
# shellcheck source=test/lib/mariadb.sh
source "$ROOT/test/lib/mariadb.sh"

# shellcheck source=test/lib/runner.sh
source "$ROOT/test/lib/runner.sh"
runner_args "$@"
PROXY_BIN=$BUILD/proxy/galera-proxy

DB_PORT=3370
RW=127.0.0.1:16333
RO=127.0.0.1:16334
HTTP=127.0.0.1:19680
WEB=127.0.0.1:18080
LOAD_SECONDS=${GP_WP_LOAD_SECONDS:-10}
LOAD_CONCURRENCY=${GP_WP_LOAD_CONCURRENCY:-8}
Z_LOAD_SECONDS=${GP_WP_Z_LOAD_SECONDS:-5} # the compressed pass's load (same checks, shorter)

sanitizer_env

WORK=$(mktemp -d /tmp/gp-wp.XXXXXX)
chmod 755 "$WORK" # mariadbd (mysql) and the web workers (www-data) must reach their files
SITE=$WORK/site
PROXY_PID=""
LOAD_PID=""

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_pid "$LOAD_PID"
  [[ -d "$SITE" ]] && bash "$HERE/stop.sh" "$SITE"
  stop_pid "$PROXY_PID"
  mariadb_stop "$WORK/db1" >/dev/null 2>&1
  runner_scratch_done "$WORK" "$rc"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# json FILE EXPR: the value of the PHP expression EXPR over $j, the decoded JSON FILE.
json() {
  # shellcheck disable=SC2016 # PHP code, not shell
  php -r '$j = json_decode(file_get_contents($argv[1]), true);
    $v = eval("return " . $argv[2] . ";");
    echo is_string($v) ? $v : json_encode($v), "\n";' "$1" "$2"
}

why_failed() { # why_failed SUMMARY: failures by reason and the first example
  json "$1" "json_encode([\$j['failed_by_reason'], \$j['failure_examples'][0] ?? null])" 2>/dev/null
}

metric() { # metric NAME: the value of an unlabelled family from /metrics (0 if absent)
  curl -s -m 5 "http://$HTTP/metrics" | awk -v n="$1" '$1 == n { v = $2 } END { print v + 0 }'
}

tlsm() { # tlsm OUTCOME: client_tls_handshakes_total{outcome=OUTCOME}
  metric "galera_proxy_client_tls_handshakes_total{outcome=\"$1\"}"
}

conns() { # conns: client connections accepted, TLS handshakes established, compressed sessions
  echo "$(metric galera_proxy_client_connections_accepted_total) $(tlsm established)" \
    "$(metric galera_proxy_client_compressed_sessions_total)"
}

load_delta() { # load_delta N: how much field N of conns grew during the last site_pass's load
  local a b
  a=$(cut -d' ' -f"$1" <<<"$LOAD_CONNS0")
  b=$(cut -d' ' -f"$1" <<<"$LOAD_CONNS1")
  echo $((b - a))
}

zbytes() { # zbytes: compressed clients' wire and payload bytes out and in, from /metrics
  curl -s -m 5 "http://$HTTP/metrics" | awk '
    $1 == "galera_proxy_client_compressed_bytes_total{direction=\"out\"}" { wo = $2 }
    $1 == "galera_proxy_client_compressed_bytes_total{direction=\"in\"}" { wi = $2 }
    $1 == "galera_proxy_client_compressed_payload_bytes_total{direction=\"out\"}" { po = $2 }
    $1 == "galera_proxy_client_compressed_payload_bytes_total{direction=\"in\"}" { pi = $2 }
    END { print wo + 0, po + 0, wi + 0, pi + 0 }'
}

# ---- start: MariaDB, galera-proxy ------------------------------------------------------------
[[ -x "$PROXY_BIN" ]] || {
  echo "run.sh: $PROXY_BIN not built" >&2
  exit 2
}
busy=$(ss -Hltn 2>/dev/null | awk '{print $4}' |
  grep -E ":($DB_PORT|16333|16334|19680|18080)\$" || true)
if [[ -n "$busy" ]]; then
  echo "run.sh: ports already in use: $busy" >&2
  exit 2
fi

# A CA and the proxy's certificate for 127.0.0.1 (what DB_HOST names); another CA that did not sign it.
CERTS=$WORK/certs
mkdir -p "$CERTS"
for ca in ca other; do
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$CERTS/$ca.key" -out "$CERTS/$ca.pem" \
    -days 2 -subj "/CN=galera-proxy wp-e2e $ca" 2>/dev/null
done
openssl req -newkey rsa:2048 -nodes -keyout "$CERTS/server.key" -out "$CERTS/server.csr" \
  -subj /CN=127.0.0.1 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' >"$CERTS/server.ext"
if ! openssl x509 -req -in "$CERTS/server.csr" -CA "$CERTS/ca.pem" -CAkey "$CERTS/ca.key" \
  -CAcreateserial -days 2 -out "$CERTS/server.pem" -extfile "$CERTS/server.ext" 2>/dev/null; then
  result FAIL "certificates made with the openssl CLI"
  finish
fi
chmod 644 "$CERTS/ca.pem" "$CERTS/other.pem" # the php-fpm workers (www-data) read the CA

if ! mariadb_start "$WORK/db1" "$DB_PORT" >/dev/null; then
  result FAIL "MariaDB on $DB_PORT started"
  finish
fi

cat >"$WORK/proxy.conf" <<EOF
listen = "$RW";
listen_ro = "$RO";
http_listen = "$HTTP";
name = "wp-e2e";
tls = { cert = "$CERTS/server.pem"; key = "$CERTS/server.key"; };
monitor = { user = "monitor"; password = "monitor"; };
backends = (
  { name = "db1"; address = "127.0.0.1:$DB_PORT"; priority = 1; }
);
EOF
"$PROXY_BIN" -c "$WORK/proxy.conf" </dev/null >>"$WORK/proxy.log" 2>&1 &
PROXY_PID=$!
for ((i = 0; i < 100; i++)); do
  [[ "$(curl -s -m 2 -o /dev/null -w '%{http_code}' "http://$HTTP/health")" == 200 ]] && break
  alive "$PROXY_PID" || break
  sleep 0.1
done
if ! [[ "$(curl -s -m 2 -o /dev/null -w '%{http_code}' "http://$HTTP/health")" == 200 ]]; then
  result FAIL "galera-proxy healthy with writer db1" "$(tail -n 5 "$WORK/proxy.log")"
  finish
fi

# ---- WordPress through the proxy -------------------------------------------------------------
t0=$(date +%s%N)
if ! bash "$HERE/setup.sh" "$SITE" "$RW" "$WEB" >"$WORK/setup.out" 2>"$WORK/setup.err"; then
  result FAIL "WordPress installed through galera-proxy, served by nginx + php-fpm" \
    "$(tail -n 5 "$WORK/setup.err")"
  finish
fi
log "set-up took $((($(date +%s%N) - t0) / 1000000)) ms"
# shellcheck source=/dev/null
source "$SITE/site.env"
tables=$(mariadb_sql "$WORK/db1" "SELECT COUNT(*) FROM information_schema.TABLES
  WHERE TABLE_SCHEMA = 'wordpress' AND TABLE_NAME LIKE 'wp\\_%'")
sessions=$(grep -c 'event=session_open .*user=app' "$WORK/proxy.log")
if [[ "$tables" -ge 12 && "$sessions" -ge 1 ]]; then
  result OK "WordPress installed through galera-proxy, served by nginx + php-fpm"
else
  result FAIL "WordPress installed through galera-proxy, served by nginx + php-fpm" \
    "wp_ tables on db1: $tables, proxy sessions of user app: $sessions"
fi

# site_pass TAG SECONDS: the site's pages and writes through the proxy: a REST post written and read
# back (REST, the read-only endpoint, the page), then SECONDS of steady load, every acknowledged
# write verified. TAG names the pass in the check names and the scratch files.
site_pass() {
  local tag=$1 seconds=$2 code got req fail acked
  local title="gp-e2e $tag post $$"
  code=$(curl -s -m 20 -o "$WORK/$tag-create.json" -w '%{http_code}' \
    -u "$GP_WP_USER:$GP_WP_APP_PASSWORD" -H 'Content-Type: application/json' \
    -d "{\"title\":\"$title\",\"content\":\"written through galera-proxy\",\"status\":\"publish\"}" \
    "$GP_WP_URL/?rest_route=/wp/v2/posts")
  POST_ID=$(json "$WORK/$tag-create.json" "\$j['id'] ?? 0" 2>/dev/null || echo 0)
  if [[ "$code" == 201 && "$POST_ID" -gt 0 ]]; then
    result OK "$tag: REST POST /wp/v2/posts with the application password: 201, id $POST_ID"
  else
    result FAIL "$tag: REST POST /wp/v2/posts with the application password" \
      "HTTP $code: $(head -c 300 "$WORK/$tag-create.json")"
  fi
  code=$(curl -s -m 20 -o "$WORK/$tag-read.json" -w '%{http_code}' \
    "$GP_WP_URL/?rest_route=/wp/v2/posts/$POST_ID")
  got=$(json "$WORK/$tag-read.json" "\$j['title']['rendered'] ?? ''" 2>/dev/null)
  [[ "$code" == 200 && "$got" == "$title" ]]
  verdict $? "$tag: REST GET /wp/v2/posts/$POST_ID reads it back" "HTTP $code, title '$got'"
  got=$(mariadb -h127.0.0.1 -P"${RO##*:}" -uapp -papp -N -B -e \
    "SELECT post_title FROM wordpress.wp_posts WHERE ID = $POST_ID" 2>&1)
  [[ "$got" == "$title" ]]
  verdict $? "$tag: the post is read through the read-only endpoint ($RO)" "got: $got"
  code=$(curl -s -m 20 -o "$WORK/$tag-front.html" -w '%{http_code}' "$GP_WP_URL/?p=$POST_ID")
  [[ "$code" == 200 ]] && ! grep -q 'Error establishing a database connection' \
    "$WORK/$tag-front.html"
  verdict $? "$tag: GET /?p=$POST_ID: 200, no database error page" "HTTP $code"

  LOAD_CONNS0=$(conns) # the proxy's counters around the load only (LOAD_CONNS0, LOAD_CONNS1)
  "${LOAD[@]}" run --site-env "$SITE/site.env" --seconds "$seconds" \
    --concurrency "$LOAD_CONCURRENCY" --tag "$tag" --out "$WORK/$tag.json" \
    --log "$WORK/$tag.tsv" 2>"$WORK/$tag.err"
  LOAD_CONNS1=$(conns)
  log "$(tail -n 1 "$WORK/$tag.err")"
  req=$(json "$WORK/$tag.json" "\$j['requests']" 2>/dev/null || echo 0)
  fail=$(json "$WORK/$tag.json" "\$j['failed']" 2>/dev/null || echo -1)
  acked=$(json "$WORK/$tag.json" "count(\$j['acked_posts']) + count(\$j['acked_comments'])" \
    2>/dev/null || echo 0)
  [[ "$req" -gt 0 && "$fail" == 0 && "$acked" -gt 0 ]]
  verdict $? "$tag: load $seconds s x $LOAD_CONCURRENCY: $req requests, $fail failed, $acked acked" \
    "$(why_failed "$WORK/$tag.json")"
  "${LOAD[@]}" verify --site-env "$SITE/site.env" --summary "$WORK/$tag.json" "${VERIFY_DB[@]}" \
    --out "$WORK/$tag-verify.json" 2>"$WORK/$tag-verify.err"
  verdict $? "$tag: every acknowledged post/comment exists (REST, proxy, db1 directly)" \
    "$(cat "$WORK/$tag-verify.err")"
}

LOAD=(php "$HERE/load.php")
VERIFY_DB=(--db "$RW" --db "127.0.0.1:$DB_PORT")
site_pass plain "$LOAD_SECONDS"
PLAIN_TLS=$(load_delta 2) # TLS handshakes during the plain load (checked with the TLS passes)

# The verifier must see a loss: a summary claiming a post that was never written.
# shellcheck disable=SC2016 # PHP code, not shell
php -r '$j = json_decode(file_get_contents($argv[1]), true);
  $j["acked"]["posts"][] = ["id" => 99999999, "title" => "never written"];
  file_put_contents($argv[2], json_encode($j));' "$WORK/plain.json" "$WORK/fake.json"
"${LOAD[@]}" verify --site-env "$SITE/site.env" --summary "$WORK/fake.json" "${VERIFY_DB[@]}" \
  --out "$WORK/fake-verify.json" 2>/dev/null
[[ $? -eq 1 ]]
verdict $? "verify reports an acknowledged post that does not exist"

# ---- planned maintenance: admin drain of the writer under load ---------------------------------
# WordPress keeps no connection between requests, but within a request a drained session is
# closed after a response; the next query gets "server has gone away" (2006) and wpdb
# reconnects through the proxy. Nothing may fail.
drained0=$(metric galera_proxy_sessions_drained_total)
"${LOAD[@]}" run --site-env "$SITE/site.env" --seconds $((LOAD_SECONDS + 2)) \
  --concurrency "$LOAD_CONCURRENCY" --tag drain --out "$WORK/drain.json" \
  --log "$WORK/drain.tsv" 2>"$WORK/drain.err" &
LOAD_PID=$!
sleep 2
# Four drains a second: often enough that some land while WordPress sessions are being set up.
drain_codes=()
for ((i = 0; i < 4 * (LOAD_SECONDS - 2); i++)); do
  drain_codes+=("$(curl -s -m 5 -o /dev/null -w '%{http_code}' -X POST \
    "http://$HTTP/backends/db1/drain")")
  sleep 0.25
done
wait "$LOAD_PID"
LOAD_PID=""
log "$(tail -n 1 "$WORK/drain.err")"
drained=$(($(metric galera_proxy_sessions_drained_total) - drained0))
closed=$(grep -c 'event=session_close .*reason=drained' "$WORK/proxy.log")
[[ $(printf '%s\n' "${drain_codes[@]}" | grep -cv '^200$') -eq 0 ]]
verdict $? "${#drain_codes[@]} admin drains of db1 answered 200"
[[ "$drained" -gt 0 ]]
verdict $? "the drains hit live WordPress sessions ($drained drained, $closed closed when idle)"
req=$(json "$WORK/drain.json" "\$j['requests']" 2>/dev/null || echo 0)
fail=$(json "$WORK/drain.json" "\$j['failed']" 2>/dev/null || echo -1)
win=$(json "$WORK/drain.json" "\$j['longest_failing_window_ms']" 2>/dev/null || echo '?')
[[ "$req" -gt 0 && "$fail" == 0 ]]
verdict $? "load during the drains: $req requests, $fail failed (longest failing window $win ms)" \
  "$(why_failed "$WORK/drain.json")"
"${LOAD[@]}" verify --site-env "$SITE/site.env" --summary "$WORK/drain.json" "${VERIFY_DB[@]}" \
  --out "$WORK/drain-verify.json" 2>"$WORK/drain-verify.err"
verdict $? "every post/comment acknowledged during the drains exists (REST, proxy, db1)" \
  "$(cat "$WORK/drain-verify.err")"

# ---- the same site with MYSQL_CLIENT_FLAGS = MYSQLI_CLIENT_COMPRESS -----------------------------
# The plain pass must not have compressed anything: then every compressed session and byte the
# proxy counts below is WordPress's, switched on by that one wp-config.php line.
zs0=$(metric galera_proxy_client_compressed_sessions_total)
[[ "$zs0" -eq 0 ]]
verdict $? "plain pass: no compressed client session" "compressed_sessions_total $zs0"
bash "$HERE/stop.sh" "$SITE"
t0=$(date +%s%N)
if ! WP_DB_COMPRESS=1 bash "$HERE/setup.sh" "$SITE" "$RW" "$WEB" >"$WORK/setup-z.out" \
  2>"$WORK/setup-z.err" || ! grep -q "^define('MYSQL_CLIENT_FLAGS', ('1' === '1'" \
  "$SITE/wp/wp-config.php"; then
  result FAIL "WordPress restarted with MYSQL_CLIENT_FLAGS = MYSQLI_CLIENT_COMPRESS" \
    "$(tail -n 5 "$WORK/setup-z.err")"
  finish
fi
log "restart with MYSQLI_CLIENT_COMPRESS took $((($(date +%s%N) - t0) / 1000000)) ms"
# shellcheck source=/dev/null
source "$SITE/site.env"
read -r wo0 po0 wi0 pi0 <<<"$(zbytes)"
site_pass compressed "$Z_LOAD_SECONDS"
zs=$(($(metric galera_proxy_client_compressed_sessions_total) - zs0))
read -r wo po wi pi <<<"$(zbytes)"
wo=$((wo - wo0)) po=$((po - po0)) wi=$((wi - wi0)) pi=$((pi - pi0))
ratio=$(awk -v w="$wo" -v p="$po" 'BEGIN { printf "%.2f", p ? w / p : 0 }')
log "compressed pass: $zs sessions; out $wo wire / $po payload bytes ($ratio)," \
  "in $wi wire / $pi payload bytes"
[[ "$zs" -gt 0 ]]
verdict $? "compressed pass: WordPress's sessions were compressed ($zs compressed_sessions_total)"
[[ "$po" -gt 0 && "$wo" -lt "$po" && "$pi" -gt 0 && $((wo + wi)) -lt $((po + pi)) ]]
verdict $? "compressed pass: wire bytes < payload bytes (out $wo < $po, $ratio; in $wi / $pi)"
zerr=$(metric galera_proxy_client_compressed_frame_errors_total)
[[ "$zerr" -eq 0 ]]
verdict $? "compressed pass: no compressed frame refused" "frame_errors_total $zerr"

# ---- the same site over TLS: MYSQLI_CLIENT_SSL, then MYSQLI_CLIENT_SSL | MYSQLI_CLIENT_COMPRESS -----
# The proxy offered TLS all along, but WordPress did not ask for it so far: no handshake during
# the plain and compressed loads. (The mariadb client's read-only checks did: it uses TLS whenever
# a server offers it.) So the handshakes of the TLS loads are WordPress's, switched on by
# MYSQL_CLIENT_FLAGS.
z_tls=$(load_delta 2)
[[ "$PLAIN_TLS" -eq 0 && "$z_tls" -eq 0 ]]
verdict $? "plain and compressed passes: WordPress's connections were not TLS" \
  "TLS handshakes during the plain load: $PLAIN_TLS, during the compressed load: $z_tls"

# What mysqlnd checks (wpdb has no TLS setting of its own; PHP's openssl.cafile is the CA): with
# MYSQLI_CLIENT_SSL alone it encrypts but accepts any certificate; with
# MYSQLI_CLIENT_SSL_VERIFY_SERVER_CERT too it refuses one its CA did not sign.
php_tls() { # php_tls VERIFY(0|1) CAFILE: mysqli through the proxy with wpdb's flags
  # shellcheck disable=SC2016 # PHP code, not shell
  php -d "openssl.cafile=$2" -r 'mysqli_report(MYSQLI_REPORT_OFF); $m = mysqli_init();
    $f = MYSQLI_CLIENT_SSL | ($argv[2] === "1" ? MYSQLI_CLIENT_SSL_VERIFY_SERVER_CERT : 0);
    if (!@$m->real_connect("127.0.0.1", "app", "app", "", (int)$argv[1], null, $f)) {
      echo "refused: ", $m->connect_error, "\n"; exit(1); }
    echo $m->query("SELECT 1")->fetch_row()[0] === "1" ? "ok\n" : "no result\n";' \
    "${RW##*:}" "$1" 2>&1
}
e0=$(tlsm established)
got=$(php_tls 1 "$CERTS/ca.pem")
[[ "$got" == ok && $(tlsm established) -gt "$e0" ]]
verdict $? "mysqli SSL | SSL_VERIFY_SERVER_CERT, openssl.cafile = the proxy's CA: TLS, verified" "$got"
f0=$(tlsm failed)
got=$(php_tls 1 "$CERTS/other.pem")
[[ "$got" == refused:* && $(tlsm failed) -gt "$f0" ]]
verdict $? "...trusting another CA: refused, and counted as a failed handshake" "$got"
got=$(php_tls 0 "$CERTS/other.pem")
[[ "$got" == ok ]]
verdict $? "mysqli MYSQLI_CLIENT_SSL alone does not check the certificate (another CA: connects)" \
  "$got"

# tls_site_pass TAG SSL(1|verify) COMPRESS(0|1): restart the site with MYSQL_CLIENT_FLAGS for
# them and MYSQL_SSL_CA, run site_pass, then check from /metrics that every connection of its
# load was TLS (and compressed).
tls_site_pass() {
  local tag=$1 ssl=$2 z=$3 fail0 acc est zs acc0 est0 zs0 acc1 est1 zs1 flags=MYSQLI_CLIENT_SSL
  [[ "$ssl" == 1 ]] || flags+=" | MYSQLI_CLIENT_SSL_VERIFY_SERVER_CERT"
  [[ "$z" == 0 ]] || flags+=" | MYSQLI_CLIENT_COMPRESS"
  bash "$HERE/stop.sh" "$SITE"
  t0=$(date +%s%N)
  if ! WP_DB_SSL=$ssl WP_DB_SSL_CA="$CERTS/ca.pem" WP_DB_COMPRESS=$z bash "$HERE/setup.sh" \
    "$SITE" "$RW" "$WEB" >"$WORK/setup-$tag.out" 2>"$WORK/setup-$tag.err" ||
    ! grep -q "| ('$ssl' !== '0' ? MYSQLI_CLIENT_SSL" "$SITE/wp/wp-config.php" ||
    ! grep -q "^define('MYSQL_CLIENT_FLAGS', ('$z' === '1'" "$SITE/wp/wp-config.php"; then
    result FAIL "$tag: WordPress restarted with MYSQL_CLIENT_FLAGS = $flags, MYSQL_SSL_CA" \
      "$(tail -n 5 "$WORK/setup-$tag.err")"
    finish
  fi
  log "restart with MYSQL_CLIENT_FLAGS = $flags took $((($(date +%s%N) - t0) / 1000000)) ms"
  # shellcheck source=/dev/null
  source "$SITE/site.env"
  fail0=$(tlsm failed)
  site_pass "$tag" "$Z_LOAD_SECONDS"
  read -r acc0 est0 zs0 <<<"$LOAD_CONNS0"
  read -r acc1 est1 zs1 <<<"$LOAD_CONNS1"
  acc=$((acc1 - acc0)) est=$((est1 - est0)) zs=$((zs1 - zs0))
  log "$tag: during the load $acc connections accepted, $est TLS handshakes, $zs compressed"
  [[ "$acc" -gt 0 && "$est" -eq "$acc" ]]
  verdict $? "$tag: every connection WordPress opened during the load was TLS ($est of $acc)"
  if [[ "$z" == 1 ]]; then
    [[ "$zs" -eq "$acc" ]]
    verdict $? "$tag: ...and compressed ($zs of $acc)"
  fi
  [[ $(tlsm failed) -eq "$fail0" ]]
  verdict $? "$tag: no TLS handshake failed" "failed: $fail0 -> $(tlsm failed)"
}
# The README's settings: MYSQLI_CLIENT_SSL and MYSQL_SSL_CA; then verified and compressed.
tls_site_pass tls 1 0
tls_site_pass tls-verified-compressed verify 1

alive "$PROXY_PID"
verdict $? "galera-proxy still running"
stop_pid "$PROXY_PID"
PROXY_PID=""
problems=$(proxy_exit_problems "$STOP_RC" "$WORK/proxy.log")
verdict $? "galera-proxy exits 0 on SIGTERM, no sanitizer report" "$problems"
finish
