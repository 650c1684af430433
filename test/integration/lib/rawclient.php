<?php
// rawclient.php - a MySQL client on a raw socket that prints every response packet it reads, byte for byte.
//
// Usage: php rawclient.php HOST PORT USER PASSWORD TABLE CAPS
//   CAPS: a comma list of extra capabilities: deprecate_eof, session_track (neither: a classic
//   client that did not ask for session tracking).
// Logs in (mysql_native_password, following an AuthSwitchRequest), then runs a fixed script
// against test.TABLE (dropped and created first): SET NAMES, an INSERT with a last insert id
// and an info string, COM_INIT_DB, USE, a multi-statement, SET of sql_mode / time_zone /
// isolation, a prepared INSERT executed (COM_STMT_EXECUTE), a SELECT result set, a
// transaction, COM_PING, COM_RESET_CONNECTION. Prints "N: <hex of header + payload>" for
// every packet of each response (N: the step), login OK included, greeting excluded, the
// prepared statement's id (server-wide, so it differs from run to run) as xxxxxxxx. Two runs
// (directly and through the proxy) with different TABLEs must print the same lines. Exit 1
// with a message on stderr when anything fails.

const LONG_PASSWORD = 0x1, LONG_FLAG = 0x4, CONNECT_WITH_DB = 0x8, PROTOCOL_41 = 0x200,
  TRANSACTIONS = 0x2000, SECURE_CONNECTION = 0x8000, MULTI_STATEMENTS = 0x10000,
  MULTI_RESULTS = 0x20000, PS_MULTI_RESULTS = 0x40000, PLUGIN_AUTH = 0x80000,
  SESSION_TRACK = 0x800000, DEPRECATE_EOF = 0x1000000;
const MORE_RESULTS = 0x0008;

[$self, $host, $port, $user, $pass, $table, $capsArg] = $argv + array_fill(0, 7, '');
$extra = array_filter(explode(',', $capsArg));
$caps = LONG_PASSWORD | LONG_FLAG | CONNECT_WITH_DB | PROTOCOL_41 | TRANSACTIONS |
  SECURE_CONNECTION | MULTI_STATEMENTS | MULTI_RESULTS | PS_MULTI_RESULTS | PLUGIN_AUTH;
if (in_array('deprecate_eof', $extra, true)) $caps |= DEPRECATE_EOF;
if (in_array('session_track', $extra, true)) $caps |= SESSION_TRACK;
$deof = ($caps & DEPRECATE_EOF) !== 0;

function fail(string $m): void { fwrite(STDERR, "rawclient: $m\n"); exit(1); }

$s = @stream_socket_client("tcp://$host:$port", $errno, $errstr, 5);
if (!$s) fail("connect: $errstr");
stream_set_timeout($s, 10);

function readn($s, int $n): string {
  $b = '';
  while (strlen($b) < $n) {
    $r = fread($s, $n - strlen($b));
    if ($r === false || $r === '') fail('connection closed');
    $b .= $r;
  }
  return $b;
}
// One packet: [seq, payload, the whole packet as hex]
function pkt($s): array {
  $h = readn($s, 4);
  $len = ord($h[0]) | ord($h[1]) << 8 | ord($h[2]) << 16;
  $p = $len ? readn($s, $len) : '';
  return [ord($h[3]), $p, bin2hex($h . $p)];
}
function send($s, int $seq, string $p): void {
  $n = strlen($p);
  fwrite($s, chr($n & 0xff) . chr(($n >> 8) & 0xff) . chr($n >> 16) . chr($seq) . $p);
}
function lenenc(string $p, int &$o): int {
  $c = ord($p[$o++]);
  if ($c < 0xfb) return $c;
  $w = [0xfc => 2, 0xfd => 3, 0xfe => 8][$c] ?? fail('bad lenenc');
  $v = 0;
  for ($i = 0; $i < $w; $i++) $v |= ord($p[$o + $i]) << (8 * $i);
  $o += $w;
  return $v;
}
function ok_status(string $p): int {
  $o = 1;
  lenenc($p, $o);
  lenenc($p, $o);
  return ord($p[$o]) | ord($p[$o + 1]) << 8;
}
function native(string $pass, string $nonce): string {
  if ($pass === '') return '';
  $h1 = sha1($pass, true);
  return $h1 ^ sha1($nonce . sha1($h1, true), true);
}

$lines = [];
function out(string $step, string $hex): void { global $lines; $lines[] = "$step: $hex"; }

