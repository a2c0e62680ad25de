#!/usr/bin/env bash
# Create .venv (if missing) and install the locked dependencies + the project.
# Idempotent and fast on re-runs: skipped while requirements.lock and
# pyproject.toml are unchanged (stamp file .venv/.installed-<sha256>).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON="${PYTHON:-python3}"

if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
        echo "bootstrap.sh: $PYTHON is $("$PYTHON" -V 2>&1); Python >= 3.11 is required (set PYTHON=...)" >&2
        exit 1
    }
    echo "bootstrap.sh: creating .venv with $("$PYTHON" -V 2>&1)" >&2
    "$PYTHON" -m venv .venv
fi

hash="$(cat requirements.lock pyproject.toml | sha256sum | cut -d' ' -f1)"
stamp=".venv/.installed-$hash"
if [ ! -f "$stamp" ]; then
    echo "bootstrap.sh: installing dependencies" >&2
    .venv/bin/pip install -q -r requirements.lock
    .venv/bin/pip install -q --no-deps -e .
    rm -f .venv/.installed-*
    touch "$stamp"
fi
