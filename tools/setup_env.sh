#!/usr/bin/env bash
# Create or reuse the project virtualenv at .venv/ with the pinned stack (requirements/*.txt) and
# `pip install -e .`. Sourced by tools/quickstart.sh and tools/run_tests.sh:
#   source tools/setup_env.sh [EXTRA_REQUIREMENT_FILE ...]
# A stamp of the requirement files makes the up-to-date case take seconds. PYTHON picks the
# interpreter (default python3, 3.9-3.12; pins measured on 3.11).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PY="${PYTHON:-python3}"
REQS=("$ROOT/requirements/runtime.txt" "$ROOT/requirements/mminstall.txt")
for extra in "$@"; do REQS+=("$ROOT/requirements/$extra.txt"); done

if ! command -v "$PY" >/dev/null 2>&1; then
    echo "setup_env: no '$PY' found; install Python 3.11 (or set PYTHON=/path/to/python3)" >&2
    exit 1
fi
if [ ! -x "$VENV/bin/python" ]; then
    echo "setup_env: creating $VENV"
    "$PY" -m venv "$VENV" || {
        echo "setup_env: '$PY -m venv' failed (on Debian/Ubuntu: apt-get install python3-venv)" >&2
        exit 1
    }
fi
# One stamp per set of requirement files, so that the quickstart (runtime) and the tests
# (runtime + test extras) do not invalidate each other.
EXTRAS="$*"
STAMP="$VENV/.csunet-requirements${EXTRAS:+-${EXTRAS// /-}}.sha256"
WANT="$(cat "${REQS[@]}" "$ROOT/setup.py" | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$STAMP" 2>/dev/null)" != "$WANT" ]; then
    echo "setup_env: installing the pinned stack into $VENV (a few minutes the first time)"
    "$VENV/bin/python" -m pip install --disable-pip-version-check -q -U pip 'setuptools<81' wheel
    FULL_MMCV=0
    if "$VENV/bin/python" -m pip show -q mmcv >/dev/null 2>&1; then
        # A full mmcv built by the user (docs/install.md "Full mmcv") owns the same `mmcv` package as
        # mmcv-lite: installing mmcv-lite over it would mix the two. Keep it.
        echo "setup_env: full mmcv found in $VENV; keeping it instead of mmcv-lite"
        FULL_MMCV=1
    fi
    REQ_ARGS=()
    for r in "${REQS[@]}"; do
        if [ "$FULL_MMCV" = 1 ] && [ "$r" = "$ROOT/requirements/mminstall.txt" ]; then
            while read -r line; do
                case "$line" in ''|'#'*|mmcv-lite*) ;; *) REQ_ARGS+=("$line") ;; esac
            done < "$r"
        else
            REQ_ARGS+=(-r "$r")
        fi
    done
    "$VENV/bin/python" -m pip install --disable-pip-version-check -q "${REQ_ARGS[@]}"
    # Requirements are installed above; --no-deps keeps pip from re-resolving them.
    "$VENV/bin/python" -m pip install --disable-pip-version-check -q --no-deps -e "$ROOT"
    echo "$WANT" > "$STAMP"
else
    echo "setup_env: $VENV is up to date"
fi
export PATH="$VENV/bin:$PATH"
export PYTHON_BIN="$VENV/bin/python"
