#!/usr/bin/env bash
# Checks proxy/'s layering: a folder includes only itself and the folders below it, and the
# forbidden calls (sockets, libmariadb, libuv in the codec) stay in their owners' files.
set -euo pipefail
cd "$(dirname "$0")/.."
# Lowest first; must match proxy/meson.build and proxy/README.md.
layers=(codec base net cluster core session ha ops daemon)
rank() { local i; for i in "${!layers[@]}"; do [ "${layers[$i]}" = "$1" ] && { echo "$i"; return; }; done; echo -1; }
fail=0
bad() { echo "check-layers: $*"; fail=1; }

# Every .c/.h sits in a known folder.
while IFS= read -r f; do
  d=${f#proxy/}; d=${d%%/*}
  [ "$(rank "$d")" -ge 0 ] || bad "$f: not in a layer folder (${layers[*]})"
done < <(git ls-files 'proxy/*.c' 'proxy/*.h')

# Includes go down (or sideways within the folder), never up.
while IFS= read -r f; do
  d=${f#proxy/}; d=${d%%/*}; r=$(rank "$d")
  while IFS= read -r inc; do
    case "$inc" in */*) ;; *) continue ;; esac
    t=${inc%%/*}; tr=$(rank "$t")
    [ "$tr" -ge 0 ] || continue
    [ "$tr" -le "$r" ] || bad "$f includes $inc: $d may not include $t (above it)"
  done < <(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f")
done < <(git ls-files 'proxy/*.c' 'proxy/*.h')

# A .c file stays under 800 lines.
while IFS= read -r f; do
  n=$(wc -l < "$f"); [ "$n" -le 800 ] || bad "$f: $n lines (limit 800)"
done < <(git ls-files 'proxy/*.c')

# Calls with one owner each.
owned() { # pattern owner-regex what
  local hits
  hits=$(git grep -nE "$1" -- 'proxy/*.c' 'proxy/*.h' | grep -vE "^($2):" |
    grep -vE '^[^:]+:[0-9]+:[[:space:]]*(\*|/\*|//)' || true)
  [ -z "$hits" ] || bad "$3 outside $2:"$'\n'"$hits"
}
owned '\b(uv_read_start|uv_write|uv_try_write|uv_tcp_connect|uv_accept)\(|[^_a-z](recv|send)\(' \
  'proxy/net/io\.c|proxy/net/io_[a-z]+\.c' 'socket calls'
owned '\bmysql_[a-z_]+\(' 'proxy/cluster/mconn\.c|proxy/cluster/monitor\.c|proxy/daemon/main\.c' 'libmariadb calls'
if git grep -nE '#include [<"](uv|mysql|mariadb|errmsg)[^>"]*\.h' -- 'proxy/codec' | grep -q .; then
  bad "the codec includes libuv/libmariadb: $(git grep -nE '#include [<"](uv|mysql|mariadb)' -- proxy/codec)"
fi
if git grep -nE '#include "(base|net|cluster|session|ha|ops|daemon)/' -- 'proxy/codec' | grep -q .; then
  bad "the codec includes the daemon"
fi

[ "$fail" = 0 ] && echo "check-layers: ok (${layers[*]})"
exit "$fail"
