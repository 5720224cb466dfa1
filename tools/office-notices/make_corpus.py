#!/usr/bin/env python3
"""Police child-abuse notices (児童通告書) written as office documents, as HTML pages or drawn
directly as PDF, for scoring the OCR intake on pages it was never tuned on (the second, third
and fourth corpus methods; the first is the Rust renderer in tests/src/notice_corpus.rs).

    make_corpus.py OUT N SEED [--families docx_sections,html_fax,pdf_npa,...]

For each family, N notices are written as .docx (python-docx) or .xlsx (openpyxl) the way a
clerk or officer fills a form in a word processor (forms.py), or as HTML+CSS the way a
police records system or a web form prints one (html_forms.py), or drawn as a PDF with
ReportLab the way a records system or an in-house tool writes one (pdf_forms.py) — randomised
label wording, order, column widths, Mincho/Gothic font (Noto Serif/Sans CJK JP; IPAex/IPA for
the PDF families) and 9–12 pt. Office documents are converted to PDF by one LibreOffice
headless process (private profile), HTML pages printed to PDF by headless Chromium (one run a
page, private profile), the PDF families need no converter; every PDF is
rasterised in grey by pdftoppm at 200–300 dpi and damaged (degrade.py). OUT gets the same
layout `notice-corpus` writes, so `notice-score OUT [--register]` scores it unchanged: the
page images, `truth.jsonl` (one object per page with the same keys, plus `family`) and
`register.csv` (the municipality's resident register, same columns). The documents, HTML
pages and PDFs are kept in OUT/src/.

Without --families, the office and HTML families are made; the PDF families (pdf_*) are kept
for held-out reports and only made when named.

Set up with tools/office-notices/setup.sh; run with target/office-notices-venv/bin/python.
"""

import argparse
import datetime as dt
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, str(Path(__file__).resolve().parent))

import degrade  # noqa: E402
import forms  # noqa: E402
import html_forms  # noqa: E402
import pdf_forms  # noqa: E402
import vocab  # noqa: E402

BUILDERS = {**forms.BUILDERS, **html_forms.BUILDERS, **pdf_forms.BUILDERS}
FAMILIES = list(BUILDERS)
# Made when --families is not given; the PDF families are held out and made only by name.
DEFAULT_FAMILIES = list(forms.BUILDERS) + list(html_forms.BUILDERS)


def era(d):
    """和暦 as printed: 令和元年5月1日, 平成28年5月6日."""
    if d >= dt.date(2019, 5, 1):
        name, base = "令和", 2018
    else:
        name, base = "平成", 1988
    y = d.year - base
    return name, ("元" if y == 1 else str(y))


def age_on(birth, day):
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


FW = str.maketrans("0123456789", "０１２３４５６７８９")


class Style:
    """How one document is written: all the clerk's choices, drawn once per notice."""

    def __init__(self, rng):
        self.mincho = rng.random() < 0.5
        self.font = "Noto Serif CJK JP" if self.mincho else "Noto Sans CJK JP"
        self.size = rng.choice([9, 9.5, 10, 10.5, 11, 12])
        self.seireki = rng.random() < 0.3
        self.fullwidth = rng.random() < 0.6
        self.padded = rng.random() < 0.25  # 令和 7年 4月 1日, as forms with blanks get filled
        self.name_space = rng.choice(["　", " ", ""])
        self.age_in_brackets = rng.random() < 0.6
        self.sender_pref = rng.random() < 0.5
        self.rank = rng.choice(["警視", "警視正", ""])
        self.sex_options = rng.random() < 0.35
        self.abuse_boxes = rng.random() < 0.35
        self.abuse_mark = rng.choice(["■", "☑", "tick"])
        self.hand = rng.choice([None, None, "notice_date", "child_name", "guardian_name"])

    def digits(self, s):
        return s.translate(FW) if self.fullwidth else s

    def date(self, d):
        if self.seireki:
            y = str(d.year)
            prefix = ""
        else:
            prefix, y = era(d)
        m, dd = str(d.month), str(d.day)
        if self.padded:
            y, m, dd = (v.rjust(2) if v != "元" else v for v in (y, m, dd))
        return self.digits(f"{prefix}{y}年{m}月{dd}日")

    def name(self, surname, given):
        return f"{surname}{self.name_space}{given}"


