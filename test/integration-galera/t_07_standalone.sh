#!/usr/bin/env bash
# t_07_standalone.sh - a plain MariaDB (no Galera) behind its own proxy is a single writer.
set -uo pipefail
# shellcheck source=test/integration-galera/lib/gt.sh
. "$(dirname "$0")/lib/gt.sh"
gt_scenario_init

dir=$GT_WORK/single # the runner's cleanup stops a server found here
port=3360 lport=16235 lro=16236
if ! mariadb_start "$dir" "$port" >"$GT_TMP/mariadb.out" 2>&1; then
  gt_notok "standalone MariaDB starts on $port"
  tail -n 10 "$GT_TMP/mariadb.out"
  gt_finish
  exit
fi
conf=$GT_WORK/proxy-single.conf
gt_proxy_conf "$conf" listen=127.0.0.1:$lport listen_ro=127.0.0.1:$lro backends=single:$port
if gt_proxy_start single "$conf" "$lport"; then
  gt_ok "a second proxy with only the standalone backend serves 127.0.0.1:$lport"
else
  gt_notok "a second proxy with only the standalone backend serves 127.0.0.1:$lport"
fi
log=$(gt_proxy_log single)

gt_match 'to=single ' "$(grep 'event=writer_change' "$log" | head -n 1)" \
  "the standalone server is the writer"
gt_eq "$port OFF" "$(gt_sql $lport "SELECT @@port, IF(@@wsrep_on, 'ON', 'OFF')" 2>&1 | tr '\t' ' ')" \
  "read-write sessions land on the standalone server (wsrep_on=OFF)"
gt_eq 3 "$(gt_sql $lport "CREATE TABLE t_single (id INT PRIMARY KEY);
  INSERT INTO t_single VALUES (1), (2), (3); SELECT COUNT(*) FROM t_single" 2>&1)" \
  "writes through the proxy work"
# With one backend the writer also serves listen_ro (read-only there).
gt_eq "$port" "$(gt_sql $lro "SELECT @@port" 2>&1)" "listen_ro uses the same server"
gt_match 'ERROR 1792' "$(gt_sql $lro "INSERT INTO t_single VALUES (4)" 2>&1)" \
  "listen_ro sessions are read-only"

gt_proxy_stop single
mariadb_stop "$dir" >/dev/null 2>&1 || gt_notok "standalone MariaDB stops"
rm -rf "$dir"
gt_finish
