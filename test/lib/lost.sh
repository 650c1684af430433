#!/usr/bin/env bash
# lost.sh - four client libraries with a statement in flight when their backend dies: run them, check what they report.
#
# Sourced by test/integration/t_lost.sh (one MariaDB, killed and restarted) and
# test/integration-galera/t_12_lost_backend.sh (the writer killed). The clients live in
# test/lib/lost/ and share one command line and output (see lost.c):
#
#   libmariadb  lost.c, built here with gcc      mysqli, pdo  lost.php (mysqlnd)
#   pymysql     lost.py (/usr/bin/python3)        mysql2       lost.js (Node, npm-installed here)
#
# The caller sets LOST_OK and LOST_NOTOK to its suite's check functions (and LOST_TRACK to a
# function that records a background pid, if it has one), then:
#
#   lost_setup DIR                   build and install the clients (a missing one fails)
#   lost_start NAME LIB MODE SQL PORT [HOST]   start a client in the background
#   lost_wait NAME REGEX SECS        wait for a line of its output
#   lost_poke NAME                   a line on its stdin (modes lazy and idle)
#   lost_end NAME SECS               wait for it to exit (killed after SECS)
#   lost_check_lost NAME WHAT        its statement ended with a lost-connection error
#   lost_check_ended NAME WHAT       ... with that or a server error parsed cleanly
#   lost_check_reconnect NAME T_MS BOUND_MS WHAT [T_NAME]   its new connection worked by
#                                    T_MS + BOUND_MS (T_NAME: what T_MS is, for the message)
#
# Only the processes started here are ever signalled, by pid.

# shellcheck disable=SC2034 # used by the scripts that source this file
LOST_LIBS=(libmariadb mysqli pdo pymysql mysql2)
LOST_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/lost" && pwd)
LOST_ROOT=$(cd "$LOST_SRC/../../.." && pwd)
LOST_NPM_DIR=${GP_NPM_DIR:-$LOST_ROOT/build-npm} # git-ignored (/build*), kept between runs
LOST_DIR=""
declare -A LOST_PID=() LOST_FD=() LOST_LIB=()

lost_ok() { "${LOST_OK:?set LOST_OK}" "$@"; }
lost_notok() { "${LOST_NOTOK:?set LOST_NOTOK}" "$@"; }

# lost_setup DIR: build lost.c into DIR, install mysql2 (pinned by package-lock.json) into
# LOST_NPM_DIR, check PHP's mysqli and pdo_mysql and Debian's python3-pymysql. Prints what is
# missing and returns 1 if anything is.
lost_setup() {
  LOST_DIR=$1
  mkdir -p "$LOST_DIR"
  local bad=0
  # shellcheck disable=SC2046 # mariadb_config prints several words on purpose
  if ! gcc -O2 -std=gnu11 -Wall -Wextra -Werror $(mariadb_config --cflags) -o "$LOST_DIR/lost" \
    "$LOST_SRC/lost.c" $(mariadb_config --libs) 2>"$LOST_DIR/build.log"; then
    echo "lost.sh: lost.c does not build: $(head -n 5 "$LOST_DIR/build.log")" >&2
    bad=1
  fi
  if ! php -r 'exit(extension_loaded("mysqli") && extension_loaded("pdo_mysql") ? 0 : 1);'; then
    echo "lost.sh: PHP lacks mysqli or pdo_mysql (Debian php-mysql)" >&2
    bad=1
  fi
  if ! /usr/bin/python3 -c 'import pymysql' 2>/dev/null; then
    echo "lost.sh: /usr/bin/python3 cannot import pymysql (Debian python3-pymysql)" >&2
    bad=1
  fi
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "lost.sh: node or npm missing (Debian nodejs, npm)" >&2
    bad=1
  elif ! lost_npm_install; then
    bad=1
  fi
  return "$bad"
}

# lost_npm_install: npm ci of package-lock.json into LOST_NPM_DIR unless it is there already.
lost_npm_install() {
  mkdir -p "$LOST_NPM_DIR"
  (
    flock 9
    if cmp -s "$LOST_SRC/package-lock.json" "$LOST_NPM_DIR/package-lock.json" &&
      [[ -f "$LOST_NPM_DIR/node_modules/mysql2/package.json" ]]; then
      exit 0
    fi
    cp "$LOST_SRC/package.json" "$LOST_SRC/package-lock.json" "$LOST_NPM_DIR/"
    if ! (cd "$LOST_NPM_DIR" && timeout 300 npm ci --no-audit --no-fund --ignore-scripts \
      >npm.log 2>&1); then
      echo "lost.sh: npm ci of mysql2 failed:" >&2
      tail -n 15 "$LOST_NPM_DIR/npm.log" >&2
      rm -f "$LOST_NPM_DIR/package-lock.json"
      exit 1
    fi
  ) 9>"$LOST_NPM_DIR/install.lock"
}

# lost_start NAME LIB MODE SQL PORT [HOST]: output in $LOST_DIR/NAME.out, stdin a fifo.
lost_start() {
  local name=$1 lib=$2 mode=$3 sql=$4 port=$5 host=${6:-127.0.0.1} fifo fd cmd
  case "$lib" in
  libmariadb) cmd=("$LOST_DIR/lost") ;;
  mysqli | pdo) cmd=(env "LOST_API=$lib" php -d display_errors=stderr "$LOST_SRC/lost.php") ;;
  pymysql) cmd=(/usr/bin/python3 "$LOST_SRC/lost.py") ;;
  mysql2) cmd=(env "NODE_PATH=$LOST_NPM_DIR/node_modules" node "$LOST_SRC/lost.js") ;;
  *)
    echo "lost_start: unknown library $lib" >&2
    return 2
    ;;
  esac
  fifo=$LOST_DIR/$name.in
  rm -f "$fifo"
  mkfifo "$fifo"
  exec {fd}<>"$fifo" # held open: the client's stdin never sees EOF before a poke
  "${cmd[@]}" "$host" "$port" "$mode" "$sql" <"$fifo" >"$LOST_DIR/$name.out" 2>&1 &
  LOST_PID[$name]=$!
  LOST_FD[$name]=$fd
  LOST_LIB[$name]=$lib
  if [[ -n "${LOST_TRACK:-}" ]]; then
    "$LOST_TRACK" "${LOST_PID[$name]}"
  fi
}

