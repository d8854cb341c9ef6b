#!/usr/bin/env bash
# Set up .venv/ (pinned stack + test extras) and run the test suite. Extra arguments go to pytest,
# e.g. `bash tools/run_tests.sh -m "not slow"` (skip the budgeted end-to-end tests), `-k loss` or
# `tests/test_datasets`.
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/setup_env.sh tests optional lint
# pytest.ini sets testpaths = tests, so test paths given here narrow the run instead of adding to it.
exec "$PYTHON_BIN" -m pytest "$@"
