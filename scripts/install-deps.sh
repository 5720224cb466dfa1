#!/usr/bin/env bash
# Install what building and testing Checkup Edge needs on a fresh Debian machine of this
# kind: Debian packages by apt-get (only those missing), and the Rust components rustfmt and
# clippy. Idempotent; prints what it installs.
set -euo pipefail

# Debian packages the build and tests use.
PACKAGES=(gcc make pkg-config ca-certificates)

missing=()
for p in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
if ((${#missing[@]})); then
    echo "install-deps: installing ${missing[*]}"
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if ! command -v cargo >/dev/null 2>&1; then
    echo "install-deps: cargo not found; install the Rust toolchain (rustup) first" >&2
    exit 1
fi
if command -v rustup >/dev/null 2>&1; then
    for c in rustfmt clippy; do
        if ! rustup component list --installed 2>/dev/null | grep -q "^$c"; then
            echo "install-deps: adding rust component $c"
            rustup component add "$c"
        fi
    done
fi
