#!/bin/bash
# entrypoint.sh - init of the galera-proxy container: proxy, then keepalived; stopped in that order.
#
# With arguments it runs them instead (`docker run IMAGE galera-proxy --version`). Without:
#   1. galera-proxy --check-config: a bad file stops the container at once, with file:line.
#   2. galera-proxy -c $GALERA_PROXY_CONF as the user $GALERA_PROXY_USER (galera-proxy; setpriv
#      drops root). When the container already runs as non-root (`--user galera-proxy`), the
#      proxy simply runs as that user. Its log lines go to the container's stderr and, with
#      GALERA_PROXY_LOG_FILE set, are also appended to that file (for Promtail).
#   3. keepalived (VRRP only, in the foreground) when $KEEPALIVED_CONF exists and we are root,
#      once the proxy's HTTP endpoint answers: a keepalived must never run before its proxy, or
#      its first notify would be lost.
# SIGTERM/SIGINT: the proxy is stopped first while keepalived still runs, because a MASTER proxy
# waits (routing.fence_timeout_ms) for keepalived to move the VIP away before it drains
# (limits.shutdown_timeout_ms); a second SIGTERM is passed on (the proxy stops waiting). Then
# keepalived is stopped. SIGHUP is passed to the proxy (configuration reload). If either process
# dies on its own, the other is stopped and the container exits non-zero, so the restart policy
# brings both back in a fresh network namespace (no stale VIP left behind).
#
# GALERA_PROXY_BIN, KEEPALIVED_BIN and KEEPALIVED_RUN_DIR exist for test/docker/check.sh, which
# runs this script outside a container.
set -uo pipefail

