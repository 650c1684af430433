#!/usr/bin/env bash
# sess_cli.sh - sess.php's line protocol with the mariadb command-line client (a coprocess).
#
#   sess_cli.sh HOST PORT USER PASS
# One mariadb process (--unbuffered --batch --force, database test) runs every line; a
# SELECT of a marker after each tells where its output ends. The output is sess.php's; the
# first column of the first row is VALUE, an "ERROR N (S) at line L: MSG" line is the err.
# The CLI has no server-side prepared statements: "!prepare" and "!execute" are refused.
set -uo pipefail
host=$1 port=$2 user=$3 pass=$4
ms() { date +%s%3N; }
mark=__sess_cli_end__
coproc CLI { exec mariadb --no-defaults --unbuffered --batch --skip-column-names --force \
  --skip-reconnect -h "$host" -P "$port" -u "$user" "-p$pass" test 2>&1; }
# next_reply: the lines up to the marker, as one reply.
next_reply() {
  local line v=- t0=$1 got=0
  while IFS= read -r -t 30 -u "${CLI[0]}" line; do
    [ "$line" = "$mark" ] && break
    if [[ "$line" =~ ^ERROR\ ([0-9]+)\ \([0-9A-Z]+\)( at line [0-9]+)?:\ (.*)$ ]]; then
      echo "err $t0 $(ms) ${BASH_REMATCH[1]} ${BASH_REMATCH[3]}"
      got=1
    elif [ "$got" = 0 ]; then
      v=$line
      got=2
    fi
  done || { echo "err $t0 $(ms) 2013 the mariadb client ended"; exit 0; }
  [ "$got" = 1 ] || echo "ok $t0 $(ms) $v"
}
printf 'SELECT CONNECTION_ID();\nSELECT '"'"'%s'"'"';\n' "$mark" 1>&"${CLI[1]}"
r=$(next_reply "$(ms)")
[[ "$r" == ok* ]] || { echo "connect_err $(ms) ${r#err * * }"; exit 0; }
echo "connected $(awk '{print $4}' <<<"$r") $(ms)"
while IFS= read -r sql; do
  [ -n "$sql" ] || continue
  t0=$(ms)
  if [[ "$sql" == !* ]]; then
    echo "err $t0 $t0 0 the mariadb client has no prepared statements"
    continue
  fi
  printf '%s;\nSELECT '"'"'%s'"'"';\n' "$sql" "$mark" 1>&"${CLI[1]}" 2>/dev/null ||
    { echo "err $t0 $(ms) 2013 the mariadb client ended"; continue; }
  next_reply "$t0"
done
