# Helpers for bench/run.sh: start/stop the server and proxies, run clients, read /proc.
# shellcheck shell=bash
# shellcheck disable=SC2153,SC2034 # globals shared with run.sh both ways
#
# Everything started here is recorded by pid in a global and stopped by that pid only,
# after checking that the pid still belongs to the process we started (its cmdline names
# our scratch directory), so a recycled pid is never signalled.

BENCH_T0=${BENCH_T0:-$SECONDS}
# Every process started here, by name (db, haproxy-1t, haproxy-default, galera-proxy): its pid
# and a word of its command line that proves a pid is still that process. run.sh stops them.
declare -A PID=() WORD=()

# bench_log prints a timestamped progress line to stderr.
bench_log() {
  printf '[bench %4ds] %s\n' "$((SECONDS - BENCH_T0))" "$*" >&2
}

bench_die() {
  bench_log "ERROR: $*"
  exit 1
}

# bench_pid_matches PID WORD: PID is alive, not a zombie, and its cmdline contains WORD.
bench_pid_matches() {
  local pid=$1 word=$2 state
  [[ -n "$pid" && -r "/proc/$pid/cmdline" ]] || return 1
  state=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1) || return 1
  [[ "$state" != "Z" ]] || return 1
  tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF -- "$word"
}

# bench_pid_alive PID: PID runs and is not a zombie. For our own children during start-up,
# when /proc/PID/cmdline may still be the forked shell's rather than the program's.
bench_pid_alive() {
  local state
  kill -0 "$1" 2>/dev/null || return 1
  state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
  [[ -n "$state" && "$state" != "Z" ]]
}

