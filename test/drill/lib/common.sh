#!/usr/bin/env bash
# common.sh - shared ground of the failover drills: addresses, logging, clocks, records of pids.
#
# Sourced by run.sh (and through it by every other lib). Everything the drills start is written
# to $GPD_STATE/pids as "PID STARTTIME TAG" the moment it starts, so that the runner's EXIT trap
# and `run.sh --cleanup` after a crashed run stop exactly our processes, by pid, and never a
# recycled pid (the start time must match too).

# shellcheck disable=SC2034 # the other libs and run.sh use these
GPD_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
GPD_DIR=$(cd "$GPD_LIB/.." && pwd)
GPD_ROOT=$(cd "$GPD_DIR/../.." && pwd)

# State that must outlive a crashed runner: the pid records and the work directory's path.
GPD_STATE=${GPD_STATE:-/run/gpd-drill}
GPD_WORK=${GPD_WORK:-}

# The namespaces ("hosts") and their addresses on the one bridge; 10.213.0.0/24 exists only here.
GPD_HOSTS=(db1 db2 db3 ha1 ha2 cl)
GPD_SW=gpd-sw
declare -A GPD_IP=([db1]=10.213.0.11 [db2]=10.213.0.12 [db3]=10.213.0.13
  [ha1]=10.213.0.21 [ha2]=10.213.0.22 [cl]=10.213.0.31)
GPD_VIP=10.213.0.50
GPD_PREFIX=24
GPD_SQL_PORT=6033  # the proxies' read-write listener (on every address, so on the VIP too)
GPD_HTTP_PORT=9480 # the proxies' http_listen

gpd_log() {
  local line
  line="$(date +%T.%3N) drill: $*"
  printf '%s\n' "$line" >&2
  [ -n "$GPD_WORK" ] && [ -d "$GPD_WORK" ] && printf '%s\n' "$line" >>"$GPD_WORK/run.log"
  return 0
}

gpd_die() {
  gpd_log "FATAL: $*"
  exit 1
}

# gpd_now_ms: epoch milliseconds without forking date (bash 5's EPOCHREALTIME).
gpd_now_ms() {
  local t=${EPOCHREALTIME/[.,]/}
  echo "${t:0:${#t}-3}"
}

# gpd_sleep_until_ms T: sleep until epoch ms T (returns at once if it has passed).
gpd_sleep_until_ms() {
  local d=$(($1 - $(gpd_now_ms)))
  ((d > 0)) && sleep "$((d / 1000)).$(printf '%03d' $((d % 1000)))"
  return 0
}

# ---- processes ----------------------------------------------------------------------------

# gpd_starttime PID: the process's start time in clock ticks (field 22 of /proc/PID/stat).
gpd_starttime() {
  local s
  s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  s=${s##*) }
  # shellcheck disable=SC2086 # split the fields on purpose
  set -- $s
  echo "${20}"
}

# gpd_track PID TAG: record a process we started.
gpd_track() {
  local st
  st=$(gpd_starttime "$1") || st=0
  printf '%s %s %s\n' "$1" "$st" "$2" >>"$GPD_STATE/pids"
}

# gpd_is_ours PID STARTTIME: the pid still names the process we recorded (and is not a zombie).
gpd_is_ours() {
  local st state
  st=$(gpd_starttime "$1") || return 1
  [ "$st" = "$2" ] || return 1
  state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)
  [ "$state" != Z ]
}

# gpd_pid_of TAG: the live pid recorded last under TAG.
gpd_pid_of() {
  local pid st tag found=""
  [ -f "$GPD_STATE/pids" ] || return 1
  while read -r pid st tag; do
    [ "$tag" = "$1" ] && gpd_is_ours "$pid" "$st" && found=$pid
  done <"$GPD_STATE/pids"
  [ -n "$found" ] && echo "$found"
}

