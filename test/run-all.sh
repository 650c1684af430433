#!/usr/bin/env bash
# Everything `make test` and CI run, in order: deps, lint, builds, unit (plain, valgrind, ASan),
# fuzz, integration (plain, ASan, valgrind), soak, the other suites (most also under ASan).
#
# Build directories are build/, build-asan/ and build-fuzz/ (and build-galera/ for test/galera's
# harness); GP_BUILD_PREFIX=build-x makes them build-x/, build-x-asan/, ... (so a developer can
# run this beside someone else's build/).
# FUZZ_SECONDS (default 15) bounds the fuzz run, TEST_SOAK_MINUTES (default 2) the soak. Each
# step prints a "==> step" line; the last line is "N passed, N failed" over the steps, and the
# exit status is non-zero if any failed.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 2

PREFIX=${GP_BUILD_PREFIX:-build}
B_NORMAL=$PREFIX
B_ASAN=$PREFIX-asan
B_FUZZ=$PREFIX-fuzz
FUZZ_SECONDS=${FUZZ_SECONDS:-15}
TEST_SOAK_MINUTES=${TEST_SOAK_MINUTES:-2}

PASSED=0
FAILED=0
RESULTS=()
declare -A OK=()
T_START=$(date +%s)

# step NAME [needs:OTHER]... -- COMMAND...: runs COMMAND unless a needed step failed.
step() {
  local name=$1 t0 rc need
  shift
  local needs=()
  while [[ $1 != -- ]]; do
    needs+=("${1#needs:}")
    shift
  done
  shift
  echo
  echo "==> $name"
  for need in "${needs[@]}"; do
    if [[ "${OK[$need]:-}" != 1 ]]; then
      echo "    skipped: it needs '$need', which failed"
      FAILED=$((FAILED + 1))
      OK[$name]=0
      RESULTS+=("FAIL  $name (not run: '$need' failed)")
      return 0
    fi
  done
  t0=$(date +%s)
  "$@"
  rc=$?
  local took=$(($(date +%s) - t0))
  if [[ $rc -eq 0 ]]; then
    PASSED=$((PASSED + 1))
    OK[$name]=1
    RESULTS+=("ok    $name (${took}s)")
    echo "<== $name: ok (${took}s)"
  else
    FAILED=$((FAILED + 1))
    OK[$name]=0
    RESULTS+=("FAIL  $name (exit $rc, ${took}s)")
    echo "<== $name: FAILED (exit $rc, ${took}s)"
  fi
}

# setup_build DIR [meson options...]: configure DIR afresh if needed, else apply the options.
setup_build() {
  local dir=$1
  shift
  if [[ -f "$dir/build.ninja" ]]; then
    meson setup --reconfigure "$dir" "$@"
  else
    rm -rf "$dir"
    meson setup "$dir" "$@"
  fi
}

build_normal() {
  setup_build "$B_NORMAL" -Dwerror=true && meson compile -C "$B_NORMAL"
}

build_asan() {
  setup_build "$B_ASAN" -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false &&
    meson compile -C "$B_ASAN"
}

build_fuzz() {
  CC=clang setup_build "$B_FUZZ" -Dwerror=true -Dfuzz=true && meson compile -C "$B_FUZZ"
}

