<?php
// PHP mysqli through the proxy: text and binary protocol, errors, transactions, big and odd payloads.
declare(strict_types=1);
require __DIR__ . '/lib/common.php';

$dbPort = (int)gp_env('DB_PORT');
$m = gp_mysqli();
$d = gp_direct();
gp_q($m, 'DROP TABLE IF EXISTS mi_types, mi_tx, mi_blob, mi_utf, mi_load');

gp_section('basic queries', function () use ($m, $dbPort) {
    gp_eq('2', gp_one($m, 'SELECT 1+1'), 'SELECT 1+1');
    gp_eq((string)$dbPort, gp_one($m, 'SELECT @@port'), 'SELECT @@port is the backend port');
    gp_eq('test', gp_one($m, 'SELECT DATABASE()'), 'default database selected at connect');
    gp_check((int)gp_one($m, 'SELECT CONNECTION_ID()') > 0, 'CONNECTION_ID() > 0');
    gp_check(str_contains($m->server_info, 'MariaDB'), 'server_info names MariaDB', $m->server_info);
    $r = gp_q($m, 'SELECT seq, seq * 2 AS dbl, IF(seq % 10 = 0, NULL, seq) AS maybe FROM seq_1_to_5000');
    $rows = $r->fetch_all(MYSQLI_NUM);
    gp_eq(5000, count($rows), '5000-row result count');
    gp_eq(['5000', '10000', null], $rows[4999], 'last row with NULL');
    gp_eq(['7', '14', '7'], $rows[6], 'row 7');
    $meta = $r->fetch_fields();
    gp_eq(['seq', 'dbl', 'maybe'], array_map(fn($f) => $f->name, $meta), 'column names');
    // An unbuffered result read row by row.
    $r = $m->query('SELECT seq FROM seq_1_to_20000', MYSQLI_USE_RESULT);
    $sum = 0;
    while ($row = $r->fetch_row()) {
        $sum += (int)$row[0];
    }
    $r->free();
    gp_eq(200010000, $sum, 'unbuffered 20000-row sum');
    gp_q($m, 'SET @v = 42');
    gp_eq('42', gp_one($m, 'SELECT @v'), 'session variable persists across statements');
    gp_eq(1, gp_q($m, 'SELECT 1/0')->num_rows, 'SELECT 1/0 returns a row');
    gp_eq(1, $m->warning_count, 'warning count relayed in EOF/OK');
    gp_eq('1365', gp_q($m, 'SHOW WARNINGS')->fetch_row()[1], 'SHOW WARNINGS code 1365');
});

gp_section('server errors relayed intact (vs direct)', function () use ($m, $d) {
    gp_q($m, 'CREATE TABLE IF NOT EXISTS mi_dup (id INT PRIMARY KEY)');
    gp_q($m, 'INSERT IGNORE INTO mi_dup VALUES (1)');
    $stmts = [
        'SELECT * FROM no_such_table_xyz',
        'SELEC 1',
        'INSERT INTO mi_dup VALUES (1)',
        "SIGNAL SQLSTATE '45001' SET MESSAGE_TEXT = 'custom message ✓ relayed', MYSQL_ERRNO = 4321",
        'SELECT no_such_column FROM mi_dup',
        'USE no_such_db',
    ];
    foreach ($stmts as $sql) {
        $rp = $m->query($sql);
        $rd = $d->query($sql);
        gp_check($rp === false && $rd === false, "fails both ways: $sql");
        gp_eq([$d->errno, $d->sqlstate, $d->error], [$m->errno, $m->sqlstate, $m->error], "error of: $sql");
        if (str_starts_with($sql, 'SIGNAL')) {
            gp_eq([4321, '45001', 'custom message ✓ relayed'], [$m->errno, $m->sqlstate, $m->error],
                'SIGNAL errno, sqlstate, message');
        }
    }
    gp_eq('1', gp_one($m, 'SELECT 1'), 'connection usable after errors');
    $st = $m->prepare('SELECT * FROM no_such_table_xyz WHERE id = ?');
    gp_check($st === false, 'prepare of bad statement fails');
    gp_eq([1146, '42S02'], [$m->errno, $m->sqlstate], 'prepare error code/sqlstate');
    $st = $m->prepare('INSERT INTO mi_dup VALUES (?)');
    $id = 1;
    $st->bind_param('i', $id);
    gp_check(!$st->execute(), 'execute duplicate key fails');
    gp_eq([1062, '23000'], [$st->errno, $st->sqlstate], 'execute error code/sqlstate');
    gp_check(str_contains($st->error, "Duplicate entry '1'"), 'execute error message', $st->error);
    $st->close();
    gp_q($m, 'DROP TABLE mi_dup');
});

