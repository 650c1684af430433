<?php
// Hostile clients after login: pipelined commands, sequence-id violations, packets beyond
// max_allowed_packet, truncated commands, unknown commands. Each gets a clear ERR or a close;
// the proxy keeps serving everyone else and gives the backend connections back.
// gp-test-timeout: 180
declare(strict_types=1);
require __DIR__ . '/lib/common.php';

$pid = (int)gp_env('PROXY_PID');
$direct = gp_direct();

function threads_connected(mysqli $direct): int
{
    return (int)gp_q($direct, "SHOW GLOBAL STATUS LIKE 'Threads_connected'")->fetch_row()[1];
}

// back_to_baseline waits up to 10 s for the server's connection count to come back.
function back_to_baseline(mysqli $direct, int $baseline, string $when): void
{
    $deadline = microtime(true) + 10;
    do {
        $now = threads_connected($direct);
        if ($now <= $baseline) {
            break;
        }
        usleep(100000);
    } while (microtime(true) < $deadline);
    gp_check($now <= $baseline, "backend connections back to $baseline $when (now $now)");
}

// healthy: a fresh client logs in and gets a right answer while (or after) the abuse.
function healthy(string $when): void
{
    $m = gp_mysqli();
    gp_eq('42', gp_one($m, 'SELECT 6 * 7'), "a healthy client answers $when");
    $m->close();
}

// err_or_close: the reply to an abusive packet is an ERR packet (its code is returned) or a
// close (0), within $limit seconds; null when neither came.
function err_or_close(GpWire $w, float $limit): ?int
{
    stream_set_timeout($w->sock, (int)$limit, (int)(fmod($limit, 1.0) * 1e6));
    $p = $w->readPacket();
    if ($p === null) {
        return feof($w->sock) ? 0 : null;
    }
    return ($p !== '' && ord($p[0]) === 0xff) ? unpack('v', substr($p, 1, 2))[1] : -1;
}

$baseline = threads_connected($direct);

gp_section('pipelined commands are answered in order', function () {
    $w = new GpWire(10.0);
    $w->login();
    // Three queries and a ping in one write, without waiting for any answer.
    $batch = '';
    foreach (["\x03SELECT 1", "\x03SELECT 'two'", "\x0e", "\x03SELECT 3 + 0"] as $cmd) {
        $len = strlen($cmd);
        $batch .= chr($len & 0xff) . chr(($len >> 8) & 0xff) . chr($len >> 16) . "\0" . $cmd;
    }
    $w->writeRaw($batch);
    $vals = [];
    for ($i = 0; $i < 4; $i++) {
        $r = $w->readResult();
        $vals[] = $r['type'] === 'rs' ? substr($r['rows'][0], 1) : $r['type'];
    }
    gp_eq(['1', 'two', 'ok', '3'], $vals, 'four pipelined commands: four answers, in order');
    // And 200 pipelined queries in one write: none lost, none reordered.
    $batch = '';
    for ($i = 0; $i < 200; $i++) {
        $cmd = "\x03SELECT $i";
        $batch .= chr(strlen($cmd)) . "\0\0\0" . $cmd;
    }
    $w->writeRaw($batch);
    $ok = 0;
    for ($i = 0; $i < 200; $i++) {
        $r = $w->readResult();
        if ($r['type'] === 'rs' && substr($r['rows'][0], 1) === (string)$i) {
            $ok++;
        }
    }
    gp_eq(200, $ok, '200 pipelined queries in one write: every answer right and in order');
    $w->sendQuery('SELECT 5');
    gp_eq('rs', $w->readResult()['type'], 'the session goes on after the pipeline');
    $w->close();
});

