<?php
// The compressed protocol between PHP (mysqlnd: mysqli and PDO) and the proxy: results and
// queries past 16 MB, incompressible data, prepared statements, multi-results, LOCAL INFILE;
// the proxy's counters prove the client leg is compressed; garbage frames close cleanly.
declare(strict_types=1);
require __DIR__ . '/lib/common.php';

$direct = gp_env('PROXY_MODE', '') === 'direct';
[$httpHost, $httpPort] = explode(':', gp_env('PROXY_HTTP'));
$http = (int)$httpPort;

function z_mysqli(?int $port = null): mysqli
{
    $m = mysqli_init();
    $m->options(MYSQLI_OPT_LOCAL_INFILE, true);
    $m->options(MYSQLI_OPT_LOAD_DATA_LOCAL_DIR, gp_tmp());
    $m->options(MYSQLI_OPT_CONNECT_TIMEOUT, 10);
    $m->options(MYSQLI_OPT_READ_TIMEOUT, 60);
    if (!@$m->real_connect(gp_host(), 'app', 'app', 'test', $port ?? gp_port(), null,
        MYSQLI_CLIENT_COMPRESS)) {
        throw new RuntimeException('compressed connect failed: ' . mysqli_connect_errno() . ' ' .
            mysqli_connect_error());
    }
    $m->set_charset('utf8mb4'); // the statement that hung before (issue 16)
    return $m;
}

function z_metric(int $http, string $sample): float
{
    return gp_metric($http, 'galera_proxy_' . $sample);
}

$before = [
    'sessions' => z_metric($http, 'client_compressed_sessions_total'),
    'wire_out' => z_metric($http, 'client_compressed_bytes_total{direction="out"}'),
    'plain_out' => z_metric($http, 'client_compressed_payload_bytes_total{direction="out"}'),
    'wire_in' => z_metric($http, 'client_compressed_bytes_total{direction="in"}'),
];

$m = z_mysqli();
gp_section('mysqli compressed: basics', function () use ($m) {
    gp_eq('2', gp_one($m, 'SELECT 1+1'), 'SELECT 1+1');
    gp_eq('utf8mb4', gp_one($m, 'SELECT @@character_set_client'), 'set_charset took');
    $r = gp_q($m, 'SELECT seq, MD5(seq) FROM seq_1_to_20000');
    gp_eq(20000, $r->num_rows, '20000 rows');
    $r->free();
});

gp_section('mysqli compressed: 20 MB results', function () use ($m) {
    $n = 20 * 1024 * 1024;
    // One 20 MB value: a row packet over 16 MB spans two packets and many frames.
    $v = gp_one($m, "SELECT REPEAT('ab', $n / 2)");
    gp_eq($n, strlen((string)$v), '20 MB value arrives whole');
    gp_eq(md5(str_repeat('ab', $n / 2)), md5((string)$v), '20 MB value intact');
    // Many rows adding up to ~20 MB, compared with MariaDB's own digest of them.
    $r = gp_q($m, 'SELECT seq, SHA2(seq, 256), SHA2(-seq, 256) FROM seq_1_to_150000');
    $ctx = hash_init('md5');
    $rows = 0;
    while ($row = $r->fetch_row()) {
        hash_update($ctx, implode(',', $row) . "\n");
        $rows++;
    }
    gp_eq(150000, $rows, '150000 rows (~20 MB) streamed');
    $d = gp_direct();
    $r = gp_q($d, 'SELECT seq, SHA2(seq, 256), SHA2(-seq, 256) FROM seq_1_to_150000');
    $dctx = hash_init('md5');
    while ($row = $r->fetch_row()) {
        hash_update($dctx, implode(',', $row) . "\n");
    }
    $d->close();
    gp_eq(hash_final($dctx), hash_final($ctx), 'the same rows as a plain direct connection');
});

