#!/usr/bin/env bash
# move.sh - what issue 17 (sessions moved to a new writer) costs: churn and point_select, moves on/off.
#
#   bench/move.sh [--pre17 FILE] [--out FILE] [--no-insert]
#
#   --pre17 FILE  a galera-proxy built from before issue 17 (no learning at login, no session
#                 tracking): a second run sets this branch against it; without it (or
#                 BENCH_MOVE_PRE17; BENCH_MOVE_PRE17_LABEL says what it is) only the on/off
#                 run is made
#   --out FILE    the Markdown section (default bench/RESULTS-move.md)
#   --no-insert   do not put the section into bench/RESULTS.md
#
# Runs bench/run.sh (its MariaDB, ports 3430 and 16436-16437, so it runs under the suite lock
# as make bench does) with two galera-proxy paths interleaved, oltp_point_select at 8 and 64
# threads and connection churn, no idle/profile/count sections:
#   run 1  galera-proxy = routing.move_sessions = true, galera-proxy-b = the same binary with
#          move_sessions = false; both learn logins (auth.user = sb, who may read
#          mysql.global_priv) and ask the server for session tracking, so the difference is
#          the moves' own bookkeeping;
#   run 2  galera-proxy (moves on) against the same binary that may not read mysql.global_priv
#          (the default auth account, monitor, without that grant): it learns nothing, so the
#          difference is learning at login (per login: churn);
#   run 3  (with --pre17) galera-proxy (moves on) against a build from before issue 17: what
#          learning at login and tracking cost per login (churn) and per query (point_select),
#          plus whatever else changed between the two builds.
# Each proxy's /metrics (http_listen 127.0.0.1:16446 / :16447) is read at the end of the load
# to show that the logins were learned (auth_logins_total{result="learned"}), not assumed.
# Knobs: BENCH_TIME (10), BENCH_REPEATS (3), BENCH_CHURN_TIME (5), BENCH_BUILDDIR (build-bench).
# Writes --out, and replaces the "## Session moves" section of bench/RESULTS.md with it.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
OUT=$HERE/RESULTS-move.md
PRE17=${BENCH_MOVE_PRE17:-}
PRE17_LABEL=${BENCH_MOVE_PRE17_LABEL:-} # what that build is (a commit), for the text
INSERT=1
while (($#)); do
  case $1 in
  --pre17)
    PRE17=${2:?}
    shift
    ;;
  --out)
    OUT=${2:?}
    shift
    ;;
  --no-insert) INSERT=0 ;;
  -h | --help)
    sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
    exit 0
    ;;
  *)
    echo "move.sh: unknown argument $1" >&2
    exit 2
    ;;
  esac
  shift
done
[[ -z "$PRE17" || -x "$PRE17" ]] || {
  echo "move.sh: --pre17 $PRE17 is not an executable" >&2
  exit 2
}

# The binary both paths of run 1 use (run.sh builds the same one when BENCH_PROXY_BIN is unset).
ROOT=$(dirname "$HERE")
BD=$ROOT/${BENCH_BUILDDIR:-build-bench}
if [[ -z "${BENCH_PROXY_BIN:-}" ]]; then
  if [[ ! -f "$BD/build.ninja" ]]; then
    (cd "$ROOT" && meson setup "$BD" --buildtype=release -Dwerror=false) >/dev/null
  fi
  ninja -C "$BD" proxy/galera-proxy >/dev/null
  BENCH_PROXY_BIN=$BD/proxy/galera-proxy
fi
export BENCH_PROXY_BIN