conf=${GALERA_PROXY_CONF:-/etc/galera-proxy/galera-proxy.conf}
ka_conf=${KEEPALIVED_CONF:-/etc/keepalived/keepalived.conf}
http=${GALERA_PROXY_HTTP:-127.0.0.1:9480}
log_file=${GALERA_PROXY_LOG_FILE:-}
run_user=${GALERA_PROXY_USER:-galera-proxy}
proxy_bin=${GALERA_PROXY_BIN:-/usr/sbin/galera-proxy}
# http_tls: an https:// address or GALERA_PROXY_CACERT, as for vrrp-hooks/check (its comment)
curl_tls=()
case $http in
http://* | https://*) ;;
*) if [[ -n "${GALERA_PROXY_CACERT:-}" ]]; then http=https://$http; else http=http://$http; fi ;;
esac
if [[ $http == https://* ]]; then
  if [[ -n "${GALERA_PROXY_CACERT:-}" ]]; then curl_tls=(--cacert "$GALERA_PROXY_CACERT"); else curl_tls=(-k); fi
fi
ka_bin=${KEEPALIVED_BIN:-keepalived}
ka_run=${KEEPALIVED_RUN_DIR:-/run/keepalived}

proxy_pid=
ka_pid=
stopping=0

# say LEVEL EVENT [key=value...]: one logfmt line like the proxy's own, on stderr.
say() {
  local level=$1 event=$2
  shift 2
  printf 'ts=%s level=%s event=%s source=entrypoint %s\n' \
    "$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)" "$level" "$event" "$*" >&2
}

if [[ $# -gt 0 ]]; then
  exec "$@"
fi

# proxy_cmd ARGS...: sets cmd to galera-proxy ARGS, run as the unprivileged user (as ourselves
# when not root). setpriv execs the proxy, so the pid we start is the proxy's.
proxy_cmd() {
  cmd=("$proxy_bin" "$@")
  if [[ $(id -u) -eq 0 && "$run_user" != root ]]; then
    cmd=(setpriv --reuid="$run_user" --regid="$(id -g "$run_user")" --init-groups
      --no-new-privs -- "${cmd[@]}")
  fi
}

alive() { [[ -n "$1" ]] && kill -0 "$1" 2>/dev/null; }

# stop_child PID NAME: SIGTERM, then wait for the exit (the stop_grace_period bounds it).
# Returns the child's exit status.
stop_child() {
  local pid=$1 name=$2 rc
  alive "$pid" || return 0
  say info child_stop "child=$name pid=$pid"
  kill -TERM "$pid" 2>/dev/null
  while :; do
    wait "$pid"
    rc=$?
    # > 128 with the child still there: a signal interrupted the wait, not the child's end.
    if ((rc > 128)) && alive "$pid"; then
      continue
    fi
    break
  done
  say info child_exit "child=$name pid=$pid status=$rc"
  return "$rc"
}

on_term() {
  if ((stopping)); then
    say info signal "signal=TERM detail=\"again: passed to galera-proxy (stop waiting)\""
    alive "$proxy_pid" && kill -TERM "$proxy_pid"
    return
  fi
  stopping=1
  say info signal "signal=TERM detail=\"stopping galera-proxy first, then keepalived\""
}

on_hup() {
  say info signal "signal=HUP detail=\"passed to galera-proxy (reload)\""
  alive "$proxy_pid" && kill -HUP "$proxy_pid"
}

trap on_term TERM INT
trap on_hup HUP
# A shell cannot trap a signal that was ignored when it started (nohup, some supervisors).
if [[ $(trap -p HUP) == "trap -- '' SIGHUP" ]]; then
  say warn signal "signal=HUP detail=\"ignored by whoever started this entrypoint, so SIGHUP cannot reload; use POST /reload\""
fi

if [[ ! -r "$conf" ]]; then
  say error config_missing "file=$conf detail=\"mount the configuration there (docker/README.md)\""
  exit 2
fi
proxy_cmd --check-config -c "$conf"
if ! "${cmd[@]}"; then
  say error config_invalid "file=$conf"
  exit 2
fi

# exec in the background job: $! is then the proxy itself, which our signals must reach.
proxy_cmd -c "$conf"
if [[ -n "$log_file" ]]; then
  exec "${cmd[@]}" 2> >(tee -a "$log_file" >&2) &
else
  exec "${cmd[@]}" &
fi
proxy_pid=$!
say info child_start "child=galera-proxy pid=$proxy_pid config=$conf user=$run_user"

want_ka=0
if [[ -f "$ka_conf" ]]; then
  if [[ $(id -u) -eq 0 ]]; then
    want_ka=1
  else
    say warn keepalived_skipped "config=$ka_conf detail=\"keepalived needs root in the container\""
  fi
fi

if ((want_ka)); then
  # Wait (at most 10 s) until the proxy's HTTP endpoint answers at all (200 or 503).
  for _ in $(seq 1 50); do
    code=$(curl -s -o /dev/null -w '%{http_code}' --noproxy '*' --max-time 0.5 "${curl_tls[@]}" \
      "$http/health" 2>/dev/null) || true
    [[ -n "$code" && "$code" != 000 ]] && break
    alive "$proxy_pid" || break
    ((stopping)) && break
    sleep 0.2
  done
  if alive "$proxy_pid" && ((!stopping)); then
    mkdir -p "$ka_run"
    "$ka_bin" --dont-fork --log-console --log-detail --vrrp -f "$ka_conf" \
      -p "$ka_run/keepalived.pid" -r "$ka_run/vrrp.pid" &
    ka_pid=$!
    say info child_start "child=keepalived pid=$ka_pid config=$ka_conf"
  fi
fi

# Sleep until a signal or a child's end. `wait -n` also returns when a trapped signal arrives
# (after its trap ran); each round then looks again at `stopping` and at both children.
rc=0
died=
while ((!stopping)); do
  if ! alive "$proxy_pid"; then
    wait "$proxy_pid" # its status, also when `wait -n` has already collected it
    rc=$?
    died=galera-proxy
    proxy_pid=
    break
  fi
  if [[ -n "$ka_pid" ]] && ! alive "$ka_pid"; then
    wait "$ka_pid"
    rc=$?
    died=keepalived
    ka_pid=
    break
  fi
  wait -n "$proxy_pid" ${ka_pid:+"$ka_pid"} 2>/dev/null
done

if ((stopping)); then
  stop_child "$proxy_pid" galera-proxy
  rc=$?
  stop_child "$ka_pid" keepalived
  exit "$rc"
fi
# A child ended on its own: stop the other one too and let the restart policy act.
say error child_died "child=$died status=$rc"
stop_child "$proxy_pid" galera-proxy
stop_child "$ka_pid" keepalived
((rc != 0)) || rc=1
exit "$rc"
