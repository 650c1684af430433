#!/usr/bin/env bash
# galera.sh - a real 3-node MariaDB Galera cluster on loopback for tests (source it or run it).
#
# CLI:   galera.sh start|stop|status [DIR]
#        galera.sh kill N | restart N | wait N | sql N "SQL" [DIR]
# Source: . test/lib/galera.sh; galera_start DIR; trap 'galera_stop DIR' EXIT; ...
#
# DIR defaults to $GALERA_DIR or /tmp/galera-dev. Every function takes DIR last (optional).
# Ports (all below 32768, see shared/recipes/galera-on-loopback.md): node N listens on
# SQL 331N, gcomm 451N, IST 452N, SST 453N, always on 127.0.0.1.
#
# Accounts created on node1 before the joiners arrive (they get them by SST):
#   app/app        ALL PRIVILEGES ON *.*             (the application)
#   monitor/monitor USAGE, PROCESS, REPLICATION CLIENT, SUPER
#                  SUPER only because the monitor account doubles as the eviction account:
#                  MariaDB 10.11 wants SUPER for SET GLOBAL wsrep_provider_options
#                  ('evs.evict=...'). A deployment that sets eviction.user can drop it.
#   edapp/edapp    ALL, authenticated VIA ed25519 (plugin auth_ed25519 installed)
#   database test
# root has unix_socket auth only: galera_sql connects through the node's socket as root.
# GALERA_TLS=1: the nodes also offer TLS to clients, with certificates made at start in DIR/tls
# (test/lib/mariadb.sh's mariadb_make_tls: ca.pem, server.pem for IP:127.0.0.1, client.pem).
#
# Nodes are started directly (no systemd, no mysqld_safe) and stopped by their pid.
# Safe to source from scripts running under set -euo pipefail.

GALERA_DIR=${GALERA_DIR:-/tmp/galera-dev}
GALERA_NODES=3
GALERA_WAIT_S=${GALERA_WAIT_S:-120} # per node: SST under load on 2 cores can be slow
GALERA_PROVIDER=${GALERA_PROVIDER:-/usr/lib/galera/libgalera_smm.so}

galera_log() {
  printf 'galera: %s\n' "$*" >&2
}

galera_sql_port() { echo $((3310 + $1)); }

# galera_pid N [DIR]: the pid of node N if it is running (prints nothing otherwise).
galera_pid() {
  local n=$1 dir=${2:-$GALERA_DIR} pid
  [ -f "$dir/node$n/proc.pid" ] || return 1
  pid=$(cat "$dir/node$n/proc.pid")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  # Only ever signal our own mariadbd: a stale pid file may name a recycled pid.
  grep -q "node$n/my.cnf" "/proc/$pid/cmdline" 2>/dev/null || return 1
  echo "$pid"
}

galera_write_cnf() {
  local n=$1 dir=$2 nd
  nd="$dir/node$n"
  mkdir -p "$nd/data"
  cat >"$nd/my.cnf" <<EOF
[mariadbd]
user=mysql
datadir=$nd/data
socket=$nd/mysqld.sock
pid-file=$nd/mysqld.pid
log-error=$nd/error.log
port=331$n
bind-address=127.0.0.1
skip-name-resolve
innodb_buffer_pool_size=32M
binlog_format=ROW
innodb_autoinc_lock_mode=2
max_connections=500
wsrep_on=ON
wsrep_provider=$GALERA_PROVIDER
wsrep_cluster_name=test
wsrep_cluster_address=gcomm://127.0.0.1:4511,127.0.0.1:4512,127.0.0.1:4513
wsrep_node_name=node$n
wsrep_node_address=127.0.0.1
wsrep_node_incoming_address=127.0.0.1:331$n
wsrep_sst_method=rsync
wsrep_sst_receive_address=127.0.0.1:453$n
wsrep_provider_options="base_port=451$n;gmcast.listen_addr=tcp://127.0.0.1:451$n;ist.recv_addr=127.0.0.1:452$n;gcache.size=64M"
[sst]
sst-log-archive=0
EOF
  if [ "${GALERA_TLS:-0}" = 1 ]; then
    # SST stays plain: the rsync script would want stunnel once it sees the server's keys.
    printf '[mariadbd]\nssl_ca=%s\nssl_cert=%s\nssl_key=%s\n[sst]\nssl-mode=DISABLED\n' \
      "$dir/tls/ca.pem" "$dir/tls/server.pem" "$dir/tls/server.key" >>"$nd/my.cnf"
  fi
}

# galera_sql N "SQL" [DIR]: run SQL on node N as root over its socket; tab-separated, no header.
galera_sql() {
  local n=$1 sql=$2 dir=${3:-$GALERA_DIR}
  mariadb --no-defaults -S "$dir/node$n/mysqld.sock" -uroot -N -B -e "$sql"
}

