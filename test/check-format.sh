#!/usr/bin/env bash
# Checks that every C file under proxy/ test/ vrrp-hooks/ bench/ is clang-formatted; lists offenders.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 2
command -v clang-format >/dev/null || {
  echo "check-format: clang-format not installed (test/lib/deps.sh installs it)" >&2
  exit 2
}
dirs=(proxy test vrrp-hooks bench)

# Tracked and new (not ignored) files; a plain find outside a git checkout.
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  mapfile -t files < <(git ls-files --cached --others --exclude-standard -- "${dirs[@]}" |
    grep -E '\.[ch]$' | grep -Ev '(^|/)build[^/]*/' | sort -u)
else
  mapfile -t files < <(find "${dirs[@]}" -type d -name 'build*' -prune -o -type f \
    \( -name '*.c' -o -name '*.h' \) -print 2>/dev/null | sort)
fi

bad=()
for f in "${files[@]}"; do
  [[ -f "$f" ]] || continue # deleted but still in the index
  if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
    bad+=("$f")
  fi
done

if ((${#bad[@]})); then
  echo "check-format: ${#bad[@]} of ${#files[@]} files need clang-format (run: make format):"
  printf '  %s\n' "${bad[@]}"
  exit 1
fi
echo "check-format: ${#files[@]} files formatted"
