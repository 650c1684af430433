#!/usr/bin/env bash
# wordpress.sh - WordPress on the client host for drills w1-w3: site, load, checks, table.
#
# The site is test/e2e/wordpress/setup.sh run inside gpd-cl: nginx on 127.0.0.1:18080 of that
# namespace's own loopback, php-fpm, DB_HOST = the VIP and the proxies' port. It is set up the
# first time a w drill needs it and stays up for the rest of the run (its masters are tracked,
# so the runner's EXIT trap stops them; gpd_wp_stop stops them through stop.sh first).
#
# Per drill: load.php runs the load around the event (GPD_WP_CONCURRENCY requests in flight,
# reads and REST writes of posts and comments), its summary and per-request log go to
# $GPD_WORK/clients/wp-DRILL.rROUND.sSEQ.*; after the repair, load.php verify looks for every post
# and comment whose creation was acknowledged (201) through REST, through the VIP and on every
# running node. A missing one fails the run, like a lost write of the drill clients.
# One row per w drill in $GPD_WORK/wp-results.tsv (gpd_wp_table prints the table).

GPD_WP_SRC=$GPD_ROOT/test/e2e/wordpress
GPD_WP_HTTP=127.0.0.1:18080
GPD_WP_CONCURRENCY=${GPD_WP_CONCURRENCY:-8}
# mysqlnd.net_read_timeout of php-fpm: bounds a query in flight through a crashed proxy host.
GPD_WP_READ_TIMEOUT=${GPD_WP_READ_TIMEOUT:-5}
GPD_WP_TIMEOUT=${GPD_WP_TIMEOUT:-20} # load.php's per-request timeout
GPD_WP_CLIENTS=${GPD_WP_CLIENTS:-conn} # the drill clients that run next to WordPress (drills.sh)

W_LOAD="" W_REQ=- W_FAILED=- W_DBERR=- W_LONGEST=- W_NWIN=- W_SPAN=- W_POSTS=- W_COMMENTS=-
W_LOST=- W_VIP=- W_LAT=-

gpd_wp_dir() { echo "$GPD_WORK/wp"; }
gpd_wp_file() { echo "$GPD_WORK/clients/wp-$D_NAME.r$D_ROUND.s$GPD_SEQ.$1"; }

# gpd_wp_running: the site's nginx and php-fpm both run.
gpd_wp_running() {
  [ "$(bash "$GPD_WP_SRC/stop.sh" --running "$(gpd_wp_dir)" 2>/dev/null | grep -c .)" = 2 ]
}

# gpd_wp_ensure: the site is up (set up on first use through the VIP).
gpd_wp_ensure() {
  local d t0 p
  d=$(gpd_wp_dir)
  [ -f "$d/site.env" ] && gpd_wp_running && return 0
  mkdir -p "$d" && chmod 755 "$d" # php-fpm and nginx workers run as www-data
  t0=$(gpd_now_ms)
  if ! WP_NET_READ_TIMEOUT=$GPD_WP_READ_TIMEOUT ip netns exec gpd-cl bash "$GPD_WP_SRC/setup.sh" \
    "$d" "$GPD_VIP:$GPD_SQL_PORT" "$GPD_WP_HTTP" </dev/null >>"$GPD_WORK/wp-setup.log" 2>&1; then
    gpd_log "WordPress set-up failed; tail of $GPD_WORK/wp-setup.log:"
    tail -n 10 "$GPD_WORK/wp-setup.log" >&2
    return 1
  fi
  for p in nginx php-fpm; do
    gpd_track "$(<"$d/run/$p.launch.pid")" "wp-$p"
  done
  gpd_log "WordPress up in gpd-cl at http://$GPD_WP_HTTP (DB_HOST $GPD_VIP:$GPD_SQL_PORT," \
    "net_read_timeout ${GPD_WP_READ_TIMEOUT}s) in $(($(gpd_now_ms) - t0)) ms"
}

