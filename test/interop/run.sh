#!/usr/bin/env bash
# run.sh - codec modules against a real MariaDB: zclient speaks the compressed protocol with it.
#
# Usage: test/interop/run.sh [--build DIR]   (default build dir: build)
# Starts a throwaway MariaDB (test/lib/mariadb.sh) on 127.0.0.1:$GP_TEST_DB_PORT (default
# 21616), allows 64 MB packets, runs BUILD/test/interop/zclient against it and stops the
# server it started (by its pid file) whatever happens. Exits with zclient's status.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
build=$root/build
if [[ ${1:-} == --build ]]; then
  build=$(cd "$2" && pwd)
fi
port=${GP_TEST_DB_PORT:-21616}
client=$build/test/interop/zclient
[[ -x $client ]] || {
  echo "interop: $client not built (ninja -C $build)" >&2
  exit 2
}
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
echo "== interop: ok"
