#!/usr/bin/env bash
# The browser tests: Chromium (Debian's, CHROMIUM_PATH to use another) against a built Storybook
# over the test stack. Ends with one plain line: "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/test.sh --config jest.e2e.config.js "$@"
