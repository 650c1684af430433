<?php
// phpchurn.php - connection churn as PHP connects (mysqlnd): connect, SELECT 1, close, in a loop.
//
//   php [-d openssl.cafile=CA] phpchurn.php HOST PORT USER PASS plain|ssl|verify SECONDS
//
// One process, one connection at a time, as one php-fpm worker serving WordPress does (wpdb
// passes MYSQL_CLIENT_FLAGS to mysqli_real_connect): plain, MYSQLI_CLIENT_SSL, or
// MYSQLI_CLIENT_SSL | MYSQLI_CLIENT_SSL_VERIFY_SERVER_CERT (checked against openssl.cafile).
// mysqlnd keeps no TLS session between connections: each one is a full handshake. bench/tls.sh
// runs several at once. Prints one line of key=value pairs like churn.c, plus the process's own
// CPU per connection (cpu_us); errors on stderr, exit 1 if none succeeded or any failed.
declare(strict_types=1);

if ($argc !== 7) {
    fwrite(STDERR, "usage: phpchurn.php HOST PORT USER PASS plain|ssl|verify SECONDS\n");
    exit(2);
}
[, $host, $port, $user, $pass, $mode, $secs] = $argv;
$modes = [
    'plain' => 0,
    'ssl' => MYSQLI_CLIENT_SSL,
    'verify' => MYSQLI_CLIENT_SSL | MYSQLI_CLIENT_SSL_VERIFY_SERVER_CERT,
];
if (!isset($modes[$mode]) || (int)$secs <= 0) {
    fwrite(STDERR, "phpchurn: mode plain|ssl|verify and SECONDS > 0\n");
    exit(2);
}
mysqli_report(MYSQLI_REPORT_OFF);

function cpu_seconds(): float
{
    $r = getrusage();
    return $r['ru_utime.tv_sec'] + $r['ru_utime.tv_usec'] / 1e6
        + $r['ru_stime.tv_sec'] + $r['ru_stime.tv_usec'] / 1e6;
}

$ok = 0;
$errors = 0;
$last = '';
$c0 = cpu_seconds();
$t0 = microtime(true);
$end = $t0 + (int)$secs;
while (microtime(true) < $end) {
    $m = mysqli_init();
    $m->options(MYSQLI_OPT_CONNECT_TIMEOUT, 10);
    if (!@$m->real_connect($host, $user, $pass, '', (int)$port, null, $modes[$mode])) {
        $errors++;
        $last = "connect: " . $m->connect_error;
        usleep(1000);
        continue;
    }
    $res = $m->query('SELECT 1');
    if ($res && $res->fetch_row() === ['1']) {
        $ok++;
    } else {
        $errors++;
        $last = "query: " . $m->error;
    }
    $m->close();
}
$t = microtime(true) - $t0;
printf("mode=%s workers=1 seconds=%.2f connects=%d errors=%d rate=%.1f cpu_us=%.0f\n", $mode, $t,
    $ok, $errors, $ok / $t, $ok ? (cpu_seconds() - $c0) * 1e6 / $ok : 0);
if ($last !== '') {
    fwrite(STDERR, "phpchurn: last error: $last\n");
}
exit($ok > 0 && $errors === 0 ? 0 : 1);
