#!/usr/bin/env bash
# drills.sh - the failover drills and what each one measures (one result row per drill run).
#
# Every drill: baseline (3 x Synced, two healthy proxies, one VRRP master), both clients writing
# through the VIP from gpd-cl, the event at time E, an observation window, the repair, then the
# checks. A row in $GPD_WORK/results.tsv holds, for the connection-per-write ("conn") and the
# persistent ("pers") client: downtime = the longest gap between two consecutive acknowledged
# writes from E-2 s to the end of the window (at 10 ms per write, ~10-50 ms means no outage),
# "gap at" = where that gap began, relative to E, and errors; for the drill: 1213 errors, VIP
# move (E to the MASTER notify on the other host) and MASTER transitions, writer changes logged
# by each proxy (initial choices not counted), each proxy's writer afterwards, the nodes that
# took the writes in time order, acknowledged ids and how many of them are missing on any
# running node ("lost", must be 0), and the deltas of wsrep_local_cert_failures and
# wsrep_local_bf_aborts summed over the nodes.
#
# What fails a drill (and the run) in every form, --quick included: an acknowledged write lost
# (or no node to check it on), writes that did not resume, the running proxies not agreeing on
# one writer within 10 s of the window's end, anything routed to a node outside the Primary
# component (gpd_nonprimary_routed), drill 7's proxy not exiting 0 on SIGTERM, and a conn
# client error in drill 7. Timing targets (downtime, VIP move, ...) are "miss", which fails
# the run only with --strict.
#
# Drill numbers (the issue's): 1 kill -9 the writer node, 1n the same with the proxies' eviction
# off, 2 crash the MASTER proxy host, 3 kill -9 galera-proxy on the MASTER, 4 desync the writer
# (planned maintenance), 5 cut the writer node off the network, 6 restart the old writer node and
# the old MASTER host, 7 planned restart (SIGTERM) of galera-proxy on the MASTER, m planned
# maintenance move of the writer (maintenance on both proxies, no WordPress).
# WordPress drills (lib/wordpress.sh; the site's load runs around the event, the clients too):
# w1 planned maintenance of the writer (maintenance on both proxies, off again), w2 kill -9 the
# writer node, w3 crash the MASTER proxy host. They always repair what they broke.
# GPD_KEEP_DAMAGE=1 (set by the runner when drill 6 follows in the round): drills 1 and 2 leave
# their dead node / dead host for drill 6 to bring back.

GPD_SEQ=${GPD_SEQ:-0}                # drills run so far: each gets its own id range
GPD_OBSERVE_S=${GPD_OBSERVE_S:-8}    # the window after the event (after the restart: 3, 6, 7)
GPD_MAX_WAIT_S=${GPD_MAX_WAIT_S:-45} # at most this long for writes to resume
GPD_KEEP_DAMAGE=${GPD_KEEP_DAMAGE:-0}
GPD_STRICT=${GPD_STRICT:-0}
GPD_CLIENT_MODES="conn pers" # the drill clients that run (the w drills run conn only)
GPD_CONNECT_TIMEOUT_S=1      # the clients' connect timeout (drill 7: longer, see there)

D_NAME="" D_ROUND=0 D_BASE=0 D_EVENT=0 D_END=0 D_MASTER0="" D_NOTES="" D_TARGET="" D_FAIL=""
D_SIZEW=0 D_AGREE="" D_TARGET_NOTE=""
declare -A D_OFF=() D_CERT=() D_BF=()

gpd_drill_note() { D_NOTES="${D_NOTES:+$D_NOTES; }$*"; }

# ---- clients ----------------------------------------------------------------------------

gpd_client_log() { echo "$GPD_WORK/clients/$D_NAME.r$D_ROUND.$1.log"; }

gpd_clients_start() {
  local mode base
  mkdir -p "$GPD_WORK/clients"
  for mode in $GPD_CLIENT_MODES; do
    base=$D_BASE
    [ "$mode" = pers ] && base=$((D_BASE + 50000000))
    ip netns exec gpd-cl php "$GPD_LIB/client.php" write "${mode/pers/persist}" "$GPD_VIP" \
      "$GPD_SQL_PORT" "$base" 10 "$GPD_CONNECT_TIMEOUT_S" </dev/null \
      >"$(gpd_client_log "$mode")" 2>&1 &
    gpd_track "$!" "client-$mode"
    disown "$!" 2>/dev/null
  done
}

gpd_clients_stop() {
  gpd_stop_tag client-conn 5
  gpd_stop_tag client-pers 5
}

# gpd_clients_acked_after T: both clients have an acknowledged write sent at or after T.
gpd_clients_acked_after() {
  local mode
  for mode in $GPD_CLIENT_MODES; do
    awk -v t="$1" '$1 == "ok" && $3 >= t {f = 1; exit} END {exit !f}' \
      "$(gpd_client_log "$mode")" || return 1
  done
}

