#!/usr/bin/env bash
# tls.sh - what TLS costs a client: galera-proxy terminating it vs HAProxy relaying it to MariaDB.
#
#   bench/tls.sh [--bin FILE] [--time S] [--repeats N] [--threads "8 64"] [--churn-time S]
#                [--out FILE] [--keep]
#
#   --bin FILE       galera-proxy binary (default: BENCH_PROXY_BIN, else build-bench/proxy/galera-proxy)
#   --time S         seconds per sysbench run (default BENCH_TIME or 10)
#   --repeats N      interleaved repeats (default BENCH_REPEATS or 3)
#   --threads LIST   sysbench oltp_point_select thread counts (default "8 64")
#   --churn-time S   seconds per churn run (default BENCH_CHURN_TIME or 5)
#   --out FILE       the Markdown section (default bench/RESULTS-tls.md)
#   --keep           keep the scratch directory
#
# Its own MariaDB (127.0.0.1:3433, ssl_cert/ssl_key from a CA this script makes with the openssl
# CLI), HAProxy 2.6 mode tcp nbthread 1 on :16442 (it relays the client's TLS: MariaDB does the
# handshake), galera-proxy on :16443 (HTTP :16444) with a tls section (it terminates the client's
# TLS; its backend leg stays plain). Every path runs with TLS off and on, interleaved:
# sysbench oltp_point_select at each thread count (QPS, p99, proxy and server CPU per query),
# then connection churn: churn.c (libmariadb, as applications connect: a full handshake each time)
# and tlschurn.c (OpenSSL directly: plain, full handshakes, or resuming the saved session, TLS 1.3
# ticket and TLS 1.2 session id). Resumption through galera-proxy must happen (tlschurn -R) and
# be counted by the proxy (client_tls_handshakes_total{outcome="resumed"}), or the run fails.
# Under the suite lock like the rest of the bench. Stops everything it started, by pid.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
ROOT=$(dirname "$HERE")
# shellcheck source=SCRIPTDIR/lib.sh
source "$HERE/lib.sh"