# unit_tests DIR [meson test options...]: the unit tests of DIR (not the fuzz suite). Every test
# meson lists must run and pass, and there must be at least one: meson itself exits 0 when no
# test is defined (and each Check program fails a run of zero tests, test/unit/gp_check.c).
unit_tests() {
  local dir=$1 listed=() out ok rc
  shift
  mapfile -t listed < <(meson test -C "$dir" --no-suite fuzz --no-rebuild --list 2>/dev/null)
  [[ "${listed[0]:-}" == "No tests defined." ]] && listed=()
  out=$(mktemp)
  meson test -C "$dir" --no-suite fuzz --print-errorlogs "$@" 2>&1 | tee "$out"
  rc=${PIPESTATUS[0]}
  ok=$(awk '$1 == "Ok:" { print $2 }' "$out")
  rm -f "$out"
  ((rc == 0)) || return "$rc"
  if ((${#listed[@]} == 0 || ${ok:-0} != ${#listed[@]})); then
    echo "    meson ran ${ok:-0} unit tests ok of ${#listed[@]} defined; all of them, and at least one, must pass"
    return 1
  fi
}

unit_valgrind() {
  # Check forks each test by default; valgrind must see the test bodies themselves. Cases
  # tagged "heavy" (16 MB compressed frames, TLS and compressed input cut at every offset)
  # take minutes each under valgrind: they run in the plain and ASan unit runs instead.
  echo "    skip under valgrind: unit test cases tagged heavy (run plain and under ASan)"
  CK_EXCLUDE_TAGS=heavy CK_FORK=no unit_tests "$B_NORMAL" --timeout-multiplier 4 \
    --wrap='valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite --quiet'
}

unit_asan() {
  ASAN_OPTIONS=abort_on_error=1:halt_on_error=1:detect_leaks=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 unit_tests "$B_ASAN"
}

fuzz_run() {
  if [[ ! -f test/fuzz/run.sh ]]; then
    echo "    test/fuzz/run.sh is missing: nothing would be fuzzed"
    return 1
  fi
  FUZZ_BUILD_DIR=$ROOT/$B_FUZZ bash test/fuzz/run.sh "$FUZZ_SECONDS"
}

# shell_scripts: every shell script in the tree, one per line: files git knows of (tracked or
# new, not ignored) that start with a shell's #! line (sh, bash, dash, ksh, directly or through
# env), end in .sh, or declare "# shellcheck shell=..." near the top (sourced libraries).
shell_scripts() {
  local f first
  git ls-files --cached --others --exclude-standard | grep -Ev '(^|/)build[^/]*/' | sort -u |
    while IFS= read -r f; do
      [[ -f "$f" ]] || continue
      IFS= read -r first <"$f" 2>/dev/null || first=
      if [[ "$f" == *.sh ]] ||
        [[ "$first" =~ ^\#![[:space:]]*/(usr/)?(local/)?bin/(env[[:space:]]+)?(sh|bash|dash|ksh)([[:space:]]|$) ]] ||
        head -n 5 "$f" | grep -Eq '^# shellcheck shell=(sh|bash|dash|ksh)'; then
        printf '%s\n' "$f"
      fi
    done
}

shellcheck_all() {
  local files=()
  git rev-parse --is-inside-work-tree >/dev/null 2>&1 || {
    echo "    not a git work tree: the scripts are found with git ls-files"
    return 1
  }
  mapfile -t files < <(shell_scripts)
  if ((${#files[@]} == 0)); then
    echo "    no shell script found"
    return 1
  fi
  echo "    ${#files[@]} scripts"
  # -S warning: errors and warnings fail. (SC2317, "unreachable command", is only info: it
  # misfires in 0.9 on every function only a trap calls, and cleanup traps are how these
  # scripts stop what they start; the scripts' own disable comments stay for -S info runs.)
  shellcheck -x -S warning "${files[@]}"
}

step deps -- bash test/lib/deps.sh
step format -- bash test/check-format.sh
step "layers: folders, owned calls, file sizes" -- bash test/check-layers.sh
step shellcheck -- shellcheck_all
step "build ($B_NORMAL)" -- build_normal
step "unit tests ($B_NORMAL)" needs:"build ($B_NORMAL)" -- unit_tests "$B_NORMAL"
step "interop: the compression codec against a real MariaDB" needs:"build ($B_NORMAL)" -- \
  bash test/interop/run.sh --build "$B_NORMAL"
step "docs match the binary" needs:"build ($B_NORMAL)" -- \
  bash test/check-docs.sh "$B_NORMAL/proxy/galera-proxy"
step "unit tests under valgrind" needs:"build ($B_NORMAL)" -- unit_valgrind
step "build ($B_ASAN, ASan+UBSan)" -- build_asan
step "unit tests ($B_ASAN)" needs:"build ($B_ASAN, ASan+UBSan)" -- unit_asan
step "build ($B_FUZZ, clang libFuzzer)" -- build_fuzz
step "fuzz (${FUZZ_SECONDS}s per target)" needs:"build ($B_FUZZ, clang libFuzzer)" -- fuzz_run
step "integration ($B_NORMAL)" needs:"build ($B_NORMAL)" -- \
  bash test/integration/run.sh --build "$B_NORMAL"
step "integration ($B_ASAN)" needs:"build ($B_ASAN, ASan+UBSan)" -- \
  bash test/integration/run.sh --build "$B_ASAN"
step "integration under valgrind ($B_NORMAL)" needs:"build ($B_NORMAL)" -- \
  bash test/integration/run.sh --build "$B_NORMAL" --valgrind
step "soak, ${TEST_SOAK_MINUTES} min ($B_NORMAL)" needs:"build ($B_NORMAL)" -- \
  bash test/soak/run.sh --minutes "$TEST_SOAK_MINUTES" --build "$B_NORMAL"
step "vrrp-hooks/supervise and the unit's track file" needs:"build ($B_NORMAL)" -- \
  bash test/vrrp-hooks/supervise.sh --bin "$B_NORMAL/proxy/galera-proxy"
step "vrrp-hooks/vip-local: a moved VIP is refused, not dropped" -- \
  bash test/vrrp-hooks/vip-local.sh
step "docker/ and systemd unit" needs:"build ($B_NORMAL)" -- \
  bash test/docker/check.sh --bin "$B_NORMAL/proxy/galera-proxy"
step "integration-galera ($B_NORMAL)" needs:"build ($B_NORMAL)" -- \
  bash test/integration-galera/run.sh --build "$B_NORMAL"
step "integration-galera ($B_ASAN)" needs:"build ($B_ASAN, ASan+UBSan)" -- \
  bash test/integration-galera/run.sh --build "$B_ASAN"
step "monitor harness on a real cluster (test/galera, ASan+UBSan)" -- \
  env BUILD="$ROOT/$PREFIX-galera" bash test/galera/run.sh --asan
step "integration-http ($B_NORMAL)" needs:"build ($B_NORMAL)" -- \
  bash test/integration-http/run.sh --build "$B_NORMAL"
step "integration-http ($B_ASAN)" needs:"build ($B_ASAN, ASan+UBSan)" -- \
  bash test/integration-http/run.sh --build "$B_ASAN"
step "integration-ns: aborted handshakes across namespaces ($B_NORMAL)" needs:"build ($B_NORMAL)" -- \
  bash test/integration-ns/run.sh --build "$B_NORMAL"
step "integration-ns ($B_ASAN)" needs:"build ($B_ASAN, ASan+UBSan)" -- \
  bash test/integration-ns/run.sh --build "$B_ASAN"
step "e2e WordPress ($B_NORMAL)" needs:"build ($B_NORMAL)" -- \
  bash test/e2e/wordpress/run.sh --build "$B_NORMAL"
step "drills, short form ($B_NORMAL)" needs:"build ($B_NORMAL)" -- \
  bash test/drill/run.sh --quick --build "$B_NORMAL" --no-results

echo
echo "==> summary ($(($(date +%s) - T_START))s)"
printf '    %s\n' "${RESULTS[@]}"
echo "$PASSED passed, $FAILED failed"
((FAILED == 0))
