#!/usr/bin/env bash
# Run the test suite: install service binaries if missing, bootstrap .venv,
# then pytest (tests/conftest.py starts throwaway PostgreSQL + Redis).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/install-services.sh
bash scripts/bootstrap.sh
exec .venv/bin/python -m pytest "$@"
