#!/usr/bin/env bash
# supervised.sh - drill 3s: kill -9 of galera-proxy under vrrp-hooks/supervise and a track file.
#
# Drill 3 kills the MASTER's proxy and keepalived notices through its check (interval 1 s, fall 2:
# 1.5-2 s). Here both proxies run the way vrrp-hooks/keepalived.conf.example ships it for a host
# without systemd: under vrrp-hooks/supervise (one per "host": the namespaces share one PID
# namespace, so each host has its own supervisor and its own track file), which writes 1 to
# $GPD_WORK/HOST/proxy.track the instant the proxy exits; keepalived watches the file (inotify,
# weight 0) and its MASTER goes to FAULT and hands the VIP over at once. supervise starts the proxy
# again after GPD_SUP_DELAY seconds (--restart on-failure) and writes 0 once it serves; the VIP
# stays where it went (nopreempt). The drill switches both hosts to supervised proxies before it
# (unmeasured: planned restarts, BACKUP first) and back to directly started ones after it, so the
# other drills run as before.
#
# Targets (fail = always fails the run; miss = fails it with --strict): fail when the VIP did not
# move, when the two proxies disagree on the writer, or when the writes alternated between nodes;
# miss when the VIP move took over 500 ms (advert_int 1), a client's longest gap exceeded
# 1000 ms, the conn client saw 127 errors or more (the HAProxy stack's figure for this failure),
# or the writer moved.

GPD_SUP_DELAY=${GPD_SUP_DELAY:-1} # supervise's --restart-delay in the drill

# gpd_sup_adopt HOST: record the proxy that HOST's supervisor runs now (after a restart by
# supervise it has a new pid); fails if there is none.
gpd_sup_adopt() {
  local h=$1 sup pid
  sup=$(gpd_pid_of "supervise-$h") || return 1
  read -r pid 2>/dev/null <"$(gpd_ha_dir "$h")/proxy.pid" || return 1
  [ -n "$pid" ] && [ "$(awk '{print $4}' "/proc/$pid/stat" 2>/dev/null)" = "$sup" ] || return 1
  [ "$(gpd_pid_of "proxy-$h")" = "$pid" ] || gpd_track "$pid" "proxy-$h"
}

# gpd_sup_start HOST: vrrp-hooks/supervise with HOST's proxy (ha.sh's gpd_proxy_start calls it
# when GPD_SUPERVISE=1); returns once the proxy runs (gpd_proxy_start waits for /health).
gpd_sup_start() {
  local h=$1 d pid i
  d=$(gpd_ha_dir "$h")
  rm -f "$d/proxy.pid"
  ip netns exec "gpd-$h" "$GPD_ROOT/vrrp-hooks/supervise" --track-file "$d/proxy.track" \
    --http "127.0.0.1:$GPD_HTTP_PORT" --restart on-failure --restart-delay "$GPD_SUP_DELAY" \
    --pid-file "$d/proxy.pid" -- "$GPD_PROXY_BIN" -c "$d/proxy.conf" \
    </dev/null >>"$d/proxy.log" 2>&1 &
  pid=$!
  disown "$pid" 2>/dev/null
  gpd_track "$pid" "supervise-$h"
  for ((i = 0; i < 50; i++)); do
    gpd_sup_adopt "$h" && return 0
    sleep 0.1
  done
  gpd_log "$h: vrrp-hooks/supervise started no proxy within 5 s; log tail:"
  tail -n 15 "$d/proxy.log" >&2
  return 1
}

# gpd_sup_ready HOST [SINCE_MS]: HOST could take the VIP over: its proxy is healthy, its track
# file says 0 and its keepalived's last notify (at SINCE_MS or later) was BACKUP.
gpd_sup_ready() {
  local v
  read -r v 2>/dev/null <"$(gpd_ha_dir "$1")/proxy.track"
  [ "$v" = 0 ] && gpd_proxy_healthy "$1" || return 1
  awk -v h="$1" -v since="${2:-0}" '$2 == h {t = $1; s = $5} END {exit !(s == "BACKUP" &&
    t >= since)}' "$GPD_WORK/vrrp-events.log"
}

# gpd_sup_mode 0|1: every proxy started directly (0) or under supervise (1) from now on; the
# running ones are restarted that way, the BACKUP's first, so that the MASTER's planned stop
# hands the VIP to a proxy that already runs the new way.
gpd_sup_mode() {
  local want=$1 m o h t0
  [ "$GPD_SUPERVISE" = "$want" ] && return 0
  if ((want)); then
    gpd_log "proxies from now on: under vrrp-hooks/supervise"
  else
    gpd_log "proxies from now on: started directly"
  fi
  m=$(gpd_wait_master 20) || m=ha1
  o=$(gpd_ha_other "$m")
  GPD_SUPERVISE=$want
  for h in "$o" "$m"; do
    t0=$(gpd_now_ms)
    # A supervised proxy stops with its supervisor (the SIGTERM is passed on).
    if gpd_pid_of "supervise-$h" >/dev/null; then
      gpd_stop_tag "supervise-$h" 20
    else
      gpd_stop_tag "proxy-$h" 20
    fi
    gpd_proxy_start "$h" || return 1
    # The next host's stop must find this one ready to take the VIP.
    [ "$h" = "$o" ] && ! gpd_wait_until 20 gpd_sup_ready "$o" "$t0" &&
      gpd_log "$o: not ready to take the VIP over 20 s after its restart"
  done
  gpd_wait_master 20 >/dev/null
}

