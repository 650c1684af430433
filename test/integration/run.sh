#!/usr/bin/env bash
# Integration runner: one real MariaDB, one galera-proxy in front of it, every t_* test against them.
#
#   test/integration/run.sh [--build DIR] [--only NAME] [--direct] [--valgrind] [--keep]
#
#   --build DIR  meson build directory holding proxy/galera-proxy (default: build)
#   --only NAME  run one test (t_cli, t_cli.sh, ...); repeat it for several
#   --direct     no proxy: point the tests at MariaDB itself (proves the tests are right)
#   --valgrind   run the proxy under valgrind memcheck, for the tests in VALGRIND_TESTS
#                (unless --only): any invalid access, or a definite or indirect leak at
#                exit, fails the run (suppressions: lib/valgrind.supp)
#   --keep       keep the scratch directory (logs, datadir) even when everything passed
#
# Tests get PROXY_HOST PROXY_PORT PROXY_RO_PORT PROXY_HTTP PROXY_PID PROXY_LOG PROXY_MODE
# DB_PORT DB_SOCKET DB_DIR HANDSHAKE_TIMEOUT_MS TEST_TMP, and must exit 0 to pass.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source=test/lib/mariadb.sh
source "$ROOT/test/lib/mariadb.sh"

DIRECT=0
VALGRIND=0
# shellcheck source=test/lib/runner.sh
source "$ROOT/test/lib/runner.sh"
RUNNER_FLAGS=(--direct DIRECT --valgrind VALGRIND)
runner_args "$@"

DB_PORT=${GP_TEST_DB_PORT:-3320}
LISTEN_PORT=${GP_TEST_PROXY_PORT:-16033}
LISTEN_RO_PORT=${GP_TEST_PROXY_RO_PORT:-16034}
HTTP_PORT=${GP_TEST_HTTP_PORT:-19480}
# Tests that run proxies of their own take ports relative to the proxy port unless told
# otherwise, so two runs with different GP_TEST_PROXY_PORT never share one.
export GP_TEST_FAKE_PORT=${GP_TEST_FAKE_PORT:-$((LISTEN_PORT + 500))}
export GP_TEST_FLOOD_PORT=${GP_TEST_FLOOD_PORT:-$((LISTEN_PORT + 507))}
export GP_TEST_DEFER_PORT=${GP_TEST_DEFER_PORT:-$((LISTEN_PORT + 527))}
export GP_TEST_WARM_PORT=${GP_TEST_WARM_PORT:-$((LISTEN_PORT + 529))}
HANDSHAKE_MS=3000
TEST_TIMEOUT=${GP_TEST_TIMEOUT:-180}
PROXY_BIN=$BUILD/proxy/galera-proxy

# Under valgrind the proxy runs 20-50 times slower. These tests fit; the others do not belong
# here: t_fakebackend and t_flood start proxies of their own and bound their timing, which
# valgrind would break. t_tls and t_hostile_tls start their own proxies too, and those run under
# valgrind as well (gp_inst_start sees GP_VALGRIND; each must exit 0 with a clean report);
# together they add about 2 minutes.
VALGRIND_TESTS=(t_badinput t_btls t_cli t_compress t_compress_cli t_hostile_tls t_mysqli t_pdo
  t_readonly t_sysbench t_tls)
VALGRIND_EXIT=99 # the proxy's exit status when valgrind found an error
if ((VALGRIND)); then
  if ((DIRECT)); then
    echo "run.sh: --valgrind and --direct exclude each other" >&2
    exit 2
  fi
  if [[ -z "$ONLY" ]]; then
    ONLY=$(IFS=,; echo "${VALGRIND_TESTS[*]}")
  fi
  TEST_TIMEOUT=$((TEST_TIMEOUT * 2))
fi
# Sanitizer builds abort on the first report; the log is grepped as well in case one only prints.
# A small quarantine keeps ASan's RSS close to the real allocator's for the memory-bound test.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:halt_on_error=1:detect_leaks=1:quarantine_size_mb=16:malloc_context_size=20}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

WORK=$(mktemp -d /tmp/gp-integration.XXXXXX)
chmod 755 "$WORK" # mariadbd runs as mysql and must reach its datadir
DB_DIR=$WORK/db
PROXY_LOG=$WORK/proxy.log
PROXY_PID=""
DB_PID=""
FINISHED=0

proxy_alive() { alive "$PROXY_PID"; }

# proxy_stop: stop_pid with 20 s (90 s under valgrind: its leak check takes time); sets
# PROXY_RC.
PROXY_RC=""
proxy_stop() {
  [[ -n "$PROXY_PID" ]] || return 0
  stop_pid "$PROXY_PID" "$( ((VALGRIND)) && echo 90 || echo 20)"
  PROXY_RC=$STOP_RC
  PROXY_PID=""
}

print_proxy_log_tail() {
  if [[ $DIRECT -eq 0 && -s "$PROXY_LOG" ]]; then
    log "last 40 lines of $PROXY_LOG:"
    tail -n 40 "$PROXY_LOG" | sed 's/^/#   /'
  fi
}