# gpd_client_stats MODE: "downtime gap_at errors e1213 acked restore_gap restore_errors" for
# the drill's event (E-2 s to the end of the window) and for the repair after the window.
# downtime and gap_at are "none" if no write sent after E was acknowledged in the window, "-"
# if that client did not run.
gpd_client_stats() {
  [ -f "$(gpd_client_log "$1")" ] || {
    echo "- - 0 0 0 0 0"
    return
  }
  awk -v ev="$D_EVENT" -v end="$D_END" '
    $1 == "ok" {
      acked++
      if (prev != "") {
        g = $4 - prev
        if ($4 >= ev - 2000 && prev <= end && g > gap) { gap = g; at = prev - ev }
        if (prev > end && g > rgap) rgap = g
      }
      prev = $4
      if (first == "" && $3 >= ev && $4 <= end) first = $4
    }
    $1 == "err" || $1 == "cerr" {
      if ($3 > end) rerrs++
      else errs++
      if ($5 == 1213) e1213++
    }
    END {
      if (first == "") print "none", "none", errs + 0, e1213 + 0, acked + 0, rgap + 0, rerrs + 0
      else print gap + 0, at + 0, errs + 0, e1213 + 0, acked + 0, rgap + 0, rerrs + 0
    }' "$(gpd_client_log "$1")"
}

# gpd_client_failures MODE: what failed for that client up to the window's end, grouped by
# statement and error: "insert 2013 Lost connection to server during query x1, connect 2002
# ... x3" (client.php's err lines name the statement: insert, check, setup; cerr = connect).
gpd_client_failures() {
  awk -v end="$D_END" '
    ($1 == "err" || $1 == "cerr") && $3 <= end {
      st = "connect"; m = ""
      if ($1 == "err") { st = $6; sub(/:$/, "", st); i = 7 } else i = 6
      for (; i <= NF; i++) m = m (m == "" ? "" : " ") $i
      k = st " " $5 " " substr(m, 1, 70)
      if (!(k in n)) order[++nk] = k
      n[k]++
    }
    END { for (i = 1; i <= nk; i++) printf "%s%s x%d", (i > 1 ? ", " : ""), order[i], n[order[i]] }
  ' "$(gpd_client_log "$1")" 2>/dev/null
}

