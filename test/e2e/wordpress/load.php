<?php
// Bounded WordPress load (page/REST reads, REST writes) with per-request outcomes; its verifier.
//
//   php load.php run    --url URL --user U --app-password P --seconds T --concurrency N
//                       [--write-percent 30] [--timeout 15] [--tag NAME] [--max-requests N]
//                       [--out summary.json] [--log requests.tsv] [--progress]
//   php load.php verify --summary summary.json [--url URL --user U --app-password P]
//                       [--db HOST:PORT[,HOST:PORT...]]... [--db-user app] [--db-password app]
//                       [--db-name wordpress] [--table-prefix wp_] [--out verify.json]
//
// --site-env DIR/site.env (written by setup.sh) supplies --url, --user, --app-password and the
// --db-* credentials. Only --url and the --db addresses are ever contacted.
//
// run: for T seconds keeps N requests in flight (curl_multi): anonymous reads (REST post list,
// front page, a single post by REST and by ?p=) and, --write-percent of the time, posts and
// comments created through the REST API with the application password. A request fails when
// it gets no HTTP answer (connect error, timeout), an unexpected status (reads 200, writes
// 201), WordPress's database error page ("Error establishing a database connection", "Error
// reconnecting to the database"), or a body without what it should hold (an empty post list,
// a write without an id). The summary (JSON, --out or stdout) has requests, failed, failures by
// reason and kind, the failing windows (a run of failures, by completion order, with no success
// between them: first failed request's start to last one's end) with the longest one, latency,
// and every post and comment whose creation was acknowledged (201 with an id). Exit 0 when no
// request failed, 1 otherwise, 2 on bad usage.
//
// verify: every acknowledged post and comment of a summary must exist, with its title/content:
// through the REST API (--url), and in the database behind each --db address (the proxy and each
// backend; a Galera node is read with wsrep_sync_wait=1). Exit 0 when nothing is missing.
declare(strict_types=1);

const DB_ERROR_MARKERS = [
    'Error establishing a database connection',
    'Error reconnecting to the database',
];

function usage(string $msg): never
{
    fwrite(STDERR, "load.php: $msg\n(see the comment at the top of load.php for usage)\n");
    exit(2);
}

function now_ms(): float
{
    return hrtime(true) / 1e6;
}

// Options: getopt's long options, --site-env merged in, repeated/comma-separated --db flattened.
function parse_options(): array
{
    // getopt() stops at the sub-command, so the options after it are parsed here.
    $known = ['url', 'user', 'app-password', 'seconds', 'concurrency', 'write-percent', 'timeout',
              'tag', 'max-requests', 'out', 'log', 'summary', 'db', 'db-user', 'db-password',
              'db-name', 'table-prefix', 'site-env'];
    $flags = ['progress'];
    $args = array_slice($_SERVER['argv'], 2);
    $o = ['db' => []];
    for ($i = 0; $i < count($args); $i++) {
        if (!preg_match('/^--([a-z-]+)(?:=(.*))?$/s', $args[$i], $m)) {
            usage("unexpected argument '{$args[$i]}'");
        }
        $k = $m[1];
        if (in_array($k, $flags, true)) {
            $o[$k] = true;
            continue;
        }
        if (!in_array($k, $known, true)) {
            usage("unknown option --$k");
        }
        if (isset($m[2])) {
            $v = $m[2];
        } elseif ($i + 1 < count($args)) {
            $v = $args[++$i];
        } else {
            usage("--$k needs a value");
        }
        if ($k === 'db') {
            $o['db'][] = $v;
        } else {
            $o[$k] = $v;
        }
    }
    if (isset($o['site-env'])) {
        $env = read_site_env($o['site-env']);
        $map = [
            'url' => 'GP_WP_URL', 'user' => 'GP_WP_USER', 'app-password' => 'GP_WP_APP_PASSWORD',
            'db-user' => 'GP_WP_DB_USER', 'db-password' => 'GP_WP_DB_PASSWORD',
            'db-name' => 'GP_WP_DB_NAME',
        ];
        foreach ($map as $opt => $key) {
            if (!isset($o[$opt]) && isset($env[$key])) {
                $o[$opt] = $env[$key];
            }
        }
    }
    $dbs = [];
    foreach ($o['db'] as $d) {
        foreach (explode(',', $d) as $x) {
            if (trim($x) !== '') {
                $dbs[] = trim($x);
            }
        }
    }
    $o['db'] = $dbs;
    return $o;
}

