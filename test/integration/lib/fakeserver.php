<?php
// A fake MySQL backend that misbehaves on demand, for the failing-backend tests.
//
//   php fakeserver.php PORT CONTROL_FILE
//
// It answers like a tiny MariaDB without wsrep (so the proxy's monitor sees a standalone
// node): a greeting, OK to any login, for the monitor's probe a result set with read_only=OFF,
// for any other SELECT a one-row result set, OK for anything else. CONTROL_FILE holds the
// mode; it is read when a connection is accepted and when a query arrives, so the test
// switches modes without restarting the server:
//
//   ok                  behave
//   garbage             send a framed non-greeting packet and junk instead of a greeting
//   oversized_greeting  send a header announcing a 16 MB greeting, then stall
//   no_greet            accept and never send anything
//   close_mid           on a query: send the column part of a result set and a row, then close
//   stall_mid           on a query: send the column part and a row, then stall
//   oversized           on a query: send a header announcing a 16 MB packet and 100 bytes, stall
//
// Query modes leave the monitor's user alone, so the node stays up while clients fail; a
// mode followed by " all" applies to the monitor too and drops every open connection when
// it is first seen (the monitor reconnects into it). CONTROL_FILE.conns gets the number of
// open connections after every change, so a test can see that the proxy closed its side.
declare(strict_types=1);

if ($argc !== 3) {
    fwrite(STDERR, "usage: php fakeserver.php PORT CONTROL_FILE\n");
    exit(2);
}
$port = (int)$argv[1];
$control = $argv[2];
$srv = @stream_socket_server("tcp://127.0.0.1:$port", $errno, $errstr);
if ($srv === false) {
    fwrite(STDERR, "fakeserver: listen 127.0.0.1:$port: $errno $errstr\n");
    exit(1);
}
stream_set_blocking($srv, false);
pcntl_async_signals(true);
pcntl_signal(SIGTERM, function () {
    exit(0);
});

function fs_mode(string $control): array
{
    $m = @file_get_contents($control);
    $m = $m === false ? 'ok' : trim($m);
    $all = str_ends_with($m, ' all');
    return [$all ? substr($m, 0, -4) : ($m === '' ? 'ok' : $m), $all];
}

function fs_pkt(int $seq, string $payload): string
{
    $n = strlen($payload);
    return chr($n & 0xff) . chr(($n >> 8) & 0xff) . chr(($n >> 16) & 0xff) . chr($seq & 0xff) . $payload;
}

function fs_lenenc(string $s): string
{
    return chr(strlen($s)) . $s; // every string here is shorter than 251 bytes
}

function fs_greeting(int $id): string
{
    // LONG_PASSWORD FOUND_ROWS LONG_FLAG CONNECT_WITH_DB PROTOCOL_41 TRANSACTIONS
    // SECURE_CONNECTION MULTI_STATEMENTS MULTI_RESULTS PS_MULTI_RESULTS PLUGIN_AUTH
    $caps = 0x1 | 0x2 | 0x4 | 0x8 | 0x200 | 0x2000 | 0x8000 | 0x10000 | 0x20000 | 0x40000 | 0x80000;
    return fs_pkt(0, "\x0a" . "5.5.5-10.11.0-fake\0" . pack('V', $id) . 'abcdefgh' . "\0" .
        pack('v', $caps & 0xffff) . chr(45) . pack('v', 2) . pack('v', $caps >> 16) . chr(21) .
        str_repeat("\0", 10) . 'ijklmnopqrst' . "\0" . "mysql_native_password\0");
}

function fs_coldef(string $name): string
{
    return fs_lenenc('def') . fs_lenenc('') . fs_lenenc('') . fs_lenenc('') . fs_lenenc($name) .
        fs_lenenc($name) . "\x0c" . pack('vVCvC', 33, 256, 0xfd, 0, 0) . "\0\0";
}

// fs_result: a text result set (no CLIENT_DEPRECATE_EOF: the greeting does not offer it).
function fs_result(array $cols, array $rows, int $upto = PHP_INT_MAX): string
{
    $eof = "\xfe\x00\x00\x02\x00";
    $seq = 1;
    $out = fs_pkt($seq++, chr(count($cols)));
    foreach ($cols as $c) {
        $out .= fs_pkt($seq++, fs_coldef($c));
    }
    $out .= fs_pkt($seq++, $eof);
    foreach (array_slice($rows, 0, min($upto, count($rows))) as $r) {
        $out .= fs_pkt($seq++, implode('', array_map('fs_lenenc', $r)));
    }
    if ($upto >= count($rows)) {
        $out .= fs_pkt($seq, $eof);
    }
    return $out;
}

$conns = [];   // id => ['sock', 'buf', 'phase' (auth|cmd|dead), 'user']
$nextId = 100;
$lastMode = '';
$OK = "\x00\x00\x00\x02\x00\x00\x00";

