#!/usr/bin/env bash
# `make bench`: sysbench, connection churn and idle memory, direct vs HAProxy vs galera-proxy.
#
# One MariaDB (127.0.0.1:3430), HAProxy nbthread 1 (:16434), HAProxy default threads (:16435)
# and galera-proxy (:16436; optionally a second build, galera-proxy-b, on :16437 for before/after
# comparisons), all in front of that one server, all on loopback. Paths are run
# interleaved so that drift on the shared machine hits every path alike. Writes
# bench/RESULTS.md. See bench/README.md for the knobs (BENCH_* environment variables).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
ROOT=$(dirname "$HERE")
# shellcheck source=SCRIPTDIR/lib.sh
source "$HERE/lib.sh"

# ---- parameters ----------------------------------------------------------------

if [[ "${BENCH_QUICK:-0}" == 1 ]]; then
  : "${BENCH_TIME:=5}" "${BENCH_REPEATS:=1}" "${BENCH_THREADS:=8}" "${BENCH_CHURN_TIME:=3}"
  : "${BENCH_WARMUP:=2}" "${BENCH_PROFILE_TIME:=3}" "${BENCH_WORKLOADS:=oltp_point_select}"
  : "${BENCH_IDLE_CLIENTS:=1000}" "${BENCH_TLS_THREADS:=8}"
fi
BENCH_TIME=${BENCH_TIME:-10}
BENCH_REPEATS=${BENCH_REPEATS:-3}
BENCH_THREADS=${BENCH_THREADS:-"1 8 64 256"}
BENCH_WORKLOADS=${BENCH_WORKLOADS:-"oltp_point_select oltp_read_only oltp_read_write"}
BENCH_PROXY_BIN_B=${BENCH_PROXY_BIN_B:-}
BENCH_GP_CONF=${BENCH_GP_CONF:-}
BENCH_GP_CONF_B=${BENCH_GP_CONF_B:-}
if [[ -z "${BENCH_PATHS:-}" ]]; then
  BENCH_PATHS="direct haproxy-1t haproxy-default galera-proxy"
  [[ -z "$BENCH_PROXY_BIN_B" ]] || BENCH_PATHS+=" galera-proxy-b"
fi
BENCH_CHURN_TIME=${BENCH_CHURN_TIME:-5}
BENCH_CHURN_WORKERS=${BENCH_CHURN_WORKERS:-4}
BENCH_IDLE_CLIENTS=${BENCH_IDLE_CLIENTS:-"1000 10000"}
BENCH_DB_THREADING=${BENCH_DB_THREADING:-pool-of-threads}
BENCH_WARMUP=${BENCH_WARMUP:-5}
BENCH_PROFILE=${BENCH_PROFILE:-1}
BENCH_PROFILE_TIME=${BENCH_PROFILE_TIME:-5}
BENCH_PROFILE_THREADS=${BENCH_PROFILE_THREADS:-8 64} # each count gets its own profile
BENCH_PERCENTILE=${BENCH_PERCENTILE:-95} # the latency percentile sysbench reports (issue 18 asks p99)
BENCH_COUNTS=${BENCH_COUNTS:-1}
BENCH_COUNTS_TIME=${BENCH_COUNTS_TIME:-3}
BENCH_LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
BENCH_BUILDDIR=${BENCH_BUILDDIR:-build-bench}
BENCH_PROXY_BIN=${BENCH_PROXY_BIN:-}
BENCH_RESULTS=${BENCH_RESULTS:-$HERE/RESULTS.md}
BENCH_CAUSAL=${BENCH_CAUSAL:-0} # 1: also bench/causal.sh (3-node Galera, routing.ro_causal_reads)
BENCH_TLS=${BENCH_TLS:-1}       # 1: also bench/tls.sh (TLS off/on, HAProxy relaying it, resumption)
BENCH_KEEP=${BENCH_KEEP:-0}
BENCH_TABLES=4
BENCH_TABLE_SIZE=100000
BENCH_USER=sb
BENCH_PASS=sb
BENCH_DB=sbtest

# Ports in the range this benchmark owns (3430-3439, 16430-16449), clear of the integration tests'
# 3431 and 16431-16433 so both can run at once.
declare -A PORT=([db]=3430 [direct]=3430 [haproxy-1t]=16434 [haproxy-default]=16435
  [galera-proxy]=16436 [galera-proxy-b]=16437)
read -r -a PATHS <<<"$BENCH_PATHS"
read -r -a IDLE_NS <<<"$BENCH_IDLE_CLIENTS"
IDLE_MAX=0
for n in "${IDLE_NS[@]}"; do
  ((n <= IDLE_MAX)) || IDLE_MAX=$n
done
read -r -a THREADS <<<"$BENCH_THREADS"
read -r -a WORKLOADS <<<"$BENCH_WORKLOADS"
for p in "${PATHS[@]}"; do
  [[ -n "${PORT[$p]:-}" && "$p" != db ]] || bench_die "unknown path '$p' in BENCH_PATHS"
done
CLK_TCK=$(getconf CLK_TCK)
NCPU=$(nproc)

# has_path NAME: NAME is one of the paths being measured.
has_path() {
  local p
  for p in "${PATHS[@]}"; do
    [[ "$p" != "$1" ]] || return 0
  done
  return 1
}

