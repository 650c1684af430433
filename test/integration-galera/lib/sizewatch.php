<?php
// sizewatch.php - polls a node's wsrep_cluster_size every 10 ms; reports when it drops.
//
//   php sizewatch.php PORT MAX_SECONDS
// Connects to 127.0.0.1:PORT as app/app, prints "ready T SIZE" once, then "drop T SIZE" (epoch
// ms) at the first poll that returns a smaller size and exits 0; "timeout T SIZE" and exit 1
// after MAX_SECONDS. Used to measure when Galera itself has dropped a killed node.
declare(strict_types=1);
mysqli_report(MYSQLI_REPORT_OFF);

function ms(): int
{
    return (int)floor(microtime(true) * 1000);
}

function size(mysqli $m): int
{
    $r = @$m->query("SHOW GLOBAL STATUS LIKE 'wsrep_cluster_size'");
    return $r instanceof mysqli_result ? (int)($r->fetch_row()[1] ?? -1) : -1;
}

[$_, $port, $max] = $argv;
$m = mysqli_init();
$m->options(MYSQLI_OPT_CONNECT_TIMEOUT, 5);
$m->options(MYSQLI_OPT_READ_TIMEOUT, 5);
if (!@$m->real_connect('127.0.0.1', 'app', 'app', '', (int)$port)) {
    echo 'error ' . ms() . ' ' . mysqli_connect_error() . "\n";
    exit(2);
}
$first = size($m);
echo 'ready ' . ms() . " $first\n";
fflush(STDOUT);
$end = ms() + 1000 * (int)$max;
while (ms() < $end) {
    $s = size($m);
    if ($s >= 0 && $s < $first) {
        echo 'drop ' . ms() . " $s\n";
        exit(0);
    }
    usleep(10000);
}
echo 'timeout ' . ms() . " $first\n";
exit(1);
