#!/usr/bin/env bash
# run.sh - run every libFuzzer target for a bounded time over a copy of its seed corpus.
#
# Usage: test/fuzz/run.sh [SECONDS]   (default 20 per target)
# Runs each executable build-fuzz/test/fuzz/fuzz_<name> (FUZZ_BUILD_DIR overrides the build
# directory) against a temporary copy of test/fuzz/corpus/<name>/, so the seeds in the
# repository stay as they are. Builds nothing. Crash inputs are kept under
# <build>/fuzz-artifacts/<name>/. Exits non-zero if any target crashed or none was found.
set -euo pipefail

secs=${1:-20}
case $secs in
'' | *[!0-9]*)
  echo "usage: $0 [SECONDS]" >&2
  exit 2
  ;;
esac

root=$(cd "$(dirname "$0")/../.." && pwd)
build=${FUZZ_BUILD_DIR:-$root/build-fuzz}
bindir=$build/test/fuzz
work=$(mktemp -d "${TMPDIR:-/tmp}/gp-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT

found=0
failed=0
for exe in "$bindir"/fuzz_*; do
  [[ -f $exe && -x $exe ]] || continue
  target=$(basename "$exe")
  name=${target#fuzz_}
  found=$((found + 1))

  corpus=$work/corpus-$name
  mkdir -p "$corpus"
  if [[ -d $root/test/fuzz/corpus/$name ]]; then
    cp -R "$root/test/fuzz/corpus/$name/." "$corpus/"
  fi
  artifacts=$build/fuzz-artifacts/$name
  mkdir -p "$artifacts"
  log=$work/$name.log

  echo "== $target: ${secs}s, $(find "$corpus" -type f | wc -l) seeds"
  rc=0
  "$exe" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$artifacts/" "$corpus" >"$log" 2>&1 || rc=$?
  if ((rc == 0)); then
    grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)' "$log" || true
    echo "   $(grep -oE "cov: [0-9]+" "$log" | tail -n 1 || true)"
  else
    failed=$((failed + 1))
    echo "!! $target failed (exit $rc); last lines of its log:" >&2
    tail -n 60 "$log" >&2
    echo "!! crash inputs, if any, are in $artifacts" >&2
  fi
done

if ((found == 0)); then
  echo "no fuzz_* executables in $bindir (build with: CC=clang meson setup build-fuzz -Dfuzz=true)" >&2
  exit 2
fi
echo "== $found target(s), $failed failed"
((failed == 0))
