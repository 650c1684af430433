<?php
// lost.php - a mysqlnd client (mysqli or PDO) that reports what it sees when its server goes away mid-statement.
//
//   php lost.php HOST PORT MODE SQL      (LOST_API=mysqli|pdo; LOST_USER, LOST_PASS, LOST_DB)
//
// The arguments and the output are those of lost.c (see there); modes: once, loop, stmt (a
// server-side prepared statement), rows (an unbuffered result, a line a row), lazy (mysqli
// only: sent with MYSQLI_ASYNC, its answer read once stdin has a line). PHP's own
// warnings (mysqlnd prints "Packets out of order", "Error while reading ...") come out as
// "warn MESSAGE" lines, so that the caller sees every complaint of the library.

declare(strict_types=1);

if ($argc !== 5) {
    fwrite(STDERR, "usage: php lost.php HOST PORT once|loop|stmt|rows|lazy SQL\n");
    exit(2);
}
[, $host, $port, $mode, $sql] = $argv;
$port = (int)$port;
$api = getenv('LOST_API') ?: 'mysqli';
$user = getenv('LOST_USER') ?: 'app';
$pass = getenv('LOST_PASS') ?: 'app';
$db = getenv('LOST_DB') ?: 'test';
if (!in_array($mode, ['once', 'loop', 'stmt', 'rows', 'lazy'], true) || !in_array($api, ['mysqli', 'pdo'], true) ||
    ($mode === 'lazy' && $api !== 'mysqli')) {
    fwrite(STDERR, "lost.php: mode $mode or api $api not supported\n");
    exit(2);
}

function say(string $line): void
{
    echo $line, "\n";
    flush();
}

function now_ms(): int
{
    return intdiv(hrtime(true), 1000000);
}

set_error_handler(function (int $no, string $msg): bool {
    say('warn ' . str_replace("\n", ' ', $msg));
    return true;
});
mysqli_report(MYSQLI_REPORT_ERROR | MYSQLI_REPORT_STRICT);

function lost_connect(string $api)
{
    global $host, $port, $user, $pass, $db;
    if ($api === 'mysqli') {
        $m = mysqli_init();
        $m->options(MYSQLI_OPT_CONNECT_TIMEOUT, 10);
        $m->real_connect($host, $user, $pass, $db, $port);
        return $m;
    }
    return new PDO("mysql:host=$host;port=$port;dbname=$db", $user, $pass, [
        PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION,
        PDO::ATTR_EMULATE_PREPARES => false,
        PDO::ATTR_TIMEOUT => 10,
    ]);
}

function thread_id($c, string $api): int
{
    if ($api === 'mysqli') {
        return $c->thread_id;
    }
    return (int)$c->query('SELECT CONNECTION_ID()')->fetchColumn();
}

// run: one statement in MODE, all of its result read.
function run($c, string $api, string $mode, string $sql): void
{
    if ($api === 'mysqli') {
        if ($mode === 'lazy') {
            $c->query($sql, MYSQLI_ASYNC);
            fgets(STDIN);
            $links = $errors = $rejects = [$c];
            mysqli_poll($links, $errors, $rejects, 30);
            $r = $c->reap_async_query();
            if ($r instanceof mysqli_result) {
                $r->free();
            }
            return;
        }
        if ($mode === 'stmt') {
            $st = $c->prepare($sql);
            say('sent');
            $st->execute();
            $st->store_result();
            while ($st->fetch()) {
            }
            $st->close();
            return;
        }
        $r = $c->query($sql, $mode === 'rows' ? MYSQLI_USE_RESULT : MYSQLI_STORE_RESULT);
        if ($r instanceof mysqli_result) {
            $n = 0;
            while (($row = $r->fetch_row()) !== null && $row !== false) {
                if ($mode === 'rows') {
                    say('row ' . ++$n . ' ' . strlen((string)$row[0]));
                }
            }
            $r->free();
        }
        return;
    }
    $c->setAttribute(PDO::MYSQL_ATTR_USE_BUFFERED_QUERY, $mode !== 'rows');
    $st = $c->prepare($sql);
    $st->execute();
    $n = 0;
    while (($row = $st->fetch(PDO::FETCH_NUM)) !== false) {
        if ($mode === 'rows') {
            say('row ' . ++$n . ' ' . strlen((string)$row[0]));
        }
    }
    $st->closeCursor();
}

// describe: "CODE SQLSTATE MESSAGE" of a mysqli or PDO exception.
function describe(Throwable $e): string
{
    if ($e instanceof mysqli_sql_exception) {
        return $e->getCode() . ' ' . $e->getSqlState() . ' ' . $e->getMessage();
    }
    if ($e instanceof PDOException && is_array($e->errorInfo)) {
        return ($e->errorInfo[1] ?? 0) . ' ' . ($e->errorInfo[0] ?? '-') . ' ' . $e->getMessage();
    }
    return '0 ' . get_class($e) . ' ' . $e->getMessage();
}

try {
    $c = lost_connect($api);
    say('connected ' . thread_id($c, $api));
} catch (Throwable $e) {
    say('connect fail ' . describe($e));
    exit(1);
}
if ($mode !== 'stmt') {
    say('sent');
}
$n = 0;
$failed = false;
try {
    do {
        run($c, $api, $mode, $sql);
        $n++;
        if ($mode === 'loop') {
            usleep(10000);
        }
    } while ($mode === 'loop');
    say('done');
} catch (Throwable $e) {
    $failed = true;
    say('err ' . str_replace("\n", ' ', describe($e)));
}
$t_err = now_ms();
say("count $n");
$c = null;

$deadline = now_ms() + 1000 * (int)(getenv('LOST_RECONNECT_S') ?: 10);
$last = '0 -';
for (;;) {
    try {
        $c = lost_connect($api);
        $c->query('SELECT 1');
        say('reconnect ok ' . (now_ms() - $t_err) . ' ' . (int)(microtime(true) * 1000));
        exit(0);
    } catch (Throwable $e) {
        $last = describe($e);
        $c = null;
    }
    if (now_ms() >= $deadline) {
        break;
    }
    usleep(50000);
}
say("reconnect fail $last");
