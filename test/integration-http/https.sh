# https.sh - the HTTPS pass of test/integration-http/run.sh (sourced by it, after its proxy
# stopped): a proxy with http_tls on the same servers, scraped by the same Prometheus with
# `scheme: https` and the test CA; the admin POST with the token over HTTPS; plain HTTP to
# the HTTPS port closed unanswered and counted; the vrrp-hooks over https; a renewed
# certificate served after a reload; a second proxy that polls the first as its peer over
# HTTPS (peer_ca), and stops believing it when peer_ca names another CA. Certificates are made
# here with the openssl CLI.
# shellcheck shell=bash

HTTPS=127.0.0.1:$HTTPS_PORT
PEER_HTTPS=127.0.0.1:$PEER_HTTPS_PORT
TD=$WORK/tls
TLS_CONF=$WORK/proxy-https.conf
PEER_CONF=$WORK/proxy-peer.conf
PEER_LOG=$WORK/proxy-peer.log
mkdir -p "$TD"

https_ca() { # https_ca NAME: a self-signed CA
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TD/$1.key" -out "$TD/$1.pem" -days 2 \
    -subj "/CN=galera-proxy https test $1" 2>/dev/null
}
https_cert() { # https_cert NAME CA: a server certificate for 127.0.0.1 signed by CA
  openssl req -newkey rsa:2048 -nodes -keyout "$TD/$1.key" -out "$TD/$1.csr" \
    -subj /CN=127.0.0.1 2>/dev/null || return 1
  printf 'subjectAltName=IP:127.0.0.1\n' >"$TD/$1.ext"
  openssl x509 -req -in "$TD/$1.csr" -CA "$TD/$2.pem" -CAkey "$TD/$2.key" -CAcreateserial \
    -days 2 -out "$TD/$1.pem" -extfile "$TD/$1.ext" 2>/dev/null
}
# hcurl ARGS...: curl verifying the proxy against the test CA
hcurl() { curl -s -m 5 --cacert "$TD/ca.pem" "$@"; }
# served_serial HOST:PORT: the serial of the certificate a new connection is shown
served_serial() {
  openssl s_client -connect "$1" -CAfile "$TD/ca.pem" </dev/null 2>/dev/null |
    openssl x509 -noout -serial 2>/dev/null
}
https_metric() { # https_metric SERIES: its value in a scrape over HTTPS
  hcurl "https://$HTTPS/metrics" |
    awk -v s="$1" '$1 == s { print $2; found = 1 } END { if (!found) print "missing" }'
}
# https_conf FILE HTTP_ADDR LISTEN [EXTRA LINES]: write_conf's file, HTTPS on HTTP_ADDR
https_conf() {
  write_conf "$1" "$TOKEN" "$BK1,
$BK2"
  sed -i -e "s|^http_listen = .*|http_listen = \"$2\";|" \
    -e "s|^listen = .*|listen = \"127.0.0.1:$3\";|" \
    -e "s|^listen_ro = .*|listen_ro = \"127.0.0.1:$(($3 + 1))\";|" "$1"
  cat >>"$1" <<EOF
http_tls = true;
tls = { cert = "$TD/server.pem"; key = "$TD/server.key"; };
${4:-}
EOF
}
https_st() { # https_st PATH: one value of the HTTPS proxy's /status
  hcurl "https://$HTTPS/status" >"$WORK/status-https.json"
  php "$HERE/json.php" get "$WORK/status-https.json" "$1"
}
# peer_start: the second proxy, polling the first as its peer over HTTPS (started here, not
# in a test function: run_test runs those in a subshell, and cleanup must know its pid)
peer_start() {
  https_conf "$PEER_CONF" "$PEER_HTTPS" "$PEER_PORT" "name = \"proxy-b\"; peer = \"$HTTPS\";
peer_ca = \"$TD/ca.pem\";"
  "$PROXY_BIN" --check-config -c "$PEER_CONF" >"$WORK/peer-check.log" 2>&1 || return 1
  (cd "$WORK" && exec "${WRAPPER[@]}" "$PROXY_BIN" -c "$PEER_CONF" </dev/null >>"$PEER_LOG" 2>&1) &
  PEER_PID=$!
}
peer_status() { # peer_status PATH: one value of the peer proxy's /status
  hcurl "https://$PEER_HTTPS/status" >"$WORK/peer-status.json"
  php "$HERE/json.php" get "$WORK/peer-status.json" "$1"
}

t_https_serves() {
  local body
  body=$(hcurl -w '\n%{http_code}' "https://$HTTPS/health")
  [[ "$body" == *"writer db1"*$'\n'200 ]] || fail "GET /health over HTTPS: $body" || return 1
  hcurl "https://$HTTPS/metrics" >"$WORK/metrics-https.txt"
  promtool check metrics <"$WORK/metrics-https.txt" || fail "promtool check metrics" || return 1
  [[ $(https_metric 'galera_proxy_http_tls_handshakes_total{outcome="established"}') -ge 2 ]] ||
    fail "established handshakes not counted"
  # the certificate is verified: a client trusting another CA fails
  curl -s -m 5 --cacert "$TD/other.pem" -o /dev/null "https://$HTTPS/health" &&
    fail "a client trusting another CA accepted the proxy's certificate"
  return 0
}