BIN=${BENCH_PROXY_BIN:-$ROOT/build-bench/proxy/galera-proxy}
TIME=${BENCH_TIME:-10}
REPEATS=${BENCH_REPEATS:-3}
TLS_THREADS=${BENCH_TLS_THREADS:-"8 64"}
CHURN_TIME=${BENCH_CHURN_TIME:-5}
CHURN_WORKERS=${BENCH_CHURN_WORKERS:-4}
OUT=$HERE/RESULTS-tls.md
KEEP=${BENCH_KEEP:-0}
while (($#)); do
  case $1 in
  --bin) BIN=$2 ;;
  --time) TIME=$2 ;;
  --repeats) REPEATS=$2 ;;
  --threads) TLS_THREADS=$2 ;;
  --churn-time) CHURN_TIME=$2 ;;
  --out) OUT=$2 ;;
  --keep)
    KEEP=1
    shift
    continue
    ;;
  -h | --help)
    sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'
    exit 0
    ;;
  *) bench_die "tls.sh: unknown option '$1' (--help)" ;;
  esac
  [[ $# -ge 2 ]] || bench_die "tls.sh: $1 needs a value"
  shift 2
done
[[ -x "$BIN" ]] || bench_die "tls.sh: no galera-proxy at $BIN (bench/run.sh builds build-bench/; or --bin)"
for tool in sysbench haproxy mariadbd mariadb-install-db gcc mariadb_config openssl curl ss; do
  command -v "$tool" >/dev/null || bench_die "$tool not found (test/lib/deps.sh installs it)"
done
read -r -a THREADS <<<"$TLS_THREADS"
BENCH_PERCENTILE=99 # the issue judges p99
BENCH_TABLES=4
BENCH_TABLE_SIZE=100000
BENCH_USER=sb
BENCH_PASS=sb
BENCH_DB=sbtest
CLK_TCK=$(getconf CLK_TCK)
NCPU=$(nproc)
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
declare -A PORT=([direct]=3433 [haproxy-1t]=16442 [galera-proxy]=16443)
HTTP=127.0.0.1:16444
TPATHS=(direct haproxy-1t galera-proxy)
FAILURES=0

WORK=""
cleanup() {
  local rc=$? p
  trap - EXIT INT TERM
  for p in galera-proxy haproxy-1t; do
    [[ -z "${PID[$p]:-}" ]] || bench_stop_pid "${PID[$p]}" "${WORD[$p]}" "$p"
  done
  [[ -z "${PID[db]:-}" ]] || bench_stop_pid "${PID[db]}" "${WORD[db]}" "mariadbd"
  if [[ -n "$WORK" && -d "$WORK" ]]; then
    if [[ "$KEEP" == 1 || $rc -ne 0 ]]; then
      bench_log "tls: scratch files kept in $WORK"
    else
      rm -rf "$WORK"
    fi
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

for p in "${TPATHS[@]}"; do
  bench_port_check_free "${PORT[$p]}"
done
bench_port_check_free "${HTTP##*:}"
WORK=$(mktemp -d /tmp/gp-bench-tls.XXXXXX)
chmod 755 "$WORK"
bench_log "tls: scratch directory $WORK"

# ---- certificates: a CA, the server's (127.0.0.1) and a client's; sysbench's file names --------
C=$WORK/certs
mkdir -p "$C"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$C/ca.key" -out "$C/ca.pem" -days 2 \
  -subj "/CN=galera-proxy bench CA" 2>/dev/null || bench_die "openssl: CA"
for n in server client; do
  openssl req -newkey rsa:2048 -nodes -keyout "$C/$n.key" -out "$C/$n.csr" \
    -subj "/CN=$([[ $n == server ]] && echo 127.0.0.1 || echo bench-client)" 2>/dev/null ||
    bench_die "openssl: $n key"
  printf 'subjectAltName=IP:127.0.0.1\n' >"$C/$n.ext"
  openssl x509 -req -in "$C/$n.csr" -CA "$C/ca.pem" -CAkey "$C/ca.key" -CAcreateserial \
    -days 2 -out "$C/$n.pem" -extfile "$C/$n.ext" 2>/dev/null || bench_die "openssl: $n cert"
done
# sysbench 1.0's --mysql-ssl=on loads these three from its working directory.
cp "$C/ca.pem" "$C/cacert.pem"
cp "$C/client.pem" "$C/client-cert.pem"
cp "$C/client.key" "$C/client-key.pem"
chmod 644 "$C"/* # scratch keys of a throw-away CA; mariadbd (user mysql) reads server.key

# ---- builds ---------------------------------------------------------------------------------
bench_log "tls: building churn.c and tlschurn.c"
# shellcheck disable=SC2046 # mariadb_config prints several flags on purpose
gcc -O2 -std=gnu11 -Wall -Wextra -Werror $(mariadb_config --cflags) -o "$WORK/churn" \
  "$HERE/churn.c" $(mariadb_config --libs) -pthread || bench_die "churn.c does not compile"
gcc -O2 -std=gnu11 -Wall -Wextra -Werror -o "$WORK/tlschurn" "$HERE/tlschurn.c" -lssl -lcrypto \
  -pthread || bench_die "tlschurn.c does not compile"

# ---- server, proxies ------------------------------------------------------------------------
bench_mariadb_start "$WORK/db" "${PORT[direct]}" 2000 pool-of-threads \
  "ssl_ca=$C/ca.pem
ssl_cert=$C/server.pem
ssl_key=$C/server.key"
bench_sql "$WORK/db" "
  CREATE USER '$BENCH_USER'@'%' IDENTIFIED VIA mysql_native_password USING PASSWORD('$BENCH_PASS');
  GRANT ALL PRIVILEGES ON *.* TO '$BENCH_USER'@'%';
  CREATE USER 'monitor'@'%' IDENTIFIED VIA mysql_native_password USING PASSWORD('monitor');
  GRANT USAGE, PROCESS, REPLICATION CLIENT ON *.* TO 'monitor'@'%';
  CREATE DATABASE $BENCH_DB;"
[[ -n "$(bench_sql "$WORK/db" "SELECT @@have_ssl = 'YES'" | grep -x 1)" ]] ||
  bench_die "MariaDB did not enable TLS (log: $WORK/db/mariadbd.err)"
bench_log "tls: sysbench prepare"
sysbench oltp_point_select --tables="$BENCH_TABLES" --table-size="$BENCH_TABLE_SIZE" \
  --mysql-host=127.0.0.1 --mysql-port="${PORT[direct]}" --mysql-user="$BENCH_USER" \
  --mysql-password="$BENCH_PASS" --mysql-db="$BENCH_DB" prepare >"$WORK/prepare.log" 2>&1 ||
  bench_die "sysbench prepare failed: $(tail -n 3 "$WORK/prepare.log")"
bench_haproxy_start "$WORK" haproxy-1t "${PORT[haproxy-1t]}" "${PORT[direct]}" 1 4096
bench_gp_start "$WORK" galera-proxy "$BIN" "${PORT[galera-proxy]}" "${PORT[direct]}" 10000 \
  "http_listen = \"$HTTP\";
tls = { cert = \"$C/server.pem\"; key = \"$C/server.key\"; };"
GP_VERSION=$("$BIN" --version 2>&1 | head -n 1) || GP_VERSION=unknown

# Every path must carry TLS end to end as claimed: the client sees a cipher on its own side.
for p in "${TPATHS[@]}"; do
  bench_wait_query "${PORT[$p]}" "$BENCH_USER" "$BENCH_PASS" 15 || bench_die "$p does not answer"
  cipher=$(mariadb -h127.0.0.1 -P"${PORT[$p]}" -u"$BENCH_USER" -p"$BENCH_PASS" --ssl \
    --ssl-ca="$C/ca.pem" --ssl-verify-server-cert -e status 2>&1 | awk -F'\t+' '/^SSL:/ {print $2}')
  [[ "$cipher" == "Cipher in use is "* ]] || bench_die "$p: no TLS for a client ($cipher)"
  bench_log "tls: $p: $cipher"
done

# gp_tls OUTCOME: galera-proxy's client_tls_handshakes_total{outcome=OUTCOME}.
gp_tls() {
  curl -s -m 5 "http://$HTTP/metrics" |
    awk -v k="galera_proxy_client_tls_handshakes_total{outcome=\"$1\"}" '$1 == k { v = $2 }
      END { printf "%d\n", v + 0 }'
}
# db_ssl_accepts: the server's finished TLS handshakes (what HAProxy and direct clients cost it).
db_ssl_accepts() {
  bench_sql "$WORK/db" "SHOW GLOBAL STATUS LIKE 'Ssl_finished_accepts'" | awk '{print $2}'
}
# proof PATH TLS: TLS handshakes the TLS terminator of PATH counted (established, for the proxy).
proof() {
  if [[ "$2" == off ]]; then
    echo 0
  elif [[ "$1" == galera-proxy ]]; then
    gp_tls established
  else
    db_ssl_accepts
  fi
}

# ---- sysbench: point_select, TLS off and on, interleaved -------------------------------------
SB_TSV=$WORK/tls-sysbench.tsv
printf 'rep\tthreads\tpath\ttls\tqps\tp99_ms\tqueries\terrors\tproxy_us_per_q\tdb_us_per_q\tother_load_pct\tload1\ttls_handshakes\n' \
  >"$SB_TSV"

# tls_sb REP THREADS PATH TLS(off|on): one run, one row.
tls_sb() {
  local rep=$1 th=$2 path=$3 tls=$4 out pid c0=0 c1=0 d0 d1 s0 s1 m0 m1 t0 t1 h0 h1 rc=0 ssl=off
  local qps p99 q err
  out=$WORK/sb-$rep-$th-$path-$tls.txt
  pid=${PID[$path]:-}
  [[ "$tls" == off ]] || ssl=on
  [[ -z "$pid" ]] || c0=$(bench_cpu_ticks "$pid")
  h0=$(proof "$path" "$tls")
  d0=$(bench_cpu_ticks "${PID[db]}")
  s0=$(bench_child_ticks)
  m0=$(bench_machine_busy_ticks)
  t0=$(date +%s.%N)
  (cd "$C" && bench_sysbench "${PORT[$path]}" oltp_point_select "$th" "$TIME" "$out" \
    --mysql-ssl="$ssl") || rc=$?
  t1=$(date +%s.%N)
  m1=$(bench_machine_busy_ticks)
  s1=$(bench_child_ticks)
  d1=$(bench_cpu_ticks "${PID[db]}")
  [[ -z "$pid" ]] || c1=$(bench_cpu_ticks "$pid" 2>/dev/null) || c1=$c0
  h1=$(proof "$path" "$tls")
  read -r qps _ p99 q err < <(bench_sysbench_parse "$out")
  if ((rc != 0)) || [[ "$qps" == NA || "$err" != 0 ]]; then
    bench_log "tls rep $rep t=$th $path tls=$tls: sysbench failed (rc $rc): $(grep -m1 -i -e error -e fatal "$out" || tail -n 1 "$out")"
    qps=NA
    FAILURES=$((FAILURES + 1))
  elif [[ "$tls" == on ]] && ((h1 - h0 < th)); then
    bench_log "tls rep $rep t=$th $path: only $((h1 - h0)) TLS handshakes for $th connections"
    qps=NA
    FAILURES=$((FAILURES + 1))
  fi
  awk -v rep="$rep" -v th="$th" -v path="$path" -v tls="$tls" -v qps="$qps" -v p99="$p99" \
    -v q="$q" -v err="$err" -v c="$((c1 - c0))" -v d="$((d1 - d0))" -v s="$((s1 - s0))" \
    -v m="$((m1 - m0))" -v t0="$t0" -v t1="$t1" -v hz="$CLK_TCK" -v ncpu="$NCPU" \
    -v proxy="${pid:+1}" -v load1="$(cut -d' ' -f1 /proc/loadavg)" -v hs="$((h1 - h0))" 'BEGIN {
      other = (m - c - d - s) / ((t1 - t0) * hz * ncpu) * 100
      if (other < 0) other = 0
      printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%.1f\t%s\t%s\n", rep, th, path, tls, qps,
        p99, q, err, (proxy && q + 0 > 0 ? sprintf("%.2f", c / hz * 1e6 / q) : "NA"),
        (q + 0 > 0 ? sprintf("%.2f", d / hz * 1e6 / q) : "NA"), other, load1, hs
    }' >>"$SB_TSV"
  bench_log "$(tail -n 1 "$SB_TSV" | awk -F'\t' '{ printf "tls rep %s t=%-3s %-13s tls=%-3s %9s qps  p99 %6s ms  proxy %6s us/q  db %6s us/q  load %s", $1, $2, $3, $4, $5, $6, $9, $10, $12 }')"
}

bench_log "tls: warm-up (5 s per path, TLS on)"
for p in "${TPATHS[@]}"; do
  (cd "$C" && bench_sysbench "${PORT[$p]}" oltp_point_select 8 5 "$WORK/warmup-$p.txt" \
    --mysql-ssl=on) || bench_die "warm-up through $p failed: $(tail -n 3 "$WORK/warmup-$p.txt")"
done
bench_log "tls: sysbench, $REPEATS repeats x threads ${THREADS[*]} x ${#TPATHS[@]} paths x TLS off/on, ${TIME} s each"
for ((rep = 1; rep <= REPEATS; rep++)); do
  for th in "${THREADS[@]}"; do
    for p in "${TPATHS[@]}"; do
      for tls in off on; do
        tls_sb "$rep" "$th" "$p" "$tls"
      done
    done
  done
done

# ---- connection churn: libmariadb (full handshakes) and tlschurn (full vs resumed) ----------
CH_TSV=$WORK/tls-churn.tsv
printf 'rep\tpath\tclient\trate\tconnects\terrors\tproxy_us_per_conn\tdb_us_per_conn\toffered\tresumed\tproxy_resumed\tversion\tload1\tclient_us_per_conn\n' \
  >"$CH_TSV"
# The clients, by name: what each runs (the target's -h/-P/-u/-p come first).
declare -A CLIENT=(
  [libmariadb-plain]="churn run"
  [libmariadb-tls]="churn -s -C $C/ca.pem run"
  [raw-plain]="tlschurn -m plain"
  [tls1.3-full]="tlschurn -m full -V 1.3 -C $C/ca.pem"
  [tls1.3-resumed]="tlschurn -m resume -V 1.3 -C $C/ca.pem"
  [tls1.2-full]="tlschurn -m full -V 1.2 -C $C/ca.pem"
  [tls1.2-resumed]="tlschurn -m resume -V 1.2 -C $C/ca.pem"
  [php-plain]="phpchurn plain"
  [php-tls]="phpchurn ssl"
  [php-tls-verified]="phpchurn verify"
)
CLIENTS=(libmariadb-plain libmariadb-tls php-plain php-tls php-tls-verified raw-plain tls1.3-full
  tls1.3-resumed tls1.2-full tls1.2-resumed)
command -v php >/dev/null || bench_die "php not found (test/lib/deps.sh installs php-cli, php-mysql)"

# phpchurn HOST PORT USER PASS MODE WORKERS SECONDS: WORKERS php processes running phpchurn.php
# at once (as php-fpm workers would), their lines summed into one like churn's.
phpchurn() {
  local host=$2 port=$4 user=$6 pass=$8 mode=$9 workers=${10} secs=${11} i pids=() rc=0
  for ((i = 0; i < workers; i++)); do
    php -d "openssl.cafile=$C/ca.pem" "$HERE/phpchurn.php" "$host" "$port" "$user" "$pass" \
      "$mode" "$secs" >"$WORK/php.$i.out" &
    pids+=($!)
  done
  for i in "${pids[@]}"; do
    wait "$i" || rc=1
  done
  cat "$WORK"/php.*.out | tr ' ' '\n' | awk -F= -v mode="$mode" '
    $1 == "seconds" && $2 > s { s = $2 } $1 == "connects" { n += $2 } $1 == "errors" { e += $2 }
    $1 == "rate" { r += $2 } $1 == "workers" { w++ }
    END { printf "mode=php-%s workers=%d seconds=%.2f connects=%d errors=%d rate=%.1f\n", mode, w, s,
      n, e, r }'
  rm -f "$WORK"/php.*.out
  return "$rc"
}

# tls_churn REP PATH CLIENT: one churn run, one row.
tls_churn() {
  local rep=$1 path=$2 cl=$3 out=$WORK/churn-$1-$2-$3.txt pid=${PID[$2]:-} c0=0 c1=0 d0 d1
  local r0 r1 k0 k1 rc=0 rate n err off res ver strict=() words run
  read -r -a words <<<"${CLIENT[$cl]}"
  # Through galera-proxy resumption must happen (strict); MariaDB's is reported as found.
  [[ "$path" != galera-proxy || "$cl" != *resumed ]] || strict=(-R)
  [[ -z "$pid" ]] || c0=$(bench_cpu_ticks "$pid")
  d0=$(bench_cpu_ticks "${PID[db]}")
  r0=$(gp_tls resumed)
  run=("$WORK/${words[0]}")
  [[ "${words[0]}" != phpchurn ]] || run=(phpchurn)
  k0=$(bench_child_ticks) # the clients' CPU: children of this shell, counted once waited for
  "${run[@]}" -h 127.0.0.1 -P "${PORT[$path]}" -u "$BENCH_USER" -p "$BENCH_PASS" \
    "${strict[@]}" "${words[@]:1}" "$CHURN_WORKERS" "$CHURN_TIME" >"$out" 2>"$out.err" || rc=$?
  k1=$(bench_child_ticks)
  d1=$(bench_cpu_ticks "${PID[db]}")
  [[ -z "$pid" ]] || c1=$(bench_cpu_ticks "$pid" 2>/dev/null) || c1=$c0
  r1=$(gp_tls resumed)
  rate=$(bench_churn_field "$out" rate)
  n=$(bench_churn_field "$out" connects)
  err=$(bench_churn_field "$out" errors)
  off=$(bench_churn_field "$out" offered)
  res=$(bench_churn_field "$out" resumed)
  ver=$(bench_churn_field "$out" version)
  if ((rc != 0)) || [[ -z "$rate" || "${n:-0}" == 0 || "${err:-0}" != 0 ]]; then
    bench_log "tls churn rep $rep $path $cl failed (rc $rc): $(tail -n 2 "$out.err" | tr '\n' ' ')"
    rate=NA
    FAILURES=$((FAILURES + 1))
  elif ((${#strict[@]})) && ((r1 - r0 < ${res:-0} || ${res:-0} == 0)); then
    bench_log "tls churn rep $rep $path $cl: the proxy counted $((r1 - r0)) resumptions, the client $res"
    rate=NA
    FAILURES=$((FAILURES + 1))
  fi
  awk -v rep="$rep" -v path="$path" -v cl="$cl" -v rate="${rate:-NA}" -v n="${n:-0}" \
    -v err="${err:-NA}" -v c="$((c1 - c0))" -v d="$((d1 - d0))" -v hz="$CLK_TCK" \
    -v proxy="${pid:+1}" -v off="${off:-NA}" -v res="${res:-NA}" -v pr="$((r1 - r0))" \
    -v ver="${ver:-NA}" -v load1="$(cut -d' ' -f1 /proc/loadavg)" -v k="$((k1 - k0))" 'BEGIN {
      printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", rep, path, cl, rate, n,
        err, (proxy && n > 0 ? sprintf("%.1f", c / hz * 1e6 / n) : "NA"),
        (n > 0 ? sprintf("%.1f", d / hz * 1e6 / n) : "NA"), off, res,
        (path == "galera-proxy" ? pr : "NA"), ver, load1, (n > 0 ? sprintf("%.1f", k / hz * 1e6 / n) : "NA")
    }' >>"$CH_TSV"
  bench_log "$(tail -n 1 "$CH_TSV" | awk -F'\t' '{ printf "tls churn rep %s %-13s %-16s %8s conn/s  proxy %6s  db %6s  client %6s us/conn  resumed %s/%s (proxy %s)  load %s", $1, $2, $3, $4, $7, $8, $14, $10, $9, $11, $13 }')"
}

bench_log "tls: churn, $REPEATS repeats x ${#TPATHS[@]} paths x ${#CLIENTS[@]} clients, ${CHURN_TIME} s each"
for ((rep = 1; rep <= REPEATS; rep++)); do
  for p in "${TPATHS[@]}"; do
    for cl in "${CLIENTS[@]}"; do
      tls_churn "$rep" "$p" "$cl"
    done
  done
done

# The strict check must bite. A reload builds galera-proxy a new TLS context (new ticket keys,
# an empty session cache), so the sessions the workers saved before it cannot resume: a strict
# run across a reload has to fail, and say so.
bench_log "tls: negative control: tlschurn -R across a reload (SIGHUP) must fail"
"$WORK/tlschurn" -h 127.0.0.1 -P "${PORT[galera-proxy]}" -u "$BENCH_USER" -p "$BENCH_PASS" -R \
  -m resume -V 1.2 -C "$C/ca.pem" 2 3 >"$WORK/control.txt" 2>"$WORK/control.err" &
cpid=$!
sleep 1
kill -HUP "${PID[galera-proxy]}"
rc=0
wait "$cpid" || rc=$?
if ((rc == 1)) && grep -q 'resumption failed' "$WORK/control.err"; then
  CONTROL="a strict run across a reload failed as it must: $(grep -m1 'resumption failed' \
    "$WORK/control.err" | sed 's/^tlschurn: //')"
else
  CONTROL="**the strict check did not bite** (exit $rc: $(cat "$WORK/control.txt" "$WORK/control.err"))"
  FAILURES=$((FAILURES + 1))
fi
bench_log "tls: $CONTROL"

# ---- the report ------------------------------------------------------------------------------
tls_report() {
  cat <<EOF
## TLS: its cost per query and per connection, and session resumption

Written by \`bench/tls.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC'); how it works: [README.md](README.md).
One MariaDB ($(mariadbd --version 2>/dev/null | sed 's/^.*Ver //; s/ for .*//'), ssl_cert/ssl_key set, thread pool) on
:${PORT[direct]}; HAProxy ($(haproxy -v 2>/dev/null | head -n 1 | awk '{print $3}'), mode tcp, nbthread 1) on :${PORT[haproxy-1t]} relays the
client's TLS to MariaDB, which does the handshake; galera-proxy ($GP_VERSION) on
:${PORT[galera-proxy]} terminates the client's TLS itself (\`tls\` section, RSA 2048 certificate,
OpenSSL $(openssl version | awk '{print $2}')) and talks plain to MariaDB. Every path ran with TLS off and on,
interleaved, $REPEATS repeats. $NCPU CPUs shared by clients, proxies and server (and other work
on this machine): load average $LOAD0 at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end; the load1 column
of the raw data gives it for every run.

### sysbench oltp_point_select, TLS off and on (${TIME} s per run)

TLS on: \`--mysql-ssl=on\` (every connection is TLS; a proxy row counts only if the terminator
counted at least one handshake per thread). QPS: median (min–max); p99: median of the runs'
99th-percentile latency; CPU per query: the proxy's and MariaDB's utime+stime over the run ÷
queries. "TLS cost" is on − off of the proxy's CPU per query (MariaDB's for direct and HAProxy,
where MariaDB does the cryptography).

$(awk -F'\t' -v ths="${THREADS[*]}" -v paths="${TPATHS[*]}" "$BENCH_AWK_LIB"'
  NR == 1 { next }
  {
    k = $2 SUBSEP $3 SUBSEP $4
    if ($5 == "NA") { fail[k]++; next }
    qps[k] = qps[k] " " $5; p99[k] = p99[k] " " $6; db[k] = db[k] " " $10
    if ($9 != "NA") px[k] = px[k] " " $9
    la[k] = la[k] " " $12
  }
  function m(list) { return stats(list) ? MED : "" }
  END {
    print "| threads | path | QPS off | QPS on | on ÷ off | p99 ms off / on | proxy CPU µs/q off / on | DB CPU µs/q off / on | TLS cost µs/q | load1 |"
    print "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    nt = split(ths, T, " "); np = split(paths, P, " ")
    for (t = 1; t <= nt; t++) for (p = 1; p <= np; p++) {
      a = T[t] SUBSEP P[p] SUBSEP "off"; b = T[t] SUBSEP P[p] SUBSEP "on"
      if (!stats(qps[a])) { qa = "failed" } else qa = sprintf("%s (%s–%s)", commas(MED), commas(MIN), commas(MAX))
      if (!stats(qps[b])) { qb = "failed" } else qb = sprintf("%s (%s–%s)", commas(MED), commas(MIN), commas(MAX))
      if (fail[a]) qa = qa sprintf(" + %d failed", fail[a]); if (fail[b]) qb = qb sprintf(" + %d failed", fail[b])
      r = ratio(m(qps[b]), m(qps[a]))
      pa = m(px[a]); pb = m(px[b]); da = m(db[a]); dbb = m(db[b])
      if (P[p] == "galera-proxy") cost = (pa != "" && pb != "") ? sprintf("%+.1f (proxy)", pb - pa) : "—"
      else cost = (da != "" && dbb != "") ? sprintf("%+.1f (MariaDB)", dbb - da) : "—"
      la0 = m(p99[a]); la1 = m(p99[b]); stats(la[a] la[b])
      printf "| %s | %s | %s | %s | %s | %.2f / %.2f | %s | %s | %s | %.1f–%.1f |\n", T[t], P[p], qa, qb, r,
        la0, la1, (pa != "" ? sprintf("%.1f / %.1f", pa, pb) : "—"),
        sprintf("%.1f / %.1f", da, dbb), cost, MIN, MAX
    }
  }' "$SB_TSV")

### Connection churn: full handshakes vs resumed (${CHURN_WORKERS} workers, ${CHURN_TIME} s per run)

Each connection: TCP connect, greeting, [SSL request, TLS handshake], login, \`SELECT 1\`,
\`COM_QUIT\`. \`libmariadb-*\`: \`bench/churn.c\` (\`-s\`: TLS enforced, the CA given). \`php-*\`:
\`bench/phpchurn.php\`, ${CHURN_WORKERS} PHP processes connecting one at a time as php-fpm workers running
WordPress do (\`MYSQL_CLIENT_FLAGS\` = 0, \`MYSQLI_CLIENT_SSL\`, \`MYSQLI_CLIENT_SSL |
MYSQLI_CLIENT_SSL_VERIFY_SERVER_CERT\` with \`openssl.cafile\`). libmariadb and mysqlnd never
offer a saved session, so each of their TLS connections is a full handshake. The others: \`bench/tlschurn.c\` on OpenSSL, the server certificate verified
against the CA: \`raw-plain\` no TLS, \`*-full\` a full handshake each time, \`*-resumed\` offering
the session saved from the worker's previous connection (TLS 1.3: its ticket; TLS 1.2: its
session id, galera-proxy's session cache). Resumed: offered sessions the server accepted
(client's count), and through galera-proxy its own
\`client_tls_handshakes_total{outcome="resumed"}\` over the run, which must match. CPU per
connection: the proxy's, MariaDB's and the client processes' CPU over the run ÷ connections. The check itself is
checked: $CONTROL.

$(awk -F'\t' -v cls="${CLIENTS[*]}" -v paths="${TPATHS[*]}" "$BENCH_AWK_LIB"'
  NR == 1 { next }
  {
    k = $2 SUBSEP $3
    if ($4 == "NA") { fail[k]++; next }
    rate[k] = rate[k] " " $4; if ($7 != "NA") px[k] = px[k] " " $7; db[k] = db[k] " " $8
    if ($14 != "NA") cu[k] = cu[k] " " $14
    if ($9 != "NA") { off[k] += $9; res[k] += $10 }
    if ($11 != "NA") pres[k] += $11
    ver[k] = $12; la[k] = la[k] " " $13
  }
  function m(list) { return stats(list) ? MED : "" }
  END {
    print "| path | client | conn/s median (min–max) | ÷ same path, libmariadb-plain | proxy CPU µs/conn | DB CPU µs/conn | client CPU µs/conn | resumed / offered | proxy counted resumed | TLS | load1 |"
    print "|---|---|---:|---:|---:|---:|---:|---:|---:|---|---:|"
    nc = split(cls, CL, " "); np = split(paths, P, " ")
    for (p = 1; p <= np; p++) for (c = 1; c <= nc; c++) {
      k = P[p] SUBSEP CL[c]
      if (!stats(rate[k])) { printf "| %s | %s | failed (%d runs) |||||||||\n", P[p], CL[c], fail[k]; continue }
      cell = sprintf("%s (%s–%s)", commas(MED), commas(MIN), commas(MAX))
      if (fail[k]) cell = cell sprintf(" + %d failed", fail[k])
      r = ratio(MED, m(rate[P[p] SUBSEP "libmariadb-plain"]))
      pc = m(px[k]); dc = m(db[k]); cc = m(cu[k]); stats(la[k])
      printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %.1f–%.1f |\n", P[p], CL[c], cell, r,
        (pc != "" ? sprintf("%.1f", pc) : "—"), (dc != "" ? sprintf("%.1f", dc) : "—"),
        (cc != "" ? sprintf("%.0f", cc) : "—"),
        (k in off ? sprintf("%d / %d", res[k], off[k]) : "—"),
        (P[p] == "galera-proxy" && k in off ? sprintf("%d", pres[k]) : "—"),
        (ver[k] != "NA" && ver[k] != "none" ? ver[k] : "—"), MIN, MAX
    }
  }' "$CH_TSV")

<details><summary>raw data (TSV)</summary>

\`\`\`
$(cat "$SB_TSV")

$(cat "$CH_TSV")
\`\`\`
</details>
EOF
}

bench_log "tls: writing $OUT"
tls_report >"$OUT.tmp"
mv "$OUT.tmp" "$OUT"
bench_log "tls: done in $((SECONDS - BENCH_T0)) s; $FAILURES failed runs"
((FAILURES == 0))
