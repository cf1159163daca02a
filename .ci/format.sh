#!/usr/bin/env bash
# Formatting: every tracked C file must match .clang-format (clang-format 14, Debian 12's).
# Fix with: clang-format -i $(git ls-files '*.c' '*.h')
set -euo pipefail
cd "$(dirname "$0")/.."
command -v clang-format >/dev/null || { echo "clang-format is not installed (.ci/install-deps)" >&2; exit 2; }
echo "=== clang-format $(clang-format --version | grep -o '[0-9][0-9.]*' | head -1) --dry-run -Werror"
git ls-files -z '*.c' '*.h' | xargs -0 clang-format --dry-run -Werror
