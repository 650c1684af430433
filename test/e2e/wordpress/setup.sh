#!/usr/bin/env bash
# Sets up a self-contained WordPress on nginx + php-fpm in DIR, installed through DB_HOST.
#
#   setup.sh DIR DB_HOST:PORT [HTTP_HOST:]HTTP_PORT
#
#   DIR        everything goes here: wp/ (a copy of /usr/share/wordpress with every symlink
#              resolved), nginx.conf, php-fpm.conf, run/ (pid files, php-fpm socket), logs/
#   DB_HOST    what WordPress connects to: galera-proxy's read-write listener (the VIP and
#              proxy port in the drill topology, e.g. 10.213.0.50:6033)
#   HTTP       where nginx listens; a bare port means 127.0.0.1:PORT
#
# Environment: WP_DB_NAME (wordpress), WP_DB_USER (app), WP_DB_PASSWORD (app), WP_FPM_CHILDREN
# (8 php-fpm workers), WP_NET_READ_TIMEOUT (the workers' mysqlnd.net_read_timeout, 30 s), WP_URL
# (site URL, default http://HTTP_HOST:HTTP_PORT), WP_ADMIN_USER (admin), WP_DB_COMPRESS (0; 1 sets
# MYSQL_CLIENT_FLAGS = MYSQLI_CLIENT_COMPRESS: WordPress talks the compressed protocol to DB_HOST),
# WP_DB_SSL (0; 1 adds MYSQLI_CLIENT_SSL: TLS to DB_HOST, its certificate not checked; verify adds
# MYSQLI_CLIENT_SSL_VERIFY_SERVER_CERT too: checked against WP_DB_SSL_CA), WP_DB_SSL_CA (a CA file:
# MYSQL_SSL_CA in wp-config.php and PHP's openssl.cafile for the pool and the installer).
#
# Creates the database through DB_HOST, installs WordPress (idempotent: an installed site is
# kept), creates a fresh application password for the admin, starts php-fpm and nginx in the
# background (own configs, pid files, socket: no system service), waits until the REST API
# answers. Prints and writes DIR/site.env (GP_WP_URL, GP_WP_USER, GP_WP_APP_PASSWORD, ...).
# Stop with stop.sh DIR. Works unchanged under `ip netns exec NS` (only loopback and DB_HOST).
# If setup fails after starting something, it stops what it started.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

log() { printf 'wp-setup: %s\n' "$*" >&2; }
die() {
  log "$*"
  exit 1
}

