<?php
// Shared helpers for the PHP integration tests: environment, checks, a raw MySQL-protocol client.
declare(strict_types=1);

mysqli_report(MYSQLI_REPORT_OFF);

$GLOBALS['gp_pass'] = 0;
$GLOBALS['gp_fail'] = 0;

function gp_env(string $name, ?string $default = null): string
{
    $v = getenv($name);
    if ($v === false || $v === '') {
        if ($default === null) {
            fwrite(STDERR, "missing environment variable $name (run me through test/integration/run.sh)\n");
            exit(2);
        }
        return $default;
    }
    return $v;
}

function gp_host(): string
{
    return gp_env('PROXY_HOST', '127.0.0.1');
}

function gp_port(): int
{
    return (int)gp_env('PROXY_PORT');
}

function gp_tmp(): string
{
    return gp_env('TEST_TMP', sys_get_temp_dir());
}

function gp_short($v): string
{
    $s = var_export($v, true);
    if (strlen($s) > 200) {
        $s = substr($s, 0, 200) . '... (' . strlen($s) . ' bytes)';
    }
    return $s;
}

function gp_check(bool $cond, string $what, string $detail = ''): bool
{
    if ($cond) {
        $GLOBALS['gp_pass']++;
        echo "  ok - $what\n";
    } else {
        $GLOBALS['gp_fail']++;
        echo "  not ok - $what" . ($detail !== '' ? ": $detail" : '') . "\n";
    }
    return $cond;
}

function gp_eq($expected, $actual, string $what): bool
{
    return gp_check($expected === $actual, $what,
        'expected ' . gp_short($expected) . ', got ' . gp_short($actual));
}

// gp_section runs one group of checks; an exception fails the group instead of the whole file.
function gp_section(string $name, callable $fn): void
{
    echo "# $name\n";
    $t = microtime(true);
    try {
        $fn();
    } catch (Throwable $e) {
        gp_check(false, "$name raised " . get_class($e), $e->getMessage() . ' at ' .
            basename($e->getFile()) . ':' . $e->getLine());
    }
    printf("#   (%.2fs)\n", microtime(true) - $t);
}

function gp_done(): void
{
    printf("# %d checks passed, %d failed\n", $GLOBALS['gp_pass'], $GLOBALS['gp_fail']);
    exit($GLOBALS['gp_fail'] === 0 && $GLOBALS['gp_pass'] > 0 ? 0 : 1);
}

// gp_mysqli connects through the proxy (or wherever PROXY_PORT points) and fails loudly.
function gp_mysqli(string $user = 'app', string $pass = 'app', string $db = 'test',
    array $options = [], ?int $port = null): mysqli
{
    $m = mysqli_init();
    foreach ($options as $k => $v) {
        $m->options($k, $v);
    }
    if (!@$m->real_connect(gp_host(), $user, $pass, $db, $port ?? gp_port())) {
        throw new RuntimeException("connect as $user failed: " . mysqli_connect_errno() . ' ' .
            mysqli_connect_error());
    }
    $m->set_charset('utf8mb4');
    return $m;
}

// gp_wait_for: poll fn() every 50 ms until it is true or limit seconds passed; returns the
// seconds it took, or null.
function gp_wait_for(callable $fn, float $limit): ?float
{
    $t0 = microtime(true);
    do {
        if ($fn()) {
            return microtime(true) - $t0;
        }
        usleep(50000);
    } while (microtime(true) - $t0 < $limit);
    return null;
}

// gp_login_error: the error code a mysqli login to 127.0.0.1:$port gets (0: it got in).
function gp_login_error(int $port, string $user, string $pass, string $db = 'test'): int
{
    try {
        $m = @new mysqli('127.0.0.1', $user, $pass, $db, $port);
        $code = $m->connect_errno;
        if ($code === 0) {
            $m->close();
        }
        return $code;
    } catch (mysqli_sql_exception $e) {
        return $e->getCode();
    }
}

// gp_direct connects to MariaDB itself, for comparing answers.
function gp_direct(string $user = 'app', string $pass = 'app', string $db = 'test'): mysqli
{
    return gp_mysqli($user, $pass, $db, [], (int)gp_env('DB_PORT'));
}

function gp_q(mysqli $m, string $sql)
{
    $r = $m->query($sql);
    if ($r === false) {
        throw new RuntimeException("query failed ($m->errno/$m->sqlstate $m->error): $sql");
    }
    return $r;
}

function gp_one(mysqli $m, string $sql)
{
    $r = gp_q($m, $sql);
    $row = $r->fetch_row();
    $r->free();
    return $row === null ? null : $row[0];
}

