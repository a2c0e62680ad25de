#!/usr/bin/env bash
# Install the client-side tools the tests drive, when missing (Debian/Ubuntu): the browser of
# tests/browser/ (Debian's chromium at /usr/bin/chromium; playwright downloads no browser of its
# own; CHROMIUM_PATH names another one) and npm, which installs Node 22 and the locked packages
# of examples/typescript and tools/schema-check. Silent and quick when both are there.
set -euo pipefail

browser="${CHROMIUM_PATH:-/usr/bin/chromium}"
packages=()
if [ ! -x "$browser" ]; then
    if [ -n "${CHROMIUM_PATH:-}" ]; then
        echo "install-clients.sh: CHROMIUM_PATH=$CHROMIUM_PATH is not an executable" >&2
        exit 1
    fi
    packages+=(chromium)
fi
command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)

if [ "${#packages[@]}" -eq 0 ]; then
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    cat >&2 <<MSG
install-clients.sh: missing ${packages[*]} (the browser tests need /usr/bin/chromium, the
TypeScript example and the schema check npm), and not running as root. Install them yourself, e.g.:
    sudo apt-get update && sudo apt-get install -y --no-install-recommends ${packages[*]}
or set CHROMIUM_PATH to a chromium or chrome binary.
MSG
    exit 1
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-clients.sh: apt-get not found; install ${packages[*]} manually" >&2
    exit 1
fi

echo "install-clients.sh: installing ${packages[*]} (chromium is about 100 MB; a minute or two)" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${packages[@]}"

[ -x "$browser" ] || { echo "install-clients.sh: $browser still missing after install" >&2; exit 1; }
command -v npm >/dev/null 2>&1 || { echo "install-clients.sh: npm still missing after install" >&2; exit 1; }
echo "install-clients.sh: done" >&2