function fs_report(string $control, array $conns): void
{
    @file_put_contents("$control.conns.tmp", (string)count($conns));
    @rename("$control.conns.tmp", "$control.conns");
}

function fs_send($sock, string $bytes): void
{
    $off = 0;
    $t0 = microtime(true);
    while ($off < strlen($bytes) && microtime(true) - $t0 < 2.0) {
        $n = @fwrite($sock, substr($bytes, $off));
        if ($n === false) {
            return;
        }
        if ($n === 0) {
            usleep(1000);
        }
        $off += $n;
    }
}

fs_report($control, $conns);
while (true) {
    [$mode, $all] = fs_mode($control);
    if ($all && "$mode all" !== $lastMode) {
        foreach ($conns as $id => $c) {
            fclose($c['sock']);
        }
        $conns = [];
        fs_report($control, $conns);
    }
    $lastMode = $all ? "$mode all" : $mode;

    $r = [$srv];
    foreach ($conns as $c) {
        $r[] = $c['sock'];
    }
    $w = $e = null;
    if (@stream_select($r, $w, $e, 0, 100000) === false) {
        continue;
    }
    foreach ($r as $s) {
        if ($s === $srv) {
            $cs = @stream_socket_accept($srv, 0);
            if ($cs === false) {
                continue;
            }
            stream_set_blocking($cs, false);
            $id = $nextId++;
            [$mode] = fs_mode($control);
            $conns[$id] = ['sock' => $cs, 'buf' => '', 'phase' => 'auth', 'user' => ''];
            if ($mode === 'garbage') {
                fs_send($cs, fs_pkt(0, "\x09garbage, not a greeting\xff\xfe") . random_bytes(64));
                $conns[$id]['phase'] = 'dead';
            } elseif ($mode === 'oversized_greeting') {
                fs_send($cs, "\xff\xff\xff\x00\x0a" . str_repeat('x', 100));
                $conns[$id]['phase'] = 'dead';
            } elseif ($mode === 'no_greet') {
                $conns[$id]['phase'] = 'dead';
            } else {
                fs_send($cs, fs_greeting($id));
            }
            fs_report($control, $conns);
            continue;
        }
        $id = array_search($s, array_map(fn($c) => $c['sock'], $conns), true);
        $d = @fread($s, 65536);
        if ($d === '' || $d === false) {
            if (feof($s)) {
                fclose($s);
                unset($conns[$id]);
                fs_report($control, $conns);
            }
            continue;
        }
        $c = &$conns[$id];
        $c['buf'] .= $d;
        while (strlen($c['buf']) >= 4) {
            $len = ord($c['buf'][0]) | (ord($c['buf'][1]) << 8) | (ord($c['buf'][2]) << 16);
            if (strlen($c['buf']) < 4 + $len) {
                break;
            }
            $p = substr($c['buf'], 4, $len);
            $c['buf'] = substr($c['buf'], 4 + $len);
            if ($c['phase'] === 'dead') {
                continue; // read and ignored
            }
            if ($c['phase'] === 'auth') {
                $nul = strpos($p, "\0", 32);
                $c['user'] = $nul === false ? '' : substr($p, 32, $nul - 32);
                $c['phase'] = 'cmd';
                fs_send($s, fs_pkt(2, $OK));
                continue;
            }
            $cmd = $p === '' ? -1 : ord($p[0]);
            if ($cmd === 0x01) { // COM_QUIT
                fclose($s);
                unset($conns[$id]);
                fs_report($control, $conns);
                break;
            }
            if ($cmd !== 0x03) {
                fs_send($s, fs_pkt(1, $OK));
                continue;
            }
            $sql = substr($p, 1);
            [$mode, $all] = fs_mode($control);
            $affected = ($all || $c['user'] !== 'monitor') &&
                in_array($mode, ['close_mid', 'stall_mid', 'oversized'], true);
            if (stripos($sql, 'GLOBAL_STATUS') !== false && !$affected) {
                fs_send($s, fs_result(['VARIABLE_NAME', 'VARIABLE_VALUE'], [['READ_ONLY', 'OFF']]));
                continue;
            }
            if (stripos(ltrim($sql), 'SELECT') !== 0) {
                fs_send($s, fs_pkt(1, $OK));
                continue;
            }
            $rows = [['1'], ['2'], ['3']];
            if ($affected && $mode === 'close_mid') {
                fs_send($s, fs_result(['a'], $rows, 1));
                fclose($s);
                unset($conns[$id]);
                fs_report($control, $conns);
                break;
            }
            if ($affected && $mode === 'stall_mid') {
                fs_send($s, fs_result(['a'], $rows, 1));
                $c['phase'] = 'dead';
                continue;
            }
            if ($affected && $mode === 'oversized') {
                fs_send($s, fs_result(['a'], [['x']], 0) . "\xff\xff\xff\x04" . str_repeat('y', 100));
                $c['phase'] = 'dead';
                continue;
            }
            fs_send($s, fs_result(['a'], $rows));
        }
        unset($c);
    }
}
