#!/usr/bin/env bash
# Static analysis: cppcheck over brum's own sources (core/ scripts/ cli/ tui/) with the checks that
# find bugs (warning), slow code (performance) and non-portable code (portability). Any finding
# fails (exit 1). False positives go to .ci/cppcheck.supp with a reason, or inline as
# `// cppcheck-suppress ID` on the line above when the reason is local.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cppcheck >/dev/null || { echo "cppcheck is not installed (.ci/install-deps)" >&2; exit 2; }
jobs=$(nproc 2>/dev/null || echo 2)
mkdir -p build-cppcheck
echo "=== cppcheck $(cppcheck --version | awk '{print $2}') on core/ scripts/ cli/ tui/"
exec cppcheck --std=c11 --library=posix --platform=unix64 \
  --enable=warning,performance,portability --inline-suppr --error-exitcode=1 \
  --suppressions-list=.ci/cppcheck.supp --cppcheck-build-dir=build-cppcheck \
  -j"$jobs" --quiet -I . \
  -D_GNU_SOURCE -DBRUM_VERSION=\"0.0.0\" -U_LGPL_SOURCE \
  core scripts cli tui
