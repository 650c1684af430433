<?php
// json.php - JSON checks for the HTTP integration tests (PHP: json is built in, no jq needed).
//
//   php json.php get FILE PATH          print one value; PATH like writer, reload.failures,
//                                       backends.0.name, backends[name=db1].state
//   php json.php prom FILE              value of a Prometheus instant query answer
//                                       ("none" if empty, "many" if several series)
//   php json.php status FILE            /status has the documented fields and types
//   php json.php dashboard FILE SCRAPE  Grafana dashboard is well-formed and every query
//                                       names a metric present in the /metrics scrape SCRAPE
// Exit 0 when fine, 1 with reasons on stdout otherwise, 2 on bad usage.

function load(string $file)
{
	$text = @file_get_contents($file);
	if ($text === false) {
		echo "cannot read $file\n";
		exit(1);
	}
	$v = json_decode($text, true);
	if (json_last_error() !== JSON_ERROR_NONE) {
		echo "$file: invalid JSON: " . json_last_error_msg() . "\n";
		exit(1);
	}
	return $v;
}

function walk($v, string $path)
{
	foreach (explode('.', $path) as $part) {
		if (preg_match('/^(\w+)\[(\w+)=([^\]]*)\]$/', $part, $m)) {
			$list = is_array($v) && array_key_exists($m[1], $v) ? $v[$m[1]] : null;
			$v = null;
			foreach ((array)$list as $item) {
				if (is_array($item) && isset($item[$m[2]]) && (string)$item[$m[2]] === $m[3]) {
					$v = $item;
					break;
				}
			}
			if ($v === null)
				return ['missing', null];
			continue;
		}
		if (!is_array($v) || !array_key_exists($part, $v))
			return ['missing', null];
		$v = $v[$part];
	}
	return ['ok', $v];
}

function show($v): string
{
	if ($v === null)
		return 'null';
	if (is_bool($v))
		return $v ? 'true' : 'false';
	if (is_array($v))
		return json_encode($v);
	return (string)$v;
}

function check_status(array $s): array
{
	$bad = [];
	$want = [
		'writer' => 'string|null', 'vrrp_state' => 'string', 'config_version' => 'integer',
		'healthy' => 'boolean', 'health' => 'string', 'last_change' => 'array|null',
		'backends' => 'array', 'reload' => 'array', 'listeners' => 'array',
		'no_writer_seconds' => 'double|integer', 'last_change_timeline' => 'array|null',
	];
	foreach ($want as $k => $types) {
		if (!array_key_exists($k, $s)) {
			$bad[] = "missing $k";
			continue;
		}
		$t = $s[$k] === null ? 'null' : gettype($s[$k]);
		if (!in_array($t, explode('|', $types), true))
			$bad[] = "$k is $t, want $types";
	}
	if (!in_array($s['vrrp_state'] ?? '', ['MASTER', 'BACKUP', 'FAULT', 'STOP', 'UNKNOWN'], true))
		$bad[] = 'vrrp_state not one of MASTER BACKUP FAULT STOP UNKNOWN';
	if (is_array($s['last_change'] ?? null)) {
		foreach (['at', 'from', 'to', 'reason'] as $k)
			if (!array_key_exists($k, $s['last_change']))
				$bad[] = "last_change.$k missing";
	}
	foreach (['successes', 'failures', 'last_ok', 'pending', 'resolving'] as $k)
		if (!array_key_exists($k, $s['reload'] ?? []))
			$bad[] = "reload.$k missing";
	$bk = ['name' => 'string', 'address' => 'string', 'state' => 'string', 'role' => 'string',
	       'wsrep_local_state' => 'integer|null', 'cluster_size' => 'integer|null',
	       'recv_queue' => 'integer|null', 'sessions' => 'integer', 'priority' => 'integer',
	       'up' => 'boolean', 'maintenance' => 'boolean'];
	foreach ($s['backends'] ?? [] as $i => $b) {
		foreach ($bk as $k => $types) {
			if (!array_key_exists($k, $b)) {
				$bad[] = "backends.$i.$k missing";
				continue;
			}
			$t = $b[$k] === null ? 'null' : gettype($b[$k]);
			if (!in_array($t, explode('|', $types), true))
				$bad[] = "backends.$i.$k is $t, want $types";
		}
		if (!in_array($b['role'] ?? '', ['writer', 'reader', 'none'], true))
			$bad[] = "backends.$i.role not writer|reader|none";
	}
	if (!count($s['backends'] ?? []))
		$bad[] = 'no backends';
	return $bad;
}

