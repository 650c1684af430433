-- 10-galera-proxy.sql - accounts the stack needs, created with a datadir (SST then copies db1's).
--
-- Run by the mariadb image's entrypoint, with Galera off, only when a datadir is initialised.
-- The WordPress database and user come from MARIADB_DATABASE / MARIADB_USER in compose.yml.
-- Demo passwords: change them here, in galera.cnf (sst) and in docker/galera-proxy/*.conf
-- (monitor) together.

-- galera-proxy's monitor (both proxies, from the compose subnet). SUPER: evs.evict of a dead
-- writer and KILL across nodes (README, "Evicting a dead writer").
CREATE USER IF NOT EXISTS 'monitor'@'10.77.0.%' IDENTIFIED BY 'monitor-demo';
GRANT USAGE, PROCESS, REPLICATION CLIENT, SUPER ON *.* TO 'monitor'@'10.77.0.%';
GRANT SELECT ON mysql.global_priv TO 'monitor'@'10.77.0.%';

-- mariabackup SST, on the donor's own socket.
CREATE USER IF NOT EXISTS 'sst'@'localhost' IDENTIFIED BY 'sst-demo';
GRANT RELOAD, PROCESS, LOCK TABLES, BINLOG MONITOR, SLAVE MONITOR ON *.* TO 'sst'@'localhost';