galera_status_var() {
  galera_sql "$1" "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS \
WHERE VARIABLE_NAME='$2'" "$3" 2>/dev/null
}

# galera_wait_synced N [DIR]: wait until node N reports wsrep_local_state=4 (Synced).
galera_wait_synced() {
  local n=$1 dir=${2:-$GALERA_DIR} t0 now st
  t0=$(date +%s%N)
  while :; do
    st=$(galera_status_var "$n" wsrep_local_state "$dir") || st=
    now=$(date +%s%N)
    if [ "$st" = 4 ]; then
      galera_log "node$n Synced after $(((now - t0) / 1000000)) ms"
      return 0
    fi
    if ! galera_pid "$n" "$dir" >/dev/null; then
      galera_log "node$n died while starting; tail of $dir/node$n/error.log:"
      tail -n 20 "$dir/node$n/error.log" >&2 2>/dev/null || true
      return 1
    fi
    if [ $(((now - t0) / 1000000000)) -ge "$GALERA_WAIT_S" ]; then
      galera_log "node$n not Synced after ${GALERA_WAIT_S}s (wsrep_local_state=${st:-?})"
      tail -n 20 "$dir/node$n/error.log" >&2 2>/dev/null || true
      return 1
    fi
    sleep 0.2
  done
}

# galera_start_node N DIR [mariadbd args...]: start one mariadbd in the background.
galera_start_node() {
  local n=$1 dir=$2 nd
  shift 2
  nd="$dir/node$n"
  if galera_pid "$n" "$dir" >/dev/null; then
    galera_log "node$n already running"
    return 1
  fi
  chown -R mysql:mysql "$nd"
  galera_log "node$n starting (sql $(galera_sql_port "$n") gcomm 451$n) $*"
  mariadbd --defaults-file="$nd/my.cnf" "$@" </dev/null >>"$nd/stdout.log" 2>&1 &
  local pid=$! i
  echo "$pid" >"$nd/proc.pid"
  disown "$pid" 2>/dev/null || true # no "Killed" job notice when galera_kill ends it
  # Until the child has exec'd, its cmdline is ours and galera_pid would not recognise it.
  for i in $(seq 1 100); do
    grep -q "node$n/my.cnf" "/proc/$pid/cmdline" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.02
    : "$i"
  done
  galera_log "node$n did not start; tail of $nd/error.log:"
  tail -n 20 "$nd/error.log" >&2 2>/dev/null || true
  return 1
}

galera_create_users() {
  local dir=$1
  galera_log "creating accounts app, monitor, edapp and database test on node1"
  galera_sql 1 "
CREATE DATABASE IF NOT EXISTS test;
CREATE USER IF NOT EXISTS 'app'@'%' IDENTIFIED BY 'app';
GRANT ALL PRIVILEGES ON *.* TO 'app'@'%';
CREATE USER IF NOT EXISTS 'monitor'@'%' IDENTIFIED BY 'monitor';
GRANT USAGE, PROCESS, REPLICATION CLIENT, SUPER ON *.* TO 'monitor'@'%';
GRANT SELECT ON mysql.global_priv TO 'monitor'@'%';
INSTALL SONAME 'auth_ed25519';
CREATE USER IF NOT EXISTS 'edapp'@'%' IDENTIFIED VIA ed25519 USING PASSWORD('edapp');
GRANT ALL PRIVILEGES ON *.* TO 'edapp'@'%';
" "$dir"
}

# galera_start [DIR]: bring up the 3 nodes serially (node1 bootstraps). Stops all on failure.
galera_start() {
  local dir=${1:-$GALERA_DIR} n t0
  t0=$(date +%s)
  for n in $(seq 1 $GALERA_NODES); do
    if galera_pid "$n" "$dir" >/dev/null; then
      galera_log "node$n already running in $dir; stop it first"
      return 1
    fi
  done
  mkdir -p "$dir"
  chmod 755 "$dir" # mariadbd runs as mysql and must reach its datadir
  if [ "${GALERA_TLS:-0}" = 1 ]; then
    # shellcheck source=test/lib/mariadb.sh
    . "$(dirname "${BASH_SOURCE[0]}")/mariadb.sh"
    mariadb_make_tls "$dir" && chown -R mysql:mysql "$dir/tls" || return 1
  fi
  for n in $(seq 1 $GALERA_NODES); do
    rm -rf "$dir/node$n"
    galera_write_cnf "$n" "$dir"
  done
  chown -R mysql:mysql "$dir/node1"
  galera_log "installing system tables in $dir/node1"
  if ! mariadb-install-db --defaults-file="$dir/node1/my.cnf" \
    --auth-root-authentication-method=socket --skip-test-db \
    >"$dir/node1/install.log" 2>&1; then
    galera_log "mariadb-install-db failed:"
    tail -n 20 "$dir/node1/install.log" >&2
    return 1
  fi
  if ! { galera_start_node 1 "$dir" --wsrep-new-cluster &&
    galera_wait_synced 1 "$dir" && galera_create_users "$dir"; }; then
    galera_stop "$dir"
    return 1
  fi
  for n in $(seq 2 $GALERA_NODES); do
    if ! { galera_start_node "$n" "$dir" && galera_wait_synced "$n" "$dir"; }; then
      galera_stop "$dir"
      return 1
    fi
  done
  # A donor stays Donor/Desynced a moment after its joiner is Synced.
  for n in $(seq 1 $GALERA_NODES); do
    if ! galera_wait_synced "$n" "$dir" 2>/dev/null; then
      galera_stop "$dir"
      return 1
    fi
  done
  galera_log "cluster up in $(($(date +%s) - t0)) s: size $(galera_status_var 1 wsrep_cluster_size "$dir")"
}