function check_dashboard(array $d, string $scrape_file): array
{
	$bad = [];
	$scrape = @file_get_contents($scrape_file);
	if ($scrape === false)
		return ["cannot read $scrape_file"];
	$exported = [];
	foreach (explode("\n", $scrape) as $line) {
		if (preg_match('/^(galera_proxy_[a-zA-Z0-9_]+)[{ ]/', $line, $m))
			$exported[$m[1]] = true;
	}
	foreach (['title', 'uid', 'schemaVersion', 'panels', 'templating'] as $k)
		if (!array_key_exists($k, $d))
			$bad[] = "dashboard: missing $k";
	$vars = array_column($d['templating']['list'] ?? [], 'type', 'name');
	if (($vars['DS_PROMETHEUS'] ?? '') !== 'datasource')
		$bad[] = 'templating: no datasource variable DS_PROMETHEUS';
	$ids = [];
	$exprs = [];
	foreach ($d['panels'] ?? [] as $i => $p) {
		$where = "panel $i (" . ($p['title'] ?? '?') . ')';
		foreach (['id', 'type', 'title', 'gridPos'] as $k)
			if (!isset($p[$k]))
				$bad[] = "$where: missing $k";
		if (isset($p['id'])) {
			if (isset($ids[$p['id']]))
				$bad[] = "$where: duplicate id {$p['id']}";
			$ids[$p['id']] = true;
		}
		foreach (['h', 'w', 'x', 'y'] as $k)
			if (!is_int($p['gridPos'][$k] ?? null))
				$bad[] = "$where: gridPos.$k not an integer";
		if (($p['type'] ?? '') === 'row')
			continue;
		if (($p['datasource']['type'] ?? '') !== 'prometheus' || empty($p['datasource']['uid']))
			$bad[] = "$where: datasource must be {type: prometheus, uid: ...}";
		if (empty($p['targets']))
			$bad[] = "$where: no targets";
		foreach ($p['targets'] ?? [] as $t) {
			if (empty($t['refId']) || empty($t['expr']))
				$bad[] = "$where: a target lacks refId or expr";
			else
				$exprs[] = [$where, $t['expr']];
		}
	}
	$used = [];
	foreach ($exprs as [$where, $e]) {
		if (!preg_match_all('/galera_proxy_[a-zA-Z0-9_]+/', $e, $m)) {
			$bad[] = "$where: query names no galera_proxy_ metric: $e";
			continue;
		}
		foreach ($m[0] as $name) {
			$used[$name] = true;
			if (!isset($exported[$name]))
				$bad[] = "$where: $name is not in the live /metrics scrape";
		}
	}
	// What the issue asks the dashboard to show.
	$need = ['galera_proxy_backend_is_writer' => 'writer timeline',
	         'galera_proxy_backend_state' => 'node states',
	         'galera_proxy_commands_total' => 'QPS by command',
	         'galera_proxy_request_duration_seconds_bucket' => 'latency',
	         'galera_proxy_client_connections_active' => 'sessions',
	         'galera_proxy_writer_changes_total' => 'failovers',
	         'galera_proxy_evictions_total' => 'evictions',
	         'galera_proxy_sessions_drained_total' => 'drains'];
	foreach ($need as $name => $what)
		if (!isset($used[$name]))
			$bad[] = "no panel shows $what ($name)";
	$all = implode("\n", array_column($exprs, 1));
	if (!str_contains($all, 'histogram_quantile(0.5,') || !str_contains($all, 'histogram_quantile(0.99,'))
		$bad[] = 'latency p50 and p99 queries missing';
	return $bad;
}

$argv = $_SERVER['argv'];
$cmd = $argv[1] ?? '';
switch ($cmd) {
case 'get':
	if (count($argv) !== 4)
		exit(2);
	[$st, $v] = walk(load($argv[2]), $argv[3]);
	echo $st === 'ok' ? show($v) : 'missing', "\n";
	exit(0);
case 'prom':
	$r = load($argv[2]);
	if (($r['status'] ?? '') !== 'success') {
		echo "error\n";
		exit(1);
	}
	$res = $r['data']['result'] ?? [];
	echo count($res) === 0 ? 'none' : (count($res) > 1 ? 'many' : $res[0]['value'][1]), "\n";
	exit(0);
case 'status':
	$bad = check_status(load($argv[2]));
	break;
case 'dashboard':
	if (count($argv) !== 4)
		exit(2);
	$bad = check_dashboard(load($argv[2]), $argv[3]);
	break;
default:
	fwrite(STDERR, "usage: json.php get|prom|status|dashboard ...\n");
	exit(2);
}
foreach ($bad as $b)
	echo "$b\n";
exit($bad ? 1 : 0);
