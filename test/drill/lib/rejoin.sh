#!/usr/bin/env bash
# rejoin.sh - the restart-delay drills: kill -9 the writer node, restart it after a delay, rejoin.
#
# A supervisor that restarts a killed mariadbd at once gives back part of what the eviction won:
# the new incarnation's join changes Galera's view again, and commits wait while it does. Each
# drill is one cycle through the VIP with both clients writing (lib/drills.sh): kill -9 the
# writer's mariadbd (the proxies evict it and move the writer), wait DELAY seconds, restart it
# as a supervisor would (--wsrep-recover, then mariadbd with the recovered position: IST, not a
# full SST), wait for Synced, 3 s more. Drills:
#   r0.5 r1 r3 r5 r30   one cycle with that restart delay (seconds); "r" runs the five
#   rc                  GPD_REJOIN_CYCLES (10) cycles in a row, restart after 1 s; the writer
#                       moves on each kill, so the killed node alternates (in round 1 only)
# The row's downtime covers kill and rejoin. The notes split it: the longest gap ending before
# the restart (the eviction) and after it (the join), where that gap lay, and Galera's own
# account of the join, from every node's error.log stamped with milliseconds as it is written
# (gpd_glog_start: MariaDB's own stamps have whole seconds): on the node that took the writes,
# the joiner's gcomm connection ("connection established"), the regular view ("declaring ...
# stable"), the primary view and the quorum after it (commits resume); the joiner's IST and
# Synced; the flow-control pause the survivors counted (wsrep_flow_control_paused_ns).
# Correctness (fails the run in every form, --quick included): 0 lost, the writes moved off the
# killed node, the proxies agree on one writer, the killed node rejoined (Synced).
# Target: the longest gap, kill and rejoin, <= 1000 ms on both clients. A gap over it
# that lies inside Galera's view change on the writing node (from the joiner's connection to
# the quorum) is Galera's: the verdict says "galera:" with the times; any other gap over it
# fails the run with why (a miss only in --quick, which checks correctness, not timings).
# Every cycle's stamped log lines (all nodes, 1 s before the kill to the end) are kept in
# $GPD_WORK/rejoin/NAME.rROUND.galera.log.

GPD_REJOIN_DELAYS=${GPD_REJOIN_DELAYS:-"0.5 1 3 5 30"}
GPD_REJOIN_CYCLES=${GPD_REJOIN_CYCLES:-10}
GPD_QUICK=${GPD_QUICK:-0}
RJ_RESTART=0 RJ_INFO="" RJ_KILL=""

gpd_glog() { echo "$(gpd_db_dir "$1")/galera-ms.log"; }

# gpd_glog_start: one follower per node that copies its error.log, each line prefixed with the
# epoch time it was read (polled every 20 ms), to galera-ms.log. Started once, kept running.
gpd_glog_start() {
  local n d
  for n in "${GPD_DB_NODES[@]}"; do
    gpd_pid_of "glog-$n" >/dev/null && continue
    d=$(gpd_db_dir "$n")
    touch "$d/error.log"
    # shellcheck disable=SC2016 # Perl code
    perl -MTime::HiRes=time,sleep -e '
      open(my $f, "<", $ARGV[0]) or die "$ARGV[0]: $!\n";
      seek($f, 0, 2);
      $| = 1;
      my $buf = "";
      for (;;) {
        while (defined(my $l = <$f>)) {
          $buf .= $l;
          next unless $buf =~ /\n\z/;
          printf "%.3f %s", time, $buf;
          $buf = "";
        }
        sleep 0.02;
        seek($f, 0, 1);
      }' "$d/error.log" </dev/null >>"$(gpd_glog "$n")" 2>&1 &
    gpd_track "$!" "glog-$n"
    disown "$!" 2>/dev/null
  done
}

# gpd_glog_first NODE FROM_MS REGEX: epoch ms of NODE's first stamped line at or after FROM_MS
# matching REGEX (awk ERE), "" if none.
gpd_glog_first() {
  awk -v from="$2" -v re="$3" '{ t = int($1 * 1000) } t >= from && $0 ~ re { print t; exit }' \
    "$(gpd_glog "$1")" 2>/dev/null
}

# gpd_fc_paused_ms EXCEPT: wsrep_flow_control_paused_ns summed over the running nodes other
# than EXCEPT (the restarted node's counters start again from 0), in ms.
gpd_fc_paused_ms() {
  local n v s=0
  for n in "${GPD_DB_NODES[@]}"; do
    [ "$n" = "$1" ] && continue
    gpd_db_pid "$n" >/dev/null || continue
    v=$(gpd_db_status "$n" wsrep_flow_control_paused_ns)
    [[ "$v" =~ ^[0-9]+$ ]] && s=$((s + v / 1000000))
  done
  echo "$s"
}