gp_section('mysqli compressed: 17 MB query, incompressible data', function () use ($m) {
    $big = str_repeat('0123456789abcdef', 17 * 65536); // 17 MB literal: the query spans frames
    gp_eq(md5($big), gp_one($m, "SELECT MD5('$big')"), '17 MB query reaches the server intact');
    gp_q($m, 'DROP TABLE IF EXISTS z_blob');
    gp_q($m, 'CREATE TABLE z_blob (id INT PRIMARY KEY, b LONGBLOB)');
    $rand = random_bytes(5 * 1024 * 1024); // does not deflate: frames go stored
    $st = $m->prepare('INSERT INTO z_blob VALUES (?, ?)');
    $id = 1;
    $null = null;
    $st->bind_param('ib', $id, $null);
    foreach (str_split($rand, 1 << 20) as $chunk) {
        $st->send_long_data(1, $chunk);
    }
    gp_check($st->execute(), 'random blob inserted', $st->error);
    $st->close();
    gp_eq(md5($rand), gp_one($m, 'SELECT MD5(b) FROM z_blob WHERE id = 1'), 'server has it intact');
    gp_eq(md5($rand), md5((string)gp_one($m, 'SELECT b FROM z_blob WHERE id = 1')),
        'random blob read back intact');
    $esc = $m->real_escape_string(random_bytes(1 << 20));
    gp_q($m, "INSERT INTO z_blob VALUES (2, '$esc')");
    gp_eq('1048576', gp_one($m, 'SELECT LENGTH(b) FROM z_blob WHERE id = 2'), 'random text query');
});

gp_section('mysqli compressed: prepared statements', function () use ($m) {
    $st = $m->prepare('SELECT ? + ?, REPEAT(?, 100000)');
    $a = 40;
    $b = 2;
    $s = 'xyz';
    $st->bind_param('iis', $a, $b, $s);
    for ($i = 0; $i < 3; $i++) {
        gp_check($st->execute(), "execute $i", $st->error);
        $r = $st->get_result()->fetch_row();
        gp_eq(42, (int)$r[0], "binary result $i");
        gp_eq(300000, strlen($r[1]), "300 kB binary column $i");
    }
    $st->close();
});

gp_section('mysqli compressed: multi-results', function () use ($m) {
    gp_check($m->multi_query('SELECT 1; SELECT REPEAT("q", 70000); DO 1; SELECT 3'), 'multi_query');
    $got = [];
    do {
        if ($r = $m->store_result()) {
            $got[] = strlen((string)$r->fetch_row()[0]);
            $r->free();
        }
    } while ($m->more_results() && $m->next_result());
    gp_eq([1, 70000, 1], $got, 'three result sets in order');
    gp_eq('5', gp_one($m, 'SELECT 5'), 'session fine after multi-results');
});

gp_section('mysqli compressed: LOAD DATA LOCAL INFILE', function () use ($m) {
    $f = gp_tmp() . '/z_load.csv';
    $fh = fopen($f, 'w');
    for ($i = 1; $i <= 60000; $i++) {
        fwrite($fh, "$i," . bin2hex(random_bytes(16)) . "\n");
    }
    fclose($fh);
    gp_q($m, 'DROP TABLE IF EXISTS z_load');
    gp_q($m, 'CREATE TABLE z_load (id INT PRIMARY KEY, v CHAR(32))');
    gp_q($m, "LOAD DATA LOCAL INFILE '$f' INTO TABLE z_load FIELDS TERMINATED BY ','");
    gp_eq('60000', gp_one($m, 'SELECT COUNT(*) FROM z_load'), '60000 rows loaded');
    gp_eq('2', gp_one($m, 'SELECT 1+1'), 'session fine after LOCAL INFILE');
});
$m->close();