# galera_stop_node N [DIR]: SIGTERM, wait up to 60 s, then SIGKILL.
galera_stop_node() {
  local n=$1 dir=${2:-$GALERA_DIR} pid
  pid=$(galera_pid "$n" "$dir") || return 0
  galera_log "node$n stopping (pid $pid)"
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 600); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    galera_log "node$n did not stop in 60 s: SIGKILL"
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$dir/node$n/proc.pid"
}

# galera_stop [DIR]: stop every node that runs, joiners first so node1 leaves last.
galera_stop() {
  local dir=${1:-$GALERA_DIR} n
  for n in $(seq $GALERA_NODES -1 1); do
    galera_stop_node "$n" "$dir"
  done
}

# galera_kill N [DIR]: kill -9 node N (the server process is gone; peers do not know yet).
galera_kill() {
  local n=$1 dir=${2:-$GALERA_DIR} pid
  pid=$(galera_pid "$n" "$dir") || {
    galera_log "node$n is not running"
    return 1
  }
  galera_log "node$n kill -9 (pid $pid)"
  kill -9 "$pid" || true
  while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
  rm -f "$dir/node$n/proc.pid"
}

# galera_restart N [DIR]: recover the position (kill -9 leaves seqno -1 in grastate.dat),
# start with --wsrep_start_position so the node rejoins by IST, wait for Synced.
galera_restart() {
  local n=$1 dir=${2:-$GALERA_DIR} nd pos
  nd="$dir/node$n"
  if galera_pid "$n" "$dir" >/dev/null; then
    galera_stop_node "$n" "$dir"
  fi
  chown -R mysql:mysql "$nd"
  rm -f "$nd/recover.err"
  galera_log "node$n recovering its position (--wsrep-recover)"
  mariadbd --defaults-file="$nd/my.cnf" --wsrep-recover --log-error="$nd/recover.err" \
    </dev/null >/dev/null 2>&1 || true
  pos=$(sed -n 's/.*Recovered position: *\([0-9a-f-]*:-\{0,1\}[0-9]*\).*/\1/p' \
    "$nd/recover.err" | tail -n 1)
  if [ -z "$pos" ]; then
    galera_log "node$n: no recovered position; starting without one (SST)"
    galera_start_node "$n" "$dir" || return 1
  else
    galera_log "node$n recovered position $pos"
    galera_start_node "$n" "$dir" --wsrep_start_position="$pos" || return 1
  fi
  galera_wait_synced "$n" "$dir"
}

galera_status() {
  local dir=${1:-$GALERA_DIR} n pid
  for n in $(seq 1 $GALERA_NODES); do
    if pid=$(galera_pid "$n" "$dir"); then
      printf 'node%s pid=%s port=%s %s\n' "$n" "$pid" "$(galera_sql_port "$n")" \
        "$(galera_sql "$n" "SELECT GROUP_CONCAT(CONCAT(LOWER(VARIABLE_NAME),'=',VARIABLE_VALUE) \
ORDER BY VARIABLE_NAME SEPARATOR ' ') FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME IN \
('wsrep_local_state_comment','wsrep_cluster_status','wsrep_cluster_size','wsrep_evs_evict_list')" \
          "$dir" 2>/dev/null)"
    else
      printf 'node%s down\n' "$n"
    fi
  done
}

galera_main() {
  local cmd=${1:-}
  shift || true
  case "$cmd" in
  start)
    # Interrupted bring-up must not leave nodes behind.
    trap 'galera_stop "${1:-$GALERA_DIR}"; exit 130' INT TERM
    galera_start "$@"
    ;;
  stop) galera_stop "$@" ;;
  status) galera_status "$@" ;;
  kill) galera_kill "$@" ;;
  restart) galera_restart "$@" ;;
  wait) galera_wait_synced "$@" ;;
  sql) galera_sql "$@" ;;
  *)
    echo "usage: $0 start|stop|status [DIR] | kill|restart|wait N [DIR] | sql N SQL [DIR]" >&2
    return 2
    ;;
  esac
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  galera_main "$@"
  exit $?
fi