def labels(rng):
    """One wording per field, as this form prints it."""
    return {
        "child_name": rng.choice(["児童氏名", "児童の氏名", "氏名（児童）", "児童氏名"]),
        "kana": rng.choice(["ふりがな", "フリガナ"]),
        "birth": rng.choice(["生年月日", "生年月日", "児童の生年月日"]),
        "age": "年齢",
        "sex": rng.choice(["性別", "性　別"]),
        "address": rng.choice(["住所", "住居", "児童の住所", "現住所"]),
        "guardian": rng.choice(["保護者氏名", "保護者の氏名", "保護者氏名"]),
        "relation": rng.choice(["続柄", "児童との続柄"]),
        "occupation": "職業",
        "school": rng.choice(["学校等", "在籍校等", "所属（学校等）"]),
        "reporter": "通告者",
        "date": rng.choice(["通告日", "通告年月日"]),
        "summary": rng.choice(["事案の概要", "通告の理由", "事案の概要", "通告理由"]),
        "abuse": rng.choice(["虐待の種別", "虐待種別", "虐待の種別"]),
    }


def notice(rng):
    """A random notice: the facts (truth) and what the form needs to print them."""
    boy = rng.random() < 0.5
    surname, skana = rng.choice(vocab.SURNAMES)
    given, gkana = rng.choice(vocab.BOYS if boy else vocab.GIRLS)
    mother = rng.random() < 0.6
    g_surname, g_skana = (surname, skana) if rng.random() < 0.85 else rng.choice(vocab.SURNAMES)
    g_given, g_gkana = rng.choice(vocab.WOMEN if mother else vocab.MEN)
    relation = rng.choice(["実母", "母"] if mother else ["実父", "父", "養父", "継父"])
    pref, city, town, station = rng.choice(vocab.PLACES)
    chome, ban, go = rng.randint(1, 6), rng.randint(1, 30), rng.randint(1, 25)
    address = f"{pref}{city}{town}{chome}丁目{ban}番{go}号"
    day = dt.date(2024, 1, 1) + dt.timedelta(days=rng.randrange(2 * 365 + 300))  # to late Oct 2026
    birth = day - dt.timedelta(days=rng.randrange(365, 17 * 365))
    summary, abuse = rng.choice(vocab.SUMMARIES)
    return {
        "boy": boy,
        "surname": surname, "given": given, "kana": vocab.hira(skana) + "　" + vocab.hira(gkana),
        "kana_k": skana + " " + gkana,
        "g_surname": g_surname, "g_given": g_given, "g_kana_k": g_skana + " " + g_gkana,
        "g_female": mother, "relation": relation,
        "pref": pref, "city": city, "town": town, "station": station,
        "chome": chome, "ban": ban, "go": go, "address": address,
        "day": day, "birth": birth, "age": age_on(birth, day),
        "summary": summary, "abuse": abuse,
        "officer": rng.choice(vocab.OFFICERS),
        "centre": pref + rng.choice(vocab.CENTRES),
        "occupation": rng.choice(vocab.OCCUPATIONS),
        "school": rng.choice(vocab.SCHOOLS) if birth.year < day.year - 3 else "未就学",
        "reporter": f"{station}警察署生活安全課　{rng.choice(['巡査部長', '警部補', '巡査長'])}　"
                    f"{rng.choice(vocab.OFFICERS)}",
    }


def truth_of(n, file, family, conditions):
    nf = lambda s: "".join(unicodedata.normalize("NFKC", s).split())  # noqa: E731
    return {
        "file": file,
        "notice_date": n["day"].isoformat(),
        "reporting_agency": f"{n['station']}警察署長",
        "child_name": nf(n["surname"] + n["given"]),
        "child_birth_date": n["birth"].isoformat(),
        "child_sex": "male" if n["boy"] else "female",
        "child_address": nf(n["address"]),
        "guardian_name": nf(n["g_surname"] + n["g_given"]),
        "abuse_type": n["abuse"],
        "summary": nf(n["summary"]),
        "conditions": conditions,
        "family": family,
    }


def conditions(rng):
    """Scanner damage for one page."""
    fax = rng.random() < 0.25
    return {
        "dpi": rng.choice([200, 200, 240, 300]),
        "skew": round(rng.uniform(-3.0, 3.0), 2),
        "faint": rng.choice([1.0, 1.0, 0.65, 0.45]),
        "fax": fax,
        "fax_threshold": rng.randint(140, 175),
        "speckle": rng.choice([0, 0, 40, 120, 250]),
        "jpeg": None if fax else rng.choice([None, 40, 55, 70, 90]),
        "seal": None,
    }


