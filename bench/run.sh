#!/usr/bin/env bash
# The benchmark of issue 7, our server side by side with PostGraphile 5 over one database:
#
#     bash bench/run.sh [--scale N] [--workers N] [--duration S] [--smoke] [--only Q1,Q3]
#
# Installs what is missing -- Debian's wrk, the PostgreSQL and Redis binaries
# (scripts/install-services.sh), the venv (scripts/bootstrap.sh), Node 22 and PostGraphile from the
# committed bench/package-lock.json (npm ci into bench/node_modules) -- then runs bench/run.py,
# which starts every server it needs on 127.0.0.1 and stops them at the end, on errors and on
# SIGTERM/SIGINT. Installing needs root (apt-get) the first time.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/install-services.sh
bash scripts/bootstrap.sh

apt_updated=""
apt_install() {
    if [ "$(id -u)" -ne 0 ]; then
        echo "bench/run.sh: missing $*; install it (apt-get install $*) or run as root" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    if [ -z "$apt_updated" ]; then
        apt-get update -q
        apt_updated=1
    fi
    apt-get install -y -q --no-install-recommends "$@"
}
command -v wrk >/dev/null 2>&1 || apt_install wrk
command -v npm >/dev/null 2>&1 || apt_install nodejs npm

node22() { bench/node_modules/.bin/node -e 'process.exit(+process.versions.node.split(".")[0] < 22 ? 1 : 0)' 2>/dev/null; }
stamp="bench/node_modules/.installed-$(sha256sum bench/package-lock.json | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || ! node22; then
    echo "bench/run.sh: npm ci (PostGraphile 5, Node 22) into bench/node_modules" >&2
    (cd bench && npm ci --no-audit --no-fund --loglevel=error)
    node22 || { echo "bench/run.sh: bench/node_modules/.bin/node is not Node >= 22 after npm ci" >&2; exit 1; }
    touch "$stamp"
fi

exec .venv/bin/python -m bench "$@"
