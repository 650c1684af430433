#!/usr/bin/env bash
# ha.sh - the two proxy hosts: galera-proxy and keepalived in gpd-ha1 / gpd-ha2, one VIP.
#
# galera-proxy listens on 0.0.0.0:6033 (so it answers on the VIP wherever the VIP is) and
# 0.0.0.0:9480 (HTTP). keepalived runs per the recipe (-n -l -D, VRRP only, own pid files),
# unicast between .21 and .22, both `state BACKUP` with nopreempt, the track script
# vrrp-hooks/check and the notify hook vrrp-hooks/notify (through lib/notify-wrap.sh, which
# timestamps each transition in $GPD_WORK/vrrp-events.log).
#
# GPD_ADVERT (1 or 0.2; 0.2 needs VRRPv3), GPD_CHECK_FALL / GPD_CHECK_RISE tune keepalived;
# GPD_EVICTION (true/false) the proxies' eviction of a dead writer. keepalived also tracks the
# file $GPD_WORK/HOST/proxy.track (vrrp_track_file, weight 0, as vrrp-hooks/keepalived.conf.example
# ships it); GPD_SUPERVISE=1 starts the proxies under vrrp-hooks/supervise, which keeps that file
# (lib/supervised.sh, drill 3s); otherwise the file is set to 0 once the proxy is healthy and
# nothing changes it, so keepalived goes by its check alone.

GPD_HA_HOSTS=(ha1 ha2)
# High priorities: a BACKUP waits 3 x advert_int + (256 - priority) / 256 x advert_int for a
# silent MASTER; with priority 100 that skew alone is 0.6 s at advert_int 1.
declare -A GPD_HA_PRIO=([ha1]=250 [ha2]=240)
GPD_ADVERT=${GPD_ADVERT:-1}
GPD_CHECK_FALL=${GPD_CHECK_FALL:-2}
GPD_CHECK_RISE=${GPD_CHECK_RISE:-2}
GPD_EVICTION=${GPD_EVICTION:-true}
GPD_MOVE=${GPD_MOVE:-true} # routing.move_sessions (run.sh --no-move: false)
GPD_PROXY_BIN=${GPD_PROXY_BIN:-}
GPD_SUPERVISE=${GPD_SUPERVISE:-0}
GPD_VIP_LOCAL=${GPD_VIP_LOCAL:-1} # vrrp-hooks/vip-local on both hosts (run.sh --no-vip-local: not)

gpd_ha_dir() { echo "$GPD_WORK/$1"; }
gpd_ha_other() { if [ "$1" = ha1 ]; then echo ha2; else echo ha1; fi; }

# gpd_ha_proxy_conf HOST: write HOST's galera-proxy configuration (eviction from GPD_EVICTION).
gpd_ha_proxy_conf() {
  local h=$1 d other
  d=$(gpd_ha_dir "$h")
  other=$(gpd_ha_other "$h")
  mkdir -p "$d"
  cat >"$d/proxy.conf.new" <<EOF
# galera-proxy on drill host $h
name = "$h";
listen = "0.0.0.0:$GPD_SQL_PORT";
http_listen = "0.0.0.0:$GPD_HTTP_PORT";
http_admin_token = "$(cat "$GPD_WORK/token")";
log_level = "info";
vip = "$GPD_VIP";
peer = "${GPD_IP[$other]}:$GPD_HTTP_PORT";
limits = { shutdown_timeout_ms = 5000; backend_connect_timeout_ms = 2000; };
monitor = { user = "monitor"; password = "monitor"; interval_ms = 250; timeout_ms = 1000;
  fall = 2; rise = 2; };
routing = { connect_wait_ms = 3000; drain_timeout_ms = 3000; fence_timeout_ms = 6000;
  move_sessions = $GPD_MOVE; };
eviction = { enabled = $GPD_EVICTION; };
backends = (
  { name = "db1"; address = "${GPD_IP[db1]}:3306"; priority = 1; },
  { name = "db2"; address = "${GPD_IP[db2]}:3306"; priority = 2; },
  { name = "db3"; address = "${GPD_IP[db3]}:3306"; priority = 3; }
);
EOF
  mv "$d/proxy.conf.new" "$d/proxy.conf"
}

