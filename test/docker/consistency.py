#!/usr/bin/python3
"""consistency.py - the addresses, ports and credentials that docker/ repeats across files agree.

    /usr/bin/python3 test/docker/consistency.py ROOT

compose.yml gives every container a fixed address; the galera-proxy, keepalived, MariaDB and
monitoring configs next to it repeat those addresses (the VIP, unicast peers, backends, the
gcomm:// list) and the demo credentials. A typo in one of them would only show once the stack
runs, which this project's CI cannot do, so they are compared here. Prints one "ok - ..." or
"not ok - ...: detail" line per check; exit status 1 if any failed.

Runs with the system python3 on purpose: Debian's docker-compose package, which the tests need
anyway, is a python3 program and pulls in python3-yaml.
"""

import ipaddress
import os
import re
import subprocess
import sys

import yaml

ROOT = sys.argv[1] if len(sys.argv) > 1 else "."
D = os.path.join(ROOT, "docker")
failed = 0


def check(ok, what, detail=""):
    """Print one result line and count failures."""
    global failed
    if ok:
        print(f"ok - {what}")
    else:
        failed += 1
        print(f"not ok - {what}" + (f": {detail}" if detail else ""))


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def duration_s(text):
    """'1m30s' / '30s' / '500ms' -> seconds (compose and systemd spellings)."""
    total = 0.0
    for num, unit in re.findall(r"([0-9.]+)\s*(ms|min|m|s|h)?", str(text)):
        total += float(num) * {"ms": 0.001, "s": 1, "m": 60, "min": 60, "h": 3600, "": 1}[unit]
    return total


def conf_str(text, key):
    """A string key of a galera-proxy (libconfig) file, at any nesting: the first match."""
    m = re.search(r'^\s*' + key + r'\s*=\s*"([^"]*)"\s*;', text, re.M)
    return m.group(1) if m else None


def conf_int(text, key):
    m = re.search(r'^\s*' + key + r'\s*=\s*([0-9]+)\s*;', text, re.M)
    return int(m.group(1)) if m else None


def monitor_password(text):
    """monitor.password, or what monitor.password_file holds (relative: to the config)."""
    m = re.search(r"monitor\s*=\s*\{[^}]*?password(_file)?\s*=\s*\"([^\"]*)\"", text, re.S)
    if not m:
        return None
    if not m.group(1):
        return m.group(2)
    path = os.path.join(D, "galera-proxy", m.group(2))
    if not os.path.isfile(path):
        return None
    data = read(path)
    return data[:-1] if data.endswith("\n") else data


def host_port(addr):
    host, _, port = addr.rpartition(":")
    return host, int(port)


out = subprocess.run(["docker-compose", "-f", os.path.join(D, "compose.yml"), "config"],
                     capture_output=True, text=True, check=True).stdout
compose = yaml.safe_load(out)
svc = compose["services"]
# One-shot helpers without a network (tls-init) have no address: checked on their own below.
offline = {n: s for n, s in svc.items() if s.get("network_mode") == "none"}
svc = {n: s for n, s in svc.items() if n not in offline}
net = compose["networks"]["gp"]["ipam"]["config"][0]
subnet = ipaddress.ip_network(net["subnet"])
ip_range = ipaddress.ip_network(net["ip_range"])
gateway = ipaddress.ip_address(net["gateway"])


def ip_of(name):
    return svc[name]["networks"]["gp"]["ipv4_address"]


def env_of(name):
    return svc[name].get("environment", {}) or {}


# ---- the network ----------------------------------------------------------------------------
ips = {name: ip_of(name) for name in svc}
check(len(set(ips.values())) == len(ips), "every service has its own fixed address",
      str(ips))
bad = [n for n, a in ips.items()
       if ipaddress.ip_address(a) not in subnet or ipaddress.ip_address(a) in ip_range
       or ipaddress.ip_address(a) == gateway]
check(not bad, f"fixed addresses are in {subnet}, outside ip_range {ip_range}, not the gateway",
      str(bad))

# ---- the two proxies: galera-proxy and keepalived ----------------------------------------------
proxies = ["proxy-a", "proxy-b"]
pconf = {p: read(os.path.join(D, "galera-proxy", p + ".conf")) for p in proxies}
kconf = {p: read(os.path.join(D, "keepalived", p + ".conf")) for p in proxies}
vips = {conf_str(pconf[p], "vip") for p in proxies}
kvips = set()
for p in proxies:
    kvips.update(re.findall(r"virtual_ipaddress\s*\{\s*([0-9.]+)/", kconf[p]))
