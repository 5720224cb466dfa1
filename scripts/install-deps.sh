#!/usr/bin/env bash
# Install what building and testing Checkup Edge needs on a fresh Debian machine of this
# kind: Debian packages by apt-get (only those missing), and the Rust components rustfmt and
# clippy; with --test, also the tools only the tests and packaging use (schemathesis,
# cargo-deb). Idempotent; prints what it installs.
set -euo pipefail

# Debian packages the build and tests use:
#  - gcc, make, pkg-config: building (SQLite is compiled in)
#  - libpcsclite-dev, pcscd, libccid: PC/SC and USB CCID card readers
#  - vsmartcard-vpcd: the virtual reader (demo and tests)
#  - iproute2: network namespaces that fence the virtual reader's port to loopback
#  - chromium, fonts-noto-cjk, nodejs, npm: end-to-end tests of the web UI in a real browser
#  - openssl: the provisioning tests check enrolled certificates with `openssl verify`
#  - curl: CI's newcomer walk through the demo box (scripts/newcomer-demo.sh)
#  - libssl-dev: SQLCipher (the encrypted event store) uses OpenSSL's libcrypto
#  - avahi-daemon, avahi-utils, dbus-daemon: the mDNS test checks the box against Avahi
#    (run by the test in its own namespace on a private D-Bus; never the system's)
#  - faketime: `checkup-central doctor`'s test runs it with its clock five minutes off
#    PostgreSQL's (libfaketime), to see the clock check fail
#  - python3, python3-venv: the virtual environment schemathesis runs in (API conformance
#    test, tests/tests/schemathesis.rs; scripts/install-schemathesis.sh)
#  - dpkg-dev: `cargo deb` finds the packages' library dependencies with dpkg-shlibdeps
#  - libxml2-dev, libxml2-utils: central validates 特定健診 archives against MHLW's XSDs with
#    libxml2 (the `libxml` crate, whose bindings bindgen generates with libclang-dev); the
#    tests check the written files once more with `xmllint --schema`
#  - systemd: the package test checks the units with systemd-analyze and creates the service
#    users with systemd-sysusers (inside a scratch root; systemd need not be running)
PACKAGES=(gcc make pkg-config ca-certificates libpcsclite-dev pcscd libccid vsmartcard-vpcd iproute2 mosquitto tesseract-ocr tesseract-ocr-jpn libtesseract-dev libleptonica-dev libclang-dev
          chromium fonts-noto-cjk poppler-utils openssl libssl-dev curl
          avahi-daemon avahi-utils dbus-daemon faketime python3 python3-venv dpkg-dev systemd
          libxml2-dev libxml2-utils)

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

# Debian's vpcd configuration makes any pcscd started from /etc/reader.conf.d listen for
# card emulators on every interface. Checkup Edge starts its own pcscd with its own
# configuration inside a loopback-only network namespace, so the system-wide entry is
# diverted (renamed to a dot-file, which pcscd ignores). A real CCID reader needs nothing
# from vpcd. `dpkg-divert --rename --remove /etc/reader.conf.d/vpcd` undoes this.
if [ -e /etc/reader.conf.d/vpcd ] && [ "$(id -u)" -eq 0 ]; then
    echo "install-deps: diverting /etc/reader.conf.d/vpcd (the system pcscd must not listen for virtual cards)"
    dpkg-divert --local --rename --divert /etc/reader.conf.d/.vpcd.disabled-by-checkup-edge \
        --add /etc/reader.conf.d/vpcd >/dev/null
fi

# playwright-core (driver only; it uses Debian's chromium, never downloads a browser) and
# axe-core (accessibility checks run inside that chromium).
if ! command -v npm >/dev/null 2>&1; then
    echo "install-deps: installing nodejs and npm"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends nodejs npm
fi
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
# Again whenever a package the lockfile names is missing (a checkout that predates it).
if [ ! -d "$ROOT/tests/e2e/node_modules/playwright-core" ] || [ ! -d "$ROOT/tests/e2e/node_modules/axe-core" ]; then
    echo "install-deps: npm ci in tests/e2e"
    (cd "$ROOT/tests/e2e" && npm ci --no-audit --no-fund --loglevel=error)
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

# What only the tests and the packaging need (`make test`, `make deb`: install-deps.sh
# --test), so that `make demo` does not wait for them.
if [ "${1:-}" = "--test" ]; then
    # schemathesis (PyPI, pinned) in a project-local virtual environment under target/.
    bash "$ROOT/scripts/install-schemathesis.sh"
    # cargo-deb builds the Debian packages (docs/install.md, tests/tests/deb.rs); pinned,
    # from crates.io, only when this version is missing.
    CARGO_DEB_VERSION=3.8.0
    if [ "$(cargo deb --version 2>/dev/null)" != "cargo-deb $CARGO_DEB_VERSION" ]; then
        echo "install-deps: installing cargo-deb $CARGO_DEB_VERSION"
        cargo install --locked "cargo-deb@$CARGO_DEB_VERSION"
    fi
fi