# bench_stop_pid PID WORD NAME: SIGTERM, wait up to 15 s, then SIGKILL; only if PID matches WORD.
bench_stop_pid() {
  local pid=$1 word=$2 name=$3 i
  bench_pid_matches "$pid" "$word" || return 0
  bench_log "stopping $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 150; i++)); do
    bench_pid_matches "$pid" "$word" || {
      wait "$pid" 2>/dev/null || true
      return 0
    }
    sleep 0.1
  done
  bench_log "$name (pid $pid) ignored SIGTERM for 15 s, sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# bench_cpu_ticks PID prints utime+stime of the whole process (all threads) in clock ticks.
bench_cpu_ticks() {
  sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'
}

# bench_sys_ticks PID prints the stime (kernel time) of the whole process in clock ticks.
bench_sys_ticks() {
  sed 's/.*) //' "/proc/$1/stat" | awk '{print $13}'
}

# bench_child_ticks prints cutime+cstime of this shell: the CPU of children it has waited for.
bench_child_ticks() {
  sed 's/.*) //' "/proc/$$/stat" | awk '{print $14 + $15}'
}

# bench_machine_busy_ticks prints the busy (non-idle, non-iowait) ticks of all CPUs.
bench_machine_busy_ticks() {
  awk '$1 == "cpu" {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat
}

# bench_rss_kib PID prints VmRSS in KiB.
bench_rss_kib() {
  awk '$1 == "VmRSS:" {print $2}' "/proc/$1/status"
}

# bench_sched_group PID prints the CPU-sharing group the scheduler puts PID in: its autogroup
# (one per session) and its cgroup. Processes in different groups get CPU by group first, so
# proxies compared must share one (bench/CHANGES.md, issue 18 third session).
bench_sched_group() {
  local ag cg
  ag=$(awk '{print $1}' "/proc/$1/autogroup" 2>/dev/null) || ag=-
  cg=$(sed -n 's/^0:://p' "/proc/$1/cgroup" 2>/dev/null) || cg=-
  echo "${ag:--} cgroup ${cg:--}"
}

# bench_port_listening PORT: something listens on 127.0.0.1:PORT.
bench_port_listening() {
  ss -Hltn "sport = :$1" 2>/dev/null | grep -q .
}

# bench_port_check_free PORT fails if someone else already listens there.
bench_port_check_free() {
  if bench_port_listening "$1"; then
    bench_die "port $1 is already in use: $(ss -Hltnp "sport = :$1" | head -n 1)"
  fi
}

# ---- MariaDB ------------------------------------------------------------------

# bench_mariadb_start DIR PORT MAXCONN THREADING: fresh datadir, start, wait; registers PID[db]
# and WORD[db] (run.sh's arrays, which its EXIT trap stops) as soon as the process exists.
# THREADING is thread_handling: pool-of-threads holds 10,000 idle sessions without 10,000 threads.
# EXTRA (optional): more [mysqld] lines, e.g. ssl_cert/ssl_key (bench/tls.sh).
bench_mariadb_start() {
  local dir=$1 port=$2 maxconn=${3:-12000} threading=${4:-one-thread-per-connection} i
  local extra=${5:-}
  mkdir -p "$dir/data"
  cat >"$dir/my.cnf" <<EOF
[client]
socket=$dir/mysqld.sock

[mysqld]
user=mysql
datadir=$dir/data
socket=$dir/mysqld.sock
pid-file=$dir/mariadbd.pid
log-error=$dir/mariadbd.err
port=$port
bind-address=127.0.0.1
skip-name-resolve
innodb_buffer_pool_size=1G
max_connections=$maxconn
open_files_limit=$((2 * maxconn + 1000))
table_open_cache=400
thread_handling=$threading
thread_pool_max_threads=2000
performance_schema=OFF
# session state the proxy re-creates on another node (README, "Sessions that survive a writer change")
session_track_schema=ON
session_track_system_variables=*
session_track_state_change=ON
$extra
EOF
  chown -R mysql:mysql "$dir"
  bench_log "installing MariaDB system tables in $dir/data"
  mariadb-install-db --defaults-file="$dir/my.cnf" --auth-root-authentication-method=socket \
    --skip-test-db >"$dir/install.log" 2>&1 || {
    tail -n 20 "$dir/install.log" >&2
    bench_die "mariadb-install-db failed"
  }
  bench_log "starting mariadbd on 127.0.0.1:$port"
  mariadbd --defaults-file="$dir/my.cnf" </dev/null >>"$dir/mariadbd.out" 2>&1 &
  PID[db]=$!
  WORD[db]="$dir/my.cnf"
  for ((i = 0; i < 600; i++)); do
    bench_pid_alive "${PID[db]}" || {
      tail -n 20 "$dir/mariadbd.err" >&2 2>/dev/null || true
      bench_die "mariadbd exited during start-up"
    }
    if mariadb-admin --defaults-file="$dir/my.cnf" --protocol=socket -uroot ping \
      >/dev/null 2>&1; then
      bench_log "mariadbd ready (pid ${PID[db]})"
      return 0
    fi
    sleep 0.1
  done
  bench_die "mariadbd did not answer within 60 s"
}

# bench_sql DIR SQL... runs SQL as root over the unix socket.
bench_sql() {
  local dir=$1
  shift
  mariadb --defaults-file="$dir/my.cnf" --protocol=socket -uroot -N -B -e "$*"
}

# ---- proxies ------------------------------------------------------------------

# bench_haproxy_start DIR PATH PORT DBPORT NBTHREAD MAXCONN: NBTHREAD empty = HAProxy's default.
# Registers PID[PATH] and WORD[PATH], then waits until it listens.
bench_haproxy_start() {
  local dir=$1 name=$2 port=$3 dbport=$4 nbthread=$5 maxconn=$6 cfg
  cfg="$dir/$name.cfg"
  {
    echo "global"
    echo "    maxconn $maxconn"
    [[ -z "$nbthread" ]] || echo "    nbthread $nbthread"
    cat <<EOF
defaults
    mode tcp
    maxconn $maxconn
    timeout connect 5s
    timeout client 1h
    timeout server 1h
listen mysql
    bind 127.0.0.1:$port
    server db1 127.0.0.1:$dbport maxconn $maxconn
EOF
  } >"$cfg"
  haproxy -c -q -f "$cfg" || bench_die "haproxy rejects $cfg"
  haproxy -db -f "$cfg" </dev/null >"$dir/$name.log" 2>&1 &
  PID[$name]=$!
  WORD[$name]=$cfg
  bench_wait_listening "${PID[$name]}" "$port" "$name" "$dir/$name.log"
}

# bench_gp_start DIR NAME BIN PORT DBPORT MAXCLIENTS [EXTRA]: EXTRA is appended to the config
# (BENCH_GP_CONF, BENCH_GP_CONF_B). Registers PID[NAME], waits for PORT.
bench_gp_start() {
  local dir=$1 name=$2 bin=$3 port=$4 dbport=$5 maxclients=$6 extra=${7:-} cfg
  cfg="$dir/$name.conf"
  cat >"$cfg" <<EOF
# galera-proxy config written by bench/run.sh
listen = "127.0.0.1:$port";
backends = ( { name = "db1"; address = "127.0.0.1:$dbport"; priority = 1; } );
log_level = "warn";
limits = { max_client_connections = $maxclients; };
monitor = { user = "monitor"; password = "monitor"; };
$extra
EOF
  "$bin" -c "$cfg" </dev/null >"$dir/$name.log" 2>&1 &
  PID[$name]=$!
  WORD[$name]=$cfg
  bench_wait_listening "${PID[$name]}" "$port" "$name" "$dir/$name.log"
}

# bench_wait_listening PID PORT NAME LOG: wait up to 10 s for PORT, die if PID exits.
bench_wait_listening() {
  local pid=$1 port=$2 name=$3 log=$4 i
  for ((i = 0; i < 100; i++)); do
    bench_pid_alive "$pid" || {
      tail -n 20 "$log" >&2 2>/dev/null || true
      bench_die "$name exited during start-up"
    }
    if bench_port_listening "$port"; then
      bench_log "$name listening on 127.0.0.1:$port (pid $pid)"
      return 0
    fi
    sleep 0.1
  done
  bench_die "$name did not listen on $port within 10 s"
}

# bench_wait_query PORT USER PASS SECS: retry SELECT 1 through PORT until it works.
bench_wait_query() {
  local port=$1 user=$2 pass=$3 secs=$4 i out=""
  for ((i = 0; i < secs * 5; i++)); do
    if out=$(mariadb -h127.0.0.1 -P"$port" -u"$user" -p"$pass" --connect-timeout=2 \
      -N -B -e 'SELECT 1' 2>&1) && [[ "$out" == 1 ]]; then
      return 0
    fi
    sleep 0.2
  done
  bench_log "SELECT 1 through port $port still fails after $secs s: $out"
  return 1
}

# ---- clients ------------------------------------------------------------------

# bench_sysbench PORT WORKLOAD THREADS SECONDS OUT [EXTRA...]: one sysbench run, output to OUT.
bench_sysbench() {
  local port=$1 workload=$2 threads=$3 secs=$4 out=$5
  shift 5
  sysbench "$workload" --tables="$BENCH_TABLES" --table-size="$BENCH_TABLE_SIZE" \
    --mysql-host=127.0.0.1 --mysql-port="$port" --mysql-user="$BENCH_USER" \
    --mysql-password="$BENCH_PASS" --mysql-db="$BENCH_DB" \
    --threads="$threads" --time="$secs" --percentile="${BENCH_PERCENTILE:-95}" "$@" run >"$out" 2>&1
}

# bench_sysbench_parse OUT prints "qps tps pN_ms queries errors" (N: BENCH_PERCENTILE), NA for
# what is missing.
bench_sysbench_parse() {
  awk '
    /^ *queries:/ { q = $2; qps = $3; gsub(/[(]/, "", qps) }
    /^ *transactions:/ { tps = $3; gsub(/[(]/, "", tps) }
    /^ *[0-9]+th percentile:/ { p95 = $3 }
    /^ *ignored errors:/ { err = $3 }
    END {
      printf "%s %s %s %s %s\n", (qps == "" ? "NA" : qps), (tps == "" ? "NA" : tps),
        (p95 == "" ? "NA" : p95), (q == "" ? "NA" : q), (err == "" ? "NA" : err)
    }' "$1"
}

# bench_churn_field OUT KEY prints KEY's value from churn's key=value line.
bench_churn_field() {
  tr ' ' '\n' <"$1" | awk -F= -v k="$2" '$1 == k {print $2; exit}'
}

# ---- RESULTS.md ---------------------------------------------------------------------
# The report reads the run's TSV files; these globals come from run.sh: SB_TSV CHURN_TSV
# IDLE_TSV PROFILE_MD PATHS THREADS WORKLOADS and the BENCH_* settings.

# The awk function library shared by the tables: statistics over a space-separated list.
BENCH_AWK_LIB='
function stats(list,   a, n, i, j, t) {
  n = split(list, a, " ")
  for (i = 2; i <= n; i++) {
    t = a[i] + 0
    for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]
    a[j + 1] = t
  }
  N = n
  if (n == 0) { MED = MIN = MAX = ""; return 0 }
  MIN = a[1] + 0; MAX = a[n] + 0
  MED = (n % 2) ? a[(n + 1) / 2] + 0 : (a[n / 2] + a[n / 2 + 1]) / 2
  return n
}
function commas(x,   s, r) {
  s = sprintf("%.0f", x); r = ""
  while (length(s) > 3) { r = "," substr(s, length(s) - 2) r; s = substr(s, 1, length(s) - 3) }
  return s r
}
function ratio(a, b) { return (a != "" && b != "" && b > 0) ? sprintf("%.2f×", a / b) : "—" }
'

# bench_lscpu_field NAME prints one field of lscpu, or "?".
bench_lscpu_field() {
  lscpu 2>/dev/null | awk -F: -v k="$1" '$1 == k { sub(/^[ \t]+/, "", $2); print $2; f = 1 }
    END { if (!f) print "?" }'
}

# report_sysbench prints one table per workload and thread count.
report_sysbench() {
  awk -F'\t' -v wls="${WORKLOADS[*]}" -v ths="${THREADS[*]}" -v paths="${PATHS[*]}" \
    -v pct="${BENCH_PERCENTILE:-95}" "$BENCH_AWK_LIB"'
    NR == 1 { next }
    {
      k = $2 SUBSEP $3 SUBSEP $4
      if ($5 == "NA") { fail[k]++; next }
      qps[k] = qps[k] " " $5; p95[k] = p95[k] " " $7; db[k] = db[k] " " $12
      if ($11 != "NA") cpu[k] = cpu[k] " " $11
      if ($14 != "NA" && $14 != "") sys[k] = sys[k] " " $14
      if ($13 + 0 > oth[k] + 0) oth[k] = $13
    }
    END {
      nw = split(wls, W, " "); nt = split(ths, T, " "); np = split(paths, P, " ")
      for (w = 1; w <= nw; w++) for (t = 1; t <= nt; t++) {
        printf "### %s, %s threads\n\n", W[w], T[t]
        for (p = 1; p <= np; p++) {
          stats(qps[W[w], T[t], P[p]]); med[P[p]] = MED
        }
        print "| path | QPS median (min–max) | ÷ direct | ÷ HAProxy 1t | ÷ HAProxy default " \
          "| p" pct " ms | proxy CPU µs/query | of it kernel | DB CPU µs/query | other load % (max) |"
        print "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
        for (p = 1; p <= np; p++) {
          k = W[w] SUBSEP T[t] SUBSEP P[p]
          if (!stats(qps[k])) { printf "| %s | failed (%d runs) ||||||||\n", P[p], fail[k]; continue }
          cell = sprintf("%s (%s–%s)", commas(MED), commas(MIN), commas(MAX))
          if (fail[k]) cell = cell sprintf(" + %d failed", fail[k])
          if (N > 0 && MED > 0 && (MAX - MIN) / MED > maxspread) {
            maxspread = (MAX - MIN) / MED; spreadcell = W[w] " " T[t] "t " P[p]
          }
          rd = (P[p] == "direct") ? "—" : ratio(med[P[p]], med["direct"])
          r1 = (P[p] == "haproxy-1t") ? "—" : ratio(med[P[p]], med["haproxy-1t"])
          r2 = (P[p] == "haproxy-default") ? "—" : ratio(med[P[p]], med["haproxy-default"])
          stats(p95[k]); pp = sprintf("%.2f", MED)
          c = stats(cpu[k]) ? sprintf("%.1f", MED) : "—"
          ks = stats(sys[k]) ? sprintf("%.0f %%", MED) : "—"
          d = stats(db[k]) ? sprintf("%.1f", MED) : "—"
          printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", P[p], cell, rd, r1, r2,
            pp, c, ks, d, oth[k]
        }
        print ""
      }
      if (spreadcell != "")
        printf "Largest spread between repeats: %.0f%% of the median (%s).\n\n", maxspread * 100,
          spreadcell
    }' "$SB_TSV"
}

# report_churn prints the connection-churn table.
report_churn() {
  awk -F'\t' -v paths="${PATHS[*]}" "$BENCH_AWK_LIB"'
    NR == 1 { next }
    $3 == "NA" { fail[$2]++; next }
    { rate[$2] = rate[$2] " " $3; errs[$2] += $5; if ($6 != "NA") us[$2] = us[$2] " " $6 }
    END {
      np = split(paths, P, " ")
      for (p = 1; p <= np; p++) { stats(rate[P[p]]); med[P[p]] = MED }
      print "| path | conn/s median (min–max) | ÷ direct | ÷ HAProxy 1t | ÷ HAProxy default " \
        "| proxy CPU µs/connection | failed connects |"
      print "|---|---:|---:|---:|---:|---:|---:|"
      for (p = 1; p <= np; p++) {
        k = P[p]
        if (!stats(rate[k])) { printf "| %s | failed (%d runs) ||||||\n", k, fail[k]; continue }
        cell = sprintf("%s (%s–%s)", commas(MED), commas(MIN), commas(MAX))
        rd = (k == "direct") ? "—" : ratio(med[k], med["direct"])
        r1 = (k == "haproxy-1t") ? "—" : ratio(med[k], med["haproxy-1t"])
        r2 = (k == "haproxy-default") ? "—" : ratio(med[k], med["haproxy-default"])
        c = stats(us[k]) ? sprintf("%.1f", MED) : "—"
        printf "| %s | %s | %s | %s | %s | %s | %d |\n", k, cell, rd, r1, r2, c, errs[k]
      }
      print ""
    }' "$CHURN_TSV"
}

# report_idle prints the memory-per-idle-client table.
report_idle() {
  if [[ ! -s "$IDLE_TSV" ]]; then
    echo "Not measured (neither galera-proxy nor haproxy-1t in BENCH_PATHS)."
    return
  fi
  echo "| proxy | idle sessions held | RSS before | RSS while held | **KiB per idle client** | RSS after they closed |"
  echo "|---|---:|---:|---:|---:|---:|"
  awk -F'\t' "$BENCH_AWK_LIB"'{
    per = ($3 > 0) ? sprintf("**%.1f**", ($5 - $4) / $3) : "—"
    printf "| %s | %d of %d | %s KiB | %s KiB | %s | %s KiB |\n", $1, $3, $2, commas($4),
      commas($5), per, commas($6)
  }' "$IDLE_TSV"
  echo
}

# report_counts prints the per-row kernel counts (run.sh's counts_row), one line per proxy.
report_counts() {
  if [[ ! -s "${COUNTS_TSV:-}" ]] || (($(wc -l <"$COUNTS_TSV") < 2)); then
    echo "Not run (BENCH_COUNTS=0, or perf cannot count syscall tracepoints here)."
    return
  fi
  echo "| workload | threads | path | syscalls/query | reads (empty) | sends | epoll_wait (of them non-blocking) | epoll_ctl | voluntary switches/query | involuntary | events per epoll_wait | read→send µs p50 / p90 |"
  echo "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  awk -F'\t' 'NR > 1 {
    q = $4 + 0
    if (q <= 0) { printf "| %s | %s | %s | no queries counted |||||||||\n", $1, $2, $3; next }
    printf "| %s | %s | %s | **%.2f** | %.2f (%.2f) | %.2f | %.3f (%.3f) | %.3f | **%.3f** | %.3f | %s | %s / %s |\n",
      $1, $2, $3, $5 / q, $6 / q, $7 / q, $8 / q, $9 / q, $10 / q, $11 / q, $12 / q, $13 / q,
      ($15 > 0 ? sprintf("%.1f", $14 / $15) : "—"), $16, $17
  }' "$COUNTS_TSV"
  echo
}

