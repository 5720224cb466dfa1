#!/usr/bin/env bash
# Set up what tools/office-notices/make_corpus.py needs: LibreOffice headless (Writer and
# Calc, to turn .docx/.xlsx into PDF), Chromium (to print the HTML forms to PDF),
# poppler-utils (pdftoppm, to rasterise), the Noto CJK fonts the forms are set in, the IPAex
# and IPA fonts the ReportLab PDF families embed (unpacked into target/office-notices-fonts),
# and a project-local Python venv at target/office-notices-venv with python-docx, openpyxl,
# ReportLab, Pillow and numpy pinned. Not part of `make test`: this is a benchmark tool, and
# LibreOffice and Chromium are large. Idempotent; prints what it installs.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
VENV="$ROOT/target/office-notices-venv"
FONTS="$ROOT/target/office-notices-fonts"

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

# The PDF families (pdf_forms.py) embed TrueType fonts; ReportLab cannot embed the CFF-based
# Noto CJK. The Debian packages of IPAex Mincho/Gothic and IPA Mincho/Gothic/PGothic are
# fetched with `apt-get download` and unpacked into $FONTS, not installed: installed, they
# would join fontconfig's fallbacks and could change the LibreOffice and Chromium pages.
FONT_PACKAGES=(fonts-ipaexfont-mincho fonts-ipaexfont-gothic fonts-ipafont-mincho fonts-ipafont-gothic)
FONT_FILES=(ipaexm.ttf ipaexg.ttf ipam.ttf ipag.ttf ipagp.ttf)
need_fonts=0
for f in "${FONT_FILES[@]}"; do [ -f "$FONTS/$f" ] || need_fonts=1; done
if ((need_fonts)); then
    echo "office-notices setup: unpacking ${FONT_PACKAGES[*]} into $FONTS"
    tmp="$(mktemp -d)"
    chmod 755 "$tmp"  # apt's download user writes here
    if ! (cd "$tmp" && apt-get download -q "${FONT_PACKAGES[@]}" >/dev/null); then
        SUDO=""
        if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
        $SUDO apt-get update -q
        (cd "$tmp" && apt-get download -q "${FONT_PACKAGES[@]}" >/dev/null)
    fi
    for deb in "$tmp"/*.deb; do dpkg-deb -x "$deb" "$tmp/root"; done
    mkdir -p "$FONTS"
    for f in "${FONT_FILES[@]}"; do
        cp "$(find "$tmp/root" -name "$f" -print -quit)" "$FONTS/$f"
    done
    rm -rf "$tmp"
fi

if [ ! -x "$VENV/bin/python" ]; then
    echo "office-notices setup: creating $VENV"
    /usr/bin/python3 -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$(dirname "$0")/requirements.txt"
echo "office-notices setup: ready ($VENV/bin/python)"
