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

bash scripts/npm-ci.sh bench  # PostGraphile 5 and Node 22, from the committed bench/package-lock.json

exec .venv/bin/python -m bench "$@"
