#!/usr/bin/env bash
# notify-wrap.sh - the drills' keepalived notify: timestamps each VRRP event, then runs the hook.
#
#   notify-wrap.sh HOST WORKDIR TYPE NAME STATE PRIORITY   (keepalived appends the last four)
#
# Appends "EPOCH_MS HOST TYPE NAME STATE PRIORITY" to WORKDIR/vrrp-events.log (the drills read
# VIP moves from it), then execs the real hook with the drill's token file; the hook's one log
# line goes to WORKDIR/HOST/notify.log (there is no syslog in the namespaces).
host=$1
work=$2
shift 2
t=${EPOCHREALTIME/[.,]/}
printf '%s %s %s\n' "${t:0:${#t}-3}" "$host" "$*" >>"$work/vrrp-events.log"
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export GALERA_PROXY_NOTIFY_DIR=$work/$host/notify-run # one ordering record per "host"
exec "$here/../../../vrrp-hooks/notify" --http 127.0.0.1:9480 --token-file "$work/token" "$@" \
  2>>"$work/$host/notify.log"