check(len(vips) == 1 and vips == kvips, "galera-proxy vip = keepalived virtual_ipaddress",
      f"{vips} vs {kvips}")
vip = ipaddress.ip_address(next(iter(vips)))
check(vip in subnet and vip not in ip_range and str(vip) not in ips.values(),
      f"the VIP {vip} is in the subnet, outside ip_range and nobody's fixed address")

for p in proxies:
    other = proxies[1 - proxies.index(p)]
    _, http_port = host_port(conf_str(pconf[p], "http_listen"))
    check(conf_str(pconf[p], "name") == p, f"{p}: galera-proxy name is the service name")
    check(conf_str(pconf[p], "peer") == f"{ips[other]}:{http_port}",
          f"{p}: galera-proxy peer is {other}'s address and HTTP port",
          conf_str(pconf[p], "peer"))
    src = re.search(r"unicast_src_ip\s+(\S+)", kconf[p])
    peer = re.search(r"unicast_peer\s*\{\s*(\S+)\s*\}", kconf[p])
    check(src and src.group(1) == ips[p], f"{p}: keepalived unicast_src_ip is its address")
    check(peer and peer.group(1) == ips[other], f"{p}: keepalived unicast_peer is {other}")
    scripts = re.findall(r'(?:script|notify)\s+"([^"]+)"', kconf[p])
    check(scripts and all(f"127.0.0.1:{http_port}" in s for s in scripts),
          f"{p}: keepalived check and notify call the proxy's HTTP port {http_port}",
          str(scripts))
    mounts = svc[p]["volumes"]
    check(any(m.endswith(f"docker/galera-proxy/{p}.conf:/etc/galera-proxy/galera-proxy.conf:ro")
              for m in mounts) and
          any(m.endswith(f"docker/keepalived/{p}.conf:/etc/keepalived/keepalived.conf:ro")
              for m in mounts),
          f"{p}: its own two config files are mounted at the documented paths")
    caps = set(svc[p].get("cap_add", []))
    check({"NET_ADMIN", "NET_BROADCAST", "NET_RAW"} <= caps,
          f"{p}: keepalived's capabilities NET_ADMIN NET_BROADCAST NET_RAW are added")
    grace = duration_s(svc[p].get("stop_grace_period", "10s"))
    need = (conf_int(pconf[p], "fence_timeout_ms") + conf_int(pconf[p], "shutdown_timeout_ms"))
    check(grace * 1000 >= need + 5000,
          f"{p}: stop_grace_period {grace:g}s covers fence + shutdown timeouts ({need} ms) + 5 s")

vrids = {re.search(r"virtual_router_id\s+(\d+)", kconf[p]).group(1) for p in proxies}
prios = [re.search(r"priority\s+(\d+)", kconf[p]).group(1) for p in proxies]
check(len(vrids) == 1, "keepalived: one virtual_router_id on both")
check(len(set(prios)) == 2, "keepalived: different priorities (a deterministic first MASTER)")
check(all(re.search(r"state\s+BACKUP", kconf[p]) and "nopreempt" in kconf[p] for p in proxies),
      "keepalived: both state BACKUP + nopreempt (a returning proxy does not take the VIP back)")

# ---- the Galera nodes -----------------------------------------------------------------------
dbs = ["db1", "db2", "db3"]
gcnf = read(os.path.join(D, "mariadb", "galera.cnf"))
gcomm = re.search(r"^wsrep_cluster_address\s*=\s*gcomm://(\S+)", gcnf, re.M).group(1).split(",")
check(gcomm == [ips[d] for d in dbs], "galera.cnf gcomm:// lists db1 db2 db3", str(gcomm))
for p in proxies:
    addrs = re.findall(r'address\s*=\s*"([^"]+)"', pconf[p])
    check(addrs == [f"{ips[d]}:3306" for d in dbs], f"{p}: backends are db1 db2 db3 on 3306",
          str(addrs))
for d in dbs:
    cmd = " ".join(svc[d]["command"])
    check(f"--wsrep-node-address={ips[d]}" in cmd and f"--wsrep-node-name={d}" in cmd,
          f"{d}: wsrep node name and address are its own")
    peers = str(env_of(d).get("GALERA_PEERS", "")).split(",")
    check(sorted(peers) == sorted(ips[x] for x in dbs if x != d),
          f"{d}: GALERA_PEERS are the two other nodes", str(peers))