t_https_plain_refused() {
  local before after code
  before=$(https_metric 'galera_proxy_http_tls_handshakes_total{outcome="failed"}')
  code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://$HTTPS/health")
  [[ "$code" == 000 ]] || fail "plain HTTP to the HTTPS port answered $code" || return 1
  code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' -X POST \
    -H "Authorization: Bearer $TOKEN" "http://$HTTPS/vrrp?state=FAULT")
  [[ "$code" == 000 ]] || fail "plain POST to the HTTPS port answered $code" || return 1
  after=$(https_metric 'galera_proxy_http_tls_handshakes_total{outcome="failed"}')
  ((after == before + 2)) || fail "failed handshakes $before -> $after, want +2" || return 1
  grep -q 'event=http_tls_failed client=127.0.0.1 error="http request"' "$TLS_LOG" ||
    fail "no http_tls_failed line naming the plain request" || return 1
  [[ $(https_st vrrp_state) != FAULT ]] ||
    fail "the plain POST changed the role" || return 1
  # a client that connects and never starts its handshake: closed after the 5 s request limit
  local t0 took
  before=$after
  t0=$(date +%s%N)
  timeout 15 bash -c 'exec 8<>"/dev/tcp/127.0.0.1/$1"; cat <&8 >/dev/null' _ "$HTTPS_PORT"
  took=$((($(date +%s%N) - t0) / 1000000))
  ((took >= 4500 && took < 8000)) || fail "a silent client was closed after $took ms, want ~5 s" ||
    return 1
  after=$(https_metric 'galera_proxy_http_tls_handshakes_total{outcome="failed"}')
  ((after == before + 1)) || fail "the silent client: failed $before -> $after, want +1"
}

t_https_prometheus() {
  cat >>"$WORK/prometheus.yml" <<EOF
  - job_name: galera-proxy-https
    scheme: https
    tls_config: { ca_file: "$TD/ca.pem" }
    static_configs: [ { targets: [ "$HTTPS" ] } ]
EOF
  kill -HUP "$PROM_PID"
  wait_for 30 is 1 prom 'up{job="galera-proxy-https"}' ||
    fail "Prometheus does not scrape the HTTPS proxy (up: $(prom 'up{job="galera-proxy-https"}'))" ||
    return 1
  wait_for 10 is 1 prom 'galera_proxy_backend_is_writer{job="galera-proxy-https",backend="db1"}' ||
    fail "no is_writer{db1}=1 through the HTTPS scrape"
}