# report_targets checks issue 6's targets and goal for each galera-proxy build measured, from
# the medians in this run's TSVs. "HAProxy" in a QPS comparison is the better of the two.
report_targets() {
  local gp
  for gp in galera-proxy galera-proxy-b; do
    has_path "$gp" || continue
    echo "### $gp$([[ "$gp" == galera-proxy-b ]] && echo " (BENCH_PROXY_BIN_B: the build compared against)")"
    echo
    awk -F'\t' -v gp="$gp" -v phase=sb "$BENCH_AWK_LIB$BENCH_AWK_TARGETS" "$SB_TSV"
    awk -F'\t' -v gp="$gp" -v pct="$BENCH_PERCENTILE" "$BENCH_AWK_LIB$BENCH_AWK_TARGETS18" "$SB_TSV"
    awk -F'\t' -v gp="$gp" -v phase=churn "$BENCH_AWK_LIB$BENCH_AWK_TARGETS" "$CHURN_TSV"
    if [[ -s "$IDLE_TSV" ]]; then
      awk -F'\t' -v gp="$gp" -v phase=idle -v want="$IDLE_WANTED" "$BENCH_AWK_LIB$BENCH_AWK_TARGETS" \
        "$IDLE_TSV"
    fi
    echo
  done
}

# The awk program behind report_targets; phase (sb, churn, idle) says which TSV it reads.
# shellcheck disable=SC2016 # awk code, expanded by awk
BENCH_AWK_TARGETS='
function mark(ok) { return ok ? "met" : "**missed**" }
function med(list) { return stats(list) ? MED : "" }
phase == "sb" && NR > 1 && $5 != "NA" {
  k = $2 SUBSEP $3 SUBSEP $4
  qps[k] = qps[k] " " $5; if ($11 != "NA") cpu[k] = cpu[k] " " $11
  if ($11 != "NA" && $14 != "NA" && $14 != "") {
    kern[k] = kern[k] " " $11 * $14 / 100; user[k] = user[k] " " $11 * (100 - $14) / 100
  }
  if (!($2 SUBSEP $3 in seen)) { seen[$2 SUBSEP $3] = 1; order[++nrow] = $2 SUBSEP $3 }
}
phase == "churn" && NR > 1 && $3 != "NA" { rate[$2] = rate[$2] " " $3 }
phase == "idle" && $1 == gp { held[$2] = $3; per[$2] = ($3 > 0) ? ($5 - $4) / $3 : -1; nidle++ }
END {
  if (phase == "sb") {
    # CPU per query: the issue asks <= 0.8x HAProxy (target), <= 0.75x (goal); compared with
    # HAProxy nbthread 1 (the cheaper of the two per query) and, for information, default.
    printf "- proxy CPU per query ÷ HAProxy nbthread 1 (÷ HAProxy default), target ≤ 0.80, goal ≤ 0.75:\n"
    for (i = 1; i <= nrow; i++) {
      split(order[i], wt, SUBSEP)
      g = med(cpu[order[i] SUBSEP gp]); h1 = med(cpu[order[i] SUBSEP "haproxy-1t"])
      hd = med(cpu[order[i] SUBSEP "haproxy-default"])
      if (g == "" || h1 == "") continue
      r = g / h1; all = all " " r
      if (wt[1] == "oltp_point_select" && wt[2] == 8) head = r
      printf "  - %s %s threads: %.1f vs %.1f µs = %.2f× (%s) → target %s, goal %s\n", wt[1], wt[2],
        g, h1, r, (hd != "" ? sprintf("%.2f×", g / hd) : "—"), mark(r <= 0.8), mark(r <= 0.75)
    }
    if (stats(all))
      printf "  - median over these %d rows: %.2f× (target %s, goal %s; %+.0f %% from the target)\n", N,
        MED, mark(MED <= 0.8), mark(MED <= 0.75), (MED / 0.8 - 1) * 100
    # The floor: galera-proxy'"'"'s kernel time alone (its reads, sends and epoll waits, the TCP
    # work and peer wake-ups inside them) over HAProxy'"'"'s whole CPU, i.e. the ratio if
    # galera-proxy spent no user-space time at all.
    printf "- the kernel floor: galera-proxy'"'"'s kernel time per query alone ÷ HAProxy nbthread 1'"'"'s whole CPU per query (the ratio with no user-space time at all); user-space µs per query, galera-proxy vs HAProxy nbthread 1:\n"
    for (i = 1; i <= nrow; i++) {
      split(order[i], wt, SUBSEP)
      gk = med(kern[order[i] SUBSEP gp]); h1 = med(cpu[order[i] SUBSEP "haproxy-1t"])
      gu = med(user[order[i] SUBSEP gp]); hu = med(user[order[i] SUBSEP "haproxy-1t"])
      if (gk == "" || h1 == "" || hu == "") continue
      fl = fl " " gk / h1
      printf "  - %s %s threads: kernel %.1f ÷ %.1f µs = %.2f×; user space %.2f vs %.2f µs\n", wt[1],
        wt[2], gk, h1, gk / h1, gu, hu
    }
    if (stats(fl))
      printf "  - median floor over these %d rows: %.2f× (%s)\n", N, MED, (MED > 0.8 ? "the 0.80× " \
        "target lies below it: only less kernel work per query could reach it, not user-space work" \
        : "the 0.80× target lies above it: user-space work decides")
    printf "- QPS ÷ the better HAProxy, target ≥ 1.00 in every point_select/read_only row at 8 and 64 threads, goal ≥ 1.25 at 8 and 64 threads:\n"
    for (i = 1; i <= nrow; i++) {
      split(order[i], wt, SUBSEP)
      if (wt[2] != 8 && wt[2] != 64) continue
      g = med(qps[order[i] SUBSEP gp]); h1 = med(qps[order[i] SUBSEP "haproxy-1t"])
      hd = med(qps[order[i] SUBSEP "haproxy-default"])
      h = (h1 + 0 > hd + 0) ? h1 : hd
      if (g == "" || h == "") continue
      r = g / h; tgt = (wt[1] != "oltp_read_write")
      if (tgt && r < 1) qmiss++
      if (r < 1.25) gmiss++
      printf "  - %s %s threads: %.2f× → %s, goal %s\n", wt[1], wt[2], r,
        (tgt ? "target " mark(r >= 1) : "(no target for read_write)"), mark(r >= 1.25)
    }
  } else if (phase == "churn") {
    g = med(rate[gp]); h1 = med(rate["haproxy-1t"]); hd = med(rate["haproxy-default"])
    h = (h1 + 0 > hd + 0) ? h1 : hd
    if (g != "" && h != "")
      printf "- connection churn: %s vs %s conn/s (the better HAProxy) = %.2f× → target %s\n",
        commas(g), commas(h), g / h, mark(g >= h)
  } else if (phase == "idle" && nidle) {
    for (n in per) {
      printf "- %s idle clients: %d held, %.1f KiB each → ≤ 32 KiB per idle client %s\n", n, held[n],
        per[n], mark(per[n] >= 0 && per[n] <= 32 && held[n] == n)
      if (held[n] + 0 > maxheld) maxheld = held[n]
    }
    printf "- 10,000 concurrent clients: %s held at once", commas(maxheld)
    if (maxheld >= 10000) print " → met"
    else if (want + 0 > maxheld) printf " of %s asked → **not shown here** (see the note on descriptors)\n", commas(want)
    else print " → **missed**"
  }
}'