[[ $# -eq 3 ]] || die "usage: setup.sh DIR DB_HOST:PORT [HTTP_HOST:]HTTP_PORT"
DIR=$1
DB_HOST=$2
HTTP=$3
[[ "$HTTP" == *:* ]] || HTTP=127.0.0.1:$HTTP
[[ "$DB_HOST" =~ ^[^:]+:[0-9]+$ ]] || die "DB_HOST must be HOST:PORT, got '$DB_HOST'"
[[ "$HTTP" =~ ^[0-9.]+:[0-9]+$ ]] || die "HTTP must be [IPv4:]PORT, got '$3'"
URL=${WP_URL:-http://$HTTP}
DB_NAME=${WP_DB_NAME:-wordpress}
DB_USER=${WP_DB_USER:-app}
DB_PASSWORD=${WP_DB_PASSWORD:-app}
FPM_CHILDREN=${WP_FPM_CHILDREN:-8}
NET_READ_TIMEOUT=${WP_NET_READ_TIMEOUT:-30}
[[ "$NET_READ_TIMEOUT" =~ ^[0-9]+$ ]] || die "WP_NET_READ_TIMEOUT: seconds, not '$NET_READ_TIMEOUT'"
ADMIN_USER=${WP_ADMIN_USER:-admin}
DB_COMPRESS=${WP_DB_COMPRESS:-0}
[[ "$DB_COMPRESS" == [01] ]] || die "WP_DB_COMPRESS: 0 or 1, not '$DB_COMPRESS'"
DB_SSL=${WP_DB_SSL:-0}
DB_SSL_CA=${WP_DB_SSL_CA:-}
[[ "$DB_SSL" == [01] || "$DB_SSL" == verify ]] || die "WP_DB_SSL: 0, 1 or verify, not '$DB_SSL'"
if [[ -n "$DB_SSL_CA" || "$DB_SSL" == verify ]]; then
  [[ "$DB_SSL_CA" == /* && -r "$DB_SSL_CA" ]] ||
    die "WP_DB_SSL_CA: the absolute path of a readable CA file, not '$DB_SSL_CA'"
fi
SRC=/usr/share/wordpress

FPM_BIN=$(command -v php-fpm8.2 || command -v php-fpm || true)
NGINX_BIN=$(command -v nginx || true)
[[ -d "$SRC" ]] || die "$SRC missing: install the wordpress package (test/lib/deps.sh)"
[[ -n "$FPM_BIN" ]] || die "php-fpm missing: install php-fpm (test/lib/deps.sh)"
[[ -n "$NGINX_BIN" ]] || die "nginx missing: install nginx (test/lib/deps.sh)"

mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd -P)
if [[ -n "$(bash "$HERE/stop.sh" --running "$DIR")" ]]; then
  die "nginx or php-fpm of $DIR is already running (stop.sh $DIR)"
fi

# As root the workers run as www-data (as Debian's services do), so they must reach DIR.
WEB_USER=""
if [[ $(id -u) -eq 0 ]]; then
  WEB_USER=www-data
  runuser -u "$WEB_USER" -- test -x "$DIR" ||
    die "$DIR (or a parent) is not traversable by $WEB_USER: chmod o+x it"
fi

STARTED=0
on_exit() {
  local rc=$?
  if [[ $rc -ne 0 && $STARTED -eq 1 ]]; then
    log "set-up failed: stopping what it started"
    bash "$HERE/stop.sh" "$DIR" >&2 || true
  fi
}
trap on_exit EXIT

# ---- the WordPress tree ----------------------------------------------------------------------
# Debian's tree links into /etc/wordpress, /etc/ssl and /usr/share/{php,javascript}, and its
# wp-config.php dispatches on HTTP_HOST to /etc/wordpress/config-*.php: copy with every link
# resolved and write our own wp-config.php, so DIR depends on nothing outside it.
if [[ ! -f "$DIR/wp/wp-settings.php" ]]; then
  rm -rf "$DIR/wp.tmp"
  cp -RL --preserve=mode,timestamps "$SRC" "$DIR/wp.tmp"
  mv "$DIR/wp.tmp" "$DIR/wp"
  log "copied $SRC to $DIR/wp ($(du -sm "$DIR/wp" | cut -f1) MB)"
fi
if [[ -n "$(find "$DIR/wp" -type l -print -quit)" ]]; then
  die "symbolic links left in $DIR/wp: $(find "$DIR/wp" -type l | head -3)"
fi
mkdir -p "$DIR/wp/wp-content/uploads" "$DIR/run" "$DIR/logs" \
  "$DIR/nginx/body" "$DIR/nginx/fastcgi" "$DIR/nginx/proxy" "$DIR/nginx/uwsgi" "$DIR/nginx/scgi"
if [[ -n "$WEB_USER" ]]; then
  chown -R "$WEB_USER:" "$DIR/wp/wp-content/uploads" "$DIR/nginx"
  # php-fpm workers write their error log here; the masters (root) write the rest.
  touch "$DIR/logs/php-errors.log"
  chown "$WEB_USER:" "$DIR/logs/php-errors.log"
fi

php "$HERE/wp-tool.php" config "$DIR/wp" "$HERE/wp-config.php.in" \
  "DB_NAME=$DB_NAME" "DB_USER=$DB_USER" "DB_PASSWORD=$DB_PASSWORD" "DB_HOST=$DB_HOST" "URL=$URL" \
  "DB_COMPRESS=$DB_COMPRESS" "DB_SSL=$DB_SSL" "DB_SSL_CA=$DB_SSL_CA"
chmod 640 "$DIR/wp/wp-config.php"
[[ -z "$WEB_USER" ]] || chgrp "$WEB_USER" "$DIR/wp/wp-config.php"

# ---- install through DB_HOST -----------------------------------------------------------------
t0=$(date +%s%N)
# With TLS the installer's wpdb verifies the proxy's certificate too: the same CA as the pool's.
PHP_CA=()
[[ -z "$DB_SSL_CA" ]] || PHP_CA=(-d "openssl.cafile=$DB_SSL_CA")
APP_PASSWORD=$(WP_ADMIN_USER=$ADMIN_USER php "${PHP_CA[@]}" "$HERE/wp-tool.php" install "$DIR/wp") ||
  die "install through $DB_HOST failed"
[[ -n "$APP_PASSWORD" ]] || die "no application password"
log "installed through $DB_HOST in $((($(date +%s%N) - t0) / 1000000)) ms"
(
  umask 077
  printf '%s\n' "$APP_PASSWORD" >"$DIR/app-password"
)

# ---- php-fpm and nginx -----------------------------------------------------------------------
# render TEMPLATE OUT: substitute the @KEY@s of the web tier's templates.
render() {
  local user_nginx="" user_fpm="" owner_fpm=""
  if [[ -n "$WEB_USER" ]]; then
    user_nginx="user $WEB_USER;"
    user_fpm=$(printf 'user = %s\ngroup = %s' "$WEB_USER" "$WEB_USER")
    owner_fpm=$(printf 'listen.owner = %s\nlisten.group = %s' "$WEB_USER" "$WEB_USER")
  fi
  local key val text
  text=$(<"$1")
  local ssl_ca=""
  [[ -z "$DB_SSL_CA" ]] || ssl_ca="php_admin_value[openssl.cafile] = $DB_SSL_CA"
  for key in DIR LISTEN NGINX_USER FPM_USER FPM_LISTEN_OWNER FPM_CHILDREN NET_READ_TIMEOUT \
    FPM_SSL_CA; do
    case $key in
    DIR) val=$DIR ;;
    LISTEN) val=$HTTP ;;
    NGINX_USER) val=$user_nginx ;;
    FPM_USER) val=$user_fpm ;;
    FPM_LISTEN_OWNER) val=$owner_fpm ;;
    FPM_CHILDREN) val=$FPM_CHILDREN ;;
    NET_READ_TIMEOUT) val=$NET_READ_TIMEOUT ;;
    FPM_SSL_CA) val=$ssl_ca ;;
    esac
    text=${text//@$key@/"$val"}
  done
  printf '%s\n' "$text" >"$2"
}
render "$HERE/php-fpm.conf.in" "$DIR/php-fpm.conf"
render "$HERE/nginx.conf.in" "$DIR/nginx.conf"
NGINX_ARGS=(-c "$DIR/nginx.conf" -p "$DIR/nginx/" -e "$DIR/logs/nginx-error.log")

"$FPM_BIN" -t -y "$DIR/php-fpm.conf" >"$DIR/logs/php-fpm-check.log" 2>&1 ||
  die "php-fpm config invalid: $(cat "$DIR/logs/php-fpm-check.log")"
"$NGINX_BIN" -t "${NGINX_ARGS[@]}" >"$DIR/logs/nginx-check.log" 2>&1 ||
  die "nginx config invalid: $(cat "$DIR/logs/nginx-check.log")"

rm -f "$DIR/run/php-fpm.sock" "$DIR/run/"*.pid
STARTED=1
# Foreground mode in the background: $! is the master itself (also under `ip netns exec`, which
# execs its command). Output goes to files so no caller's pipe is held open.
"$FPM_BIN" -F -y "$DIR/php-fpm.conf" </dev/null >>"$DIR/logs/php-fpm.out" 2>&1 &
echo $! >"$DIR/run/php-fpm.launch.pid"
"$NGINX_BIN" "${NGINX_ARGS[@]}" -g 'daemon off;' </dev/null >>"$DIR/logs/nginx.out" 2>&1 &
echo $! >"$DIR/run/nginx.launch.pid"

code=000
for ((i = 0; i < 150; i++)); do
  for p in php-fpm nginx; do
    kill -0 "$(<"$DIR/run/$p.launch.pid")" 2>/dev/null ||
      die "$p exited at start: $(tail -n 3 "$DIR/logs/$p.out" 2>/dev/null | tr '\n' ' ')"
  done
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$URL/?rest_route=/" || true)
  [[ "$code" == 200 ]] && break
  sleep 0.1
done
[[ "$code" == 200 ]] || die "$URL/?rest_route=/ answers $code after 15 s; see $DIR/logs/"

{
  printf 'GP_WP_DIR=%q\n' "$DIR"
  printf 'GP_WP_URL=%q\n' "$URL"
  printf 'GP_WP_USER=%q\n' "$ADMIN_USER"
  printf 'GP_WP_APP_PASSWORD=%q\n' "$APP_PASSWORD"
  printf 'GP_WP_DB_HOST=%q\n' "$DB_HOST"
  printf 'GP_WP_DB_NAME=%q\n' "$DB_NAME"
  printf 'GP_WP_DB_USER=%q\n' "$DB_USER"
  printf 'GP_WP_DB_PASSWORD=%q\n' "$DB_PASSWORD"
} >"$DIR/site.env"
chmod 600 "$DIR/site.env"
log "WordPress at $URL (php-fpm pid $(<"$DIR/run/php-fpm.launch.pid")," \
  "nginx pid $(<"$DIR/run/nginx.launch.pid"))"
cat "$DIR/site.env"