t_https_admin() {
  local r
  r=$(hcurl -o "$WORK/body" -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" \
    "https://$HTTPS/vrrp?state=BACKUP")
  [[ $r == 200 ]] || fail "POST /vrrp over HTTPS with the token: $r $(cat "$WORK/body")" || return 1
  r=$(https_st vrrp_state)
  [[ $r == BACKUP ]] || fail "vrrp_state $r after the POST, want BACKUP" || return 1
  r=$(hcurl -o "$WORK/body" -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" \
    "https://$HTTPS/reload")
  [[ $r == 200 ]] || fail "POST /reload over HTTPS: $r $(cat "$WORK/body")"
}

t_https_hooks() {
  local hooks=$ROOT/vrrp-hooks r
  GALERA_PROXY_CACERT=$TD/ca.pem "$hooks/check" "$HTTPS" ||
    fail "check with GALERA_PROXY_CACERT failed" || return 1
  "$hooks/check" "https://$HTTPS" || fail "check https:// without a CA (-k) failed" || return 1
  GALERA_PROXY_CACERT=$TD/other.pem "$hooks/check" "$HTTPS" 2>/dev/null &&
    fail "check trusted a certificate from another CA" || true
  "$hooks/check" "$HTTPS" 2>/dev/null && fail "check over plain HTTP passed on the HTTPS port"
  printf '%s\n' "$TOKEN" >"$TD/token"
  GALERA_PROXY_CACERT=$TD/ca.pem GALERA_PROXY_NOTIFY_DIR=$WORK/notify \
    "$hooks/notify" --http "$HTTPS" --token-file "$TD/token" INSTANCE VI_1 MASTER 100 ||
    fail "notify over HTTPS failed" || return 1
  r=$(https_st vrrp_state)
  [[ $r == MASTER ]] || fail "vrrp_state $r after notify, want MASTER" || return 1
  GALERA_PROXY_CACERT=$TD/ca.pem "$hooks/supervise" --mark-up "$TD/track" --http "$HTTPS" \
    --pid "$TLS_PID" --timeout 5 2>/dev/null || fail "supervise --mark-up over HTTPS" || return 1
  [[ $(cat "$TD/track") == 0 ]] || fail "track file says $(cat "$TD/track") after --mark-up"
}

t_https_renewed_cert() {
  local old new r
  old=$(served_serial "$HTTPS")
  [[ -n "$old" ]] || fail "no certificate served" || return 1
  https_cert server ca || fail "openssl: renewed certificate" || return 1
  r=$(hcurl -o "$WORK/body" -w '%{http_code}' -X POST "https://$HTTPS/reload")
  [[ $r == 200 ]] || fail "POST /reload: $r $(cat "$WORK/body")" || return 1
  new=$(served_serial "$HTTPS")
  [[ -n "$new" && "$new" != "$old" ]] || fail "served $new after the reload, before $old"
}

t_https_peer() {
  [[ -n "$PEER_PID" ]] || fail "the peer proxy did not start: $(cat "$WORK/peer-check.log")" ||
    return 1
  wait_for 20 is db1 peer_status peer.writer ||
    fail "the peer proxy never saw the HTTPS proxy's writer (peer: $(peer_status peer))" || return 1
  is MASTER peer_status peer.vrrp_state || fail "peer state $(peer_status peer.vrrp_state)" ||
    return 1
  grep -q 'event=peer_tls .*verified=1' "$PEER_LOG" || fail "no peer_tls verified=1 line" ||
    return 1
  # another CA: the poll fails verification and the peer's view goes stale
  sed -i "s|^peer_ca = .*|peer_ca = \"$TD/other.pem\";|" "$PEER_CONF"
  kill -HUP "$PEER_PID"
  wait_for 20 is null peer_status peer ||
    fail "the peer's view survived a peer_ca of another CA" || return 1
  grep -q 'event=peer_lost' "$PEER_LOG" || fail "no peer_lost line"
}

t_https_secrets() {
  local f leak=0 keyline
  keyline=$(sed -n 2p "$TD/server.key")
  hcurl "https://$HTTPS/status" >"$WORK/status-https.json"
  for f in "$WORK/status-https.json" "$WORK/metrics-https.txt" "$TLS_LOG" "$PEER_LOG"; do
    for s in "$MON_PASS" "$TOKEN" "$keyline"; do
      grep -qF -- "$s" "$f" && {
        echo "$(basename "$f") contains a secret"
        leak=1
      }
    done
  done
  ((leak == 0))
}

log "HTTPS pass: certificates in $TD"
if https_ca ca && https_ca other && https_cert server ca; then
  TLS_LOG=$WORK/proxy-https.log
  https_conf "$TLS_CONF" "$HTTPS" "$LISTEN_PORT"
  if "$PROXY_BIN" --check-config -c "$TLS_CONF" >"$WORK/check-https.log" 2>&1; then
    (cd "$WORK" && exec "${WRAPPER[@]}" "$PROXY_BIN" -c "$TLS_CONF" </dev/null >>"$TLS_LOG" 2>&1) &
    TLS_PID=$!
    PROXY_PID=$TLS_PID # cleanup stops it
    # shellcheck disable=SC2034 # run.sh's run_test shows its tail
    PROXY_LOG=$TLS_LOG
    if wait_for 20 hcurl -f -o /dev/null "https://$HTTPS/health"; then
      run_test "https: /health and /metrics over HTTPS (verified), promtool, handshakes counted" t_https_serves
      run_test "https: plain HTTP (GET, POST with the token) closed unanswered, a silent client after 5 s, counted" t_https_plain_refused
      run_test "https: Prometheus scrapes with scheme https and the CA" t_https_prometheus
      run_test "https: admin POSTs with the token over HTTPS" t_https_admin
      run_test "https: vrrp-hooks check, notify, supervise over https" t_https_hooks
      run_test "https: a renewed certificate is served after a reload" t_https_renewed_cert
      peer_start
      run_test "https: a peer proxy polls over HTTPS (peer_ca), distrusts another CA" t_https_peer
      run_test "https: no secret in /status, /metrics or the logs" t_https_secrets
    else
      result FAIL "https: the HTTPS proxy did not answer /health within 20 s"
    fi
    for pid_log in "$PEER_PID:$PEER_LOG" "$PROXY_PID:$TLS_LOG"; do
      pid=${pid_log%%:*}
      [[ -n "$pid" ]] || continue
      stop_pid "$pid"
      if problems=$(proxy_exit_problems "$STOP_RC" "${pid_log#*:}"); then
        result OK "https: $(basename "${pid_log#*:}") proxy shut down cleanly"
      else
        result FAIL "https: $(basename "${pid_log#*:}") proxy shutdown: $problems"
      fi
    done
    PEER_PID=""
    PROXY_PID=""
  else
    result FAIL "https: --check-config: $(cat "$WORK/check-https.log")"
  fi
else
  result FAIL "https: openssl could not make the test certificates"
fi
