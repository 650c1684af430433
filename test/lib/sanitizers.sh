# sanitizers.sh - sanitizer options for the processes a test starts, and finding their reports.
#
# sanitizer_env sets what every AddressSanitizer/UndefinedBehaviorSanitizer run needs (a build
# without sanitizers ignores it); sanitizer_clean FILE... says whether logs hold a report;
# proxy_exit_problems RC LOG is the verdict on a proxy stopped with SIGTERM.
# shellcheck shell=bash

# What a sanitizer report contains: ASan's and LSan's "ERROR:"/"WARNING:" headers (LSan also
# says so when it could not run at all), ASan's deadly-signal line, UBSan's "runtime error:".
SANITIZER_MARKERS='(ERROR|WARNING): [A-Za-z]*Sanitizer|LeakSanitizer|AddressSanitizer:DEADLYSIGNAL|runtime error:|SUMMARY: [A-Za-z]*Sanitizer'

# sanitizer_env: export ASAN_OPTIONS and UBSAN_OPTIONS: stop at the first report with a stack
# trace, leak detection on. The caller's own settings come first and these after them: the
# sanitizers take a flag's last value, so a run can never turn leak detection or halting off.
sanitizer_env() {
  export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}abort_on_error=1:halt_on_error=1:detect_leaks=1"
  export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}halt_on_error=1:print_stacktrace=1"
}

# sanitizer_clean FILE...: 0 when no FILE holds a sanitizer report. Otherwise prints the first
# report lines (FILE:LINE: text) and returns 1; a FILE that does not exist is not clean either.
sanitizer_clean() {
  local f bad=0
  for f in "$@"; do
    if [[ ! -f "$f" ]]; then
      echo "$f: no such log file"
      bad=1
    elif grep -qE "$SANITIZER_MARKERS" "$f"; then
      grep -nE "$SANITIZER_MARKERS" "$f" | head -n 5 | sed "s|^|$f:|"
      bad=1
    fi
  done
  return "$bad"
}

# proxy_exit_problems RC LOG: a proxy was stopped with SIGTERM and exited with RC; its output
# went to LOG. Prints what is wrong on one line ("exit status 134 on SIGTERM; sanitizer
# report: ...") and returns 1, or prints nothing and returns 0 (exit 0, no report).
proxy_exit_problems() {
  local rc=$1 log=$2 wrong=() reports
  [[ "$rc" == 0 ]] || wrong+=("exit status ${rc:-unknown} on SIGTERM")
  reports=$(sanitizer_clean "$log") || wrong+=("sanitizer report: $(head -n 1 <<<"$reports")")
  ((${#wrong[@]} == 0)) && return 0
  (
    IFS=';'
    echo "${wrong[*]}"
  )
  return 1
}
