#!/usr/bin/env bash
# run.sh - failover drills: 3 Galera nodes, two galera-proxy + keepalived hosts, a VIP, a client.
#
#   test/drill/run.sh [--quick] [--rounds N] [--drills LIST] [--advert-int "1 0.2"]
#                     [--galera default|recommended] [--no-vip-local] [--no-move] [--build DIR]
#                     [--results FILE | --no-results] [--strict] [--keep]
#                     [--cleanup | --cleanup-only]
#
#   --quick          make test's short form: one round of drills 1 2 6 3 3s 4 m 5 7 r1 w1 at
#                    advert_int 1 with 6 s windows (about 4 minutes on 2 cores); it checks
#                    correctness, and reports timings without failing on them
#   --rounds N       rounds of the drill list per advert_int (default 10; --quick: 1)
#   --drills LIST    which drills, in order, e.g. "1 2 6 3 4 5 7" or "w1,w2,w3" (default:
#                    1 1n 2 6 3 3s 4 m 5 5p 5f 7 r rc w1 w2 w3)
#                    1 kill -9 writer node, 1n same with eviction off, 2 crash MASTER proxy
#                    host, 3 kill -9 galera-proxy on MASTER, 4 desync writer, 5 cut writer
#                    node off, 6 restart old writer + old MASTER host, 7 SIGTERM MASTER proxy,
#                    m maintenance of the writer on both proxies (its sessions move);
#                    with WordPress (nginx + php-fpm on the client host) under load: w1
#                    maintenance of the writer on both proxies, w2 kill -9 writer node, w3
#                    crash MASTER proxy host; 3s kill -9 galera-proxy on the MASTER with the
#                    proxies under vrrp-hooks/supervise (lib/supervised.sh), 5p cut the
#                    writer node off its Galera peers only, 5f freeze a non-writer node
#                    (lib/partition.sh); r0.5 r1 r3 r5 r30 kill -9 the writer node and
#                    restart it after that many seconds, r all five, rc 10 such cycles in a
#                    row at 1 s (lib/rejoin.sh; advert_int 1 only, rc in round 1 only)
#   --advert-int L   keepalived advert_int values to run the rounds with, in order: 1
#                    (VRRPv2) and/or 0.2 (VRRPv3); default "1 0.2", --quick "1"
#   --galera P       the Galera timeouts the cluster runs with: default (Galera's own) or
#                    recommended (the evs.* options of docker/mariadb/galera.cnf)
#   --no-move        the proxies run with routing.move_sessions = false (for comparison:
#                    issue 17's moves off, sessions are closed at a writer change as before)
#   --no-vip-local   leave out the proxy hosts' vrrp-hooks/vip-local setup (to measure what
#                    it brings; with it a host the VIP has left refuses a connect to it)
#   --build DIR      meson build directory with proxy/galera-proxy (default: build-drill)
#   --results FILE   where the Markdown table goes (default test/drill/RESULTS.md)
#   --strict         a missed target (downtime, VIP move, errors) fails the run too
#   --keep           keep the work directory (logs, datadirs) even after success
#   --cleanup        first remove what a crashed run left (gpd-* namespaces, the processes
#                    recorded in /run/gpd-drill/pids); --cleanup-only does that and exits
#
# Needs root (namespaces), keepalived, mariadbd + galera-4, php with mysqli, curl; the w drills
# also wordpress, nginx, php-fpm, php-curl.
# Exit status: 0 when every drill ran and passed its correctness checks (lib/drills.sh: no
# acknowledged write nor WordPress post or comment lost, the proxies agree on one writer,
# nothing routed to a node outside the Primary component, ...), the final check found every
# acknowledged write on every node, and both proxies exit 0 on SIGTERM at the end with no
# sanitizer report (and, with --strict, every timing target was met); 1 otherwise; 2 for
# usage, or a refused start.
# Everything runs inside namespaces gpd-*: nothing is added to the root namespace, and the EXIT
# trap stops every process the run started (by recorded pid) and deletes the namespaces.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=test/drill/lib/common.sh
. "$HERE/lib/common.sh"
# shellcheck source=test/drill/lib/topo.sh
. "$HERE/lib/topo.sh"
# shellcheck source=test/drill/lib/db.sh
. "$HERE/lib/db.sh"
# shellcheck source=test/drill/lib/ha.sh
. "$HERE/lib/ha.sh"
# shellcheck source=test/drill/lib/drills.sh
. "$HERE/lib/drills.sh"
# shellcheck source=test/drill/lib/wordpress.sh
. "$HERE/lib/wordpress.sh"
# shellcheck source=test/lib/procs.sh
. "$GPD_ROOT/test/lib/procs.sh"
# shellcheck source=test/lib/sanitizers.sh
. "$GPD_ROOT/test/lib/sanitizers.sh"
sanitizer_env
# shellcheck source=test/drill/lib/supervised.sh
. "$HERE/lib/supervised.sh"
# shellcheck source=test/drill/lib/partition.sh
. "$HERE/lib/partition.sh"
# shellcheck source=test/drill/lib/rejoin.sh
. "$HERE/lib/rejoin.sh"