# gpd_moves_note: the proxies' session moves in this drill (issue 17), from their logs:
# "moves ha1:2 ha2:0 (failed 0, nowhere 0)".
gpd_moves_note() {
  local h log m f=0 x=0 out=""
  for h in "${GPD_HA_HOSTS[@]}"; do
    log=$(gpd_ha_dir "$h")/proxy.log
    m=$(tail -n +"$((${D_OFF[$h]:-0} + 1))" "$log" 2>/dev/null |
      awk '/ event=session_move / {m++} / event=session_move_failed / {f++}
        / event=session_move_nowhere / {x++} END {print m + 0, f + 0, x + 0}')
    out="$out${out:+ }$h:${m%% *}"
    m=${m#* }
    f=$((f + ${m%% *}))
    x=$((x + ${m#* }))
  done
  echo "moves $out (failed $f, nowhere $x)"
}

# ---- observation --------------------------------------------------------------------------

gpd_log_lines() { wc -l <"$1" 2>/dev/null || echo 0; }

gpd_counters() {
  local n v
  for n in "${GPD_DB_NODES[@]}"; do
    v=$(gpd_db_status "$n" wsrep_local_cert_failures)
    [ -n "$v" ] && echo "cert $n $v"
    v=$(gpd_db_status "$n" wsrep_local_bf_aborts)
    [ -n "$v" ] && echo "bf $n $v"
  done
}

# gpd_wait_until SECONDS CMD...: poll CMD every 0.2 s until it succeeds.
gpd_wait_until() {
  local t0 t=$1
  shift
  t0=$(gpd_now_ms)
  while (($(gpd_now_ms) - t0 < t * 1000)); do
    "$@" && return 0
    sleep 0.2
  done
  return 1
}

# gpd_drill_begin NAME ROUND [degraded]: baseline, clients, offsets. "degraded" accepts a node
# or a proxy host down (drill 2 after drill 1, drill 6).
gpd_drill_begin() {
  local h kind n v
  D_NAME=$1 D_ROUND=$2 D_NOTES="" D_TARGET="" D_FAIL="" D_SIZEW=0 D_EVENT=0 D_END=0 D_AGREE=""
  D_TARGET_NOTE="" # a drill's targets may set it: the verdict instead of "ok"
  GPD_SEQ=$((GPD_SEQ + 1))
  D_BASE=$((GPD_SEQ * 100000000))
  gpd_log "==== drill $D_NAME round $D_ROUND (ids from $D_BASE)"
  if [ "${3:-}" != degraded ]; then
    gpd_db_healthy || gpd_db_repair || {
      D_FAIL="cluster not healthy before the drill"
      return 1
    }
    gpd_ha_repair || {
      D_FAIL="proxy hosts not healthy before the drill"
      return 1
    }
  fi
  D_MASTER0=$(gpd_wait_master 20) || {
    D_FAIL="no single VRRP master before the drill"
    return 1
  }
  gpd_wait_until 15 gpd_proxy_healthy "$D_MASTER0" || {
    D_FAIL="the master's proxy is not healthy before the drill"
    return 1
  }
  for h in "${GPD_HA_HOSTS[@]}"; do
    D_OFF[$h]=$(gpd_log_lines "$(gpd_ha_dir "$h")/proxy.log")
  done
  D_OFF[events]=$(gpd_log_lines "$GPD_WORK/vrrp-events.log")
  D_CERT=() D_BF=()
  while read -r kind n v; do
    if [ "$kind" = cert ]; then D_CERT[$n]=$v; else D_BF[$n]=$v; fi
  done < <(gpd_counters)
  gpd_clients_start
  local t0
  t0=$(gpd_now_ms)
  sleep 2
  if ! gpd_wait_until 15 gpd_clients_acked_after "$t0"; then
    D_FAIL="the clients could not write through the VIP before the event"
    return 1
  fi
}

# gpd_event: the moment the drill's action starts.
gpd_event() {
  D_EVENT=$(gpd_now_ms)
  gpd_log "event: $*"
}

# gpd_observe [SECONDS]: let the clients run SECONDS (default GPD_OBSERVE_S) more, then until
# both have an acknowledged write sent after the event (GPD_MAX_WAIT_S at most).
# The window ends here (D_END): what the drill does after it (the repair) is measured apart.
gpd_observe() {
  sleep "${1:-$GPD_OBSERVE_S}"
  if ! gpd_wait_until "$GPD_MAX_WAIT_S" gpd_clients_acked_after "$D_EVENT"; then
    gpd_drill_note "a client had no acknowledged write ${GPD_MAX_WAIT_S}s after the event"
  fi
  D_END=$(gpd_now_ms)
}

gpd_sizewatch_start() {
  gpd_log "watching wsrep_cluster_size on $1"
  php "$GPD_LIB/client.php" size "$(gpd_db_dir "$1")/mysqld.sock" </dev/null \
    >"$GPD_WORK/clients/$D_NAME.r$D_ROUND.size.log" 2>&1 &
  gpd_track "$!" sizewatch
  disown "$!" 2>/dev/null
  D_SIZEW=1
}

# gpd_galera_drop_ms: E to the first time the watched node saw the cluster shrink.
gpd_galera_drop_ms() {
  awk -v ev="$D_EVENT" '$1 == "size" && $2 >= ev && $3 < 3 {print $2 - ev; exit}' \
    "$GPD_WORK/clients/$D_NAME.r$D_ROUND.size.log" 2>/dev/null
}

# gpd_drill_end: stop the clients, check, and append the result row. The drill has repaired
# what it broke (or left it for drill 6) before calling this.
gpd_drill_end() {
  local c_gap c_at c_err c_1213 p_gap p_at p_err p_1213 c_rgap c_rerr p_rgap p_rerr
  local ev_new vip_ms vip_n wc h n kind v writers nodes lost acked cert_d=0 bf_d=0 drop
  gpd_clients_stop
  ((D_SIZEW)) && gpd_stop_tag sizewatch 3
  if [ -n "$D_FAIL" ] && [ "$D_EVENT" = 0 ]; then
    gpd_result_row
    return
  fi
  ((D_END)) || D_END=$(gpd_now_ms)
  read -r c_gap c_at c_err c_1213 _ c_rgap c_rerr <<<"$(gpd_client_stats conn)"
  read -r p_gap p_at p_err p_1213 _ p_rgap p_rerr <<<"$(gpd_client_stats pers)"
  [ "$p_err" != 0 ] && gpd_drill_note "pers failed: $(gpd_client_failures pers)"
  gpd_drill_note "$(gpd_moves_note)"
  if ((c_rgap > 250 || p_rgap > 250 || c_rerr + p_rerr > 0)); then
    gpd_drill_note "during the repair: longest gap conn/pers $c_rgap/$p_rgap ms," \
      "errors $c_rerr/$p_rerr"
  fi

  # VRRP: MASTER notifies after the event.
  ev_new=$(tail -n +"$((D_OFF[events] + 1))" "$GPD_WORK/vrrp-events.log" 2>/dev/null |
    awk -v ev="$D_EVENT" '$1 >= ev')
  vip_n=$(awk '$5 == "MASTER"' <<<"$ev_new" | grep -c .)
  vip_ms=$(awk -v ev="$D_EVENT" -v m0="$D_MASTER0" '$5 == "MASTER" && $2 != m0 {
    print $1 - ev; exit}' <<<"$ev_new")

  # Writer changes per proxy (a proxy's first choice after a start is not a change).
  wc=""
  writers=""
  for h in "${GPD_HA_HOSTS[@]}"; do
    n=$(tail -n +"$((D_OFF[$h] + 1))" "$(gpd_ha_dir "$h")/proxy.log" |
      grep -c 'event=writer_change from=db')
    wc="$wc${wc:+ }$h:$n"
    v=$(gpd_proxy_writer "$h")
    writers="$writers${writers:+/}${v:--}"
  done
  # Either proxy may get the VIP next: every running one must name the same writer (a moment
  # apart, each on its own probes, they may differ: 10 s to settle).
  if ! gpd_wait_until 10 gpd_writers_agree; then
    D_AGREE="the running proxies do not agree on one writer 10 s after the window: $GPD_WRITERS_SEEN"
  fi

  # The checks need a settled cluster; a node left down for drill 6 is simply not checked.
  if ((GPD_KEEP_DAMAGE)); then
    gpd_wait_until 30 gpd_running_synced || gpd_drill_note "running nodes not all Synced"
  else
    gpd_db_healthy || gpd_db_repair || gpd_drill_note "cluster not repaired after the drill"
  fi
  read -r acked lost <<<"$(gpd_check_acked)"
  gpd_np_route_check # lib/partition.sh: no writer a proxy had seen non-Primary
  [[ "$D_NAME" == w* ]] && gpd_wp_check "$vip_ms"
  nodes=$(gpd_write_nodes)
  while read -r kind n v; do
    if [ "$kind" = cert ]; then
      if [ -n "${D_CERT[$n]:-}" ] && ((v >= D_CERT[$n])); then
        cert_d=$((cert_d + v - D_CERT[$n]))
      else cert_d=$((cert_d + v)); fi
    else
      if [ -n "${D_BF[$n]:-}" ] && ((v >= D_BF[$n])); then
        bf_d=$((bf_d + v - D_BF[$n]))
      else bf_d=$((bf_d + v)); fi
    fi
  done < <(gpd_counters)
  drop=""
  ((D_SIZEW)) && drop=$(gpd_galera_drop_ms)
  [ -n "$drop" ] && gpd_drill_note "Galera shrank the cluster ${drop} ms after the event"

  R_COLS=("$c_gap" "$c_at" "$c_err" "$p_gap" "$p_at" "$p_err" "$((c_1213 + p_1213))"
    "${vip_ms:--}" "$vip_n" "$wc" "$writers" "$nodes" "$acked" "$lost" "$cert_d" "$bf_d")
  gpd_verdict "$c_gap" "$p_gap" "$c_err" "$lost" "$vip_ms" "$vip_n" "$wc" "$nodes"
  gpd_result_row
}

# gpd_writers_agree: every running proxy reports a writer on /status, the same one. Leaves
# what each said in GPD_WRITERS_SEEN ("ha1=db2 ha2=db2"; "-" for no writer or no answer).
gpd_writers_agree() {
  local h w first="" ok=0
  GPD_WRITERS_SEEN=""
  for h in "${GPD_HA_HOSTS[@]}"; do
    gpd_proxy_pid "$h" >/dev/null || continue
    w=$(gpd_proxy_writer "$h")
    GPD_WRITERS_SEEN="$GPD_WRITERS_SEEN${GPD_WRITERS_SEEN:+ }$h=${w:--}"
    if [ -z "$w" ] || { [ -n "$first" ] && [ "$w" != "$first" ]; }; then
      ok=1
    fi
    first=${first:-$w}
  done
  [ -n "$GPD_WRITERS_SEEN" ] || GPD_WRITERS_SEEN="no proxy running"
  [ -n "$first" ] && return "$ok"
  return 1
}

# gpd_nonprimary_routed: what this drill routed to a node outside the Primary component, one
# line each (at most 3 per source); nothing when nothing was. Two views of it: a node itself
# answering a client that it is not ready (Galera's ERROR 1047 "WSREP has not yet prepared
# node for application use": non-Primary, or not joined yet; the proxy's own 1047 answers say
# "galera-proxy"), and a proxy opening a session on a backend whose last probe, in that
# proxy's own log, said non_primary.
gpd_nonprimary_routed() {
  local mode h log
  for mode in $GPD_CLIENT_MODES; do
    log=$(gpd_client_log "$mode")
    [ -f "$log" ] || continue
    awk -v m="$mode" '($1 == "err" || $1 == "cerr") && $5 == 1047 &&
      /WSREP has not yet prepared node/ { print m " client: " $0; if (++n == 3) exit }' "$log"
  done
  for h in "${GPD_HA_HOSTS[@]}"; do
    log=$(gpd_ha_dir "$h")/proxy.log
    [ -f "$log" ] || continue
    awk -v from="${D_OFF[$h]:-0}" -v h="$h" '
      function field(k,   i) {
        for (i = 1; i <= NF; i++) if (index($i, k "=") == 1) return substr($i, length(k) + 2)
        return ""
      }
      / event=(start|drill_proxy_start) / { split("", st) } # a new process knows nothing yet
      / event=node_state / { st[field("backend")] = field("to") }
      NR > from && / event=session_open / && st[field("backend")] == "non_primary" {
        print h ": a session opened on " field("backend") " while it was non_primary: " $0
        if (++n == 3) exit
      }' "$log"
  done
}

# gpd_running_synced: every running node is Synced.
gpd_running_synced() {
  local n
  for n in "${GPD_DB_NODES[@]}"; do
    gpd_db_pid "$n" >/dev/null || continue
    [ "$(gpd_db_status "$n" wsrep_local_state)" = 4 ] || return 1
  done
}

# gpd_check_acked: "ACKED LOST" for this drill's acknowledged ids over every running node
# (LOST is the most any one node misses); wsrep_sync_wait makes each read causal.
gpd_check_acked() {
  local d=$GPD_WORK/check n miss max=0 checked=0
  mkdir -p "$d"
  cat "$(gpd_client_log conn)" "$(gpd_client_log pers)" 2>/dev/null |
    awk '$1 == "ok" {print $2}' | sort -u >"$d/acked"
  for n in "${GPD_DB_NODES[@]}"; do
    gpd_db_pid "$n" >/dev/null || continue
    checked=$((checked + 1))
    if ! gpd_db_sql "$n" "SET SESSION wsrep_sync_wait=1; SELECT id FROM test.w WHERE id >= $D_BASE \
AND id < $((D_BASE + 100000000))" >"$d/$n.raw" 2>"$d/$n.err"; then
      gpd_drill_note "$n could not be read: $(head -c 120 "$d/$n.err")"
      max=unknown
      continue
    fi
    sort -u "$d/$n.raw" >"$d/$n"
    miss=$(comm -23 "$d/acked" "$d/$n" | grep -c .)
    ((miss > 0)) && gpd_drill_note "$n misses $miss acknowledged ids"
    [ "$max" != unknown ] && ((miss > max)) && max=$miss
  done
  if ((checked == 0)); then # no running node: nothing checked is not "nothing lost"
    gpd_drill_note "no running node to check the acknowledged ids on"
    max=unknown
  fi
  echo "$(grep -c . "$d/acked") $max"
}

# gpd_write_nodes: the nodes that took this drill's writes, in time order ("db1>db2").
gpd_write_nodes() {
  local n
  for n in "${GPD_DB_NODES[@]}"; do
    gpd_db_pid "$n" >/dev/null || continue
    gpd_db_sql "$n" "SET SESSION wsrep_sync_wait=1; SELECT node FROM test.w WHERE id >= $D_BASE \
AND id < $((D_BASE + 100000000)) ORDER BY t, id" 2>/dev/null | uniq | paste -sd '>' -
    return
  done
}

# gpd_verdict ...: "ok", or what missed; D_FAIL for what must fail the run.
gpd_verdict() {
  local c_gap=$1 p_gap=$2 c_err=$3 lost=$4 vip_ms=$5 vip_n=$6 wc=$7 nodes=$8
  local miss=() routed
  [ "$lost" = 0 ] || D_FAIL="${D_FAIL:+$D_FAIL; }acknowledged writes lost: $lost"
  if [ "$c_gap" = none ] || [ "$p_gap" = none ]; then
    D_FAIL="${D_FAIL:+$D_FAIL; }writes did not resume"
  fi
  [ -z "$D_AGREE" ] || D_FAIL="${D_FAIL:+$D_FAIL; }$D_AGREE"
  routed=$(gpd_nonprimary_routed)
  if [ -n "$routed" ]; then
    D_FAIL="${D_FAIL:+$D_FAIL; }routed to a node outside the Primary component: $(head -n 1 <<<"$routed")"
    gpd_log "routed outside the Primary component:"$'\n'"$routed"
  fi
  case $D_NAME in
  d1)
    [ "$c_gap" != none ] && [ "$p_gap" != none ] && ((c_gap <= 1000 && p_gap <= 1000)) ||
      miss+=("downtime<=1000")
    ;;
  d2)
    if [ "$GPD_ADVERT" = 1 ]; then
      [ -n "$vip_ms" ] && ((vip_ms <= 3500)) || miss+=("vip_move<=3500")
    else
      [ "$c_gap" != none ] && ((c_gap <= 1500)) || miss+=("downtime<=1500")
    fi
    ;;
  d4)
    [ "$c_err" = 0 ] || miss+=("conn_errors=0")
    ;;
  d7) # the issue's promise for a planned restart: no failed request on the conn client
    [ "$c_err" = 0 ] || D_FAIL="${D_FAIL:+$D_FAIL; }conn client errors: $c_err"
    ;;
  d6)
    [ "$vip_n" = 0 ] || miss+=("no_vip_move")
    [[ "$wc" =~ ^ha1:0\ ha2:0$ ]] || miss+=("no_writer_change")
    ;;
  esac
  # 2, 3, 7: the writer node stays healthy throughout, so a VIP move must not move the writer.
  case $D_NAME in
  d2 | d3 | d7) [[ "$nodes" != *">"* ]] || miss+=("writer_kept") ;;
  esac
  [[ "$D_NAME" == w* ]] && gpd_wp_targets
  gpd_pers_targets
  if declare -F "gpd_targets_$D_NAME" >/dev/null; then "gpd_targets_$D_NAME"; fi
  if ((${#miss[@]})); then
    D_TARGET="miss: ${miss[*]}"
  else
    D_TARGET=${D_TARGET_NOTE:-ok}
  fi
}

# gpd_pers_targets: issue 17's targets for the persistent client (sessions moved to the new
# writer): no error in the planned drills (4 desync, m maintenance), at most the one statement
# in flight when its writer is killed (1, 1n, r*). Uses gpd_verdict's miss and gpd_drill_end's
# p_err. In drill m with moves on, an error of either client fails the run: a planned move
# that an application sees is the bug issue 17 fixes.
# shellcheck disable=SC2154 # p_err and miss belong to the callers (bash's dynamic scope)
gpd_pers_targets() {
  [[ " $GPD_CLIENT_MODES " == *" pers "* ]] || return 0
  case $D_NAME in
  d4) [ "$p_err" = 0 ] || miss+=("pers_errors=0") ;;
  m)
    if [ "$GPD_MOVE" = true ] && [ "$p_err$c_err" != 00 ]; then
      D_FAIL="${D_FAIL:+$D_FAIL; }a planned writer move with moves on: errors conn $c_err, pers $p_err"
    fi
    [ "$p_err" = 0 ] || miss+=("pers_errors=0")
    [ "$c_err" = 0 ] || miss+=("conn_errors=0")
    ;;
  d1 | d1n | r*) ((p_err <= 1)) || miss+=("pers_errors<=1") ;;
  esac
}

