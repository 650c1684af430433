#!/usr/bin/env bash
# Installs the Debian packages the build, the tests and `make run` need; a fast no-op when all are present.
set -euo pipefail

DEPS_PACKAGES=(
  make git meson ninja-build pkg-config gcc clang libclang-rt-14-dev
  libuv1-dev libmariadb-dev libconfig-dev check libhttp-parser-dev libjansson-dev nettle-dev
  zlib1g-dev libssl-dev openssl
  mariadb-server mariadb-client galera-4 rsync socat
  php-cli php-mysql sysbench haproxy
  valgrind clang-format shellcheck
  prometheus keepalived iproute2 procps curl docker-compose psmisc
  systemd binutils python3-yaml
  wordpress nginx php-fpm php-curl
  python3-pymysql nodejs npm
)

# deps_missing prints the packages of DEPS_PACKAGES that dpkg does not report as installed,
# either by name or as provided by another installed package (a nodejs built with its own npm
# provides npm, and installing Debian's npm beside it would remove it).
deps_missing() {
  local p status provided
  provided=" $(dpkg-query -W -f='${db:Status-Status} ${Provides}\n' 2>/dev/null |
    sed -n 's/^installed //p' | tr ',\n' '  ' | sed 's/([^)]*)//g' | tr -s ' ') "
  for p in "${DEPS_PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    if [[ "$status" != "installed" && "$provided" != *" $p "* ]]; then
      printf '%s\n' "$p"
    fi
  done
}

deps_install() {
  local missing created_policy=0
  mapfile -t missing < <(deps_missing)
  if ((${#missing[@]} == 0)); then
    echo "==> deps: all ${#DEPS_PACKAGES[@]} packages present"
    return 0
  fi
  if [[ $(id -u) -ne 0 ]]; then
    echo "deps: need root to install: ${missing[*]}" >&2
    return 1
  fi
  # Packages like mariadb-server would start a default server on :3306; policy-rc.d
  # exit 101 tells invoke-rc.d not to start anything during the install.
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    created_policy=1
  fi
  echo "==> installing ${#missing[@]} packages: ${missing[*]}"
  local rc=0
  {
    echo "==> apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update -q &&
      echo "==> apt-get install" &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
  } || rc=$?
  if ((created_policy)); then
    rm -f /usr/sbin/policy-rc.d
  fi
  if ((rc != 0)); then
    echo "deps: apt-get failed (rc=$rc)" >&2
    return "$rc"
  fi
  mapfile -t missing < <(deps_missing)
  if ((${#missing[@]} != 0)); then
    echo "deps: still missing after install: ${missing[*]}" >&2
    return 1
  fi
  echo "==> deps: installed"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  deps_install
fi