# gpd_wp_stop: stop the site (by its recorded pids), if it was set up.
gpd_wp_stop() {
  local d
  [ -n "$GPD_WORK" ] || return 0
  d=$(gpd_wp_dir)
  [ -d "$d/run" ] && bash "$GPD_WP_SRC/stop.sh" "$d" >&2
  return 0
}

# gpd_wp_load_start SECONDS: the load in the background for SECONDS (new requests stop then).
gpd_wp_load_start() {
  rm -f "$(gpd_wp_file json)"
  ip netns exec gpd-cl php "$GPD_WP_SRC/load.php" run --site-env "$(gpd_wp_dir)/site.env" \
    --seconds "$1" --concurrency "$GPD_WP_CONCURRENCY" --timeout "$GPD_WP_TIMEOUT" \
    --tag "$D_NAME-$GPD_SEQ" --out "$(gpd_wp_file json)" --log "$(gpd_wp_file tsv)" \
    </dev/null >"$(gpd_wp_file log)" 2>&1 &
  W_LOAD=$!
  gpd_track "$W_LOAD" wp-load
  gpd_log "WordPress load for ${1}s (pid $W_LOAD, concurrency $GPD_WP_CONCURRENCY)"
}

# gpd_wp_load_wait: until the load has finished (its last requests time out at worst).
gpd_wp_load_wait() {
  [ -n "$W_LOAD" ] || return 0
  local t0
  t0=$(gpd_now_ms)
  while kill -0 "$W_LOAD" 2>/dev/null; do
    if (($(gpd_now_ms) - t0 > (GPD_WP_TIMEOUT + 60) * 1000)); then
      gpd_drill_note "WordPress load still running $((GPD_WP_TIMEOUT + 60)) s later: stopped"
      kill -TERM "$W_LOAD" 2>/dev/null
    fi
    sleep 0.2
  done
  wait "$W_LOAD" 2>/dev/null
  W_LOAD=""
}

# gpd_wp_summary FILE: "requests failed db_error_pages longest_ms windows posts comments
# p99/max_latency_ms".
gpd_wp_summary() {
  # shellcheck disable=SC2016 # PHP code, not shell
  php -r '$s = json_decode((string)@file_get_contents($argv[1]), true);
    if (!is_array($s)) exit(1);
    printf("%d %d %d %d %d %d %d %d/%d\n", $s["requests"], $s["failed"], $s["db_error_pages"],
      round($s["longest_failing_window_ms"]), $s["failing_windows"], count($s["acked_posts"]),
      count($s["acked_comments"]), round($s["latency_ms"]["p99"]),
      round($s["latency_ms"]["max"]));' "$1"
}

# gpd_wp_verify SUMMARY OUT: load.php verify through REST, the VIP and every running node;
# prints the most acknowledged posts + comments any one target misses ("unknown" if a target
# could not be read).
gpd_wp_verify() {
  local n dbs=("--db" "$GPD_VIP:$GPD_SQL_PORT")
  for n in "${GPD_DB_NODES[@]}"; do
    gpd_db_pid "$n" >/dev/null && dbs+=("--db" "${GPD_IP[$n]}:3306")
  done
  ip netns exec gpd-cl php "$GPD_WP_SRC/load.php" verify --site-env "$(gpd_wp_dir)/site.env" \
    --summary "$1" "${dbs[@]}" --out "$2" </dev/null >>"${2%.json}.log" 2>&1
  # shellcheck disable=SC2016 # PHP code, not shell
  php -r '$v = json_decode((string)@file_get_contents($argv[1]), true);
    if (!is_array($v)) { echo "unknown\n"; exit; }
    $max = 0;
    foreach ($v["targets"] as $t) {
      if ($t["error"] !== null) { echo "unknown\n"; exit; }
      $max = max($max, count($t["posts_missing"]) + count($t["comments_missing"]));
    }
    echo "$max\n";' "$2"
}

