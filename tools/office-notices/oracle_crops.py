"""The recogniser's ceiling on a corpus: each field's value read by raw Tesseract from a crop
placed exactly where the value was printed (its box from the PDF, `pdftotext -bbox`, carried
through the page's skew), so that layout finding plays no part.

    oracle_crops.py CORPUS [--lang jpn] [--tessdata DIR] [--psm 7]

CORPUS is a directory made by `make_corpus.py` (it keeps `src/*.pdf`). For the child's and the
guardian's name and the child's address it prints, per field and per family, how often the
crop's reading is exactly the printed value (spaces and NFKC width folded, as `notice-score`
compares). A field whose value cannot be found on one line of the PDF's text is counted as
"not located" and left out. This is a measurement of Tesseract on these scans, not of the
reader: the reader cannot beat it on a field it reads from that crop.
"""

import argparse
import json
import math
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections import defaultdict
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).parent))
import degrade  # noqa: E402

FIELDS = ["child_name", "guardian_name", "child_address"]


def nf(s):
    return "".join(unicodedata.normalize("NFKC", s).split())


def lines_of(ws):
    """Words grouped into text lines (vertical centres within half a line), left to right."""
    lines = []
    for w in sorted(ws, key=lambda w: (w[1] + w[3]) / 2):
        cy = (w[1] + w[3]) / 2
        for line in lines:
            l0, l1 = line["y"]
            if l0 <= cy <= l1:
                line["words"].append(w)
                break
        else:
            lines.append({"y": (w[1], w[3]), "words": [w]})
    return [sorted(line["words"], key=lambda w: w[0]) for line in lines]


def locate(ws, target):
    """Box (PDF points) of `target` printed on one line, characters' widths shared equally
    within a word; None when it is not printed on one line."""
    t = nf(target)
    for line in lines_of(ws):
        chars = []
        for x0, y0, x1, y1, text in line:
            w = (x1 - x0) / max(len(text), 1)
            for i, ch in enumerate(text):
                for c in nf(ch):
                    chars.append((c, x0 + w * i, y0, x0 + w * (i + 1), y1))
        joined = "".join(c[0] for c in chars)
        i = joined.find(t)
        if i >= 0:
            part = chars[i:i + len(t)]
            return (min(c[1] for c in part), min(c[2] for c in part),
                    max(c[3] for c in part), max(c[4] for c in part))
    return None


def distance(a, b):
    """Levenshtein distance."""
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def snap(got, vocabulary, share):
    """The vocabulary's nearest entry when it is within `share` of its length in edits, and
    the only one that near; else `got`."""
    if not got or not vocabulary:
        return got
    scored = sorted((distance(got, v), v) for v in vocabulary)
    d, best = scored[0]
    if d <= share * len(best) and (len(scored) == 1 or scored[1][0] > d):
        return best
    return got


def crop(page, box, k, skew):
    """The page's pixels of `box` (PDF points) after the page was turned `skew` degrees
    anticlockwise about its centre, turned back level, with a margin."""
    w, h = page.size
    cx, cy = w / 2, h / 2
    th = math.radians(skew)
    x0, y0, x1, y1 = (v * k for v in box)
    pts = []
    for x, y in [(x0, y0), (x1, y0), (x0, y1), (x1, y1)]:
        dx, dy = x - cx, y - cy
        pts.append((cx + dx * math.cos(th) + dy * math.sin(th),
                    cy - dx * math.sin(th) + dy * math.cos(th)))
    m = (y1 - y0) * 0.35
    left = max(0, min(p[0] for p in pts) - m)
    top = max(0, min(p[1] for p in pts) - m)
    right = min(w, max(p[0] for p in pts) + m)
    bottom = min(h, max(p[1] for p in pts) + m)
    c = page.crop((int(left), int(top), int(math.ceil(right)), int(math.ceil(bottom))))
    return c.rotate(-skew, resample=Image.BICUBIC, expand=True, fillcolor=255)


SPENT = [0.0, 0]


