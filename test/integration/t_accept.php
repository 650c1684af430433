<?php
// Refused connections are accepted and closed: the listener keeps serving and no descriptor stays.
// gp-test-timeout: 120
declare(strict_types=1);
require __DIR__ . '/lib/common.php';

/*
 * libuv stops polling a listener while a connection it accepted waits for uv_accept, so an
 * accept path that returns without taking it leaves the listener deaf and the descriptor
 * open. Every refusal path of the proxy accepts and closes (proxy/refuse.c). Running out of
 * memory cannot be provoked from here; the HTTP server's connection limit goes through the
 * same refuser, so it is driven here: its own proxy (GP_TEST_ACCEPT_PORT, default the
 * runner's port + 700; +1 HTTP) with GP_HTTP_MAX_CONNS (256) HTTP connections held open,
 * then a burst of 64 more. Each of those is closed at once, the proxy's descriptors stay at
 * baseline + 256, MySQL clients are served throughout, a freed place is taken by a new HTTP
 * client, and once all are gone the descriptor count is back at the baseline. SIGTERM: exit 0.
 */

const HTTP_MAX = 256; // GP_HTTP_MAX_CONNS (proxy/http.h)
const BURST = 64;

$port = gp_own_proxy_port('GP_TEST_ACCEPT_PORT', gp_port() + 700);
$http = $port + 1;
$conf = gp_own_proxy_conf($port, 'limits = { shutdown_timeout_ms = 2000; };');
[$proc, $pid, $log] = gp_own_proxy('accept', $conf);

function fds(int $pid): int
{
    return count(glob("/proc/$pid/fd/*") ?: []);
}

// One HTTP/1.1 GET on a fresh connection: the status line, or '' if refused or closed.
function http_get(int $http, string $path): string
{
    $s = @stream_socket_client("tcp://127.0.0.1:$http", $errno, $errstr, 2.0);
    if ($s === false) {
        return '';
    }
    stream_set_timeout($s, 2);
    fwrite($s, "GET $path HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    $line = (string)fgets($s);
    fclose($s);
    return trim($line);
}

// How many of $socks the server closes (EOF or reset) within $secs in all.
function closed_by_peer(array $socks, float $secs): int
{
    $closed = 0;
    $end = microtime(true) + $secs;
    while ($socks && ($left = $end - microtime(true)) > 0) {
        $r = $socks;
        $w = $e = null;
        if (@stream_select($r, $w, $e, (int)$left, (int)(fmod($left, 1.0) * 1e6)) < 1) {
            break;
        }
        foreach ($r as $s) {
            $data = @fread($s, 1);
            if ($data === '' || $data === false) {
                $closed++;
                unset($socks[array_search($s, $socks, true)]);
            }
        }
    }
    return $closed;
}

$base = 0;
gp_section('baseline', function () use ($port, $http, $pid, &$base) {
    gp_check(gp_wait_for(fn() => str_contains(http_get($http, '/health'), ' 200 '), 15.0) !== null,
        'the proxy answers /health with a writer');
    gp_eq('1', (string)gp_one(gp_mysqli(port: $port), 'SELECT 1'), 'a MySQL client is served');
    // Steady: the readiness clients are gone.
    $last = -1;
    gp_wait_for(function () use ($pid, &$last) {
        usleep(300000);
        $n = fds($pid);
        $same = $n === $last;
        $last = $n;
        return $same;
    }, 10.0);
    $base = fds($pid);
    echo "# baseline: $base descriptors\n";
    gp_check($base > 0, 'the proxy has a descriptor count');
});

$held = [];
gp_section('HTTP connections up to the limit', function () use ($http, $pid, &$base, &$held) {
    for ($i = 0; $i < HTTP_MAX; $i++) {
        $s = @stream_socket_client("tcp://127.0.0.1:$http", $errno, $errstr, 2.0);
        if ($s === false) {
            gp_check(false, "connection $i to the HTTP port", "$errno $errstr");
            return;
        }
        $held[] = $s;
    }
    gp_check(gp_wait_for(fn() => fds($pid) === $base + HTTP_MAX, 10.0) !== null,
        'the proxy holds ' . HTTP_MAX . ' HTTP connections', 'fds ' . fds($pid));
    // One of them still gets answers (keep-alive): they are served, not just queued.
    fwrite($held[0], "GET /health HTTP/1.1\r\nHost: t\r\n\r\n");
    stream_set_timeout($held[0], 2);
    gp_check(str_contains((string)fgets($held[0]), ' 200 '), 'a held connection is served');
    $len = 0;
    while (($l = fgets($held[0])) !== false && trim($l) !== '') {
        if (preg_match('/^Content-Length:\s*(\d+)/i', $l, $m)) {
            $len = (int)$m[1];
        }
    }
    $body = $len > 0 ? (string)fread($held[0], $len) : '';
    gp_check(str_starts_with($body, 'ok'), 'its answer is complete', $body);
});

gp_section('a burst beyond the limit is closed at once', function () use ($http, $port, $pid, $log, &$base) {
    $before = gp_log_count($log, 'event=http_conn_limit');
    $burst = [];
    for ($i = 0; $i < BURST; $i++) {
        $s = @stream_socket_client("tcp://127.0.0.1:$http", $errno, $errstr, 2.0);
        if ($s !== false) {
            $burst[] = $s;
        }
    }
    gp_eq(BURST, count($burst), 'the kernel completed every connect of the burst');
    gp_eq(BURST, closed_by_peer($burst, 5.0),
        'every connection beyond the limit was closed by the proxy');
    foreach ($burst as $s) {
        fclose($s);
    }
    gp_eq(BURST, gp_log_count($log, 'event=http_conn_limit') - $before,
        'one http_conn_limit line per refused connection');
    gp_eq('1', (string)gp_one(gp_mysqli(port: $port), 'SELECT 1'),
        'MySQL clients are served meanwhile');
    gp_check(gp_wait_for(fn() => fds($pid) === $base + HTTP_MAX, 5.0) !== null,
        'no descriptor of a refused connection stays open', 'fds ' . fds($pid) .
        ', want ' . ($base + HTTP_MAX));
});

gp_section('a freed place goes to the next client', function () use ($http, $pid, &$held) {
    fclose(array_pop($held));
    gp_check(gp_wait_for(fn() => str_contains(http_get($http, '/health'), ' 200 '), 5.0) !== null,
        'the HTTP listener still accepts and serves after the refusals');
});

gp_section('all gone: back at the baseline', function () use ($pid, $port, &$base, &$held) {
    foreach ($held as $s) {
        fclose($s);
    }
    $held = [];
    gp_check(gp_wait_for(fn() => fds($pid) === $base, 10.0) !== null,
        'descriptors back at the baseline', 'fds ' . fds($pid) . ", want $base");
    gp_eq('1', (string)gp_one(gp_mysqli(port: $port), 'SELECT 1'), 'a MySQL client is served');
});

gp_section('shutdown', function () use ($proc, $log) {
    gp_eq(0, gp_proc_stop($proc), 'SIGTERM: exit status 0');
    gp_check(gp_log_count($log, 'event=shutdown_complete') === 1, 'shutdown_complete logged');
    gp_no_sanitizer_reports($log);
});

gp_done();
