#!/usr/bin/env bash
# Lint the repository as CI does: flake8 and isort (settings in setup.cfg, pins in
# requirements/lint.txt). Exits non-zero on any finding. `bash tools/lint.sh --fix` sorts the
# imports in place first (flake8 findings are left to you).
set -euo pipefail
cd "$(dirname "$0")/.."
# The same requirement set as tools/run_tests.sh, so the two share one up-to-date .venv stamp.
source tools/setup_env.sh tests optional lint
if [ "${1:-}" = "--fix" ]; then
    "$PYTHON_BIN" -m isort --quiet .
fi
status=0
echo "lint: flake8"
"$PYTHON_BIN" -m flake8 . || status=1
echo "lint: isort"
"$PYTHON_BIN" -m isort --check-only --diff --quiet . || status=1
if [ "$status" = 0 ]; then
    echo "lint: clean"
else
    echo "lint: findings above (imports: bash tools/lint.sh --fix)" >&2
fi
exit "$status"
