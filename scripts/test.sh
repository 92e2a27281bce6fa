#!/usr/bin/env bash
# Runs the whole Jest suite (ESM mode) and ends with one plain line: "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp)
NODE_OPTIONS="${NODE_OPTIONS:-} --experimental-vm-modules --no-warnings" \
  npx jest --ci --json --outputFile="$out" "$@"
code=$?
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const failedSuites = r.numFailedTestSuites || 0;
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests + (r.numRuntimeErrorTestSuites || 0)} failed`);
  if (failedSuites && !r.numFailedTests) console.error(`${failedSuites} test suite(s) failed to run`);
' "$out" || { echo "0 passed, 1 failed"; code=1; }
rm -f "$out"
exit $code
