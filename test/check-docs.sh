#!/usr/bin/env bash
# Checks that the README's configuration table is exactly what the binary describes.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${1:-$ROOT/build/proxy/galera-proxy}
want=$("$BIN" --describe-config)
have=$(sed -n '/<!-- BEGIN CONFIG TABLE/,/<!-- END CONFIG TABLE/p' "$ROOT/README.md" | sed '1d;$d')
if [[ "$want" != "$have" ]]; then
  echo "README.md configuration table differs from 'galera-proxy --describe-config':" >&2
  diff <(echo "$have") <(echo "$want") >&2 || true
  exit 1
fi
echo "README configuration table matches the binary"
