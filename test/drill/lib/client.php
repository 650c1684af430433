<?php
// client.php - the drills' writer: a unique increasing id every INTERVAL ms, every outcome logged.
//
//   php client.php write conn|persist HOST PORT BASE [INTERVAL_MS [CONNECT_TIMEOUT_S]]
//   php client.php size SOCKET
//
// write: INSERT INTO test.w (id, t, node) VALUES (BASE + n, T0, @@wsrep_node_name) as app/app,
// autocommit, on a fixed INTERVAL_MS grid (a late write does not bunch up the next ones).
// "conn" opens a connection per write (the PHP-FPM way); "persist" keeps one session and
// reconnects only after an error. CONNECT_TIMEOUT_S (default 1) bounds each connect. Runs until SIGTERM. Lines on stdout, times in epoch ms:
//   ok ID T0 T1               acknowledged (T0 sent, T1 answered)
//   err ID T0 T1 ERRNO MSG    the INSERT failed: not acknowledged (the session is dropped)
//   cerr ID T0 T1 ERRNO MSG   could not connect; ID was not sent
//   conn T                    persist: a new session
// size: watches wsrep_cluster_size over a node's unix socket every 50 ms, prints
// "size T N" at start and on every change (when Galera itself drops a node).
declare(strict_types=1);
mysqli_report(MYSQLI_REPORT_OFF);
pcntl_async_signals(true);
$stop = false;
$connect_timeout = 1;
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

function connect_to(
    string $host,
    int $port,
    string $socket = '',
    string $user = 'app',
    string $pw = 'app'
): mysqli|string {
    global $connect_timeout;
    $m = mysqli_init();
    // 1 s by default: during a VIP move the address may not answer ARP at all; fail fast and
    // try again. Drill 7 gives more (PHP's own default is 60 s): a SYN the old host holds
    // back during a planned restart is sent again after 1 s and 3 s, and must be waited for.
    $m->options(MYSQLI_OPT_CONNECT_TIMEOUT, $connect_timeout);
    // 3 s: a query to a host that died mid-flight errs when the new master answers RST, sooner.
    $m->options(MYSQLI_OPT_READ_TIMEOUT, 3);
    if (!@$m->real_connect($host, $user, $pw, 'test', $port, $socket !== '' ? $socket : null)) {
        return mysqli_connect_errno() . ' ' . mysqli_connect_error();
    }
    return $m;
}

function run_write(string $mode, string $host, int $port, int $base, int $interval): void
{
    global $stop;
    $n = 0;
    $m = null;
    $next = ms();
    while (!$stop) {
        $id = $base + ++$n;
        $t0 = ms();
        if ($m === null) {
            $c = connect_to($host, $port);
            if (is_string($c)) {
                say("cerr $id $t0 " . ms() . " $c");
            } else {
                $m = $c;
                if ($mode === 'persist') {
                    say('conn ' . ms());
                }
            }
        }
        if ($m !== null) {
            $sql = "INSERT INTO test.w (id, t, node) VALUES ($id, $t0, @@wsrep_node_name)";
            $ok = @$m->query($sql);
            $t1 = ms();
            if ($ok) {
                say("ok $id $t0 $t1");
            } else {
                say("err $id $t0 $t1 {$m->errno} {$m->error}");
            }
            if (!$ok || $mode === 'conn') {
                @$m->close();
                $m = null;
            }
        }
        $next += $interval;
        $now = ms();
        if ($next > $now) {
            usleep(($next - $now) * 1000);
        } else {
            $next = $now; // behind: go on at once, do not burst to catch up
        }
    }
    if ($m !== null) {
        @$m->close();
    }
}

function run_size(string $socket): void
{
    global $stop;
    $m = null;
    $last = null;
    while (!$stop) {
        if ($m === null) {
            $c = connect_to('localhost', 0, $socket, 'root', '');
            if (is_string($c)) {
                usleep(200000);
                continue;
            }
            $m = $c;
        }
        $r = @$m->query("SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS"
            . " WHERE VARIABLE_NAME='wsrep_cluster_size'");
        if ($r instanceof mysqli_result) {
            $v = (string)($r->fetch_row()[0] ?? '?');
            if ($v !== $last) {
                say('size ' . ms() . " $v");
                $last = $v;
            }
        } else {
            @$m->close();
            $m = null;
        }
        usleep(50000);
    }
}

$cmd = $argv[1] ?? '';
if ($cmd === 'write' && count($argv) >= 6 && in_array($argv[2], ['conn', 'persist'], true)) {
    $connect_timeout = max(1, (int)($argv[7] ?? 1));
    run_write($argv[2], $argv[3], (int)$argv[4], (int)$argv[5], (int)($argv[6] ?? 10));
} elseif ($cmd === 'size' && count($argv) === 3) {
    run_size($argv[2]);
} else {
    fwrite(STDERR, "usage: client.php write conn|persist HOST PORT BASE [INTERVAL_MS]\n"
        . "       client.php size SOCKET\n");
    exit(2);
}
