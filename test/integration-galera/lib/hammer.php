<?php
// hammer.php - one client updating the same few rows in short transactions through the proxy.
//
//   php hammer.php HOST PORT SECONDS SEED ROWS
// Each transaction: BEGIN; UPDATE t_hammer SET v = v + 1 WHERE id = a; ... id = b; COMMIT
// (a != b in random order, so clients also deadlock among themselves). On any error the
// transaction is rolled back (or the session dropped if it is gone) and the next one starts.
// Prints one JSON line at the end: commits (acknowledged), errors by "phase:code", commits per
// node, and "lost_commit" (a COMMIT whose outcome is unknown: the connection died during it).
declare(strict_types=1);
mysqli_report(MYSQLI_REPORT_OFF);

[$_, $host, $port, $secs, $seed, $rows] = $argv;
mt_srand((int)$seed);
$end = microtime(true) + (float)$secs;
$st = ['commits' => 0, 'errors' => [], 'nodes' => [], 'lost_commit' => 0, 'reconnects' => 0];
$m = null;
$node = '?';

function err(array &$st, string $phase, int $code): void
{
    $k = "$phase:$code";
    $st['errors'][$k] = ($st['errors'][$k] ?? 0) + 1;
}

while (microtime(true) < $end) {
    if ($m === null) {
        $m = mysqli_init();
        $m->options(MYSQLI_OPT_CONNECT_TIMEOUT, 5);
        $m->options(MYSQLI_OPT_READ_TIMEOUT, 20);
        if (!@$m->real_connect($host, 'app', 'app', 'test', (int)$port)) {
            err($st, 'connect', mysqli_connect_errno());
            $m = null;
            usleep(20000);
            continue;
        }
        $st['reconnects']++;
        $r = @$m->query('SELECT @@wsrep_node_name');
        $node = $r instanceof mysqli_result ? (string)($r->fetch_row()[0] ?? '?') : '?';
    }
    $a = mt_rand(1, (int)$rows);
    do {
        $b = mt_rand(1, (int)$rows);
    } while ($b === $a);
    $steps = [
        'begin' => 'BEGIN',
        'update1' => "UPDATE t_hammer SET v = v + 1 WHERE id = $a",
        'update2' => "UPDATE t_hammer SET v = v + 1 WHERE id = $b",
        'commit' => 'COMMIT',
    ];
    $failed = false;
    foreach ($steps as $phase => $sql) {
        if (@$m->query($sql) === true) {
            continue;
        }
        $code = $m->errno;
        err($st, $phase, $code);
        if ($code >= 2000) { // the session is gone
            if ($phase === 'commit') {
                $st['lost_commit']++;
            }
            @$m->close();
            $m = null;
        } else {
            @$m->query('ROLLBACK');
        }
        $failed = true;
        break;
    }
    if (!$failed) {
        $st['commits']++;
        $st['nodes'][$node] = ($st['nodes'][$node] ?? 0) + 1;
    }
}
echo json_encode($st), "\n";
