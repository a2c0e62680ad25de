#!/usr/bin/env bash
# Rebuild GraphiQL's static assets in server/static/graphiql/ (committed: the server needs no Node).
# Installs the exact packages of package-lock.json (npm ci), then bundles with esbuild (build.mjs).
# Needs Node 18+ and npm; uses bench/node_modules' Node 22 when the system's is older.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

bench_node=../../bench/node_modules/.bin
if [ -x "$bench_node/node" ]; then
    major="$(node --version 2>/dev/null | sed -E 's/^v([0-9]+).*/\1/' || echo 0)"
    if [ "${major:-0}" -lt 18 ]; then PATH="$(cd "$bench_node" && pwd):$PATH"; fi
fi

npm ci --no-audit --no-fund --loglevel=error
node build.mjs
echo "build.sh: wrote $(cd ../../server/static/graphiql && pwd) ($(du -sh ../../server/static/graphiql | cut -f1))"
