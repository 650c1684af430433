# galera-cluster.sh - the scratch directory, cleanup and 3-node cluster of bench's Galera drills.
# shellcheck shell=bash
# shellcheck disable=SC2034 # LIB and GT_TMP are used by the scripts that source this
#
# Sourced by drill_writer.sh, drill_rejoin.sh and causal.sh after runner_args, with GT_BIN
# checked and say() defined. The caller sets GC_PREFIX (scratch directory /tmp/PREFIX.XXXXXX),
# GC_PROXIES (names of the proxies the cleanup stops) and GC_PORTS (a regex of the listening
# ports of its own proxies, which must be free like the cluster's). Sets up what
# test/integration-galera/lib/gt.sh expects, traps EXIT to stop everything by pid (the scratch
# directory stays on failure or with --keep), and starts the cluster.

GT_WORK=$(mktemp -d "/tmp/$GC_PREFIX.XXXXXX")
chmod 755 "$GT_WORK" # mariadbd runs as mysql and must reach its datadir
GALERA_DIR=$GT_WORK/galera
GT_LOG=$GT_WORK/proxy.log
GT_TMP=$GT_WORK/tmp
mkdir -p "$GT_TMP"
: >"$GT_WORK/pids"
export GT_WORK GALERA_DIR GT_BIN GT_LOG GT_TMP
# shellcheck source=test/integration-galera/lib/gt.sh
. "$ROOT/test/integration-galera/lib/gt.sh"
LIB=$ROOT/test/integration-galera/lib

# shellcheck disable=SC2317 # reached through the trap
cleanup() {
  local rc=$? name
  trap - EXIT INT TERM
  gt_stop_tracked
  for name in $GC_PROXIES; do
    gt_proxy_stop "$name"
  done
  galera_stop "$GALERA_DIR" >>"$GT_WORK/galera.log" 2>&1
  if [ "$KEEP" = 1 ] || [ "$rc" != 0 ]; then
    say "scratch directory kept: $GT_WORK"
  else
    rm -rf "$GT_WORK"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

busy=$(ss -Hltn 2>/dev/null | awk '{print $4}' |
  grep -E ":(331[123]|45[123][123]|$GC_PORTS)\$" || true)
if [ -n "$busy" ]; then
  echo "$(basename "$0"): ports already in use: $(echo "$busy" | tr '\n' ' ')" >&2
  exit 2
fi

say "starting a 3-node cluster in $GALERA_DIR"
galera_start "$GALERA_DIR" >>"$GT_WORK/galera.log" 2>&1 || {
  tail -n 20 "$GT_WORK/galera.log" >&2
  exit 1
}
