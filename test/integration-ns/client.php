<?php
// client.php - clients for the namespace test: abusive ones and a healthy one.
//
//   client.php close HOST PORT N          N clients: read the greeting, close
//   client.php garbage HOST PORT N        N clients: read the greeting, send HTTP, close
//   client.php hold HOST PORT N SECONDS   N clients that connect and send nothing, held
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
    fwrite(STDERR, "usage: client.php close|garbage|hold|login HOST PORT [N [SECONDS]]\n");
    exit(2);
}
