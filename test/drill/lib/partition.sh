#!/usr/bin/env bash
# partition.sh - Galera's own failure detection: timeout profiles, drills 5p and 5f, no-route check.
#
# GPD_GALERA picks the Galera timeouts the cluster starts with (run.sh --galera): "default" is
# Galera's own (evs.suspect_timeout PT5S, ...), "recommended" the evs.* options that
# docker/mariadb/galera.cnf ships for a proxy-fronted cluster (read from that file, so the drill
# runs exactly what is shipped). A partition or a frozen node is not something the proxy may
# act on by itself (a timeout is no evidence that a process is gone), so these drills measure
# Galera's detection with each profile, and the price of the faster one:
#   5p  the writer node is cut off from the other Galera nodes for 12 s while both proxies still
#       reach it: it turns non-Primary, which the proxies see, and the other two go on. Unlike
#       drill 5 (its switch port down, nothing reaches it) this tests that the proxies leave a
#       node they see non-Primary.
#   5f  a node that is not the writer freezes (SIGSTOP) for GPD_FREEZE_S seconds (default 4),
#       as under CPU starvation or a VM pause, then runs on. Commits stall on every node while
#       a member is silent; with the default profile Galera waits for it (no view change),
#       with the recommended one it is suspected after 2 s: a view change, or dropped and
#       rejoining: the false suspicion the shorter timeouts risk.
# Every drill (gpd_np_route_check, from gpd_drill_end) fails if a proxy made a node its writer,
# or kept it, after logging it non-Primary. Targets with --galera recommended (miss): 5 and 5p
# downtime <= 4000 ms.

GPD_GALERA=${GPD_GALERA:-default}
GPD_FREEZE_S=${GPD_FREEZE_S:-4}
GPD_BOGUS_MAC=02:00:00:00:de:ad # no host has it: frames sent there are flooded and dropped

# gpd_galera_options PROFILE: the wsrep_provider_options to add for PROFILE (";"-separated).
gpd_galera_options() {
  case $1 in
  default) echo "" ;;
  recommended)
    grep -E '^wsrep_provider_options' "$GPD_ROOT/docker/mariadb/galera.cnf" |
      grep -oE 'evs\.[a-z_]+=[^;"]+' | paste -sd ';' -
    ;;
  *) return 1 ;;
  esac
}

# gpd_galera_effective: the evs timeouts db1 runs with ("suspect=PT2S inactive=...").
gpd_galera_effective() {
  local keys='suspect_timeout\|inactive_timeout\|keepalive_period\|inactive_check_period'
  gpd_db_sql db1 "SELECT @@wsrep_provider_options" 2>/dev/null | tr ';' '\n' |
    sed -n "s/^ *evs\.\($keys\|join_retrans_period\) *= *\(.*\)\$/\1=\2/p" | paste -sd ' ' -
}

# gpd_partition NODE on|off: NODE and the other Galera nodes stop (start) reaching each other:
# static neighbour entries to a MAC nobody has, both ways, so their packets are silently lost
# as on a broken link; the proxy and client hosts are not touched.
gpd_partition() {
  local n=$1 m
  for m in "${GPD_DB_NODES[@]}"; do
    [ "$m" = "$n" ] && continue
    if [ "$2" = on ]; then
      ip -n "gpd-$n" neigh replace "${GPD_IP[$m]}" lladdr "$GPD_BOGUS_MAC" nud permanent dev veth0
      ip -n "gpd-$m" neigh replace "${GPD_IP[$n]}" lladdr "$GPD_BOGUS_MAC" nud permanent dev veth0
    else
      ip -n "gpd-$n" neigh del "${GPD_IP[$m]}" dev veth0 2>/dev/null
      ip -n "gpd-$m" neigh del "${GPD_IP[$n]}" dev veth0 2>/dev/null
    fi
  done
  return 0
}

# gpd_log_ms_at HOST PATTERN: ms from the event to the first line of HOST's proxy log in this
# drill that matches PATTERN ("" if none).
gpd_log_ms_at() {
  local line ts
  line=$(tail -n +"$((D_OFF[$1] + 1))" "$(gpd_ha_dir "$1")/proxy.log" | grep -m1 -E "$2")
  ts=$(sed -n 's/^ts=\([0-9TZ:.-]*\) .*/\1/p' <<<"$line")
  [ -n "$ts" ] || return 0
  echo $(($(date -d "$ts" +%s%3N) - D_EVENT))
}

