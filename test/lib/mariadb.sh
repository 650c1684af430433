#!/usr/bin/env bash
# Starts and stops a throwaway single MariaDB server (no Galera) for tests; source it or run it.
#
#   mariadb.sh start DIR PORT   fresh server in DIR on 127.0.0.1:PORT, prints its pid
#   mariadb.sh stop DIR         SIGTERM by DIR's pid file, SIGKILL after 30 s
#   mariadb.sh sql DIR SQL...   runs SQL as root over DIR's socket
#
# Users created: app/app (mysql_native_password, ALL on *.*), edapp/edpass (ed25519),
# monitor/monitor (USAGE, PROCESS, REPLICATION CLIENT, SELECT on mysql.global_priv); database
# `test`.
# TLS: the server offers it (plain clients are unaffected) with certificates made at start in
# DIR/tls: ca.pem/ca.key (the CA), server.pem/server.key (CN 127.0.0.1, IP:127.0.0.1 and
# DNS:localhost), client.pem/client.key (CN galera-proxy-test-client, signed by the CA: a
# REQUIRE X509 account accepts it).
# Only the process recorded in DIR is ever signalled.

# mariadb_log prints a progress line to stderr so stdout stays the pid.
mariadb_log() {
  printf 'mariadb.sh: %s\n' "$*" >&2
}

# mariadb_check_traversable fails when the mysql user could not reach DIR (mktemp -d is 0700).
mariadb_check_traversable() {
  local parent
  parent=$(dirname "$1")
  if ! runuser -u mysql -- test -x "$parent"; then
    mariadb_log "$parent (or a parent of it) is not traversable by user mysql: chmod o+x it"
    return 1
  fi
}

# mariadb_pid prints the pid of DIR's server if it is alive (and really is that server).
mariadb_pid() {
  local dir=$1 pid f
  for f in "$dir/mariadbd.pid" "$dir/launch.pid"; do
    [[ -s "$f" ]] || continue
    pid=$(<"$f")
    [[ "$pid" =~ ^[0-9]+$ ]] || continue
    if mariadb_pid_is_ours "$dir" "$pid"; then
      printf '%s\n' "$pid"
      return 0
    fi
  done
  return 1
}