def describe(family, st, c):
    return (
        f"{family} {'mincho' if st.mincho else 'gothic'} {st.size}pt {c['dpi']}dpi "
        f"skew={c['skew']} faint={c['faint']} fax={c['fax']} speckle={c['speckle']} "
        f"jpeg={c['jpeg']} seal={c['seal']['over'] if c['seal'] else None} "
        f"sex_options={st.sex_options} abuse_boxes={st.abuse_boxes and st.abuse_mark} "
        f"hand={st.hand} seireki={st.seireki}"
        + (f" missing_marks={c['missing_marks']}" if c.get("missing_marks") else "")
        + (f" pages={c['pages']}" if c.get("pages", 1) > 1 else "")
    )


def register(truths, notices, seed):
    """The municipality's resident register, as `checkup-edge ocr notice --residents` reads
    it (same columns as notice-corpus writes): each notice's child and guardian at the
    child's address, sometimes a sibling in the household, two other children born the same
    day elsewhere, and 400 other residents from the same names and places."""
    rng = random.Random(seed ^ 0x0FF1CE)
    rows = []
    next_id = [2_600_000_000 + seed * 10_000]

    def row(name, kana, birth, sex, address):
        next_id[0] += 1
        rows.append(f"{next_id[0]:010d},{name},{kana},{birth},{sex},{address}")

    def address():
        pref, city, town, _ = rng.choice(vocab.PLACES)
        return f"{pref}{city}{town}{rng.randint(1, 6)}丁目{rng.randint(1, 30)}番{rng.randint(1, 25)}号"

    for t, n in zip(truths, notices):
        row(t["child_name"], n["kana_k"], t["child_birth_date"], t["child_sex"], t["child_address"])
        gb = dt.date(1970, 1, 1) + dt.timedelta(days=rng.randrange(25 * 365))
        row(t["guardian_name"], n["g_kana_k"], gb.isoformat(), "female" if n["g_female"] else "male",
            t["child_address"])
        if rng.random() < 0.5:
            boy = rng.random() < 0.5
            given, gk = rng.choice(vocab.BOYS if boy else vocab.GIRLS)
            sb = n["birth"] + dt.timedelta(days=rng.choice([-1, 1]) * rng.randint(400, 2000))
            if sb < n["day"] and given != n["given"]:
                row(n["surname"] + given, n["kana_k"].split()[0] + " " + gk, sb.isoformat(),
                    "male" if boy else "female", t["child_address"])
        for _ in range(2):
            boy = rng.random() < 0.5
            s, sk = rng.choice(vocab.SURNAMES)
            g, gk = rng.choice(vocab.BOYS if boy else vocab.GIRLS)
            row(s + g, f"{sk} {gk}", t["child_birth_date"], "male" if boy else "female", address())
    for _ in range(400):
        female = rng.random() < 0.5
        s, sk = rng.choice(vocab.SURNAMES)
        g, gk = rng.choice(vocab.WOMEN if female else vocab.MEN)
        b = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(70 * 365))
        row(s + g, f"{sk} {gk}", b.isoformat(), "female" if female else "male", address())
    rng.shuffle(rows)
    return "resident_id,name,name_kana,birth_date,sex,address\n" + "".join(r + "\n" for r in rows)


