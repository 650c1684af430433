# procs.sh - the processes a test starts: start one (exit status kept), is one alive, stop one by pid.
# shellcheck shell=bash

alive() { # alive PID: exists and is not a zombie
  local state
  [[ -n "${1:-}" ]] || return 1
  state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
  [[ -n "$state" && "$state" != "Z" ]]
}

# stop_pid PID [SECONDS]: SIGTERM, wait up to SECONDS (20), then SIGKILL; reaps it. Its exit
# status (137 after SIGKILL) is left in STOP_RC, so the caller must be the process's parent
# and must not call this in a subshell ($(...)).
stop_pid() {
  local pid=${1:-} limit=${2:-20} i
  STOP_RC=""
  [[ -n "$pid" ]] || return 0
  kill -TERM "$pid" 2>/dev/null
  for ((i = 0; i < limit * 10; i++)); do
    alive "$pid" || break
    sleep 0.1
  done
  if alive "$pid"; then
    printf '# pid %s did not exit within %s s of SIGTERM; sending SIGKILL\n' "$pid" "$limit"
    kill -KILL "$pid" 2>/dev/null
  fi
  wait "$pid" 2>/dev/null
  # shellcheck disable=SC2034 # read by the caller
  STOP_RC=$?
}

# start_recorded RCFILE LOG CMD...: start CMD in the background (stdin /dev/null, stdout and
# stderr appended to LOG) under a small bash parent that writes CMD's exit status to RCFILE
# once it has ended. Whoever stops CMD later, this shell or another (a test script that
# restarts a proxy the runner started), can then learn how it exited: a crash, a sanitizer's
# abort or a non-zero exit after SIGTERM. CMD's own pid (the one to signal) is left in
# RECORDED_PID; RCFILE.child holds it too.
start_recorded() {
  local rcfile=$1 log=$2 i
  shift 2
  rm -f "$rcfile" "$rcfile.child"
  # The parent ignores nothing (CMD must get default signal handling) but survives a TERM or
  # INT sent to the whole process group: its trap only interrupts the wait, which resumes.
  # shellcheck disable=SC2016 # expanded by that bash, not this one
  bash -c 'trap : TERM INT HUP
    "$@" &
    c=$!
    echo "$c" >"$0.child"
    while :; do
      wait "$c"
      rc=$?
      [ -e "/proc/$c" ] || break
    done
    echo "$rc" >"$0.tmp" && mv "$0.tmp" "$0"' "$rcfile" "$@" </dev/null >>"$log" 2>&1 &
  for ((i = 0; i < 100; i++)); do
    [[ -s "$rcfile.child" ]] && break
    sleep 0.01
  done
  RECORDED_PID=$(cat "$rcfile.child" 2>/dev/null)
  [[ -n "$RECORDED_PID" ]]
}

# recorded_rc RCFILE [SECONDS]: the exit status start_recorded wrote, waiting up to SECONDS
# (default 5) for it; prints "none" and returns 1 if there is none.
recorded_rc() {
  local i
  for ((i = 0; i < ${2:-5} * 20; i++)); do
    if [[ -s "$1" ]]; then
      cat "$1"
      return 0
    fi
    sleep 0.05
  done
  echo none
  return 1
}