# Issue 18's targets, per point_select/read_only row at any thread count: proxy CPU per query
# <= 0.9x HAProxy nbthread 1's, QPS >= its QPS and the latency percentile no worse (medians).
# shellcheck disable=SC2016 # awk code, expanded by awk
BENCH_AWK_TARGETS18='
NR > 1 && $5 != "NA" && ($4 == gp || $4 == "haproxy-1t") && $2 != "oltp_read_write" {
  k = $2 SUBSEP $3 SUBSEP $4
  qps[k] = qps[k] " " $5; lat[k] = lat[k] " " $7; if ($11 != "NA") cpu[k] = cpu[k] " " $11
  if (!($2 SUBSEP $3 in seen)) { seen[$2 SUBSEP $3] = 1; order[++nrow] = $2 SUBSEP $3 }
}
function med(list) { return stats(list) ? MED : "" }
function mark(ok) { return ok ? "met" : "**missed**" }
END {
  printf "- issue 18 (vs HAProxy nbthread 1: CPU per query ≤ 0.90×, QPS ≥ 1.00×, p%s latency no worse), per row:\n", pct
  for (i = 1; i <= nrow; i++) {
    split(order[i], wt, SUBSEP); g = order[i] SUBSEP gp; h = order[i] SUBSEP "haproxy-1t"
    gc = med(cpu[g]); hc = med(cpu[h]); gq = med(qps[g]); hq = med(qps[h]); gl = med(lat[g]); hl = med(lat[h])
    if (gc == "" || hc == "" || gq == "" || hq == "") continue
    ok = (gc / hc <= 0.9) && (gq >= hq) && (gl <= hl); n++; met += ok
    printf "  - %s %s threads: CPU %.2f×, QPS %.2f×, p%s %.2f vs %.2f ms → %s\n", wt[1], wt[2], gc / hc,
      gq / hq, pct, gl, hl, mark(ok)
  }
  if (n) printf "  - %d of %d rows meet all three\n", met, n
}'