def tesseract(img, lang, psm, tessdata):
    """Raw `tesseract` on one crop, one thread; its time goes to SPENT."""
    started = time.monotonic()
    with tempfile.NamedTemporaryFile(suffix=".png") as f:
        img.save(f.name)
        cmd = ["tesseract", f.name, "-", "-l", lang, "--psm", str(psm)]
        if tessdata:
            cmd += ["--tessdata-dir", tessdata]
        out = subprocess.run(cmd, capture_output=True, text=True,
                             env={"OMP_THREAD_LIMIT": "1", "PATH": "/usr/bin:/bin"})
    SPENT[0] += time.monotonic() - started
    SPENT[1] += 1
    return out.stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("corpus", type=Path)
    ap.add_argument("--lang", default="jpn")
    ap.add_argument("--psm", type=int, default=7)
    ap.add_argument("--tessdata", default=None)
    ap.add_argument("--drop-bars", action="store_true",
                    help="drop the bars (| ｜ [ ]) a ruled line's fragment reads as, before comparing")
    ap.add_argument("--register", action="store_true",
                    help="snap names to the register's nearest name (a third of the letters) and "
                    "addresses to its nearest address (a quarter), as a reader with the register could")
    ap.add_argument("--scale", type=float, default=1.0,
                    help="enlarge each crop this many times (bicubic) before reading it")
    ap.add_argument("--misses", type=int, default=0, help="print this many wrong readings")
    args = ap.parse_args()
    truths = [json.loads(l) for l in (args.corpus / "truth.jsonl").read_text().splitlines() if l]
    names, addresses = set(), set()
    if args.register:
        import csv
        with open(args.corpus / "register.csv", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                names.add(nf(row["name"]))
                addresses.add(nf(row["address"]))
    right = defaultdict(int)
    seen = defaultdict(int)
    lost = defaultdict(int)
    misses = []
    for t in truths:
        stem = t["file"].rsplit(".", 1)[0]
        pdf = args.corpus / "src" / (stem + ".pdf")
        if not pdf.exists():
            sys.exit(f"oracle_crops: {pdf} missing (the corpus must keep src/)")
        fam = t["family"]
        em = fam.startswith("html_")
        ws = degrade.words(pdf, em)
        page = Image.open(args.corpus / t["file"]).convert("L")
        dpi = int(next(p for p in t["conditions"].split() if p.endswith("dpi"))[:-3])
        skew = float(next(p for p in t["conditions"].split() if p.startswith("skew="))[5:])
        for f in FIELDS:
            box = locate(ws, t[f])
            if box is None:
                lost[f] += 1
                continue
            img = crop(page, box, dpi / 72.0, skew)
            if args.scale != 1.0:
                img = img.resize((int(img.width * args.scale), int(img.height * args.scale)),
                                 Image.BICUBIC)
            got = nf(tesseract(img, args.lang, args.psm, args.tessdata))
            if args.drop_bars:
                got = "".join(ch for ch in got if ch not in "|[]")
            if args.register:
                got = snap(got, addresses, 0.25) if f == "child_address" else snap(got, names, 1 / 3)
            for key in [(f, "all"), (f, fam), ("all", "all")]:
                seen[key] += 1
                right[key] += got == nf(t[f])
            if got != nf(t[f]):
                misses.append(f"{t['file']} {f}: {got!r} for {nf(t[f])!r}")
    print(f"oracle crops, tesseract -l {args.lang} --psm {args.psm}"
          + (f" --tessdata-dir {args.tessdata}" if args.tessdata else "")
          + (f", crops enlarged {args.scale}x" if args.scale != 1.0 else "")
          + (", bars dropped" if args.drop_bars else "")
          + (", snapped to the register" if args.register else "")
          + f", {len(truths)} pages of {args.corpus}")
    for key in sorted(seen):
        print(f"  {key[0]:<14} {key[1]:<16} {right[key]:>4}/{seen[key]:<4} "
              f"{100.0 * right[key] / seen[key]:5.1f} %")
    print(f"  {SPENT[1]} crops, {1000 * SPENT[0] / max(SPENT[1], 1):.0f} ms a crop (process start included)")
    for f in FIELDS:
        if lost[f]:
            print(f"  {f}: {lost[f]} not located on one line (left out)")
    for m in misses[:args.misses]:
        print("  miss", m)


if __name__ == "__main__":
    main()