gpd_ha_keepalived_conf() {
  local h=$1 d other v3=""
  d=$(gpd_ha_dir "$h")
  other=$(gpd_ha_other "$h")
  [ "$GPD_ADVERT" = 1 ] || v3="  vrrp_version 3"
  cat >"$d/keepalived.conf" <<EOF
# keepalived on drill host $h (see vrrp-hooks/keepalived.conf.example for the commented version)
global_defs {
  router_id $h
  script_user root
  vrrp_priority -20
$v3
}
vrrp_script chk_galera_proxy {
  script "$GPD_ROOT/vrrp-hooks/check 127.0.0.1:$GPD_HTTP_PORT"
  interval 1
  timeout 1
  fall $GPD_CHECK_FALL
  rise $GPD_CHECK_RISE
}
vrrp_track_file proxy_down {
  file "$d/proxy.track"
  weight 0
  init_file 1
}
vrrp_instance VI_GP {
  state BACKUP
  nopreempt
  interface veth0
  virtual_router_id 51
  priority ${GPD_HA_PRIO[$h]}
  advert_int $GPD_ADVERT
  unicast_src_ip ${GPD_IP[$h]}
  unicast_peer {
    ${GPD_IP[$other]}
  }
  virtual_ipaddress {
    $GPD_VIP/$GPD_PREFIX dev veth0
  }
  track_script {
    chk_galera_proxy
  }
  track_file {
    proxy_down
  }
  notify "$GPD_LIB/notify-wrap.sh $h $GPD_WORK"
}
EOF
}

# gpd_http HOST PATH [curl args...]: a request to HOST's proxy from HOST itself (no token needed).
gpd_http() {
  local h=$1 path=$2
  shift 2
  gpd_ns "$h" curl -s --noproxy '*' --max-time 2 "$@" "http://127.0.0.1:$GPD_HTTP_PORT$path"
}

# gpd_json_get KEY: a top-level field of the JSON on stdin ("" if absent or null).
gpd_json_get() {
  # shellcheck disable=SC2016 # PHP code, not shell
  php -r '$j = json_decode(stream_get_contents(STDIN), true);
    $v = is_array($j) ? ($j[$argv[1]] ?? "") : "";
    echo is_bool($v) ? ($v ? "true" : "false") : (is_scalar($v) ? $v : json_encode($v));' "$1"
}

# gpd_proxy_writer HOST: the writer HOST's proxy reports on /status ("" if none or no answer).
gpd_proxy_writer() { gpd_http "$1" /status 2>/dev/null | gpd_json_get writer; }
gpd_proxy_vrrp() { gpd_http "$1" /status 2>/dev/null | gpd_json_get vrrp_state; }
gpd_proxy_pid() {
  ((GPD_SUPERVISE)) && gpd_sup_adopt "$1" # a restart by supervise has a new pid
  gpd_pid_of "proxy-$1"
}
gpd_proxy_healthy() { gpd_ns "$1" "$GPD_ROOT/vrrp-hooks/check" >/dev/null 2>&1; }