// KEY=VALUE lines as written by setup.sh (bash printf %q of simple values).
function read_site_env(string $file): array
{
    $lines = @file($file, FILE_IGNORE_NEW_LINES | FILE_SKIP_EMPTY_LINES);
    if ($lines === false) {
        usage("cannot read $file");
    }
    $env = [];
    foreach ($lines as $l) {
        if (preg_match('/^([A-Z_]+)=(.*)$/', $l, $m)) {
            $v = $m[2];
            if (preg_match("/^'(.*)'$/", $v, $q)) {
                $v = $q[1];
            } else {
                $v = preg_replace('/\\\\(.)/', '$1', $v);
            }
            $env[$m[1]] = $v;
        }
    }
    return $env;
}

function need(array $o, string $k): string
{
    if (!isset($o[$k]) || $o[$k] === '') {
        usage("--$k is required");
    }
    return (string)$o[$k];
}

function write_json(?string $file, array $data): void
{
    $text = json_encode($data, JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES) . "\n";
    if ($file === null || $file === '-') {
        echo $text;
    } elseif (file_put_contents($file, $text) === false) {
        fwrite(STDERR, "load.php: cannot write $file\n");
        exit(2);
    }
}

// ---- run ------------------------------------------------------------------------------------

final class Load
{
    public array $acked_posts = [];    // [{id, title}] creations answered 201 with an id
    public array $acked_comments = []; // [{id, post, token}]
    public array $records = [];        // [kind, start_ms, end_ms, status, ok, reason]
    public array $known_posts = [];    // ids readers and commenters pick from
    private int $seq = 0;              // numbers titles and comment tokens

    public function __construct(
        public string $url,
        public string $auth,
        public string $tag,
        public int $write_percent,
        public int $timeout_ms
    ) {
    }

    // The next request: [kind, curl handle].
    public function next(): array
    {
        $r = random_int(0, 99);
        $post = $this->known_posts[array_rand($this->known_posts)];
        if ($r < $this->write_percent) {
            $n = ++$this->seq;
            if ($r * 3 < $this->write_percent * 2) {
                $title = "gp-load {$this->tag} post $n";
                $body = ['title' => $title, 'content' => "load post $n of {$this->tag}",
                         'status' => 'publish'];
                return ['post_create', $this->handle('/wp/v2/posts', $body), ['title' => $title]];
            }
            $token = "gp-load {$this->tag} comment $n";
            $body = ['post' => $post, 'content' => $token];
            return ['comment_create', $this->handle('/wp/v2/comments', $body),
                    ['token' => $token, 'post' => $post]];
        }
        $r = random_int(0, 99);
        if ($r < 45) {
            return ['rest_list', $this->handle('/wp/v2/posts'), []];
        }
        if ($r < 70) {
            return ['front_page', $this->handle(null, null, '/'), []];
        }
        if ($r < 85) {
            return ['rest_post', $this->handle("/wp/v2/posts/$post"), ['post' => $post]];
        }
        return ['page_post', $this->handle(null, null, "/?p=$post"), ['post' => $post]];
    }

    // A handle for a REST route (POST with a JSON body when $body is set) or a plain path.
    public function handle(?string $route, ?array $body = null, string $path = ''): CurlHandle
    {
        $u = $route !== null ? $this->url . '/?rest_route=' . $route : $this->url . $path;
        $ch = curl_init($u);
        curl_setopt_array($ch, [
            CURLOPT_RETURNTRANSFER => true,
            CURLOPT_TIMEOUT_MS => $this->timeout_ms,
            CURLOPT_CONNECTTIMEOUT_MS => min(5000, $this->timeout_ms),
            CURLOPT_FOLLOWLOCATION => false,
        ]);
        if ($body !== null) {
            curl_setopt($ch, CURLOPT_HTTPHEADER, ['Expect:', 'Content-Type: application/json']);
            curl_setopt($ch, CURLOPT_POST, true);
            curl_setopt($ch, CURLOPT_POSTFIELDS, json_encode($body));
            curl_setopt($ch, CURLOPT_USERPWD, $this->auth);
        }
        return $ch;
    }

