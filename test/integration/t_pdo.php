<?php
// PHP PDO_mysql through the proxy, with emulated prepares (text protocol) and real ones (binary).
declare(strict_types=1);
require __DIR__ . '/lib/common.php';

function gp_pdo(bool $emulate, ?int $port = null): PDO
{
    $dsn = sprintf('mysql:host=%s;port=%d;dbname=test;charset=utf8mb4', gp_host(), $port ?? gp_port());
    return new PDO($dsn, 'app', 'app', [
        PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION,
        PDO::ATTR_EMULATE_PREPARES => $emulate,
        PDO::MYSQL_ATTR_LOCAL_INFILE => true,
        PDO::ATTR_TIMEOUT => 10,
    ]);
}

// gp_pdo_error runs SQL expecting failure and returns [sqlstate, code, message].
function gp_pdo_error(PDO $p, string $sql, array $params = []): array
{
    try {
        $st = $p->prepare($sql);
        $st->execute($params);
        return ['no error'];
    } catch (PDOException $e) {
        return $e->errorInfo ?? ['no errorInfo', $e->getMessage()];
    }
}

$dbPort = (int)gp_env('DB_PORT');
$direct = gp_direct();

foreach ([true, false] as $emulate) {
    $mode = $emulate ? 'emulated' : 'server-side';
    $p = gp_pdo($emulate);
    $tab = $emulate ? 'pdo_e' : 'pdo_s';
    $p->exec("DROP TABLE IF EXISTS {$tab}_types, {$tab}_tx, {$tab}_blob, {$tab}_utf, {$tab}_load");

    gp_section("$mode: basic queries", function () use ($p, $dbPort) {
        gp_eq($dbPort, (int)$p->query('SELECT @@port')->fetchColumn(), 'SELECT @@port is the backend port');
        gp_eq(2, (int)$p->query('SELECT 1+1')->fetchColumn(), 'SELECT 1+1');
        $rows = $p->query('SELECT seq, IF(seq % 100 = 0, NULL, seq) FROM seq_1_to_3000')->fetchAll(PDO::FETCH_NUM);
        gp_eq(3000, count($rows), '3000 rows');
        gp_eq([3000, null], $rows[2999], 'last row with NULL');
        $st = $p->prepare('SELECT CONCAT(:a, :b) AS s, :c AS c');
        $st->execute([':a' => 'x', ':b' => 42, ':c' => 'y']);
        gp_eq(['s' => 'x42', 'c' => 'y'], $st->fetch(PDO::FETCH_ASSOC), 'named parameters');
    });

    gp_section("$mode: server errors relayed intact (vs direct)", function () use ($p, $direct, $tab) {
        $p->exec("CREATE TABLE IF NOT EXISTS {$tab}_dup (id INT PRIMARY KEY)");
        $p->exec("INSERT IGNORE INTO {$tab}_dup VALUES (1)");
        foreach ([
            'SELECT * FROM no_such_table_xyz',
            "INSERT INTO {$tab}_dup VALUES (1)",
            "SELECT no_such_column FROM {$tab}_dup",
            "SIGNAL SQLSTATE '45002' SET MESSAGE_TEXT = 'pdo custom ✓', MYSQL_ERRNO = 4322",
        ] as $sql) {
            $got = gp_pdo_error($p, $sql);
            $direct->query($sql);
            gp_eq([$direct->sqlstate, $direct->errno, $direct->error], $got, "error of: $sql");
        }
        gp_eq(['23000', 1062], array_slice(gp_pdo_error($p, "INSERT INTO {$tab}_dup VALUES (?)", [1]), 0, 2),
            'duplicate key through a prepared statement');
        gp_eq(1, (int)$p->query('SELECT 1')->fetchColumn(), 'connection usable after errors');
        $p->exec("DROP TABLE {$tab}_dup");
    });

    gp_section("$mode: prepared statements, all common types", function () use ($p, $tab) {
        $p->exec("CREATE TABLE {$tab}_types (id INT PRIMARY KEY, i INT, bi BIGINT, dc DECIMAL(20,6),
            f FLOAT, db DOUBLE, vc VARCHAR(100), t MEDIUMTEXT, b BLOB, dt DATE, dtm DATETIME(6),
            ts TIMESTAMP(6) NULL, n INT NULL) CHARSET utf8mb4");
        $allBytes = implode('', array_map('chr', range(0, 255)));
        $rows = [
            [1, -2147483648, PHP_INT_MAX, '12345678901234.123456', 1.5, 3.141592653589793, 'héllo',
                str_repeat('text-', 20000), $allBytes, '2024-02-29', '2024-02-29 13:14:15.123456',
                '2024-03-01 00:00:01.500000', null],
            [2, 2147483647, PHP_INT_MIN, '-0.000001', -0.25, -1.0e-300, "it's \\ \"q\"", "nul\0byte", "\0",
                '1000-01-01', '9999-12-31 23:59:59.999999', '2038-01-19 03:14:07.000000', null],
        ];
        $ins = $p->prepare("INSERT INTO {$tab}_types VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
        foreach ($rows as $row) {
            foreach ($row as $k => $v) {
                $type = match (true) {
                    $v === null => PDO::PARAM_NULL,
                    is_int($v) => PDO::PARAM_INT,
                    $k === 8 => PDO::PARAM_LOB,
                    default => PDO::PARAM_STR,
                };
                $ins->bindValue($k + 1, is_float($v) ? sprintf('%.17g', $v) : $v, $type);
            }
            gp_check($ins->execute(), "insert id {$row[0]}");
            gp_eq(1, $ins->rowCount(), "rowCount id {$row[0]}");
        }
        $sel = $p->prepare("SELECT * FROM {$tab}_types WHERE id = ?");
        foreach ($rows as $row) {
            $sel->execute([$row[0]]);
            gp_eq($row, $sel->fetch(PDO::FETCH_NUM), "row {$row[0]} round trip");
            $sel->closeCursor();
        }
        $st = $p->prepare("SELECT COUNT(*) FROM {$tab}_types WHERE n IS NULL AND b = ?");
        $st->bindValue(1, $allBytes, PDO::PARAM_LOB);
        $st->execute();
        gp_eq(1, (int)$st->fetchColumn(), 'binary parameter matches stored bytes');
    });

    gp_section("$mode: transactions", function () use ($p, $emulate, $tab) {
        $other = gp_pdo($emulate);
        $p->exec("CREATE TABLE {$tab}_tx (id INT PRIMARY KEY) ENGINE=InnoDB");
        $p->beginTransaction();
        $p->exec("INSERT INTO {$tab}_tx VALUES (1), (2)");
        gp_eq(0, (int)$other->query("SELECT COUNT(*) FROM {$tab}_tx")->fetchColumn(), 'uncommitted invisible');
        gp_check($p->commit(), 'commit');
        gp_eq(2, (int)$other->query("SELECT COUNT(*) FROM {$tab}_tx")->fetchColumn(), 'committed visible');
        $p->beginTransaction();
        $p->exec("DELETE FROM {$tab}_tx");
        gp_eq(0, (int)$p->query("SELECT COUNT(*) FROM {$tab}_tx")->fetchColumn(), 'delete visible to self');
        gp_check($p->rollBack(), 'rollBack');
        gp_eq(2, (int)$p->query("SELECT COUNT(*) FROM {$tab}_tx")->fetchColumn(), 'rollback restored (self)');
        gp_eq(2, (int)$other->query("SELECT COUNT(*) FROM {$tab}_tx")->fetchColumn(), 'rollback restored (other)');
        gp_check(!$p->inTransaction(), 'not in a transaction');
    });

    gp_section("$mode: several result sets", function () use ($p, $emulate) {
        if ($emulate) {
            // Only emulated prepares can carry several statements in one COM_QUERY.
            $st = $p->query("SELECT 1 AS a; SELECT 'b', 2; SELECT seq FROM seq_1_to_3");
            $sets = [];
            do {
                $sets[] = $st->fetchAll(PDO::FETCH_NUM);
            } while ($st->nextRowset());
            gp_eq([[[1]], [['b', 2]], [[1], [2], [3]]], $sets, 'multi-statement result sets');
        }
        $p->exec('DROP PROCEDURE IF EXISTS pdo_proc');
        $p->exec("CREATE PROCEDURE pdo_proc(IN a INT, OUT b INT, INOUT c VARCHAR(20))
            BEGIN
                SELECT a AS first;
                SELECT a * 2, 'two' UNION ALL SELECT a * 3, 'three';
                SET b = a * 10;
                SET c = CONCAT(c, '-out');
            END");
        $p->exec("SET @c = 'in'");
        $st = $p->prepare('CALL pdo_proc(?, @b, @c)');
        $st->execute([4]);
        $sets = [];
        do {
            // PDO reports the CALL's closing OK as an empty rowset with stale columns.
            $rs = $st->columnCount() > 0 ? $st->fetchAll(PDO::FETCH_NUM) : [];
            if ($rs !== []) {
                $sets[] = $rs;
            }
        } while ($st->nextRowset());
        gp_eq([[[4]], [[8, 'two'], [12, 'three']]], $sets, 'procedure result sets');
        $st->closeCursor();
        gp_eq([40, 'in-out'], $p->query('SELECT @b, @c')->fetch(PDO::FETCH_NUM), 'OUT and INOUT values');
        $p->exec('DROP PROCEDURE pdo_proc');
    });

    gp_section("$mode: 20 MB BLOB round trip", function () use ($p, $tab) {
        $p->exec("CREATE TABLE {$tab}_blob (id INT PRIMARY KEY, b LONGBLOB)");
        $blob = random_bytes(20 * 1024 * 1024 + 12345);
        $sha = sha1($blob);
        $st = $p->prepare("INSERT INTO {$tab}_blob VALUES (1, ?)");
        $st->bindParam(1, $blob, PDO::PARAM_LOB);
        gp_check($st->execute(), 'insert 20 MB');
        gp_eq($sha, $p->query("SELECT SHA1(b) FROM {$tab}_blob")->fetchColumn(), 'server sha1 of upload');
        $st = $p->prepare("SELECT b FROM {$tab}_blob WHERE id = ?");
        $st->execute([1]);
        $got = $st->fetchColumn();
        gp_eq($sha, sha1(is_string($got) ? $got : stream_get_contents($got)), 'client sha1 of download');
        $p->exec("DROP TABLE {$tab}_blob");
    });

    gp_section("$mode: utf8mb4", function () use ($p, $tab) {
        $p->exec("CREATE TABLE {$tab}_utf (id INT PRIMARY KEY, s VARCHAR(64) CHARSET utf8mb4)");
        $s = "😀🎉👩‍💻 ∂ 漢字 ñ";
        $p->prepare("INSERT INTO {$tab}_utf VALUES (1, ?)")->execute([$s]);
        gp_eq($s, $p->query("SELECT s FROM {$tab}_utf")->fetchColumn(), 'emoji string round trip');
        gp_eq(strtoupper(bin2hex($s)), $p->query("SELECT HEX(s) FROM {$tab}_utf")->fetchColumn(), 'stored bytes');
    });

    gp_section("$mode: LOAD DATA LOCAL INFILE", function () use ($p, $tab) {
        $p->exec("CREATE TABLE {$tab}_load (id INT PRIMARY KEY, v VARCHAR(40))");
        $file = gp_tmp() . "/{$tab}_load.csv";
        $lines = '';
        for ($i = 1; $i <= 20000; $i++) {
            $lines .= "$i,value-$i\n";
        }
        file_put_contents($file, $lines);
        $n = $p->exec("LOAD DATA LOCAL INFILE " . $p->quote($file) .
            " INTO TABLE {$tab}_load FIELDS TERMINATED BY ','");
        gp_eq(20000, $n, 'rows loaded');
        gp_eq([20000, '200010000', 'value-12345'], $p->query("SELECT COUNT(*), SUM(id),
            (SELECT v FROM {$tab}_load WHERE id = 12345) FROM {$tab}_load")->fetch(PDO::FETCH_NUM), 'content');
        unlink($file);
        $p->exec("DROP TABLE {$tab}_load");
    });

    $p->exec("DROP TABLE IF EXISTS {$tab}_types, {$tab}_tx, {$tab}_utf");
    $p = null;
}
gp_done();
