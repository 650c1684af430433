<?php
// The read-only endpoint: sessions are read-only after login and stay so after COM_CHANGE_USER.
declare(strict_types=1);
require __DIR__ . '/lib/common.php';

if (gp_env('PROXY_MODE', 'proxy') === 'direct') {
    echo "  ok - direct mode: the server has no read-only endpoint (nothing to check)\n";
    exit(0);
}
$port = (int)gp_env('PROXY_RO_PORT');
$m = new mysqli(gp_host(), 'app', 'app', 'test', $port);
gp_check($m->connect_errno === 0, 'connect to the read-only endpoint', $m->connect_error ?? '');
$m->query('CREATE TABLE IF NOT EXISTS ro_probe (id INT PRIMARY KEY)');
gp_check($m->errno === 1792, 'a write on listen_ro fails with ERROR 1792', "$m->errno $m->error");
$r = $m->query('SELECT @@tx_read_only');
gp_check($r && (int)$r->fetch_row()[0] === 1, 'the session is read-only');
$r = $m->query('SELECT 1 + 1');
gp_check($r && (int)$r->fetch_row()[0] === 2, 'reads work');

gp_check($m->change_user('app', 'app', 'test'), 'COM_CHANGE_USER succeeds', $m->error);
$r = $m->query('SELECT @@tx_read_only');
gp_check($r && (int)$r->fetch_row()[0] === 1, 'still read-only after COM_CHANGE_USER');
$m->query('CREATE TABLE IF NOT EXISTS ro_probe (id INT PRIMARY KEY)');
gp_check($m->errno === 1792, 'writes still fail after COM_CHANGE_USER', "$m->errno $m->error");
$m->close();

$w = new mysqli(gp_host(), 'app', 'app', 'test', gp_port());
$r = $w->query('SELECT @@tx_read_only');
gp_check($r && (int)$r->fetch_row()[0] === 0, 'the read-write endpoint is not read-only');
$w->close();
gp_done();