# gpd_proxy_start HOST: start galera-proxy on HOST and wait (15 s) until /health says 200. Its
# exit status goes to $(gpd_ha_dir HOST)/proxy.rc when it ends (test/lib/procs.sh).
gpd_proxy_start() {
  local h=$1 d pid i
  d=$(gpd_ha_dir "$h")
  [ -f "$d/proxy.conf" ] || gpd_ha_proxy_conf "$h"
  echo "ts=- event=drill_proxy_start" >>"$d/proxy.log"
  if ((GPD_SUPERVISE)); then
    gpd_sup_start "$h" || return 1
    pid=$(gpd_pid_of "proxy-$h")
  else
    start_recorded "$d/proxy.rc" "$d/proxy.log" \
      ip netns exec "gpd-$h" "$GPD_PROXY_BIN" -c "$d/proxy.conf" || {
      gpd_log "$h: galera-proxy did not start"
      return 1
    }
    pid=$RECORDED_PID
    gpd_track "$pid" "proxy-$h"
  fi
  for ((i = 0; i < 150; i++)); do
    if gpd_proxy_healthy "$h"; then
      ((GPD_SUPERVISE)) || echo 0 >"$d/proxy.track"
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || {
      gpd_log "$h: galera-proxy exited; log tail:"
      tail -n 15 "$d/proxy.log" >&2
      return 1
    }
    sleep 0.1
  done
  gpd_log "$h: galera-proxy not healthy within 15 s: $(gpd_http "$h" /health)"
  return 1
}

# gpd_proxy_reload HOST: rewrite the configuration and POST /reload.
gpd_proxy_reload() {
  gpd_ha_proxy_conf "$1"
  gpd_http "$1" /reload -X POST >/dev/null
}

# ---- keepalived -------------------------------------------------------------------------

gpd_ka_pid() { gpd_pid_of "keepalived-$1"; }

# gpd_ka_vrrp_pid HOST: keepalived's VRRP child (from its pid file, checked to be our child).
gpd_ka_vrrp_pid() {
  local d main pid
  d=$(gpd_ha_dir "$1")
  main=$(gpd_ka_pid "$1") || return 1
  pid=$(cat "$d/ka-vrrp.pid" 2>/dev/null) || return 1
  [ -n "$pid" ] && [ "$(awk '{print $4}' "/proc/$pid/stat" 2>/dev/null)" = "$main" ] || return 1
  echo "$pid"
}

# gpd_ka_start HOST: start keepalived (VRRP only) on HOST; returns once its VRRP child runs.
gpd_ka_start() {
  local h=$1 d pid i
  d=$(gpd_ha_dir "$h")
  gpd_ha_keepalived_conf "$h"
  rm -f "$d/ka.pid" "$d/ka-vrrp.pid" "$d/ka-chk.pid" # stale after a crash: "already running"
  ip netns exec "gpd-$h" keepalived -n -l -D -P -f "$d/keepalived.conf" -p "$d/ka.pid" \
    -r "$d/ka-vrrp.pid" -c "$d/ka-chk.pid" </dev/null >>"$d/keepalived.log" 2>&1 &
  pid=$!
  disown "$pid" 2>/dev/null
  gpd_track "$pid" "keepalived-$h"
  for ((i = 0; i < 100; i++)); do
    if pid=$(gpd_ka_vrrp_pid "$h"); then
      gpd_track "$pid" "keepalived-vrrp-$h"
      return 0
    fi
    sleep 0.1
  done
  gpd_log "$h: keepalived's VRRP child did not start; log tail:"
  tail -n 15 "$d/keepalived.log" >&2
  return 1
}

# gpd_ka_stop HOST: clean stop (SIGTERM to the main process: priority-0 advert, VIP released).
gpd_ka_stop() { gpd_stop_tag "keepalived-$1" 10; }

# gpd_ka_crash HOST: a crash, honestly (recipe): stop the main process so it cannot react,
# kill the VRRP child (which would otherwise resign cleanly on PDEATHSIG), then the main one.
gpd_ka_crash() {
  local main child
  main=$(gpd_ka_pid "$1") || return 1
  child=$(gpd_ka_vrrp_pid "$1")
  kill -STOP "$main"
  [ -n "$child" ] && kill -KILL "$child"
  kill -KILL "$main"
  return 0
}

# gpd_vrrp_last HOST: the last state HOST's keepalived reported through notify.
gpd_vrrp_last() {
  awk -v h="$1" '$2 == h {s = $5} END {print s}' "$GPD_WORK/vrrp-events.log" 2>/dev/null
}

