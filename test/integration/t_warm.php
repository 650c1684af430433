<?php
// Warm greetings (handshake.warm): backend connections greeted ahead, handed to arriving clients.
// gp-test-timeout: 120
declare(strict_types=1);
require __DIR__ . '/lib/common.php';

/*
 * Starts its own galera-proxy in front of the runner's MariaDB with handshake.warm = 3 and
 * greeting_timeout_ms = 2000 (so unused greetings are finished after 1 s), on
 * GP_TEST_WARM_PORT (default 16562; +1 HTTP). Checks: nothing is fetched before the first
 * client; after it, 3 greetings wait; clients get them (reused counter) and each taken one is
 * replaced; logins and queries through them work (mysqli, PDO, the CLI, a wrong password
 * gets 1045); unused ones are finished with a login, not dropped, and the server counts no
 * aborted connect; 10 s without a client lets them all go; the settings that cannot work
 * with it are refused; SIGTERM with greetings waiting exits 0.
 */

$port = gp_own_proxy_port('GP_TEST_WARM_PORT', 16562);
$http = $port + 1;
$conf = gp_own_proxy_conf($port, <<<EOF
limits = { shutdown_timeout_ms = 2000; };
handshake = { warm = 3; greeting_timeout_ms = 2000; };
EOF);
[$proc, $pid, $log] = gp_own_proxy('warm', $conf);

function pm(string $event): float
{
    global $http;
    return gp_metric($http, "galera_proxy_backend_parked_total{backend=\"db1\",event=\"$event\"}");
}

function waiting(): float
{
    global $http;
    return gp_metric($http, 'galera_proxy_backend_parked_connections{backend="db1"}');
}

function slots(): float
{
    global $http;
    return gp_metric($http, 'galera_proxy_backend_handshake_slots_used{backend="db1"}');
}

// until: fn came true within $secs.
function until(callable $fn, float $secs): bool
{
    return gp_wait_for($fn, $secs) !== null;
}

$direct = gp_direct();
$aborted = fn() => (int)gp_one($direct, "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS
    WHERE VARIABLE_NAME = 'ABORTED_CONNECTS'");
$aborted0 = $aborted();

gp_section('nothing before the first client', function () use ($http) {
    gp_check(until(fn() => waiting() === 0.0, 10.0), 'the proxy answers /metrics');
    usleep(500000);
    gp_eq(0.0, pm('warmed'), 'no greeting fetched before any client came');
});

gp_section('greetings ahead, handed out and replaced', function () use ($port) {
    $m = new mysqli('127.0.0.1', 'app', 'app', 'test', $port);
    gp_eq('1', gp_one($m, 'SELECT 1'), 'the first client logs in the usual way');
    $m->close();
    gp_check(until(fn() => waiting() === 3.0, 5.0), 'then 3 greetings wait', (string)waiting());
    gp_eq(3.0, slots(), 'they hold 3 handshake slots');
    $r0 = pm('reused');
    $w0 = pm('warmed');
    $ok = 0;
    for ($i = 0; $i < 20; $i++) {
        $m = new mysqli('127.0.0.1', 'app', 'app', 'test', $port);
        $ok += gp_one($m, "SELECT CONCAT(CURRENT_USER(), ' ', DATABASE(), ' ', 6 * 7)") ===
            'app@% test 42' ? 1 : 0;
        $m->close();
    }
    gp_eq(20, $ok, '20 mysqli logins in a row, each with its user, database and query right');
    gp_check(pm('reused') - $r0 >= 15, 'most of them got a greeting fetched ahead',
        sprintf('%d of 20', pm('reused') - $r0));
    gp_check(pm('warmed') - $w0 >= pm('reused') - $r0, 'each one taken was replaced');
    gp_check(until(fn() => waiting() === 3.0, 5.0), '3 greetings wait again');

    $pdo = new PDO("mysql:host=127.0.0.1;port=$port;dbname=test", 'app', 'app',
        [PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION]);
    gp_check($pdo->query('SELECT 6 * 7')->fetchColumn() == 42, 'PDO logs in through one');
    $pdo = null;
    exec(sprintf('timeout 10 mariadb --no-defaults -h127.0.0.1 -P%d -uedapp -pedpass -N -B -e %s 2>&1',
        $port, escapeshellarg('SELECT CURRENT_USER()')), $out, $rc);
    gp_check($rc === 0 && ($out[0] ?? '') === 'edapp@%', 'the mariadb CLI logs in with ed25519',
        implode(' ', $out));
    gp_eq(1045, gp_login_error($port, 'app', 'wrong'),
        'a wrong password gets the server\'s access denied');
});

gp_section('unused ones are finished, then let go', function () use ($log, $aborted, $aborted0) {
    $f0 = pm('finished');
    gp_check(until(fn() => pm('finished') >= $f0 + 3, 5.0),
        'greetings unused for half of greeting_timeout_ms are finished with a login');
    gp_check(until(fn() => waiting() === 0.0 && slots() === 0.0, 15.0),
        'no client for 10 s: no greeting is kept, no slot held');
    gp_eq(0.0, pm('dropped'), 'no warm connection was dropped');
    gp_eq(0, gp_log_count($log, 'event=park_login_failed'), 'every finishing login worked');
    // The wrong password above is the one aborted connect the server may count.
    gp_check($aborted() <= $aborted0 + 1, 'the server counted no aborted connect of ours',
        sprintf('%d -> %d', $aborted0, $aborted()));
});

gp_section('settings it cannot work with are refused', function () use ($conf, $pid) {
    $bin = readlink("/proc/$pid/exe");
    $bad = [
        'proxy_protocol = "v2"' => 'needs park = true and proxy_protocol = "off"',
        'park = false' => 'needs park = true',
        'slots = 2' => "must not exceed 'slots' (2)",
        'warm = 65' => 'must be at most 64',
    ];
    foreach ($bad as $setting => $want) {
        $path = gp_tmp() . '/warm-bad.conf';
        file_put_contents($path, str_replace('warm = 3;', str_contains($setting, 'warm') ?
            "$setting;" : "warm = 3; $setting;", $conf));
        exec(escapeshellarg($bin) . ' --check-config -c ' . escapeshellarg($path) . ' 2>&1', $out, $rc);
        $text = implode(' ', $out);
        gp_check($rc !== 0 && str_contains($text, $want), "handshake.$setting with warm: refused",
            $text);
        $out = [];
    }
});

gp_section('shutdown with greetings waiting', function () use ($port, $proc, $log) {
    $m = new mysqli('127.0.0.1', 'app', 'app', 'test', $port);
    $m->close();
    gp_check(until(fn() => waiting() === 3.0, 5.0), '3 greetings wait');
    gp_eq(0, gp_proc_stop($proc), 'the proxy exits 0 on SIGTERM');
    gp_eq(0.0, 0.0 + gp_log_count($log, 'event=park_dropped'), 'nothing was dropped at shutdown');
    gp_no_sanitizer_reports($log);
});

gp_done();
