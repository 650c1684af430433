#!/usr/bin/env bash
# db.sh - the drills' 3-node Galera cluster, one mariadbd per namespace gpd-db1..gpd-db3.
#
# Same approach as test/lib/galera.sh (serial bring-up, rsync SST, --wsrep-recover before a
# restart after kill -9), but each node is its own host on the bridge with standard ports, so a
# node can be unplugged. Data lives in $GPD_WORK/dbN (made traversable for user mysql); the
# runner administers the nodes over their unix sockets from the root namespace.
#
# Accounts (created on db1, replicated): app/app (ALL), monitor/monitor (USAGE, PROCESS,
# REPLICATION CLIENT, SUPER: SUPER because the proxy's eviction uses the monitor account;
# SELECT on mysql.global_priv: the proxy learns logins with it, to move sessions).
# The drill table: test.w (id BIGINT PRIMARY KEY, t BIGINT, node VARCHAR(16)).

GPD_DB_NODES=(db1 db2 db3)
GPD_DB_WAIT_S=${GPD_DB_WAIT_S:-180} # SST on a busy 2-core machine can be slow
GPD_GALERA_PROVIDER=${GPD_GALERA_PROVIDER:-/usr/lib/galera/libgalera_smm.so}

gpd_db_dir() { echo "$GPD_WORK/$1"; }

gpd_db_cnf() {
  local n=$1 d
  d=$(gpd_db_dir "$n")
  mkdir -p "$d/data"
  cat >"$d/my.cnf" <<EOF
[mariadbd]
user=mysql
datadir=$d/data
socket=$d/mysqld.sock
pid-file=$d/mysqld.pid
log-error=$d/error.log
port=3306
bind-address=${GPD_IP[$n]}
skip-name-resolve
innodb_buffer_pool_size=32M
innodb_log_file_size=32M
innodb_flush_log_at_trx_commit=2
binlog_format=ROW
innodb_autoinc_lock_mode=2
max_connections=500
wsrep_on=ON
wsrep_provider=$GPD_GALERA_PROVIDER
wsrep_cluster_name=gpd
wsrep_cluster_address=gcomm://${GPD_IP[db1]},${GPD_IP[db2]},${GPD_IP[db3]}
wsrep_node_name=$n
wsrep_node_address=${GPD_IP[$n]}
wsrep_sst_method=rsync
wsrep_provider_options="gcache.size=32M${GPD_GALERA_OPTS:+;$GPD_GALERA_OPTS}"
# the session state the proxy re-creates when it moves a session to another node
session_track_schema=ON
session_track_system_variables=*
session_track_state_change=ON
[sst]
sst-log-archive=0
EOF
}

# gpd_db_sql NODE SQL: run SQL as root over NODE's socket; tab-separated, no header.
gpd_db_sql() {
  timeout -k 2 20 mariadb --no-defaults -S "$(gpd_db_dir "$1")/mysqld.sock" -uroot -N -B \
    -e "$2"
}

# gpd_db_status NODE VAR: one GLOBAL_STATUS value (empty when the node does not answer).
gpd_db_status() {
  gpd_db_sql "$1" "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS \
WHERE VARIABLE_NAME='$2'" 2>/dev/null
}

gpd_db_pid() { gpd_pid_of "mariadbd-$1"; }

# gpd_db_start NODE [mariadbd args...]: start mariadbd inside gpd-NODE.
gpd_db_start() {
  local n=$1 d pid
  shift
  d=$(gpd_db_dir "$n")
  if gpd_db_pid "$n" >/dev/null; then
    gpd_log "$n: already running"
    return 1
  fi
  chown -R mysql:mysql "$d"
  gpd_log "$n: starting mariadbd $*"
  ip netns exec "gpd-$n" mariadbd --defaults-file="$d/my.cnf" "$@" </dev/null \
    >>"$d/stdout.log" 2>&1 &
  pid=$!
  disown "$pid" 2>/dev/null
  gpd_track "$pid" "mariadbd-$n"
}

# gpd_db_wait_synced NODE [SECONDS]: wait for wsrep_local_state 4 (Synced).
gpd_db_wait_synced() {
  local n=$1 t=${2:-$GPD_DB_WAIT_S} t0 st
  t0=$(gpd_now_ms)
  while :; do
    st=$(gpd_db_status "$n" wsrep_local_state)
    if [ "$st" = 4 ]; then
      gpd_log "$n: Synced after $(($(gpd_now_ms) - t0)) ms"
      return 0
    fi
    if ! gpd_db_pid "$n" >/dev/null; then
      gpd_log "$n: mariadbd is not running; tail of its error log:"
      tail -n 15 "$(gpd_db_dir "$n")/error.log" >&2 2>/dev/null
      return 1
    fi
    if (($(gpd_now_ms) - t0 > t * 1000)); then
      gpd_log "$n: not Synced after ${t}s (wsrep_local_state=${st:-?})"
      tail -n 15 "$(gpd_db_dir "$n")/error.log" >&2 2>/dev/null
      return 1
    fi
    sleep 0.3
  done
}

