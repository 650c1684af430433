#!/usr/bin/env bash
# run.sh - codec modules against a real MariaDB: zclient (compression), mclient (a session move).
#
# Usage: test/interop/run.sh [--build DIR]   (default build dir: build)
# Starts a throwaway MariaDB (test/lib/mariadb.sh) on 127.0.0.1:$GP_TEST_DB_PORT (default
# 21616), allows 64 MB packets, turns session tracking on (as issue 17 asks of the servers),
# runs BUILD/test/interop/zclient and then mclient (given app's and edapp's mysql.global_priv
# rows) against it and stops the server it started (by its pid file) whatever happens. Exits
# non-zero if either client fails.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
build=$root/build
if [[ ${1:-} == --build ]]; then
  build=$(cd "$2" && pwd)
fi
port=${GP_TEST_DB_PORT:-21616}
client=$build/test/interop/zclient
mclient=$build/test/interop/mclient
for c in "$client" "$mclient"; do
  [[ -x $c ]] || {
    echo "interop: $c not built (ninja -C $build)" >&2
    exit 2
  }
done
if (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
  echo "interop: port $port is taken; set GP_TEST_DB_PORT" >&2
  exit 2
fi

# shellcheck source=test/lib/mariadb.sh
. "$root/test/lib/mariadb.sh"
work=$(mktemp -d /tmp/gp-interop.XXXXXX)
chmod 755 "$work"
cleanup() {
  mariadb_stop "$work/db" || true
  rm -rf "$work"
}
trap cleanup EXIT

mariadb_start "$work/db" "$port" >/dev/null
mariadb_sql "$work/db" "SET GLOBAL max_allowed_packet = 67108864"
echo "== zclient against MariaDB $(mariadb_sql "$work/db" 'SELECT VERSION()') on port $port"
"$client" "$port"
mariadb_sql "$work/db" "SET GLOBAL session_track_system_variables = '*',
  GLOBAL session_track_schema = ON, GLOBAL session_track_state_change = ON"
priv() { mariadb_sql "$work/db" "SELECT Priv FROM mysql.global_priv WHERE User = '$1' AND Host = '%'"; }
echo "== mclient: a session moved between two connections"
"$mclient" "$port" "$(priv app)" "$(priv edapp)"
echo "== interop: ok"
