<?php
// causal.php - write a row through the read-write endpoint, read it at once through the read-only one.
//
//   php causal.php HOST RW_PORT RO_PORT TABLE BASE_ID N
// One session on each endpoint. N times: INSERT INTO TABLE (id, v) VALUES (BASE_ID + i, i) on
// the read-write session (autocommit: acknowledged when it returns), then at once
// SELECT v FROM TABLE WHERE id = BASE_ID + i on the read-only session. A read that does not
// find the row is stale: it did not see a transaction committed before it began.
// Prints one JSON line: n, stale, errors (by "phase:code"), the read-only session's node and
// @@wsrep_sync_wait, the read-write session's node, and the reads' latency (ms: avg, p50, p99,
// max). Exit status 2 if a session cannot be opened.
declare(strict_types=1);
mysqli_report(MYSQLI_REPORT_OFF);

[$_, $host, $rwPort, $roPort, $table, $base, $n] = $argv;
$base = (int)$base;
$n = (int)$n;

function open(string $host, string $port): mysqli
{
    $m = mysqli_init();
    $m->options(MYSQLI_OPT_CONNECT_TIMEOUT, 10);
    $m->options(MYSQLI_OPT_READ_TIMEOUT, 30);
    if (!@$m->real_connect($host, 'app', 'app', 'test', (int)$port)) {
        fwrite(STDERR, "causal.php: connect to $host:$port: " . mysqli_connect_error() . "\n");
        exit(2);
    }
    return $m;
}

function one(mysqli $m, string $sql): ?string
{
    $r = $m->query($sql);
    if (!$r instanceof mysqli_result)
        return null;
    $row = $r->fetch_row();
    return $row === null ? null : (string)$row[0];
}

$rw = open($host, $rwPort);
$ro = open($host, $roPort);
$out = [
    'n' => 0, 'stale' => 0, 'errors' => [],
    'rw_node' => one($rw, 'SELECT @@wsrep_node_name'),
    'ro_node' => one($ro, 'SELECT @@wsrep_node_name'),
    'ro_sync_wait' => one($ro, 'SELECT @@wsrep_sync_wait'),
];
$lat = [];
for ($i = 1; $i <= $n; $i++) {
    $id = $base + $i;
    if ($rw->query("INSERT INTO $table (id, v) VALUES ($id, $i)") !== true) {
        $k = 'write:' . $rw->errno;
        $out['errors'][$k] = ($out['errors'][$k] ?? 0) + 1;
        continue;
    }
    $t0 = hrtime(true);
    $r = $ro->query("SELECT v FROM $table WHERE id = $id");
    $lat[] = (hrtime(true) - $t0) / 1e6;
    if (!$r instanceof mysqli_result) {
        $k = 'read:' . $ro->errno;
        $out['errors'][$k] = ($out['errors'][$k] ?? 0) + 1;
        continue;
    }
    $out['n']++;
    if ($r->fetch_row() === null)
        $out['stale']++;
}
sort($lat);
$c = count($lat);
$pct = fn (float $p): float => $c ? round($lat[min($c - 1, (int)floor($p * $c))], 2) : 0.0;
$out['read_ms'] = [
    'avg' => $c ? round(array_sum($lat) / $c, 2) : 0.0,
    'p50' => $pct(0.5), 'p99' => $pct(0.99), 'max' => $c ? round($lat[$c - 1], 2) : 0.0,
];
echo json_encode($out), "\n";
