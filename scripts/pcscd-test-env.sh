#!/bin/sh
# Prepare a Debian machine for the PC/SC tests: pcscd with the vpcd virtual reader driver.
# Idempotent; needs root only when something is missing. The pytest harness starts pcscd itself
# (pcscd --foreground) when none is running, so this script only installs and prepares.
set -eu

PACKAGES="pcscd vsmartcard-vpcd libpcsclite-dev"

missing=""
for pkg in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $pkg"
    fi
done

if [ -n "$missing" ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "missing Debian packages:$missing (run this script as root)" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    # shellcheck disable=SC2086 # word splitting of the package list is wanted
    apt-get install -y --no-install-recommends $missing || {
        apt-get update
        apt-get install -y --no-install-recommends $missing
    }
    # A pcscd started before vpcd was installed does not know the virtual reader yet.
    if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet pcscd.service 2>/dev/null; then
        systemctl restart pcscd.service
    fi
fi

# pcscd keeps its socket and pid file here; systemd-tmpfiles makes it at boot, containers lack it.
if [ "$(id -u)" -eq 0 ]; then
    mkdir -p /run/pcscd
fi

conf=/etc/reader.conf.d/vpcd
if [ ! -r "$conf" ]; then
    echo "vpcd reader config $conf not found" >&2
    exit 1
fi
echo "vpcd reader config $conf:"
cat "$conf"
