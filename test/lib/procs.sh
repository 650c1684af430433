# procs.sh - the processes a test started: is one alive, stop one (by pid, never by name).
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