// gp_rss_kb reads VmRSS of a process in kB.
function gp_rss_kb(int $pid): int
{
    $s = @file_get_contents("/proc/$pid/status");
    if ($s === false || !preg_match('/^VmRSS:\s+(\d+) kB/m', $s, $mm)) {
        return -1;
    }
    return (int)$mm[1];
}

function gp_pid_alive(int $pid): bool
{
    $s = @file_get_contents("/proc/$pid/stat");
    if ($s === false) {
        return false;
    }
    $rp = strrpos($s, ')');
    return substr($s, $rp + 2, 1) !== 'Z';
}

// gp_proc_stop stops a process a test started with proc_open: SIGTERM, up to 15 s, then
// SIGKILL. Returns its exit code (-1 if it had to be killed).
function gp_proc_stop($p): int
{
    $st = proc_get_status($p);
    if (!$st['running']) {
        return $st['exitcode'];
    }
    proc_terminate($p, SIGTERM);
    for ($i = 0; $i < 150; $i++) {
        $st = proc_get_status($p);
        if (!$st['running']) {
            return $st['exitcode'];
        }
        usleep(100000);
    }
    proc_terminate($p, SIGKILL);
    return -1;
}

// gp_own_proxy_port: the port of a test's own proxy (HTTP on the next one), from the
// environment variable $env or $default. A test that runs its own proxy checks nothing in
// direct mode: it exits there.
function gp_own_proxy_port(string $env, int $default): int
{
    if (getenv('PROXY_MODE') === 'direct') {
        echo "# direct mode: this test runs a proxy of its own; nothing to check\n";
        exit(0);
    }
    return (int)(getenv($env) ?: $default);
}

// gp_own_proxy_conf: the configuration of a test's own proxy on $port (HTTP on $port + 1) in
// front of the runner's MariaDB, logging at info, with $extra (limits, handshake, ...).
function gp_own_proxy_conf(int $port, string $extra): string
{
    $http = $port + 1;
    $db = (int)gp_env('DB_PORT');
    return <<<EOF
    listen = "127.0.0.1:$port";
    http_listen = "127.0.0.1:$http";
    log_level = "info";
    monitor = { user = "monitor"; password = "monitor"; interval_ms = 250; timeout_ms = 1000; };
    backends = ( { name = "db1"; address = "127.0.0.1:$db"; } );
    $extra

    EOF;
}

// gp_own_proxy starts a galera-proxy of the test's own (the runner's binary, found through
// PROXY_PID) with the configuration text $conf, logging to gp_tmp()/$name-proxy.log; it is
// stopped when the test ends. Returns [proc, pid, log] (exits the test if it cannot start).
function gp_own_proxy(string $name, string $conf): array
{
    $bin = @readlink('/proc/' . gp_env('PROXY_PID') . '/exe');
    if ($bin === false || !is_executable($bin)) {
        fwrite(STDERR, "cannot find the proxy binary through PROXY_PID\n");
        exit(1);
    }
    $log = gp_tmp() . "/$name-proxy.log";
    $path = gp_tmp() . "/$name-proxy.conf";
    file_put_contents($path, $conf);
    $proc = proc_open([$bin, '-c', $path], [0 => ['file', '/dev/null', 'r'],
        1 => ['file', $log, 'a'], 2 => ['file', $log, 'a']], $pipes);
    if ($proc === false) {
        fwrite(STDERR, "cannot start $bin\n");
        exit(1);
    }
    register_shutdown_function(function () use ($proc) {
        if (proc_get_status($proc)['running']) {
            gp_proc_stop($proc);
        }
    });
    return [$proc, proc_get_status($proc)['pid'], $log];
}

// gp_metric reads one sample of a proxy's /metrics on 127.0.0.1:$http (NAN if absent).
function gp_metric(int $http, string $sample): float
{
    $ctx = stream_context_create(['http' => ['timeout' => 2, 'ignore_errors' => true]]);
    $s = @file_get_contents("http://127.0.0.1:$http/metrics", false, $ctx);
    foreach (explode("\n", (string)$s) as $line) {
        if (str_starts_with($line, $sample . ' ')) {
            return (float)substr($line, strlen($sample) + 1);
        }
    }
    return NAN;
}

// gp_log_count counts occurrences of $needle in a log file. A log that does not exist (or
// cannot be read) throws: counting 0 in it would pass every "nothing was logged" check.
function gp_log_count(string $log, string $needle): int
{
    $text = is_file($log) ? @file_get_contents($log) : false;
    if ($text === false) {
        throw new RuntimeException("gp_log_count: cannot read log file $log");
    }
    return substr_count($text, $needle);
}