# gpd_vrrp_at HOST STATE: ms from the event to HOST's first STATE notify after it ("" if none).
gpd_vrrp_at() {
  tail -n +"$((${D_OFF["events"]} + 1))" "$GPD_WORK/vrrp-events.log" 2>/dev/null |
    awk -v ev="$D_EVENT" -v h="$1" -v s="$2" '$1 >= ev && $2 == h && $5 == s {
      print $1 - ev; exit }'
}

# gpd_sup_restarted HOST OLDPID: HOST's supervisor runs a proxy other than OLDPID.
gpd_sup_restarted() {
  local pid
  pid=$(gpd_proxy_pid "$1") && [ "$pid" != "$2" ]
}

# gpd_connect_errors: "connects refused / timed out / other failed, conn+pers: R/T/O; vip-local
# on|off": what the clients' failed connects in the window met. With vrrp-hooks/vip-local a
# host the VIP has left refuses at once (retried 10 ms later); without it such a SYN is dropped
# and the connect times out (1 s).
gpd_connect_errors() {
  local f=() mode
  for mode in $GPD_CLIENT_MODES; do f+=("$(gpd_client_log "$mode")"); done
  awk -v ev="$D_EVENT" -v end="$D_END" -v vl="$( ((GPD_VIP_LOCAL)) && echo on || echo off)" '
    $1 == "cerr" && $3 >= ev - 2000 && $3 <= end {
      if (/refused/) r++; else if (/timed out|timeout/) t++; else o++ }
    END { printf "connects refused / timed out / other failed, conn+pers: %d/%d/%d; vip-local %s",
      r, t, o, vl }' "${f[@]}" 2>/dev/null
}

# drill 3s: kill -9 galera-proxy on the MASTER, proxies under supervise, keepalived on the file.
gpd_drill_3s() {
  local m o pid v t0 track_ms="" back=0
  if ! gpd_sup_mode 1; then
    gpd_log "could not start the proxies under vrrp-hooks/supervise"
  fi
  gpd_drill_begin d3s "$1" || {
    gpd_drill_end
    gpd_sup_mode 0
    return
  }
  m=$D_MASTER0
  o=$(gpd_ha_other "$m")
  if ! gpd_wait_until 20 gpd_sup_ready "$o"; then
    gpd_drill_note "$o was not ready to take the VIP (track file, health, BACKUP) before the kill"
  fi
  pid=$(gpd_proxy_pid "$m")
  gpd_event "kill -9 galera-proxy on $m (pid $pid), under vrrp-hooks/supervise"
  t0=$(gpd_now_ms)
  kill -KILL "$pid"
  # How long until the track file says so (read as keepalived reads it, after the write).
  while (($(gpd_now_ms) - t0 < 2000)); do
    read -r v 2>/dev/null <"$(gpd_ha_dir "$m")/proxy.track"
    if [ "$v" = 1 ]; then
      track_ms=$(($(gpd_now_ms) - D_EVENT))
      break
    fi
  done
  gpd_observe
  gpd_wait_until 15 gpd_sup_restarted "$m" "$pid" && gpd_wait_until 15 gpd_sup_ready "$m" && back=1
  gpd_drill_note "track file 1 after ${track_ms:-?} ms; $m FAULT after" \
    "$(gpd_vrrp_at "$m" FAULT) ms, $o MASTER after $(gpd_vrrp_at "$o" MASTER) ms"
  gpd_drill_note "$(gpd_connect_errors)"
  if ((back)); then
    gpd_drill_note "supervise restarted the proxy, $m BACKUP again"
  else
    D_FAIL="${D_FAIL:+$D_FAIL; }supervise did not bring $m back to BACKUP within 30 s"
  fi
  gpd_drill_end
  gpd_sup_mode 0 || gpd_log "could not start the proxies directly again"
}

# gpd_targets_d3s: gpd_verdict's targets for drill 3s (called from gpd_verdict, whose locals
# c_gap, p_gap, c_err, vip_ms, nodes and miss it reads and extends).
# shellcheck disable=SC2154 # gpd_verdict's locals
gpd_targets_d3s() {
  local gap
  [ -n "$vip_ms" ] || D_FAIL="${D_FAIL:+$D_FAIL; }the VIP did not move"
  [[ "$nodes" != *">"*">"* ]] || D_FAIL="${D_FAIL:+$D_FAIL; }writes alternated between nodes"
  if [[ "${R_COLS[10]}" =~ ^(db[0-9])/(db[0-9])$ ]] &&
    [ "${BASH_REMATCH[1]}" != "${BASH_REMATCH[2]}" ]; then
    D_FAIL="${D_FAIL:+$D_FAIL; }the proxies disagree on the writer"
  fi
  if [ "$GPD_ADVERT" = 1 ]; then
    [ -n "$vip_ms" ] && ((vip_ms <= 500)) || miss+=("vip_move<=500")
  fi
  for gap in "$c_gap" "$p_gap"; do
    [[ "$gap" =~ ^[0-9]+$ ]] && ((gap <= 1000)) || {
      miss+=("downtime<=1000")
      break
    }
  done
  ((c_err < 127)) || miss+=("conn_errors<127")
  [[ "$nodes" != *">"* ]] || miss+=("writer_kept")
}