# gpd_result_row: append the row (and say it).
gpd_result_row() {
  local verdict=$D_TARGET
  [ -n "$D_FAIL" ] && verdict="FAIL: $D_FAIL"
  [ "$D_EVENT" = 0 ] && R_COLS=(- - - - - - - - - - - - - - - -)
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$D_NAME" "$D_ROUND" "$GPD_ADVERT" \
    "$(printf '%s\t' "${R_COLS[@]}" | sed 's/\t$//')" "$verdict" "${D_NOTES:--}" \
    >>"$GPD_WORK/results.tsv"
  gpd_log "result $D_NAME r$D_ROUND: conn gap/at/err ${R_COLS[0]}/${R_COLS[1]}/${R_COLS[2]}" \
    "pers ${R_COLS[3]}/${R_COLS[4]}/${R_COLS[5]} vip ${R_COLS[7]} ms x${R_COLS[8]}" \
    "writers ${R_COLS[9]} -> ${R_COLS[10]} nodes ${R_COLS[11]} acked ${R_COLS[12]}" \
    "lost ${R_COLS[13]} | $verdict | ${D_NOTES:-}"
  [[ "$D_NAME" == w* ]] && gpd_wp_row "$verdict"
  if [ -n "$D_FAIL" ]; then GPD_FAILED=$((GPD_FAILED + 1)); fi
  if [ "$GPD_STRICT" = 1 ] && [[ "$verdict" == miss* ]]; then GPD_FAILED=$((GPD_FAILED + 1)); fi
}