# lost_wait NAME REGEX SECS: wait until a line of NAME's output matches (1 if it never does).
lost_wait() {
  local name=$1 re=$2 secs=$3 i
  for ((i = 0; i < secs * 20; i++)); do
    grep -qE -- "$re" "$LOST_DIR/$name.out" 2>/dev/null && return 0
    sleep 0.05
  done
  return 1
}

lost_poke() {
  echo go >&"${LOST_FD[$1]}"
}

# lost_end NAME SECS: wait for NAME to exit; after SECS it is killed (and that is a failure).
lost_end() {
  local name=$1 secs=$2 pid=${LOST_PID[$1]} i
  for ((i = 0; i < secs * 20; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -9 "$pid" 2>/dev/null
    lost_notok "$name (${LOST_LIB[$name]}) finished within ${secs} s"
  fi
  wait "$pid" 2>/dev/null
  local fd=${LOST_FD[$name]}
  exec {fd}>&-
  rm -f "$LOST_DIR/$name.in"
}

# lost_line NAME WORD: the first line of NAME's output that starts with WORD.
lost_line() {
  grep -m 1 "^$2 " "$LOST_DIR/$1.out" 2>/dev/null
}

# lost_lost_re LIB: how LIB reports a lost connection (libmariadb, mysqlnd and PyMySQL: the
# client codes 2006 CR_SERVER_GONE_ERROR or 2013 CR_SERVER_LOST; mysql2: a fatal
# PROTOCOL_CONNECTION_LOST, or the socket's own ECONNRESET / EPIPE).
lost_lost_re() {
  case "$1" in
  libmariadb | mysqli | pdo) echo '^err (2006|2013) [0-9A-Z]{5} ' ;;
  pymysql) echo '^err (2006|2013) OperationalError ' ;;
  mysql2) echo '^err (PROTOCOL_CONNECTION_LOST|ECONNRESET|EPIPE) .* fatal=true ' ;;
  esac
}

# lost_server_re LIB: a server error parsed cleanly (its code, SQLSTATE, message).
lost_server_re() {
  case "$1" in
  libmariadb | mysqli | pdo) echo '^err 1[0-9]{3} [0-9A-Z]{5} ' ;;
  pymysql) echo '^err 1[0-9]{3} (OperationalError|InternalError) ' ;;
  mysql2) echo '^err ER_[A-Z_]+ [0-9A-Z]{5} 1[0-9]{3} ' ;;
  esac
}

# lost_complaints NAME: the library's protocol complaints about the statement (mysqlnd's
# warnings, a crash); those of the reconnect attempts, while the server starts, do not count.
lost_complaints() {
  awk '/^count /{exit} {print}' "$LOST_DIR/$1.out" 2>/dev/null |
    grep -iE '^(warn .*(out of order|malformed|protocol|packet)|crash |connect fail )' |
    head -n 3 | paste -sd ';' -
}

lost_check_lost() {
  local name=$1 what=$2 lib=${LOST_LIB[$1]} err
  err=$(lost_line "$name" err)
  if [[ "$err" =~ $(lost_lost_re "$lib") ]]; then
    lost_ok "$what: $lib reports a lost connection ($err)"
  else
    lost_notok "$what: $lib reports a lost connection: got [${err:-no error}]"
  fi
  lost_check_quiet "$name" "$what"
}

lost_check_ended() {
  local name=$1 what=$2 lib=${LOST_LIB[$1]} err
  err=$(lost_line "$name" err)
  if [[ "$err" =~ $(lost_lost_re "$lib") || "$err" =~ $(lost_server_re "$lib") ]]; then
    lost_ok "$what: $lib reports a lost connection or a server error ($err)"
  else
    lost_notok "$what: $lib reports a lost connection or a server error: got [${err:-no error}]"
  fi
  lost_check_quiet "$name" "$what"
}

lost_check_quiet() {
  local name=$1 what=$2 c
  c=$(lost_complaints "$name")
  if [[ -z "$c" ]]; then
    lost_ok "$what: ${LOST_LIB[$name]} printed no protocol complaint"
  else
    lost_notok "$what: ${LOST_LIB[$name]} complained: $c"
  fi
}

# lost_check_reconnect NAME T_MS BOUND_MS WHAT [T_NAME]: NAME's new connection ran SELECT 1 no
# later than BOUND_MS after T_MS (epoch ms, e.g. when a backend could serve it again).
lost_check_reconnect() {
  local name=$1 t=$2 bound=$3 what=$4 tname=${5:-the backend was back} line at
  line=$(lost_line "$name" reconnect)
  if [[ "$line" =~ ^reconnect\ ok\ [0-9]+\ ([0-9]+)$ ]]; then
    at=${BASH_REMATCH[1]}
    if ((at - t <= bound)); then
      lost_ok "$what: ${LOST_LIB[$name]} reconnected $((at - t)) ms after $tname (<= $bound)"
    else
      lost_notok "$what: ${LOST_LIB[$name]} reconnected only $((at - t)) ms after $tname (> $bound)"
    fi
  else
    lost_notok "$what: ${LOST_LIB[$name]} reconnects: got [${line:-nothing}]"
  fi
}
