#!/usr/bin/env bash
# `make run`: local databases plus galera-proxy in the foreground in front of them; Ctrl-C stops all.
#
# Databases: a 3-node Galera cluster on 127.0.0.1:3311-3313 when test/lib/galera.sh provides
# galera_start (GP_RUN_SINGLE=1 forces the fallback), else one MariaDB on 127.0.0.1:3311 (db1).
# Proxy: 127.0.0.1:6033 (read-write), 127.0.0.1:6034 (read-only), http 127.0.0.1:9480.
# Data lives in GP_RUN_DIR (default /var/tmp/galera-proxy-run) and is recreated on every run.
# GP_RUN_DB_PORT, GP_RUN_LISTEN, GP_RUN_LISTEN_RO, GP_RUN_HTTP move the single-server setup.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-build}
[[ "$BUILD" = /* ]] || BUILD=$ROOT/$BUILD
RUN_DIR=${GP_RUN_DIR:-/var/tmp/galera-proxy-run}
PROXY_BIN=$BUILD/proxy/galera-proxy
DB_PORT=${GP_RUN_DB_PORT:-3311}
LISTEN=${GP_RUN_LISTEN:-127.0.0.1:6033}
LISTEN_RO=${GP_RUN_LISTEN_RO:-127.0.0.1:6034}
HTTP=${GP_RUN_HTTP:-127.0.0.1:9480}
# shellcheck source=test/lib/mariadb.sh
source "$ROOT/test/lib/mariadb.sh"

say() {
  printf '==> %s\n' "$*"
}

if [[ ! -x "$PROXY_BIN" ]]; then
  echo "no $PROXY_BIN: run 'make build' first" >&2
  exit 1
fi

# Hook: the Galera cluster replaces the single server as soon as galera.sh defines galera_start.
MODE=single
if [[ "${GP_RUN_SINGLE:-0}" != 1 && -f "$ROOT/test/lib/galera.sh" ]]; then
  # shellcheck source=/dev/null
  source "$ROOT/test/lib/galera.sh"
  if declare -F galera_start >/dev/null && declare -F galera_stop >/dev/null; then
    MODE=galera
  fi
fi

PROXY_PID=""
DB_STARTED=0
# shellcheck disable=SC2317 # reached through the traps
cleanup() {
  trap - EXIT INT TERM
  echo
  if [[ -n "$PROXY_PID" ]] && kill -0 "$PROXY_PID" 2>/dev/null; then
    say "stopping galera-proxy (pid $PROXY_PID)"
    kill -TERM "$PROXY_PID" 2>/dev/null
    for _ in $(seq 1 150); do
      kill -0 "$PROXY_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$PROXY_PID" 2>/dev/null
    wait "$PROXY_PID" 2>/dev/null
  fi
  if [[ $DB_STARTED -eq 1 ]]; then
    if [[ $MODE == galera ]]; then
      say "stopping the Galera cluster"
      galera_stop "$RUN_DIR/galera"
    else
      say "stopping MariaDB db1"
      mariadb_stop "$RUN_DIR/db1"
    fi
  fi
  say "stopped; data left in $RUN_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir -p "$RUN_DIR"
chmod 755 "$RUN_DIR"
backends=""
if [[ $MODE == galera ]]; then
  say "starting a 3-node Galera cluster in $RUN_DIR/galera (ports 3311-3313)"
  DB_STARTED=1
  galera_start "$RUN_DIR/galera" || exit 1
  for n in 1 2 3; do
    backends+="${backends:+, }{ name = \"db$n\"; address = \"127.0.0.1:331$n\"; priority = $n; }"
  done
else
  say "starting MariaDB db1 on 127.0.0.1:$DB_PORT in $RUN_DIR/db1"
  DB_STARTED=1
  mariadb_start "$RUN_DIR/db1" "$DB_PORT" >/dev/null || exit 1
  backends="{ name = \"db1\"; address = \"127.0.0.1:$DB_PORT\"; priority = 1; }"
fi

CONF=$RUN_DIR/galera-proxy.conf
cat >"$CONF" <<EOF
# Written by test/lib/devrun.sh (make run).
listen = "$LISTEN";
listen_ro = "$LISTEN_RO";
http_listen = "$HTTP";
log_level = "info";
limits = { max_client_connections = 2000; client_handshake_timeout_ms = 3000; client_idle_timeout_ms = 0; backend_connect_timeout_ms = 2000; shutdown_timeout_ms = 5000; };
monitor = { user = "monitor"; password = "monitor"; interval_ms = 250; timeout_ms = 1000; };
backends = ( $backends );
EOF
"$PROXY_BIN" --check-config -c "$CONF" || {
  echo "galera-proxy rejected $CONF" >&2
  exit 1
}

say "galera-proxy $("$PROXY_BIN" --version 2>/dev/null | awk '{print $NF}') in the foreground (Ctrl-C stops everything)"
echo "    connect: mariadb -h${LISTEN%:*} -P${LISTEN##*:} -uapp -papp"
echo "    metrics: http://$HTTP/metrics"
echo "    config:  $CONF"
"$PROXY_BIN" -c "$CONF" </dev/null &
PROXY_PID=$!
wait "$PROXY_PID"
rc=$?
PROXY_PID=""
exit "$rc"
