# shellcheck shell=bash
# Helpers for bench/run.sh: start/stop the server and proxies, run clients, read /proc.
#
# Everything started here is recorded by pid in a global and stopped by that pid only,
# after checking that the pid still belongs to the process we started (its cmdline names
# our scratch directory), so a recycled pid is never signalled.

BENCH_T0=${BENCH_T0:-$SECONDS}

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
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$word"
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

# bench_mariadb_start DIR PORT: fresh datadir, start, wait; sets BENCH_DB_PID.
bench_mariadb_start() {
  local dir=$1 port=$2 i
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
max_connections=12000
performance_schema=OFF
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
  BENCH_DB_PID=$!
  for ((i = 0; i < 600; i++)); do
    bench_pid_matches "$BENCH_DB_PID" "$dir/my.cnf" || {
      tail -n 20 "$dir/mariadbd.err" >&2 2>/dev/null || true
      bench_die "mariadbd exited during start-up"
    }
    if mariadb-admin --defaults-file="$dir/my.cnf" --protocol=socket -uroot ping \
      >/dev/null 2>&1; then
      bench_log "mariadbd ready (pid $BENCH_DB_PID)"
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

# bench_haproxy_start DIR NAME PORT DBPORT NBTHREAD MAXCONN: NBTHREAD empty = HAProxy's default.
# Prints nothing; sets BENCH_STARTED_PID.
bench_haproxy_start() {
  local dir=$1 name=$2 port=$3 dbport=$4 nbthread=$5 maxconn=$6 cfg i
  cfg="$dir/haproxy-$name.cfg"
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
  haproxy -db -f "$cfg" </dev/null >"$dir/haproxy-$name.log" 2>&1 &
  BENCH_STARTED_PID=$!
  bench_wait_listening "$BENCH_STARTED_PID" "$cfg" "$port" "haproxy $name" "$dir/haproxy-$name.log"
}

# bench_gp_start DIR BIN PORT DBPORT MAXCLIENTS: sets BENCH_STARTED_PID.
bench_gp_start() {
  local dir=$1 bin=$2 port=$3 dbport=$4 maxclients=$5 cfg
  cfg="$dir/galera-proxy.conf"
  cat >"$cfg" <<EOF
# galera-proxy config written by bench/run.sh
listen = "127.0.0.1:$port";
backends = ( { name = "db1"; address = "127.0.0.1:$dbport"; priority = 1; } );
log_level = "warn";
limits = { max_client_connections = $maxclients; };
monitor = { user = "monitor"; password = "monitor"; };
EOF
  "$bin" -c "$cfg" </dev/null >"$dir/galera-proxy.log" 2>&1 &
  BENCH_STARTED_PID=$!
  bench_wait_listening "$BENCH_STARTED_PID" "$cfg" "$port" "galera-proxy" "$dir/galera-proxy.log"
}

# bench_wait_listening PID WORD PORT NAME LOG: wait up to 10 s for PORT, die if PID exits.
bench_wait_listening() {
  local pid=$1 word=$2 port=$3 name=$4 log=$5 i
  for ((i = 0; i < 100; i++)); do
    bench_pid_matches "$pid" "$word" || {
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
    --threads="$threads" --time="$secs" "$@" run >"$out" 2>&1
}

# bench_sysbench_parse OUT prints "qps tps p95_ms queries errors", NA for what is missing.
bench_sysbench_parse() {
  awk '
    /^ *queries:/ { q = $2; qps = $3; gsub(/[(]/, "", qps) }
    /^ *transactions:/ { tps = $3; gsub(/[(]/, "", tps) }
    /^ *95th percentile:/ { p95 = $3 }
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