# gpd_rejoin_gaps MODE: "KILL_GAP REJOIN_GAP REJOIN_START REJOIN_END" for one client: the longest
# gap between acknowledged writes (from 2 s before the event to the window's end) that ends
# before the restart, and the longest that ends after it, with that one's bounds (epoch ms).
gpd_rejoin_gaps() {
  local log
  log=$(gpd_client_log "$1")
  [ -f "$log" ] || {
    echo "- - 0 0"
    return
  }
  awk -v ev="$D_EVENT" -v r="$RJ_RESTART" -v end="$D_END" '
    $1 == "ok" {
      if (prev != "" && $4 >= ev - 2000 && prev <= end) {
        g = $4 - prev
        if ($4 < r) { if (g > kg) kg = g }
        else if (g > rg) { rg = g; rs = prev; re = $4 }
      }
      prev = $4
    }
    END { print kg + 0, rg + 0, rs + 0, re + 0 }' "$log"
}

# gpd_rejoin_cycle NAME ROUND DELAY: one kill and restart, one result row.
gpd_rejoin_cycle() {
  local name=$1 round=$2 delay=$3 w nw n v s="" ms t_synced fc0 fc1 lists=""
  gpd_drill_begin "$name" "$round" || {
    gpd_drill_end
    return
  }
  gpd_glog_start
  w=$(gpd_proxy_writer "$D_MASTER0")
  for n in "${GPD_DB_NODES[@]}"; do
    [ "$n" != "$w" ] && [ -z "$s" ] && s=$n
    v=$(gpd_db_status "$n" wsrep_evs_evict_list)
    [ -n "$v" ] && lists="$lists $n:$v"
  done
  [ -n "$lists" ] && gpd_drill_note "evict lists not empty before the kill:$lists"
  gpd_sizewatch_start "$s"
  fc0=$(gpd_fc_paused_ms "$w")
  sleep 0.5
  ms=$(awk -v d="$delay" 'BEGIN { printf "%d", d * 1000 }')
  gpd_event "kill -9 the writer node $w, restart it after $delay s"
  gpd_db_kill "$w"
  gpd_sleep_until_ms $((D_EVENT + ms))
  nw=$(gpd_proxy_writer "$D_MASTER0")
  RJ_RESTART=$(gpd_now_ms)
  if gpd_db_restart "$w" >/dev/null; then
    t_synced=$(($(gpd_now_ms) - RJ_RESTART))
  else
    t_synced=""
    D_FAIL="${D_FAIL:+$D_FAIL; }$w did not rejoin (not Synced after its restart)"
  fi
  sleep 3
  gpd_observe 0
  fc1=$(gpd_fc_paused_ms "$w")
  gpd_rejoin_explain "$w" "${nw:-$s}" "$t_synced" $((fc1 - fc0))
  gpd_drill_end
}

# gpd_rj_rel MS: "+N", ms after the restart ("?" for none).
gpd_rj_rel() { if [ -n "$1" ]; then echo "+$(($1 - RJ_RESTART))"; else echo "?"; fi; }

# gpd_rejoin_explain KILLED WRITER SYNCED_MS FC_MS: the notes and RJ_INFO ("GAP START END EST Q")
# for gpd_targets_r: the gaps, and Galera's join as the node that took the writes logged it.
gpd_rejoin_explain() {
  local w=$1 nw=$2 synced=$3 fc=$4 ck cr cs ce pk pr ps pe gs ge gap est st pv q jd js sel
  local ip=${GPD_IP[$1]}
  read -r ck cr cs ce <<<"$(gpd_rejoin_gaps conn)"
  read -r pk pr ps pe <<<"$(gpd_rejoin_gaps pers)"
  # The worse rejoin gap of the two clients is the one to explain.
  gap=$cr gs=$cs ge=$ce
  if [[ "$pr" =~ ^[0-9]+$ ]] && { ! [[ "$cr" =~ ^[0-9]+$ ]] || ((pr > cr)); }; then
    gap=$pr gs=$ps ge=$pe
  fi
  est=$(gpd_glog_first "$nw" "$RJ_RESTART" "connection established to [0-9a-f-]+ tcp://$ip:")
  st=$(gpd_glog_first "$nw" "${est:-$RJ_RESTART}" "declaring [0-9a-f-]+ at tcp://$ip:[0-9]+ stable")
  pv=$(gpd_glog_first "$nw" "${est:-$RJ_RESTART}" "view[(]view_id[(]PRIM,")
  q=$(gpd_glog_first "$nw" "${pv:-$RJ_RESTART}" "Quorum results")
  jd=$(gpd_glog_first "$w" "$RJ_RESTART" "Shifting JOINER -> JOINED")
  js=$(gpd_glog_first "$w" "$RJ_RESTART" "Shifting JOINED -> SYNCED")
  gpd_drill_note "killed $w, restarted after ${delay:-?} s; the writes went to $nw;" \
    "gap at the kill conn/pers $ck/$pk ms, at the rejoin $cr/$pr ms" \
    "(the longer one $(gpd_rj_rel "$gs")..$(gpd_rj_rel "$ge") ms after the restart); Synced after ${synced:-?} ms"
  gpd_drill_note "Galera on $nw (ms after the restart): joiner connected $(gpd_rj_rel "$est")," \
    "regular view $(gpd_rj_rel "$st"), primary view $(gpd_rj_rel "$pv"), quorum $(gpd_rj_rel "$q");" \
    "joiner JOINED $(gpd_rj_rel "$jd"), SYNCED $(gpd_rj_rel "$js"); flow control paused ${fc} ms;" \
    "load average $(cut -d' ' -f1 /proc/loadavg)"
  RJ_INFO="${gap:-0} ${gs:-0} ${ge:-0} ${est:-0} ${q:-0} $fc"
  RJ_KILL="$ck/$pk"
  # This cycle's stamped lines, every node, 1 s before the kill to the window's end.
  mkdir -p "$GPD_WORK/rejoin"
  sel="$GPD_WORK/rejoin/$D_NAME.r$D_ROUND.galera.log"
  for n in "${GPD_DB_NODES[@]}"; do
    awk -v a=$((D_EVENT - 1000)) -v b="$D_END" -v n="$n" \
      '{ t = int($1 * 1000) } t >= a && t <= b { print n ": " $0 }' "$(gpd_glog "$n")"
  done | sort -s -k2,2n >"$sel"
}

