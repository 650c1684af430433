<?php
// Deferred greetings: with the handshake slots full the proxy greets clients itself and logs them in through an auth switch.
// gp-test-timeout: 180
declare(strict_types=1);
require __DIR__ . '/lib/common.php';

/*
 * Starts its own galera-proxy (the runner's binary, found through PROXY_PID) in front of the
 * runner's MariaDB with handshake.slots = 1, on GP_TEST_DEFER_PORT (default 16560; +1 HTTP).
 * Half-open clients hold the one slot; then logins through the mariadb CLI (native password,
 * ed25519, empty password), mysqli and PDO must work, each greeted by the proxy itself (the
 * deferred-greeting counter moves), a wrong password gets the server's 1045, a client without
 * CLIENT_PLUGIN_AUTH gets 1251, COM_CHANGE_USER works afterwards, and a client that leaves at
 * the auth switch has its login refused by the proxy (a credentials error at the server, not
 * an aborted connect). Afterwards the proxy is back at its baseline and exits 0 on SIGTERM.
 */

$port = gp_own_proxy_port('GP_TEST_DEFER_PORT', 16560);
$http = $port + 1;
[$proc, , $log] = gp_own_proxy('deferred', gp_own_proxy_conf($port, <<<EOF
limits = { client_handshake_timeout_ms = 30000; shutdown_timeout_ms = 2000; };
handshake = { slots = 1; greeting_timeout_ms = 8000; }; # < the server's connect_timeout (10 s)
EOF));

function deferred(int $http): float
{
    return gp_metric($http, 'galera_proxy_backend_deferred_greetings_total{backend="db1"}');
}

// A raw client that reads its greeting and answers with caps (native password for app/app).
function answer(int $port, int $caps, ?string $user = 'app'): GpWire
{
    $w = new GpWire(5.0, $port);
    $w->readGreeting();
    $token = GpWire::nativeToken('app', $w->scramble);
    $w->writePacket(pack('VVC', $caps, 16 << 20, 45) . str_repeat("\0", 23) . $user . "\0" .
        chr(strlen($token)) . $token . "test\0" . (($caps & 0x80000) ? "mysql_native_password\0" : ''));
    return $w;
}

const CAPS = 0x1 | 0x4 | 0x8 | 0x200 | 0x2000 | 0x8000 | 0x10000 | 0x20000 | 0x80000;

$ready = false;
for ($i = 0; $i < 100 && !$ready; $i++) {
    try {
        $m = @new mysqli('127.0.0.1', 'app', 'app', 'test', $port);
        $ready = gp_one($m, 'SELECT 1') === '1';
        $m->close();
    } catch (Throwable $e) {
        usleep(100000);
    }
}
gp_check($ready, "proxy on $port relays a login (the greeting cache is primed)");
if (!$ready) {
    gp_done();
}
$direct = gp_direct();
gp_q($direct, "DROP USER IF EXISTS 'nopw'@'%'");
gp_q($direct, "CREATE USER 'nopw'@'%' IDENTIFIED BY ''");

// Half-open clients: the first holds the only slot, the others are greeted by the proxy.
$hold = [];
for ($i = 0; $i < 3; $i++) {
    $w = new GpWire(5.0, $port);
    $w->readGreeting();
    $hold[] = $w;
}
usleep(200000);
gp_eq(1.0, gp_metric($http, 'galera_proxy_backend_handshake_slots_used{backend="db1"}'),
    'the half-open clients hold the one handshake slot');
gp_check(deferred($http) >= 2.0, 'half-open clients beyond the slot are greeted by the proxy itself');

// logs_in: runs fn, which must log in; the deferred counter must have moved by one.
function logs_in(int $http, string $what, callable $fn): void
{
    $d0 = deferred($http);
    try {
        $ok = $fn();
    } catch (Throwable $e) {
        $ok = false;
        $what .= ' (' . get_class($e) . ': ' . $e->getMessage() . ')';
    }
    gp_check($ok === true, $what);
    gp_eq($d0 + 1, deferred($http), "$what: greeted by the proxy (deferred counter +1)");
}

$cli = function (string $user, string $pass) use ($port): bool {
    $cmd = sprintf('timeout 10 mariadb --no-defaults -h127.0.0.1 -P%d -u%s %s -N -B -e %s 2>&1',
        $port, escapeshellarg($user), $pass === '' ? '' : '-p' . escapeshellarg($pass),
        escapeshellarg('SELECT CURRENT_USER()'));
    exec($cmd, $out, $rc);
    return $rc === 0 && str_starts_with($out[0] ?? '', "$user@");
};

