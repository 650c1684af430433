#!/usr/bin/env bash
# t_20_timeline.sh - the failover timeline: /status, /metrics and the log after a planned switch and a kill -9.
#
# A client writes every 10 ms through the proxy. First the writer is put in maintenance (a
# planned change: nothing to detect, no eviction), then the new writer is killed -9 (detected
# by a refused connect, evicted). Each change must leave one event=writer_timeline line, the
# same numbers in /status last_change_timeline and in galera_proxy_last_writer_change_seconds,
# and a gap that matches what the client saw (its longest time between acknowledged writes).
set -uo pipefail
# shellcheck source=test/integration-galera/lib/gt.sh
. "$(dirname "$0")/lib/gt.sh"
gt_scenario_init

HTTP=127.0.0.1:${GT_TIMELINE_HTTP_PORT:-16241}
CONF=$GT_TMP/proxy-timeline.conf

gt_proxy_conf "$CONF" || gt_notok "write the configuration"
echo "http_listen = \"$HTTP\";" >>"$CONF"
gt_proxy_stop main
gt_proxy_start main "$CONF" "$GT_PORT" || gt_notok "start the proxy with http_listen $HTTP"
gt_sql "$GT_PORT" "CREATE TABLE IF NOT EXISTS t_timeline (id BIGINT PRIMARY KEY, t BIGINT)" ||
  gt_notok "create table t_timeline"

http_get() { curl -sS --max-time 5 "http://$HTTP$1"; }

# status_field KEY: a field of /status last_change_timeline ("null" when null).
status_field() {
  http_get /status | php -r '$j = json_decode(stream_get_contents(STDIN), true);
    $t = $j["last_change_timeline"] ?? null; $v = is_array($t) ? ($t[$argv[1]] ?? null) : null;
    echo $v === null ? "null" : (is_bool($v) ? ($v ? "true" : "false") : $v);' "$1"
}

# metric PHASE: galera_proxy_last_writer_change_seconds{phase=PHASE} in ms, rounded to 0.1.
metric_ms() {
  http_get /metrics | awk -v p="$1" '$1 == "galera_proxy_last_writer_change_seconds{phase=\"" p "\"}" {
    if ($2 == "NaN") print "-"; else printf "%.1f\n", $2 * 1000 }'
}

# kv LINE KEY: a key=value of a logfmt line.
kv() { sed -n "s/.* $2=\\([^ ]*\\).*/\\1/p" <<<"$1"; }

# client_gap OUT FROM_MS: the client's longest time between two acknowledged writes that ends
# after FROM_MS and within 2 s of its first acknowledged write after FROM_MS (ms).
client_gap() {
  awk -v from="$2" '$1 == "ok" { t = $4
      if (prev && t > from && (!first || t <= first + 2000)) {
        if (!first) first = t
        if (t - prev > max) max = t - prev }
      prev = t }
    END { print max + 0 }' "$1"
}

# check_round TAG FROM OUT T_EVENT: the writer_timeline line after log line FROM and its
# agreement with /status, /metrics and the client's log OUT (T_EVENT: ms of the change's cause).
check_round() {
  local tag=$1 from=$2 out=$3 t_event=$4 line ph v want cg pg
  line=$(gt_log_wait "$from" 'event=writer_timeline' 15) || {
    gt_notok "$tag: no event=writer_timeline within 15 s"
    return
  }
  gt_info "$tag: $line"
  gt_info "$tag: /status: $(status_field summary)"
  for ph in detect evict first_answer gap; do
    v=$(kv "$line" "${ph}_ms")
    gt_eq "$v" "$(metric_ms "$ph")" "$tag: galera_proxy_last_writer_change_seconds{phase=\"$ph\"} = the log's ${ph}_ms"
    want=$v
    [ "$v" = - ] && want=null
    gt_eq "$want" "$(status_field "${ph}_ms" | awk '{ if ($1 == "null") print; else printf "%.1f\n", $1 }')" \
      "$tag: /status last_change_timeline.${ph}_ms = the log's"
  done
  gt_eq false "$(status_field open)" "$tag: /status says the record is complete"
  [ "$(kv "$line" first_answer_ms)" != - ] || gt_notok "$tag: no first answer from the new writer"
  pg=$(kv "$line" gap_ms)
  pg=${pg%.*}
  cg=$(client_gap "$out" "$t_event")
  gt_info "$tag: longest gap: proxy $pg ms, client $cg ms"
  # Both see the same answers, a few ms apart (the client also waits for its 10 ms pause).
  if [[ "$pg" =~ ^[0-9]+$ ]] && [ "$cg" -gt 0 ]; then
    gt_le $((pg > cg ? pg - cg : cg - pg)) $((50 + cg / 5)) "$tag: the proxy's gap is the client's"
  else
    gt_notok "$tag: gaps proxy [$pg] client [$cg]"
  fi
}

