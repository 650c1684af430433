<?php
// Failing backends: a fake server that sends garbage, oversized packets, closes or stalls.
// gp-test-timeout: 240
declare(strict_types=1);
require __DIR__ . '/lib/common.php';

/*
 * Starts its own galera-proxy instances (the runner's binary, found through PROXY_PID):
 * A in front of lib/fakeserver.php (ports GP_TEST_FAKE_PORT +0..+2, default 16533; the fake on
 * +6) and B in front of the runner's real MariaDB (+3..+5). A healthy client runs against B in a separate
 * process the whole time. For each misbehaviour: a client of A gets an error within the
 * configured timeouts (or, for a stall, its own read timeout, since a stalled backend looks
 * like a slow query), and the proxy closes its side of the fake's connection. The monitor
 * marks the node down when the misbehaviour reaches it too. Afterwards A's fds, sessions and
 * RSS are back at their baseline, and both proxies exit 0 on SIGTERM with no sanitizer report.
 */

define('PORT_BASE', (int)(getenv('GP_TEST_FAKE_PORT') ?: 16533));
const A_PORT = PORT_BASE;
const A_HTTP = PORT_BASE + 2;
const B_PORT = PORT_BASE + 3;
const B_HTTP = PORT_BASE + 5;
const FAKE_PORT = PORT_BASE + 6;
const CONNECT_TIMEOUT_MS = 1000; // limits.backend_connect_timeout_ms
const CONNECT_WAIT_MS = 1000;    // routing.connect_wait_ms
const MON_INTERVAL_MS = 100;
const MON_TIMEOUT_MS = 500;
const MON_FALL = 2;

if ($argc >= 2 && $argv[1] === '--healthy') {
    healthy_loop((int)$argv[2], $argv[3], $argv[4]);
    exit(0);
}

// healthy_loop: queries on one connection until STOP exists; writes "n errors worst_s" to OUT.
function healthy_loop(int $port, string $stop, string $out): void
{
    $n = $errors = 0;
    $worst = 0.0;
    $m = null;
    while (!file_exists($stop)) {
        $t0 = microtime(true);
        try {
            $m = $m ?? gp_mysqli('app', 'app', 'test', [], $port);
            $ok = gp_one($m, "SELECT $n + 1") === (string)($n + 1);
        } catch (Throwable $e) {
            $ok = false;
            $m = null;
            fwrite(STDERR, 'healthy client: ' . $e->getMessage() . "\n");
        }
        $worst = max($worst, microtime(true) - $t0);
        $n++;
        $errors += $ok ? 0 : 1;
        usleep(20000);
    }
    file_put_contents($out, "$n $errors $worst");
}

if (gp_env('PROXY_MODE', 'proxy') === 'direct') {
    echo "# direct mode: this test needs the proxy; nothing to check\n";
    exit(0);
}
$bin = @readlink('/proc/' . gp_env('PROXY_PID') . '/exe');
if ($bin === false || !is_executable($bin)) {
    fwrite(STDERR, "cannot find the proxy binary through PROXY_PID\n");
    exit(1);
}
$tmp = gp_tmp();
$control = "$tmp/fake.mode";
file_put_contents($control, 'ok');
$procs = [];

function start(array $cmd, string $log)
{
    $p = proc_open($cmd, [0 => ['file', '/dev/null', 'r'], 1 => ['file', $log, 'a'],
        2 => ['file', $log, 'a']], $pipes);
    if ($p === false) {
        throw new RuntimeException('cannot start ' . implode(' ', $cmd));
    }
    $GLOBALS['procs'][] = $p;
    return $p;
}

register_shutdown_function(function () {
    foreach ($GLOBALS['procs'] as $p) {
        if (proc_get_status($p)['running']) {
            gp_proc_stop($p);
        }
    }
});

function proxy_conf(string $path, int $port, int $http, int $backendPort): void
{
    $ro = $port + 1;
    $ct = CONNECT_TIMEOUT_MS;
    $cw = CONNECT_WAIT_MS;
    $mi = MON_INTERVAL_MS;
    $mt = MON_TIMEOUT_MS;
    $mf = MON_FALL;
    file_put_contents($path, <<<EOF
listen = "127.0.0.1:$port";
listen_ro = "127.0.0.1:$ro";
http_listen = "127.0.0.1:$http";
log_level = "info";
limits = { client_handshake_timeout_ms = 3000; backend_connect_timeout_ms = $ct; shutdown_timeout_ms = 2000; };
monitor = { user = "monitor"; password = "monitor"; interval_ms = $mi; timeout_ms = $mt; fall = $mf; rise = 1; };
routing = { connect_wait_ms = $cw; };
backends = ( { name = "db1"; address = "127.0.0.1:$backendPort"; } );

EOF);
}

