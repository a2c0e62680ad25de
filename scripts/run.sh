#!/usr/bin/env bash
# Serve tenantgraph on the embedded default: SQLite file ./tenantgraph.db, in-memory broadcast,
# demo data, GraphiQL at http://127.0.0.1:8000/graphql. Safe to run again: nothing is duplicated.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/bootstrap.sh
.venv/bin/tenantgraph migrate
.venv/bin/tenantgraph seed-demo
echo
echo "GraphiQL: http://${TENANTGRAPH_HOST:-127.0.0.1}:${TENANTGRAPH_PORT:-8000}/graphql"
exec .venv/bin/tenantgraph serve --host "${TENANTGRAPH_HOST:-127.0.0.1}" --port "${TENANTGRAPH_PORT:-8000}"