# gpd_master: the host that holds the VIP and whose keepalived last said MASTER (one only).
gpd_master() {
  local h found=""
  for h in "${GPD_HA_HOSTS[@]}"; do
    if gpd_ka_pid "$h" >/dev/null && [ "$(gpd_vrrp_last "$h")" = MASTER ] && gpd_vip_on "$h"; then
      [ -n "$found" ] && return 1
      found=$h
    fi
  done
  [ -n "$found" ] && echo "$found"
}

# gpd_wait_master SECONDS: wait for exactly one master; prints it.
gpd_wait_master() {
  local t0 m
  t0=$(gpd_now_ms)
  while (($(gpd_now_ms) - t0 < $1 * 1000)); do
    m=$(gpd_master) && {
      echo "$m"
      return 0
    }
    sleep 0.2
  done
  return 1
}

# gpd_ha_up_host HOST: proxy, then keepalived (a keepalived must never run before its proxy).
gpd_ha_up_host() {
  local h=$1
  # A crashed keepalived leaves the VIP configured; a rebooted host would not have it.
  if ! gpd_ka_pid "$h" >/dev/null && gpd_vip_on "$h"; then
    ip -n "gpd-$h" addr del "$GPD_VIP/$GPD_PREFIX" dev veth0
  fi
  gpd_topo_plug "$h"
  gpd_proxy_pid "$h" >/dev/null || gpd_proxy_start "$h" || return 1
  gpd_ka_pid "$h" >/dev/null || gpd_ka_start "$h" || return 1
}

# gpd_ha_bootstrap: both proxies, keepalived on ha1 first (it becomes MASTER), then on ha2.
gpd_ha_bootstrap() {
  local m h
  # The host setup vrrp-hooks/README.md asks for (step 1): a host the VIP has left refuses a
  # connect to it (RST) instead of dropping it.
  if ((GPD_VIP_LOCAL)); then
    for h in "${GPD_HA_HOSTS[@]}"; do
      gpd_ns "$h" "$GPD_ROOT/vrrp-hooks/vip-local" "$GPD_VIP" veth0 || {
        gpd_log "$h: vrrp-hooks/vip-local failed"
        return 1
      }
    done
    gpd_log "vrrp-hooks/vip-local: ha1 and ha2 take $GPD_VIP as local (route on lo, arp_ignore=1)"
  fi
  gpd_ha_proxy_conf ha1
  gpd_ha_proxy_conf ha2
  gpd_proxy_start ha1 && gpd_proxy_start ha2 || return 1
  gpd_ka_start ha1 || return 1
  m=$(gpd_wait_master 20) || {
    gpd_log "no VRRP master 20 s after keepalived started on ha1"
    return 1
  }
  gpd_ka_start ha2 || return 1
  sleep 3
  m=$(gpd_master) || {
    gpd_log "VRRP: not exactly one master after ha2 joined"
    return 1
  }
  gpd_log "VRRP up: $m is MASTER (advert_int $GPD_ADVERT), VIP $GPD_VIP"
}

# gpd_ka_restart_all: keepalived stopped on both hosts and started again (new GPD_ADVERT):
# the BACKUP first, then the MASTER, which is started again first.
gpd_ka_restart_all() {
  local m o
  m=$(gpd_wait_master 20) || m=ha1
  o=$(gpd_ha_other "$m")
  gpd_ka_stop "$o"
  gpd_ka_stop "$m"
  gpd_ka_start "$m" || return 1
  gpd_wait_master 20 >/dev/null || return 1
  gpd_ka_start "$o" || return 1
  sleep 3
  m=$(gpd_master) || return 1
  gpd_log "VRRP again: $m is MASTER (advert_int $GPD_ADVERT)"
}

# gpd_ha_repair: both hosts plugged in, proxies and keepalived running, one master.
gpd_ha_repair() {
  local h
  for h in "${GPD_HA_HOSTS[@]}"; do
    gpd_ha_up_host "$h" || return 1
  done
  gpd_wait_master 20 >/dev/null
}