ROUNDS=10
DRILLS="1 1n 2 6 3 3s 4 m 5 5p 5f 7 r rc w1 w2 w3"
ADVERTS="1 0.2"
adverts_set=0
QUICK=0
BUILD=$GPD_ROOT/build-drill
RESULTS=$HERE/RESULTS.md
KEEP=0
CLEANUP=0
CLEANUP_ONLY=0
rounds_set=0
drills_set=0

usage() {
  sed -n '2,/^set -uo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
  exit "${1:-2}"
}

while (($#)); do
  case $1 in
  --quick) QUICK=1 ;;
  --no-vip-local) GPD_VIP_LOCAL=0 ;;
  --no-move) GPD_MOVE=false ;;
  --rounds)
    ROUNDS=${2:?}
    rounds_set=1
    shift
    ;;
  --drills)
    DRILLS=${2:?}
    drills_set=1
    shift
    ;;
  --advert-int)
    ADVERTS=${2:?}
    adverts_set=1
    shift
    ;;
  --galera)
    GPD_GALERA=${2:?}
    shift
    ;;
  --build)
    BUILD=${2:?}
    shift
    ;;
  --results)
    RESULTS=${2:?}
    shift
    ;;
  --no-results) RESULTS="" ;;
  --strict) GPD_STRICT=1 ;;
  --keep) KEEP=1 ;;
  --cleanup) CLEANUP=1 ;;
  --cleanup-only) CLEANUP_ONLY=1 ;;
  -h | --help) usage 0 ;;
  *)
    echo "run.sh: unknown argument $1" >&2
    usage 2
    ;;
  esac
  shift
done
if ((QUICK)); then
  ((rounds_set)) || ROUNDS=1
  ((drills_set)) || DRILLS="1 2 6 3 3s 4 m 5 7 r1 w1"
  ((adverts_set)) || ADVERTS=1
  GPD_OBSERVE_S=6
  GPD_QUICK=1
fi
[[ "$ROUNDS" =~ ^[0-9]+$ ]] || usage 2
for a in $ADVERTS; do
  case $a in 1 | 0.2) ;; *) usage 2 ;; esac