# gpd_wp_check VIP_MS: after the repair: the load's figures, the failed requests' span relative
# to the event, and the verification (W_* for the verdict, the row and the notes).
gpd_wp_check() {
  local f
  W_VIP=${1:--}
  W_REQ=- W_FAILED=- W_DBERR=- W_LONGEST=- W_NWIN=- W_SPAN=- W_POSTS=- W_COMMENTS=- W_LOST=-
  W_LAT=-
  gpd_wp_load_wait
  f=$(gpd_wp_file json)
  if ! read -r W_REQ W_FAILED W_DBERR W_LONGEST W_NWIN W_POSTS W_COMMENTS W_LAT \
    <<<"$(gpd_wp_summary "$f")"; then
    W_REQ=-
    D_FAIL="${D_FAIL:+$D_FAIL; }no WordPress load summary ($(tail -n 1 "$(gpd_wp_file log)"))"
    return
  fi
  # First failed request's start .. last one's end, ms from the event ("-" if none failed).
  W_SPAN=$(awk -F'\t' -v ev="$D_EVENT" '$5 == 0 {
      if (s == "" || $1 < s) s = $1
      if (e == "" || $2 > e) e = $2
    }
    END { if (s == "") print "-"; else printf "%+d..%+d\n", s - ev, e - ev }' \
    "$(gpd_wp_file tsv)")
  W_LOST=$(gpd_wp_verify "$f" "$(gpd_wp_file verify.json)")
  gpd_drill_note "wp: $W_REQ requests, $W_FAILED failed ($W_DBERR db error pages), longest" \
    "failing window $W_LONGEST ms, failed at $W_SPAN ms, $W_POSTS posts + $W_COMMENTS" \
    "comments acknowledged, $W_LOST missing"
}

# gpd_wp_targets: the w drills' targets; appends to the caller's (gpd_verdict's) miss array.
gpd_wp_targets() {
  [ "$W_REQ" = - ] && return
  if [ "$W_LOST" != 0 ]; then
    D_FAIL="${D_FAIL:+$D_FAIL; }acknowledged WordPress posts/comments lost: $W_LOST"
  fi
  case $D_NAME in
  w1) [ "$W_FAILED" = 0 ] || miss+=("wp_failed=0") ;;
  w2) ((W_LONGEST <= 1000)) || miss+=("wp_window<=1000") ;;
  w3)
    # Only what the VIP move explains: every failed request ended after the event and had
    # started before the VIP was on the other host (in flight at the crash, or waiting for the
    # VIP). Such a request can end a little after the move: its connection learns of the new
    # host (RST) only at its next TCP retransmission.
    if [ "$W_VIP" = - ]; then
      miss+=("vip_moved")
    elif [ "$W_SPAN" != - ]; then
      awk -F'\t' -v ev="$D_EVENT" -v v="$W_VIP" '$5 == 0 && ($2 < ev || $1 > ev + v) {
          bad = 1 } END { exit bad }' "$(gpd_wp_file tsv)" || miss+=("wp_failures_in_vip_move")
    fi
    ;;
  esac
}

# gpd_wp_row VERDICT: the drill's row in wp-results.tsv.
gpd_wp_row() {
  local IFS=$'\t' row=("$D_NAME" "$D_ROUND" "$GPD_ADVERT" "$W_REQ" "$W_FAILED" "$W_DBERR"
    "$W_LONGEST" "$W_NWIN" "$W_SPAN" "$W_VIP" "$W_LAT" "$W_POSTS" "$W_COMMENTS" "$W_LOST")
  echo "${row[*]}" >>"$GPD_WORK/wp-results.tsv"
  printf '%s\n' "$1" >>"$GPD_WORK/wp-verdicts"
  W_REQ=- W_FAILED=- W_DBERR=- W_LONGEST=- W_NWIN=- W_SPAN=- W_POSTS=- W_COMMENTS=- W_LOST=-
  W_VIP=- W_LAT=-
}