seeds = [d for d in dbs if str(env_of(d).get("GALERA_SEED", "0")) == "1"]
check(seeds == ["db1"], "exactly one seed node may create a new cluster (db1)", str(seeds))
markers = {d: [v for v in svc[d]["volumes"] if v.startswith("galera-cluster:")] for d in dbs}
check(all(len(m) == 1 and m[0].split(":")[1] == env_of(d).get("GALERA_MARKER_DIR")
          for d, m in markers.items()),
      "all nodes share the volume of the cluster-created marker at GALERA_MARKER_DIR")

# ---- credentials ----------------------------------------------------------------------------
sql = read(os.path.join(D, "mariadb", "init", "10-galera-proxy.sql"))
mon = re.search(r"CREATE USER IF NOT EXISTS 'monitor'@'([^']+)' IDENTIFIED BY '([^']+)'", sql)
check(mon and all(monitor_password(pconf[p]) == mon.group(2) for p in proxies) and
      all(conf_str(pconf[p], "user") == "monitor" for p in proxies),
      "monitor account: the proxies' user and password = init SQL")
if mon:
    pattern = mon.group(1).replace(".", r"\.").replace("%", ".*")
    check(all(re.fullmatch(pattern, ips[p]) for p in proxies),
          f"monitor account host '{mon.group(1)}' matches both proxies' addresses")
sst = re.search(r"^wsrep_sst_auth\s*=\s*(\S+):(\S+)", gcnf, re.M)
sst_sql = re.search(r"CREATE USER IF NOT EXISTS '([^']+)'@'localhost' IDENTIFIED BY '([^']+)'",
                    sql)
check(sst and sst_sql and sst.groups() == sst_sql.groups(),
      "SST account: galera.cnf wsrep_sst_auth = init SQL")
wp = env_of("wordpress")
db_env = env_of("db1")
check(wp.get("WORDPRESS_DB_HOST") == f"{vip}:{host_port(conf_str(pconf['proxy-a'], 'listen'))[1]}",
      "WordPress DB_HOST is the VIP and the proxies' read-write port", wp.get("WORDPRESS_DB_HOST"))
check((wp.get("WORDPRESS_DB_USER"), wp.get("WORDPRESS_DB_PASSWORD"), wp.get("WORDPRESS_DB_NAME"))
      == (db_env.get("MARIADB_USER"), db_env.get("MARIADB_PASSWORD"),
          db_env.get("MARIADB_DATABASE")),
      "WordPress user, password and database = MARIADB_USER/PASSWORD/DATABASE")

# ---- monitoring: the files of metrics/ used as they are ---------------------------------------
aliases = {}
for name, s in svc.items():
    for a in s["networks"]["gp"].get("aliases", []) or []:
        aliases[a] = name
    aliases[name] = name
prom = yaml.safe_load(read(os.path.join(ROOT, "metrics", "prometheus.yml")))
targets = [t for sc in prom["scrape_configs"] for st in sc["static_configs"]
           for t in st["targets"]]
scraped = {aliases.get(host_port(t)[0]) for t in targets}
check(scraped == set(proxies) and all(
    host_port(t)[1] == host_port(conf_str(pconf[aliases[host_port(t)[0]]], "http_listen"))[1]
    for t in targets), "metrics/prometheus.yml targets reach both proxies' HTTP port by alias",
    str(targets))
pvols = svc["prometheus"]["volumes"]
check(any(v.endswith("metrics/prometheus.yml:/etc/prometheus/prometheus.yml:ro") for v in pvols)
      and all(any(v.endswith(f"metrics/{r}:/etc/prometheus/{r}:ro") for v in pvols)
              for r in prom.get("rule_files", [])),
      "Prometheus gets metrics/prometheus.yml and its rule files side by side")
ptail = yaml.safe_load(read(os.path.join(ROOT, "metrics", "promtail.yml")))
urls = [c["url"] for c in ptail["clients"]]
check(all(aliases.get(re.match(r"https?://([^:/]+)", u).group(1)) == "loki" for u in urls),
      "metrics/promtail.yml pushes to the loki service (by alias)", str(urls))