// greeting
[, $g] = pkt($s);
if (ord($g[0]) !== 10) fail('no greeting: ' . bin2hex($g));
$o = strpos($g, "\0", 1) + 1 + 4;
$nonce = substr($g, $o, 8);
$o += 8 + 1 + 2 + 1 + 2 + 2;
$alen = ord($g[$o]);
$o += 1 + 10;
$nonce .= substr($g, $o, max(13, $alen - 8) - 1);
$resp = pack('V', $caps) . pack('V', 1 << 24) . chr(45) . str_repeat("\0", 23) . "$user\0";
$auth = native($pass, $nonce);
$resp .= chr(strlen($auth)) . $auth . "test\0mysql_native_password\0";
send($s, 1, $resp);
while (true) {
  [$seq, $p, $hex] = pkt($s);
  if ($p[0] === "\xfe") { // AuthSwitchRequest
    $z = strpos($p, "\0", 1);
    $plugin = substr($p, 1, $z - 1);
    if ($plugin !== 'mysql_native_password') fail("switch to $plugin");
    send($s, $seq + 1, native($pass, substr($p, $z + 1, 20)));
    continue;
  }
  if ($p[0] !== "\x00") fail('login refused: ' . $hex);
  out('login', $hex);
  break;
}

// One command's whole response; prepare: [stmt id, params].
function run($s, string $step, string $cmd, bool $prepare = false): array {
  global $deof;
  send($s, 0, $cmd);
  $ret = [0, 0];
  do {
    [, $p, $hex] = pkt($s);
    // a statement id comes from a server-wide counter: the one byte sequence that differs
    out($step, $prepare && $p[0] === "\x00" ? substr_replace($hex, 'xxxxxxxx', 10, 8) : $hex);
    $c = ord($p[0]);
    if ($c === 0xff) return $ret;
    if ($prepare) {
      $ret = [unpack('V', substr($p, 1, 4))[1], unpack('v', substr($p, 7, 2))[1]];
      $cols = unpack('v', substr($p, 5, 2))[1];
      foreach ([$ret[1], $cols] as $n) {
        for ($i = 0; $i < $n; $i++) out($step, pkt($s)[2]);
        if ($n && !$deof) out($step, pkt($s)[2]);
      }
      return $ret;
    }
    if ($c === 0x00) {
      $more = ok_status($p) & MORE_RESULTS;
      continue;
    }
    $o = 0;
    $n = lenenc($p, $o);
    for ($i = 0; $i < $n; $i++) out($step, pkt($s)[2]);
    if (!$deof) out($step, pkt($s)[2]);
    while (true) {
      [, $r, $hex] = pkt($s);
      out($step, $hex);
      if ($r[0] === "\xff") return $ret;
      if ($r[0] === "\xfe" && strlen($r) < 0xffffff && ($deof || strlen($r) < 9)) {
        $more = ($deof ? ok_status($r) : ord($r[3]) | ord($r[4]) << 8) & MORE_RESULTS;
        break;
      }
    }
  } while ($more);
  return $ret;
}
$q = fn(string $sql) => "\x03" . $sql;

run($s, 'drop', $q("DROP TABLE IF EXISTS test.$table"));
run($s, 'create', $q("CREATE TABLE test.$table (id INT AUTO_INCREMENT PRIMARY KEY, v INT)"));
run($s, 'set_names', $q('SET NAMES utf8mb4'));
run($s, 'insert', $q("INSERT INTO test.$table (v) VALUES (1), (2), (3)"));
run($s, 'init_db', "\x02mysql");
run($s, 'use', $q('USE test'));
run($s, 'multi', $q("SET sql_mode = 'ANSI_QUOTES'; SELECT 1 AS a; SET autocommit = 0; SELECT 2 AS b; SET autocommit = 1"));
run($s, 'sysvars', $q("SET time_zone = '+02:00', lc_time_names = 'de_DE'"));
run($s, 'isolation', $q('SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED'));
[$id, $np] = run($s, 'prepare', "\x16INSERT INTO $table (v) VALUES (?)", true);
if ($id === 0 || $np !== 1) fail('prepare failed');
run($s, 'execute', "\x17" . pack('V', $id) . "\x00" . pack('V', 1) . "\x00\x01\x08\x00" . pack('P', 42));
run($s, 'select', $q("SELECT id, v FROM $table ORDER BY id"));
run($s, 'update', $q("BEGIN; UPDATE $table SET v = v + 1; COMMIT"));
run($s, 'user_var', $q('SET @a = 1'));
run($s, 'ping', "\x0e");
run($s, 'reset', "\x1f");
run($s, 'drop2', $q("DROP TABLE test.$table"));
send($s, 0, "\x01");
echo implode("\n", $lines), "\n";