gp_section('prepared statements: all common types round-trip', function () use ($m) {
    gp_q($m, 'CREATE TABLE mi_types (id INT AUTO_INCREMENT PRIMARY KEY, i INT, bi BIGINT,
        dc DECIMAL(20,6), f FLOAT, db DOUBLE, vc VARCHAR(100), t MEDIUMTEXT, b BLOB, dt DATE,
        dtm DATETIME(6), ts TIMESTAMP(6) NULL, n INT NULL) CHARSET utf8mb4');
    $allBytes = '';
    for ($i = 0; $i < 256; $i++) {
        $allBytes .= chr($i);
    }
    $rows = [
        [-2147483648, PHP_INT_MAX, '12345678901234.123456', 1.5, 3.141592653589793, 'héllo wörld',
            str_repeat('text-', 20000), $allBytes, '2024-02-29', '2024-02-29 13:14:15.123456',
            '2024-03-01 00:00:01.500000', null],
        [2147483647, PHP_INT_MIN, '-0.000001', -0.25, -1.0e-300, '', '', '', '1000-01-01',
            '9999-12-31 23:59:59.999999', '2038-01-19 03:14:07.000000', null],
        [0, 0, '0.000000', 0.0, 0.0, "quote ' and \\ backslash", "nul\0byte", "\0\0\0",
            '1999-12-31', '2000-01-01 00:00:00.000000', '1970-01-02 00:00:00.000000', null],
    ];
    $ins = $m->prepare('INSERT INTO mi_types (i, bi, dc, f, db, vc, t, b, dt, dtm, ts, n)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
    gp_check($ins !== false, 'prepare INSERT', $m->error);
    gp_eq(12, $ins->param_count, 'param_count');
    foreach ($rows as $k => $row) {
        [$i, $bi, $dc, $f, $db, $vc, $t, $b, $dt, $dtm, $ts, $n] = $row;
        $null = null;
        $ins->bind_param('iisddssbsssi', $i, $bi, $dc, $f, $db, $vc, $t, $null, $dt, $dtm, $ts, $n);
        // COM_STMT_SEND_LONG_DATA has no reply: a proxy waiting for one would hang here.
        foreach (str_split($b === '' ? '' : $b, 100) as $chunk) {
            if ($chunk !== '') {
                $ins->send_long_data(7, $chunk);
            }
        }
        if ($b === '') {
            $ins->send_long_data(7, '');
        }
        gp_check($ins->execute(), "execute insert row $k", $ins->error);
        gp_eq(1, $ins->affected_rows, "affected_rows row $k");
    }
    $ins->close();

    $sel = $m->prepare('SELECT i, bi, dc, f, db, vc, t, b, dt, dtm, ts, n FROM mi_types WHERE id = ?');
    foreach ($rows as $k => $row) {
        $id = $k + 1;
        $sel->bind_param('i', $id);
        gp_check($sel->execute(), "execute select row $k", $sel->error);
        $res = $sel->get_result();
        $got = $res->fetch_row();
        gp_eq($row, $got, "binary-protocol row $k round trip");
        $res->free();
    }
    // Same statement, bind_result path (no get_result), re-executed.
    $id = 1;
    $sel->bind_param('i', $id);
    $sel->execute();
    $sel->bind_result($i, $bi, $dc, $f, $db, $vc, $t, $b, $dt, $dtm, $ts, $n);
    gp_check($sel->fetch() === true, 'bind_result fetch');
    gp_eq($rows[0], [$i, $bi, $dc, $f, $db, $vc, $t, $b, $dt, $dtm, $ts, $n], 'bind_result row 0');
    gp_check($sel->fetch() === null, 'no second row');
    $sel->reset();
    $sel->close();

    // The text protocol returns the same values as strings.
    $r = gp_q($m, 'SELECT i, bi, dc, vc, HEX(b), dt, dtm, ts, n FROM mi_types WHERE id = 1');
    gp_eq(['-2147483648', (string)PHP_INT_MAX, '12345678901234.123456', 'héllo wörld',
        strtoupper(bin2hex($allBytes)), '2024-02-29', '2024-02-29 13:14:15.123456',
        '2024-03-01 00:00:01.500000', null], $r->fetch_row(), 'text-protocol row 0');
    gp_eq('1', gp_one($m, 'SELECT COUNT(*) FROM mi_types WHERE n IS NULL AND id = 3'), 'NULL stored');
});

gp_section('transactions: commit and rollback visibility', function () use ($m) {
    $other = gp_mysqli();
    gp_q($m, 'CREATE TABLE mi_tx (id INT PRIMARY KEY, v VARCHAR(10)) ENGINE=InnoDB');
    $m->begin_transaction();
    gp_q($m, "INSERT INTO mi_tx VALUES (1, 'a'), (2, 'b')");
    gp_eq('2', gp_one($m, 'SELECT COUNT(*) FROM mi_tx'), 'own uncommitted rows visible');
    gp_eq('0', gp_one($other, 'SELECT COUNT(*) FROM mi_tx'), 'uncommitted rows invisible to others');
    gp_check($m->commit(), 'commit');
    gp_eq('2', gp_one($other, 'SELECT COUNT(*) FROM mi_tx'), 'committed rows visible to others');
    $m->begin_transaction();
    gp_q($m, 'DELETE FROM mi_tx WHERE id = 1');
    gp_q($m, "INSERT INTO mi_tx VALUES (3, 'c')");
    gp_check($m->rollback(), 'rollback');
    gp_eq('1,2', gp_one($m, 'SELECT GROUP_CONCAT(id ORDER BY id) FROM mi_tx'), 'rollback undone (self)');
    gp_eq('1,2', gp_one($other, 'SELECT GROUP_CONCAT(id ORDER BY id) FROM mi_tx'), 'rollback undone (other)');
    $m->autocommit(false);
    gp_q($m, "UPDATE mi_tx SET v = 'z' WHERE id = 2");
    gp_eq('b', gp_one($other, 'SELECT v FROM mi_tx WHERE id = 2'), 'autocommit=0 change not yet visible');
    $m->commit();
    $m->autocommit(true);
    gp_eq('z', gp_one($other, 'SELECT v FROM mi_tx WHERE id = 2'), 'autocommit=0 change visible after commit');
    gp_eq('0', gp_one($m, 'SELECT @@in_transaction'), 'not in a transaction afterwards');
    $other->close();
});

gp_section('multi_query: several result sets', function () use ($m) {
    gp_check($m->multi_query("SELECT 1 AS a; SELECT 2, 'two'; DO 0; SELECT seq FROM seq_1_to_3; SELECT 'end'"),
        'multi_query sent', $m->error);
    $sets = [];
    do {
        $r = $m->store_result();
        if ($r instanceof mysqli_result) {
            $sets[] = $r->fetch_all(MYSQLI_NUM);
            $r->free();
        } else {
            $sets[] = 'ok:' . $m->affected_rows;
        }
    } while ($m->more_results() && $m->next_result());
    gp_eq([[['1']], [['2', 'two']], 'ok:0', [['1'], ['2'], ['3']], [['end']]], $sets, 'result sets in order');
    gp_eq(0, $m->errno, 'no error after multi_query');
    // An error in the middle stops the batch and is reported.
    $m->multi_query('SELECT 1; SELECT * FROM no_such_table_xyz; SELECT 3');
    $r = $m->store_result();
    gp_eq([['1']], $r->fetch_all(MYSQLI_NUM), 'first set before the error');
    $r->free();
    gp_check($m->more_results(), 'more results announced');
    gp_check(!$m->next_result(), 'next_result fails on the error');
    gp_eq(1146, $m->errno, 'mid-batch error code');
    gp_eq('9', gp_one($m, 'SELECT 9'), 'connection usable after a failed batch');
});

gp_section('stored procedure: several result sets, OUT params', function () use ($m) {
    gp_q($m, 'DROP PROCEDURE IF EXISTS mi_proc');
    gp_q($m, "CREATE PROCEDURE mi_proc(IN a INT, OUT b INT, INOUT c VARCHAR(20))
        BEGIN
            SELECT a AS first;
            SELECT a * 2 AS second, 'two' AS label UNION ALL SELECT a * 3, 'three';
            SET b = a * 10;
            SET c = CONCAT(c, '-out');
        END");
    gp_check($m->multi_query("SET @c = 'in'; CALL mi_proc(7, @b, @c)"), 'CALL via multi_query');
    $sets = [];
    do {
        $r = $m->store_result();
        if ($r instanceof mysqli_result) {
            $sets[] = $r->fetch_all(MYSQLI_NUM);
            $r->free();
        }
    } while ($m->more_results() && $m->next_result());
    gp_eq([[['7']], [['14', 'two'], ['21', 'three']]], $sets, 'procedure result sets');
    gp_eq(['70', 'in-out'], gp_q($m, 'SELECT @b, @c')->fetch_row(), 'OUT/INOUT via user variables');

    // Prepared CALL (binary protocol): result sets, then OUT params read back from variables.
    // (mysqlnd cannot bind OUT placeholders, so they go through @variables as PHP code does.)
    gp_q($m, "SET @c = 'p'");
    $st = $m->prepare('CALL mi_proc(?, @b, @c)');
    $a = 5;
    $st->bind_param('i', $a);
    gp_check($st->execute(), 'prepared CALL execute', $st->error);
    $sets = [];
    do {
        $r = $st->get_result();
        if ($r instanceof mysqli_result) {
            $sets[] = $r->fetch_all(MYSQLI_NUM);
            $r->free();
        }
    } while ($st->more_results() && $st->next_result());
    gp_eq([[[5]], [[10, 'two'], [15, 'three']]], $sets, 'prepared CALL: two binary result sets');
    $st->close();
    gp_eq(['50', 'p-out'], gp_q($m, 'SELECT @b, @c')->fetch_row(), 'OUT/INOUT after prepared CALL');
    // Executing the same prepared CALL again must work (the statement survives the batch).
    $st = $m->prepare('CALL mi_proc(?, @b, @c)');
    foreach ([1, 2, 3] as $a) {
        $st->bind_param('i', $a);
        $st->execute();
        $sets = 0;
        do {
            $r = $st->get_result();
            if ($r instanceof mysqli_result) {
                $sets++;
                $r->free();
            }
        } while ($st->more_results() && $st->next_result());
        gp_eq(2, $sets, "prepared CALL($a) returned two result sets");
    }
    $st->close();
    gp_eq(['30', 'p-out-out-out-out'], gp_q($m, 'SELECT @b, @c')->fetch_row(), 'three more prepared CALLs');
    gp_eq('1', gp_one($m, 'SELECT 1'), 'connection usable after CALL');
});

gp_section('prepared CALL with OUT placeholders (raw binary protocol)', function () {
    // mysqlnd cannot bind OUT placeholders; the C API can, and the server then sends the OUT
    // values as an extra result set flagged SERVER_PS_OUT_PARAMS before the final OK.
    $w = new GpWire(10.0);
    $w->login();
    $w->command("\x16", 'CALL mi_proc(?, ?, ?)');
    $p = $w->readPacket();
    gp_eq(0, ord($p[0] ?? "\xff"), 'COM_STMT_PREPARE answered OK');
    $id = unpack('V', substr($p, 1, 4))[1];
    [$ncols, $nparams] = array_values(unpack('v2', substr($p, 5, 4)));
    gp_eq([0, 3], [$ncols, $nparams], 'no columns, three parameters');
    for ($i = 0; $i < $nparams + ($nparams > 0 ? 1 : 0); $i++) {
        $w->readPacket(); // parameter definitions and their EOF
    }
    // stmt id, no cursor, 1 iteration, NULL bitmap, new-params-bound, types LONG LONG VAR_STRING.
    $w->command("\x17", pack('VCV', $id, 0, 1) . "\x00\x01" . pack('v3', 3, 3, 253) .
        pack('V', 6) . pack('V', 0) . "\x01x");
    $res = $w->readResults();
    gp_eq(['rs', 'rs', 'rs', 'ok'], array_column($res, 'type'), 'three result sets then OK');
    gp_eq([1, 2, 1], array_map(fn($r) => count($r['rows']), array_slice($res, 0, 3)), 'row counts');
    gp_check((($res[2]['status'] ?? 0) & 0x1000) !== 0, 'third set flagged SERVER_PS_OUT_PARAMS');
    $out = $res[2]['rows'][0] ?? '';
    gp_check(str_contains($out, pack('V', 60)) && str_contains($out, "\x05x-out"),
        'OUT b = 60 and INOUT c = x-out', bin2hex($out));
    gp_check(($res[3]['status'] & 0x0008) === 0, 'final OK ends the batch');
    $w->command("\x19", pack('V', $id)); // COM_STMT_CLOSE: no reply
    $w->sendQuery('SELECT 7');
    $r = $w->readResult();
    gp_eq(['rs', ["\x017"]], [$r['type'], $r['rows']], 'connection in step afterwards');
    $w->close();
});

gp_section('change_user and ping', function () use ($m) {
    gp_check($m->ping(), 'ping');
    gp_q($m, 'SET @marker = 1');
    gp_check($m->change_user('monitor', 'monitor', ''), 'change_user to monitor', $m->error);
    gp_eq('monitor@%', gp_one($m, 'SELECT CURRENT_USER()'), 'CURRENT_USER after change_user');
    gp_eq(null, gp_one($m, 'SELECT @marker'), 'session state reset by change_user');
    gp_check($m->change_user('app', 'app', 'test'), 'change_user back to app', $m->error);
    gp_eq('app@%', gp_one($m, 'SELECT CURRENT_USER()'), 'CURRENT_USER back to app');
    gp_eq('test', gp_one($m, 'SELECT DATABASE()'), 'database after change_user');
    gp_check($m->ping(), 'ping after change_user');
    $m->set_charset('utf8mb4');

    $x = gp_mysqli();
    gp_check(!@$x->change_user('app', 'wrong-password', 'test'), 'change_user with a bad password fails');
    gp_eq(1045, $x->errno, 'change_user failure code 1045');
    $x->close();
});

gp_section('20 MB BLOB round trip (crosses the 16 MB packet limit)', function () use ($m) {
    gp_q($m, 'CREATE TABLE mi_blob (id INT PRIMARY KEY, b LONGBLOB)');
    $blob = random_bytes(20 * 1024 * 1024);
    $sha = sha1($blob);
    // One COM_QUERY of ~20.6 MB: the client splits it into 16 MB packets.
    $t = microtime(true);
    gp_q($m, "INSERT INTO mi_blob VALUES (1, '" . $m->real_escape_string($blob) . "')");
    gp_eq($sha, gp_one($m, 'SELECT SHA1(b) FROM mi_blob WHERE id = 1'), 'upload via text query: server sha1');
    // COM_STMT_EXECUTE with a 20 MB string parameter: also one split packet.
    $st = $m->prepare('INSERT INTO mi_blob VALUES (2, ?)');
    $st->bind_param('s', $blob);
    gp_check($st->execute(), 'prepared insert of 20 MB', $st->error);
    $st->close();
    gp_eq($sha, gp_one($m, 'SELECT SHA1(b) FROM mi_blob WHERE id = 2'), 'upload via prepared: server sha1');
    gp_eq((string)strlen($blob), gp_one($m, 'SELECT LENGTH(b) FROM mi_blob WHERE id = 2'), 'length');
    // Download: a text-protocol row > 16 MB, and a binary-protocol row > 16 MB.
    $got = gp_one($m, 'SELECT b FROM mi_blob WHERE id = 1');
    gp_eq($sha, sha1((string)$got), 'download via text query: client sha1');
    $st = $m->prepare('SELECT b FROM mi_blob WHERE id = ?');
    $id = 2;
    $st->bind_param('i', $id);
    $st->execute();
    $got = $st->get_result()->fetch_row()[0];
    gp_eq($sha, sha1((string)$got), 'download via prepared: client sha1');
    $st->close();
    printf("#   80 MB moved in %.2fs\n", microtime(true) - $t);
    gp_q($m, 'DROP TABLE mi_blob');
});

gp_section('utf8mb4 round trip', function () use ($m, $d) {
    gp_q($m, 'CREATE TABLE mi_utf (id INT PRIMARY KEY, s VARCHAR(100) CHARSET utf8mb4)');
    $s = "emoji 😀👍🏽🇫🇷 math ∑∞ cjk 漢字 rtl שלום";
    $st = $m->prepare('INSERT INTO mi_utf VALUES (1, ?)');
    $st->bind_param('s', $s);
    $st->execute();
    $st->close();
    gp_q($m, "INSERT INTO mi_utf VALUES (2, '" . $m->real_escape_string($s) . "')");
    gp_eq([$s, $s], array_column(gp_q($m, 'SELECT s FROM mi_utf ORDER BY id')->fetch_all(), 0),
        'utf8mb4 strings read back');
    gp_eq(strtoupper(bin2hex($s)), gp_one($d, 'SELECT HEX(s) FROM mi_utf WHERE id = 1'),
        'bytes stored as sent (checked direct)');
    gp_eq((string)preg_match_all('/./us', $s), gp_one($m, 'SELECT CHAR_LENGTH(s) FROM mi_utf WHERE id = 2'),
        'CHAR_LENGTH counts code points');
    gp_eq('😀', gp_one($m, "SELECT '😀'"), 'emoji literal in a query');
});

gp_section('LOAD DATA LOCAL INFILE', function () {
    // PHP 8.2 needs the directory option too unless the ini allows local infile globally.
    $m = gp_mysqli('app', 'app', 'test',
        [MYSQLI_OPT_LOCAL_INFILE => true, MYSQLI_OPT_LOAD_DATA_LOCAL_DIR => gp_tmp()]);
    gp_q($m, 'CREATE TABLE mi_load (id INT PRIMARY KEY, name VARCHAR(64), pad TEXT)');
    $file = gp_tmp() . '/mi_load.tsv';
    $fh = fopen($file, 'w');
    $n = 50000;
    $sum = 0;
    for ($i = 1; $i <= $n; $i++) {
        fwrite($fh, "$i\tname-$i\t" . str_repeat(chr(97 + $i % 26), 64) . "\n");
        $sum += $i;
    }
    fclose($fh);
    $ok = $m->query("LOAD DATA LOCAL INFILE '" . $m->real_escape_string($file) .
        "' INTO TABLE mi_load FIELDS TERMINATED BY '\\t' (id, name, pad)");
    gp_check($ok === true, 'LOAD DATA LOCAL INFILE ran', $m->errno . ' ' . $m->error);
    gp_eq($n, $m->affected_rows, 'rows loaded');
    gp_eq([(string)$n, (string)$sum, 'name-777'], gp_q($m,
        "SELECT COUNT(*), SUM(id), (SELECT name FROM mi_load WHERE id = 777) FROM mi_load")->fetch_row(),
        'loaded content');
    // A file the client refuses to send must leave the connection usable.
    $bad = $m->query("LOAD DATA LOCAL INFILE '" . gp_tmp() . "/nonexistent.tsv' INTO TABLE mi_load");
    gp_check($bad === false, 'LOAD DATA of a missing local file fails');
    gp_eq('1', gp_one($m, 'SELECT 1'), 'connection usable after a failed LOCAL INFILE');
    gp_q($m, 'DROP TABLE mi_load');
    $m->close();
    unlink($file);
});

gp_section('server-side cursor (COM_STMT_FETCH)', function () use ($m) {
    $before = (int)gp_q($m, "SHOW SESSION STATUS LIKE 'Com_stmt_fetch'")->fetch_row()[1];
    $st = $m->prepare('SELECT seq, CONCAT("row-", seq) FROM seq_1_to_1000 WHERE seq <= ?');
    gp_check($st->attr_set(MYSQLI_STMT_ATTR_CURSOR_TYPE, MYSQLI_CURSOR_TYPE_READ_ONLY), 'cursor attr');
    // mysqlnd supports a prefetch of 1 row only: every further row is one COM_STMT_FETCH.
    gp_check($st->attr_set(MYSQLI_STMT_ATTR_PREFETCH_ROWS, 1), 'prefetch 1 row');
    $lim = 100;
    $st->bind_param('i', $lim);
    gp_check($st->execute(), 'execute with cursor', $st->error);
    $st->bind_result($seq, $label);
    $n = 0;
    $ok = true;
    while ($st->fetch()) {
        $n++;
        $ok = $ok && $seq === $n && $label === "row-$n";
    }
    gp_eq(100, $n, 'all 100 rows fetched through the cursor');
    gp_check($ok, 'rows in order with the right values');
    $st->close();
    $after = (int)gp_q($m, "SHOW SESSION STATUS LIKE 'Com_stmt_fetch'")->fetch_row()[1];
    gp_check($after - $before >= 99, 'the client really used COM_STMT_FETCH', "Com_stmt_fetch +" . ($after - $before));
});

gp_q($m, 'DROP TABLE IF EXISTS mi_types, mi_tx, mi_utf');
gp_q($m, 'DROP PROCEDURE IF EXISTS mi_proc');
gp_done();
