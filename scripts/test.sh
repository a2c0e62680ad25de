#!/usr/bin/env bash
# Run the test suite: install service binaries if missing, bootstrap .venv,
# then pytest (tests/conftest.py starts throwaway PostgreSQL + Redis).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/install-services.sh
bash scripts/install-clients.sh   # chromium for tests/browser (playwright downloads none), npm for the Node tools
bash scripts/bootstrap.sh
echo "test.sh: running pytest (collecting first; the first test starts PostgreSQL and Redis)" >&2
exec .venv/bin/python -m pytest "$@"