gp_section('PDO::MYSQL_ATTR_COMPRESS', function () {
    $p = new PDO(sprintf('mysql:host=%s;port=%d;dbname=test', gp_host(), gp_port()), 'app', 'app', [
        PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION,
        PDO::MYSQL_ATTR_COMPRESS => true,
        PDO::MYSQL_ATTR_LOCAL_INFILE => true,
        PDO::ATTR_TIMEOUT => 10,
    ]);
    gp_eq(2, (int)$p->query('SELECT 1+1')->fetchColumn(), 'SELECT 1+1');
    $n = 20 * 1024 * 1024;
    gp_eq($n, strlen((string)$p->query("SELECT REPEAT('z', $n)")->fetchColumn()), '20 MB value');
    foreach ([true, false] as $emulate) {
        $p->setAttribute(PDO::ATTR_EMULATE_PREPARES, $emulate);
        $st = $p->prepare('SELECT CONCAT(?, ?)');
        $st->execute(['a', 42]);
        gp_eq('a42', $st->fetchColumn(), 'prepared, emulate=' . var_export($emulate, true));
    }
    $f = gp_tmp() . '/z_pdo.csv';
    file_put_contents($f, implode("\n", range(1, 5000)) . "\n");
    $p->exec('DROP TABLE IF EXISTS z_pdo');
    $p->exec('CREATE TABLE z_pdo (id INT PRIMARY KEY)');
    $p->exec("LOAD DATA LOCAL INFILE '$f' INTO TABLE z_pdo");
    gp_eq(5000, (int)$p->query('SELECT COUNT(*) FROM z_pdo')->fetchColumn(), 'PDO LOCAL INFILE');
});

if ($direct) {
    gp_done();
}

gp_section('the client leg really is compressed (proxy counters)', function () use ($http, $before) {
    $sess = z_metric($http, 'client_compressed_sessions_total') - $before['sessions'];
    gp_check($sess >= 2, 'compressed sessions counted', "delta=$sess");
    $wire = z_metric($http, 'client_compressed_bytes_total{direction="out"}') - $before['wire_out'];
    $plain = z_metric($http, 'client_compressed_payload_bytes_total{direction="out"}') -
        $before['plain_out'];
    gp_check($plain > 60e6, 'payload sent in frames', "payload=$plain");
    // The repeated 20 MB values deflate to almost nothing; random data does not.
    gp_check($wire < $plain / 2, 'frames much smaller than their payload', "wire=$wire payload=$plain");
    $win = z_metric($http, 'client_compressed_bytes_total{direction="in"}') - $before['wire_in'];
    gp_check($win > 5e6, 'client frames read', "wire_in=$win");
    gp_eq(0.0, z_metric($http, 'client_compressed_sessions'), 'no compressed session left open');
});

// A mysql_native_password login by hand, asking for compression; returns the socket after
// the (plain) OK, or null.
function z_raw_login(int $port)
{
    $s = stream_socket_client("tcp://127.0.0.1:$port", $en, $es, 5);
    stream_set_timeout($s, 10);
    $hdr = fread($s, 4);
    $len = unpack('V', substr($hdr, 0, 3) . "\0")[1];
    $g = '';
    while (strlen($g) < $len) {
        $g .= fread($s, $len - strlen($g));
    }
    $p = strpos($g, "\0", 1) + 1 + 4; // version, thread id
    $salt = substr($g, $p, 8);
    $p += 9 + 2 + 1 + 2 + 2 + 1 + 10;
    $salt .= substr($g, $p, 12);
    $h1 = sha1('app', true);
    $tok = $h1 ^ sha1($salt . sha1($h1, true), true);
    $caps = 0x00000200 | 0x00008000 | 0x00080000 | 0x00000008 | 0x00000020; // 41, secure, plugin, db, compress
    $body = pack('VVC', $caps, 1 << 24, 45) . str_repeat("\0", 23) . "app\0" . chr(20) . $tok .
        "test\0mysql_native_password\0";
    fwrite($s, substr(pack('V', strlen($body)), 0, 3) . "\x01" . $body);
    $ok = fread($s, 5);
    if (strlen($ok) !== 5 || $ok[4] !== "\0") {
        return null;
    }
    $left = unpack('V', substr($ok, 0, 3) . "\0")[1] - 1;
    while ($left > 0 && ($b = fread($s, $left)) !== false && $b !== '') {
        $left -= strlen($b);
    }
    return $left === 0 ? $s : null;
}