    // Judge one answer: [ok, reason]; remembers acknowledged creations.
    public function judge(string $kind, array $meta, int $status, int $errno, string $err,
                          string $body): array
    {
        if ($errno !== 0) {
            return [false, "curl_$errno " . $err];
        }
        foreach (DB_ERROR_MARKERS as $m) {
            if (str_contains($body, $m)) {
                return [false, 'db_error_page'];
            }
        }
        $want = str_ends_with($kind, '_create') ? 201 : 200;
        if ($status !== $want) {
            return [false, "http_$status"];
        }
        switch ($kind) {
            case 'rest_list':
                $j = json_decode($body, true);
                if (!is_array($j) || count($j) === 0 || !isset($j[0]['id'])) {
                    return [false, 'empty_list'];
                }
                break;
            case 'rest_post':
                $j = json_decode($body, true);
                if (($j['id'] ?? null) !== $meta['post']) {
                    return [false, 'wrong_post'];
                }
                break;
            case 'post_create':
            case 'comment_create':
                $j = json_decode($body, true);
                $id = $j['id'] ?? 0;
                if (!is_int($id) || $id <= 0) {
                    return [false, 'no_id'];
                }
                if ($kind === 'post_create') {
                    $this->acked_posts[] = ['id' => $id, 'title' => $meta['title']];
                    $this->known_posts[] = $id;
                } else {
                    $this->acked_comments[] = ['id' => $id, 'post' => $meta['post'],
                                               'token' => $meta['token']];
                }
                break;
        }
        return [true, 'ok'];
    }
}

// Failing windows: runs of failed requests (in completion order) with no success between.
function failing_windows(array $records): array
{
    usort($records, fn($a, $b) => $a[2] <=> $b[2]);
    $wins = [];
    $cur = null;
    foreach ($records as $r) {
        if ($r[4]) {
            if ($cur !== null) {
                $wins[] = $cur;
                $cur = null;
            }
            continue;
        }
        if ($cur === null) {
            $cur = ['start' => $r[1], 'end' => $r[2], 'failed' => 0];
        }
        $cur['start'] = min($cur['start'], $r[1]);
        $cur['end'] = max($cur['end'], $r[2]);
        $cur['failed']++;
    }
    if ($cur !== null) {
        $wins[] = $cur;
    }
    return $wins;
}

// The gist of a failed answer for the log: WordPress's <h1> if any, else the text's start.
function excerpt(string $body): string
{
    if (preg_match('~<h1[^>]*>(.*?)</h1>~s', $body, $m)) {
        $body = $m[1];
    }
    $t = trim(preg_replace('/\s+/', ' ', strip_tags($body)));
    return substr($t, 0, 120);
}

function percentile(array $sorted, float $p): float
{
    if (!$sorted) {
        return 0.0;
    }
    $i = (int)min(count($sorted) - 1, floor($p * count($sorted)));
    return round($sorted[$i], 1);
}

