#!/bin/bash
# galera-start.sh - Galera node entrypoint: new cluster or join, then the image's own entrypoint.
#
#   galera-start.sh mariadbd [options...]     (compose.yml: entrypoint + command)
#
# --wsrep-new-cluster starts a new Primary Component from this node's data. Given to the wrong
# node (or to two), it splits the cluster or throws away the others' newer writes. The rules,
# in order (the first that applies decides):
#   1. GALERA_FORCE_BOOTSTRAP=1: bootstrap. The operator's explicit choice after a full outage
#      (docker/README.md, "Recovering when every node is down"); safe_to_bootstrap is set to 1.
#   2. a peer's group port (GALERA_GROUP_PORT, 4567) answers: there is a cluster, join it.
#   3. bootstrap if the cluster is new: this is the seed node (GALERA_SEED=1, db1 only), its
#      datadir was never initialised (no mysql/, no grastate.dat), and no cluster was ever
#      created here (no marker in the volume the three nodes share, GALERA_MARKER_DIR). The
#      marker is written now, so a seed whose volume is lost later waits for its peers instead
#      of starting an empty cluster that the others would then join by SST, losing their data.
#   4. bootstrap if this node's grastate.dat says safe_to_bootstrap: 1: it left the cluster
#      last and cleanly, so it has every committed write.
# Otherwise the node joins. Without a saved view (gvwstate.dat) it first waits, at most
# GALERA_JOIN_WAIT_S seconds, for a peer to answer, so the first `up` does not crash-loop the
# joiners while db1 initialises. With gvwstate.dat it starts at once: after a crash of all
# nodes, pc.recovery restores the Primary Component when every node is back, and they must all
# be running for that.
set -euo pipefail

datadir=${GALERA_DATADIR:-/var/lib/mysql}
peers=${GALERA_PEERS:-}
node=${GALERA_NODE_NAME:-$(hostname)}
seed=${GALERA_SEED:-0}
force=${GALERA_FORCE_BOOTSTRAP:-0}
marker_dir=${GALERA_MARKER_DIR:-/var/lib/galera-cluster}
join_wait=${GALERA_JOIN_WAIT_S:-180}
group_port=${GALERA_GROUP_PORT:-4567}
image_entrypoint=${GALERA_IMAGE_ENTRYPOINT:-docker-entrypoint.sh}

say() {
  printf '%s [galera-start] node=%s %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$node" "$*" >&2
}

# peer_up: prints the first peer whose Galera group port accepts a TCP connection.
peer_up() {
  local p list
  IFS=', ' read -ra list <<<"$peers"
  for p in "${list[@]}"; do
    [[ -n "$p" ]] || continue
    # shellcheck disable=SC2016 # $1 and $2 are expanded by the inner bash
    if timeout 1 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$p" "$group_port" 2>/dev/null; then
      printf '%s\n' "$p"
      return 0
    fi
  done
  return 1
}

datadir_new() { [[ ! -e "$datadir/grastate.dat" && ! -d "$datadir/mysql" ]]; }
safe_to_bootstrap() {
  [[ -f "$datadir/grastate.dat" ]] &&
    grep -Eq '^safe_to_bootstrap:[[:space:]]*1[[:space:]]*$' "$datadir/grastate.dat"
}

if [[ "${1:-}" != mariadbd && "${1:-}" != mysqld ]]; then
  exec "$image_entrypoint" "$@" # a one-off command (mariadb client, a shell): no decision
fi

mode="join"
why=
if [[ "$force" == 1 ]]; then
  mode=bootstrap
  why="GALERA_FORCE_BOOTSTRAP=1 (operator)"
  if [[ -f "$datadir/grastate.dat" ]]; then
    sed -i -E 's/^safe_to_bootstrap:.*/safe_to_bootstrap: 1/' "$datadir/grastate.dat"
  fi
elif p=$(peer_up); then
  why="peer $p answers on $group_port"
elif datadir_new; then
  if [[ "$seed" == 1 && ! -e "$marker_dir/cluster-created" ]]; then
    mode=bootstrap
    why="new cluster: seed node, empty datadir, no cluster created before"
  elif [[ "$seed" == 1 ]]; then
    why="empty datadir, but a cluster was created before ($marker_dir/cluster-created)"
  else
    why="empty datadir: joining (SST)"
  fi
elif safe_to_bootstrap; then
  mode=bootstrap
  why="grastate.dat safe_to_bootstrap: 1 (this node left the cluster last) and no peer answers"
else
  why="safe_to_bootstrap: 0 and no peer answers yet"
fi
say "decision=$mode reason=\"$why\""

if [[ "$mode" == bootstrap ]]; then
  if [[ -d "$marker_dir" ]]; then
    printf 'cluster bootstrapped by %s at %s (%s)\n' "$node" "$(date -u +%FT%TZ)" "$why" \
      >>"$marker_dir/cluster-created"
  fi
  exec "$image_entrypoint" "$@" --wsrep-new-cluster
fi

if [[ ! -e "$datadir/gvwstate.dat" ]]; then
  waited=0
  until peer_up >/dev/null; do
    if ((waited >= join_wait)); then
      say "no peer answered in ${join_wait}s: starting anyway (mariadbd retries, then the" \
        "container restarts). If every node is down, see docker/README.md, \"Recovering when" \
        "every node is down\"."
      break
    fi
    ((waited % 15 == 0)) && say "waiting for a peer to answer on $group_port (${waited}s)"
    sleep 1
    waited=$((waited + 1))
  done
fi
exec "$image_entrypoint" "$@"