# shellcheck disable=SC2317 # only ever reached through the EXIT trap
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  proxy_stop
  if [[ -n "$DB_PID" ]]; then
    mariadb_stop "$DB_DIR" 2>/dev/null
  fi
  if [[ $KEEP -eq 1 || $FAILED -ne 0 || $rc -ne 0 ]]; then
    [[ $FINISHED -eq 1 ]] || log "scratch directory kept: $WORK"
  else
    rm -rf "$WORK"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

finish() {
  if ((FAILED)); then
    log "failed: ${FAILED_NAMES[*]}"
  fi
  if ((FAILED || KEEP)); then
    log "scratch directory kept (logs, datadir): $WORK"
  fi
  FINISHED=1
  echo "$PASSED passed, $FAILED failed"
  if ((FAILED)); then
    exit 1
  fi
  exit 0
}

setup_failed() {
  result FAIL "setup: $*"
  print_proxy_log_tail
  finish
}

# ---- MariaDB -------------------------------------------------------------------------------
if [[ $DIRECT -eq 0 && ! -x "$PROXY_BIN" ]]; then
  setup_failed "no proxy binary at $PROXY_BIN (build it, or use --direct)"
fi
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

log "starting MariaDB on 127.0.0.1:$DB_PORT in $DB_DIR"
DB_PID=$(mariadb_start "$DB_DIR" "$DB_PORT" 2>"$WORK/mariadb-start.log") || {
  sed 's/^/#   /' "$WORK/mariadb-start.log"
  setup_failed "MariaDB did not start"
}

# ---- proxy ---------------------------------------------------------------------------------
cat >"$WORK/proxy.conf" <<EOF
listen = "127.0.0.1:$LISTEN_PORT";
listen_ro = "127.0.0.1:$LISTEN_RO_PORT";
http_listen = "127.0.0.1:$HTTP_PORT";
log_level = "info";
limits = {
  max_client_connections = 2000;
  client_handshake_timeout_ms = $HANDSHAKE_MS;
  client_idle_timeout_ms = 0;
  backend_connect_timeout_ms = 2000;
  shutdown_timeout_ms = 5000;
};
monitor = { user = "monitor"; password = "monitor"; interval_ms = 250; timeout_ms = 1000; };
backends = ( { name = "db1"; address = "127.0.0.1:$DB_PORT"; priority = 1; } );
EOF

if [[ $DIRECT -eq 1 ]]; then
  log "direct mode: tests talk to MariaDB on port $DB_PORT, no proxy"
  export PROXY_MODE=direct PROXY_PORT=$DB_PORT PROXY_RO_PORT=$DB_PORT PROXY_PID=$DB_PID
  export PROXY_LOG=$DB_DIR/mariadbd.err
  # MariaDB closes a silent handshake after connect_timeout.
  HANDSHAKE_MS=$(($(mariadb_sql "$DB_DIR" 'SELECT @@connect_timeout') * 1000))
else
  if ! "$PROXY_BIN" --check-config -c "$WORK/proxy.conf" >"$WORK/check-config.log" 2>&1; then
    sed 's/^/#   /' "$WORK/check-config.log"
    setup_failed "galera-proxy --check-config rejected the test config"
  fi
  log "starting $PROXY_BIN on 127.0.0.1:$LISTEN_PORT"
  launcher=()
  if ((VALGRIND)); then
    command -v valgrind >/dev/null || setup_failed "valgrind is not installed"
    VALGRIND_LOG=$WORK/valgrind.log
    launcher=(valgrind --tool=memcheck --leak-check=full "--show-leak-kinds=definite,indirect"
      "--errors-for-leak-kinds=definite,indirect" "--error-exitcode=$VALGRIND_EXIT"
      --suppressions="$HERE/lib/valgrind.supp" --num-callers=30 --log-file="$VALGRIND_LOG")
    log "under valgrind memcheck (report: $VALGRIND_LOG); tests: $ONLY"
  fi
  "${launcher[@]}" "$PROXY_BIN" -c "$WORK/proxy.conf" </dev/null >>"$PROXY_LOG" 2>&1 &
  PROXY_PID=$!
  ready=0
  tries=200
  ((VALGRIND)) && tries=600 # valgrind's start-up alone takes seconds
  for ((i = 0; i < tries; i++)); do
    proxy_alive || break
    if timeout 5 mariadb --connect-timeout=2 -h127.0.0.1 -P"$LISTEN_PORT" -uapp -papp -N -B \
      -e 'SELECT 1' >/dev/null 2>&1; then
      ready=1
      break
    fi
    sleep 0.1
  done
  if [[ $ready -ne 1 ]]; then
    setup_failed "proxy did not relay SELECT 1 within $((tries / 10)) s (alive: $(proxy_alive && echo yes || echo no))"
  fi
  export PROXY_MODE=proxy PROXY_PORT=$LISTEN_PORT PROXY_RO_PORT=$LISTEN_RO_PORT PROXY_PID PROXY_LOG