function cmd_run(array $o): int
{
    $url = rtrim(need($o, 'url'), '/');
    $auth = need($o, 'user') . ':' . need($o, 'app-password');
    $seconds = (float)need($o, 'seconds');
    $conc = (int)need($o, 'concurrency');
    $wp = (int)($o['write-percent'] ?? 30);
    $timeout_ms = (int)(1000 * (float)($o['timeout'] ?? 15));
    $max = (int)($o['max-requests'] ?? 1000000);
    $tag = (string)($o['tag'] ?? ('t' . time()));
    if ($seconds <= 0 || $seconds > 3600 || $conc < 1 || $conc > 256 || $wp < 0 || $wp > 100) {
        usage('need 0 < seconds <= 3600, 1 <= concurrency <= 256, 0 <= write-percent <= 100');
    }
    $L = new Load($url, $auth, $tag, $wp, $timeout_ms);

    // The posts readers and commenters use: whatever the site has now (WordPress's sample post).
    $ch = $L->handle('/wp/v2/posts&per_page=5');
    $body = (string)curl_exec($ch);
    $j = json_decode($body, true);
    if (curl_getinfo($ch, CURLINFO_RESPONSE_CODE) !== 200 || !is_array($j) || !$j) {
        fwrite(STDERR, "load.php: $url has no readable post before the run (" .
            curl_getinfo($ch, CURLINFO_RESPONSE_CODE) . ' ' . curl_error($ch) . ")\n");
        return 2;
    }
    foreach ($j as $p) {
        $L->known_posts[] = (int)$p['id'];
    }

    $log = isset($o['log']) ? fopen($o['log'], 'w') : null;
    $progress = isset($o['progress']);
    $t0 = now_ms();
    $unix0 = microtime(true) * 1000;
    $deadline = $t0 + $seconds * 1000;
    $mh = curl_multi_init();
    $inflight = [];
    $issued = 0;
    $examples = [];
    $next_progress = $t0 + 1000;
    $add = function () use ($L, $mh, &$inflight, &$issued, $t0) {
        [$kind, $ch, $meta] = $L->next();
        $inflight[spl_object_id($ch)] = [$kind, $ch, $meta, now_ms() - $t0];
        curl_multi_add_handle($mh, $ch);
        $issued++;
    };
    for ($i = 0; $i < $conc && $issued < $max; $i++) {
        $add();
    }
    while ($inflight) {
        do {
            $st = curl_multi_exec($mh, $running);
        } while ($st === CURLM_CALL_MULTI_PERFORM);
        while (($info = curl_multi_info_read($mh)) !== false) {
            $ch = $info['handle'];
            [$kind, , $meta, $start] = $inflight[spl_object_id($ch)];
            unset($inflight[spl_object_id($ch)]);
            $end = now_ms() - $t0;
            $status = (int)curl_getinfo($ch, CURLINFO_RESPONSE_CODE);
            $errno = (int)$info['result'];
            $body = (string)curl_multi_getcontent($ch);
            [$ok, $reason] = $L->judge($kind, $meta, $status, $errno,
                $errno ? curl_strerror($errno) : '', $body);
            $L->records[] = [$kind, $start, $end, $status, $ok, $reason];
            $detail = $ok ? '' : excerpt($body);
            if (!$ok && count($examples) < 10) {
                $examples[] = ['at_ms' => round($unix0 + $end), 'kind' => $kind,
                               'status' => $status, 'reason' => $reason, 'body' => $detail];
            }
            if ($log) {
                fprintf($log, "%.1f\t%.1f\t%s\t%d\t%d\t%s\t%s\n", $unix0 + $start, $unix0 + $end,
                    $kind, $status, $ok ? 1 : 0, $reason, $detail);
            }
            curl_multi_remove_handle($mh, $ch);
            curl_close($ch);
            if (now_ms() < $deadline && $issued < $max) {
                $add();
            }
        }
        if ($progress && now_ms() >= $next_progress) {
            $failed = count(array_filter($L->records, fn($r) => !$r[4]));
            fprintf(STDERR, "load.php: %4.0f s  %d requests  %d failed\n", (now_ms() - $t0) / 1000,
                count($L->records), $failed);
            $next_progress += 1000;
        }
        if ($inflight) {
            curl_multi_select($mh, 0.05);
        }
    }
    curl_multi_close($mh);
    if ($log) {
        fclose($log);
    }
    $elapsed = (now_ms() - $t0) / 1000;

    $failed = 0;
    $reasons = [];
    $kinds = [];
    $statuses = [];
    $lat = [];
    foreach ($L->records as [$kind, $start, $end, $status, $ok, $reason]) {
        $kinds[$kind] ??= ['requests' => 0, 'failed' => 0];
        $kinds[$kind]['requests']++;
        $statuses[(string)$status] = ($statuses[(string)$status] ?? 0) + 1;
        $lat[] = $end - $start;
        if (!$ok) {
            $failed++;
            $kinds[$kind]['failed']++;
            $reasons[$reason] = ($reasons[$reason] ?? 0) + 1;
        }
    }
    sort($lat);
    ksort($kinds);
    $wins = failing_windows($L->records);
    $longest = 0.0;
    foreach ($wins as $w) {
        $longest = max($longest, $w['end'] - $w['start']);
    }
    usort($wins, fn($a, $b) => ($b['end'] - $b['start']) <=> ($a['end'] - $a['start']));
    $summary = [
        'tag' => $tag,
        'url' => $url,
        'started_at_ms' => round($unix0),
        'seconds' => round($elapsed, 3),
        'concurrency' => $conc,
        'write_percent' => $wp,
        'requests' => count($L->records),
        'failed' => $failed,
        'db_error_pages' => $reasons['db_error_page'] ?? 0,
        'requests_per_second' => round(count($L->records) / max($elapsed, 0.001), 1),
        'longest_failing_window_ms' => round($longest, 1),
        'failing_windows' => count($wins),
        // The longest windows first, in unix ms: line them up with the drill's event time.
        'worst_windows' => array_map(fn($w) => [
            'start_ms' => round($unix0 + $w['start']), 'end_ms' => round($unix0 + $w['end']),
            'duration_ms' => round($w['end'] - $w['start'], 1), 'failed' => $w['failed'],
        ], array_slice($wins, 0, 10)),
        'failed_by_reason' => (object)$reasons,
        'failure_examples' => $examples,
        'by_kind' => $kinds,
        'status_counts' => $statuses,
        'latency_ms' => ['p50' => percentile($lat, 0.5), 'p99' => percentile($lat, 0.99),
                         'max' => round($lat ? end($lat) : 0, 1)],
        'acked_posts' => array_column($L->acked_posts, 'id'),
        'acked_comments' => array_column($L->acked_comments, 'id'),
        'acked' => ['posts' => $L->acked_posts, 'comments' => $L->acked_comments],
    ];
    write_json($o['out'] ?? null, $summary);
    fprintf(STDERR, "load.php: %s: %d requests in %.1f s (%.0f/s), %d failed, longest failing " .
        "window %.0f ms, %d posts + %d comments acknowledged\n", $tag, $summary['requests'],
        $elapsed, $summary['requests_per_second'], $failed, $longest, count($L->acked_posts),
        count($L->acked_comments));
    return $failed === 0 ? 0 : 1;
}