# gpd_targets_r: gpd_verdict's targets for the r drills (it calls them; they extend its miss
# and D_FAIL): the longest gap <= 1000 ms on both clients, unless Galera's view change on the
# writing node holds the rejoin gap (the gap starts no earlier than the joiner's connection and
# ends within 300 ms of the quorum: commits resume just after it).
# shellcheck disable=SC2154,SC2034 # gpd_verdict's locals; D_TARGET_NOTE is read by gpd_verdict
gpd_targets_r() {
  local gap gs ge est q fc why=""
  read -r gap gs ge est q fc <<<"$RJ_INFO"
  # The hand-over, whatever the timings: the writes left the killed node for another one.
  [[ "$nodes" == *">"* ]] ||
    D_FAIL="${D_FAIL:+$D_FAIL; }the writes did not move off the killed node (write nodes: ${nodes:-none})"
  [[ "$c_gap" =~ ^[0-9]+$ ]] && [[ "$p_gap" =~ ^[0-9]+$ ]] && ((c_gap <= 1000 && p_gap <= 1000)) &&
    return 0
  if ((gap > 1000 && est > 0 && q > 0 && gs >= est - 50 && ge <= q + 300)); then
    # Then the kill gap must be the one under 1000 ms for the whole row to be Galera's.
    if ((c_gap <= gap && p_gap <= gap)); then
      D_TARGET_NOTE="galera: the rejoin gap of $gap ms lies inside Galera's view change on the writing node ($((q - est)) ms from the joiner's connection to the quorum)"
      return 0
    fi
  fi
  why="downtime conn/pers $c_gap/$p_gap ms > 1000 (at the kill ${RJ_KILL:-?} ms, at the rejoin $gap ms)"
  if ((est > 0 && q > 0)); then
    why="$why, not inside Galera's view change (+$((est - RJ_RESTART))..+$((q - RJ_RESTART)) ms after the restart; the gap +$((gs - RJ_RESTART))..+$((ge - RJ_RESTART)))"
  else
    why="$why; Galera's log shows no join of the restarted node to set it against"
  fi
  ((fc > 0)) && why="$why; flow control paused $fc ms"
  if ((GPD_QUICK)); then
    miss+=("downtime<=1000")
  else
    D_FAIL="${D_FAIL:+$D_FAIL; }$why"
  fi
}

# gpd_rejoin_vrrp_free: the rejoin drills involve no VRRP; they run at advert_int 1 only.
gpd_rejoin_vrrp_free() {
  [ "$GPD_ADVERT" = 1 ] && return 0
  gpd_log "drill $1: skipped at advert_int $GPD_ADVERT (no VRRP in it; it runs at 1)"
  return 1
}

gpd_rejoin_drill() {
  local d=$1 round=$2
  gpd_rejoin_vrrp_free "r$d" || return 0
  gpd_rejoin_cycle "r$d" "$round" "$d"
}

# The drill names: gpd_drill_r0.5 ... gpd_drill_r30, gpd_drill_r (all five), gpd_drill_rc.
for _d in 0.5 1 3 5 30; do
  eval "gpd_drill_r$_d() { gpd_rejoin_drill $_d \"\$1\"; }"
  eval "gpd_targets_r$_d() { gpd_targets_r; }"
done
unset _d
gpd_drill_r() {
  local d
  for d in $GPD_REJOIN_DELAYS; do
    gpd_rejoin_drill "$d" "$1"
  done
}
gpd_targets_rc() { gpd_targets_r; }
gpd_drill_rc() {
  local i
  gpd_rejoin_vrrp_free rc || return 0
  if (($1 > 1)); then
    gpd_log "drill rc: its $GPD_REJOIN_CYCLES cycles ran in round 1"
    return 0
  fi
  for ((i = 1; i <= GPD_REJOIN_CYCLES; i++)); do
    gpd_rejoin_cycle rc "$i" 1
  done
}