function status(int $http): ?array
{
    $ctx = stream_context_create(['http' => ['timeout' => 2, 'ignore_errors' => true]]);
    $s = @file_get_contents("http://127.0.0.1:$http/status", false, $ctx);
    $j = $s === false ? null : json_decode($s, true);
    return is_array($j) ? $j : null;
}

function node_up(): ?bool
{
    $s = status(A_HTTP);
    return $s === null ? null : ($s['backends'][0]['up'] ?? null);
}

function fake_conns(): int
{
    $s = @file_get_contents($GLOBALS['control'] . '.conns');
    return $s === false ? -1 : (int)$s;
}

function fd_count(int $pid): int
{
    $d = @scandir("/proc/$pid/fd");
    return $d === false ? -1 : count($d) - 2;
}

// client_a: connect to A and run SELECT 1; returns [ok, errno, error, seconds].
function client_a(int $readTimeout = 5): array
{
    $t0 = microtime(true);
    $m = mysqli_init();
    $m->options(MYSQLI_OPT_CONNECT_TIMEOUT, 10);
    $m->options(MYSQLI_OPT_READ_TIMEOUT, $readTimeout);
    if (!@$m->real_connect('127.0.0.1', 'app', 'app', 'test', A_PORT)) {
        return [false, mysqli_connect_errno(), mysqli_connect_error(), microtime(true) - $t0];
    }
    $r = @$m->query('SELECT 1');
    $res = $r === false ? [false, $m->errno, $m->error, microtime(true) - $t0]
        : [true, 0, '', microtime(true) - $t0];
    @$m->close();
    return $res;
}

function set_mode(string $mode): void
{
    file_put_contents($GLOBALS['control'] . '.tmp', $mode);
    rename($GLOBALS['control'] . '.tmp', $GLOBALS['control']);
}

// ---- start everything -----------------------------------------------------------------
$fake = start(['php', __DIR__ . '/lib/fakeserver.php', (string)FAKE_PORT, $control], "$tmp/fake.log");
proxy_conf("$tmp/a.conf", A_PORT, A_HTTP, FAKE_PORT);
proxy_conf("$tmp/b.conf", B_PORT, B_HTTP, (int)gp_env('DB_PORT'));
$pa = start([$bin, '-c', "$tmp/a.conf"], "$tmp/proxy-a.log");
$pb = start([$bin, '-c', "$tmp/b.conf"], "$tmp/proxy-b.log");
$pidA = proc_get_status($pa)['pid'];

gp_section('setup: both proxies route, the fake node is up', function () {
    gp_check(gp_wait_for(fn() => node_up() === true && (status(A_HTTP)['writer'] ?? null) === 'db1', 20) !== null,
        'proxy A sees the fake backend up and as its writer');
    gp_check(gp_wait_for(fn() => (status(B_HTTP)['writer'] ?? null) === 'db1', 20) !== null,
        'proxy B has its writer');
    [$ok, $errno, $err] = client_a();
    gp_check($ok, 'a client of A runs SELECT 1 on the well-behaved fake', "$errno $err");
});

$stopFile = "$tmp/healthy.stop";
$healthyOut = "$tmp/healthy.out";
@unlink($stopFile);
$healthy = start(['php', '-d', 'display_errors=stderr', __FILE__, '--healthy', (string)B_PORT, $stopFile,
    $healthyOut], "$tmp/healthy.log");

// Baseline after a warm-up, so pooled buffers and first-use allocations are counted in it.
for ($i = 0; $i < 10; $i++) {
    client_a();
}
gp_wait_for(fn() => (status(A_HTTP)['clients']['sessions'] ?? -1) === 0, 5);
usleep(300000);
$fd0 = fd_count($pidA);
$rss0 = gp_rss_kb($pidA);
$fakeConns0 = fake_conns(); // the monitor's connection
echo "# baseline: A fds=$fd0 rss={$rss0}kB, fake connections=$fakeConns0\n";

// expect_error: the client of A fails within limit seconds; the proxy lets go of the fake.
function expect_error(string $mode, float $limit, int $rounds, int $readTimeout = 5): void
{
    set_mode($mode);
    $worst = 0.0;
    $errs = [];
    $good = 0;
    for ($i = 0; $i < $rounds; $i++) {
        [$ok, $errno, $err, $secs] = client_a($readTimeout);
        $worst = max($worst, $secs);
        if ($ok) {
            $good++;
        } else {
            $errs["$errno $err"] = true;
        }
    }
    gp_check($good === 0, "$mode: every client got an error ($rounds rounds)", "$good succeeded");
    gp_check($worst < $limit, sprintf('%s: error within %.2fs (< %.1fs); errors: %s', $mode, $worst,
        $limit, implode(' | ', array_keys($errs))));
    set_mode('ok');
    $c0 = $GLOBALS['fakeConns0'];
    gp_check(gp_wait_for(fn() => fake_conns() <= $c0, 5) !== null,
        "$mode: the proxy closed its connections to the fake (" . fake_conns() . " open, baseline $c0)");
    gp_check(node_up() === true, "$mode: the monitor still has the node up (it answers the monitor)");
}

