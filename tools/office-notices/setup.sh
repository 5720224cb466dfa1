#!/usr/bin/env bash
# Set up what tools/office-notices/make_corpus.py needs: LibreOffice headless (Writer and
# Calc, to turn .docx/.xlsx into PDF), Chromium (to print the HTML forms to PDF),
# poppler-utils (pdftoppm, to rasterise), the Noto CJK fonts the forms are set in, and a
# project-local Python venv at target/office-notices-venv with python-docx, openpyxl, Pillow
# and numpy pinned. Not part of `make test`: this is a benchmark tool, and LibreOffice and
# Chromium are large. Idempotent; prints what it installs.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
VENV="$ROOT/target/office-notices-venv"

# Debian packages:
#  - libreoffice-writer-nogui, libreoffice-calc-nogui: `soffice --headless --convert-to pdf`
#  - chromium: `chromium --headless --print-to-pdf` prints the HTML+CSS forms (html_forms.py)
#  - poppler-utils: pdftoppm rasterises the PDF as a scanner would
#  - fonts-noto-cjk: Noto Serif CJK JP (Mincho-like) and Noto Sans CJK JP (Gothic-like)
#  - python3, python3-venv: the virtual environment below
PACKAGES=(libreoffice-writer-nogui libreoffice-calc-nogui chromium poppler-utils fonts-noto-cjk python3 python3-venv)
missing=()
for p in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
if ((${#missing[@]})); then
    echo "office-notices setup: installing ${missing[*]}"
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if [ ! -x "$VENV/bin/python" ]; then
    echo "office-notices setup: creating $VENV"
    /usr/bin/python3 -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$(dirname "$0")/requirements.txt"
echo "office-notices setup: ready ($VENV/bin/python)"