# gpd_stop_pid PID [SECONDS]: TERM, wait, then KILL. Only call it with a pid that is ours.
gpd_stop_pid() {
  local pid=$1 t=${2:-10} i
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null
  for ((i = 0; i < t * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = Z ] && return 0
    sleep 0.1
  done
  gpd_log "pid $pid did not stop in ${t}s: SIGKILL"
  kill -KILL "$pid" 2>/dev/null
  return 0
}

# gpd_stop_tag TAG [SECONDS]: stop the process recorded under TAG if it still runs.
gpd_stop_tag() {
  local pid
  pid=$(gpd_pid_of "$1") || return 0
  gpd_stop_pid "$pid" "${2:-10}"
}

# gpd_tracked_alive: some recorded process still runs.
gpd_tracked_alive() {
  local pid st tag
  [ -f "$GPD_STATE/pids" ] || return 1
  while read -r pid st tag; do
    gpd_is_ours "$pid" "$st" && return 0
  done <"$GPD_STATE/pids"
  return 1
}

# gpd_stop_all_tracked: every recorded process still alive, newest first, KILL after 5 s.
gpd_stop_all_tracked() {
  local pid st tag lines=()
  [ -f "$GPD_STATE/pids" ] || return 0
  mapfile -t lines < <(tac "$GPD_STATE/pids")
  for l in "${lines[@]}"; do
    read -r pid st tag <<<"$l"
    gpd_is_ours "$pid" "$st" || continue
    # keepalived's VRRP child goes with its main process (TERM to the child alone would
    # only get it respawned).
    [[ "$tag" == keepalived-vrrp-* ]] && continue
    gpd_log "stopping $tag (pid $pid)"
    kill -TERM "$pid" 2>/dev/null
  done
  local i alive
  for ((i = 0; i < 50; i++)); do
    alive=0
    for l in "${lines[@]}"; do
      read -r pid st tag <<<"$l"
      gpd_is_ours "$pid" "$st" && alive=1
    done
    ((alive)) || break
    sleep 0.1
  done
  for l in "${lines[@]}"; do
    read -r pid st tag <<<"$l"
    if gpd_is_ours "$pid" "$st"; then
      gpd_log "$tag (pid $pid) ignored SIGTERM: SIGKILL"
      kill -KILL "$pid" 2>/dev/null
    fi
  done
  : >"$GPD_STATE/pids"
}

# ---- namespaces -------------------------------------------------------------------------

# gpd_ns HOST CMD...: run CMD on "host" HOST (inside namespace gpd-HOST). Not for a process
# started with & whose pid is recorded: a backgrounded function is a subshell with its own pid;
# call `ip netns exec gpd-HOST CMD &` directly (ip execs CMD, so $! is CMD's pid).
gpd_ns() {
  local h=$1
  shift
  ip netns exec "gpd-$h" "$@"
}

# gpd_existing_ns: the gpd-* namespaces that exist now, one a line.
gpd_existing_ns() {
  ip netns list 2>/dev/null | awk '{print $1}' | grep -E '^gpd-' || true
}

# gpd_ns_sweep: processes still inside gpd-* namespaces can only be descendants of ours
# (keepalived's script children, an SST's rsync): stop them by pid so the namespaces can go.
gpd_ns_sweep() {
  local ns pid pids=()
  for ns in $(gpd_existing_ns); do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do
      gpd_log "left in $ns: pid $pid" \
        "($(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | cut -c1-80))"
      kill -TERM "$pid" 2>/dev/null && pids+=("$pid")
    done
  done
  ((${#pids[@]})) || return 0
  sleep 1
  for pid in "${pids[@]}"; do
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
  done
  return 0
}

# gpd_ns_delete_all: delete every gpd-* namespace (their veths go with them).
gpd_ns_delete_all() {
  local ns
  for ns in $(gpd_existing_ns); do
    ip netns delete "$ns" 2>/dev/null || gpd_log "could not delete namespace $ns"
  done
}