TMP=$(mktemp -d /tmp/gp-bench-move.XXXXXX)
SCRAPER=""
# shellcheck disable=SC2317 # reached through the trap
cleanup() {
  if [[ -n "$SCRAPER" ]] && kill -0 "$SCRAPER" 2>/dev/null; then
    kill "$SCRAPER" 2>/dev/null || true
    wait "$SCRAPER" 2>/dev/null || true
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT

AUTH='auth = { user = "sb"; password = "sb"; };'
HTTP_A='http_listen = "127.0.0.1:16446";'
HTTP_B='http_listen = "127.0.0.1:16447";'

# scrape PORT...: keep the last good /metrics answer of each port in $TMP/metrics-PORT while
# the run goes on (run.sh stops its proxies before it returns).
scrape() {
  local p
  while :; do
    for p in "$@"; do
      curl -fsS -m 1 "http://127.0.0.1:$p/metrics" >"$TMP/m.$p" 2>/dev/null &&
        mv "$TMP/m.$p" "$TMP/metrics-$p"
    done
    sleep 1
  done
}

# metric_sum PORT REGEX: the sum of the samples whose name and labels match REGEX.
metric_sum() {
  [[ -s "$TMP/metrics-$1" ]] || {
    echo "?"
    return
  }
  awk -v re="$2" '$1 !~ /^#/ && $1 ~ re { s += $2 } END { printf "%d", s }' \
    "$TMP/metrics-$1"
}

# one_run NAME CONF_B [BIN_B]: run.sh with both paths; its RESULTS into $TMP/NAME.md.
one_run() {
  local name=$1 conf_b=$2 bin_b=${3:-} paths="galera-proxy galera-proxy-b"
  [[ "$name" == onoff ]] && paths="direct $paths"
  rm -f "$TMP"/metrics-*
  scrape 16446 16447 &
  SCRAPER=$!
  echo "move.sh: run $name ($paths)" >&2
  BENCH_PATHS=$paths BENCH_WORKLOADS=oltp_point_select BENCH_THREADS="8 64" \
    BENCH_IDLE_CLIENTS=0 BENCH_PROFILE=0 BENCH_COUNTS=0 BENCH_CAUSAL=0 \
    BENCH_GP_CONF="$AUTH $HTTP_A" BENCH_GP_CONF_B="$conf_b $HTTP_B" \
    BENCH_PROXY_BIN_B=${bin_b:-$BENCH_PROXY_BIN} BENCH_RESULTS="$TMP/$name.md" \
    bash "$HERE/run.sh" >"$TMP/$name.log" 2>&1 || {
    tail -n 20 "$TMP/$name.log" >&2
    echo "move.sh: bench/run.sh failed in run $name" >&2
    return 1
  }
  kill "$SCRAPER" 2>/dev/null || true
  wait "$SCRAPER" 2>/dev/null || true
  SCRAPER=""
  for p in 16446 16447; do
    printf '%s\t%s\t%s\n' "$(metric_sum "$p" '^galera_proxy_auth_logins_total')" \
      "$(metric_sum "$p" '^galera_proxy_auth_logins_total[{].*result="learned"')" \
      "$(metric_sum "$p" '^galera_proxy_sessions_moved_total')" >"$TMP/$name.auth-$p"
  done
}

# tables NAME: the point_select and churn tables of a run.sh report, paths renamed.
tables() {
  local a=$2 b=$3
  awk '/^### oltp_point_select/ { on = 1 } /^## / { on = 0 }
       /^## Connection churn/ { on = 1; print "### connection churn"; next }
       on' "$TMP/$1.md" |
    sed "s/^| galera-proxy-b |/| $b |/; s/^| galera-proxy |/| $a |/"
}

auth_line() {
  local f=$TMP/$1.auth-$2 all learned moved
  read -r all learned moved <"$f" || return 0
  echo "- $3: $all logins on its /metrics (auth_logins_total), $learned of them learned;"
  echo "  sessions moved: $moved."
}

BIN=""
one_run onoff 'routing = { move_sessions = false; }; '"$AUTH"
BIN=$(grep -o 'galera-proxy [0-9][^ ]*' "$TMP/onoff.md" | head -n 1 || true)
one_run nolearn ""
[[ -z "$PRE17" ]] || one_run pre17 "" "$PRE17"

{
  echo "## Session moves (issue 17): what learning, tracking and moves cost"
  echo
  echo "Written by \`bench/move.sh\` on $(date -u '+%F %H:%M UTC') ($(nproc) cores, load average"
  echo "at the end: $(cut -d' ' -f1-3 /proc/loadavg)); ${BIN:-galera-proxy}; bench/run.sh's"
  echo "MariaDB and clients (sysbench oltp_point_select, churn.c), ${BENCH_TIME:-10} s per run,"
  echo "${BENCH_REPEATS:-3} interleaved repeats, medians (min–max). Both proxies learn logins"
  echo "(\`auth.user = sb\`, who may read \`mysql.global_priv\`) and ask the server for session"
  echo "tracking (the server has \`session_track_*\` on, as the docs ask)."
  echo
  echo "**Moves on vs off** (one binary; \`routing.move_sessions\` true / false):"
  echo
  tables onoff "moves on" "moves off"
  echo
  auth_line onoff 16446 "moves on"
  auth_line onoff 16447 "moves off"
  echo
  echo "**Learning on vs off** (one binary, moves on; galera-proxy-b's auth account, monitor,"
  echo "may not read \`mysql.global_priv\`: it learns no login, its sessions are not movable):"
  echo
  tables nolearn "learning" "no learning"
  echo
  auth_line nolearn 16446 "learning"
  auth_line nolearn 16447 "no learning"
  if [[ -n "$PRE17" ]]; then
    echo
    echo "**This build (moves on) vs a build from before issue 17** (no learning at login, no"
    echo "session tracking; $("$PRE17" --version 2>&1 | head -n 1)${PRE17_LABEL:+, $PRE17_LABEL}): the cost of learning per login"
    echo "(churn) and of tracking per query (point_select)."
    echo
    tables pre17 "moves on" "before issue 17"
    echo
    auth_line pre17 16446 "moves on"
  fi
} >"$OUT.new"
mv "$OUT.new" "$OUT"
echo "move.sh: written $OUT" >&2

# bench/RESULTS.md: the section replaced (or added at the end), the rest untouched.
if ((INSERT)) && [[ -f "$HERE/RESULTS.md" ]]; then
  awk -v sec="$OUT" '
    /^## Session moves \(issue 17\)/ { skip = 1; if (!done) { while ((getline l < sec) > 0) print l; print ""; done = 1 }; next }
    skip && /^## / { skip = 0 }
    !skip { print }
    END { if (!done) { print ""; while ((getline l < sec) > 0) print l } }' \
    "$HERE/RESULTS.md" >"$TMP/results.new"
  cat "$TMP/results.new" >"$HERE/RESULTS.md"
  echo "move.sh: section put into $HERE/RESULTS.md" >&2
fi
