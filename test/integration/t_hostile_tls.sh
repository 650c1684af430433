#!/usr/bin/env bash
# Hostile TLS clients, against a proxy of this test's own with a tls section: many half
# handshakes at once, a ClientHello of 20 KB (and one beyond OpenSSL's limit), a TLS 1.2
# renegotiation, close_notify in the middle of a command, a TLS 1.1-only client. Each is
# closed within client_handshake_timeout_ms (2 s here, 8 s under valgrind) and counted, while a TLS client and a
# plain one keep being served. (Garbage after an SSL request is in t_tls.)
# gp-test-timeout: 240
#
# Ports: GP_TEST_HOSTILE_TLS_PORT (default the runner's proxy port + 541) and the next one
# for HTTP. Needs Debian's python3 with PyMySQL (python3-pymysql) and the openssl CLI.
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

PY=/usr/bin/python3 # Debian's, where python3-pymysql installs
if ! "$PY" -c 'import pymysql, ssl' 2>/dev/null; then
  gp_notok "python3 with PyMySQL is missing (test/lib/deps.sh installs python3-pymysql)"
  gp_done
fi
PORT=${GP_TEST_HOSTILE_TLS_PORT:-$((PROXY_PORT + 541))}
HTTP=127.0.0.1:$((PORT + 1))
HS_MS=2000
# Under valgrind (20-50 times slower) an honest client's TLS login alone can take seconds.
[[ -z "${GP_VALGRIND:-}" ]] || HS_MS=8000
D=$TEST_TMP/hostile-tls
mkdir -p "$D"
BIN=$(gp_inst_bin) || {
  gp_notok "no proxy binary"
  gp_done
}
PID=""
LOOP_PID=""
cleanup() {
  [[ -z "$LOOP_PID" ]] || {
    touch "$D/loop.stop"
    stop_pid "$LOOP_PID" 10
  }
  [[ -z "$PID" ]] || stop_pid "$PID" 60
}
trap cleanup EXIT

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$D/ca.key" -out "$D/ca.pem" -days 2 \
  -subj "/CN=galera-proxy hostile tls CA" 2>/dev/null || gp_notok "openssl: CA"
openssl req -newkey rsa:2048 -nodes -keyout "$D/server.key" -out "$D/server.csr" \
  -subj /CN=127.0.0.1 2>/dev/null || gp_notok "openssl: key"
printf 'subjectAltName=IP:127.0.0.1\n' >"$D/server.ext"
openssl x509 -req -in "$D/server.csr" -CA "$D/ca.pem" -CAkey "$D/ca.key" -CAcreateserial \
  -days 2 -out "$D/server.pem" -extfile "$D/server.ext" 2>/dev/null || gp_notok "openssl: cert"

cat >"$D/proxy.conf" <<EOF
listen = "127.0.0.1:$PORT";
http_listen = "$HTTP";
log_level = "info";
limits = { client_handshake_timeout_ms = $HS_MS; };
monitor = { user = "monitor"; password = "monitor"; interval_ms = 250; };
tls = { cert = "$D/server.pem"; key = "$D/server.key"; };
backends = ( { name = "db1"; address = "127.0.0.1:$DB_PORT"; priority = 1; } );
EOF
"$BIN" --check-config -c "$D/proxy.conf" >"$D/check.log" 2>&1 ||
  gp_notok "--check-config: $(cat "$D/check.log")"
gp_inst_start "$BIN" "$D/proxy.conf" "$D/proxy.log"
PID=$GP_INST_PID
tls_sql() {
  gp_client -h127.0.0.1 -P"$PORT" -uapp -papp -N -B test --ssl --ssl-verify-server-cert \
    --ssl-ca="$D/ca.pem" "$@"
}
up=0
for ((i = 0; i < 600; i++)); do # valgrind's start-up takes seconds
  alive "$PID" || break
  tls_sql -e 'SELECT 1' >/dev/null 2>&1 && {
    up=1
    break
  }
  sleep 0.1
done
if ((up == 0)); then
  gp_notok "the TLS proxy did not come up: $(tail -5 "$D/proxy.log")"
  gp_done
fi
closed() { gp_metric_value "$HTTP" "galera_proxy_client_connections_closed_total{reason=\"$1\"}"; }
tlsm() { gp_metric_value "$HTTP" "galera_proxy_client_tls_handshakes_total{outcome=\"$1\"}"; }

# ---- the hostile clients (python3: raw sockets, ssl on memory BIOs, PyMySQL) -------------
cat >"$D/hostile.py" <<'EOF'
import os, socket, ssl, struct, sys, time

