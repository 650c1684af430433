# runner.sh - what every test runner shares: its options, stopping its own pids, counting results.
#
# Source it from a runner whose header comment (from line 2 to the first line that is not a
# comment) is its --help text, then:
#
#   RUNNER_FLAGS=(--direct DIRECT)   # optional: extra boolean flags and the variable each sets to 1
#   RUNNER_VALUES=(--minutes MINUTES) # optional: extra options with a value, and its variable
#   runner_args "$@"                 # sets BUILD (absolute), KEEP, ONLY; exits on --help or a typo
#
# ONLY is a comma-separated list of test names (--only may be repeated, and take a list).
#
# Results: `result OK|FAIL NAME [detail]`, `verdict RC NAME [detail]`, and `finish`, which prints
# the runtime, the failed names and "N passed, N failed" and exits non-zero on any failure.
# Processes: `alive PID`, `stop_pid PID [SECONDS]`, `start_recorded` from test/lib/procs.sh;
# sanitizers: `sanitizer_env`, `sanitizer_clean LOG...`, `proxy_exit_problems RC LOG` from
# test/lib/sanitizers.sh.
# shellcheck shell=bash

RUNNER_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=test/lib/procs.sh
source "$RUNNER_ROOT/test/lib/procs.sh"
# shellcheck source=test/lib/sanitizers.sh
source "$RUNNER_ROOT/test/lib/sanitizers.sh"
BUILD=$RUNNER_ROOT/build
KEEP=0
ONLY=""
PASSED=0
FAILED=0
N=0
FAILED_NAMES=()
T_START=$(date +%s)

log() { printf '# %s\n' "$*"; }

runner_help() { # the runner's header comment, without the leading "# "
  awk 'NR == 1 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "$0"
}

runner_args() {
  local i found
  while (($#)); do
    case "$1" in
    --build)
      BUILD=$2
      shift 2
      ;;
    --keep)
      KEEP=1
      shift
      ;;
    --only)
      ONLY=${ONLY:+$ONLY,}$2
      shift 2
      ;;
    -h | --help)
      runner_help
      exit 0
      ;;
    *)
      found=0
      for ((i = 0; i + 1 < ${#RUNNER_FLAGS[@]}; i += 2)); do
        if [[ "$1" == "${RUNNER_FLAGS[i]}" ]]; then
          printf -v "${RUNNER_FLAGS[i + 1]}" 1
          found=1
        fi
      done
      for ((i = 0; i + 1 < ${#RUNNER_VALUES[@]}; i += 2)); do
        if [[ "$1" == "${RUNNER_VALUES[i]}" ]]; then
          if (($# < 2)); then
            echo "$(basename "$0"): $1 needs a value" >&2
            exit 2
          fi
          printf -v "${RUNNER_VALUES[i + 1]}" '%s' "$2"
          found=2
        fi
      done
      if ((!found)); then
        echo "$(basename "$0"): unknown argument $1 (--help lists them)" >&2
        exit 2
      fi
      shift "$found"
      ;;
    esac
  done
  [[ "$BUILD" = /* ]] || BUILD=$RUNNER_ROOT/$BUILD
}

# runner_selected NAME: NAME (a t_* file's base name) is to run under --only. An --only entry
# matches the name itself, the name with .sh/.php, or its number (03 matches t_03_desync).
runner_selected() {
  local o
  [[ -z "$ONLY" ]] && return 0
  for o in ${ONLY//,/ }; do
    o=${o%.sh}
    o=${o%.php}
    [[ "$1" == "$o" || "$1" == "t_$o"_* ]] && return 0
  done
  return 1
}
RUNNER_FLAGS=()
RUNNER_VALUES=()

# runner_scratch_done WORK RC: keep the scratch directory when asked or when anything failed.
runner_scratch_done() {
  if [[ $KEEP -eq 1 || $FAILED -ne 0 || $2 -ne 0 ]]; then
    log "scratch directory kept: $1"
  else
    rm -rf "$1"
  fi
}

result() { # result OK|FAIL NAME [detail]
  N=$((N + 1))
  if [[ $1 == OK ]]; then
    PASSED=$((PASSED + 1))
    echo "ok $N - $2"
  else
    FAILED=$((FAILED + 1))
    FAILED_NAMES+=("$2")
    echo "not ok $N - $2"
    [[ -z "${3:-}" ]] || log "$3"
  fi
}

verdict() { # verdict RC NAME [detail]: ok if RC (the $? of a check just run) is 0
  if [[ $1 -eq 0 ]]; then result OK "$2"; else result FAIL "$2" "${3:-}"; fi
}

finish() {
  log "runtime $(($(date +%s) - T_START)) s"
  ((FAILED)) && log "failed: ${FAILED_NAMES[*]}"
  echo "$PASSED passed, $FAILED failed"
  ((FAILED == 0 && N > 0)) && exit 0
  exit 1
}