# gpd_np_route_check: per proxy, the node states and the writer from its log; fails the drill
# if, after the drill began, the writer was a node the proxy had logged non_primary beyond the
# decision that logged it (a node_state line is followed at once by the writer_change it causes).
gpd_np_route_check() {
  local h bad
  for h in "${GPD_HA_HOSTS[@]}"; do
    bad=$(awk -v off="${D_OFF[$h]:-0}" '
      function flag(why) { if (NR > off && out == "") out = why }
      # A new process (started by the drill or restarted by supervise) knows nothing yet.
      /event=drill_proxy_start|event=start / { delete st; w = "none"; pend = ""; next }
      {
        ev = ""; if (match($0, /event=[a-z_]+/)) ev = substr($0, RSTART + 6, RLENGTH - 6)
        if (pend != "" && ev != "node_state" && ev != "writer_change")
          flag("kept " pend " as writer after logging it non_primary")
        pend = ""
      }
      ev == "node_state" {
        b = $0; sub(/.* backend=/, "", b); sub(/ .*/, "", b)
        s = $0; sub(/.* to=/, "", s); sub(/ .*/, "", s)
        st[b] = s
        if (b == w && s == "non_primary") pend = b
      }
      ev == "writer_change" {
        t = $0; sub(/.* to=/, "", t); sub(/ .*/, "", t)
        if (t in st && st[t] == "non_primary") flag("made " t " writer while non_primary")
        w = t
      }
      END { if (pend != "" && NR > off && out == "") out = "kept " pend " as writer at the end"
        print out }' "$(gpd_ha_dir "$h")/proxy.log")
    if [ -n "$bad" ]; then
      D_FAIL="${D_FAIL:+$D_FAIL; }$h $bad"
    fi
  done
  return 0
}

# drill 5p: the writer cut off from the other Galera nodes; the proxies still reach it.
gpd_drill_5p() {
  local w s n h np=""
  gpd_drill_begin d5p "$1" || {
    gpd_drill_end
    return
  }
  w=$(gpd_proxy_writer "$D_MASTER0")
  for n in "${GPD_DB_NODES[@]}"; do
    [ "$n" != "$w" ] && s=$n && break
  done
  gpd_sizewatch_start "$s"
  gpd_event "partition the writer $w from the other Galera nodes (the proxies still reach it)"
  gpd_partition "$w" on
  gpd_observe 12
  for h in "${GPD_HA_HOSTS[@]}"; do
    np="$np${np:+, }$h $(gpd_log_ms_at "$h" "event=node_state backend=$w .*to=non_primary")"
  done
  gpd_drill_note "$w: $(gpd_db_status "$w" wsrep_cluster_status) after 12 s;" \
    "proxies saw it non_primary after [$np] ms; galera $GPD_GALERA"
  gpd_partition "$w" off
  gpd_drill_end
}

# drill 5f: a node that is not the writer frozen for GPD_FREEZE_S seconds, then resumed.
gpd_drill_5f() {
  local w f s n pid dropped views0 views1
  gpd_drill_begin d5f "$1" || {
    gpd_drill_end
    return
  }
  w=$(gpd_proxy_writer "$D_MASTER0")
  for n in "${GPD_DB_NODES[@]}"; do
    [ "$n" != "$w" ] && [ -z "${f:-}" ] && f=$n && continue
    [ "$n" != "$w" ] && s=$n
  done
  pid=$(gpd_db_pid "$f")
  views0=$(gpd_db_status "$w" wsrep_cluster_conf_id)
  gpd_sizewatch_start "$s"
  gpd_event "SIGSTOP $f (not the writer) for $GPD_FREEZE_S s"
  kill -STOP "$pid"
  sleep "$GPD_FREEZE_S"
  kill -CONT "$pid"
  gpd_observe
  dropped=$(gpd_galera_drop_ms)
  gpd_wait_until 60 gpd_db_healthy
  views1=$(gpd_db_status "$w" wsrep_cluster_conf_id)
  if [ -n "$dropped" ]; then
    gpd_drill_note "$f frozen ${GPD_FREEZE_S} s: dropped from the cluster after $dropped ms," \
      "$((views1 - views0)) view changes; galera $GPD_GALERA"
  else
    gpd_drill_note "$f frozen ${GPD_FREEZE_S} s: stayed a member ($((views1 - views0)) view" \
      "changes); galera $GPD_GALERA"
  fi
  gpd_drill_end
}

# gpd_targets_d5 / gpd_targets_d5p: gpd_verdict's targets (it calls them; they extend its miss).
# shellcheck disable=SC2154 # gpd_verdict's locals
gpd_targets_d5() {
  [ "$GPD_GALERA" = recommended ] || return 0
  [[ "$c_gap" =~ ^[0-9]+$ ]] && [[ "$p_gap" =~ ^[0-9]+$ ]] && ((c_gap <= 4000 && p_gap <= 4000)) ||
    miss+=("downtime<=4000")
}
gpd_targets_d5p() { gpd_targets_d5; }
