<?php
// client.php - clients for the namespace test: abusive ones and a healthy one.
//
//   client.php close HOST PORT N          N clients: read the greeting, close
//   client.php garbage HOST PORT N        N clients: read the greeting, send HTTP, close
//   client.php hold HOST PORT N SECONDS   N clients that connect and send nothing, held
//   client.php vanish HOST PORT N         N clients: answer the greeting (app/app), read the
//                                         server's reply (an auth switch when deferred), close
//   client.php vanish-early HOST PORT N   N clients: answer the greeting, close at once
//   client.php login HOST PORT            a healthy client: prints "ok USER() ms" or "err MSG"
declare(strict_types=1);

[$_, $mode, $host, $port] = $argv + [null, null, null, null];
$port = (int)$port;
$n = (int)($argv[4] ?? 1);

function greeting($s): string
{
    stream_set_timeout($s, 5);
    $h = fread($s, 4);
    if ($h === false || strlen($h) < 4) {
        return '';
    }
    $len = ord($h[0]) | ord($h[1]) << 8 | ord($h[2]) << 16;
    $p = '';
    while (strlen($p) < $len) {
        $c = fread($s, $len - strlen($p));
        if ($c === false || $c === '') {
            break;
        }
        $p .= $c;
    }
    return $p;
}

switch ($mode) {
case 'close':
case 'garbage':
    $got = 0;
    for ($i = 0; $i < $n; $i++) {
        $s = @stream_socket_client("tcp://$host:$port", $en, $es, 5);
        if (!$s) {
            continue;
        }
        $g = greeting($s);
        if ($g !== '' && ord($g[0]) === 10) {
            $got++;
        }
        if ($mode === 'garbage') {
            @fwrite($s, "GET / HTTP/1.0\r\n\r\n");
            usleep(20000);
        }
        fclose($s);
    }
    echo "greeted $got of $n\n";
    break;
case 'vanish':
case 'vanish-early':
    $switched = 0;
    for ($i = 0; $i < $n; $i++) {
        $s = @stream_socket_client("tcp://$host:$port", $en, $es, 5);
        if (!$s) {
            continue;
        }
        $g = greeting($s);
        if ($g === '' || ord($g[0]) !== 10) {
            fclose($s);
            continue;
        }
        // PROTOCOL_41 SECURE_CONNECTION PLUGIN_AUTH LONG_PASSWORD CONNECT_WITH_DB TRANSACTIONS
        $caps = 0x200 | 0x8000 | 0x80000 | 0x1 | 0x8 | 0x2000;
        $p = pack('VVC', $caps, 1 << 24, 45) . str_repeat("\0", 23) . "app\0" . chr(20) .
            random_bytes(20) . "test\0mysql_native_password\0";
        fwrite($s, substr(pack('V', strlen($p)), 0, 3) . "\x01" . $p);
        if ($mode === 'vanish') {
            $r = greeting($s); // the next packet, whatever it is
            if ($r !== '' && ord($r[0]) === 0xfe) {
                $switched++;
            }
        }
        fclose($s);
    }
    echo "switched $switched of $n\n";
    break;
case 'hold':
    $secs = (float)($argv[5] ?? 5);
    $held = [];
    for ($i = 0; $i < $n; $i++) {
        $s = @stream_socket_client("tcp://$host:$port", $en, $es, 5);
        if ($s) {
            $held[] = $s;
        }
    }
    echo "holding " . count($held) . "\n";
    usleep((int)($secs * 1e6));
    foreach ($held as $s) {
        fclose($s);
    }
    break;
case 'login':
    mysqli_report(MYSQLI_REPORT_OFF);
    $t0 = microtime(true);
    $m = mysqli_init();
    $m->options(MYSQLI_OPT_CONNECT_TIMEOUT, 10);
    if (!@$m->real_connect($host, 'app', 'app', 'test', $port)) {
        printf("err %d %s\n", mysqli_connect_errno(), mysqli_connect_error());
        exit(1);
    }
    $r = $m->query('SELECT USER()');
    $u = $r ? $r->fetch_row()[0] : '?';
    printf("ok %s %d\n", $u, (int)((microtime(true) - $t0) * 1000));
    $m->close();
    break;
default:
    fwrite(STDERR, "usage: client.php close|garbage|hold|vanish|vanish-early|login HOST PORT [N [SECONDS]]\n");
    exit(2);
}
