#!/usr/bin/env bash
# Stops the nginx and php-fpm that setup.sh started for DIR, by their recorded pids only.
#
#   stop.sh DIR             TERM each master, wait up to 10 s, then KILL it and its workers
#   stop.sh --running DIR   print the pids of DIR's masters that are alive (nothing if none)
#
# A pid counts only if that process is alive and its command line names DIR's config file, so
# a stale pid file never makes this signal somebody else's process.
set -uo pipefail

RUNNING_ONLY=0
if [[ "${1:-}" == --running ]]; then
  RUNNING_ONLY=1
  shift
fi
[[ $# -eq 1 ]] || {
  echo "usage: stop.sh [--running] DIR" >&2
  exit 2
}
DIR=$(cd "$1" 2>/dev/null && pwd -P) || exit 0

# ours NAME PID: PID is alive (not a zombie) and is DIR's NAME master.
ours() {
  local name=$1 pid=$2 state
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) || return 1
  [[ "$state" != Z ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$DIR/$name.conf"
}

# children PID: the worker processes of a master.
children() {
  local p
  for p in /proc/[0-9]*; do
    [[ "$(awk '{print $4}' "$p/stat" 2>/dev/null)" == "$1" ]] && echo "${p#/proc/}"
  done
}

rc=0
for name in nginx php-fpm; do
  f=$DIR/run/$name.launch.pid
  [[ -s "$f" ]] || continue
  pid=$(<"$f")
  ours "$name" "$pid" || continue
  if ((RUNNING_ONLY)); then
    echo "$pid"
    continue
  fi
  kids=$(children "$pid")
  kill -TERM "$pid" 2>/dev/null
  for ((i = 0; i < 100; i++)); do
    ours "$name" "$pid" || break
    sleep 0.1
  done
  if ours "$name" "$pid"; then
    echo "stop.sh: $name pid $pid still alive after 10 s, sending SIGKILL" >&2
    kids="$kids $(children "$pid")"
    kill -KILL "$pid" 2>/dev/null
    for k in $kids; do
      # Workers of that master, listed while it was alive.
      kill -KILL "$k" 2>/dev/null
    done
    rc=1
  fi
  rm -f "$f"
done
exit "$rc"