fi
export GP_PROXY_BIN=$PROXY_BIN # for tests that start proxies of their own
if ((VALGRIND)); then # ...and run them under valgrind too (gp_inst_start)
  export GP_VALGRIND=1 GP_VALGRIND_SUPP=$HERE/lib/valgrind.supp
fi
export PROXY_HOST=127.0.0.1 PROXY_HTTP=127.0.0.1:$HTTP_PORT
export DB_PORT DB_SOCKET=$DB_DIR/mysqld.sock DB_DIR HANDSHAKE_TIMEOUT_MS=$HANDSHAKE_MS
export DB_PID

# ---- tests ---------------------------------------------------------------------------------
mkdir -p "$WORK/logs"
shopt -s nullglob
tests=("$HERE"/t_*.sh "$HERE"/t_*.php)
mapfile -t tests < <(printf '%s\n' "${tests[@]}" | sort)
ran=0
for t in "${tests[@]}"; do
  name=$(basename "$t")
  base=${name%.*}
  runner_selected "$base" || continue
  ran=$((ran + 1))
  if [[ $DIRECT -eq 0 ]] && ! proxy_alive; then
    result FAIL "$name (proxy is not running)"
    continue
  fi
  # A test may ask for a longer limit with a "gp-test-timeout: SECONDS" line near the top.
  limit=$(head -n 10 "$t" | sed -n 's/.*gp-test-timeout: *\([0-9]\+\).*/\1/p' | head -n 1)
  limit=${limit:-$TEST_TIMEOUT}
  export TEST_TMP=$WORK/tmp/$base
  mkdir -p "$TEST_TMP"
  chmod 755 "$TEST_TMP"
  case "$t" in
  *.php) cmd=(php -d display_errors=stderr -d error_reporting=-1 -d memory_limit=1G "$t") ;;
  *) cmd=(bash "$t") ;;
  esac
  start=$(date +%s.%N)
  timeout -k 10 "$limit" "${cmd[@]}" </dev/null >"$WORK/logs/$base.log" 2>&1
  rc=$?
  secs=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
  if [[ $rc -eq 0 ]]; then
    result OK "$name (${secs}s)"
  else
    why="exit $rc"
    [[ $rc -eq 124 || $rc -eq 137 ]] && why="timed out after ${limit}s"
    result FAIL "$name ($why, ${secs}s)"
    tail -n 80 "$WORK/logs/$base.log" | sed 's/^/#   /'
  fi
  if [[ $DIRECT -eq 0 ]] && ! proxy_alive; then
    result FAIL "proxy still running after $name"
    print_proxy_log_tail
  fi
done
if [[ $ran -eq 0 ]]; then
  result FAIL "no test matched ${ONLY:-t_*}"
fi

# ---- shutdown ------------------------------------------------------------------------------
if [[ $DIRECT -eq 0 ]]; then
  was_alive=0
  proxy_alive && was_alive=1
  proxy_stop
  problems=()
  [[ $was_alive -eq 1 ]] || problems+=("it had already exited")
  [[ "$PROXY_RC" == 0 ]] || problems+=("exit status $PROXY_RC on SIGTERM")
  for marker in "ERROR: AddressSanitizer" "ERROR: LeakSanitizer" "runtime error:"; do
    if grep -qF "$marker" "$PROXY_LOG"; then
      problems+=("log contains '$marker'")
    fi
  done
  if ((VALGRIND)); then
    [[ "$PROXY_RC" == "$VALGRIND_EXIT" ]] && problems+=("valgrind found errors")
    vg_summary=$(grep -m 1 -o 'ERROR SUMMARY: [0-9]* errors' "$VALGRIND_LOG" 2>/dev/null)
    [[ -n "$vg_summary" ]] || problems+=("no valgrind summary in $VALGRIND_LOG")
    [[ "$vg_summary" == "ERROR SUMMARY: 0 errors" ]] || problems+=("valgrind: $vg_summary")
    log "valgrind: ${vg_summary:-no summary};" \
      "$(grep -E 'in use at exit:|total heap usage:|definitely lost:|indirectly lost:' "$VALGRIND_LOG" |
        sed 's/^==[0-9]*== *//' | paste -sd ';' -)"
  fi
  if ((${#problems[@]} == 0)); then
    if ((VALGRIND)); then
      result OK "proxy shut down cleanly on SIGTERM (exit 0, valgrind: no invalid access, no definite/indirect leak)"
    else
      result OK "proxy shut down cleanly on SIGTERM (exit 0, no sanitizer report)"
    fi
  else
    result FAIL "proxy shutdown: $(IFS=';'; echo "${problems[*]}")"
    grep -n -A 30 -e "ERROR: AddressSanitizer" -e "ERROR: LeakSanitizer" -e "runtime error:" \
      "$PROXY_LOG" | head -n 120 | sed 's/^/#   /'
    if ((VALGRIND)) && [[ -s "$VALGRIND_LOG" ]]; then
      log "valgrind report (first 150 lines of $VALGRIND_LOG):"
      grep -v '^==[0-9]*== *$' "$VALGRIND_LOG" | head -n 150 | sed 's/^/#   /'
    fi
  fi
  if ((FAILED)); then
    print_proxy_log_tail
  fi
fi
finish