gp_section('sequence-id violation after login', function () {
    $w = new GpWire(10.0);
    $w->login();
    $w->seq = 7; // a command must start at 0
    $w->writePacket("\x03SELECT 1");
    $code = err_or_close($w, 10.0);
    gp_check($code !== null && $code >= 0, 'a command with sequence id 7: an ERR or a close',
        'got ' . var_export($code, true));
    if ($code > 0) {
        gp_check(in_array($code, [1156, 1158, 2013], true), "the ERR names the problem ($code)");
    }
    $w->close();
    healthy('after a sequence-id violation');
});

gp_section('a command beyond max_allowed_packet', function () use ($direct, $pid) {
    $max = (int)gp_one($direct, 'SELECT @@global.max_allowed_packet');
    $w = new GpWire(30.0);
    $w->login();
    $rss0 = gp_env('PROXY_MODE') === 'proxy' ? gp_rss_kb($pid) : 0;
    // One COM_QUERY of max + 1 MiB, framed as 16 MiB packets with continuations.
    $payload = "\x03SELECT '" . str_repeat('x', $max + (1 << 20)) . "'";
    $w->seq = 0;
    $off = 0;
    $closedEarly = false;
    try {
        do {
            $chunk = substr($payload, $off, 0xffffff);
            $w->writePacket($chunk);
            $off += strlen($chunk);
        } while (strlen($chunk) === 0xffffff);
    } catch (RuntimeException $e) {
        $closedEarly = true; // the other side closed while we were still sending
    }
    $code = $closedEarly ? 0 : err_or_close($w, 20.0);
    gp_check($code !== null && $code >= 0,
        sprintf('%.0f MiB command (max_allowed_packet %.0f MiB): an ERR or a close',
            strlen($payload) / 1048576, $max / 1048576), 'got ' . var_export($code, true));
    if ($code > 0) {
        // The server's packet-too-large; or, if the server hung up before its ERR reached
        // the proxy, the proxy's lost-connection.
        gp_check(in_array($code, [1153, 2013], true), "the ERR is packet-too-large or lost-connection ($code)");
    }
    if ($rss0 > 0) {
        $grew = (gp_rss_kb($pid) - $rss0) / 1024;
        gp_check($grew < 32, sprintf('proxy RSS grew %.1f MiB relaying it (< 32)', $grew));
    }
    $w->close();
    healthy('after an oversized command');
});

gp_section('truncated commands', function () use ($direct, $baseline) {
    // A header announcing 1000 bytes, 10 of them, then the client leaves.
    $w = new GpWire(5.0);
    $w->login();
    $w->writeRaw("\xe8\x03\x00\x00\x03SELECT 1 ");
    usleep(200000);
    $w->close();
    // The same, but the client stays (a stalled upload): others are not held up.
    $stall = new GpWire(5.0);
    $stall->login();
    $stall->writeRaw("\xe8\x03\x00\x00\x03SELECT");
    healthy('while a client stalls half-way through a command');
    $stall->close();
    back_to_baseline($direct, $baseline, 'after truncated commands');
});

gp_section('unknown and out-of-place commands', function () {
    $w = new GpWire(10.0);
    $w->login();
    $w->command("\xee", 'junk');
    $r = $w->readResult();
    gp_check($r['type'] === 'err', 'command byte 0xee: an ERR', gp_short($r));
    $w->sendQuery('SELECT 9');
    $r = $w->readResult();
    gp_check($r['type'] === 'rs' && substr($r['rows'][0], 1) === '9',
        'the session still works after the unknown command');
    // An empty packet where a command belongs.
    $w->seq = 0;
    $w->writePacket('');
    $code = err_or_close($w, 10.0);
    gp_check($code !== null && $code >= 0, 'an empty command packet: an ERR or a close',
        'got ' . var_export($code, true));
    $w->close();
});

gp_section('afterwards', function () use ($direct, $baseline, $pid) {
    healthy('after all of that');
    back_to_baseline($direct, $baseline, 'at the end');
    if (gp_env('PROXY_MODE') === 'proxy') {
        gp_check(gp_pid_alive($pid), 'the proxy is still running');
    }
});

gp_done();
