#!/usr/bin/env bash
# check.sh - checks docker/ without a Docker engine: compose, image recipe, configs, scripts, unit.
#
#   test/docker/check.sh [--bin PATH]
#
# PATH is a built galera-proxy (default: $GP_BIN, else ${GP_BUILD_PREFIX:-build}/proxy/galera-proxy
# as test/run-all.sh names it); without one the checks that need it are skipped, and say so.
# As root (CI, `make test`) nothing may be skipped: a check that would be (no binary, a tool
# missing: test/lib/deps.sh installs them all) fails instead. No
# image is pulled or built and no container runs (this machine has no Docker engine). What does
# run for real: docker-compose's validation, the consistency of the repeated addresses and
# credentials (consistency.py), `make -n` against the Dockerfile's build step, galera-proxy
# --check-config on the proxies' configs, keepalived -t and the image's entrypoint with the real
# galera-proxy and keepalived in a private network namespace (root only), galera-start.sh's
# bootstrap decisions against a stub entrypoint, the MariaDB config and init SQL on a throwaway
# mariadbd, and systemd-analyze verify on the unit.
#
# Output: "ok - WHAT", "not ok - WHAT" (with the evidence indented below), "ok - WHAT # skip
# WHY" (not as root); the last line is "N passed, N failed (N skipped)". Exit status 1 if
# anything failed.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT" || exit 2

BIN=${GP_BIN:-}
while [[ $# -gt 0 ]]; do
  case $1 in
  --bin)
    BIN=$2
    shift 2
    ;;
  *)
    echo "usage: $0 [--bin PATH]" >&2
    exit 2
    ;;
  esac
done
if [[ -z "$BIN" && -x "${GP_BUILD_PREFIX:-build}/proxy/galera-proxy" ]]; then
  BIN=${GP_BUILD_PREFIX:-build}/proxy/galera-proxy