# ---- the drills -------------------------------------------------------------------------

# drill 1 / 1n: kill -9 the writer node.
gpd_drill_kill_writer() {
  local name=$1 round=$2 w s n
  gpd_drill_begin "$name" "$round" || {
    gpd_drill_end
    return
  }
  w=$(gpd_proxy_writer "$D_MASTER0")
  for n in "${GPD_DB_NODES[@]}"; do
    [ "$n" != "$w" ] && s=$n && break
  done
  gpd_sizewatch_start "$s"
  sleep 0.5
  gpd_event "kill -9 the writer node $w"
  gpd_db_kill "$w"
  gpd_observe
  gpd_drill_note "killed $w"
  if ! ((GPD_KEEP_DAMAGE)) || [ "$name" = d1n ]; then
    gpd_db_restart "$w" >/dev/null || gpd_drill_note "$w did not restart"
  fi
  gpd_drill_end
}

gpd_drill_1() { gpd_drill_kill_writer d1 "$1"; }

# shellcheck disable=SC2034 # GPD_EVICTION is read by gpd_ha_proxy_conf (ha.sh)
gpd_drill_1n() {
  local h
  GPD_EVICTION=false
  for h in "${GPD_HA_HOSTS[@]}"; do gpd_proxy_reload "$h"; done
  sleep 1
  gpd_drill_kill_writer d1n "$1"
  GPD_EVICTION=true
  for h in "${GPD_HA_HOSTS[@]}"; do gpd_proxy_reload "$h"; done
}