GPD_WP_HEAD=(drill round advert requests failed "db error pages" "longest failing window ms"
  "failing windows" "failed at ms" "VIP move ms" "latency p99/max ms" "acked posts"
  "acked comments" lost verdict)

# gpd_wp_table [md]: the w drills' table (tab-separated, or Markdown with "md").
gpd_wp_table() {
  [ -s "$GPD_WORK/wp-results.tsv" ] || return 0
  local IFS=$'\t'
  if [ "${1:-}" = md ]; then
    echo "| ${GPD_WP_HEAD[*]} |" | sed 's/\t/ | /g'
    printf '|%s\n' "$(printf -- '---|%.0s' "${GPD_WP_HEAD[@]}")"
    paste "$GPD_WORK/wp-results.tsv" "$GPD_WORK/wp-verdicts" |
      sed 's/|/\\|/g; s/\t/ | /g; s/^/| /; s/$/ |/'
  else
    {
      echo "${GPD_WP_HEAD[*]}"
      paste "$GPD_WORK/wp-results.tsv" "$GPD_WORK/wp-verdicts"
    } | column -t -s $'\t'
  fi
}

# gpd_wp_final_check: every acknowledged post and comment of the run, on every node (after the
# final repair). Sets GPD_WP_FINAL (a note); counts a failure if anything is missing.
GPD_WP_FINAL=""
gpd_wp_final_check() {
  local f miss total=0 bad=0
  for f in "$GPD_WORK"/clients/wp-*.json; do
    [[ "$f" == *.verify.json || "$f" == *.final.json ]] && continue
    [ -f "$f" ] || continue
    total=$((total + 1))
    miss=$(gpd_wp_verify "$f" "${f%.json}.final.json")
    [ "$miss" = 0 ] || bad=$((bad + 1))
  done
  ((total)) || return 0
  ((bad == 0)) || GPD_FAILED=$((GPD_FAILED + 1))
  GPD_WP_FINAL=" WordPress: $total load runs verified on the VIP and every node, $bad with"
  GPD_WP_FINAL="$GPD_WP_FINAL posts or comments missing;"
}

# gpd_wp_rounds_summary: per w drill and advert_int over the rounds (tab-separated): runs,
# requests and failed requests summed, longest failing window median/max, acknowledged posts +
# comments and lost summed, missed targets, failures.
gpd_wp_rounds_summary() {
  [ -s "$GPD_WORK/wp-results.tsv" ] || return 0
  printf 'drill\tadvert\truns\trequests\tfailed\tlongest window med/max\tacked\tlost\t'
  printf 'missed targets\tfailed runs\n'
  paste "$GPD_WORK/wp-results.tsv" "$GPD_WORK/wp-verdicts" | awk -F'\t' '
    {
      k = $1 "\t" $3
      if (!(k in runs)) order[++nk] = k
      runs[k]++
      req[k] += $4; fail[k] += $5; acked[k] += $12 + $13; lost[k] += $14
      if ($7 ~ /^[0-9]+$/) W[k, ++nw[k]] = $7 + 0
      if ($15 ~ /^miss/) miss[k]++
      if ($15 ~ /^FAIL/) bad[k]++
    }
    END {
      for (i = 1; i <= nk; i++) {
        k = order[i]; n = nw[k]; mm = "-"
        if (n) {
          for (a = 1; a <= n; a++)
            for (b = a + 1; b <= n; b++)
              if (W[k, b] < W[k, a]) { t = W[k, a]; W[k, a] = W[k, b]; W[k, b] = t }
          mm = W[k, int((n + 1) / 2)] "/" W[k, n]
        }
        printf "%s\t%d\t%d\t%d\t%s\t%d\t%d\t%d\t%d\n", k, runs[k], req[k], fail[k], mm,
          acked[k], lost[k], miss[k], bad[k]
      }
    }'
}
