<?php
// writer.php - writes a unique id every INTERVAL ms through the proxy and logs every outcome.
//
//   php writer.php HOST PORT TABLE BASE_ID [INTERVAL_MS]
// Runs until SIGTERM/SIGINT. Autocommit INSERT INTO TABLE (id, t) VALUES (BASE_ID + n, now).
// Lines on stdout (times in epoch ms):
//   conn T NODE             a new session, landed on wsrep node NODE
//   cerr T0 T1 ERRNO MSG    connect failed
//   ok ID T0 T1             the INSERT was acknowledged
//   err ID T0 T1 ERRNO MSG  the INSERT failed (not acknowledged; the session is dropped)
declare(strict_types=1);
mysqli_report(MYSQLI_REPORT_OFF);
pcntl_async_signals(true);
$stop = false;
pcntl_signal(SIGTERM, function () use (&$stop) { $stop = true; });
pcntl_signal(SIGINT, function () use (&$stop) { $stop = true; });

function ms(): int
{
    return (int)floor(microtime(true) * 1000);
}

function say(string $s): void
{
    fwrite(STDOUT, str_replace(["\n", "\r"], ' ', $s) . "\n");
    fflush(STDOUT);
}

[$_, $host, $port, $table, $base] = $argv;
$interval = (int)($argv[5] ?? 10);
$n = 0;
$m = null;
while (!$stop) {
    if ($m === null) {
        $m = mysqli_init();
        $m->options(MYSQLI_OPT_CONNECT_TIMEOUT, 5);
        $m->options(MYSQLI_OPT_READ_TIMEOUT, 15);
        $t0 = ms();
        if (!@$m->real_connect($host, 'app', 'app', 'test', (int)$port)) {
            say("cerr $t0 " . ms() . ' ' . mysqli_connect_errno() . ' ' . mysqli_connect_error());
            $m = null;
            usleep($interval * 1000);
            continue;
        }
        $r = @$m->query('SELECT @@wsrep_node_name');
        $node = $r instanceof mysqli_result ? (string)($r->fetch_row()[0] ?? '?') : '?';
        say('conn ' . ms() . " $node");
    }
    $id = (int)$base + ++$n;
    $t0 = ms();
    $ok = @$m->query("INSERT INTO $table (id, t) VALUES ($id, $t0)");
    $t1 = ms();
    if ($ok) {
        say("ok $id $t0 $t1");
    } else {
        say("err $id $t0 $t1 {$m->errno} {$m->error}");
        @$m->close();
        $m = null;
    }
    usleep($interval * 1000);
}
if ($m !== null) {
    @$m->close();
}