// ---- verify ---------------------------------------------------------------------------------

// Ids of $want missing (or with other text) in $have (id => text).
function missing(array $want, string $field, array $have): array
{
    $miss = [];
    foreach ($want as $w) {
        if (!isset($have[$w['id']]) || !str_contains($have[$w['id']], $w[$field])) {
            $miss[] = $w['id'];
        }
    }
    return $miss;
}

function verify_rest(array $o, array $posts, array $comments): array
{
    $url = rtrim($o['url'], '/');
    $auth = need($o, 'user') . ':' . need($o, 'app-password');
    $fetch = function (string $route, array $ids, callable $text) use ($url, $auth): array {
        $have = [];
        foreach (array_chunk($ids, 100) as $chunk) {
            $ch = curl_init($url . '/?rest_route=' . $route . '&context=edit&per_page=100&include='
                . implode(',', $chunk));
            curl_setopt_array($ch, [CURLOPT_RETURNTRANSFER => true, CURLOPT_TIMEOUT => 30,
                                    CURLOPT_USERPWD => $auth]);
            $body = (string)curl_exec($ch);
            $code = curl_getinfo($ch, CURLINFO_RESPONSE_CODE);
            $j = json_decode($body, true);
            if ($code !== 200 || !is_array($j)) {
                throw new RuntimeException("GET $route: HTTP $code " . curl_error($ch) . ' '
                    . substr($body, 0, 200));
            }
            foreach ($j as $item) {
                $have[(int)$item['id']] = $text($item);
            }
        }
        return $have;
    };
    $have_p = $fetch('/wp/v2/posts', array_column($posts, 'id'),
        fn($i) => $i['title']['raw'] ?? '');
    $have_c = $fetch('/wp/v2/comments', array_column($comments, 'id'),
        fn($i) => $i['content']['raw'] ?? '');
    return [missing($posts, 'title', $have_p), missing($comments, 'token', $have_c)];
}