# gpd_db_bootstrap: empty datadirs to 3 x Synced with the accounts and the drill table.
gpd_db_bootstrap() {
  local n d t0
  t0=$(gpd_now_ms)
  for n in "${GPD_DB_NODES[@]}"; do
    rm -rf "$(gpd_db_dir "$n")"
    gpd_db_cnf "$n"
  done
  d=$(gpd_db_dir db1)
  chown -R mysql:mysql "$d"
  if ! mariadb-install-db --defaults-file="$d/my.cnf" --auth-root-authentication-method=socket \
    --skip-test-db >"$d/install.log" 2>&1; then
    gpd_log "mariadb-install-db failed:"
    tail -n 15 "$d/install.log" >&2
    return 1
  fi
  gpd_db_start db1 --wsrep-new-cluster && gpd_db_wait_synced db1 || return 1
  gpd_db_sql db1 "
CREATE DATABASE IF NOT EXISTS test;
CREATE USER 'app'@'%' IDENTIFIED BY 'app';
GRANT ALL PRIVILEGES ON *.* TO 'app'@'%';
CREATE USER 'monitor'@'%' IDENTIFIED BY 'monitor';
GRANT USAGE, PROCESS, REPLICATION CLIENT, SUPER ON *.* TO 'monitor'@'%';
GRANT SELECT ON mysql.global_priv TO 'monitor'@'%';
CREATE TABLE test.w (id BIGINT PRIMARY KEY, t BIGINT NOT NULL, node VARCHAR(16) NOT NULL);
" || return 1
  for n in db2 db3; do
    gpd_db_start "$n" && gpd_db_wait_synced "$n" || return 1
  done
  # A donor stays Donor/Desynced a moment after its joiner is Synced.
  for n in "${GPD_DB_NODES[@]}"; do
    gpd_db_wait_synced "$n" 60 || return 1
  done
  gpd_log "cluster up in $((($(gpd_now_ms) - t0) / 1000)) s:" \
    "size $(gpd_db_status db1 wsrep_cluster_size)"
}

# gpd_db_kill NODE: kill -9 (returns once the process is gone).
gpd_db_kill() {
  local pid
  pid=$(gpd_db_pid "$1") || return 1
  kill -KILL "$pid"
  while kill -0 "$pid" 2>/dev/null; do sleep 0.01; done
}

# gpd_db_stop NODE: SIGTERM, KILL after 60 s.
gpd_db_stop() {
  local pid
  pid=$(gpd_db_pid "$1") || return 0
  gpd_log "$1: stopping mariadbd (pid $pid)"
  gpd_stop_pid "$pid" 60
}

# gpd_db_restart NODE: (re)start a node and wait for Synced. After a kill -9 grastate.dat has
# seqno -1: recover the position first so the node rejoins by IST instead of a full SST.
gpd_db_restart() {
  local n=$1 d pos
  d=$(gpd_db_dir "$n")
  gpd_db_pid "$n" >/dev/null && gpd_db_stop "$n"
  chown -R mysql:mysql "$d"
  rm -f "$d/recover.err"
  gpd_ns "$n" mariadbd --defaults-file="$d/my.cnf" --wsrep-recover --log-error="$d/recover.err" \
    </dev/null >/dev/null 2>&1
  pos=$(sed -n 's/.*Recovered position: *\([0-9a-f-]*:-\{0,1\}[0-9]*\).*/\1/p' \
    "$d/recover.err" 2>/dev/null | tail -n 1)
  if [ -n "$pos" ]; then
    gpd_db_start "$n" --wsrep_start_position="$pos" || return 1
  else
    gpd_db_start "$n" || return 1
  fi
  gpd_db_wait_synced "$n"
}

# gpd_db_healthy: all 3 nodes run, are Synced and see a cluster of 3.
gpd_db_healthy() {
  local n
  for n in "${GPD_DB_NODES[@]}"; do
    gpd_db_pid "$n" >/dev/null || return 1
    [ "$(gpd_db_status "$n" wsrep_local_state)" = 4 ] || return 1
    [ "$(gpd_db_status "$n" wsrep_cluster_size)" = 3 ] || return 1
  done
}

# gpd_db_repair: bring every node back to Synced in a cluster of 3 (restart what is not).
gpd_db_repair() {
  local n t0
  for n in "${GPD_DB_NODES[@]}"; do
    gpd_topo_plug "$n"
  done
  t0=$(gpd_now_ms)
  # A node that was merely cut off rejoins by itself: give it a little time first (unless
  # one is not running at all).
  while (($(gpd_now_ms) - t0 < 20000)); do
    gpd_db_healthy && return 0
    for n in "${GPD_DB_NODES[@]}"; do
      gpd_db_pid "$n" >/dev/null || break 2
    done
    sleep 0.5
  done
  # Restart the nodes that are down, cut off (non-Primary) or stuck; the others stay.
  for n in "${GPD_DB_NODES[@]}"; do
    if ! gpd_db_pid "$n" >/dev/null ||
      [ "$(gpd_db_status "$n" wsrep_cluster_status)" != Primary ] ||
      [ "$(gpd_db_status "$n" wsrep_local_state)" != 4 ]; then
      gpd_log "$n: not healthy (state $(gpd_db_status "$n" wsrep_local_state_comment)," \
        "$(gpd_db_status "$n" wsrep_cluster_status)): restarting it"
      gpd_db_restart "$n" || return 1
    fi
  done
  t0=$(gpd_now_ms)
  while (($(gpd_now_ms) - t0 < 60000)); do
    gpd_db_healthy && return 0
    sleep 0.5
  done
  gpd_log "cluster still not 3 x Synced after the repair"
  return 1
}