# mariadb_pid_is_ours: PID is a live (non-zombie) mariadbd started with DIR's defaults file.
mariadb_pid_is_ours() {
  local dir=$1 pid=$2 state
  [[ -r "/proc/$pid/cmdline" ]] || return 1
  state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) || return 1
  [[ "$state" != "Z" ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "--defaults-file=$dir/my.cnf"
}

# mariadb_sql DIR SQL... runs statements as root over the unix socket.
mariadb_sql() {
  local dir=$1
  shift
  mariadb --defaults-file="$dir/my.cnf" --protocol=socket -uroot -N -B -e "$*"
}

# mariadb_make_tls DIR: the CA and certificates above, with the openssl CLI (EC keys: fast).
mariadb_make_tls() {
  local t=$1/tls name
  mkdir -p "$t"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3 \
    -keyout "$t/ca.key" -out "$t/ca.pem" -subj "/CN=galera-proxy test db CA" 2>/dev/null || return 1
  for name in server client; do
    local subj=/CN=127.0.0.1 ext="subjectAltName=IP:127.0.0.1,DNS:localhost"
    if [[ $name == client ]]; then
      subj=/CN=galera-proxy-test-client
      ext="extendedKeyUsage=clientAuth"
    fi
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$t/$name.key" \
      -out "$t/$name.csr" -subj "$subj" 2>/dev/null || return 1
    printf '%s\n' "$ext" >"$t/$name.ext"
    openssl x509 -req -in "$t/$name.csr" -CA "$t/ca.pem" -CAkey "$t/ca.key" -CAcreateserial \
      -days 3 -out "$t/$name.pem" -extfile "$t/$name.ext" 2>/dev/null || return 1
  done
}

mariadb_write_cnf() {
  local dir=$1 port=$2 userline=""
  if [[ $(id -u) -eq 0 ]]; then
    userline="user=mysql"
  fi
  cat >"$dir/my.cnf" <<EOF
[client]
socket=$dir/mysqld.sock
port=$port

[mysqld]
$userline
datadir=$dir/data
socket=$dir/mysqld.sock
pid-file=$dir/mariadbd.pid
log-error=$dir/mariadbd.err
port=$port
bind-address=127.0.0.1
skip-name-resolve
innodb_buffer_pool_size=64M
innodb_log_file_size=32M
max_connections=3000
max_allowed_packet=64M
local_infile=ON
performance_schema=OFF
character-set-server=utf8mb4
collation-server=utf8mb4_general_ci
ssl_ca=$dir/tls/ca.pem
ssl_cert=$dir/tls/server.pem
ssl_key=$dir/tls/server.key
EOF
}

# mariadb_start DIR PORT: fresh datadir, start, wait, create users; prints the pid on stdout.
mariadb_start() {
  local dir=$1 port=$2 pid i
  if [[ -z "$dir" || -z "$port" ]]; then
    mariadb_log "usage: mariadb_start DIR PORT"
    return 2
  fi
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd -P)
  if mariadb_pid "$dir" >/dev/null; then
    mariadb_log "a server is already running in $dir"
    return 1
  fi
  rm -rf "$dir/data" "$dir/mysqld.sock" "$dir/mariadbd.pid" "$dir/launch.pid" "$dir/mariadbd.err"
  mkdir -p "$dir/data"
  if ! mariadb_make_tls "$dir"; then
    mariadb_log "openssl could not make the server's certificates in $dir/tls"
    return 1
  fi
  mariadb_write_cnf "$dir" "$port"
  if [[ $(id -u) -eq 0 ]]; then
    mariadb_check_traversable "$dir" || return 1
    chown -R mysql:mysql "$dir"
  fi
  local auth=normal
  if [[ $(id -u) -eq 0 ]]; then
    auth=socket
  fi
  mariadb_log "installing system tables in $dir/data"
  if ! mariadb-install-db --defaults-file="$dir/my.cnf" --auth-root-authentication-method="$auth" \
    --skip-test-db >"$dir/install.log" 2>&1; then
    mariadb_log "mariadb-install-db failed:"
    tail -n 30 "$dir/install.log" >&2
    return 1
  fi
  mariadb_log "starting mariadbd on 127.0.0.1:$port"
  mariadbd --defaults-file="$dir/my.cnf" </dev/null >>"$dir/mariadbd.out" 2>&1 &
  pid=$!
  echo "$pid" >"$dir/launch.pid"
  for ((i = 0; i < 600; i++)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      mariadb_log "mariadbd exited during start-up:"
      tail -n 30 "$dir/mariadbd.err" >&2 2>/dev/null || true
      return 1
    fi
    if mariadb-admin --defaults-file="$dir/my.cnf" --protocol=socket -uroot ping >/dev/null 2>&1; then
      break
    fi
    sleep 0.1
  done
  if ((i >= 600)); then
    mariadb_log "mariadbd did not answer within 60 s"
    mariadb_stop "$dir"
    return 1
  fi
  if ! mariadb_sql "$dir" "
      DELETE FROM mysql.global_priv WHERE User = '';
      FLUSH PRIVILEGES;
      INSTALL SONAME 'auth_ed25519';
      CREATE USER 'app'@'%' IDENTIFIED VIA mysql_native_password USING PASSWORD('app');
      GRANT ALL PRIVILEGES ON *.* TO 'app'@'%';
      CREATE USER 'edapp'@'%' IDENTIFIED VIA ed25519 USING PASSWORD('edpass');
      GRANT ALL PRIVILEGES ON *.* TO 'edapp'@'%';
      CREATE USER 'monitor'@'%' IDENTIFIED VIA mysql_native_password USING PASSWORD('monitor');
      GRANT USAGE, PROCESS, REPLICATION CLIENT ON *.* TO 'monitor'@'%';
      GRANT SELECT ON mysql.global_priv TO 'monitor'@'%';
      CREATE DATABASE IF NOT EXISTS test;
      FLUSH PRIVILEGES;" 2>"$dir/setup.err"; then
    mariadb_log "creating users failed: $(cat "$dir/setup.err")"
    mariadb_stop "$dir"
    return 1
  fi
  mariadb_log "ready (pid $pid)"
  printf '%s\n' "$pid"
}

# mariadb_stop DIR: SIGTERM the server recorded in DIR, wait up to 30 s, then SIGKILL.
mariadb_stop() {
  local dir=$1 pid i
  dir=$(cd "$dir" 2>/dev/null && pwd -P) || return 0
  pid=$(mariadb_pid "$dir") || return 0
  mariadb_log "stopping mariadbd pid $pid"
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 300; i++)); do
    mariadb_pid_is_ours "$dir" "$pid" || return 0
    sleep 0.1
  done
  mariadb_log "mariadbd pid $pid still alive after 30 s, sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    mariadb_pid_is_ours "$dir" "$pid" || return 0
    sleep 0.1
  done
  return 1
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  set -euo pipefail
  case "${1:-}" in
  start)
    [[ $# -eq 3 ]] || {
      echo "usage: $0 start DIR PORT" >&2
      exit 2
    }
    mariadb_start "$2" "$3"
    ;;
  stop)
    [[ $# -eq 2 ]] || {
      echo "usage: $0 stop DIR" >&2
      exit 2
    }
    mariadb_stop "$2"
    ;;
  sql)
    [[ $# -ge 3 ]] || {
      echo "usage: $0 sql DIR SQL..." >&2
      exit 2
    }
    d=$2
    shift 2
    mariadb_sql "$d" "$@"
    ;;
  *)
    echo "usage: $0 {start DIR PORT|stop DIR|sql DIR SQL...}" >&2
    exit 2
    ;;
  esac
fi
