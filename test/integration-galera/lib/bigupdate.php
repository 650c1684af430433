<?php
// bigupdate.php - keeps the readers' apply queues busy: one big UPDATE after another.
//
//   php bigupdate.php HOST PORT TABLE SECONDS (or until SIGTERM)
// Each statement rewrites every row of TABLE (id, v, pad): a large write set that takes the
// readers a while to apply, so a small transaction committed meanwhile waits behind it in
// their apply queue. Prints one JSON line at the end: statements done, errors.
declare(strict_types=1);
mysqli_report(MYSQLI_REPORT_OFF);
pcntl_async_signals(true);
$stop = false;
pcntl_signal(SIGTERM, function () use (&$stop) { $stop = true; });

[$_, $host, $port, $table, $secs] = $argv;
$end = microtime(true) + (float)$secs;
$st = ['updates' => 0, 'errors' => 0];
$m = null;
while (!$stop && microtime(true) < $end) {
    if ($m === null) {
        $m = mysqli_init();
        $m->options(MYSQLI_OPT_CONNECT_TIMEOUT, 5);
        $m->options(MYSQLI_OPT_READ_TIMEOUT, 30);
        if (!@$m->real_connect($host, 'app', 'app', 'test', (int)$port)) {
            $st['errors']++;
            $m = null;
            usleep(100000);
            continue;
        }
    }
    if ($m->query("UPDATE $table SET v = v + 1, pad = REPEAT(CHAR(65 + v % 26), 200)") === true) {
        $st['updates']++;
    } else {
        $st['errors']++;
        if ($m->errno >= 2000)
            $m = null;
    }
}
echo json_encode($st), "\n";