PORT = int(os.environ["PORT"])
CA = os.environ["CA"]
CAPS = 0x800 | 0x200 | 0x8000 | 0x80000  # SSL, PROTOCOL_41, SECURE_CONNECTION, PLUGIN_AUTH


def packet(payload, seq):
    return struct.pack("<I", len(payload))[:3] + bytes([seq]) + payload


SSL_REQUEST = packet(struct.pack("<II", CAPS, 1 << 24) + bytes([33]) + bytes(23), 1)


def starttls():
    """A socket past the greeting and the SSL request: what follows is TLS."""
    s = socket.create_connection(("127.0.0.1", PORT), timeout=10)
    s.recv(4096)
    s.sendall(SSL_REQUEST)
    return s


def client_hello():
    """A real ClientHello (this Python's OpenSSL), taken from a memory BIO."""
    ctx = ssl.create_default_context(cafile=CA)
    i, o = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(i, o, server_hostname="127.0.0.1")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return o.read()


def wait_closed(s, limit):
    """Seconds until the server closed s (EOF or reset); None if it did not within limit."""
    t0 = time.monotonic()
    s.settimeout(0.2)
    while time.monotonic() - t0 < limit:
        try:
            if s.recv(65536) == b"":
                return time.monotonic() - t0
        except socket.timeout:
            continue
        except OSError:
            return time.monotonic() - t0
    return None