$bound = (CONNECT_TIMEOUT_MS + CONNECT_WAIT_MS) / 1000 + 1.5;
gp_section('garbage instead of a greeting', fn() => expect_error('garbage', 1.5, 15));
gp_section('oversized greeting (16 MB announced, then a stall)',
    fn() => expect_error('oversized_greeting', $bound, 8));
gp_section('accept and never greet', fn() => expect_error('no_greet', $bound, 4));
gp_section('close mid-result', fn() => expect_error('close_mid', 1.5, 15));
// Nothing in the proxy times out a backend that stalls mid-result (a long query looks the
// same): the client's own read timeout (2 s) ends it, and the proxy must then let go.
gp_section('stall mid-result', fn() => expect_error('stall_mid', 2 + 1.5, 3, 2));
gp_section('oversized packet mid-result (16 MB announced, then a stall)',
    fn() => expect_error('oversized', 2 * 2 + 1.5, 3, 2)); // two reads time out: header, body

// ---- the monitor ---------------------------------------------------------------------
$downBound = MON_FALL * (MON_INTERVAL_MS + MON_TIMEOUT_MS) / 1000 + 2.0;
foreach (['garbage all', 'no_greet all', 'stall_mid all'] as $mode) {
    gp_section("monitor: $mode", function () use ($mode, $downBound) {
        set_mode($mode);
        $t = gp_wait_for(fn() => node_up() === false, $downBound + 2);
        gp_check($t !== null && $t < $downBound,
            sprintf('the monitor marks the node down in %s (< %.1fs)',
                $t === null ? 'never' : sprintf('%.2fs', $t), $downBound));
        [$ok, $errno, $err, $secs] = client_a();
        gp_check(!$ok && $errno === 1047 && $secs < CONNECT_WAIT_MS / 1000 + 1.5,
            sprintf('a client of A gets ERR 1047 in %.2fs while the node is down', $secs), "$errno $err");
        set_mode('ok');
        $t = gp_wait_for(fn() => node_up() === true, 10);
        gp_check($t !== null, 'the node comes back up when the fake behaves again');
    });
}
gp_check(str_contains((string)@file_get_contents("$tmp/proxy-a.log"), 'db1'),
    'proxy A logged about the node');

// ---- no leak, the healthy client, clean exits ---------------------------------------
gp_section('proxy A back to its baseline', function () use ($pidA, $fd0, $rss0) {
    set_mode('ok');
    gp_check(gp_wait_for(fn() => (status(A_HTTP)['clients']['sessions'] ?? -1) === 0, 5) !== null,
        'no session left on A');
    $c0 = $GLOBALS['fakeConns0'];
    gp_check(gp_wait_for(fn() => fake_conns() <= $c0, 5) !== null,
        'connections to the fake back to the monitor\'s (' . fake_conns() . ')');
    $fd = -1;
    gp_check(gp_wait_for(function () use ($pidA, $fd0, &$fd) {
        $fd = fd_count($pidA);
        return $fd <= $fd0;
    }, 5) !== null, "A's open fds back to baseline ($fd, baseline $fd0)");
    $rss = gp_rss_kb($pidA);
    // An ASan build keeps freed memory in its quarantine (16 MB in the runner's
    // ASAN_OPTIONS) before reuse: allow for it there, and only there.
    $maps = @file_get_contents("/proc/$pidA/maps");
    $asan = $maps !== false && str_contains($maps, 'libasan');
    $slack = $asan ? 4096 + 20480 : 4096;
    gp_check($rss - $rss0 < $slack, "A's RSS within " . ($slack >> 10) . " MB of baseline ({$rss}kB, baseline {$rss0}kB" . ($asan ? ', ASan quarantine allowed' : '') . ")");
    [$ok, $errno, $err] = client_a();
    gp_check($ok, 'A serves a client again', "$errno $err");
});

touch($stopFile);
gp_wait_for(fn() => !proc_get_status($healthy)['running'], 10);
$h = explode(' ', (string)@file_get_contents($healthyOut));
gp_check(count($h) === 3 && (int)$h[0] > 50 && (int)$h[1] === 0 && (float)$h[2] < 1.0,
    sprintf('healthy client on B: %s queries, %s errors, worst %.3fs', $h[0] ?? '?', $h[1] ?? '?',
        (float)($h[2] ?? 0)));

foreach (['A' => $pa, 'B' => $pb] as $name => $p) {
    $rc = gp_proc_stop($p);
    gp_eq(0, $rc, "proxy $name exits 0 on SIGTERM");
    gp_no_sanitizer_reports("$tmp/proxy-" . strtolower($name) . '.log');
}
gp_proc_stop($fake);
gp_done();