function verify_db(array $o, string $addr, array $posts, array $comments): array
{
    [$host, $port] = explode(':', $addr . ':3306');
    $prefix = preg_replace('/[^A-Za-z0-9_]/', '', (string)($o['table-prefix'] ?? 'wp_'));
    mysqli_report(MYSQLI_REPORT_ERROR | MYSQLI_REPORT_STRICT);
    $m = mysqli_init();
    $m->options(MYSQLI_OPT_CONNECT_TIMEOUT, 10);
    $m->real_connect($host, (string)($o['db-user'] ?? 'app'), (string)($o['db-password'] ?? 'app'),
        (string)($o['db-name'] ?? 'wordpress'), (int)$port);
    // On a Galera node, wait until it has applied everything committed before this read.
    try {
        $m->query('SET SESSION wsrep_sync_wait = 1');
    } catch (mysqli_sql_exception $e) {
        // Not a Galera server (or a read-only proxy session that refuses it): plain reads.
    }
    $fetch = function (string $sql, array $ids) use ($m): array {
        $have = [];
        foreach (array_chunk($ids, 500) as $chunk) {
            $r = $m->query(sprintf($sql, implode(',', array_map('intval', $chunk))));
            while ($row = $r->fetch_row()) {
                $have[(int)$row[0]] = (string)$row[1];
            }
        }
        return $have;
    };
    $have_p = $fetch("SELECT ID, post_title FROM {$prefix}posts WHERE ID IN (%s) "
        . "AND post_status = 'publish'", array_column($posts, 'id'));
    $have_c = $fetch("SELECT comment_ID, comment_content FROM {$prefix}comments "
        . "WHERE comment_ID IN (%s)", array_column($comments, 'id'));
    $m->close();
    return [missing($posts, 'title', $have_p), missing($comments, 'token', $have_c)];
}

function cmd_verify(array $o): int
{
    $file = need($o, 'summary');
    $s = json_decode((string)@file_get_contents($file), true);
    if (!is_array($s) || !isset($s['acked'])) {
        usage("$file is not a load.php summary");
    }
    $posts = $s['acked']['posts'];
    $comments = $s['acked']['comments'];
    $targets = [];
    if (isset($o['url'])) {
        $targets[] = ['rest', $o['url']];
    }
    foreach ($o['db'] as $d) {
        $targets[] = ['db', $d];
    }
    if (!$targets) {
        usage('verify needs --url and/or --db');
    }
    $out = ['summary' => $file, 'acked_posts' => count($posts),
            'acked_comments' => count($comments), 'targets' => [], 'ok' => true];
    foreach ($targets as [$type, $where]) {
        $t = ['target' => "$type $where", 'posts_missing' => [], 'comments_missing' => [],
              'error' => null];
        try {
            [$t['posts_missing'], $t['comments_missing']] = $type === 'rest'
                ? verify_rest($o, $posts, $comments) : verify_db($o, $where, $posts, $comments);
        } catch (Throwable $e) {
            $t['error'] = $e->getMessage();
        }
        $bad = $t['error'] !== null || $t['posts_missing'] || $t['comments_missing'];
        $out['ok'] = $out['ok'] && !$bad;
        fprintf(STDERR, "load.php: verify %-28s %s\n", $t['target'], $t['error'] !== null
            ? 'ERROR ' . $t['error']
            : sprintf('%d/%d posts, %d/%d comments present',
                count($posts) - count($t['posts_missing']), count($posts),
                count($comments) - count($t['comments_missing']), count($comments)));
        $out['targets'][] = $t;
    }
    write_json($o['out'] ?? null, $out);
    return $out['ok'] ? 0 : 1;
}

$cmd = $_SERVER['argv'][1] ?? '';
$opts = parse_options();
exit(match ($cmd) {
    'run' => cmd_run($opts),
    'verify' => cmd_verify($opts),
    default => usage('first argument must be run or verify'),
});
