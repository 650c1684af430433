#!/usr/bin/env bash
# Helpers for tests that run their own galera-proxy: start, stop, fds, RSS and session gauges.
#
# Source it. Only processes started through gp_inst_start are ever signalled, by pid (with
# alive and stop_pid from test/lib/procs.sh). gp_inst_start leaves the pid in GP_INST_PID.
# shellcheck disable=SC2034
# shellcheck source=test/lib/procs.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../lib/procs.sh"

# gp_inst_bin: prints the galera-proxy binary a test's own proxies run (GP_PROXY_BIN, else the
# suite's running proxy's); fails with a message when there is none. A proxy running under
# valgrind shows valgrind's tool as its executable: the binary is then the first argument of
# its command line that is not one of valgrind's options.
gp_inst_bin() {
  local bin=${GP_PROXY_BIN:-$(readlink "/proc/${PROXY_PID:-0}/exe" 2>/dev/null)} arg
  if [[ -z "${GP_PROXY_BIN:-}" && "$(basename "$bin")" == @(memcheck-*|valgrind*) ]]; then
    bin=""
    while IFS= read -r -d '' arg; do
      [[ "$arg" == -* || "$(basename "$arg")" == valgrind* ]] && continue
      bin=$arg
      break
    done <"/proc/$PROXY_PID/cmdline"
  fi
  if [[ -z "$bin" || ! -x "$bin" ]]; then
    echo "cannot find the proxy binary (GP_PROXY_BIN or PROXY_PID)" >&2
    return 1
  fi
  echo "$bin"
}

# gp_inst_own NAME PORT: the settings of a test that runs a proxy of its own on PORT (its
# HTTP on PORT+1): BIN, PORT, HTTP, DIR ($TEST_TMP/NAME), CONF (in DIR) and LOG. In direct
# mode there is no proxy to run: it says so and the test ends there.
# shellcheck disable=SC2034 # the caller's variables
gp_inst_own() {
  if [[ "$PROXY_MODE" == direct ]]; then
    echo "# direct mode: this test runs a proxy of its own; nothing to check"
    exit 0
  fi
  BIN=$(gp_inst_bin) || exit 1
  PORT=$2
  HTTP=$((PORT + 1))
  DIR=$TEST_TMP/$1
  CONF=$DIR/proxy.conf
  LOG=$TEST_TMP/$1-proxy.log
}

# gp_inst_start BIN CONF LOG: starts the proxy in the background; its pid is in GP_INST_PID.
# (Not in a subshell, so that the caller's shell owns the child and can wait for it.) Under the
# runner's --valgrind (GP_VALGRIND set, with GP_VALGRIND_SUPP) it runs under memcheck like the
# runner's own proxy: the report goes to LOG.valgrind, and an invalid access or a definite or
# indirect leak makes the proxy exit 99, so a test's "exited 0" check fails on it.
gp_inst_start() {
  local launcher=()
  if [[ -n "${GP_VALGRIND:-}" ]]; then
    launcher=(valgrind --tool=memcheck --leak-check=full "--show-leak-kinds=definite,indirect"
      "--errors-for-leak-kinds=definite,indirect" --error-exitcode=99 --num-callers=30
      "--log-file=$3.valgrind")
    [[ -z "${GP_VALGRIND_SUPP:-}" ]] || launcher+=("--suppressions=$GP_VALGRIND_SUPP")
  fi
  "${launcher[@]}" "$1" -c "$2" </dev/null >>"$3" 2>&1 &
  GP_INST_PID=$!
}

# gp_inst_stop_s SECONDS: how long to give a proxy of one's own to exit on SIGTERM: SECONDS,
# or 90 under valgrind (its leak check at exit takes time).
gp_inst_stop_s() {
  if [[ -n "${GP_VALGRIND:-}" ]]; then echo 90; else echo "$1"; fi
}

# gp_inst_valgrind_problem LOG: prints valgrind's error summary for a proxy started with LOG
# when it is not clean (nothing without valgrind); fails then.
gp_inst_valgrind_problem() {
  [[ -n "${GP_VALGRIND:-}" ]] || return 0
  local sum
  sum=$(grep -m 1 -o 'ERROR SUMMARY: [0-9]* errors' "$1.valgrind" 2>/dev/null)
  [[ "$sum" == "ERROR SUMMARY: 0 errors" ]] && return 0
  echo "valgrind: ${sum:-no summary in $1.valgrind}"
  grep -v '^==[0-9]*== *$' "$1.valgrind" 2>/dev/null | head -n 40
  return 1
}

# gp_inst_wait_ready PID PORT SECONDS: SELECT 1 through 127.0.0.1:PORT works (as app/app).
gp_inst_wait_ready() {
  local pid=$1 port=$2 end=$((SECONDS + $3))
  while ((SECONDS < end)); do
    alive "$pid" || return 1
    if timeout 5 mariadb --connect-timeout=2 -h127.0.0.1 -P"$port" -uapp -papp -N -B \
      -e 'SELECT 1' >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.1
  done
  return 1
}

# gp_fd_count PID: open file descriptors of the process.
gp_fd_count() {
  find "/proc/$1/fd/" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l
}

# gp_rss_kib PID [FIELD]: VmRSS (or another /proc/PID/status field, e.g. RssAnon) in KiB.
gp_rss_kib() {
  awk -v f="${2:-VmRSS}:" '$1 == f {print $2; exit}' "/proc/$1/status" 2>/dev/null
}

# gp_metrics HOST:PORT: the /metrics exposition (empty on failure).
gp_metrics() {
  curl -s --max-time 5 "http://$1/metrics" 2>/dev/null
}

# gp_session_gauges HOST:PORT: "SESSIONS ACTIVE BACKEND_SESSIONS" - the sums of
# galera_proxy_sessions{state=...}, galera_proxy_client_connections_active and
# galera_proxy_backend_sessions{...}; "? ? ?" if /metrics does not answer.
gp_session_gauges() {
  gp_metrics "$1" | awk '
    /^galera_proxy_sessions\{/ { s += $NF; seen = 1 }
    /^galera_proxy_client_connections_active / { a += $NF }
    /^galera_proxy_backend_sessions\{/ { b += $NF }
    END { if (seen) printf "%d %d %d\n", s, a, b; else print "? ? ?" }'
}

# gp_metric_value HOST:PORT 'NAME{LABELS}': one sample's value (empty if absent).
gp_metric_value() {
  gp_metrics "$1" | awk -v k="$2" '$1 == k { print $2; exit }'
}

# gp_wait_baseline PID HTTP FDS GAUGES SECONDS: waits until the fd count is FDS and the
# session gauges are GAUGES; prints the last "fds gauges" seen; 0 when both matched.
gp_wait_baseline() {
  local pid=$1 http=$2 want_fds=$3 want_gauges=$4 end=$((SECONDS + $5)) f g
  while :; do
    g=$(gp_session_gauges "$http")
    f=$(gp_fd_count "$pid")
    if [[ "$f" == "$want_fds" && "$g" == "$want_gauges" ]]; then
      echo "$f $g"
      return 0
    fi
    if ((SECONDS >= end)); then
      echo "$f $g"
      return 1
    fi
    sleep 0.2
  done
}
