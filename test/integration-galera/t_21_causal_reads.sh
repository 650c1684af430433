#!/usr/bin/env bash
# t_21_causal_reads.sh - routing.ro_causal_reads: a read on listen_ro sees the write just committed.
#
# A big UPDATE after another through the writer keeps the readers' apply queues busy; a client
# writes a row through listen and reads it at once through listen_ro, GT_CAUSAL_N times. With
# the key off some reads must be stale (else the load did not keep the readers behind and the
# test proves nothing); after a reload (SIGHUP) that turns it on, new sessions must never be.
set -uo pipefail
# shellcheck source=test/integration-galera/lib/gt.sh
. "$(dirname "$0")/lib/gt.sh"
gt_scenario_init

N=${GT_CAUSAL_N:-1000}
ROWS=${GT_CAUSAL_ROWS:-3000} # rows every big UPDATE rewrites (~0.6 MB write set)
CONF=$GT_TMP/proxy-causal.conf

# causal_conf VALUE: the suite's configuration with routing.ro_causal_reads = VALUE.
causal_conf() {
  gt_proxy_conf "$CONF.tmp" || return 1
  sed "s/^routing = {\$/routing = {\n  ro_causal_reads = $1;/" "$CONF.tmp" >"$CONF.new" &&
    mv "$CONF.new" "$CONF" && rm -f "$CONF.tmp"
  grep -q "ro_causal_reads = $1;" "$CONF"
}

# json_field FILE KEY: a top-level value of the JSON line in FILE (objects as JSON).
json_field() {
  php -r '$j = json_decode((string)file_get_contents($argv[1]), true);
    $v = $j[$argv[2]] ?? null; echo is_array($v) ? json_encode($v) : (string)$v;' "$1" "$2"
}

# causal_round TAG BASE: the write-then-read loop under the big-update load; prints the JSON file.
causal_round() {
  local tag=$1 base=$2 out=$GT_TMP/causal-$1.json lpid
  php "$GT_LIB/bigupdate.php" 127.0.0.1 "$GT_PORT" t_causal_big 600 >"$GT_TMP/load-$tag.out" 2>&1 &
  lpid=$!
  gt_track "$lpid"
  sleep 1
  php "$GT_LIB/causal.php" 127.0.0.1 "$GT_PORT" "$GT_RO_PORT" t_causal "$base" "$N" \
    >"$out" 2>"$GT_TMP/causal-$tag.err"
  local rc=$?
  gt_stop_pid "$lpid"
  wait "$lpid" 2>/dev/null
  [ "$rc" = 0 ] || gt_notok "$tag: causal.php failed (exit $rc): $(tail -n 2 "$GT_TMP/causal-$tag.err")"
  gt_info "$tag: $(cat "$out") load $(cat "$GT_TMP/load-$tag.out")"
  echo "$out" >"$GT_TMP/last-round"
}

gt_sql "$GT_PORT" "DROP TABLE IF EXISTS t_causal_big, t_causal;
  CREATE TABLE t_causal_big (id INT PRIMARY KEY, v INT NOT NULL, pad CHAR(200) NOT NULL);
  CREATE TABLE t_causal (id BIGINT PRIMARY KEY, v INT NOT NULL);
  INSERT INTO t_causal_big SELECT seq, 0, '' FROM seq_1_to_$ROWS" ||
  gt_notok "create and fill t_causal_big ($ROWS rows)"

# ---- off: stale reads must happen, or the load proves nothing ----------------------------
causal_conf false || gt_notok "write the configuration (ro_causal_reads = false)"
gt_proxy_stop main
gt_proxy_start main "$CONF" "$GT_PORT" || gt_notok "start the proxy with ro_causal_reads = false"
causal_round off 1000000
out=$(cat "$GT_TMP/last-round")
ro=$(json_field "$out" ro_node)
rw=$(json_field "$out" rw_node)
gt_ne "$rw" "${ro:-none}" "off: the read-only session is on a reader, not on the writer ($rw)"
gt_eq 0 "$(json_field "$out" ro_sync_wait)" "off: listen_ro sessions run with wsrep_sync_wait=0"
gt_eq "$N" "$(json_field "$out" n)" "off: every write and read succeeded"
stale=$(json_field "$out" stale)
if [[ "$stale" =~ ^[0-9]+$ ]] && [ "$stale" -gt 0 ]; then
  gt_ok "off: the readers were kept behind: $stale of $N reads were stale"
else
  gt_notok "off: no stale read in $N (got [$stale]): the load did not keep the readers behind," \
    "so the 'on' round would prove nothing"
fi
off_ms=$(json_field "$out" read_ms)

# ---- on, by a reload: new sessions read their own writes --------------------------------
from=$(gt_log_lines)
causal_conf true || gt_notok "write the configuration (ro_causal_reads = true)"
kill -HUP "$(gt_proxy_pid main)"
gt_match "changed=[a-z_.,]*routing.ro_causal_reads" \
  "$(gt_log_wait "$from" 'event=reload_done' 10)" "SIGHUP: the reload applied routing.ro_causal_reads"
causal_round on 2000000
out=$(cat "$GT_TMP/last-round")
ro=$(json_field "$out" ro_node)
rw=$(json_field "$out" rw_node)
gt_ne "$rw" "${ro:-none}" "on: the read-only session is on a reader, not on the writer ($rw)"
gt_eq 1 "$(json_field "$out" ro_sync_wait)" "on: new listen_ro sessions run with wsrep_sync_wait=1"
gt_eq "$N" "$(json_field "$out" n)" "on: every write and read succeeded"
gt_eq 0 "$(json_field "$out" stale)" "on: no stale read in $N"
gt_info "read latency under the load (ms), off: $off_ms; on: $(json_field "$out" read_ms)"

# COM_CHANGE_USER resets session variables: the proxy sets it again (as READ ONLY).
r=$(php -r '$m = new mysqli("127.0.0.1", "app", "app", "test", (int)$argv[1]);
  $m->query("SET SESSION wsrep_sync_wait = 0");
  if (!$m->change_user("app", "app", "test")) { echo "change_user failed: ", $m->error; exit; }
  echo implode(" ", $m->query("SELECT @@wsrep_sync_wait, @@tx_read_only")->fetch_row());' \
  "$GT_RO_PORT" 2>&1)
gt_eq "1 1" "$r" "on: after COM_CHANGE_USER the session has wsrep_sync_wait=1 and is read-only"
# The read-write endpoint is left alone.
gt_eq 0 "$(gt_sql "$GT_PORT" "SELECT @@wsrep_sync_wait")" "on: listen sessions keep wsrep_sync_wait=0"
gt_eq "" "$(gt_log_since "$from" 'causal_reads_failed|read_only_failed')" \
  "on: no session failed its internal statements"

gt_sql "$GT_PORT" "DROP TABLE IF EXISTS t_causal_big, t_causal" || true
gt_proxy_restart || gt_notok "proxy restart with the default configuration"
gt_finish