// gp_no_sanitizer_reports checks a proxy log for ASan/LSan/UBSan reports.
function gp_no_sanitizer_reports(string $log): void
{
    foreach (['ERROR: AddressSanitizer', 'LeakSanitizer', 'runtime error:'] as $m) {
        gp_check(gp_log_count($log, $m) === 0, "proxy log has no '$m'");
    }
}

// GpWire is a minimal MySQL client on a raw socket, for things real drivers will not do.
final class GpWire
{
    public $sock;
    public int $seq = 0;
    public string $scramble = '';
    public string $greeting = '';

    public function __construct(float $timeout = 5.0, ?int $port = null)
    {
        $addr = 'tcp://' . gp_host() . ':' . ($port ?? gp_port());
        $s = @stream_socket_client($addr, $errno, $errstr, $timeout);
        if ($s === false) {
            throw new RuntimeException("connect $addr: $errno $errstr");
        }
        $this->sock = $s;
        stream_set_timeout($s, (int)$timeout, (int)(fmod($timeout, 1.0) * 1e6));
    }

    // readExact returns exactly n bytes, or null on EOF/timeout.
    public function readExact(int $n): ?string
    {
        $buf = '';
        while (strlen($buf) < $n) {
            // fread() allocates its whole length up front: ask for modest chunks.
            $chunk = fread($this->sock, min($n - strlen($buf), 262144));
            if ($chunk === false || $chunk === '') {
                if (feof($this->sock) || stream_get_meta_data($this->sock)['timed_out']) {
                    return null;
                }
                continue;
            }
            $buf .= $chunk;
        }
        return $buf;
    }

    public function readPacket(): ?string
    {
        $h = $this->readExact(4);
        if ($h === null) {
            return null;
        }
        $len = ord($h[0]) | (ord($h[1]) << 8) | (ord($h[2]) << 16);
        $this->seq = (ord($h[3]) + 1) & 0xff;
        if ($len === 0) {
            return '';
        }
        return $this->readExact($len);
    }

    public function writePacket(string $payload): void
    {
        $len = strlen($payload);
        $h = chr($len & 0xff) . chr(($len >> 8) & 0xff) . chr(($len >> 16) & 0xff) . chr($this->seq);
        $this->seq = ($this->seq + 1) & 0xff;
        $this->writeRaw($h . $payload);
    }

    public function writeRaw(string $bytes): void
    {
        $off = 0;
        while ($off < strlen($bytes)) {
            $n = @fwrite($this->sock, substr($bytes, $off));
            if ($n === false || $n === 0) {
                throw new RuntimeException('write failed');
            }
            $off += $n;
        }
    }

    public function readGreeting(): string
    {
        $p = $this->readPacket();
        if ($p === null || $p === '' || ord($p[0]) !== 10) {
            throw new RuntimeException('no protocol-10 greeting: ' . gp_short($p));
        }
        $this->greeting = $p;
        $nul = strpos($p, "\0", 1);
        $pos = $nul + 1 + 4; // server version, connection id
        $part1 = substr($p, $pos, 8);
        $pos += 8 + 1 + 2 + 1 + 2 + 2; // filler, caps low, charset, status, caps high
        $authLen = ord($p[$pos]);
        $pos += 1 + 10;
        $part2Len = max(13, $authLen - 8);
        $part2 = rtrim(substr($p, $pos, $part2Len), "\0");
        $this->scramble = $part1 . $part2;
        return $p;
    }

    public static function nativeToken(string $pass, string $scramble): string
    {
        if ($pass === '') {
            return '';
        }
        $h1 = sha1($pass, true);
        $h2 = sha1($h1, true);
        return $h1 ^ sha1(substr($scramble, 0, 20) . $h2, true);
    }

    // login authenticates with mysql_native_password; returns the final OK/ERR packet.
    public function login(string $user = 'app', string $pass = 'app', string $db = 'test'): string
    {
        $this->readGreeting();
        // LONG_PASSWORD FOUND_ROWS LONG_FLAG CONNECT_WITH_DB PROTOCOL_41 TRANSACTIONS
        // SECURE_CONNECTION MULTI_STATEMENTS MULTI_RESULTS PS_MULTI_RESULTS PLUGIN_AUTH
        $caps = 0x1 | 0x2 | 0x4 | 0x8 | 0x200 | 0x2000 | 0x8000 | 0x10000 | 0x20000 | 0x40000 | 0x80000;
        $token = self::nativeToken($pass, $this->scramble);
        $payload = pack('VVC', $caps, 16 << 20, 45) . str_repeat("\0", 23) . $user . "\0" .
            chr(strlen($token)) . $token . $db . "\0" . "mysql_native_password\0";
        $this->writePacket($payload);
        $p = $this->readPacket();
        while ($p !== null && $p !== '' && ord($p[0]) === 0xfe) {
            // Auth switch: plugin name NUL scramble.
            $nul = strpos($p, "\0", 1);
            $plugin = substr($p, 1, $nul - 1);
            if ($plugin !== 'mysql_native_password') {
                throw new RuntimeException("server asked for auth plugin $plugin");
            }
            $this->scramble = rtrim(substr($p, $nul + 1), "\0");
            $this->writePacket(self::nativeToken($pass, $this->scramble));
            $p = $this->readPacket();
        }
        if ($p === null || $p === '' || ord($p[0]) !== 0) {
            throw new RuntimeException('login failed: ' . gp_short($p));
        }
        return $p;
    }

