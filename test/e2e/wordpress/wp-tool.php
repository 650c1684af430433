<?php
// WordPress set-up from the command line (Debian has no wp-cli): wp-config, install, app password.
//
//   php wp-tool.php config  WPDIR TEMPLATE KEY=VALUE...   write WPDIR/wp-config.php from TEMPLATE
//   php wp-tool.php install WPDIR                          create the database, install, seed, and
//                                                          print a new application password
//
// install reads the site's settings back from WPDIR/wp-config.php, so the database it creates
// and installs into is exactly the one WordPress will use (through DB_HOST: the proxy).
// Environment for install: WP_ADMIN_USER (admin), WP_ADMIN_PASSWORD (random), WP_ADMIN_EMAIL,
// WP_TITLE. Progress goes to stderr; stdout is only the application password.
declare(strict_types=1);

function tool_die(string $msg): never
{
    fwrite(STDERR, "wp-tool: $msg\n");
    exit(1);
}

function tool_log(string $msg): void
{
    fwrite(STDERR, "wp-tool: $msg\n");
}

// A random secret of letters and digits: safe in PHP strings, shell words and sed.
function tool_secret(int $len): string
{
    $abc = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
    $s = '';
    for ($i = 0; $i < $len; $i++) {
        $s .= $abc[random_int(0, strlen($abc) - 1)];
    }
    return $s;
}

// config: every @KEY@ of the template becomes var_export(VALUE), every @SALT@ a fresh salt.
function tool_config(string $wpdir, string $template, array $pairs): void
{
    $text = file_get_contents($template);
    if ($text === false) {
        tool_die("cannot read $template");
    }
    foreach ($pairs as $pair) {
        $eq = strpos($pair, '=');
        if ($eq === false) {
            tool_die("expected KEY=VALUE, got '$pair'");
        }
        $key = substr($pair, 0, $eq);
        $text = str_replace('@' . $key . '@', var_export(substr($pair, $eq + 1), true), $text);
    }
    $text = preg_replace_callback('/@SALT@/', fn() => var_export(tool_secret(64), true), $text);
    if (preg_match('/@[A-Z_]+@/', $text, $m)) {
        tool_die("template placeholder $m[0] has no value");
    }
    if (file_put_contents("$wpdir/wp-config.php", $text) === false) {
        tool_die("cannot write $wpdir/wp-config.php");
    }
}

// The constants of wp-config.php without running it (it would load WordPress).
function tool_read_config(string $wpdir): array
{
    $src = file_get_contents("$wpdir/wp-config.php");
    if ($src === false) {
        tool_die("cannot read $wpdir/wp-config.php (run setup.sh)");
    }
    $out = [];
    $re = "/define\\(\\s*'([A-Z_]+)',\\s*'((?:[^'\\\\]|\\\\.)*)'\\s*\\)/";
    preg_match_all($re, $src, $m, PREG_SET_ORDER);
    foreach ($m as $d) {
        $out[$d[1]] = stripcslashes($d[2]);
    }
    foreach (['DB_NAME', 'DB_USER', 'DB_PASSWORD', 'DB_HOST', 'WP_HOME'] as $k) {
        if (!isset($out[$k])) {
            tool_die("$k not found in $wpdir/wp-config.php");
        }
    }
    return $out;
}

// CREATE DATABASE through DB_HOST, retried for a few seconds (a proxy may still be choosing).
function tool_create_database(array $c): void
{
    [$host, $port] = explode(':', $c['DB_HOST'] . ':3306');
    mysqli_report(MYSQLI_REPORT_OFF);
    $deadline = microtime(true) + 15;
    for (;;) {
        $m = mysqli_init();
        $m->options(MYSQLI_OPT_CONNECT_TIMEOUT, 5);
        if (@$m->real_connect($host, $c['DB_USER'], $c['DB_PASSWORD'], '', (int)$port)) {
            $name = str_replace('`', '``', $c['DB_NAME']);
            if ($m->query("CREATE DATABASE IF NOT EXISTS `$name` CHARACTER SET utf8mb4")) {
                $m->close();
                return;
            }
            $err = $m->error;
            $m->close();
        } else {
            $err = $m->connect_error;
        }
        if (microtime(true) > $deadline) {
            tool_die("cannot create database {$c['DB_NAME']} on {$c['DB_HOST']}: $err");
        }
        usleep(300000);
    }
}

// The request WordPress reads from $_SERVER, even on the command line.
function tool_fake_request(string $home): void
{
    $url = parse_url($home);
    $_SERVER['HTTP_HOST'] = $url['host'] . (isset($url['port']) ? ':' . $url['port'] : '');
    $_SERVER['SERVER_NAME'] = $url['host'];
    $_SERVER['SERVER_PORT'] = (string)($url['port'] ?? 80);
    $_SERVER['REQUEST_URI'] = '/';
    $_SERVER['REQUEST_METHOD'] = 'GET';
    $_SERVER['SERVER_PROTOCOL'] = 'HTTP/1.1';
}

// After wp-load.php: install unless installed, then a fresh application password on stdout.
function tool_install(array $c): void
{
    $user = getenv('WP_ADMIN_USER') ?: 'admin';
    if (is_blog_installed()) {
        tool_log("already installed in {$c['DB_NAME']} on {$c['DB_HOST']}");
    } else {
        $t0 = microtime(true);
        $pass = getenv('WP_ADMIN_PASSWORD') ?: tool_secret(20);
        $res = wp_install(
            getenv('WP_TITLE') ?: 'galera-proxy test site',
            $user,
            getenv('WP_ADMIN_EMAIL') ?: 'admin@example.invalid',
            true,
            '',
            $pass
        );
        if (empty($res['user_id'])) {
            tool_die('wp_install failed');
        }
        // Comments from the load generator must be accepted at once (no moderation queue).
        update_option('comment_moderation', 0);
        update_option('comment_registration', 0);
        update_option('default_comment_status', 'open');
        tool_log(sprintf('installed into %s on %s in %.1f s', $c['DB_NAME'], $c['DB_HOST'],
            microtime(true) - $t0));
    }
    $u = get_user_by('login', $user);
    if (!$u) {
        tool_die("no user $user");
    }
    // Each set-up gets one fresh application password (WordPress refuses duplicate names).
    WP_Application_Passwords::delete_all_application_passwords($u->ID);
    $r = WP_Application_Passwords::create_new_application_password($u->ID, ['name' => 'gp-load']);
    if (is_wp_error($r)) {
        tool_die('application password: ' . $r->get_error_message());
    }
    echo $r[0], "\n";
}

$argv = $_SERVER['argv'];
switch ($argv[1] ?? '') {
    case 'config':
        if (count($argv) < 4) {
            tool_die('usage: wp-tool.php config WPDIR TEMPLATE KEY=VALUE...');
        }
        tool_config($argv[2], $argv[3], array_slice($argv, 4));
        break;
    case 'install':
        if (count($argv) !== 3) {
            tool_die('usage: wp-tool.php install WPDIR');
        }
        $wpdir = $argv[2];
        $c = tool_read_config($wpdir);
        tool_create_database($c);
        tool_fake_request($c['WP_HOME']);
        define('WP_INSTALLING', true);
        // The installer mails the admin; there is no mail here.
        function wp_new_blog_notification(...$args): void
        {
        }
        // wp-load.php must run at file scope: WordPress keeps its state in global variables.
        require $wpdir . '/wp-load.php';
        require_once ABSPATH . 'wp-admin/includes/upgrade.php';
        tool_install($c);
        break;
    default:
        tool_die('usage: wp-tool.php config WPDIR TEMPLATE KEY=VALUE... | install WPDIR');
}
