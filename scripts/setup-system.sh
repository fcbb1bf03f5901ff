#!/bin/sh
# Install the Debian packages the project needs, when missing.
#   scripts/setup-system.sh build   - what `pip install` needs to build pyscard (make demo)
#   scripts/setup-system.sh test    - plus PostgreSQL, pcscd + vpcd, Chromium, a CJK font, espeak-ng (make test)
# Idempotent. Installs with apt-get when run as root; otherwise names what is missing and exits 1.
set -eu

BUILD="gcc python3-dev swig libpcsclite-dev"
TEST="$BUILD postgresql pcscd vsmartcard-vpcd chromium fonts-noto-cjk espeak-ng"

case "${1:-test}" in
    build) wanted=$BUILD ;;
    test) wanted=$TEST ;;
    *) echo "usage: $0 build|test" >&2; exit 2 ;;
esac

missing=""
for pkg in $wanted; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $pkg"
    fi
done

if [ -n "$missing" ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "Missing Debian packages:$missing" >&2
        echo "Install them as root:  apt-get install -y$missing" >&2
        exit 1
    fi
    echo "installing Debian packages:$missing"
    export DEBIAN_FRONTEND=noninteractive
    # shellcheck disable=SC2086 # the package list is meant to split
    apt-get install -y -q --no-install-recommends $missing >/dev/null 2>&1 || {
        apt-get update -q >/dev/null
        apt-get install -y -q --no-install-recommends $missing
    }
fi

if [ "${1:-test}" = test ]; then
    sh "$(dirname "$0")/pcscd-test-env.sh" >/dev/null
fi