# ---- scratch space and clean-up ------------------------------------------------

WORK=""
AUX_PIDS=() # clients running in the background (churn hold, sysbench under a profiler)

cleanup() {
  local rc=$? p
  trap - EXIT INT TERM
  for p in "${AUX_PIDS[@]}"; do
    if kill -0 "$p" 2>/dev/null; then
      kill -TERM "$p" 2>/dev/null || true
      wait "$p" 2>/dev/null || true
    fi
  done
  for p in galera-proxy-b galera-proxy haproxy-default haproxy-1t; do
    [[ -z "${PID[$p]:-}" ]] || bench_stop_pid "${PID[$p]}" "${WORD[$p]}" "$p"
  done
  [[ -z "${PID[db]:-}" ]] || bench_stop_pid "${PID[db]}" "${WORD[db]}" "mariadbd"
  if [[ -n "$WORK" && -d "$WORK" ]]; then
    if [[ "$BENCH_KEEP" == 1 || $rc -ne 0 ]]; then
      bench_log "scratch files kept in $WORK"
    else
      rm -rf "$WORK"
    fi
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

for p in db "${PATHS[@]}"; do
  bench_port_check_free "${PORT[$p]}"
done
for tool in sysbench haproxy mariadbd mariadb-install-db gcc mariadb_config ss; do
  command -v "$tool" >/dev/null || bench_die "$tool not found (test/lib/deps.sh installs it)"
done

# N idle clients need N sockets in churn and the server and 2 N in each proxy (client and backend
# socket): raise the descriptor limit for everything started from this shell. Raising the hard
# limit needs CAP_SYS_RESOURCE, which a container may not honour: then the idle counts are capped.
FD_WANT=$((2 * IDLE_MAX + 1000))
if ((FD_WANT > $(ulimit -n))); then
  ((FD_WANT <= $(ulimit -Hn))) || ulimit -Hn "$FD_WANT" 2>/dev/null || true
  ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
fi
FD_LIMIT=$(ulimit -n)
IDLE_WANTED=$IDLE_MAX
IDLE_CAP=$(((FD_LIMIT - 200) / 2))
IDLE_CAPPED=""
if ((IDLE_MAX > IDLE_CAP)); then
  IDLE_CAPPED="the descriptor limit here is $FD_LIMIT per process (a hard limit that setrlimit"
  IDLE_CAPPED+=" refused to raise) and a proxy needs two per client, so $IDLE_MAX idle"
  IDLE_CAPPED+=" clients became $IDLE_CAP"
  bench_log "warning: $IDLE_CAPPED"
  for i in "${!IDLE_NS[@]}"; do
    ((IDLE_NS[i] <= IDLE_CAP)) || IDLE_NS[i]=$IDLE_CAP
  done
  IDLE_MAX=$IDLE_CAP
fi

WORK=$(mktemp -d /tmp/gp-bench.XXXXXX)
chmod 755 "$WORK" # mariadbd runs as user mysql and must reach its datadir
bench_log "scratch directory $WORK"

# ---- builds ----------------------------------------------------------------------

bench_log "building bench/churn.c"
# shellcheck disable=SC2046 # mariadb_config prints several flags on purpose
gcc -O2 -std=gnu11 -Wall -Wextra -Werror $(mariadb_config --cflags) -o "$WORK/churn" \
  "$HERE/churn.c" $(mariadb_config --libs) -pthread || bench_die "churn.c does not compile"
CHURN=$WORK/churn

if has_path galera-proxy && [[ -z "$BENCH_PROXY_BIN" ]]; then
  bd=$ROOT/$BENCH_BUILDDIR
  if [[ ! -f "$bd/build.ninja" ]]; then
    bench_log "meson setup $BENCH_BUILDDIR (release)"
    (cd "$ROOT" && meson setup "$BENCH_BUILDDIR" --buildtype=release -Dwerror=false) \
      >"$WORK/meson-setup.log" 2>&1 || {
      tail -n 20 "$WORK/meson-setup.log" >&2
      bench_die "meson setup failed; BENCH_PATHS without galera-proxy measures the rest"
    }
  fi
  bench_log "ninja -C $BENCH_BUILDDIR proxy/galera-proxy"
  ninja -C "$bd" proxy/galera-proxy >"$WORK/ninja.log" 2>&1 || {
    tail -n 30 "$WORK/ninja.log" >&2
    bench_die "galera-proxy does not build; BENCH_PATHS without galera-proxy measures the rest"
  }
  BENCH_PROXY_BIN=$bd/proxy/galera-proxy
fi
if has_path galera-proxy; then
  [[ -x "$BENCH_PROXY_BIN" ]] || bench_die "$BENCH_PROXY_BIN is not executable"
  GP_VERSION=$("$BENCH_PROXY_BIN" --version 2>&1 | head -n 1) || GP_VERSION="unknown"
else
  GP_VERSION="not measured"
fi
GP_VERSION_B="not measured"
if has_path galera-proxy-b; then
  [[ -x "$BENCH_PROXY_BIN_B" ]] || bench_die "galera-proxy-b needs BENCH_PROXY_BIN_B (a binary)"
  GP_VERSION_B=$("$BENCH_PROXY_BIN_B" --version 2>&1 | head -n 1) || GP_VERSION_B="unknown"
fi

# ---- the server ---------------------------------------------------------------

bench_mariadb_start "$WORK/db" "${PORT[db]}" "$((IDLE_MAX + 2000))" "$BENCH_DB_THREADING"
bench_sql "$WORK/db" "
  CREATE USER '$BENCH_USER'@'%' IDENTIFIED VIA mysql_native_password USING PASSWORD('$BENCH_PASS');
  GRANT ALL PRIVILEGES ON *.* TO '$BENCH_USER'@'%';
  CREATE USER 'monitor'@'%' IDENTIFIED VIA mysql_native_password USING PASSWORD('monitor');
  GRANT USAGE, PROCESS, REPLICATION CLIENT ON *.* TO 'monitor'@'%';
  CREATE DATABASE $BENCH_DB;"
DB_MAXCONN=$(bench_sql "$WORK/db" "SELECT @@max_connections")
bench_log "sysbench prepare: $BENCH_TABLES tables x $BENCH_TABLE_SIZE rows"
sysbench oltp_point_select --tables="$BENCH_TABLES" --table-size="$BENCH_TABLE_SIZE" \
  --mysql-host=127.0.0.1 --mysql-port="${PORT[db]}" --mysql-user="$BENCH_USER" \
  --mysql-password="$BENCH_PASS" --mysql-db="$BENCH_DB" prepare >"$WORK/prepare.log" 2>&1 || {
  tail -n 20 "$WORK/prepare.log" >&2
  bench_die "sysbench prepare failed"
}

# ---- the proxies -----------------------------------------------------------------

HA_MAXCONN=4096
((IDLE_MAX + 100 <= HA_MAXCONN)) || HA_MAXCONN=$((IDLE_MAX + 100))
((2 * HA_MAXCONN + 100 <= FD_LIMIT)) || HA_MAXCONN=$(((FD_LIMIT - 100) / 2))
if has_path haproxy-1t; then
  bench_haproxy_start "$WORK" haproxy-1t "${PORT[haproxy-1t]}" "${PORT[db]}" 1 "$HA_MAXCONN"
fi
if has_path haproxy-default; then
  bench_haproxy_start "$WORK" haproxy-default "${PORT[haproxy-default]}" "${PORT[db]}" "" \
    "$HA_MAXCONN"
fi
GP_MAXCLIENTS=$((IDLE_MAX + 100 > 10000 ? IDLE_MAX + 100 : 10000))
if has_path galera-proxy; then
  bench_gp_start "$WORK" galera-proxy "$BENCH_PROXY_BIN" "${PORT[galera-proxy]}" "${PORT[db]}" \
    "$GP_MAXCLIENTS" "$BENCH_GP_CONF"
fi
if has_path galera-proxy-b; then
  bench_gp_start "$WORK" galera-proxy-b "$BENCH_PROXY_BIN_B" "${PORT[galera-proxy-b]}" \
    "${PORT[db]}" "$GP_MAXCLIENTS" "$BENCH_GP_CONF_B"
fi
for p in "${PATHS[@]}"; do
  bench_wait_query "${PORT[$p]}" "$BENCH_USER" "$BENCH_PASS" 15 ||
    bench_die "$p does not relay SELECT 1 (log: $WORK/${p}.log)"
done
bench_log "all paths answer: ${PATHS[*]}"

# The clients (this shell's children) and every process measured must share one scheduler
# group: a proxy in a group of its own gets CPU by group first, which moved sleeps per query
# 2-3x and CPU per query by ~15 % in a lab run (bench/CHANGES.md). Started from here, they do.
SCHED_GROUPS=$(bench_sched_group $$)
for p in db "${PATHS[@]}"; do
  [[ "$p" == direct ]] && continue
  g=$(bench_sched_group "${PID[$p]}")
  [[ "$g" == "$SCHED_GROUPS" ]] || bench_die "$p runs in scheduler group $g, the clients in $SCHED_GROUPS"
done
SCHED_GROUPS="one for all ($SCHED_GROUPS)"

# path_alive PATH: the process behind PATH (if any) still runs.
path_alive() {
  [[ "$1" == direct ]] && return 0
  bench_pid_matches "${PID[$1]}" "${WORD[$1]}"
}

# ---- memory per idle client (first, while the proxies are fresh) ------------------

IDLE_TSV=$WORK/idle.tsv
: >"$IDLE_TSV"

# idle_measure PATH N: hold N authenticated idle sessions through PATH, read the proxy's RSS.
idle_measure() {
  local path=$1 n=$2 pid=${PID[$1]} out=$WORK/hold-$1-$2.txt r0 r1 r2 cpid i held
  r0=$(bench_rss_kib "$pid")
  "$CHURN" -h 127.0.0.1 -P "${PORT[$path]}" -u "$BENCH_USER" -p "$BENCH_PASS" \
    hold "$n" 600 >"$out" 2>"$out.err" &
  cpid=$!
  AUX_PIDS+=("$cpid")
  for ((i = 0; i < 1200; i++)); do
    grep -qE 'ready|failed' "$out" 2>/dev/null && break
    kill -0 "$cpid" 2>/dev/null || break
    sleep 0.1
  done
  held=$(bench_churn_field "$out" held)
  sleep 2 # let the proxy finish whatever it does after the last handshake
  r1=$(bench_rss_kib "$pid")
  kill -TERM "$cpid" 2>/dev/null || true
  wait "$cpid" 2>/dev/null || true
  sleep 2
  r2=$(bench_rss_kib "$pid")
  if ! grep -q ready "$out"; then
    bench_log "idle $path: only ${held:-0}/$n sessions opened: $(tail -n 1 "$out.err")"
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$path" "$n" "${held:-0}" "$r0" "$r1" "$r2" >>"$IDLE_TSV"
  bench_log "idle $path: ${held:-0}/$n sessions, RSS ${r0} -> ${r1} KiB (after close ${r2} KiB)," \
    "$(awk -v a="$r0" -v b="$r1" -v n="${held:-0}" \
      'BEGIN { if (n > 0) printf "%.2f KiB/client", (b - a) / n; else print "n/a" }')"
}

for n in "${IDLE_NS[@]}"; do
  ((n > 0)) || continue
  for p in galera-proxy galera-proxy-b haproxy-1t; do
    if has_path "$p"; then
      idle_measure "$p" "$n"
    fi
  done
done

# ---- warm-up --------------------------------------------------------------------

bench_log "warm-up: ${BENCH_WARMUP} s direct, then 2 s through each proxy (not recorded)"
bench_sysbench "${PORT[db]}" oltp_point_select 8 "$BENCH_WARMUP" "$WORK/warmup-direct.txt" ||
  bench_die "warm-up failed: $(tail -n 5 "$WORK/warmup-direct.txt")"
for p in "${PATHS[@]}"; do
  [[ "$p" == direct ]] || bench_sysbench "${PORT[$p]}" oltp_point_select 8 2 \
    "$WORK/warmup-$p.txt" || bench_die "warm-up through $p failed: $(tail -n 5 "$WORK/warmup-$p.txt")"
done

# ---- sysbench, interleaved -------------------------------------------------------

SB_TSV=$WORK/sysbench.tsv
printf 'rep\tworkload\tthreads\tpath\tqps\ttps\tp%s_ms\tqueries\terrors\tproxy_cpu_s\tproxy_us_per_q\tdb_us_per_q\tother_load_pct\tproxy_sys_pct\tload1\n' \
  "$BENCH_PERCENTILE" >"$SB_TSV"
FAILURES=0

# sb_one REP WORKLOAD THREADS PATH: one measured run, one row in $SB_TSV.
sb_one() {
  local rep=$1 wl=$2 th=$3 path=$4 out pid c0=0 c1=0 k0=0 k1=0 d0 d1 s0 s1 m0 m1 t0 t1 rc=0
  local qps tps p95 q err cpu_s us_q db_us other sys_pct
  out=$WORK/sb-$rep-$wl-$th-$path.txt
  pid=${PID[$path]:-}
  if ! path_alive "$path"; then
    bench_log "rep $rep $wl t=$th $path: proxy is not running, skipped"
    printf '%s\t%s\t%s\t%s\tNA\tNA\tNA\tNA\tNA\tNA\tNA\tNA\tNA\tNA\tNA\n' "$rep" "$wl" "$th" "$path" \
      >>"$SB_TSV"
    FAILURES=$((FAILURES + 1))
    return 0
  fi
  if [[ -n "$pid" ]]; then
    c0=$(bench_cpu_ticks "$pid")
    k0=$(bench_sys_ticks "$pid")
  fi
  d0=$(bench_cpu_ticks "${PID[db]}")
  s0=$(bench_child_ticks)
  m0=$(bench_machine_busy_ticks)
  t0=$(date +%s.%N)
  bench_sysbench "${PORT[$path]}" "$wl" "$th" "$BENCH_TIME" "$out" || rc=$?
  t1=$(date +%s.%N)
  m1=$(bench_machine_busy_ticks)
  s1=$(bench_child_ticks)
  d1=$(bench_cpu_ticks "${PID[db]}")
  if [[ -n "$pid" ]]; then
    c1=$(bench_cpu_ticks "$pid" 2>/dev/null) || c1=$c0
    k1=$(bench_sys_ticks "$pid" 2>/dev/null) || k1=$k0
  fi
  read -r qps tps p95 q err < <(bench_sysbench_parse "$out")
  if ((rc != 0)) || [[ "$qps" == NA ]]; then
    bench_log "rep $rep $wl t=$th $path: sysbench failed (rc $rc): $(grep -m1 -i error "$out" || tail -n 1 "$out")"
    qps=NA tps=NA p95=NA q=NA
    FAILURES=$((FAILURES + 1))
  fi
  read -r cpu_s us_q db_us other sys_pct < <(awk -v c0="$c0" -v c1="$c1" -v k="$((k1 - k0))" \
    -v d0="$d0" -v d1="$d1" \
    -v s0="$s0" -v s1="$s1" -v m0="$m0" -v m1="$m1" -v t0="$t0" -v t1="$t1" -v q="$q" \
    -v hz="$CLK_TCK" -v ncpu="$NCPU" -v proxy="${pid:+1}" 'BEGIN {
      cpu = (c1 - c0) / hz
      ours = (c1 - c0) + (d1 - d0) + (s1 - s0)
      other = (m1 - m0 - ours) / ((t1 - t0) * hz * ncpu) * 100
      if (other < 0) other = 0
      printf "%s %s %s %.1f %s\n", (proxy ? sprintf("%.2f", cpu) : "NA"),
        (proxy && q + 0 > 0 ? sprintf("%.2f", cpu * 1e6 / q) : "NA"),
        (q + 0 > 0 ? sprintf("%.2f", (d1 - d0) / hz * 1e6 / q) : "NA"), other,
        (proxy && c1 > c0 ? sprintf("%.0f", k * 100 / (c1 - c0)) : "NA")
    }')
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$rep" "$wl" "$th" \
    "$path" "$qps" "$tps" "$p95" "$q" "$err" "$cpu_s" "$us_q" "$db_us" "$other" "$sys_pct" \
    "$(cut -d' ' -f1 /proc/loadavg)" >>"$SB_TSV"
  bench_log "$(printf 'rep %s %-18s t=%-3s %-15s %10s qps  p%s %6s ms  proxy %6s us/q  other %5s%%' \
    "$rep" "$wl" "$th" "$path" "$qps" "$BENCH_PERCENTILE" "$p95" "$us_q" "$other")"
}

NRUNS=$((BENCH_REPEATS * ${#WORKLOADS[@]} * ${#THREADS[@]} * ${#PATHS[@]}))
bench_log "sysbench: $NRUNS runs of ${BENCH_TIME} s (workloads: ${WORKLOADS[*]}; threads: ${THREADS[*]})"
for ((rep = 1; rep <= BENCH_REPEATS; rep++)); do
  for wl in "${WORKLOADS[@]}"; do
    for th in "${THREADS[@]}"; do
      for p in "${PATHS[@]}"; do
        sb_one "$rep" "$wl" "$th" "$p"
      done
    done
  done
done

# ---- connection churn, interleaved ------------------------------------------------

CHURN_TSV=$WORK/churn.tsv
printf 'rep\tpath\trate\tconnects\terrors\tproxy_us_per_conn\n' >"$CHURN_TSV"

# churn_one REP PATH: connect+SELECT 1+close for BENCH_CHURN_TIME s with BENCH_CHURN_WORKERS.
churn_one() {
  local rep=$1 path=$2 out=$WORK/churn-$1-$2.txt pid=${PID[$2]:-} c0=0 c1=0 rate n err us
  if ! path_alive "$path"; then
    bench_log "churn rep $rep $path: proxy is not running, skipped"
    printf '%s\t%s\tNA\tNA\tNA\tNA\n' "$rep" "$path" >>"$CHURN_TSV"
    FAILURES=$((FAILURES + 1))
    return 0
  fi
  [[ -z "$pid" ]] || c0=$(bench_cpu_ticks "$pid")
  "$CHURN" -h 127.0.0.1 -P "${PORT[$path]}" -u "$BENCH_USER" -p "$BENCH_PASS" \
    run "$BENCH_CHURN_WORKERS" "$BENCH_CHURN_TIME" >"$out" 2>"$out.err" || true
  if [[ -n "$pid" ]]; then
    c1=$(bench_cpu_ticks "$pid" 2>/dev/null) || c1=$c0
  fi
  rate=$(bench_churn_field "$out" rate)
  n=$(bench_churn_field "$out" connects)
  err=$(bench_churn_field "$out" errors)
  us=$(awk -v c="$((c1 - c0))" -v n="${n:-0}" -v hz="$CLK_TCK" -v proxy="${pid:+1}" \
    'BEGIN { if (proxy && n > 0) printf "%.1f", c / hz * 1e6 / n; else print "NA" }')
  if [[ -z "$rate" || "${n:-0}" == 0 ]]; then
    bench_log "churn rep $rep $path failed: $(tail -n 1 "$out.err" 2>/dev/null)"
    FAILURES=$((FAILURES + 1))
  elif [[ "${err:-0}" != 0 ]]; then
    bench_log "churn rep $rep $path: $err failed connections: $(tail -n 1 "$out.err")"
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$rep" "$path" "${rate:-NA}" "${n:-NA}" "${err:-NA}" "$us" \
    >>"$CHURN_TSV"
  bench_log "$(printf 'churn rep %s %-15s %8s conn/s  errors %s  proxy %s us/conn' "$rep" "$path" \
    "${rate:-NA}" "${err:-NA}" "$us")"
}

bench_log "churn: $BENCH_CHURN_WORKERS workers, ${BENCH_CHURN_TIME} s per path, $BENCH_REPEATS repeats"
for ((rep = 1; rep <= BENCH_REPEATS; rep++)); do
  for p in "${PATHS[@]}"; do
    churn_one "$rep" "$p"
  done
done

# ---- where the proxy's time goes ------------------------------------------------------

PROFILE_MD=$WORK/profile.md
: >"$PROFILE_MD"

# server_questions prints the server's Questions counter (every statement a client sent).
server_questions() {
  bench_sql "$WORK/db" "SHOW GLOBAL STATUS LIKE 'Questions'" | awk '{print $2}'
}

# with_load PATH SECONDS CMD...: run CMD while sysbench (PROFILE_THREADS threads, point_select)
# loads PATH; prints the statements the server saw while CMD ran.
with_load() {
  local path=$1 secs=$2 sbpid q0 q1
  shift 2
  bench_sysbench "${PORT[$path]}" oltp_point_select "$PROFILE_THREADS" "$((secs + 6))" \
    "$WORK/load-$path-$PROFILE_THREADS.txt" &
  sbpid=$!
  AUX_PIDS+=("$sbpid")
  sleep 2
  q0=$(server_questions)
  "$@" >>"$WORK/profile.log" 2>&1 || true
  q1=$(server_questions)
  wait "$sbpid" 2>/dev/null || true
  echo $((q1 - q0))
}

# profile_path PATH: syscalls per query (perf tracepoint count and strace -c), CPU profile,
# under a load of PROFILE_THREADS threads.
profile_path() {
  local path=$1 pid=${PID[$1]} q total
  path_alive "$path" || return 0
  {
    echo "### $path, $PROFILE_THREADS threads"
    echo
  } >>"$PROFILE_MD"
  if perf stat -e raw_syscalls:sys_enter -- true >/dev/null 2>&1; then
    bench_log "profile $path: perf stat raw_syscalls for ${BENCH_PROFILE_TIME} s under load"
    q=$(with_load "$path" "$BENCH_PROFILE_TIME" perf stat -x, -e raw_syscalls:sys_enter \
      -p "$pid" -o "$WORK/perfstat-$path-$PROFILE_THREADS.txt" -- sleep "$BENCH_PROFILE_TIME")
    total=$(awk -F, '/raw_syscalls:sys_enter/ {print $1}' "$WORK/perfstat-$path-$PROFILE_THREADS.txt")
    awk -v t="${total:-0}" -v q="$q" -v s="$BENCH_PROFILE_TIME" "$BENCH_AWK_LIB"'BEGIN {
      if (q > 0 && t > 0)
        printf "- perf (tracepoint count, near-zero overhead): %s syscalls for %s statements " \
          "in %d s = **%.2f syscalls per query**\n", commas(t), commas(q), s, t / q
      else
        print "- perf syscall count: no data"
    }' >>"$PROFILE_MD"
  fi
  if command -v strace >/dev/null; then
    bench_log "profile $path: strace -c -f for ${BENCH_PROFILE_TIME} s under load"
    q=$(with_load "$path" "$BENCH_PROFILE_TIME" timeout -s INT "$BENCH_PROFILE_TIME" \
      strace -c -f -S calls -o "$WORK/strace-$path-$PROFILE_THREADS.txt" -p "$pid")
    {
      echo "- strace -c -f (slows the proxy a lot, so it batches more; counts per query are a"
      echo "  lower bound): $(awk -v q="$q" "$BENCH_AWK_LIB"'BEGIN { print commas(q) }') statements" \
        "in ${BENCH_PROFILE_TIME} s"
      echo
      echo "  | syscall | calls | errors | per query |"
      echo "  |---|---:|---:|---:|"
      awk -v q="$q" '
        /^-+/ || /% time/ || NF < 5 { next }
        { name = $NF; calls = $4; errs = (NF >= 6 ? $5 : 0)
          if (name == "total") { tc = calls; te = errs; next }
          if (n++ < 10) printf "  | %s | %d | %d | %.2f |\n", name, calls, errs, (q > 0 ? calls / q : 0) }
        END { if (tc) printf "  | **total** | %d | %d | **%.2f** |\n", tc, te, (q > 0 ? tc / q : 0) }
      ' "$WORK/strace-$path-$PROFILE_THREADS.txt"
      echo
    } >>"$PROFILE_MD"
  fi
  if perf record -q -e cpu-clock -o "$WORK/perf-probe.data" -- true >/dev/null 2>&1; then
    bench_log "profile $path: perf record cpu-clock for ${BENCH_PROFILE_TIME} s under load"
    with_load "$path" "$BENCH_PROFILE_TIME" perf record -q -e cpu-clock -F 1999 -p "$pid" \
      -o "$WORK/perf-$path-$PROFILE_THREADS.data" -- sleep "$BENCH_PROFILE_TIME" >/dev/null
    {
      perf report -i "$WORK/perf-$path-$PROFILE_THREADS.data" --stdio --sort dso >"$WORK/perf-dso-$path-$PROFILE_THREADS.txt" \
        2>/dev/null || true
      perf report -i "$WORK/perf-$path-$PROFILE_THREADS.data" --stdio --sort dso,sym >"$WORK/perf-$path-$PROFILE_THREADS.txt" \
        2>/dev/null || true
      echo "- CPU profile (perf record -e cpu-clock), samples by binary:"
      echo
      echo '```'
      grep -v -e '^#' -e '^$' "$WORK/perf-dso-$path-$PROFILE_THREADS.txt" | head -n 8 || true
      echo '```'
      echo
      echo "  hottest symbols outside the kernel (% of all samples):"
      echo
      echo '```'
      grep -v -e '^#' -e '^$' -e '\[kernel' "$WORK/perf-$path-$PROFILE_THREADS.txt" | head -n 12 || true
      echo '```'
      echo
      echo "  hottest kernel symbols:"
      echo
      echo '```'
      grep '\[kernel' "$WORK/perf-$path-$PROFILE_THREADS.txt" | head -n 15 || true
      echo '```'
      echo
    } >>"$PROFILE_MD"
  fi
}

if [[ "$BENCH_PROFILE" == 1 ]]; then
  for PROFILE_THREADS in $BENCH_PROFILE_THREADS; do
    for p in galera-proxy galera-proxy-b haproxy-1t; do
      if has_path "$p"; then
        profile_path "$p"
      fi
    done
  done
fi

# ---- kernel work per query, by row -------------------------------------------------------
# Separate short windows after the timed runs (which stay unobserved): per workload, thread
# count and proxy, syscalls per query by type, voluntary context switches per query, ready
# events per epoll_wait, and the delay from a read to the send that relays it. These counts do
# not depend on how loaded the machine is the way QPS and CPU time do.

COUNTS_TSV=$WORK/counts.tsv
printf 'workload\tthreads\tpath\tqueries\tsyscalls\treads\treads_empty\tsends\tepoll_wait\tepoll_nowait\tepoll_ctl\tvol_switches\tinvol_switches\tepoll_events\tepoll_calls_traced\tdelay_p50_us\tdelay_p90_us\tdelay_n\n' \
  >"$COUNTS_TSV"

# The syscalls counted by type (galera-proxy reads with read(), sends with send(); HAProxy uses
# recvfrom() and sendto()); raw_syscalls:sys_enter counts all of them.
COUNT_EVENTS=(-e raw_syscalls:sys_enter
  -e syscalls:sys_enter_read -e syscalls:sys_enter_recvfrom -e syscalls:sys_enter_readv
  -e syscalls:sys_enter_recvmsg
  -e syscalls:sys_exit_read --filter 'ret < 0' -e syscalls:sys_exit_recvfrom --filter 'ret < 0'
  -e syscalls:sys_enter_write -e syscalls:sys_enter_sendto -e syscalls:sys_enter_writev
  -e syscalls:sys_enter_sendmsg
  -e syscalls:sys_enter_epoll_wait -e syscalls:sys_enter_epoll_pwait
  -e syscalls:sys_enter_epoll_wait --filter 'timeout == 0'
  -e syscalls:sys_enter_epoll_pwait --filter 'timeout == 0'
  -e syscalls:sys_enter_epoll_ctl)

# The counting window: run under perf stat, so that the statements and switches it reads at
# its start and end bracket exactly what perf counted (perf's own start-up stays outside).
# Args: my.cnf of the server, the proxy's pid, seconds, output file.
cat >"$WORK/window.sh" <<'EOS'
q() { mariadb --defaults-file="$1" --protocol=socket -uroot -N -B \
  -e "SHOW GLOBAL STATUS LIKE 'Questions'" | awk '{print $2}'; }
sw() { cat /proc/"$1"/task/*/status 2>/dev/null | awk '$1 == "voluntary_ctxt_switches:" { v += $2 }
  $1 == "nonvoluntary_ctxt_switches:" { n += $2 } END { printf "%d %d", v, n }'; }
echo "$(q "$1") $(sw "$2")" >"$4"
sleep "$3"
echo "$(q "$1") $(sw "$2")" >>"$4"
EOS

# counts_row WORKLOAD THREADS PATH: two windows under that load. The first counts syscalls
# (perf stat on the tracepoints, near-zero overhead), statements and context switches. The
# second, 1 s, traces reads, sends and epoll_wait returns with timestamps: the events each
# epoll_wait brought, and each send timed from the read it relays (paired first in, first out
# within a loop turn). Tracing every read and send slows the proxy, so the second window's
# figures compare proxies within a row; its delays are an upper bound.
counts_row() {
  local wl=$1 th=$2 path=$3 pid=${PID[$3]} secs=$BENCH_COUNTS_TIME sbpid tag ev delay
  path_alive "$path" || return 0
  tag=$wl-$th-$path
  bench_sysbench "${PORT[$path]}" "$wl" "$th" "$((secs + 5))" "$WORK/counts-$tag.txt" &
  sbpid=$!
  AUX_PIDS+=("$sbpid")
  sleep 2
  perf stat -x, "${COUNT_EVENTS[@]}" -p "$pid" -o "$WORK/cstat-$tag.txt" -- \
    bash "$WORK/window.sh" "$WORK/db/my.cnf" "$pid" "$secs" "$WORK/cwin-$tag.txt" \
    >>"$WORK/profile.log" 2>&1 || true
  perf record -q -e syscalls:sys_exit_epoll_wait -e syscalls:sys_exit_epoll_pwait \
    -e syscalls:sys_exit_read -e syscalls:sys_exit_recvfrom -e syscalls:sys_enter_write \
    -e syscalls:sys_enter_sendto -p "$pid" -o "$WORK/cdelay-$tag.data" -- sleep 1 \
    >>"$WORK/profile.log" 2>&1 || true
  wait "$sbpid" 2>/dev/null || true
  perf script -i "$WORK/cdelay-$tag.data" -F time,event,trace >"$WORK/cdelay-$tag.txt" 2>/dev/null || true
  ev=$(awk '/sys_exit_epoll/ { n++; v = $NF; if (v ~ /^0x/) v = strtonum(v); if (v > 0) e += v }
    END { printf "%d %d\n", e, n }' "$WORK/cdelay-$tag.txt")
  delay=$(awk '
    { t = $1; sub(/:$/, "", t); t += 0; v = $NF; if (v ~ /^0x/) v = strtonum(v) }
    /sys_exit_epoll/ { h = 0; n = 0; next }             # a new loop turn
    /sys_exit_(read|recvfrom)/ { if (v > 0) q[n++] = t; next }
    /sys_enter_(write|sendto)/ { if (h < n) printf "%.1f\n", (t - q[h++]) * 1e6 }' \
    "$WORK/cdelay-$tag.txt" | sort -n | awk '{ d[m++] = $1 }
      END { if (m) printf "%s %s %d\n", d[int(m * 0.5)], d[int(m * 0.9)], m; else print "NA NA 0" }')
  awk -F, -v wl="$wl" -v th="$th" -v path="$path" -v win="$(tr '\n' ' ' <"$WORK/cwin-$tag.txt" 2>/dev/null)" \
    -v ev="$ev" -v delay="$delay" '
    $3 ~ /^(raw_)?syscalls:/ {
      c = $1 + 0; e = $3
      # the filtered epoll_wait events come after their unfiltered twins (COUNT_EVENTS)
      if (e == "raw_syscalls:sys_enter") tot += c
      else if (e ~ /sys_enter_(read|recvfrom|readv|recvmsg)$/) rd += c
      else if (e ~ /sys_exit_(read|recvfrom)$/) empty += c
      else if (e ~ /sys_enter_(write|sendto|writev|sendmsg)$/) snd += c
      else if (e ~ /sys_enter_epoll_(p)?wait$/) { if (seen[e]++) nowait += c; else ew += c }
      else if (e ~ /sys_enter_epoll_ctl$/) ctl += c
    }
    END {
      split(win, W, " "); split(ev, E, " "); split(delay, D, " ")
      printf "%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%s\t%s\n", wl, th,
        path, W[4] - W[1], tot, rd, empty, snd, ew, nowait, ctl, W[5] - W[2], W[6] - W[3], E[1],
        E[2], D[1], D[2], D[3]
    }' "$WORK/cstat-$tag.txt" >>"$COUNTS_TSV"
  bench_log "counts $wl t=$th $path: $(tail -n 1 "$COUNTS_TSV" | cut -f4-)"
}

if [[ "$BENCH_COUNTS" == 1 ]] && perf stat -e raw_syscalls:sys_enter -- true >/dev/null 2>&1; then
  bench_log "kernel counts per row: ${BENCH_COUNTS_TIME} s + 1 s per workload, thread count and proxy"
  for wl in "${WORKLOADS[@]}"; do
    for th in "${THREADS[@]}"; do
      for p in galera-proxy galera-proxy-b haproxy-1t; do
        if has_path "$p"; then
          counts_row "$wl" "$th" "$p"
        fi
      done
    done
  done
fi

# ---- causal reads on Galera (optional) -------------------------------------------------

if [[ "$BENCH_CAUSAL" == 1 ]]; then
  bench_log "causal reads: bench/causal.sh (its own 3-node cluster)"
  bash "$HERE/causal.sh" --bin "$BENCH_PROXY_BIN" --time "$BENCH_TIME" \
    --repeats "$BENCH_REPEATS" --threads "${BENCH_PROFILE_THREADS%% *}" --out "$WORK/causal.md" \
    >"$WORK/causal.log" 2>&1 || {
    bench_log "causal.sh failed: $(tail -n 3 "$WORK/causal.log")"
    FAILURES=$((FAILURES + 1))
  }
fi

# ---- TLS: point_select and churn with TLS off and on, resumption (its own server) -----------

if [[ "$BENCH_TLS" == 1 ]] && has_path galera-proxy; then
  bench_log "TLS: bench/tls.sh (its own MariaDB with a certificate, HAProxy and galera-proxy)"
  tls_args=(--bin "$BENCH_PROXY_BIN" --time "$BENCH_TIME" --repeats "$BENCH_REPEATS"
    --threads "${BENCH_TLS_THREADS:-8 64}" --churn-time "$BENCH_CHURN_TIME" --out "$WORK/tls.md")
  [[ "$BENCH_KEEP" != 1 ]] || tls_args+=(--keep)
  # its progress lines continue this run's clock
  BENCH_T0=$((BENCH_T0 - SECONDS)) BENCH_CHURN_WORKERS=$BENCH_CHURN_WORKERS \
    bash "$HERE/tls.sh" "${tls_args[@]}" >>"$WORK/tls.log" || {
    bench_log "tls.sh failed (see above)"
    FAILURES=$((FAILURES + 1))
  }
fi

# ---- RESULTS.md ----------------------------------------------------------------------

bench_log "writing $BENCH_RESULTS"
report_write >"$BENCH_RESULTS.tmp"
if [[ -s "$WORK/causal.md" ]]; then
  printf '\n' >>"$BENCH_RESULTS.tmp"
  cat "$WORK/causal.md" >>"$BENCH_RESULTS.tmp"
fi
if [[ -s "$WORK/tls.md" ]]; then
  printf '\n' >>"$BENCH_RESULTS.tmp"
  cat "$WORK/tls.md" >>"$BENCH_RESULTS.tmp"
fi
mv "$BENCH_RESULTS.tmp" "$BENCH_RESULTS"
bench_log "done in $((SECONDS - BENCH_T0)) s; $FAILURES failed runs"
((FAILURES == 0))