    public function sendQuery(string $sql): void
    {
        $this->command("\x03", $sql);
    }

    // command starts a new command (sequence 0): one byte of command, then its payload.
    public function command(string $cmd, string $payload): void
    {
        $this->seq = 0;
        $this->writePacket($cmd . $payload);
    }

    public static function lenencInt(string $p, int &$pos): int
    {
        $c = ord($p[$pos++]);
        if ($c < 0xfb) {
            return $c;
        }
        $n = [0xfc => 2, 0xfd => 3, 0xfe => 8][$c] ?? 0;
        $v = 0;
        for ($i = 0; $i < $n; $i++) {
            $v |= ord($p[$pos + $i]) << (8 * $i);
        }
        $pos += $n;
        return $v;
    }

    // readResult reads one OK, ERR or result set (without CLIENT_DEPRECATE_EOF) and
    // returns ['type' => ok|err|rs, 'status' => server status flags, 'rows' => raw payloads].
    public function readResult(): array
    {
        $p = $this->readPacket();
        if ($p === null || $p === '') {
            throw new RuntimeException('connection closed while waiting for a result');
        }
        $first = ord($p[0]);
        if ($first === 0x00) {
            $pos = 1;
            self::lenencInt($p, $pos);
            self::lenencInt($p, $pos);
            $st = unpack('v', substr($p, $pos, 2))[1];
            return ['type' => 'ok', 'status' => $st, 'rows' => []];
        }
        if ($first === 0xff) {
            return ['type' => 'err', 'status' => 0, 'rows' => [], 'code' => unpack('v', substr($p, 1, 2))[1],
                'message' => substr($p, 9)];
        }
        $pos = 0;
        $cols = self::lenencInt($p, $pos);
        for ($i = 0; $i < $cols; $i++) {
            $this->readPacket();
        }
        $this->readPacket(); // EOF after the column definitions
        $rows = [];
        while (true) {
            $r = $this->readPacket();
            if ($r === null) {
                throw new RuntimeException('connection closed inside a result set');
            }
            if ($r !== '' && ord($r[0]) === 0xfe && strlen($r) < 9) {
                return ['type' => 'rs', 'status' => unpack('v', substr($r, 3, 2))[1], 'rows' => $rows,
                    'cols' => $cols];
            }
            if ($r !== '' && ord($r[0]) === 0xff) {
                return ['type' => 'err', 'status' => 0, 'rows' => $rows, 'code' => unpack('v', substr($r, 1, 2))[1],
                    'message' => substr($r, 9)];
            }
            $rows[] = $r;
        }
    }

    // readResults reads results while the server announces more (SERVER_MORE_RESULTS_EXISTS).
    public function readResults(): array
    {
        $all = [];
        do {
            $r = $this->readResult();
            $all[] = $r;
        } while ($r['type'] !== 'err' && ($r['status'] & 0x0008));
        return $all;
    }

    public function close(): void
    {
        if (is_resource($this->sock)) {
            fclose($this->sock);
        }
    }

    // closedWithin waits for EOF (or an ERR packet then EOF); returns seconds or null.
    public function closedWithin(float $limit): ?float
    {
        $t0 = microtime(true);
        stream_set_blocking($this->sock, false);
        while (microtime(true) - $t0 < $limit) {
            $r = [$this->sock];
            $w = $e = null;
            $left = $limit - (microtime(true) - $t0);
            $n = @stream_select($r, $w, $e, (int)$left, (int)(fmod($left, 1.0) * 1e6));
            if ($n === false) {
                return null;
            }
            if ($n > 0) {
                $d = @fread($this->sock, 65536);
                if ($d === '' || $d === false) {
                    if (feof($this->sock)) {
                        return microtime(true) - $t0;
                    }
                }
            }
        }
        return null;
    }
}
