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

progress() {
    local total="$1" n=0 line name
    while IFS= read -r line; do
        case "$line" in
            "Collecting "* | "Processing "*)
                n=$((n + 1))
                name="${line#* }"
                name="${name%% *}"
                echo "bootstrap.sh: [$n/$total] ${name##*/}"
                ;;
            "Installing collected packages"*) echo "bootstrap.sh: unpacking them into .venv (a minute or so)" ;;
            "Successfully installed"*) echo "bootstrap.sh: done installing packages" ;;
        esac
    done >&2
}

hash="$(cat requirements.lock pyproject.toml | sha256sum | cut -d' ' -f1)"
stamp=".venv/.installed-$hash"
if [ ! -f "$stamp" ]; then
    total="$(grep -cE '^[A-Za-z0-9]' requirements.lock)"
    echo "bootstrap.sh: installing $total locked packages into .venv (about 2-4 minutes on a first run)" >&2
    # One line per package as pip gets to it (downloaded, or a local file), so a slow download
    # never looks like a hang; pip's warnings and errors (stderr) pass through unfiltered.
    # Unbuffered: pip writes into a pipe, which Python would otherwise fill in 8 KB blocks (and
    # a shell loop, unlike mawk, handles each line as it arrives).
    PYTHONUNBUFFERED=1 .venv/bin/pip install --progress-bar off --disable-pip-version-check -r requirements.lock |
        progress "$total"
    echo "bootstrap.sh: installing tenantgraph itself (editable)" >&2
    .venv/bin/pip install -q --disable-pip-version-check --no-deps -e .
    rm -f .venv/.installed-*
    touch "$stamp"
    echo "bootstrap.sh: done" >&2
fi