done
GPD_ADVERT=${ADVERTS%% *}
GPD_GALERA_OPTS=$(gpd_galera_options "$GPD_GALERA") || usage 2
DRILLS=${DRILLS//,/ }
for d in $DRILLS; do
  declare -F "gpd_drill_$d" >/dev/null || {
    echo "run.sh: no drill '$d'" >&2
    exit 2
  }
done
[[ "$BUILD" = /* ]] || BUILD=$GPD_ROOT/$BUILD
GPD_PROXY_BIN=$BUILD/proxy/galera-proxy
GPD_FAILED=0

[ "$(id -u)" = 0 ] || {
  echo "run.sh: needs root (network namespaces)" >&2
  exit 2
}

# One runner at a time; a live run's leftovers are not leftovers. (Not flock: every process
# the run starts would inherit the lock and hold it after a crash of the runner.)
mkdir -p "$GPD_STATE" && chmod 700 "$GPD_STATE"
if read -r rpid rst 2>/dev/null <"$GPD_STATE/runner" && gpd_is_ours "$rpid" "$rst"; then
  echo "run.sh: another drill run (pid $rpid) is active" >&2
  exit 2
fi
echo "$$ $(gpd_starttime $$)" >"$GPD_STATE/runner"

# cleanup_leftovers: a crashed run's recorded processes, then anything still inside gpd-*
# namespaces (only a drill run creates them), then the namespaces.
cleanup_leftovers() {
  local old
  gpd_stop_all_tracked
  gpd_ns_sweep
  gpd_ns_delete_all
  old=$(cat "$GPD_STATE/work" 2>/dev/null)
  [ -n "$old" ] && [ -d "$old" ] && echo "run.sh: the crashed run's files are in $old" >&2
  rm -f "$GPD_STATE/work"
}

leftovers=$(gpd_existing_ns | tr '\n' ' ')
if ((CLEANUP || CLEANUP_ONLY)); then
  cleanup_leftovers
  if ((CLEANUP_ONLY)); then
    rm -f "$GPD_STATE/runner"
    exit 0
  fi
elif [ -n "$leftovers" ] || gpd_tracked_alive; then
  echo "run.sh: a previous run left namespaces [${leftovers% }] or live processes recorded" \
    "in $GPD_STATE/pids; run with --cleanup to remove them" >&2
  exit 2
fi

for tool in ip keepalived mariadbd mariadb mariadb-install-db php curl flock rsync; do
  command -v "$tool" >/dev/null || {
    echo "run.sh: $tool not found (test/lib/deps.sh installs the dependencies)" >&2
    exit 2
  }
done
[ -x "$GPD_PROXY_BIN" ] || {
  echo "run.sh: no $GPD_PROXY_BIN (meson setup $BUILD && ninja -C $BUILD)" >&2
  exit 2
}

GPD_WORK=$(mktemp -d /tmp/gpd-drill.XXXXXX)
chmod 755 "$GPD_WORK" # mariadbd runs as mysql and must reach its datadir
echo "$GPD_WORK" >"$GPD_STATE/work"
: >"$GPD_STATE/pids"
: >"$GPD_WORK/vrrp-events.log"
: >"$GPD_WORK/results.tsv"
: >"$GPD_WORK/wp-results.tsv"
: >"$GPD_WORK/wp-verdicts"
head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$GPD_WORK/token"
chmod 600 "$GPD_WORK/token"
T_START=$(gpd_now_ms)

# shellcheck disable=SC2317 # reached through the trap
on_exit() {
  local rc=$?
  trap - EXIT INT TERM
  gpd_log "tearing down"
  gpd_wp_stop
  gpd_stop_all_tracked
  gpd_ns_sweep
  gpd_ns_delete_all
  rm -f "$GPD_STATE/work" "$GPD_STATE/runner"
  if ((rc != 0 || GPD_FAILED || KEEP)); then
    gpd_log "work directory kept: $GPD_WORK"
  else
    rm -rf "$GPD_WORK"
  fi
  exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT TERM

gpd_log "work directory $GPD_WORK; drills [$DRILLS] x $ROUNDS, advert_int [$ADVERTS]," \
  "proxy $GPD_PROXY_BIN"
gpd_topo_up || gpd_die "could not build the topology"
gpd_db_bootstrap || gpd_die "could not start the Galera cluster"
gpd_ha_bootstrap || gpd_die "could not start the proxies and keepalived"
GPD_EVS_EFFECTIVE=$(gpd_galera_effective)
gpd_log "Galera timeouts ($GPD_GALERA): $GPD_EVS_EFFECTIVE"

# Drills 1 and 2 leave their damage to drill 6 when it comes later in the same round.
keep_for_6() {
  local after=0 d
  for d in $DRILLS; do
    [ "$d" = "$1" ] && after=1 && continue
    ((after)) && [ "$d" = 6 ] && return 0
  done
  return 1
}

for advert in $ADVERTS; do
  if [ "$advert" != "$GPD_ADVERT" ]; then
    GPD_ADVERT=$advert
    gpd_log "keepalived again with advert_int $GPD_ADVERT"
    if ! { { gpd_db_healthy || gpd_db_repair; } && gpd_ha_repair && gpd_ka_restart_all; }; then
      gpd_die "could not restart keepalived with advert_int $GPD_ADVERT"
    fi
  fi
  for ((round = 1; round <= ROUNDS; round++)); do
    for d in $DRILLS; do
      GPD_KEEP_DAMAGE=0
      case $d in 1 | 2) keep_for_6 "$d" && GPD_KEEP_DAMAGE=1 ;; esac
      "gpd_drill_$d" "$round"
    done
    GPD_KEEP_DAMAGE=0
  done
done

# Finally every acknowledged write of the whole run must be on all three nodes.
gpd_log "final check: every acknowledged id of the run on every node"
final_note=""
if gpd_db_repair; then
  cat "$GPD_WORK"/clients/*.conn.log "$GPD_WORK"/clients/*.pers.log 2>/dev/null |
    awk '$1 == "ok" {print $2}' | sort -u >"$GPD_WORK/all-acked"
  for n in "${GPD_DB_NODES[@]}"; do
    gpd_db_sql "$n" "SET SESSION wsrep_sync_wait=1; SELECT id FROM test.w" | sort -u \
      >"$GPD_WORK/all-$n"
    nmiss=$(comm -23 "$GPD_WORK/all-acked" "$GPD_WORK/all-$n" | grep -c .)
    final_note="$final_note $n: $nmiss missing;"
    ((nmiss == 0)) || GPD_FAILED=$((GPD_FAILED + 1))
  done
  if [ ! -s "$GPD_WORK/all-acked" ]; then # nothing to compare: the check would prove nothing
    final_note="$final_note no write was acknowledged in the whole run;"
    GPD_FAILED=$((GPD_FAILED + 1))
  fi
  final_note="$(grep -c . "$GPD_WORK/all-acked") acknowledged ids in all;$final_note"
  gpd_wp_final_check
  final_note="$final_note$GPD_WP_FINAL"
else
  final_note="the cluster could not be brought back to 3 nodes for the final check"
  GPD_FAILED=$((GPD_FAILED + 1))
fi

# The proxies stop as a service manager would stop them: SIGTERM, exit 0, no sanitizer report.
for h in "${GPD_HA_HOSTS[@]}"; do
  if ! pid=$(gpd_proxy_pid "$h"); then
    final_note="$final_note galera-proxy on $h was not running at the end;"
    GPD_FAILED=$((GPD_FAILED + 1))
    continue
  fi
  gpd_stop_pid "$pid" 20
  if problems=$(proxy_exit_problems "$(recorded_rc "$(gpd_ha_dir "$h")/proxy.rc" 5)" \
    "$(gpd_ha_dir "$h")/proxy.log"); then
    final_note="$final_note galera-proxy on $h: exit 0 on SIGTERM;"
  else
    final_note="$final_note galera-proxy on $h: $problems;"
    GPD_FAILED=$((GPD_FAILED + 1))
  fi
done
gpd_log "final check: $final_note"

# ---- the table ----------------------------------------------------------------------------

HEAD=(drill round advert "conn downtime ms" "conn gap at ms" "conn errors"
  "pers downtime ms" "pers gap at ms" "pers errors" 1213s "VIP move ms" "MASTER changes"
  "writer changes" "writers after ha1/ha2" "write nodes" acked lost "cert fail Δ" "bf abort Δ"
  verdict notes)

md_table() {
  local IFS=$'\t'
  echo "| ${HEAD[*]} |" | sed 's/\t/ | /g'
  printf '|%s\n' "$(printf -- '---|%.0s' "${HEAD[@]}")"
  sed 's/|/\\|/g; s/\t/ | /g; s/^/| /; s/$/ |/' "$GPD_WORK/results.tsv"
}

# summary: per drill and advert_int over the rounds: median / max of the downtimes and of the
# VIP moves, sums of errors and losses, counts of missed targets and failures.
summary() {
  printf 'drill\tadvert\truns\tconn downtime med/max\tpers downtime med/max\tconn err\t'
  printf 'pers err\tVIP move med/max\tlost\tmissed targets\tfailed\n'
  awk -F'\t' '
    function medmax(k, n,   i, j, t, a) {
      if (n == 0) return "-"
      for (i = 1; i <= n; i++) a[i] = V[k, i]
      for (i = 1; i <= n; i++)
        for (j = i + 1; j <= n; j++)
          if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
      return a[int((n + 1) / 2)] "/" a[n]
    }
    {
      k = $1 "\t" $3
      if (!(k in runs)) order[++nk] = k
      runs[k]++
      if ($4 ~ /^[0-9]+$/) V[k "c", ++nc[k]] = $4 + 0
      if ($7 ~ /^[0-9]+$/) V[k "p", ++np[k]] = $7 + 0
      if ($11 ~ /^[0-9]+$/) V[k "v", ++nv[k]] = $11 + 0
      ce[k] += $6; pe[k] += $9; lost[k] += $17
      if ($20 ~ /^miss/) miss[k]++
      if ($20 ~ /^FAIL/) fail[k]++
    }
    END {
      for (i = 1; i <= nk; i++) {
        k = order[i]
        printf "%s\t%d\t%s\t%s\t%d\t%d\t%s\t%d\t%d\t%d\n", k, runs[k], medmax(k "c", nc[k]),
          medmax(k "p", np[k]), ce[k], pe[k], medmax(k "v", nv[k]), lost[k], miss[k], fail[k]
      }
    }' "$GPD_WORK/results.tsv"
}

echo
echo "Drill results ($(date -u +%FT%TZ), advert_int [$ADVERTS], $ROUNDS round(s)," \
  "$((($(gpd_now_ms) - T_START) / 1000)) s):"
{
  printf '%s\t' "${HEAD[@]:0:20}"
  echo
  cut -f1-20 "$GPD_WORK/results.tsv"
} | column -t -s $'\t'
awk -F'\t' '$21 != "-" {print "  " $1 " r" $2 ": " $21}' "$GPD_WORK/results.tsv"
if [ -s "$GPD_WORK/wp-results.tsv" ]; then
  echo
  echo "WordPress drills:"
  gpd_wp_table
  if ((ROUNDS > 1)); then
    echo
    gpd_wp_rounds_summary | column -t -s $'\t'
  fi
fi
if ((ROUNDS > 1)); then
  echo
  summary | column -t -s $'\t'
fi
echo
echo "final: $final_note"

if [ -n "$RESULTS" ]; then
  {
    echo "# Failover drill results"
    echo
    echo "Written by \`test/drill/run.sh\` on $(date -u '+%F %T UTC') ($(uname -n)," \
      "$(nproc) cores, load average at the end: $(cut -d' ' -f1-3 /proc/loadavg))."
    echo "Command: \`test/drill/run.sh$( ((QUICK)) && echo ' --quick')$([ "$GPD_MOVE" = false ] && echo ' --no-move') --rounds $ROUNDS" \
      "--drills '$DRILLS' --advert-int '$ADVERTS' --galera $GPD_GALERA\`" \
      "(evs: ${GPD_EVS_EFFECTIVE:-?});" \
      "proxy $("$GPD_PROXY_BIN" --version 2>&1 | head -n 1);" \
      "keepalived $(keepalived --version 2>&1 | head -n 1 | awk '{print $2}');" \
      "took $((($(gpd_now_ms) - T_START) / 1000)) s."
    echo
    echo "Drills: 1 kill -9 the writer node; 1n the same with the proxies' eviction off;"
    echo "2 crash the MASTER proxy host (port down, keepalived crashed as in the recipe,"
    echo "galera-proxy kill -9); 3 kill -9 galera-proxy on the MASTER (then restarted);"
    echo "4 wsrep_desync=ON on the writer for 6 s; 5 the writer node's switch port down for"
    echo "12 s; 6 restart the node and the host that 1 and 2 left dead; 7 SIGTERM galera-proxy"
    echo "on the MASTER and start it again; m maintenance of the writer on both proxies (off"
    echo "again after ${GPD_OBSERVE_S} s at most 8; routing.move_sessions = $GPD_MOVE); 3s drill 3 with both proxies under"
    echo "vrrp-hooks/supervise and keepalived tracking its file (restarted by supervise);"
    echo "5p the writer node cut off from its Galera peers only (the proxies still reach it)"
    echo "for 12 s; 5f a node that is not the writer frozen (SIGSTOP) for $GPD_FREEZE_S s;"
    echo "r0.5 r1 r3 r5 r30 kill -9 the writer node and restart it (recovered position, IST)"
    echo "after that many seconds; rc $GPD_REJOIN_CYCLES such cycles in a row at 1 s, the killed node"
    echo "alternating (lib/rejoin.sh: their notes split the gap into kill and rejoin and give"
    echo "Galera's own times for the join, from its logs stamped in ms)."
    echo "Two clients write through the VIP every 10 ms:"
    echo "conn = a connection per write, pers = one persistent session that carries state (USE"
    echo "test, SET NAMES, sql_mode, time_zone, isolation level, two prepared statements), writes"
    echo "with its prepared INSERT and reads the state back after each write: a value that"
    echo "changed counts as an error (\"state\"). The notes name the pers client's failed"
    echo "statements (insert, check, setup, connect: errno, message, count) and the proxies'"
    echo "session moves."
    echo
    echo "Columns: downtime = the longest gap between consecutive acknowledged writes from"
    echo "2 s before the event to the end of the window (10-50 ms: no outage); gap at = where"
    echo "that gap began, relative to the event; VIP move = event to the MASTER notify on the other"
    echo "host; writer changes = \`writer_change\` lines per proxy log (a proxy's first choice"
    echo "after a start not counted); write nodes = the nodes that took the drill's writes, in"
    echo "time order; lost = acknowledged ids missing on a running node (must be 0); cert fail /"
    echo "bf abort Δ = wsrep_local_cert_failures / wsrep_local_bf_aborts summed over nodes."
    echo "Targets: 1 downtime ≤ 1000 ms; 2 VIP move ≤ 3500 ms (advert_int 1) or downtime"
    echo "≤ 1500 ms (0.2); 4 and 7 no error on the conn client; 6 no VIP move, no writer change;"
    echo "issue 17 (pers): 4 and m no error, 1, 1n and r* at most 1 error (the statement in"
    echo "flight at the kill); m with moves on FAILs on any error of either client;"
    echo "3s VIP move ≤ 500 ms (advert_int 1), downtime ≤ 1000 ms, conn errors < 127, and it"
    echo "fails unless the VIP moved and one node took the writes; r*: downtime ≤ 1000 ms, a"
    echo "row over it FAILs unless its rejoin gap lies inside Galera's view change on the writing"
    echo "node (verdict \"galera: ...\"), and fails if the writes stayed on the killed node or it did"
    echo "not rejoin; every drill fails if a proxy kept or made a writer of a node it had logged"
    echo "non-Primary."
    echo
    echo "w1-w3: WordPress (Debian's, nginx + php-fpm on the client host, DB_HOST = the VIP)"
    echo "under load.php ($GPD_WP_CONCURRENCY requests in flight, 30 % REST writes of posts and"
    echo "comments) while: w1 the writer is put in maintenance on both proxies (and taken out"
    echo "again), w2 the writer node is killed (-9), w3 the MASTER proxy host crashes as in 2."
    echo "The conn client writes as in the other drills (first table; pers does not run: its"
    echo "never-idle session would hold a planned writer move for the drain timeout). The"
    echo "WordPress figures are in the second table: failed = no answer, a database error page"
    echo "or an unexpected status; failing window = a run of failed requests with no success"
    echo "between them; failed at = the first failed request's start to the last one's end,"
    echo "from the event; lost = acknowledged (201) posts + comments missing through REST, the"
    echo "VIP or a node. Targets: w1 no failed request; w2 longest failing window ≤ 1000 ms;"
    echo "w3 every failed request ended after the event and had started before the VIP move;"
    echo "all: nothing lost (else FAIL)."
    echo
    md_table
    if [ -s "$GPD_WORK/wp-results.tsv" ]; then
      echo
      echo "## WordPress drills"
      echo
      gpd_wp_table md
      if ((ROUNDS > 1)); then
        echo
        gpd_wp_rounds_summary | sed 's/\t/ | /g; s/^/| /; s/$/ |/' |
          sed '1a|---|---|---|---|---|---|---|---|---|---|'
      fi
    fi
    if ((ROUNDS > 1)); then
      echo
      echo "## Summary per drill"
      echo
      summary | sed 's/\t/ | /g; s/^/| /; s/$/ |/' |
        sed '1a|---|---|---|---|---|---|---|---|---|---|---|'
    fi
    echo
    echo "Final check: $final_note"
  } >"$RESULTS.new" && mv "$RESULTS.new" "$RESULTS"
  echo "written: $RESULTS"
fi

((GPD_FAILED == 0))
