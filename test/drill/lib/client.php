<?php
// client.php - the drills' writer: a unique increasing id every INTERVAL ms, every outcome logged.
//
//   php client.php write conn|persist HOST PORT BASE [INTERVAL_MS [CONNECT_TIMEOUT_S]]
//   php client.php size SOCKET
//
// write: INSERT INTO test.w (id, t, node) VALUES (BASE + n, T0, @@wsrep_node_name) as app/app,
// autocommit, on a fixed INTERVAL_MS grid (a late write does not bunch up the next ones).
// "conn" opens a connection per write (the PHP-FPM way); "persist" keeps one session and
// reconnects only after an error. CONNECT_TIMEOUT_S (default 1) bounds each connect. Runs until
// SIGTERM.
// The persistent session carries state a move to another node must keep (issue 17): the schema
// (USE test, no schema at connect), SET NAMES, sql_mode, time_zone, the isolation level and two
// server-side prepared statements; every write is the prepared INSERT (unqualified table: the
// schema), then the prepared check reads the state back. A value that differs is an error
// ("state"): the session lost it, and is dropped. Lines on stdout, times in epoch ms:
//   ok ID T0 T1                 acknowledged (T0 sent, T1 answered)
//   err ID T0 T1 ERRNO STMT: MSG  STMT (insert, check, setup) failed; for insert ID is not
//                               acknowledged; ERRNO "state" for state that did not survive
//                               (the session is dropped after any err)
//   cerr ID T0 T1 ERRNO MSG     could not connect; ID was not sent
//   conn T                      persist: a new session
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
    $db = $GLOBALS['connect_db'] ?? 'test';
    if (!@$m->real_connect($host, $user, $pw, $db, $port, $socket !== '' ? $socket : null)) {
        return mysqli_connect_errno() . ' ' . mysqli_connect_error();
    }
    return $m;
}

// The state the persistent session sets up, and what the check must read back.
const PERSIST_SETUP = [
    "SET NAMES utf8mb4 COLLATE utf8mb4_unicode_ci",
    "SET SESSION sql_mode = 'ANSI_QUOTES,STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION'",
    "SET SESSION time_zone = '+05:30'",
    "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED",
];
const PERSIST_EXPECT = ['test', 'utf8mb4', 'utf8mb4_unicode_ci',
    'ANSI_QUOTES,STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION', '+05:30', 'READ-COMMITTED'];
const PERSIST_CHECK = "SELECT DATABASE(), @@character_set_client, @@collation_connection,"
    . " @@sql_mode, @@time_zone, @@tx_isolation";

/** persist_open: a session with the state set up and both statements prepared, or an error. */
function persist_open(string $host, int $port): array|string
{
    $GLOBALS['connect_db'] = null; // the schema comes from USE: session state, not the login
    $m = connect_to($host, $port);
    $GLOBALS['connect_db'] = 'test';
    if (is_string($m)) {
        return $m;
    }
    $fail = fn(string $what) => "{$m->errno} setup: $what: {$m->error}";
    if (!@$m->select_db('test')) {
        $r = $fail('USE test');
        @$m->close();
        return $r;
    }
    foreach (PERSIST_SETUP as $q) {
        if (!@$m->query($q)) {
            $r = $fail($q);
            @$m->close();
            return $r;
        }
    }
    $ins = @$m->prepare("INSERT INTO w (id, t, node) VALUES (?, ?, @@wsrep_node_name)");
    $chk = $ins ? @$m->prepare(PERSIST_CHECK) : false;
    if (!$ins || !$chk) {
        $r = $fail('prepare');
        @$m->close();
        return $r;
    }
    return [$m, $ins, $chk];
}

/** persist_check: null when the session's state reads back as set up, else what differs. */
function persist_check(mysqli_stmt $chk): ?array
{
    if (!@$chk->execute()) {
        return [$chk->errno, "check: {$chk->error}"];
    }
    $row = array_fill(0, 6, null);
    $chk->bind_result($row[0], $row[1], $row[2], $row[3], $row[4], $row[5]);
    $got = @$chk->fetch();
    $chk->free_result();
    if ($got !== true) {
        return [$chk->errno ?: 'state', "check: no row {$chk->error}"];
    }
    $names = ['schema', 'charset', 'collation', 'sql_mode', 'time_zone', 'isolation'];
    $bad = [];
    foreach (PERSIST_EXPECT as $i => $want) {
        if ((string)$row[$i] !== $want) {
            $bad[] = "{$names[$i]} '{$row[$i]}' (not '$want')";
        }
    }
    return $bad ? ['state', 'check: ' . implode(', ', $bad)] : null;
}

function run_write(string $mode, string $host, int $port, int $base, int $interval): void
{
    global $stop;
    $n = 0;
    $m = null;
    $ins = $chk = null;
    $next = ms();
    while (!$stop) {
        $id = $base + ++$n;
        $t0 = ms();
        if ($m === null) {
            $c = $mode === 'persist' ? persist_open($host, $port) : connect_to($host, $port);
            if (is_string($c)) {
                say("cerr $id $t0 " . ms() . " $c");
            } elseif (is_array($c)) {
                [$m, $ins, $chk] = $c;
                say('conn ' . ms());
            } else {
                $m = $c;
            }
        }
        if ($m !== null && $mode === 'persist') {
            $ok = @$ins->bind_param('ii', $id, $t0) && @$ins->execute();
            $t1 = ms();
            if ($ok) {
                say("ok $id $t0 $t1");
                $bad = persist_check($chk);
                if ($bad !== null) {
                    say("err $id $t0 " . ms() . " {$bad[0]} {$bad[1]}");
                    $ok = false;
                }
            } else {
                say("err $id $t0 $t1 {$ins->errno} insert: {$ins->error}");
            }
            if (!$ok) {
                @$m->close();
                $m = $ins = $chk = null;
            }
        } elseif ($m !== null) {
            $sql = "INSERT INTO test.w (id, t, node) VALUES ($id, $t0, @@wsrep_node_name)";
            $ok = @$m->query($sql);
            $t1 = ms();
            if ($ok) {
                say("ok $id $t0 $t1");
            } else {
                say("err $id $t0 $t1 {$m->errno} insert: {$m->error}");
            }
            @$m->close();
            $m = null;
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