# gpd_crash_host HOST: power cut: the port goes down, keepalived and galera-proxy die at once.
gpd_crash_host() {
  local pid
  gpd_topo_unplug "$1"
  gpd_ka_crash "$1"
  pid=$(gpd_proxy_pid "$1") && kill -KILL "$pid"
  return 0
}

# drill 2: crash the MASTER proxy host.
gpd_drill_2() {
  local m
  gpd_drill_begin d2 "$1" degraded || {
    gpd_drill_end
    return
  }
  m=$D_MASTER0
  gpd_event "crash proxy host $m (unplug, keepalived crash, kill -9 galera-proxy)"
  gpd_crash_host "$m"
  gpd_observe
  gpd_drill_note "crashed $m"
  if ! ((GPD_KEEP_DAMAGE)); then
    gpd_ha_up_host "$m" || gpd_drill_note "$m did not come back"
  fi
  gpd_drill_end
}

# drill 3: kill -9 galera-proxy only, on the MASTER; keepalived's check must move the VIP.
gpd_drill_3() {
  local m pid
  gpd_drill_begin d3 "$1" || {
    gpd_drill_end
    return
  }
  m=$D_MASTER0
  pid=$(gpd_proxy_pid "$m")
  gpd_event "kill -9 galera-proxy on $m (pid $pid)"
  kill -KILL "$pid"
  gpd_wait_until "$GPD_MAX_WAIT_S" gpd_clients_acked_after "$D_EVENT"
  sleep 3
  # Back as it would be after a supervisor's restart: it must not pull the VIP back.
  gpd_proxy_start "$m" || gpd_drill_note "galera-proxy on $m did not restart"
  gpd_observe
  gpd_drill_end
}

# drill 4: planned maintenance: desync the writer node for a while.
gpd_drill_4() {
  local w
  gpd_drill_begin d4 "$1" || {
    gpd_drill_end
    return
  }
  w=$(gpd_proxy_writer "$D_MASTER0")
  gpd_event "SET GLOBAL wsrep_desync=ON on the writer $w"
  gpd_db_sql "$w" "SET GLOBAL wsrep_desync=ON" || gpd_drill_note "desync on $w failed"
  sleep 6
  gpd_db_sql "$w" "SET GLOBAL wsrep_desync=OFF" || gpd_drill_note "desync off on $w failed"
  gpd_drill_note "$w desynced for 6 s"
  gpd_observe 4
  gpd_drill_end
}

