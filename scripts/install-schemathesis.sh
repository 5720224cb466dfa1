#!/usr/bin/env bash
# schemathesis (PyPI) in a project-local virtual environment, for the API conformance test
# (tests/tests/schemathesis.rs): target/schemathesis-venv, version pinned here. Idempotent:
# does nothing when the pinned version is already there. Called by `scripts/install-deps.sh --test` (make test).
set -euo pipefail

VERSION="4.32.5"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VENV="${CHECKUP_SCHEMATHESIS_VENV:-$ROOT/target/schemathesis-venv}"

if [ -x "$VENV/bin/st" ]; then
    installed="$("$VENV/bin/python" -m pip show schemathesis 2>/dev/null || true)"
    if grep -qx "Version: $VERSION" <<<"$installed"; then
        exit 0
    fi
fi
echo "install-deps: schemathesis $VERSION into $VENV"
python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "schemathesis==$VERSION"
