#!/usr/bin/env bash
# The locked Node packages of DIR (Node 22 among them), installed by `npm ci` into DIR/node_modules
# unless this very package-lock.json is already installed (stamp node_modules/.installed-<sha256>):
#
#     bash scripts/npm-ci.sh DIR
#
# Shared by bench/run.sh, scripts/check-schema.sh and tests/test_examples.py. A lock on the
# package-lock.json keeps concurrent runs (parallel test sessions) from installing at once.
set -euo pipefail
dir="${1:?usage: npm-ci.sh DIR}"
lock="$dir/package-lock.json"

node22() { "$dir/node_modules/.bin/node" -e 'process.exit(+process.versions.node.split(".")[0] < 22 ? 1 : 0)' 2>/dev/null; }
exec 9<"$lock"
flock 9
stamp="$dir/node_modules/.installed-$(sha256sum "$lock" | cut -d' ' -f1)"
if [ -f "$stamp" ] && node22; then
    exit 0
fi
command -v npm >/dev/null 2>&1 || { echo "npm-ci.sh: npm is missing (bash scripts/install-clients.sh)" >&2; exit 1; }
echo "npm-ci.sh: npm ci into $dir/node_modules" >&2
(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >&2)
node22 || { echo "npm-ci.sh: $dir/node_modules/.bin/node is not Node >= 22 after npm ci" >&2; exit 1; }
touch "$stamp"