gp_section('logins through the deferred path', function () use ($http, $port, $cli) {
    logs_in($http, 'mariadb CLI, native password', fn() => $cli('app', 'app'));
    logs_in($http, 'mariadb CLI, ed25519', fn() => $cli('edapp', 'edpass'));
    logs_in($http, 'mariadb CLI, empty password', fn() => $cli('nopw', ''));
    logs_in($http, 'mysqli', function () use ($port) {
        $m = new mysqli('127.0.0.1', 'app', 'app', 'test', $port);
        $ok = gp_one($m, 'SELECT 6 * 7') === '42';
        $m->close();
        return $ok;
    });
    logs_in($http, 'PDO', function () use ($port) {
        $pdo = new PDO("mysql:host=127.0.0.1;port=$port;dbname=test", 'app', 'app',
            [PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION]);
        return $pdo->query('SELECT 6 * 7')->fetchColumn() == 42;
    });
    $z0 = gp_metric($http, 'galera_proxy_client_compressed_sessions_total');
    logs_in($http, 'mysqli compressed', function () use ($port) {
        $m = mysqli_init();
        $m->real_connect('127.0.0.1', 'app', 'app', 'test', $port, null, MYSQLI_CLIENT_COMPRESS);
        $m->set_charset('utf8mb4');
        $ok = strlen((string)gp_one($m, "SELECT REPEAT('z', 5000000)")) === 5000000;
        $m->close();
        return $ok;
    });
    logs_in($http, 'mariadb CLI --compress', function () use ($port) {
        exec(sprintf('timeout 10 mariadb --no-defaults --compress -h127.0.0.1 -P%d -uapp -papp -N -B -e %s 2>&1',
            $port, escapeshellarg('SELECT LENGTH(REPEAT("y", 3000000))')), $out, $rc);
        return $rc === 0 && ($out[0] ?? '') === '3000000';
    });
    gp_eq($z0 + 2, gp_metric($http, 'galera_proxy_client_compressed_sessions_total'),
        'both deferred logins compressed their leg');
    logs_in($http, 'mysqli, then COM_CHANGE_USER', function () use ($port) {
        $m = new mysqli('127.0.0.1', 'app', 'app', 'test', $port);
        $ok = $m->change_user('nopw', '', '') && gp_one($m, 'SELECT CURRENT_USER()') === 'nopw@%';
        $ok = $ok && $m->change_user('app', 'app', 'test') &&
            gp_one($m, 'SELECT CURRENT_USER()') === 'app@%';
        $m->close();
        return $ok;
    });
});

gp_section('refusals', function () use ($http, $port) {
    $d0 = deferred($http);
    gp_eq(1045, gp_login_error($port, 'app', 'wrong'),
        'wrong password: the server\'s access denied reaches the client');
    gp_eq($d0 + 1, deferred($http), 'wrong password: through the deferred path');

    $w = answer($port, CAPS & ~0x80000);
    $p = $w->readPacket();
    gp_check($p !== null && strlen($p) >= 3 && ord($p[0]) === 0xff &&
        (ord($p[1]) | ord($p[2]) << 8) === 1251, 'no CLIENT_PLUGIN_AUTH: ERR 1251', gp_short($p));
    gp_check($w->closedWithin(3.0) !== null, 'no CLIENT_PLUGIN_AUTH: closed after the ERR');
    $w->close();
});

gp_section('a client that leaves at the auth switch', function () use ($http, $port, $log) {
    $refused = gp_log_count($log, 'event=defer_abandoned backend=db1 outcome=refused');
    $d0 = deferred($http);
    $w = answer($port, CAPS);
    $p = $w->readPacket();
    gp_check($p !== null && $p !== '' && ord($p[0]) === 0xfe && $w->seq === 3,
        'the server\'s auth switch is relayed with sequence id 2', gp_short($p));
    $w->close();
    // ...and one that leaves before the switch came.
    $w = answer($port, CAPS);
    $w->close();
    gp_eq($d0 + 2, deferred($http), 'both were greeted by the proxy');
    $ok = false;
    for ($i = 0; $i < 50 && !$ok; $i++) {
        usleep(100000);
        $ok = gp_log_count($log, 'event=defer_abandoned backend=db1 outcome=refused') >= $refused + 2;
    }
    gp_check($ok, 'the proxy answered both switches wrongly and the server refused the logins');
    gp_check(gp_log_count($log, 'event=park_dropped') === 0, 'no backend connection was dropped');
});

gp_section('back to the baseline', function () use ($http, $hold, $proc, $log, $direct) {
    foreach ($hold as $w) {
        $w->close();
    }
    gp_q($direct, "DROP USER IF EXISTS 'nopw'@'%'");
    $ok = false;
    for ($i = 0; $i < 100 && !$ok; $i++) {
        usleep(100000);
        $ok = gp_metric($http, 'galera_proxy_client_connections_active') === 0.0 &&
            gp_metric($http, 'galera_proxy_backend_handshake_slots_used{backend="db1"}') === 0.0;
    }
    gp_check($ok, 'no sessions and no slot in use once the clients are gone');
    gp_eq(0, gp_proc_stop($proc), 'the proxy exits 0 on SIGTERM');
    gp_no_sanitizer_reports($log);
});

gp_done();