gp_section('garbage frames: a clean close and a clear log line', function () use ($http) {
    $log = gp_env('PROXY_LOG');
    $errs = z_metric($http, 'client_compressed_frame_errors_total');
    $logged = gp_log_count($log, 'client_bad_compressed_frame');
    // 1: claims 100 bytes but holds corrupt zlib data; 2: inflates to more than claimed.
    $z = gzcompress(str_repeat('A', 200));
    $bad = [
        "\x0a\x00\x00\x00\x64\x00\x00" . "\x78\x9c\xff\xff\xff\xff\xff\xff\xff\xff",
        substr(pack('V', strlen($z)), 0, 3) . "\x00" . "\x64\x00\x00" . $z,
    ];
    foreach ($bad as $i => $frame) {
        $s = z_raw_login(gp_port());
        if (!gp_check($s !== null, "raw compressed login $i")) {
            continue;
        }
        fwrite($s, $frame);
        $t0 = microtime(true);
        $rest = stream_get_contents($s); // until the proxy closes
        gp_check(microtime(true) - $t0 < 5 && !stream_get_meta_data($s)['timed_out'],
            "garbage $i: closed, not hung");
        gp_eq('', $rest, "garbage $i: nothing sent back");
        fclose($s);
    }
    gp_check(gp_wait_for(fn() => gp_log_count($log, 'client_bad_compressed_frame') >= $logged + 2, 3) !== null,
        'a log line for each');
    gp_eq($errs + 2, z_metric($http, 'client_compressed_frame_errors_total'), 'counted in /metrics');
    gp_eq('2', gp_one(z_mysqli(), 'SELECT 1+1'), 'the proxy still serves compressed clients');
});

$exe = (string)@readlink('/proc/' . gp_env('PROXY_PID') . '/exe');
if (preg_match('/valgrind|memcheck/', basename($exe))) {
    // gp_own_proxy starts the runner's binary, which under --valgrind is valgrind's.
    echo "# skip: compression not offered (needs a proxy of its own; not under valgrind)\n";
    gp_done();
}

gp_section('compression not offered: ERR at connect, never a hang', function () {
    $port = gp_own_proxy_port('GP_TEST_ZOFF_PORT', gp_port() + 540);
    gp_own_proxy('zoff', gp_own_proxy_conf($port, 'handshake = { client_compression = false; };'));
    gp_check(gp_wait_for(fn() => @fsockopen('127.0.0.1', $port) !== false, 10) !== null,
        'own proxy listening');
    usleep(700000); // its monitor marks the backend up
    $t0 = microtime(true);
    $code = 0;
    $msg = '';
    try {
        z_mysqli($port); // mysqlnd compresses because it asked, whatever was offered
    } catch (Throwable $e) {
        $code = mysqli_connect_errno();
        $msg = $e->getMessage();
    }
    gp_check(microtime(true) - $t0 < 8, 'answered at once', sprintf('%.1fs', microtime(true) - $t0));
    gp_eq(1043, $code, 'ERR 1043 for mysqli compress');
    gp_check(str_contains($msg, 'compression was not offered'), 'clear message', $msg);
    try {
        new PDO("mysql:host=127.0.0.1;port=$port;dbname=test", 'app', 'app',
            [PDO::MYSQL_ATTR_COMPRESS => true, PDO::ATTR_TIMEOUT => 10]);
        gp_check(false, 'PDO compress refused');
    } catch (PDOException $e) {
        gp_check(str_contains($e->getMessage(), 'compression was not offered'), 'PDO compress refused',
            $e->getMessage());
    }
    // Without compression the same proxy serves mysqlnd as ever.
    gp_eq('2', gp_one(gp_mysqli('app', 'app', 'test', [], $port), 'SELECT 1+1'), 'plain client fine');
});

gp_done();
