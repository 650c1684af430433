#!/bin/bash
# galera-health.sh - health of a Galera node container: healthy only while Synced (state 4).
#
# A Donor, Joiner or non-Primary node is "unhealthy" here, which is what `docker compose ps`
# should show during a drill. The proxies do not read this: they probe the nodes themselves.
# Uses the root account over the local socket (MARIADB_ROOT_PASSWORD from compose.yml).
set -uo pipefail

state=$(MYSQL_PWD=${MARIADB_ROOT_PASSWORD:-} mariadb --protocol=socket -uroot -N -B \
  -e "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS
      WHERE VARIABLE_NAME = 'WSREP_LOCAL_STATE'" 2>/dev/null) || exit 1
[[ "$state" == 4 ]]
