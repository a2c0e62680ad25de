#!/usr/bin/env bash
# Install the PostgreSQL and Redis *binaries* the test suite needs (Debian/Ubuntu).
#
# Only installs what is missing, and never leaves a system service running or
# enabled at boot: the tests start their own throwaway servers
# (tests/harness/servers.py).
set -euo pipefail

have_postgres() { compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; }
have_redis() { command -v redis-server >/dev/null 2>&1 || [ -x /usr/bin/redis-server ]; }

packages=()
have_postgres || packages+=(postgresql)
have_redis || packages+=(redis-server)

if [ "${#packages[@]}" -eq 0 ]; then
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    cat >&2 <<MSG
install-services.sh: missing ${packages[*]} (need PostgreSQL server binaries under
/usr/lib/postgresql/*/bin and redis-server on PATH), and not running as root.
Install them yourself, e.g.:
    sudo apt-get update && sudo apt-get install -y ${packages[*]}
then stop any service the packages started (the tests run their own servers).
MSG
    exit 1
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-services.sh: apt-get not found; install ${packages[*]} manually" >&2
    exit 1
fi

# Deny every service start during the install (Debian's invoke-rc.d honours
# policy-rc.d exit code 101); restore any existing policy-rc.d afterwards.
policy=/usr/sbin/policy-rc.d
backup=""
if [ -e "$policy" ]; then
    backup="$(mktemp)"
    cp -p "$policy" "$backup"
fi
restore_policy() {
    if [ -n "$backup" ]; then
        cp -p "$backup" "$policy"
        rm -f "$backup"
    else
        rm -f "$policy"
    fi
}
trap restore_policy EXIT
printf '#!/bin/sh\nexit 101\n' >"$policy"
chmod 0755 "$policy"

export DEBIAN_FRONTEND=noninteractive RUNLEVEL=1
echo "install-services.sh: [1/3] apt-get update (package lists)" >&2
apt-get update -q
echo "install-services.sh: [2/3] apt-get install ${packages[*]} (about a minute)" >&2
# One line per package unpacked and set up: progress without apt's full chatter (a shell loop:
# mawk would hold the lines back until its buffer fills).
apt-get install -y -q --no-install-recommends "${packages[@]}" |
    while IFS= read -r line; do
        case "$line" in "Unpacking "* | "Setting up "*) echo "install-services.sh:   $line" >&2 ;; esac
    done
echo "install-services.sh: [3/3] keeping the system services stopped and off at boot" >&2

# The packages enable their services at boot (systemd unit links, and /etc/rc?.d links for
# SysV init) whether or not systemd runs now: the tests never need them, so turn that off for
# what this script installed (a service someone installed before is theirs: left alone).
# systemctl enable/disable work on the unit files offline too, when systemd is not PID 1.
for service in "${packages[@]}"; do
    if command -v systemctl >/dev/null 2>&1; then
        systemctl disable --quiet "$service" >/dev/null 2>&1 || true
        if [ "$(systemctl is-enabled "$service" 2>/dev/null || true)" = "enabled" ]; then
            echo "install-services.sh: warning: $service is still enabled at boot (systemctl disable $service)" >&2
        fi
    fi
    if [ -x "/etc/init.d/$service" ] && command -v update-rc.d >/dev/null 2>&1; then
        update-rc.d "$service" disable >/dev/null 2>&1 || true
    fi
done

# Stop anything the packages started anyway (only the system cluster/service,
# never servers started by someone else's test run).
if command -v pg_lsclusters >/dev/null 2>&1; then
    pg_lsclusters --no-header 2>/dev/null | while read -r ver name _port status _rest; do
        if [ "$status" = "online" ] || [[ "$status" == online* ]]; then
            echo "install-services.sh: stopping PostgreSQL cluster $ver/$name" >&2
            pg_ctlcluster "$ver" "$name" stop -m fast || true
        fi
    done
fi
for pidfile in /run/redis/redis-server.pid /var/run/redis/redis-server.pid; do
    if [ -s "$pidfile" ]; then
        pid="$(cat "$pidfile")"
        if kill -0 "$pid" 2>/dev/null; then
            echo "install-services.sh: stopping redis-server service (pid $pid)" >&2
            kill -TERM "$pid" || true
            for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        fi
    fi
done

# Verify: no system PostgreSQL / Redis service left running.
leftover="$(ps -eo pid=,args= | grep -E '[p]ostgres .*(/var/lib/postgresql|/etc/postgresql)|[r]edis-server .*:6379' || true)"
if [ -n "$leftover" ]; then
    echo "install-services.sh: system services still running after install:" >&2
    echo "$leftover" >&2
    exit 1
fi

have_postgres || { echo "install-services.sh: initdb still missing after install" >&2; exit 1; }
have_redis || { echo "install-services.sh: redis-server still missing after install" >&2; exit 1; }
echo "install-services.sh: done (no services started, none enabled at boot)" >&2
