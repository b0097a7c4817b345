#!/usr/bin/env bash
# The test command: installs what the tests need (tools/setup.sh), then runs every test of the
# solution. Ends with one line "N passed, M failed" and exits non-zero if any test failed.
set -uo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh || exit 1

log=$(mktemp)
dotnet test Qmp.sln "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
passed=$(grep -oE 'Passed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
failed=$(grep -oE 'Failed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
rm -f "$log"
echo "${passed} passed, ${failed} failed"
if [[ $status -eq 0 && $passed -eq 0 ]]; then
  echo "test: no test ran" >&2
  exit 1
fi
exit "$status"