fi
[[ -z "$BIN" || "$BIN" == /* ]] || BIN=$ROOT/$BIN

PASSED=0
FAILED=0
SKIPPED=0
WORK=$(mktemp -d /tmp/gp-docker-check.XXXXXX)
chmod 755 "$WORK" # the proxy under test runs as nobody and reads its config here
PIDS=()
NETNS=

cleanup() {
  local p
  for p in "${PIDS[@]}"; do
    kill "$p" 2>/dev/null
  done
  for p in "${PIDS[@]}"; do
    wait "$p" 2>/dev/null
  done
  if [[ -n "$NETNS" ]]; then
    # Whatever still runs in our namespace was started by this script (entrypoint children).
    for p in $(ip netns pids "$NETNS" 2>/dev/null); do
      kill -9 "$p" 2>/dev/null
    done
    ip netns del "$NETNS" 2>/dev/null
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

pass() {
  echo "ok - $*"
  PASSED=$((PASSED + 1))
}
fail() {
  echo "not ok - $*"
  FAILED=$((FAILED + 1))
}
# skip WHAT WHY: a check that cannot run here. As root that is a failure: CI runs as root,
# where test/lib/deps.sh has installed every tool and run-all.sh has built the binary.
skip() {
  if [[ $(id -u) -eq 0 ]]; then
    fail "$1 (not run: $2; as root nothing may be skipped, test/lib/deps.sh installs the tools)"
    return
  fi
  echo "ok - $1 # skip $2"
  SKIPPED=$((SKIPPED + 1))
}
# evidence TEXT: shown under a failure, indented, at most 30 lines.
evidence() { printf '%s\n' "$1" | tail -n 30 | sed 's/^/    /'; }

# t WHAT CMD...: ok when CMD exits 0; its output is shown only when it fails.
t() {
  local what=$1 out
  shift
  if out=$("$@" 2>&1); then
    pass "$what"
  else
    fail "$what"
    evidence "$out"
  fi
}

# t_quiet WHAT CMD...: ok when CMD exits 0 AND prints nothing (tools that warn but exit 0).
t_quiet() {
  local what=$1 out rc
  shift
  out=$("$@" 2>&1)
  rc=$?
  if [[ $rc -eq 0 && -z "$out" ]]; then
    pass "$what"
  else
    fail "$what (exit $rc)"
    evidence "$out"
  fi
}

have() { command -v "$1" >/dev/null 2>&1; }

# ---- compose.yml ---------------------------------------------------------------------------

echo "# docker/compose.yml"
if have docker-compose; then
  t "docker-compose -f docker/compose.yml config -q" docker-compose -f docker/compose.yml config -q
else
  fail "docker-compose is not installed (Debian package docker-compose, see test/lib/deps.sh)"
fi

# consistency.py needs the system python3 with yaml, which the Debian docker-compose brings.
if have docker-compose && /usr/bin/python3 -c 'import yaml' 2>/dev/null; then
  out=$(/usr/bin/python3 test/docker/consistency.py "$ROOT" 2>&1)
  while IFS= read -r line; do
    case $line in
    "ok - "*) pass "${line#ok - }" ;;
    "not ok - "*) fail "${line#not ok - }" ;;
    *) evidence "$line" ;;
    esac
  done <<<"$out"
  grep -Eq '^(not )?ok - ' <<<"$out" || fail "consistency.py printed no results"
else
  skip "addresses and credentials agree across docker/" "no /usr/bin/python3 with yaml"
fi

# ---- the image: one build recipe -----------------------------------------------------------

echo "# docker/Dockerfile"
# Dockerfile instructions with continuation lines joined, comments dropped.
dockerfile_lines() {
  awk '/^[[:space:]]*#/ {next} /\\$/ {sub(/\\$/, ""); buf = buf $0 " "; next}
       {print buf $0; buf = ""}' docker/Dockerfile | sed 's/[[:space:]]\+/ /g'
}
# run_commands: every shell command of every RUN, one per line.
run_commands() {
  dockerfile_lines | sed -n 's/^RUN //p' | sed 's/ *&& */\n/g; s/ *|| */\n/g; s/ *; */\n/g' |
    sed 's/^ *//; s/ *$//' | grep -v '^$'
}
# stage_packages N: the packages apt-get installs in the N-th FROM stage.
stage_packages() {
  dockerfile_lines | awk -v want="$1" '/^FROM / {stage++} stage == want && /^RUN / {print}' |
    grep -o 'apt-get install [^&]*' | tr ' ' '\n' | grep -v -e '^-' -e '^apt-get$' \
    -e '^install$' -e '^$' | sort -u
}

MK_OUT=$WORK/mk
mk_skip=$(make -s -n -o deps build BUILD="$MK_OUT" 2>&1)
mk_full=$(make -s -n build BUILD="$MK_OUT" 2>&1)
expect=$(printf 'if [ ! -f %s/build.ninja ]; then meson setup %s; fi\nninja -C %s' \
  "$MK_OUT" "$MK_OUT" "$MK_OUT")
if grep -qxF "bash test/lib/deps.sh" <<<"$mk_full" &&
  [[ "$(grep -vxF 'bash test/lib/deps.sh' <<<"$mk_full")" == "$mk_skip" ]] &&
  [[ "$(grep -v '^echo ' <<<"$mk_skip")" == "$expect" ]]; then
  pass "make -o deps build = the Makefile's build recipe (meson setup + ninja) minus its deps step"
else
  fail "make -o deps build = the Makefile's build recipe (meson setup + ninja) minus its deps step"
  evidence "make -n -o deps build:
$mk_skip
make -n build:
$mk_full"
fi

cmds=$(run_commands)
own=$(grep -E '^(meson|ninja|muon|samu|cc|gcc|clang)( |$)' <<<"$cmds")
what="the Dockerfile builds with \`make -o deps build\`, no meson/ninja/compiler step of its own"
if [[ -z "$own" ]] && grep -Eq '^make -o deps build( BUILD=[^ ]+)?$' <<<"$cmds"; then
  pass "$what"
else
  fail "$what"
  evidence "RUN commands:
$cmds"
fi

# deps.sh defines DEPS_PACKAGES and only acts when executed, so sourcing it is side-effect free.
# shellcheck source=test/lib/deps.sh
deps=$(source test/lib/deps.sh && printf '%s\n' "${DEPS_PACKAGES[@]}")
build_pkgs=$(stage_packages 1)
# libc6-dev: gcc only recommends it, and --no-install-recommends leaves recommends out.
extra=$(grep -vxF -f <(printf '%s\nlibc6-dev\n' "$deps") <<<"$build_pkgs")
if [[ -n "$build_pkgs" && -z "$extra" ]]; then
  pass "build-stage packages are a subset of test/lib/deps.sh ($(wc -w <<<"$build_pkgs") packages)"
else
  fail "build-stage packages are a subset of test/lib/deps.sh"
  evidence "not in DEPS_PACKAGES: ${extra:-(no packages found)}"
fi

run_pkgs=$(stage_packages 2)
for p in keepalived curl; do
  if grep -qxF "$p" <<<"$run_pkgs"; then
    pass "runtime image installs $p"
  else
    fail "runtime image installs $p"
  fi
done
if [[ -n "$BIN" ]] && have readelf && have ldd && have dpkg; then
  unprovided=""
  while read -r soname; do
    path=$(ldd "$BIN" | awk -v s="$soname" '$1 == s {print $3}')
    # dpkg knows the merged-/usr spelling of the path, or the real file behind the link.
    pkg=
    for p in "$path" "/usr$path" "$(readlink -f "$path")"; do
      pkg=$(dpkg -S "$p" 2>/dev/null | head -n 1 | cut -d: -f1)
      [[ -n "$pkg" ]] && break
    done
    # libc6 and libgcc-s1 are in every Debian image, slim included.
    case $pkg in
    libc6 | libgcc-s1) continue ;;
    esac
    if [[ -z "$pkg" ]] || ! grep -qxF "$pkg" <<<"$run_pkgs"; then
      unprovided+="$soname (${pkg:-no package found}) "
    fi
  done < <(readelf -d "$BIN" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
  if [[ -z "$unprovided" ]]; then
    pass "runtime packages provide every library galera-proxy links (readelf NEEDED + dpkg -S)"
  else
    fail "runtime packages provide every library galera-proxy links"
    evidence "not provided: $unprovided"
  fi
else
  skip "runtime packages provide every library galera-proxy links" \
    "no built galera-proxy (--bin) or no readelf/ldd/dpkg"
fi

# COPY sources exist, and Dockerfile.dockerignore lets each of them through.
bad=
while read -r src; do
  [[ -e "$src" ]] || bad+="$src (missing) "
  top=${src%/}
  grep -qxF "!$top" docker/Dockerfile.dockerignore ||
    grep -qxF "!$top/" docker/Dockerfile.dockerignore || bad+="$src (ignored) "
done < <(dockerfile_lines | grep '^COPY ' | grep -v -- '--from=' |
  awk '{for (i = 2; i < NF; i++) print $i}')
if [[ -z "$bad" ]]; then
  pass "every COPY source exists and Dockerfile.dockerignore lets it through"
else
  fail "every COPY source exists and Dockerfile.dockerignore lets it through"
  evidence "$bad"
fi
if dockerfile_lines | grep -q '^HEALTHCHECK .*vrrp-hooks/check' &&
  grep -q '/health' vrrp-hooks/check; then
  pass "HEALTHCHECK runs vrrp-hooks/check, i.e. GET /health"
else
  fail "HEALTHCHECK runs vrrp-hooks/check, i.e. GET /health"
fi

# ---- configuration files -------------------------------------------------------------------

echo "# configuration files"
# The configs name the demo certificate at /etc/galera-proxy/tls, the volume compose's tls-init
# fills with galera-proxy/demo-certs.sh: the same script makes them here, and copies of the
# configs (with their secrets beside them) point there.
CONFD=$WORK/conf
mkdir -p "$CONFD"
cp -r docker/galera-proxy/secrets "$CONFD/secrets"
if out=$(sh docker/galera-proxy/demo-certs.sh "$CONFD/tls" "$(id -u)" 2>&1) &&
  openssl verify -CAfile "$CONFD/tls/ca.pem" "$CONFD/tls/server.pem" >/dev/null 2>&1 &&
  san=$(openssl x509 -in "$CONFD/tls/server.pem" -noout -ext subjectAltName 2>&1) &&
  [[ "$san" == *"IP Address:10.77.0.100"* && "$san" == *"IP Address:127.0.0.1"* &&
    "$san" == *"DNS:proxy-a.example.net"* && "$san" == *"DNS:proxy-b.example.net"* ]] &&
  [[ ! -e "$CONFD/tls/ca.key" ]]; then
  pass "demo-certs.sh: a certificate its CA verifies, naming the VIP, the proxies and 127.0.0.1; no CA key left"
else
  fail "demo-certs.sh: a certificate its CA verifies, naming the VIP, the proxies and 127.0.0.1; no CA key left"
  evidence "$out
$san"
fi
for f in docker/galera-proxy/*.conf; do
  sed "s#/etc/galera-proxy/tls/#$CONFD/tls/#g" "$f" >"$CONFD/$(basename "$f")"
  if [[ -n "$BIN" ]]; then
    t "galera-proxy --check-config $f (tls files from demo-certs.sh)" \
      "$BIN" --check-config -c "$CONFD/$(basename "$f")"
  else
    skip "galera-proxy --check-config $f" "no built galera-proxy (--bin)"
  fi
done

if have mariadbd; then
  user_opt=()
  [[ $(id -u) -eq 0 ]] && user_opt=(--user=root)
  t "mariadbd accepts docker/mariadb/galera.cnf (unknown options fail)" \
    mariadbd --defaults-file=docker/mariadb/galera.cnf "${user_opt[@]}" --verbose --help
else
  skip "mariadbd accepts docker/mariadb/galera.cnf" "mariadbd not installed"
fi

# init_sql_check: the init SQL on a throwaway server (datadir in $WORK, socket only).
init_sql_check() {
  local d=$WORK/sql pid rc
  mkdir -p "$d"
  mariadb-install-db --no-defaults --datadir="$d/data" "${user_opt[@]}" \
    --auth-root-authentication-method=normal >"$d/install.log" 2>&1 || {
    cat "$d/install.log"
    return 1
  }
  mariadbd --no-defaults --datadir="$d/data" --socket="$d/sock" --skip-networking \
    "${user_opt[@]}" --pid-file="$d/pid" --log-error="$d/err.log" --skip-log-bin &
  pid=$!
  PIDS+=("$pid")
  for _ in $(seq 1 60); do
    [[ -S "$d/sock" ]] && break
    sleep 0.25
  done
  rc=0
  for f in docker/mariadb/init/*.sql; do
    mariadb --no-defaults --socket="$d/sock" -uroot <"$f" || rc=1
  done
  kill "$pid"
  wait "$pid" 2>/dev/null
  [[ $rc -eq 0 ]] || tail -n 5 "$d/err.log"
  return "$rc"
}
if have mariadbd && have mariadb-install-db && have mariadb; then
  version=$(mariadbd --version | grep -o '[0-9]*\.[0-9]*\.[0-9]*' | head -n 1)
  t "docker/mariadb/init/*.sql runs on MariaDB $version" init_sql_check
else
  skip "docker/mariadb/init/*.sql runs on MariaDB" "mariadbd / mariadb-install-db not installed"
fi

if have php; then
  # shellcheck disable=SC2016 # PHP code
  t "metrics/grafana-dashboard.json (mounted into Grafana) is valid JSON" php -r '
    exit(json_decode(file_get_contents($argv[1])) === null ? 1 : 0);' metrics/grafana-dashboard.json
else
  skip "metrics/grafana-dashboard.json is valid JSON" "php not installed"
fi

# ---- scripts -------------------------------------------------------------------------------

echo "# scripts"
scripts=(docker/entrypoint.sh docker/mariadb/galera-start.sh docker/mariadb/galera-health.sh
  test/docker/check.sh)
if have shellcheck; then
  t "shellcheck ${scripts[*]}" shellcheck -x -e SC2317 "${scripts[@]}"
else
  skip "shellcheck docker scripts" "shellcheck not installed"
fi

# free_port: a TCP port on 127.0.0.1 nobody listens on (20000-29999).
free_port() {
  local p
  for _ in $(seq 1 50); do
    p=$((20000 + RANDOM % 10000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p"
      return 0
    fi
  done
  return 1
}

# gs_case NAME EXPECT PEER(up|down) SEED DATADIR(new|safe1|safe0) MARKER(0|1) FORCE [CMD...]:
# runs galera-start.sh against a stub image entrypoint and checks its decision.
gs_case() {
  local name=$1 expect=$2 peer=$3 seed=$4 data=$5 marker=$6 force=$7
  shift 7
  local d=$WORK/gs/$name port=$GS_DOWN got
  mkdir -p "$d/data" "$d/marker"
  [[ "$peer" == up ]] && port=$GS_UP
  case $data in
  safe1 | safe0)
    mkdir -p "$d/data/mysql"
    printf '# GALERA saved state\nversion: 2.1\nuuid: 6b3e4f0a-0000-0000-0000-000000000001\n' \
      >"$d/data/grastate.dat"
    printf 'seqno: 42\nsafe_to_bootstrap: %s\n' "${data#safe}" >>"$d/data/grastate.dat"
    ;;
  esac
  [[ "$marker" == 1 ]] && echo "cluster bootstrapped by test" >"$d/marker/cluster-created"
  [[ $# -gt 0 ]] || set -- mariadbd --wsrep-node-name=x
  GALERA_DATADIR=$d/data GALERA_MARKER_DIR=$d/marker GALERA_PEERS=127.0.0.1 \
    GALERA_GROUP_PORT=$port GALERA_SEED=$seed GALERA_FORCE_BOOTSTRAP=$force \
    GALERA_JOIN_WAIT_S=0 GALERA_NODE_NAME=$name GALERA_IMAGE_ENTRYPOINT=$WORK/gs/stub \
    GS_OUT=$d/args bash docker/mariadb/galera-start.sh "$@" >"$d/log" 2>&1
  # The stub got the command line galera-start.sh handed to the image's entrypoint.
  got="no exec"
  if [[ -f "$d/args" ]]; then
    case "$(cat "$d/args")" in
    "mariadbd "*--wsrep-new-cluster*) got="bootstrap" ;;
    "mariadbd "*) got="join" ;;
    *) got="passthrough" ;;
    esac
  fi
  if [[ "$got" == "$expect" ]]; then
    case $name in
    new-seed) [[ -s "$d/marker/cluster-created" ]] || got="$got, but no marker written" ;;
    new-seed-peer-up) [[ ! -e "$d/marker/cluster-created" ]] || got="$got, but marker written" ;;
    force) grep -q '^safe_to_bootstrap: 1$' "$d/data/grastate.dat" ||
      got="$got, but grastate.dat still safe_to_bootstrap: 0" ;;
    esac
  fi
  if [[ "$got" == "$expect" ]]; then
    pass "galera-start.sh $name: $expect"
  else
    fail "galera-start.sh $name: $expect (got: $got)"
    evidence "$(cat "$d/log" 2>/dev/null)"
  fi
}

if have socat && have timeout; then
  mkdir -p "$WORK/gs"
  cat >"$WORK/gs/stub" <<'EOF'
#!/bin/sh
printf '%s\n' "$*" >"$GS_OUT"
EOF
  chmod 755 "$WORK/gs/stub"
  GS_UP=$(free_port)
  GS_DOWN=$(free_port)
  socat -u "TCP-LISTEN:$GS_UP,bind=127.0.0.1,reuseaddr,fork" /dev/null &
  PIDS+=($!)
  for _ in $(seq 1 40); do
    (exec 3<>"/dev/tcp/127.0.0.1/$GS_UP") 2>/dev/null && break
    sleep 0.05
  done
  #       name              expect      peer seed datadir marker force
  gs_case new-seed          bootstrap   down 1    new     0      0
  gs_case new-seed-marker   join        down 1    new     1      0
  gs_case new-joiner        join        down 0    new     0      0
  gs_case new-seed-peer-up  join        up   1    new     0      0
  gs_case safe1             bootstrap   down 0    safe1   1      0
  gs_case safe1-peer-up     join        up   0    safe1   1      0
  gs_case safe0             join        down 1    safe0   1      0
  gs_case force             bootstrap   down 0    safe0   1      1
  gs_case client-command    passthrough down 1    new     0      0 mariadb -e 'SELECT 1'
else
  skip "galera-start.sh bootstrap decisions" "socat or timeout not installed"
fi

# ---- the entrypoint and keepalived, for real, in a private network namespace -----------------

echo "# docker/entrypoint.sh + keepalived (network namespace)"
ns_reason=
[[ $(id -u) -eq 0 ]] || ns_reason="needs root (network namespace, keepalived)"
for c in ip keepalived setpriv curl; do
  have "$c" || ns_reason=${ns_reason:-"$c not installed"}
done
[[ -n "$BIN" ]] || ns_reason=${ns_reason:-"no built galera-proxy (--bin)"}
if [[ -z "$ns_reason" ]]; then
  NETNS=gp-docker-check-$$
  if ! { ip netns add "$NETNS" && ip -n "$NETNS" link set lo up &&
    ip -n "$NETNS" link add eth0 type veth peer name eth1 &&
    ip -n "$NETNS" link set eth0 up && ip -n "$NETNS" link set eth1 up &&
    ip -n "$NETNS" addr add 10.77.0.21/24 dev eth0; } 2>"$WORK/netns.err"; then
    ns_reason="cannot create a network namespace: $(head -n 1 "$WORK/netns.err")"
  fi
fi

# in_ns CMD...: run CMD in the test namespace.
in_ns() { ip netns exec "$NETNS" "$@"; }
# ns_status KEY: a top-level field of the proxy's /status in the namespace.
NS_URL=http://127.0.0.1:9480 # https:// with --cacert in NS_CURL once http_tls is on (run 4)
NS_CURL=()
ns_status() {
  # shellcheck disable=SC2016 # PHP code
  in_ns curl -s --noproxy '*' --max-time 1 "${NS_CURL[@]}" "$NS_URL/status" 2>/dev/null |
    php -r '$j = json_decode(stream_get_contents(STDIN), true);
      $v = is_array($j) ? ($j[$argv[1]] ?? "") : ""; echo is_scalar($v) ? $v : "";' "$1"
}
vrrp_reported() { [[ $(ns_status vrrp_state) =~ ^(FAULT|BACKUP|MASTER)$ ]]; }
config_version_is() { [[ $(ns_status config_version) == "$1" ]]; }
# wait_for SECONDS CMD...: poll CMD every 0.2 s.
wait_for() {
  local n=$(($1 * 5))
  shift
  while ((n-- > 0)); do
    "$@" && return 0
    sleep 0.2
  done
  return 1
}
log_has() { grep -q -- "$2" "$1"; }
# line_of FILE PATTERN: number of the first line matching PATTERN (9999999 if none).
line_of() { grep -n -m 1 -- "$2" "$1" | cut -d: -f1 | grep . || echo 9999999; }
pid_in_log() { sed -n "s/.*event=child_start .*child=$2 pid=\([0-9]*\).*/\1/p" "$1" | tail -n 1; }

EP=$WORK/ep
EP_ENV=() # extra environment for the entrypoint (run 4: GALERA_PROXY_CACERT)
# ep_start RUN: start the entrypoint in the namespace; sets EP_PID, EP_LOG.
ep_start() {
  EP_LOG=$EP/$1.log
  # Not through in_ns: a function would run in a forked shell, and $! must be the entrypoint.
  # SIGHUP back to its default, as a container's init has it: a test run under nohup would
  # otherwise hand the entrypoint an ignored SIGHUP, which a shell cannot trap.
  ip netns exec "$NETNS" env --default-signal=HUP "${EP_ENV[@]}" GALERA_PROXY_CONF="$EP/proxy.conf" \
    KEEPALIVED_CONF="$EP/keepalived.conf" GALERA_PROXY_HTTP=127.0.0.1:9480 \
    GALERA_PROXY_LOG_FILE="$EP/$1.proxy.log" GALERA_PROXY_USER=nobody GALERA_PROXY_BIN="$BIN" \
    KEEPALIVED_RUN_DIR="$EP/run-$1" \
    bash docker/entrypoint.sh >"$EP_LOG" 2>&1 &
  EP_PID=$!
  PIDS+=("$EP_PID")
}
# ep_ended: the entrypoint has exited (it is our child: a zombie until we wait for it).
ep_ended() {
  [[ ! -e "/proc/$EP_PID" || "$(awk '{print $3}' "/proc/$EP_PID/stat" 2>/dev/null)" == Z ]]
}
# ep_wait_exit SECONDS: wait for the entrypoint to end; sets EP_RC (999 if it did not).
ep_wait_exit() {
  EP_RC=999
  if wait_for "$1" ep_ended; then
    wait "$EP_PID"
    EP_RC=$?
  fi
}
gone() { ! kill -0 "$1" 2>/dev/null; }

if [[ -n "$ns_reason" ]]; then
  skip "keepalived -t on docker/keepalived/*.conf" "$ns_reason"
  skip "entrypoint: proxy, then keepalived; TERM/HUP/child death" "$ns_reason"
else
  mkdir -p "$EP"
  chmod 755 "$EP"
  for p in proxy-a proxy-b; do
    # keepalived 2.2.7's -t kills itself (SIGTERM) when script_user is not root, so the test
    # copy uses root; the hooks' paths point at the repository's, whose existence -t checks.
    sed -e 's/^\([[:space:]]*script_user\).*/\1 root/' \
      -e "s#/usr/lib/galera-proxy/vrrp-hooks/#$ROOT/vrrp-hooks/#g" \
      "docker/keepalived/$p.conf" >"$EP/ka-t-$p.conf"
    t_quiet "keepalived -t docker/keepalived/$p.conf (hooks from vrrp-hooks/, eth0 in a netns)" \
      in_ns keepalived -t -f "$EP/ka-t-$p.conf"
  done

  # The image's files with this machine's paths: user nobody instead of galera-proxy.
  sed "s#/etc/galera-proxy/tls/#$EP/tls/#g" docker/galera-proxy/proxy-a.conf >"$EP/proxy.conf"
  sh docker/galera-proxy/demo-certs.sh "$EP/tls" "$(id -u nobody)" >/dev/null
  cp -r docker/galera-proxy/secrets "$EP/secrets" # password_file etc. are relative to the config
  chmod 755 "$EP/secrets"
  chmod 644 "$EP"/secrets/*
  sed -e 's/^\([[:space:]]*script_user\).*/\1 nobody/' \
    -e "s#/usr/lib/galera-proxy/vrrp-hooks/#$ROOT/vrrp-hooks/#g" \
    docker/keepalived/proxy-a.conf >"$EP/keepalived.conf"
  chmod 644 "$EP/proxy.conf" "$EP/keepalived.conf"

  # Run 1: start order, user, notify, log file, SIGHUP, SIGTERM order.
  ep_start run1
  if wait_for 20 log_has "$EP_LOG" "child=keepalived pid="; then
    pass "entrypoint starts keepalived"
  else
    fail "entrypoint starts keepalived"
    evidence "$(cat "$EP_LOG")"
  fi
  proxy_pid=$(pid_in_log "$EP_LOG" galera-proxy)
  ka_pid=$(pid_in_log "$EP_LOG" keepalived)
  if (($(line_of "$EP_LOG" "event=listen.*endpoint=http") < $(line_of "$EP_LOG" \
    "child=keepalived pid="))); then
    pass "keepalived starts only after the proxy's HTTP endpoint listens"
  else
    fail "keepalived starts only after the proxy's HTTP endpoint listens"
    evidence "$(cat "$EP_LOG")"
  fi
  uid=$(awk '/^Uid:/ {print $2}' "/proc/$proxy_pid/status" 2>/dev/null)
  if [[ -n "$uid" && "$uid" == "$(id -u nobody)" ]]; then
    pass "galera-proxy runs unprivileged (setpriv to GALERA_PROXY_USER)"
  else
    fail "galera-proxy runs unprivileged (uid ${uid:-?}, want $(id -u nobody))"
  fi
  if wait_for 15 vrrp_reported; then
    pass "keepalived's notify hook reaches the proxy (/status vrrp_state=$(ns_status vrrp_state))"
  else
    fail "keepalived's notify hook reaches the proxy (vrrp_state=$(ns_status vrrp_state))"
    evidence "$(cat "$EP_LOG")"
  fi
  if grep -q 'event=start' "$EP/run1.proxy.log" 2>/dev/null; then
    pass "GALERA_PROXY_LOG_FILE receives the proxy's log lines"
  else
    fail "GALERA_PROXY_LOG_FILE receives the proxy's log lines"
  fi
  before=$(ns_status config_version)
  kill -HUP "$EP_PID"
  if wait_for 10 config_version_is $((before + 1)); then
    pass "SIGHUP to the entrypoint reloads the proxy (config_version $before -> $((before + 1)))"
  else
    fail "SIGHUP to the entrypoint reloads the proxy (config_version $(ns_status config_version))"
    evidence "$(grep -e 'signal' "$EP_LOG"; grep -e 'reload' -e 'signal' "$EP/run1.proxy.log")"
  fi
  kill -TERM "$EP_PID"
  ep_wait_exit 30
  if [[ $EP_RC -eq 0 ]] && gone "$proxy_pid" && gone "$ka_pid" &&
    (($(line_of "$EP_LOG" "event=child_exit .*child=galera-proxy") < $(line_of "$EP_LOG" \
      "event=child_stop .*child=keepalived"))); then
    pass "SIGTERM: the proxy stops first, then keepalived; exit 0"
  else
    fail "SIGTERM: the proxy stops first, then keepalived; exit 0 (exit $EP_RC)"
    evidence "$(cat "$EP_LOG")"
  fi

  # Run 2: keepalived dies -> the proxy is stopped, the container ends non-zero.
  ep_start run2
  wait_for 20 log_has "$EP_LOG" "child=keepalived pid="
  proxy_pid=$(pid_in_log "$EP_LOG" galera-proxy)
  ka_pid=$(pid_in_log "$EP_LOG" keepalived)
  [[ -n "$ka_pid" ]] && kill -9 "$ka_pid"
  ep_wait_exit 30
  if [[ -n "$ka_pid" && $EP_RC -ne 0 && $EP_RC -ne 999 ]] && gone "$proxy_pid"; then
    pass "keepalived dies: the proxy is stopped too, exit $EP_RC (restart policy)"
  else
    fail "keepalived dies: the proxy is stopped too, exit non-zero (exit $EP_RC)"
    evidence "$(cat "$EP_LOG")"
  fi

  # Run 3: the proxy dies -> keepalived is stopped (the VIP leaves), non-zero exit.
  ep_start run3
  wait_for 20 log_has "$EP_LOG" "child=keepalived pid="
  proxy_pid=$(pid_in_log "$EP_LOG" galera-proxy)
  ka_pid=$(pid_in_log "$EP_LOG" keepalived)
  [[ -n "$proxy_pid" ]] && kill -9 "$proxy_pid"
  ep_wait_exit 30
  if [[ -n "$proxy_pid" && $EP_RC -ne 0 && $EP_RC -ne 999 ]] && gone "$ka_pid"; then
    pass "galera-proxy dies: keepalived is stopped too, exit $EP_RC (restart policy)"
  else
    fail "galera-proxy dies: keepalived is stopped too, exit non-zero (exit $EP_RC)"
    evidence "$(cat "$EP_LOG")"
  fi

  # Run 4: http_tls switched on as docker/README.md says (http_tls = true, GALERA_PROXY_CACERT
  # in the container's environment): the entrypoint's wait and keepalived's notify speak HTTPS,
  # verified against the demo CA, and plain HTTP gets nothing.
  sed -i 's/^http_tls = false;/http_tls = true;/' "$EP/proxy.conf"
  EP_ENV=("GALERA_PROXY_CACERT=$EP/tls/ca.pem")
  NS_URL=https://127.0.0.1:9480
  NS_CURL=(--cacert "$EP/tls/ca.pem")
  ep_start run4
  if wait_for 20 log_has "$EP_LOG" "child=keepalived pid=" && wait_for 15 vrrp_reported; then
    pass "http_tls on: entrypoint and keepalived's notify reach the proxy over verified HTTPS (vrrp_state=$(ns_status vrrp_state))"
  else
    fail "http_tls on: entrypoint and keepalived's notify reach the proxy over verified HTTPS"
    evidence "$(cat "$EP_LOG")"
  fi
  code=$(in_ns curl -s -o /dev/null -w '%{http_code}' --max-time 2 http://127.0.0.1:9480/health)
  if [[ "$code" == 000 ]]; then
    pass "http_tls on: plain HTTP to the proxy gets no answer"
  else
    fail "http_tls on: plain HTTP to the proxy gets no answer (got $code)"
  fi
  kill -TERM "$EP_PID"
  ep_wait_exit 30
  if [[ $EP_RC -eq 0 ]]; then
    pass "http_tls on: SIGTERM, exit 0"
  else
    fail "http_tls on: SIGTERM, exit 0 (exit $EP_RC)"
  fi
fi

# ---- the systemd unit ----------------------------------------------------------------------

echo "# docker/systemd/galera-proxy.service"
UNIT=docker/systemd/galera-proxy.service
# shellcheck disable=SC2016 # $MAINPID is systemd's, literally
for kv in 'Type=exec' 'Restart=on-failure' 'ExecReload=/bin/kill -HUP $MAINPID' \
  'KillSignal=SIGTERM' 'LimitNOFILE=' 'TimeoutStopSec=' 'User=galera-proxy' \
  'ExecStartPost=+/usr/local/lib/galera-proxy/supervise --mark-up' \
  'ExecStopPost=+/usr/local/lib/galera-proxy/supervise --mark-down'; do
  if grep -q "^${kv//$/\\$}" "$UNIT"; then
    pass "unit has $kv"
  else
    fail "unit has $kv"
  fi
done
bad=$(grep -nEv '^(#.*|\[(Unit|Service|Install)\]|[A-Za-z]+=.*|)$' "$UNIT")
if [[ -z "$bad" ]]; then
  pass "unit syntax: only [Unit]/[Service]/[Install], Key=Value lines and comments"
else
  fail "unit syntax: only [Unit]/[Service]/[Install], Key=Value lines and comments"
  evidence "$bad"
fi
if have systemd-analyze; then
  # verify wants ExecStart's binary to exist: point it at the built one (or at /bin/true).
  mkdir -p "$WORK/unit"
  sed -e "s#/usr/sbin/galera-proxy#${BIN:-/bin/true}#g" \
    -e "s#/usr/local/lib/galera-proxy/supervise#$ROOT/vrrp-hooks/supervise#g" \
    "$UNIT" >"$WORK/unit/galera-proxy.service"
  # It warns on stderr but exits 0 for unknown keys and bad values: any output is a failure.
  t_quiet "systemd-analyze verify $UNIT (binary path: ${BIN:-/bin/true})" \
    systemd-analyze verify "$WORK/unit/galera-proxy.service"
else
  skip "systemd-analyze verify $UNIT" "systemd-analyze not installed (syntax checked above)"
fi

echo
echo "$PASSED passed, $FAILED failed ($SKIPPED skipped)"
((FAILED == 0))
