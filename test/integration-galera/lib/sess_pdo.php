<?php
// sess_pdo.php - sess.php's line protocol with PDO and native (server-side) prepares.
//
//   php sess_pdo.php HOST PORT USER PASS
// The output is sess.php's. "!prepare NAME SQL" prepares with PDO::ATTR_EMULATE_PREPARES
// off (COM_STMT_PREPARE), its parameter bound once by reference; "!execute NAME ARG" runs it.
declare(strict_types=1);

function ms(): int
{
    return (int)floor(microtime(true) * 1000);
}

function say(string $s): void
{
    fwrite(STDOUT, str_replace(["\n", "\r"], ' ', $s) . "\n");
    fflush(STDOUT);
}

function err(int $t0, Throwable $e): void
{
    $code = $e instanceof PDOException && isset($e->errorInfo[1]) ? $e->errorInfo[1] : $e->getCode();
    say("err $t0 " . ms() . " $code " . $e->getMessage());
}

[$_, $host, $port, $user, $pass] = $argv + [null, '127.0.0.1', '16233', 'app', 'app'];
try {
    $db = new PDO("mysql:host=$host;port=$port;dbname=test", $user, $pass, [
        PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION,
        PDO::ATTR_EMULATE_PREPARES => false,
        PDO::ATTR_TIMEOUT => 10,
    ]);
} catch (Throwable $e) {
    say('connect_err ' . ms() . ' ' . $e->getCode() . ' ' . $e->getMessage());
    exit(0);
}
say('connected ' . $db->query('SELECT CONNECTION_ID()')->fetchColumn() . ' ' . ms());
$stmts = [];
$args = [];
while (($line = fgets(STDIN)) !== false) {
    $sql = rtrim($line, "\r\n");
    if ($sql === '') {
        continue;
    }
    $t0 = ms();
    try {
        if (preg_match('/^!prepare (\w+) (.+)$/', $sql, $a)) {
            $st = $db->prepare($a[2]);
            $args[$a[1]] = '';
            $st->bindParam(1, $args[$a[1]]);
            $stmts[$a[1]] = $st;
            say("ok $t0 " . ms() . ' -');
            continue;
        }
        if (preg_match('/^!execute (\w+) (.*)$/', $sql, $a)) {
            $st = $stmts[$a[1]];
            $args[$a[1]] = $a[2];
            $st->execute();
        } else {
            $st = $db->query($sql);
        }
        $v = $st->columnCount() ? $st->fetchColumn() : false;
        $st->closeCursor();
        say("ok $t0 " . ms() . ' ' . ($v === false || $v === null ? '-' : (string)$v));
    } catch (Throwable $e) {
        err($t0, $e);
    }
}