# report_noise summarises the other load measured during the sysbench runs.
report_noise() {
  awk -F'\t' "$BENCH_AWK_LIB"'
    NR > 1 && $13 != "NA" { l = l " " $13; if ($13 + 0 >= 10) hi++; n++ }
    NR > 1 && $15 != "" && $15 != "NA" { la = la " " $15 }
    END {
      if (!stats(l)) exit
      printf "- This run: CPU used by other processes on the machine was %.0f %% of all CPUs " \
        "(median over the %d sysbench runs), at most %.0f %%", MED, n, MAX
      if (hi) printf "; %d runs saw 10 %% or more: treat their cells with care", hi
      print "."
      if (stats(la))
        printf "- Load average (1 min) at the end of each sysbench run: median %.1f, min %.1f, " \
          "max %.1f (2 CPUs; column load1 of the raw data).\n", MED, MIN, MAX
    }' "$SB_TSV"
}

# report_write prints the whole RESULTS.md.
report_write() {
  local commit dirty others
  commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null) || commit="no commit yet"
  dirty=$(git -C "$ROOT" status --porcelain 2>/dev/null | wc -l) || dirty="?"
  others=$(pgrep -c -x mariadbd 2>/dev/null) || others=0
  cat <<EOF
# Benchmark results: direct vs HAProxy vs galera-proxy