wout=$GT_TMP/writer.out
php "$GT_LIB/writer.php" 127.0.0.1 "$GT_PORT" t_timeline 5000000000 10 >"$wout" 2>&1 &
wpid=$!
gt_track "$wpid"
sleep 1.5
grep -q '^ok ' "$wout" || gt_notok "the writer client wrote nothing"
gt_eq null "$(status_field summary)" "before any change: /status last_change_timeline is null"

# ---- a planned change: maintenance on the writer -----------------------------------------
w=$(gt_writer_db)
from=$(gt_log_lines)
t_maint=$(gt_now_ms)
curl -sS --max-time 5 -X POST "http://$HTTP/backends/$w/maintenance?on=1" >/dev/null ||
  gt_notok "maintenance: POST failed"
check_round maintenance "$from" "$wout" "$t_maint"
line=$(gt_log_since "$from" 'event=writer_timeline' | head -n 1)
gt_match "from=$w to=db[0-9] reason=maintenance changes=1 detect_ms=0.0 evict_ms=- " "$line" \
  "maintenance: nothing to detect (0 ms), no eviction"
curl -sS --max-time 5 -X POST "http://$HTTP/backends/$w/maintenance?on=0" >/dev/null ||
  gt_notok "maintenance off: POST failed"

# ---- a kill -9 of the writer: detected, evicted, answered --------------------------------
w=$(gt_writer_db)
wn=${w#db}
sleep 1
from=$(gt_log_lines)
pid=$(galera_pid "$wn" "$GALERA_DIR")
t_kill=$(gt_now_ms)
kill -9 "$pid"
check_round kill "$from" "$wout" "$t_kill"
line=$(gt_log_since "$from" 'event=writer_timeline' | head -n 1)
gt_match "from=$w to=db[0-9] reason=down changes=[0-9]+ " "$line" "kill: the record names the change"
d=$(kv "$line" detect_ms)
gt_le "${d%.*}" 1000 "kill: detected within 1 s of the old writer's last sign of life (ms)"
e=$(kv "$line" evict_ms)
gt_ne - "$e" "kill: the eviction is in the record ($e ms)"
gt_match "event=evict_done node=$w" "$(gt_log_since "$from" 'event=evict_done')" \
  "kill: the proxy evicted $w"
n=$(http_get /metrics | awk '$1 == "galera_proxy_writer_change_gap_seconds_count" {print $2}')
gt_eq 2 "$n" "galera_proxy_writer_change_gap_seconds_count counts both changes"

gt_stop_pid "$wpid"
wait "$wpid" 2>/dev/null
if galera_restart "$wn" "$GALERA_DIR" >>"$GT_TMP/galera.log" 2>&1 && gt_wait_healthy 90; then
  gt_ok "node$wn restarted (IST) and the cluster is 3 x Synced"
else
  gt_notok "node$wn restarted (IST) and the cluster is 3 x Synced"
fi
gt_sql "$GT_PORT" "DROP TABLE IF EXISTS t_timeline" || true
gt_proxy_restart || gt_notok "proxy restart with the default configuration"
gt_finish
