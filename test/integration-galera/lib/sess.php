<?php
// sess.php - one client session driven line by line over stdin/stdout (see gt.sh gt_sess_*).
//
//   php sess.php HOST PORT USER PASS
// Prints "connected THREAD_ID MS" or "connect_err MS ERRNO MSG", then for every line of SQL
// on stdin "ok T0 T1 VALUE" (first column of the first row, "-" if none) or
// "err T0 T1 ERRNO MESSAGE". THREAD_ID is mysqli's thread_id: what the client sees.
// Some lines are commands, not SQL: "!kill ID" (COM_PROCESS_KILL), "!change_user USER PASS",
// "!prepare NAME SQL" (a server-side prepared statement with one string parameter, bound
// once: later executions send no types), "!execute NAME ARG" (VALUE: its first column) and
// "!insert_id SQL" (VALUE: the last insert id its OK reported, mysqli's insert_id).
// A line "MULTI SQL" runs SQL as a multi-statement: VALUE is from the last result set, and an
// ERR that ends the results is the reply.
declare(strict_types=1);
mysqli_report(MYSQLI_REPORT_OFF);

function ms(): int
{
    return (int)floor(microtime(true) * 1000);
}

function say(string $s): void
{
    fwrite(STDOUT, str_replace(["\n", "\r"], ' ', $s) . "\n");
    fflush(STDOUT);
}

[$_, $host, $port, $user, $pass] = $argv + [null, '127.0.0.1', '16233', 'app', 'app'];
$m = mysqli_init();
$m->options(MYSQLI_OPT_CONNECT_TIMEOUT, 10);
$m->options(MYSQLI_OPT_READ_TIMEOUT, (int)(getenv('GT_READ_TIMEOUT') ?: 60));
$t0 = ms();
if (!@$m->real_connect($host, $user, $pass, 'test', (int)$port)) {
    say('connect_err ' . ms() . ' ' . mysqli_connect_errno() . ' ' . mysqli_connect_error());
    exit(0);
}
say("connected {$m->thread_id} " . ms());
$stmts = [];
$args = [];
while (($line = fgets(STDIN)) !== false) {
    $sql = rtrim($line, "\r\n");
    if ($sql === '') {
        continue;
    }
    $t0 = ms();
    if (preg_match('/^!kill (\d+)$/', $sql, $a)) { // COM_PROCESS_KILL
        $ok = @$m->kill((int)$a[1]);
        $t1 = ms();
        say($ok ? "ok $t0 $t1 -" : "err $t0 $t1 {$m->errno} {$m->error}");
        continue;
    }
    if (preg_match('/^!change_user (\S+) (\S+)$/', $sql, $a)) { // COM_CHANGE_USER
        $ok = @$m->change_user($a[1], $a[2], 'test');
        $t1 = ms();
        say($ok ? "ok $t0 $t1 -" : "err $t0 $t1 {$m->errno} {$m->error}");
        continue;
    }
    if (preg_match('/^!prepare (\w+) (.+)$/', $sql, $a)) { // COM_STMT_PREPARE
        $st = @$m->prepare($a[2]);
        $t1 = ms();
        if ($st === false) {
            say("err $t0 $t1 {$m->errno} {$m->error}");
            continue;
        }
        $args[$a[1]] = '';
        $st->bind_param('s', $args[$a[1]]);
        $stmts[$a[1]] = $st;
        say("ok $t0 $t1 -");
        continue;
    }
    if (preg_match('/^!execute (\w+) (.*)$/', $sql, $a)) { // COM_STMT_EXECUTE
        $st = $stmts[$a[1]] ?? null;
        if ($st === null) {
            say("err $t0 $t0 0 no statement {$a[1]}");
            continue;
        }
        $args[$a[1]] = $a[2];
        $ok = @$st->execute();
        $res = $ok ? $st->get_result() : false;
        $t1 = ms();
        if (!$ok) {
            say("err $t0 $t1 {$st->errno} {$st->error}");
            continue;
        }
        $v = '-';
        if ($res instanceof mysqli_result) {
            $row = $res->fetch_row();
            if ($row !== null && $row[0] !== null) {
                $v = (string)$row[0];
            }
            $res->free();
        }
        say("ok $t0 $t1 $v");
        continue;
    }
    if (strncmp($sql, '!insert_id ', 11) === 0) { // VALUE: the id the statement's OK reported
        $r = @$m->query(substr($sql, 11));
        $t1 = ms();
        say($r === false ? "err $t0 $t1 {$m->errno} {$m->error}" : "ok $t0 $t1 {$m->insert_id}");
        continue;
    }
    if (strncmp($sql, 'MULTI ', 6) === 0) {
        $r = @$m->multi_query(substr($sql, 6));
        while ($r !== false) {
            $res = $m->store_result();
            if ($res instanceof mysqli_result) {
                $r = $res;
            }
            if (!$m->more_results()) {
                break;
            }
            if (!@$m->next_result()) {
                $r = false;
            }
        }
    } else {
        $r = @$m->query($sql);
    }
    $t1 = ms();
    if ($r === false) {
        say("err $t0 $t1 {$m->errno} {$m->error}");
        continue;
    }
    $v = '-';
    if ($r instanceof mysqli_result) {
        $row = $r->fetch_row();
        if ($row !== null && $row[0] !== null) {
            $v = (string)$row[0];
        }
        $r->free();
    }
    say("ok $t0 $t1 $v");
}