def print_html(docs, outdir):
    """Print each HTML page to PDF with headless Chromium (one run a page, a private profile,
    no header or footer); the PDF is written beside the page."""
    profile = Path(tempfile.mkdtemp(prefix="office-notices-chromium-"))
    try:
        for doc in docs:
            pdf = outdir / (Path(doc).stem + ".pdf")
            subprocess.run(
                ["chromium", "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={profile}",
                 "--no-pdf-header-footer", f"--print-to-pdf={pdf}", Path(doc).resolve().as_uri()],
                check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=180,
            )
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("n", type=int, help="notices per family")
    ap.add_argument("seed", type=int)
    ap.add_argument("--families", default=",".join(DEFAULT_FAMILIES),
                    help="comma-separated, of: " + ", ".join(FAMILIES)
                    + " (default: all but the held-out pdf_* families)")
    args = ap.parse_args()
    families = [f for f in args.families.split(",") if f]
    for f in families:
        if f not in BUILDERS:
            sys.exit(f"make_corpus: unknown family {f!r} (known: {', '.join(FAMILIES)})")
    tools = ["pdftoppm", "pdftotext", "pdfinfo"]
    if any(f in forms.BUILDERS for f in families):
        tools.append("soffice")
    if any(f in html_forms.BUILDERS for f in families):
        tools.append("chromium")
    for tool in tools:
        if shutil.which(tool) is None:
            sys.exit(f"make_corpus: {tool} not found (run tools/office-notices/setup.sh)")
    if any(f in pdf_forms.BUILDERS for f in families) and pdf_forms.missing_fonts():
        sys.exit(f"make_corpus: {', '.join(pdf_forms.missing_fonts())} missing (run tools/office-notices/setup.sh)")
    started = time.monotonic()
    out = args.out
    src = out / "src"
    src.mkdir(parents=True, exist_ok=True)

    jobs = []
    for fi, family in enumerate(families):
        for i in range(args.n):
            rng = random.Random(f"{args.seed}/{family}/{i}")
            st = Style(rng)
            n = notice(rng)
            c = conditions(rng)
            html = family in html_forms.BUILDERS
            if html:
                html_forms.adjust_conditions(family, c, rng)
            kind = "html" if html else "pdf" if family in pdf_forms.BUILDERS else "office"
            stem = f"{kind}-{args.seed}-{family}-{i:03d}"
            marks = []
            doc = BUILDERS[family](src / stem, n, st, labels(rng), rng, marks)
            c["seal"] = {
                "text": f"{n['station']}警察署長之印" if rng.random() < 0.7 else n["officer"][:2],
                "round": False,
                "over": rng.choice(["title", "end"]),
            } if rng.random() < 0.8 else None
            if c["seal"] and len(c["seal"]["text"]) <= 2:
                c["seal"]["round"] = True
            jobs.append((family, stem, doc, n, st, c, marks, rng))

    # One LibreOffice process converts every office document, one after the other.
    office = [str(j[2]) for j in jobs if j[0] in forms.BUILDERS]
    if office:
        profile = Path(tempfile.mkdtemp(prefix="office-notices-lo-"))
        try:
            subprocess.run(
                ["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
                 "--convert-to", "pdf", "--outdir", str(src)] + office,
                check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=60 * 30,
            )
        finally:
            shutil.rmtree(profile, ignore_errors=True)
    print_html([str(j[2]) for j in jobs if j[0] in html_forms.BUILDERS], src)

    truths, notices = [], []
    for family, stem, doc, n, st, c, marks, rng in jobs:
        pdf = src / (stem + ".pdf")
        if not pdf.exists():
            sys.exit(f"make_corpus: no PDF was made of {doc}")
        info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True).stdout
        c["pages"] = int(next(l.split()[-1] for l in info.splitlines() if l.startswith("Pages:")))
        raster = src / (stem + f"-{c['dpi']}")
        subprocess.run(["pdftoppm", "-q", "-r", str(c["dpi"]), "-gray", "-f", "1", "-l", "1", "-singlefile",
                        "-png", str(pdf), str(raster)], check=True)
        from PIL import Image
        page = Image.open(str(raster) + ".png")
        img = degrade.damage(page, pdf, c["dpi"], marks, c, rng, em_boxes=family in html_forms.BUILDERS)
        os.remove(str(raster) + ".png")
        ext = "jpg" if c["jpeg"] else "png"
        file = f"{stem}.{ext}"
        if c["jpeg"]:
            img.save(out / file, quality=c["jpeg"])
        else:
            img.save(out / file)
        truths.append(truth_of(n, file, family, describe(family, st, c)))
        notices.append(n)
    with open(out / "truth.jsonl", "w", encoding="utf-8") as f:
        for t in truths:
            f.write(json.dumps(t, ensure_ascii=False) + "\n")
    (out / "register.csv").write_text(register(truths, notices, args.seed), encoding="utf-8")
    took = time.monotonic() - started
    print(f"make_corpus: {len(truths)} pages in {out} ({', '.join(families)}) in {took:.0f} s, "
          f"{took / max(len(truths), 1):.1f} s a page")


if __name__ == "__main__":
    main()