# drill 5: cut the writer node off (its switch port down): it becomes non-Primary.
gpd_drill_5() {
  local w
  gpd_drill_begin d5 "$1" || {
    gpd_drill_end
    return
  }
  w=$(gpd_proxy_writer "$D_MASTER0")
  gpd_event "unplug the writer node $w"
  gpd_topo_unplug "$w"
  gpd_observe 12
  gpd_drill_note "$w: $(gpd_db_status "$w" wsrep_cluster_status) after 12 s cut off"
  gpd_topo_plug "$w"
  gpd_drill_end
}

# drill 6: bring back what drills 1 and 2 left dead (or kill it here first, unmeasured).
gpd_drill_6() {
  local n h dead_nodes=() dead_hosts=() w m
  for n in "${GPD_DB_NODES[@]}"; do
    gpd_db_pid "$n" >/dev/null || dead_nodes+=("$n")
  done
  for h in "${GPD_HA_HOSTS[@]}"; do
    gpd_proxy_pid "$h" >/dev/null && gpd_ka_pid "$h" >/dev/null || dead_hosts+=("$h")
  done
  if ((${#dead_nodes[@]} + ${#dead_hosts[@]} == 0)); then
    m=$(gpd_wait_master 20)
    w=$(gpd_proxy_writer "$m")
    gpd_log "drill 6 setup: kill -9 the writer $w and crash the master host $m"
    gpd_db_kill "$w"
    gpd_crash_host "$m"
    dead_nodes=("$w")
    dead_hosts=("$m")
    sleep 12
  fi
  gpd_drill_begin d6 "$1" degraded || {
    gpd_drill_end
    return
  }
  gpd_event "restart node(s) ${dead_nodes[*]:-none}, then proxy host(s) ${dead_hosts[*]:-none}"
  for n in "${dead_nodes[@]}"; do
    gpd_db_restart "$n" >/dev/null || gpd_drill_note "$n did not restart"
  done
  for h in "${dead_hosts[@]}"; do
    gpd_ha_up_host "$h" || gpd_drill_note "$h did not come back"
  done
  gpd_drill_note "restarted ${dead_nodes[*]:-} ${dead_hosts[*]:-}"
  # Long enough for the restarted keepalived to settle and any flap to show.
  gpd_observe $((GPD_OBSERVE_S + 4))
  gpd_drill_end
}

# gpd_conn_slowest: "MS N" for the conn client in the window: its slowest acknowledged write
# (connect included) and how many took over 500 ms (the SYNs held back during a planned restart).
gpd_conn_slowest() {
  awk -v ev="$D_EVENT" -v end="$D_END" '$1 == "ok" && $3 >= ev - 2000 && $3 <= end {
      d = $4 - $3; if (d > max) max = d; if (d > 500) slow++ }
    END {print max + 0, slow + 0}' "$(gpd_client_log conn)" 2>/dev/null
}

# drill 7: planned restart of galera-proxy on the MASTER (SIGTERM, then start again).
# The connection-per-write client must see no error: the old proxy keeps serving until the
# VIP has left and meanwhile holds back SYNs to the VIP (a socket filter), so a connect
# started then is retransmitted by the client's kernel (after 1 s, 3 s) and lands on the new
# MASTER. That costs a delay, which the client has to wait for: its connect timeout is 5 s
# here (PHP's default is 60 s).
gpd_drill_7() {
  local m pid t0 slow rc GPD_CONNECT_TIMEOUT_S=5
  gpd_drill_begin d7 "$1" || {
    gpd_drill_end
    return
  }
  m=$D_MASTER0
  pid=$(gpd_proxy_pid "$m")
  gpd_event "SIGTERM galera-proxy on $m (pid $pid), start it again once it has exited"
  t0=$(gpd_now_ms)
  kill -TERM "$pid"
  while kill -0 "$pid" 2>/dev/null &&
    [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ]; do
    if (($(gpd_now_ms) - t0 > 30000)); then
      gpd_drill_note "galera-proxy on $m ignored SIGTERM for 30 s: SIGKILL"
      kill -KILL "$pid"
    fi
    sleep 0.05
  done
  gpd_drill_note "galera-proxy on $m exited $(($(gpd_now_ms) - t0)) ms after SIGTERM"
  rc=$(recorded_rc "$(gpd_ha_dir "$m")/proxy.rc" 5)
  [ "$rc" = 0 ] || D_FAIL="${D_FAIL:+$D_FAIL; }galera-proxy on $m: exit status $rc on SIGTERM"
  gpd_proxy_start "$m" || gpd_drill_note "galera-proxy on $m did not restart"
  gpd_observe
  read -r slow <<<"$(gpd_conn_slowest)"
  gpd_drill_note "conn: slowest write ${slow% *} ms, ${slow#* } over 500 ms"
  gpd_drill_end
}

# ---- WordPress drills -------------------------------------------------------------------

# gpd_wp_drill_begin NAME ROUND: gpd_drill_begin, then the site (set up on first use). The
# callers run only the conn client (local GPD_CLIENT_MODES): the pers client's write every
# 10 ms never leaves its session idle, so a planned writer move would hold new connections for
# the whole drain timeout on its account, which measures that client, not WordPress (d4 and d7
# measure it).
gpd_wp_drill_begin() {
  gpd_drill_begin "$1" "$2" || return 1
  gpd_wp_ensure || {
    D_FAIL="WordPress could not be set up in gpd-cl"
    return 1
  }
}

# gpd_wp_maintenance BACKEND 0|1: POST /backends/BACKEND/maintenance on both proxies, from
# their own hosts (no token needed).
gpd_wp_maintenance() {
  local h code
  for h in "${GPD_HA_HOSTS[@]}"; do
    code=$(gpd_http "$h" "/backends/$1/maintenance?on=$2" -X POST -o /dev/null \
      -w '%{http_code}')
    [ "$code" = 200 ] || gpd_drill_note "maintenance?on=$2 of $1 on $h answered ${code:-nothing}"
  done
}

# gpd_writers_not NODE: both proxies report a writer and it is not NODE.
gpd_writers_not() {
  local h w
  for h in "${GPD_HA_HOSTS[@]}"; do
    w=$(gpd_proxy_writer "$h")
    [ -n "$w" ] && [ "$w" != "$1" ] || return 1
  done
}

# drill w1: planned maintenance of the writer under the WordPress load: maintenance on both
# proxies (the writer moves, its sessions drain), off again after a while (the writer stays).
gpd_drill_w1() {
  local w t0 hold=$((GPD_OBSERVE_S < 8 ? GPD_OBSERVE_S : 8)) GPD_CLIENT_MODES=$GPD_WP_CLIENTS
  gpd_wp_drill_begin w1 "$1" || {
    gpd_drill_end
    return
  }
  w=$(gpd_proxy_writer "$D_MASTER0")
  gpd_wp_load_start $((3 + hold + 3))
  sleep 3
  gpd_event "maintenance on for the writer $w on both proxies"
  t0=$(gpd_now_ms)
  gpd_wp_maintenance "$w" 1
  if gpd_wait_until 10 gpd_writers_not "$w"; then
    gpd_drill_note "$w in maintenance; writer moved within $(($(gpd_now_ms) - t0)) ms"
  else
    gpd_drill_note "$w in maintenance; the writer did not move within 10 s"
  fi
  gpd_sleep_until_ms $((t0 + hold * 1000))
  gpd_wp_maintenance "$w" 0
  gpd_wp_load_wait
  gpd_observe 0
  gpd_drill_end
}

# drill m: planned maintenance move of the writer (issue 17): POST maintenance of the writer
# on both proxies, both clients writing; the writer moves, the persistent session moves with it
# (routing.move_sessions) and must see no error; maintenance off again after a while (the
# writer stays where it went).
gpd_drill_m() {
  local w t0 hold=$((GPD_OBSERVE_S < 8 ? GPD_OBSERVE_S : 8))
  gpd_drill_begin m "$1" || {
    gpd_drill_end
    return
  }
  w=$(gpd_proxy_writer "$D_MASTER0")
  gpd_event "maintenance on for the writer $w on both proxies"
  t0=$(gpd_now_ms)
  gpd_wp_maintenance "$w" 1
  if gpd_wait_until 10 gpd_writers_not "$w"; then
    gpd_drill_note "$w in maintenance; writer moved within $(($(gpd_now_ms) - t0)) ms"
  else
    gpd_drill_note "$w in maintenance; the writer did not move within 10 s"
  fi
  gpd_sleep_until_ms $((t0 + hold * 1000))
  gpd_wp_maintenance "$w" 0
  gpd_observe 2
  gpd_drill_end
}

# drill w2: kill -9 the writer node under the WordPress load (then restarted).
gpd_drill_w2() {
  local w GPD_CLIENT_MODES=$GPD_WP_CLIENTS
  gpd_wp_drill_begin w2 "$1" || {
    gpd_drill_end
    return
  }
  w=$(gpd_proxy_writer "$D_MASTER0")
  gpd_wp_load_start $((3 + GPD_OBSERVE_S))
  sleep 3
  gpd_event "kill -9 the writer node $w"
  gpd_db_kill "$w"
  gpd_wp_load_wait
  gpd_observe 0
  gpd_drill_note "killed $w"
  gpd_db_restart "$w" >/dev/null || gpd_drill_note "$w did not restart"
  gpd_drill_end
}

# drill w3: crash the MASTER proxy host under the WordPress load (drill 2's crash), then back.
# The load goes on until a query stuck on the dead host has hit php's read timeout.
gpd_drill_w3() {
  local m after=$((GPD_WP_READ_TIMEOUT + 5)) GPD_CLIENT_MODES=$GPD_WP_CLIENTS
  ((after > GPD_OBSERVE_S)) || after=$GPD_OBSERVE_S
  gpd_wp_drill_begin w3 "$1" || {
    gpd_drill_end
    return
  }
  m=$D_MASTER0
  gpd_wp_load_start $((3 + after))
  sleep 3
  gpd_event "crash proxy host $m (unplug, keepalived crash, kill -9 galera-proxy)"
  gpd_crash_host "$m"
  gpd_wp_load_wait
  gpd_observe 0
  gpd_drill_note "crashed $m"
  gpd_ha_up_host "$m" || gpd_drill_note "$m did not come back"
  gpd_drill_end
}