def half(n, ready):
    """n connections stop halfway through their ClientHello, all at once."""
    hello = client_hello()
    socks = []
    for _ in range(n):
        s = starttls()
        s.sendall(hello[: len(hello) // 2])
        socks.append(s)
    t0 = time.monotonic()
    open(ready, "w").close()
    done = [wait_closed(s, 15) for s in socks]  # sequential: later ones are already closed
    late = [d for d in done if d is None]
    print("closed=%d of=%d max_ms=%d" % (n - len(late), n,
          int((time.monotonic() - t0) * 1000) if not late else -1))


def big_hello(size):
    """A TLS 1.2 ClientHello of about size bytes (an unknown extension pads it), in records
    of at most 16 KB: the first byte of the answer's handshake (2: ServerHello), or what else
    came back. Beyond 64 KB (more than the extensions' length field can say) the message is
    a header claiming size bytes and junk: OpenSSL refuses it from its header alone."""
    suites = [0xC02F, 0xC030, 0xC02B, 0xC02C, 0x009C, 0x009D, 0xCCA8, 0x1301, 0x1302]
    ext = b""
    ext += struct.pack(">HHH", 10, 6, 4) + struct.pack(">HH", 0x001D, 0x0017)  # groups
    ext += struct.pack(">HHB", 11, 2, 1) + b"\x00"  # ec_point_formats
    algs = [0x0804, 0x0401, 0x0403, 0x0805, 0x0501]
    ext += struct.pack(">HHH", 13, 2 + 2 * len(algs), 2 * len(algs))
    ext += b"".join(struct.pack(">H", a) for a in algs)
    ext += struct.pack(">HHB", 0xFF01, 1, 0)  # renegotiation_info (empty)
    pad = min(60000, max(0, size - 100 - len(ext)))
    ext += struct.pack(">HH", 0x4A4A, pad) + b"A" * pad  # unknown (GREASE): ignored
    body = b"\x03\x03" + os.urandom(32) + b"\x00"
    body += struct.pack(">H", 2 * len(suites)) + b"".join(struct.pack(">H", c) for c in suites)
    body += b"\x01\x00" + struct.pack(">H", len(ext)) + ext
    if size > 65000:
        body = bytes(size)
    msg = b"\x01" + struct.pack(">I", len(body))[1:] + body
    s = starttls()
    try:
        for i in range(0, len(msg), 16384):
            frag = msg[i : i + 16384]
            s.sendall(b"\x16\x03\x01" + struct.pack(">H", len(frag)) + frag)
        s.settimeout(5)
        head = s.recv(6)
    except OSError as e:
        print("hello=%d answer=reset(%s)" % (len(msg), e.__class__.__name__))
        return
    if len(head) == 6 and head[0] == 0x16 and head[5] == 2:
        print("hello=%d answer=server_hello" % len(msg))
    elif head[:1] == b"\x15":
        print("hello=%d answer=alert" % len(msg))
    else:
        print("hello=%d answer=%r" % (len(msg), head))
    t = wait_closed(s, 10)
    print("closed_after_ms=%d" % (int(t * 1000) if t is not None else -1))


def close_notify():
    """Logged in over TLS, half a COM_QUERY, then close_notify: the proxy must close."""
    import pymysql
    c = pymysql.connect(host="127.0.0.1", port=PORT, user="app", password="app",
                        database="test", ssl_ca=CA, ssl_verify_cert=True,
                        ssl_verify_identity=True)
    ok = c.cursor()
    ok.execute("SELECT 40 + 2")
    print("query=%s" % ok.fetchone()[0])
    s = c._sock  # an ssl.SSLSocket: PyMySQL's connection over TLS
    print("tls=%s" % s.version())
    s.sendall(struct.pack("<I", 100)[:3] + b"\x00" + b"\x03SELECT 1")  # 100 announced, 10 sent
    s.settimeout(5)
    t0 = time.monotonic()
    try:
        s.unwrap()  # our close_notify; returns when the proxy's comes, or it closes
    except (OSError, ssl.SSLError):
        pass
    raw = socket.socket(fileno=os.dup(s.fileno()))
    t = wait_closed(raw, 5)
    print("closed_after_ms=%d" % (int((time.monotonic() - t0) * 1000) if t is not None else -1))


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "half":
        half(int(sys.argv[2]), sys.argv[3])
    elif cmd == "big":
        big_hello(int(sys.argv[2]))
    elif cmd == "close_notify":
        close_notify()
EOF
hostile() { PORT=$PORT CA=$D/ca.pem timeout 60 "$PY" "$D/hostile.py" "$@" 2>&1; }

# ---- a TLS client and a plain one keep working throughout ---------------------------------
: >"$D/loop.ok"
: >"$D/loop.err"
(
  while [[ ! -e "$D/loop.stop" ]]; do
    for mode in --ssl-ca="$D/ca.pem" --skip-ssl; do
      if out=$(gp_client -h127.0.0.1 -P"$PORT" -uapp -papp -N -B test --connect-timeout=10 \
        "$mode" -e 'SELECT 1' 2>&1) && [[ "$out" == 1 ]]; then
        echo "$mode" >>"$D/loop.ok"
      else
        echo "$(date +%T.%N) $mode $out" >>"$D/loop.err"
      fi
    done
    sleep 0.1
  done
) &
LOOP_PID=$!

# ---- many half handshakes at once ----------------------------------------------------------
echo "# 200 clients stop halfway through their ClientHello"
hs0=$(closed handshake_timeout)
rm -f "$D/half.ready"
hostile half 200 "$D/half.ready" >"$D/half.out" &
half_pid=$!
for ((i = 0; i < 300; i++)); do
  [[ -e "$D/half.ready" ]] && break
  sleep 0.1
done
t0=$(gp_now_ms)
gp_eq 7 "$(tls_sql -e 'SELECT 7' 2>&1)" "a TLS client is served while 200 handshakes hang"
took=$(($(gp_now_ms) - t0))
if ((took < HS_MS)); then
  gp_ok "...at once (${took} ms, not after the hung ones' time-out)"
else
  gp_notok "the TLS client waited ${took} ms behind the hung handshakes"
fi
wait "$half_pid"
out=$(cat "$D/half.out")
max=$(sed -n 's/.*max_ms=\(-\?[0-9]*\).*/\1/p' <<<"$out")
if [[ "$out" == "closed=200 of=200"* ]] && ((max >= 0 && max < HS_MS + 1500)); then
  gp_ok "all 200 closed within client_handshake_timeout_ms ($out)"
else
  gp_notok "half handshakes: $out"
fi
gp_eq $((hs0 + 200)) "$(closed handshake_timeout)" "...counted as handshake_timeout"

# ---- ClientHello of 16 KB+ ------------------------------------------------------------------
echo "# a 20 KB ClientHello (two records), and one beyond OpenSSL's 128 KB limit"
out=$(hostile big 20000)
gp_match 'hello=(1[7-9]|2[0-9])[0-9]{3} answer=server_hello' "$out" \
  "a 20 KB ClientHello (two records) is answered with a ServerHello"
ms=$(sed -n 's/closed_after_ms=\(-\?[0-9]*\)/\1/p' <<<"$out")
if [[ -n "$ms" ]] && ((ms >= 0 && ms < HS_MS + 1500)); then
  gp_ok "...and closed when it goes no further (${ms} ms)"
else
  gp_notok "20 KB hello: $out"
fi
f0=$(tlsm failed)
out=$(hostile big 200000)
gp_match 'answer=(alert|reset)' "$out" "a 200 KB ClientHello is refused"
ms=$(sed -n 's/closed_after_ms=\(-\?[0-9]*\)/\1/p' <<<"$out")
if [[ "$out" == *reset* ]] || [[ -n "$ms" ]] && ((ms >= 0 && ms < 1000)); then
  gp_ok "...and closed at once"
else
  gp_notok "200 KB hello not closed at once: $out"
fi
gp_eq $((f0 + 1)) "$(tlsm failed)" "...counted as a failed handshake"

# ---- renegotiation -----------------------------------------------------------------------
echo "# TLS 1.2 renegotiation from openssl s_client ('R')"
ce0=$(closed client_error)
rm -f "$D/reneg.in"
mkfifo "$D/reneg.in"
timeout 30 openssl s_client -starttls mysql -tls1_2 -connect "127.0.0.1:$PORT" \
  -CAfile "$D/ca.pem" <"$D/reneg.in" >"$D/reneg.out" 2>&1 &
reneg_pid=$!
exec 7>"$D/reneg.in" # s_client's stdin, held open until we are done
for ((i = 0; i < 200; i++)); do # its handshake is done (well inside the handshake time-out)
  grep -q 'Verify return code' "$D/reneg.out" && break
  sleep 0.05
done
t0=$(gp_now_ms)
echo R >&7 # the session must be gone long before the handshake time-out could end it
for ((i = 0; i < 100; i++)); do
  (($(closed client_error) > ce0)) && break
  sleep 0.05
done
took=$(($(gp_now_ms) - t0))
exec 7>&-
wait "$reneg_pid"
out=$(cat "$D/reneg.out")
gp_match 'RENEGOTIATING' "$out" "s_client asked to renegotiate"
gp_match 'no renegotiation|handshake failure|alert' "$out" "...and was refused"
if ((took < 1500)); then
  gp_ok "...and the session closed (${took} ms after the request)"
else
  gp_notok "renegotiation: the session stayed (${took} ms): $(tail -3 <<<"$out")"
fi
gp_eq $((ce0 + 1)) "$(closed client_error)" "...counted as client_error"

# ---- close_notify mid-command -------------------------------------------------------------
echo "# PyMySQL over TLS: half a COM_QUERY, then close_notify"
cc0=$(closed client_closed)
out=$(hostile close_notify)
gp_match 'query=42' "$out" "PyMySQL logs in over TLS and queries"
gp_match 'tls=TLSv1\.[23]' "$out" "...with TLS"
ms=$(sed -n 's/closed_after_ms=\(-\?[0-9]*\)/\1/p' <<<"$out")
if [[ -n "$ms" ]] && ((ms >= 0 && ms < HS_MS)); then
  gp_ok "close_notify mid-command closes the session (${ms} ms)"
else
  gp_notok "close_notify: $out"
fi
gp_eq $((cc0 + 1)) "$(closed client_closed)" "...counted as client_closed"

# ---- TLS 1.1 only ------------------------------------------------------------------------------
echo "# a TLS 1.1-only client (OpenSSL's security level lowered on its side)"
f0=$(tlsm failed)
tf0=$(closed tls_failed)
out=$(timeout 20 openssl s_client -starttls mysql -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0' \
  -connect "127.0.0.1:$PORT" </dev/null 2>&1)
gp_match 'alert protocol version|unsupported protocol|wrong version|no protocols available' \
  "$out" "a TLS 1.1 client is refused (min_version TLSv1.2)"
gp_eq $((f0 + 1)) "$(tlsm failed)" "...counted as a failed handshake"
gp_eq $((tf0 + 1)) "$(closed tls_failed)" "...closed as tls_failed"
gp_match 'event=client_tls_failed .*(unsupported protocol|version)' \
  "$(grep client_tls_failed "$D/proxy.log")" "...logged with the reason"

# ---- the others were served throughout -------------------------------------------------
touch "$D/loop.stop"
wait "$LOOP_PID"
LOOP_PID=""
nok=$(wc -l <"$D/loop.ok")
nerr=$(wc -l <"$D/loop.err")
if ((nerr == 0 && nok >= 10)); then
  gp_ok "TLS and plain clients served throughout: $nok queries, 0 errors"
else
  gp_notok "served throughout: $nok ok, $nerr errors: $(head -3 "$D/loop.err")"
fi
gp_eq 0 "$(gp_session_gauges "$HTTP" | cut -d' ' -f2)" "no client connection left open"

stop_pid "$PID" "$(gp_inst_stop_s 30)"
PID=""
if ! vg=$(gp_inst_valgrind_problem "$D/proxy.log"); then
  gp_notok "the TLS proxy under valgrind: $vg"
elif [[ "$STOP_RC" == 0 ]] && ! grep -qE 'AddressSanitizer|LeakSanitizer|runtime error' \
  "$D/proxy.log"; then
  gp_ok "the TLS proxy shut down cleanly"
else
  gp_notok "the TLS proxy exited $STOP_RC: $(grep -m3 -E 'Sanitizer|runtime error' "$D/proxy.log")"
fi
gp_done
