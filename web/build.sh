#!/usr/bin/env bash
# Rebuild the committed browser assets of one web/ package (the server needs no Node):
#
#     bash web/build.sh graphiql    # server/static/graphiql/
#     bash web/build.sh demo        # server/static/demo/
#
# Installs the exact packages of the package's package-lock.json (npm ci), then bundles with
# esbuild (its build.mjs). Needs Node 18+ and npm; uses bench/node_modules' Node 22 when the
# system's is older.
set -euo pipefail
name="${1:?usage: web/build.sh graphiql|demo}"
cd "$(dirname "${BASH_SOURCE[0]}")/$name"

bench_node=../../bench/node_modules/.bin
if [ -x "$bench_node/node" ]; then
    major="$(node --version 2>/dev/null | sed -E 's/^v([0-9]+).*/\1/' || echo 0)"
    if [ "${major:-0}" -lt 18 ]; then PATH="$(cd "$bench_node" && pwd):$PATH"; fi
fi

npm ci --no-audit --no-fund --loglevel=error
node build.mjs
echo "build.sh: wrote $(cd "../../server/static/$name" && pwd) ($(du -sh "../../server/static/$name" | cut -f1))"