globs = [st["labels"]["__path__"] for sc in ptail["scrape_configs"]
         for st in sc.get("static_configs", []) if "__path__" in st.get("labels", {})]
logs = [env_of(p).get("GALERA_PROXY_LOG_FILE", "") for p in proxies]
check(globs and all(any(re.fullmatch(g.replace(".", r"\.").replace("*", "[^/]*"), f) for g in globs)
                    for f in logs),
      "the proxies' GALERA_PROXY_LOG_FILE match promtail.yml's __path__", f"{logs} vs {globs}")
logvol = {p: [v.split(":")[0] for v in svc[p]["volumes"] if v.split(":")[1] ==
              os.path.dirname(logs[proxies.index(p)])] for p in proxies}
ptvol = [v.split(":")[0] for v in svc["promtail"]["volumes"]
         if globs and v.split(":")[1] == os.path.dirname(globs[0])]
check(ptvol and all(logvol[p] == ptvol for p in proxies),
      "promtail mounts the volume the proxies write their logs into", f"{logvol} vs {ptvol}")
ds = yaml.safe_load(read(os.path.join(D, "grafana", "provisioning", "datasources",
                                      "galera-proxy.yml")))
check(all(aliases.get(re.match(r"https?://([^:/]+)", d["url"]).group(1)) for d in
          ds["datasources"]) and [d["type"] for d in ds["datasources"] if d.get("isDefault")]
      == ["prometheus"], "Grafana data sources point at compose services; Prometheus is default")
dp = yaml.safe_load(read(os.path.join(D, "grafana", "provisioning", "dashboards",
                                      "galera-proxy.yml")))
dpath = dp["providers"][0]["options"]["path"]
check(any(v.endswith(":ro") and v.split(":")[1].startswith(dpath + "/") and
          v.split(":")[0].endswith("metrics/grafana-dashboard.json")
          for v in svc["grafana"]["volumes"]),
      "Grafana's dashboard provider path holds metrics/grafana-dashboard.json")

# ---- TLS: tls-init makes the files the proxies' tls section names ---------------------------
tls_init = offline.get("tls-init", {})
tls_vol = [v.split(":")[0] for v in tls_init.get("volumes", []) if ":/tls" in v]
for p in proxies:
    mnt = [v for v in svc[p]["volumes"] if v.endswith(":/etc/galera-proxy/tls:ro")]
    named = all(conf_str(pconf[p], k).startswith("/etc/galera-proxy/tls/")
                for k in ("cert", "key", "peer_ca"))
    check(tls_vol and mnt and mnt[0].split(":")[0] == tls_vol[0] and named,
          f"{p}: tls cert, key and peer_ca are in the volume tls-init fills", str(mnt))
    check(svc[p].get("depends_on", {}).get("tls-init", {}).get("condition") ==
          "service_completed_successfully", f"{p}: starts once tls-init has made the files")

# ---- bind mounts and the image ---------------------------------------------------------------
missing = []
for name, s in list(svc.items()) + list(offline.items()):
    for v in s.get("volumes", []):
        src = v.split(":")[0]
        if src.startswith("/") and not src.startswith("/var/log/journal") and \
                not os.path.exists(src):
            missing.append(f"{name}: {src}")
check(not missing, "every bind-mounted file of the repository exists", str(missing))
dockerfile = read(os.path.join(D, "Dockerfile"))
m = re.search(r"GALERA_PROXY_HTTP=([0-9.]+:[0-9]+)", dockerfile)
check(m and all(host_port(m.group(1))[1] == host_port(conf_str(pconf[p], "http_listen"))[1]
                for p in proxies),
      "the image's GALERA_PROXY_HTTP (HEALTHCHECK, entrypoint) uses the configs' HTTP port")

# ---- the systemd unit ------------------------------------------------------------------------
unit = read(os.path.join(D, "systemd", "galera-proxy.service"))
example = read(os.path.join(ROOT, "proxy", "galera-proxy.conf.example"))
stop = re.search(r"^TimeoutStopSec=(\S+)", unit, re.M)
need = conf_int(example, "fence_timeout_ms") + conf_int(example, "shutdown_timeout_ms")
check(stop and duration_s(stop.group(1)) * 1000 >= need + 5000,
      f"systemd TimeoutStopSec covers the default fence + shutdown timeouts ({need} ms) + 5 s")

sys.exit(1 if failed else 0)
