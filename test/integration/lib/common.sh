#!/usr/bin/env bash
# Shared helpers for the shell integration tests: checks, counters and mariadb client wrappers.

GP_PASS=0
GP_FAIL=0

gp_need_env() {
  local v
  for v in "$@"; do
    if [[ -z "${!v:-}" ]]; then
      echo "missing environment variable $v (run me through test/integration/run.sh)" >&2
      exit 2
    fi
  done
}

gp_ok() {
  GP_PASS=$((GP_PASS + 1))
  echo "  ok - $*"
}

gp_notok() {
  GP_FAIL=$((GP_FAIL + 1))
  echo "  not ok - $*"
}

# gp_eq EXPECTED ACTUAL WHAT
gp_eq() {
  if [[ "$1" == "$2" ]]; then
    gp_ok "$3"
  else
    gp_notok "$3: expected [$1], got [$2]"
  fi
}

# gp_match REGEX ACTUAL WHAT
gp_match() {
  if [[ "$2" =~ $1 ]]; then
    gp_ok "$3"
  else
    gp_notok "$3: [$2] does not match /$1/"
  fi
}

gp_done() {
  echo "# $GP_PASS checks passed, $GP_FAIL failed"
  [[ $GP_FAIL -eq 0 && $GP_PASS -gt 0 ]]
  exit $?
}

# gp_client: the mariadb client without the echo of a failed query, so errors compare verbatim.
gp_client() {
  mariadb --skip-print-query-on-error --connect-timeout=10 "$@"
}

# gp_sql [mariadb options...] -e SQL: through the proxy as app, batch mode, no column names.
gp_sql() {
  gp_client -h"$PROXY_HOST" -P"$PROXY_PORT" -uapp -papp -N -B test "$@"
}

# gp_sql_direct: the same against MariaDB itself.
gp_sql_direct() {
  gp_client -h127.0.0.1 -P"$DB_PORT" -uapp -papp -N -B test "$@"
}

# gp_now_ms prints a monotonic-enough wall clock in milliseconds.
gp_now_ms() {
  date +%s%3N
}