Written by \`bench/run.sh\` (\`make bench\`) on $(date -u '+%Y-%m-%d %H:%M UTC'); it took
$((SECONDS - BENCH_T0)) s. How it works and how to rerun it: [README.md](README.md).

## Machine and versions

- machine: $NCPU CPUs, $(bench_lscpu_field 'Model name'), hypervisor: $(bench_lscpu_field 'Hypervisor vendor'), $(awk '$1 == "MemTotal:" {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo), Linux $(uname -r)
- MariaDB: $(mariadbd --version 2>/dev/null | sed 's/^.*Ver //')
- HAProxy: $(haproxy -v 2>/dev/null | head -n 1)
- sysbench: $(sysbench --version 2>/dev/null)
- galera-proxy: $GP_VERSION (buildtype release from the tree at $commit, $dirty uncommitted changes)
- server: one MariaDB on 127.0.0.1:${PORT[db]}, innodb_buffer_pool_size=1G, max_connections=$DB_MAXCONN,
  thread_handling=$BENCH_DB_THREADING, skip-name-resolve, performance_schema=OFF; data:
  $BENCH_TABLES tables × $BENCH_TABLE_SIZE rows
- HAProxy: mode tcp, maxconn $HA_MAXCONN, no health check; \`nbthread 1\` on :${PORT[haproxy-1t]}, default
  threads on :${PORT[haproxy-default]}. galera-proxy on :${PORT[galera-proxy]}, log_level warn, one backend$(
    [[ -z "$BENCH_GP_CONF" ]] || echo ", \`$BENCH_GP_CONF\`")$(
    has_path galera-proxy-b && echo "; galera-proxy-b ($BENCH_PROXY_BIN_B: $GP_VERSION_B) on :${PORT[galera-proxy-b]}$(
      [[ -z "$BENCH_GP_CONF_B" ]] || echo ", \`$BENCH_GP_CONF_B\`")")
- scheduler groups (autogroup, cgroup) of the server, the proxies and the clients: ${SCHED_GROUPS:-not checked}
- descriptor limit per process: $FD_LIMIT$([[ -n "$IDLE_CAPPED" ]] && echo "; note: $IDLE_CAPPED")
- settings: BENCH_TIME=$BENCH_TIME s, BENCH_REPEATS=$BENCH_REPEATS, BENCH_THREADS="${THREADS[*]}",
  BENCH_WORKLOADS="${WORKLOADS[*]}", churn ${BENCH_CHURN_WORKERS} workers × ${BENCH_CHURN_TIME} s,
  ${IDLE_NS[*]} idle clients$([[ "${BENCH_QUICK:-0}" == 1 ]] && echo " (BENCH_QUICK=1 smoke run)")
- load average at the start of the run: ${BENCH_LOAD0:-?}; at the end: $(cut -d' ' -f1-3 /proc/loadavg), $others mariadbd
  processes on the machine (ours is one of them)

## Targets and goal (issue 6; issue 18 per row)

Medians of this run. Targets: proxy CPU per query ≤ 0.8× HAProxy's, QPS ≥ HAProxy's in every
point_select/read_only row at 8 and 64 threads, churn ≥ HAProxy's, ≤ 32 KiB per idle client,
10,000 clients held. Goal: QPS ≥ 1.25× HAProxy's at 8 and 64 threads, CPU ≤ 0.75×.

$(report_targets)

## What changed in the I/O engine and its effect

$(if [[ -f "$HERE/CHANGES.md" ]]; then cat "$HERE/CHANGES.md"; else echo "(bench/CHANGES.md is missing)"; fi)

## sysbench

Paths ran interleaved (${PATHS[*]}, then again), each
run ${BENCH_TIME} s. QPS: median over the $BENCH_REPEATS repeat(s) (for an even count, the mean of
the middle two), min–max in brackets. Ratios divide medians of this same run. p${BENCH_PERCENTILE:-95}: median of
the runs' ${BENCH_PERCENTILE:-95}th-percentile latency. Proxy CPU: the proxy's utime+stime over the run (all
threads) ÷ queries done; "of it kernel" is the stime share. DB CPU: the same for mariadbd.
Other load: machine CPU not used by mariadbd, the proxy or sysbench, as % of all CPUs, i.e.
other work on the shared machine.

$(report_sysbench)

## Connection churn

\`bench/churn.c run ${BENCH_CHURN_WORKERS} ${BENCH_CHURN_TIME}\`: each worker thread loops mysql_real_connect + \`SELECT 1\` +
mysql_close. Median (min–max) over $BENCH_REPEATS interleaved repeats. Proxy CPU per connection
is the proxy's CPU over the run ÷ connections completed.

$(report_churn)

## Memory per idle client

\`bench/churn.c hold N\` opens N sessions one after another (each authenticates and runs
\`SELECT 1\`), then idles; VmRSS of the proxy is read before and 2 s after the last one
opened. Measured first, on freshly started proxies.

$(report_idle)

## Where the proxy's time goes

A point_select load per proxy while counting, once per thread count in BENCH_PROFILE_THREADS
(${BENCH_PROFILE_THREADS:-${THREADS[0]}}): set side by side, the profiles show which kernel paths grow with
concurrency. Statements are the server's \`Questions\` counter over the counting window.

$(if [[ -s "$PROFILE_MD" ]]; then cat "$PROFILE_MD"; else echo "Not run (BENCH_PROFILE=0)."; fi)

## Kernel work per query, by row

Separate windows after the timed runs (so those stay unobserved): for each workload, thread
count and proxy, ${BENCH_COUNTS_TIME:-3} s of \`perf stat\` on the syscall tracepoints (near-zero overhead) and the
threads' context switches from \`/proc/PID/task/*/status\`, per statement the server counted
(\`Questions\`, read at the window's start and end inside it). "Empty" reads returned an error
(EAGAIN: a speculative read that found nothing). A further 1 s window traces reads, sends and
epoll_wait returns with timestamps: events per epoll_wait is the sum of its return values
over its calls, and read→send pairs each send with the oldest unpaired read of the same loop
turn. Tracing slows the proxy, so that window's figures only compare proxies within a row and
its delays are an upper bound.

$(report_counts)

## Noise

$(report_noise)
- Everything (clients, proxies, server) shares $NCPU CPUs: every proxy microsecond is taken from
  the server and the client, so ratios measure the proxy's cost per query, not only latency.
- Other engineers' test servers may run on the same machine at the same time; the "other
  load" column shows how much CPU they took during each cell (the maximum over repeats).
  Interleaving spreads such drift over all paths, but a cell with high other load is suspect.
- The reference runs in shared/recipes/benchmark-baseline.md agreed within 2–10 % between
  repeats; with fewer or shorter repeats (BENCH_QUICK) expect more.
- CPU ticks are 1/$CLK_TCK s; over a ${BENCH_TIME} s run that is well below 1 % of the proxy CPU.

## Raw data

<details><summary>sysbench runs (TSV)</summary>

\`\`\`
$(cat "$SB_TSV")
\`\`\`
</details>

<details><summary>churn runs (TSV)</summary>

\`\`\`
$(cat "$CHURN_TSV")
\`\`\`
</details>
EOF
}
