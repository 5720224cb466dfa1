"""Form families of the notice corpus drawn directly as PDF (the fourth corpus method): each
builder draws one police notice (児童通告書) with ReportLab's canvas, the way a prefectural
police records system or an in-house tool writes its notice PDF — ruled lines, boxes and
strings placed by coordinates, TrueType fonts embedded (IPAex/IPA Mincho and Gothic, which
ReportLab can embed; it cannot embed the CFF-based Noto CJK the other methods use). No
converter runs: the builder writes the PDF that make_corpus.py rasterises.

Families (each with randomised label wording, row order, column widths, Mincho/Gothic at
9–12 pt, labels sometimes in the other face, 和暦 or 西暦, full- or half-width digits):
- pdf_npa:       the National Police Agency's form: document number, date, 「○○児童相談所長
  殿」, the sender 「○○県警察 ○○警察署長 (rank) 氏名」 (印), title, the 児童福祉法第25条
  sentence, then one ruled table with a vertical-text section column (児童 / 保護者 / 通告の
  理由) and rows ふりがな, 氏名, 生年月日, 性別, 住居, 学校等, 続柄, 職業, 電話, 虐待の種別,
  事案の概要 (wrapped, tall), then 参考事項 and 添付書類 across both columns.
- pdf_boxes:     a form with printed boxes: label above value inside a grid of cells,
  segmented dates (era | year | month | day cells, 令和・平成 printed with one circled by
  hand), names and kana sometimes one character to a box, a 〒 box row, checkbox rows for
  sex and the kind of abuse (filled, printed check, hand tick or hand circle), a ruled
  summary box.
- pdf_landscape: A4 landscape: title and date across the top, two panels side by side (児童
  left, 保護者 right, each with its own 氏名 / 生年月日 / 住居 rows), the kind of abuse and
  事案の概要 spanning the bottom; rows ruled or written 「氏　名：…」.

The values come from forms.values (the same clerk's choices and handwritten values as the
other families); marks a hand or a stamp adds are appended to `marks` and drawn by
degrade.py from the PDF's text positions.
"""

import datetime as dt
import os
from pathlib import Path

from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

import forms
import html_forms
import vocab

ROOT = Path(__file__).resolve().parents[2]
# setup.sh unpacks the Debian IPA font packages here (not installed system-wide, so
# fontconfig — and the office and HTML families' pages — stay as they were).
FONT_DIR = Path(os.environ.get("OFFICE_NOTICES_FONTS", ROOT / "target" / "office-notices-fonts"))
FACES = {
    "mincho": [("IPAexMincho", "ipaexm.ttf"), ("IPAMincho", "ipam.ttf")],
    "gothic": [("IPAexGothic", "ipaexg.ttf"), ("IPAGothic", "ipag.ttf"), ("IPAPGothic", "ipagp.ttf")],
}
FILES = {name: file for faces in FACES.values() for name, file in faces}
ABUSE_NAMES = [vocab.ABUSE_JA[k] for k in vocab.ABUSE_ORDER]
NPA_INTROS = html_forms.INTROS + ["児童福祉法第25条の規定により、下記のとおり通告する。"]


def missing_fonts():
    """Font files the PDF families need that are not there (setup.sh fetches them)."""
    return [str(FONT_DIR / f) for f in FILES.values() if not (FONT_DIR / f).exists()]


_registered = set()


def face(name):
    if name not in _registered:
        pdfmetrics.registerFont(TTFont(name, str(FONT_DIR / FILES[name])))
        _registered.add(name)
    return name


# ---- dates ---------------------------------------------------------------------------------

def wareki(d):
    """(era, year) for any date from 昭和 on; year 1 is 元."""
    for start, name, base in ((dt.date(2019, 5, 1), "令和", 2018), (dt.date(1989, 1, 8), "平成", 1988),
                              (dt.date(1926, 12, 25), "昭和", 1925)):
        if d >= start:
            y = d.year - base
            return name, ("元" if y == 1 else str(y))
    raise ValueError(d)


def any_date(d, st):
    """A date as the clerk's style prints it (st.date, but 昭和 too, for guardians)."""
    if st.seireki or d >= dt.date(1989, 1, 8):
        return st.date(d)
    name, y = wareki(d)
    m, dd = str(d.month), str(d.day)
    if st.padded:
        y, m, dd = (s.rjust(2) for s in (y, m, dd))
    return st.digits(f"{name}{y}年{m}月{dd}日")


def age_on(birth, day):
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def guardian_birth(n, rng):
    """A guardian's birth date and age on the notice day (a second date of birth on the page)."""
    b = n["birth"] - dt.timedelta(days=rng.randint(19 * 365, 38 * 365))
    return b, age_on(b, n["day"])


def weekday(d):
    return "月火水木金土日"[d.weekday()]


# ---- the page ------------------------------------------------------------------------------

class Page:
    """A ReportLab canvas addressed in millimetres from the top left; text by its baseline."""

    def __init__(self, path, st, rng, land=False):
        self.size = landscape(A4) if land else A4
        self.c = canvas.Canvas(str(path), pagesize=self.size, invariant=1, pageCompression=1)
        self.c.setTitle("児童通告書")
        self.W, self.H = self.size[0] / mm, self.size[1] / mm
        kind, other = ("mincho", "gothic") if st.mincho else ("gothic", "mincho")
        self.body = face(rng.choice(FACES[kind])[0])
        self.label = self.body if rng.random() < 0.55 else face(rng.choice(FACES[other])[0])
        self.heading = face(rng.choice(FACES[rng.choice([kind, "gothic"])])[0])
        self.pt = st.size
        self.rng = rng

    def Y(self, y):
        return (self.H - y) * mm

    def em(self, size=None):
        return (size or self.pt) * 25.4 / 72

    def width(self, s, size=None, font=None):
        return pdfmetrics.stringWidth(s, font or self.body, size or self.pt) / mm

    def text(self, x, y, s, size=None, font=None, align="l", bold=False):
        """Draw `s` with its baseline at y; returns the right end."""
        size, font = size or self.pt, font or self.body
        w = self.width(s, size, font)
        if align == "r":
            x -= w
        elif align == "c":
            x -= w / 2
        self.last_left = x
        t = self.c.beginText()
        t.setFont(font, size)
        if bold:
            # The IPA fonts have no bold face: systems fake it with a stroked outline.
            t.setTextRenderMode(2)
            self.c.setLineWidth(size * 0.035)
        t.setTextOrigin(x * mm, self.Y(y))
        t.textOut(s)
        if bold:
            t.setTextRenderMode(0)  # the mode is graphics state: it outlives the text object
        self.c.drawText(t)
        return x + w

    def put(self, x, ymid, value, size=None, font=None, maxw=None, maxh=None, align="l"):
        """A value (text or handwritten picture) centred vertically on ymid; text wider than
        maxw is set smaller, as a system shrinks a long value to its box. Returns the right end."""
        size = size or self.pt
        if isinstance(value, forms.Pic):
            w, h = value.w_pt * 25.4 / 72, value.h_pt * 25.4 / 72
            k = min(1.0, (maxh or h) / h, (maxw or w) / w)
            w, h = w * k, h * k
            if align == "r":
                x -= w
            elif align == "c":
                x -= w / 2
            self.last_left = x
            # White is transparent: the picture of a pen's strokes leaves the rules showing.
            self.c.drawImage(value.path, x * mm, self.Y(ymid + h / 2), w * mm, h * mm,
                             mask=[235, 255, 235, 255, 235, 255])
            return x + w
        if maxw:
            while size > self.pt * 0.7 and self.width(value, size, font) > maxw:
                size -= 0.5
        return self.text(x, ymid + 0.36 * self.em(size), value, size, font, align)

    def spread(self, x0, x1, ymid, s, size=None, font=None):
        """均等割付: the characters spread evenly from x0 to x1."""
        size, font = size or self.pt, font or self.label
        chars = [ch for ch in s if not ch.isspace()]
        if len(chars) < 2:
            return self.put((x0 + x1) / 2, ymid, s, size, font, align="c")
        ws = [self.width(ch, size, font) for ch in chars]
        gap = (x1 - x0 - sum(ws)) / (len(chars) - 1)
        if gap < 0:
            return self.put(x0, ymid, s, size, font, maxw=x1 - x0)
        x = x0
        for ch, w in zip(chars, ws):
            self.put(x, ymid, ch, size, font)
            x += w + gap
        return x1

    def vertical(self, x0, x1, y0, y1, s, size=None, font=None, even=True):
        """Vertical writing in a cell: the characters one under another, centred in x."""
        size, font = size or self.pt, font or self.label
        em = self.em(size)
        chars = [ch for ch in s if not ch.isspace()]
        while len(chars) * em * 1.1 > y1 - y0 and size > 6:
            size -= 0.5  # a long section name in a short section
            em = self.em(size)
        step = em * 1.1
        if even and len(chars) > 1:
            step = max(step, min((y1 - y0 - 2 * em) / (len(chars) - 1), em * 3))
        top = (y0 + y1) / 2 - step * (len(chars) - 1) / 2
        for k, ch in enumerate(chars):
            self.put((x0 + x1) / 2, top + k * step, ch, size, font, align="c")

    def line(self, x0, y0, x1, y1, w=0.5, dash=None):
        self.c.setLineWidth(w)
        self.c.setDash(*dash) if dash else self.c.setDash()
        self.c.line(x0 * mm, self.Y(y0), x1 * mm, self.Y(y1))
        self.c.setDash()

    def rect(self, x0, y0, x1, y1, w=0.5, fill=None, stroke=True):
        self.c.setLineWidth(w)
        if fill is not None:
            self.c.setFillGray(fill)
        self.c.rect(x0 * mm, self.Y(y1), (x1 - x0) * mm, (y1 - y0) * mm, stroke=1 if stroke else 0,
                    fill=1 if fill is not None else 0)
        self.c.setFillGray(0)

    def circle(self, x, y, r, w=0.5):
        self.c.setLineWidth(w)
        self.c.circle(x * mm, self.Y(y), r * mm, stroke=1, fill=0)

    def wrap(self, s, width, size=None, font=None):
        """Lines of `s` no wider than `width` (Japanese breaks anywhere but inside a number;
        no line starts with 、 or 。)."""
        lines, cur = [], ""
        for k, ch in enumerate(s):
            inside_number = ch.isdigit() and k > 0 and s[k - 1].isdigit()
            if cur and self.width(cur + ch, size, font) > width and ch not in "、。）" and not inside_number:
                lines.append(cur)
                cur = ch
            else:
                cur += ch
        return lines + ([cur] if cur else [])

    def options(self, x, ymid, names, chosen, style, marks, size=None, font=None, joiner="・"):
        """Printed options with one marked: 'fill' (■ for the chosen, □ the rest), 'check'
        (□ each, a printed check in the chosen), 'tick' (□ each, ticked by hand), 'circle'
        (the names joined, the chosen circled by hand). Returns the right end."""
        size = size or self.pt
        em = self.em(size)
        if style == "circle":
            s = joiner.join(names)
            mark = {"kind": "circle", "target": chosen}
            if joiner.strip() == joiner:
                mark["within"] = s
            else:
                mark["exact"] = True  # spaces split the words: each option is one
            marks.append(mark)
            return self.put(x, ymid, s, size, font)
        for k, name in enumerate(names):
            box = "■" if style == "fill" and name == chosen else "□"
            x0 = x
            x = self.put(x, ymid, box + name, size, font)
            if style == "check" and name == chosen:
                self.c.setLineWidth(size * 0.09)
                pts = [(x0 + em * 0.12, ymid - em * 0.05), (x0 + em * 0.4, ymid + em * 0.3),
                       (x0 + em * 0.98, ymid - em * 0.55)]
                p = self.c.beginPath()
                p.moveTo(pts[0][0] * mm, self.Y(pts[0][1]))
                for px, py in pts[1:]:
                    p.lineTo(px * mm, self.Y(py))
                self.c.drawPath(p, stroke=1, fill=0)
            if k < len(names) - 1:
                x += em * self.rng.choice([0.8, 1.2, 1.6])
        if style == "tick":
            marks.append({"kind": "tick", "target": "□" + chosen})
        return x

    def save(self):
        self.c.showPage()
        self.c.save()


def pdf_values(stem, n, st, lab, rng, marks):
    """forms.values, with the sex and the kind of abuse left plain (each family prints its
    own options) and the kana as labelled."""
    v = forms.values(stem, n, st, lab, rng, marks)
    marks.clear()
    if v["sex"] in ("男・女", "男 ・ 女"):
        v["sex"] = "男" if n["boy"] else "女"
    v["abuse"] = vocab.ABUSE_JA[n["abuse"]]
    html_forms.kana_as_labelled(v, n, lab)
    return v


def option_style(rng, hand_ok=True):
    return rng.choice(["fill", "check", "tick", "circle"] if hand_ok else ["fill", "check"])


def sender_lines(n, st, rng):
    """The sender as police documents sign: the prefectural police, the chief, rank, name."""
    police = html_forms.police_of(n["pref"])
    chief = f"{n['station']}警察署長"
    who = (f"{st.rank}　" if st.rank else "") + n["officer"]
    form = rng.choice(["one", "two", "two", "plain"])
    if form == "one":
        return [f"{police}　{chief}　{who}"]
    if form == "two":
        return [police, f"{chief}　{who}"]
    return [f"{chief}　{who}"]


def doc_number(n, st, rng):
    k = st.digits(str(rng.randint(1, 2999)))
    return rng.choice([f"生安第{k}号", f"{n['station']}署生安第{k}号", f"第{k}号", f"{n['station'][:2]}生第{k}号"])


REMARKS = ["特になし", "なし", "児童は現在、当署において保護中", "身柄付通告", "書類通告",
           "児童相談所へ電話連絡済み", "一時保護の要否について協議済み", "医療機関を受診済み"]
ATTACHMENTS = ["なし", "写真撮影報告書　１通", "受傷状況写真　３葉", "児童からの聴取結果　１通",
               "現場見取図　１通"]


# ---- pdf_npa -------------------------------------------------------------------------------

def pdf_npa(stem, n, st, lab, rng, marks):
    v = pdf_values(stem, n, st, lab, rng, marks)
    lab = html_forms.more_labels(lab, rng)
    pg = Page(f"{stem}.pdf", st, rng)
    size = st.size
    em = pg.em()
    left, right = rng.uniform(17, 25), pg.W - rng.uniform(17, 25)
    y = rng.uniform(13, 20)
    lh = em * rng.choice([1.6, 1.8, 2.0])

    if rng.random() < 0.4:
        pg.text(left, y + em, rng.choice(["様式第１号", "別記様式第１号", "様式第１号（第３条関係）"]),
                size=max(size - 2, 8), font=pg.label)
    if rng.random() < 0.6:
        y += lh
        pg.text(right, y, doc_number(n, st, rng), align="r")
    y += lh
    pg.put(right, y - 0.36 * em, v["date"], align="r", maxh=lh * 1.2)
    y += lh * 1.3
    pg.put(left + rng.choice([0, 0, em]), y - 0.36 * em, v["addressee"])
    y += lh * 1.3
    sender_top = rng.random() < 0.75
    sender = sender_lines(n, st, rng)
    seal_print = rng.random() < 0.4

    def sign(y):
        for k, s in enumerate(sender):
            end = pg.text(right - (em * 2.2 if seal_print else 0), y, s, align="r")
            if seal_print and k == len(sender) - 1:
                pg.circle(end + em * 1.2, y - em * 0.36, em * 0.7, 0.6)
                pg.put(end + em * 1.2, y - em * 0.36, "印", size * 0.8, align="c")
            y += lh
        return y

    if sender_top:
        y = sign(y) + lh * 0.3
    title = rng.choice(["児童通告書", "児童通告書", "児　童　通　告　書", "通　告　書"])
    big = size + rng.choice([5, 7, 9])
    y += pg.em(big) * 0.8
    if "　" in title and rng.random() < 0.6:
        w = pg.em(big) * len(title.replace("　", "")) * 2
        pg.spread(pg.W / 2 - w / 2, pg.W / 2 + w / 2, y, title, big, pg.heading)
    else:
        pg.put(pg.W / 2, y, title, big, pg.heading, align="c")
    y += pg.em(big) * 1.2 + lh * 0.3
    for line in pg.wrap(rng.choice(NPA_INTROS), right - left - em):
        pg.text(left + em, y, line)
        y += lh
    if rng.random() < 0.5:
        pg.text(pg.W / 2, y, "記", align="c")
        y += lh
    y += lh * 0.2

    # The table: section column (vertical text) | label | value [| label | value].
    generic = rng.random() < 0.7
    g_birth, g_age = guardian_birth(n, rng)
    name_l = "氏名" if generic else lab["child_name"]
    kana_rows = rng.choice(["row", "row", "none"])
    sex_style = option_style(rng) if st.sex_options else None
    age_split = not st.age_in_brackets and rng.random() < 0.7
    child = []
    if kana_rows == "row":
        child.append(("kana", [(lab["kana"], v["kana"])]))
    child.append(("name", [(name_l, v["child_name"]), (lab["sex"], ("sex", v["sex"]))]
                  if rng.random() < 0.6 else [(name_l, v["child_name"])]))
    rest = [("", [(lab["birth"], v["birth"])] + ([(lab["age"], v["age"])] if age_split else [])),
            ("", [("住居" if generic else lab["address"], v["address"])]
             + ([("電話", html_forms.phone(rng))] if rng.random() < 0.35 else [])),
            ("", [(rng.choice([lab["school"], "学校等・職業", "就学状況"]), v["school"])])]
    if len(child[-1][1]) == 1:
        rest.append(("", [(lab["sex"], ("sex", v["sex"]))]))
    rng.shuffle(rest)
    child += rest
    g_kana = vocab.hira(n["g_kana_k"]).replace(" ", "　") if lab["kana"] == "ふりがな" else \
        n["g_kana_k"].replace(" ", "　")
    guardian = []
    if kana_rows == "row":
        guardian.append(("kana", [(lab["kana"], g_kana)]))
    guardian.append(("name", [("氏名" if generic else lab["guardian"], v["guardian"]),
                              (lab["relation"], v["relation"])]))
    grest = [("", [(lab["occupation"], v["occupation"])]
              + ([("電話", html_forms.phone(rng))] if rng.random() < 0.4 else [])),
             ("", [("住居", rng.choice(["同上", "同上", v["address"]]))])]
    if rng.random() < 0.5:
        grest.append(("", [("生年月日", any_date(g_birth, st) + st.digits(f"生（{g_age}歳）"))]))
    rng.shuffle(grest)
    guardian += grest
    abuse_style = option_style(rng) if st.abuse_boxes else None
    st.abuse_mark = abuse_style
    reason = [("", [(lab["abuse"], ("abuse", v["abuse"]))]),
              ("tall", [(lab["summary"], v["summary"])])]
    if rng.random() < 0.3:
        reason.reverse()
    sections = [(rng.choice(["児童", "児童", "通告児童", "対象児童"]), child),
                (rng.choice(["保護者", "保護者", "保護者等"]), guardian),
                (rng.choice(["通告の理由", "通告理由", "通告の内容"]), reason)]
    tail = []
    if rng.random() < 0.7:
        tail.append(("", [(rng.choice(["参考事項", "その他参考事項", "備考"]), rng.choice(REMARKS))]))
    if rng.random() < 0.6:
        tail.append(("", [("添付書類", rng.choice(ATTACHMENTS))]))
    if rng.random() < 0.4:
        tail.append(("", [(rng.choice(["取扱者", "担当者"]), v["reporter"])]))

    x0, x3 = left, right
    sw = em * rng.uniform(1.9, 2.6)
    longest = max(len(la.replace("　", "")) for _, rows in sections for _, r in rows for la, _ in r[:1])
    lw = em * min(longest, 7) + em * rng.uniform(0.8, 2.5)
    seconds = [r[1][0] for _, rows in sections for _, r in rows if len(r) > 1]
    l2w = max([em * rng.uniform(4.2, 6)] + [pg.width(la, font=pg.label) + em * 1.2 for la in seconds])
    v2w = em * rng.uniform(5, 9)
    x1, x2 = x0 + sw, x0 + sw + lw
    base_h = max(em * 1.9, rng.uniform(7, 10.5))
    # Rows no taller than the page allows (the summary counts as three, the sender below).
    units = sum(0.72 if kind == "kana" else 3 if kind == "tall" else 1
                for _, rows in sections for kind, _ in rows) + len(tail)
    room = pg.H - 14 - y - (0 if sender_top else lh * (len(sender) + 1.5))
    base_h = max(em * 1.7, min(base_h, room / units))
    inner, outer = rng.choice([0.4, 0.5, 0.6]), rng.choice([0.9, 1.2, 1.5])
    justify = rng.random() < 0.5
    shade = rng.choice([None, None, 0.9, 0.85])
    pad = em * 0.4

    def label(xa, xb, ya, yb, s, small=False):
        sz = size * (0.8 if small else 1)
        if shade is not None:
            pg.rect(xa, ya, xb, yb, 0, fill=shade, stroke=False)
        if justify and len(s.replace("　", "")) <= 5:
            pg.spread(xa + em * 0.6, xb - em * 0.6, (ya + yb) / 2, s, sz)
        else:
            pg.put(xa + pad, (ya + yb) / 2, s, sz, pg.label, maxw=xb - xa - 2 * pad)

    def value(xa, xb, ya, yb, val, small=False):
        if isinstance(val, tuple):
            kind, text = val
            if kind == "sex" and sex_style:
                chosen = "男" if n["boy"] else "女"
                return pg.options(xa + pad, (ya + yb) / 2, ["男", "女"], chosen, sex_style, marks,
                                  joiner=rng.choice(["・", "・", "　・　"]))
            if kind == "abuse" and abuse_style:
                return pg.options(xa + pad, (ya + yb) / 2, ABUSE_NAMES, text, abuse_style, marks,
                                  size=size * (0.9 if xb - xa < em * 26 else 1))
            val = text
        pg.put(xa + pad, (ya + yb) / 2, val, size * (0.8 if small else 1), maxw=xb - xa - 2 * pad,
               maxh=yb - ya - 0.6)

    def row(kind, cells, ya, xl):
        """One row from xl (after the section column); returns its bottom."""
        h = base_h * (0.72 if kind == "kana" else 1)
        if kind == "tall":
            (la, val), = cells
            lines = pg.wrap(val, x3 - x2 - 2 * pad)
            lines += [""] * max(0, rng.choice([2, 3, 4]) - len(lines))
            h = max(base_h * 2, len(lines) * em * 1.7 + em)
            label(xl, x2, ya, ya + h, la)
            for k, line in enumerate(lines):
                pg.text(x2 + pad, ya + em * 1.35 + k * em * 1.7, line)
        else:
            (la, val), *more = cells
            label(xl, x2, ya, ya + h, la, kind == "kana")
            if more:
                (lb, vb), = more
                xb = x3 - v2w - l2w
                value(x2, xb, ya, ya + h, val)
                label(xb, x3 - v2w, ya, ya + h, lb)
                value(x3 - v2w, x3, ya, ya + h, vb)
                pg.line(xb, ya, xb, ya + h, inner)
                pg.line(x3 - v2w, ya, x3 - v2w, ya + h, inner)
            else:
                value(x2, x3, ya, ya + h, val, kind == "kana")
        pg.line(x2, ya, x2, ya + h, inner)
        return ya + h

    top = y
    for title_s, rows in sections:
        first = y
        for k, (kind, cells) in enumerate(rows):
            yb = row(kind, cells, y, x1)
            if k < len(rows) - 1:
                nxt = rows[k + 1][0]
                # ふりがな and 氏名 are one entry: a dotted line between them.
                dash = (1, 2) if kind == "kana" and nxt == "name" else None
                pg.line(x1, yb, x3, yb, inner, dash)
            y = yb
        pg.vertical(x0, x1, first, y, title_s, size, pg.label)
        pg.line(x1, first, x1, y, inner)
        pg.line(x0, y, x3, y, inner)
    for kind, cells in tail:
        y = row(kind, cells, y, x0)
        pg.line(x0, y, x3, y, inner)
    pg.rect(x0, top, x3, y, outer)
    y += lh * 1.2
    if not sender_top:
        sign(y)
    if rng.random() < 0.3:
        pg.text(left, pg.H - rng.uniform(10, 16), rng.choice(["（用紙　日本産業規格Ａ４）", "※ 取扱注意"]),
                size=max(size - 2, 8))
    pg.save()
    return f"{stem}.pdf"


# ---- pdf_boxes -----------------------------------------------------------------------------

def era_parts(d, st):
    """(era or None, year, month, day) as a segmented date prints them."""
    if st.seireki:
        return None, str(d.year), str(d.month), str(d.day)
    name, y = wareki(d)
    return name, y, str(d.month), str(d.day)


def pdf_boxes(stem, n, st, lab, rng, marks):
    st.sex_options = True
    st.abuse_boxes = True
    v = pdf_values(stem, n, st, lab, rng, marks)
    lab = html_forms.more_labels(lab, rng)
    pg = Page(f"{stem}.pdf", st, rng)
    size = st.size
    em = pg.em()
    small = max(size - rng.choice([2.5, 3, 3.5]), 7)
    sem = pg.em(small)
    left, right = rng.uniform(14, 22), pg.W - rng.uniform(14, 22)
    y = rng.uniform(12, 18)
    inner, outer = rng.choice([0.35, 0.5]), rng.choice([0.8, 1.1])
    shade = rng.choice([0.88, 0.92, None])
    era_style = rng.choice(["circle", "circle", "printed"])
    digits = st.digits if rng.random() < 0.5 else (lambda s: s)

    pg.text(left, y + sem, rng.choice(["様式第３号", "様式第２号（第４条関係）", "（様式１）", "別紙様式"]),
            small, pg.label)
    y += sem * 2.5
    title = rng.choice(["児童通告書", "児童通告票", "児童虐待通告書"])
    big = size + rng.choice([6, 8])
    bw = pg.width(title, big, pg.heading)
    framed = rng.random() < 0.5
    tx = pg.W / 2 - bw / 2 if rng.random() < 0.7 else left
    pg.text(tx, y + pg.em(big) * 0.85, title, big, pg.heading, bold=rng.random() < 0.5)
    if framed:
        pg.rect(tx - em, y - pg.em(big) * 0.4, tx + bw + em, y + pg.em(big) * 1.3, 0.6)
        pg.rect(tx - em - 0.8, y - pg.em(big) * 0.4 - 0.8, tx + bw + em + 0.8, y + pg.em(big) * 1.3 + 0.8, 0.4)
    else:
        pg.line(tx, y + pg.em(big) * 1.15, tx + bw, y + pg.em(big) * 1.15, 0.6)
        pg.line(tx, y + pg.em(big) * 1.15 + 0.8, tx + bw, y + pg.em(big) * 1.15 + 0.8, 0.6)
    y += pg.em(big) * 2.2
    pg.put(left, y, v["addressee"])
    y += em * 2
    for line in pg.wrap(rng.choice(html_forms.INTROS), right - left - em):
        pg.text(left + em, y, line)
        y += em * 1.7
    y += em * 0.5

    def cell(xa, xb, ya, yb, lab_text):
        if shade is not None:
            pg.rect(xa, ya, xb, ya + sem * 1.5, 0, fill=shade, stroke=False)
        pg.text(xa + sem * 0.4, ya + sem * 1.1, lab_text, small, pg.label)
        pg.rect(xa, ya, xb, yb, inner)
        return ya + sem * 1.5, yb  # the value's band

    def char_boxes(xa, ymid, s, side, gap_box=True):
        """One character to a printed box; a space is an empty box."""
        x = xa
        for ch in s:
            pg.rect(x, ymid - side / 2, x + side, ymid + side / 2, inner)
            if not ch.isspace():
                pg.put(x + side / 2, ymid, ch, align="c")
            x += side
        return x

    def seg_date(xa, ymid, d, era_options, suffix=""):
        """[era][ y ]年[ m ]月[ d ]日 in cells; returns the right end."""
        era, yy, mm_, dd = era_parts(d, st)
        x = xa
        hh = em * 1.6
        if era is not None:
            if era_style == "circle":
                s = "・".join(era_options)
                x = pg.put(x, ymid, s, font=pg.label) + em * 0.5
                marks.append({"kind": "circle", "target": era, "within": s})
            else:
                x = pg.put(x, ymid, era) + em * 0.3
        for part, unit in ((yy, "年"), (mm_, "月"), (dd, "日")):
            part = digits(part)
            cw = max(em * 1.9, pg.width(part) + em * 0.7)
            pg.rect(x, ymid - hh / 2, x + cw, ymid + hh / 2, inner)
            pg.put(x + cw / 2, ymid, part, align="c")
            x += cw + em * 0.2
            x = pg.put(x, ymid, unit, font=pg.label) + em * 0.3
        if suffix:
            x = pg.put(x, ymid, suffix)
        return x

    # Header grid: the notice date and the sender (with seal) inside the form.
    row_h = em * rng.uniform(2.4, 2.9) + sem * 1.5
    split = left + (right - left) * rng.uniform(0.42, 0.5)
    ya = y
    band = cell(left, split, ya, ya + row_h, lab["date"])
    ymid = (band[0] + band[1]) / 2
    if isinstance(v["date"], forms.Pic):
        pg.put(left + em, ymid, v["date"], maxh=band[1] - band[0])
    else:
        seg_date(left + em * 0.6, ymid, n["day"], ["令和", "平成"] if rng.random() < 0.6 else ["平成", "令和"])
    band = cell(split, right, ya, ya + row_h, rng.choice(["通告者", "通告機関", "通告者（所属長）"]))
    sl = sender_lines(n, st, rng)
    if len(sl) == 2 and row_h < em * 3.6 + sem * 1.5:
        sl = ["　".join(sl)]
    for k, s in enumerate(sl):
        yk = band[0] + (band[1] - band[0]) * (k + 1) / (len(sl) + 1)
        pg.put(split + em * 0.6, yk, s, maxw=right - split - em * 1.2)
    y = ya + row_h
    pg.rect(left, ya, right, y, outer)
    y += em * rng.uniform(0.8, 2)
    ya = y

    # Fit the grid to the page: the summary's lines first, then the rows, get shorter.
    lines = pg.wrap(v["summary"], right - left - em * 1.6)
    nl = max(len(lines), rng.choice([3, 4, 5]))
    step = em * rng.uniform(1.8, 2.2)
    custody_row = rng.random() < 0.6
    contact = rng.random() < 0.5
    n_rows = 7 + custody_row
    fixed = 3 * em * 1.5 + 2 * (em * 1.6 + sem * 1.5) + em * 1.6 + sem * 1.5 + em * 0.6 \
        + (em * 2.4 if contact else 0)
    room = pg.H - 12 - y
    if fixed + nl * step + n_rows * row_h > room:
        nl, step = max(len(lines), 2), em * 1.7
        row_h = max(em * 1.9 + sem * 1.5, min(row_h, (room - fixed - nl * step) / n_rows))

    def section(title):
        nonlocal y
        h = em * 1.5
        pg.rect(left, y, right, y + h, inner, fill=rng.choice([0.8, 0.85]) if shade else None)
        pg.text(left + em * 0.5, y + h / 2 + 0.36 * em, title, font=pg.heading)
        y += h

    def grid_row(cells, h=None):
        """cells: [(fraction of the width, label, drawer(xa, xb, ya, yb))]."""
        nonlocal y
        h = h or row_h
        xa = left
        total = sum(f for f, _, _ in cells)
        for f, la, draw in cells:
            xb = xa + (right - left) * f / total
            band = cell(xa, xb, y, y + h, la)
            draw(xa + em * 0.6, xb - em * 0.6, band[0], band[1])
            xa = xb
        y += h

    def text_of(val):
        return lambda xa, xb, ya, yb: pg.put(xa, (ya + yb) / 2, val, maxw=xb - xa, maxh=yb - ya)

    def name_cell(val, n_s, n_g, boxed):
        def draw(xa, xb, ya, yb):
            if boxed and not isinstance(val, forms.Pic):
                side = min(em * 1.6, yb - ya - 1)
                char_boxes(xa, (ya + yb) / 2, f"{n_s} {n_g}", side)
            else:
                pg.put(xa, (ya + yb) / 2, val, maxw=xb - xa, maxh=yb - ya)
        return draw

    sec_names = rng.choice([("１　児童", "２　保護者", "３　通告の内容"), ("児童の状況", "保護者の状況", "虐待の状況"),
                            ("【児童】", "【保護者】", "【通告理由】")])
    boxed_names = rng.random() < 0.5
    sex_style = rng.choice(["fill", "check", "tick", "circle"])
    abuse_style = rng.choice(["fill", "check", "tick", "tick", "circle"])
    st.abuse_mark = abuse_style
    section(sec_names[0])
    name_w = 2.6 * rng.uniform(0.9, 1.3)
    grid_row([(1, lab["kana"], text_of(v["kana"]))], h=em * 1.6 + sem * 1.5)
    sex_draw = lambda xa, xb, ya, yb: pg.options(  # noqa: E731
        xa, (ya + yb) / 2, ["男", "女"], "男" if n["boy"] else "女", sex_style, marks,
        joiner=rng.choice(["・", "　・　", "　　"]))
    grid_row([(name_w, lab["child_name"], name_cell(v["child_name"], n["surname"], n["given"], boxed_names)),
              (1, lab["sex"], sex_draw)])
    era_b = ["平成", "令和"] if rng.random() < 0.6 else ["令和", "平成"]
    birth_draw = lambda xa, xb, ya, yb: seg_date(xa, (ya + yb) / 2, n["birth"], era_b,  # noqa: E731
                                                  rng.choice(["生", ""]))
    age_draw = lambda xa, xb, ya, yb: pg.put(  # noqa: E731
        xa, (ya + yb) / 2, v["age"] if rng.random() < 0.5 else f"満{v['age']}")
    child_rows = [
        [(2.6, lab["birth"], birth_draw), (1, lab["age"], age_draw)],
    ]
    zip_code = f"{rng.randint(0, 999):03d}{rng.randint(0, 9999):04d}"

    def address_draw(xa, xb, ya, yb):
        if rng.random() < 0.6:
            side = em * 1.25
            x = pg.put(xa, ya + side * 0.7, "〒", font=pg.label) + em * 0.2
            x = char_boxes(x, ya + side * 0.7, zip_code[:3], side)
            x = pg.put(x + 0.5, ya + side * 0.7, "－") + 0.5
            char_boxes(x, ya + side * 0.7, zip_code[3:], side)
            pg.put(xa, yb - em * 0.85, v["address"], maxw=xb - xa)
        else:
            pg.put(xa, (ya + yb) / 2, v["address"], maxw=xb - xa)

    child_rows.append([(1, lab["address"], address_draw)])
    child_rows.append([(1.6, lab["school"], text_of(v["school"])),
                       (1, "電話番号", text_of(html_forms.phone(rng)))])
    rng.shuffle(child_rows)
    for r in child_rows:
        h = row_h + (em * 1.6 if r[0][2] is address_draw else 0)
        grid_row(r, h)

    section(sec_names[1])
    g_kana = (vocab.hira(n["g_kana_k"]) if lab["kana"] == "ふりがな" else n["g_kana_k"]).replace(" ", "　")
    grid_row([(1, lab["kana"], text_of(g_kana))], h=em * 1.6 + sem * 1.5)
    grid_row([(2.2, lab["guardian"], name_cell(v["guardian"], n["g_surname"], n["g_given"],
                                               boxed_names and rng.random() < 0.6)),
              (1, lab["relation"], text_of(v["relation"])),
              (1.1, lab["occupation"], text_of(v["occupation"]))])
    same = rng.random() < 0.5

    def g_address(xa, xb, ya, yb):
        if same:
            pg.options(xa, (ya + yb) / 2, ["児童と同じ", "その他（　　　　　　　）"], "児童と同じ",
                       rng.choice(["fill", "check"]), marks, size=size * 0.9)
        else:
            pg.put(xa, (ya + yb) / 2, rng.choice(["同上", v["address"]]), maxw=xb - xa)

    grid_row([(1, "住所", g_address)])

    section(sec_names[2])
    abuse_draw = lambda xa, xb, ya, yb: pg.options(  # noqa: E731
        xa, (ya + yb) / 2, ABUSE_NAMES, v["abuse"], abuse_style, marks,
        size=size * (0.9 if right - left < em * 36 else 1),
        joiner=rng.choice(["・", "　", "　・　"]))
    grid_row([(1, lab["abuse"], abuse_draw)])

    h = sem * 1.5 + nl * step + em * 0.6

    def summary_draw(xa, xb, ya, yb):
        for k in range(nl):
            base = ya + (k + 1) * step
            pg.line(xa, base + em * 0.3, xb, base + em * 0.3, 0.3, (1, 1.5))
            if k < len(lines):
                pg.text(xa, base, lines[k])

    grid_row([(1, lab["summary"], summary_draw)], h)
    if custody_row:
        custody = lambda xa, xb, ya, yb: pg.options(  # noqa: E731
            xa, (ya + yb) / 2, ["有", "無"], rng.choice(["有", "無"]), "fill", [], size=size * 0.95)
        grid_row([(1, rng.choice(["身柄の有無", "身柄"]), custody),
                  (2.5, rng.choice(["参考事項", "備考"]), text_of(rng.choice(REMARKS)))])
    pg.rect(left, ya, right, y, outer)
    if contact:
        y += em * 1.2
        pg.text(left, y + em, f"（担当）{n['station']}警察署生活安全課　{rng.choice(vocab.OFFICERS)}　"
                              f"電話 {html_forms.phone(rng)}", size=max(size - 1, 8))
    pg.save()
    return f"{stem}.pdf"


# ---- pdf_landscape -------------------------------------------------------------------------

def pdf_landscape(stem, n, st, lab, rng, marks):
    v = pdf_values(stem, n, st, lab, rng, marks)
    lab = html_forms.more_labels(lab, rng)
    pg = Page(f"{stem}.pdf", st, rng, land=True)
    size = st.size
    em = pg.em()
    left, right = rng.uniform(14, 22), pg.W - rng.uniform(14, 22)
    y = rng.uniform(11, 17)
    inner, outer = rng.choice([0.35, 0.5]), rng.choice([0.8, 1.2])
    colon = rng.random() < 0.4  # rows written 「氏　名：…」 without rules
    shade = rng.choice([None, 0.9, 0.82])

    # Top band: title on the left; date, addressee and sender on the right or under it.
    title = rng.choice(["児童通告書", "児童通告書", "児童通告票", "児童虐待事案に係る通告書"])
    big = size + rng.choice([6, 8, 10])
    if rng.random() < 0.5:
        pg.text(left, y + pg.em(big), title, big, pg.heading, bold=rng.random() < 0.4)
        tw = pg.width(title, big, pg.heading)
        pg.line(left, y + pg.em(big) * 1.3, left + tw, y + pg.em(big) * 1.3, 0.8)
    else:
        pg.put(pg.W / 2, y + pg.em(big) * 0.6, title, big, pg.heading, align="c")
    date = v["date"]
    if not isinstance(date, forms.Pic) and rng.random() < 0.3:
        date = date + f"（{weekday(n['day'])}）"
    dl = rng.choice(["", "", lab["date"] + "　"])
    pg.put(right, y + em * 0.8, date, align="r", maxh=em * 2.2)
    if dl:
        pg.put(pg.last_left - em * 0.3, y + em * 0.8, dl, font=pg.label, align="r")
    y += pg.em(big) * 2.2
    pg.put(left, y, v["addressee"])
    sl = sender_lines(n, st, rng)
    for k, s in enumerate(sl):
        pg.put(right, y + k * em * 1.7, s, align="r")
    y += max(len(sl), 1) * em * 1.7 + em * 0.5
    pg.text(left + em, y + em * 0.4, rng.choice(html_forms.INTROS))
    y += em * 1.6

    g_birth, g_age = guardian_birth(n, rng)
    g_kana = (vocab.hira(n["g_kana_k"]) if lab["kana"] == "ふりがな" else n["g_kana_k"]).replace(" ", "　")
    sex_style = option_style(rng) if st.sex_options else None
    child = [(lab["kana"], v["kana"]), ("氏名", v["child_name"]), (lab["sex"], ("sex", v["sex"])),
             (lab["birth"], v["birth"])]
    if not st.age_in_brackets:
        child.append((lab["age"], v["age"]))
    child += [(rng.choice(["住居", "住所", lab["address"]]), v["address"]), (lab["school"], v["school"])]
    child = child[:2] + sorted(child[2:], key=lambda _: rng.random())
    guardian = [(lab["kana"], g_kana), ("氏名", v["guardian"]), (lab["relation"], v["relation"]),
                (lab["occupation"], v["occupation"]),
                (rng.choice(["住居", "住所"]), rng.choice(["同上", "児童に同じ", v["address"]]))]
    if rng.random() < 0.6:
        guardian.append(("生年月日", any_date(g_birth, st) + (st.digits(f"（{g_age}歳）")
                                                              if st.age_in_brackets else "")))
    if rng.random() < 0.5:
        guardian.append(("電話", html_forms.phone(rng)))
    guardian = guardian[:2] + sorted(guardian[2:], key=lambda _: rng.random())
    if rng.random() < 0.3:
        # Some forms name the field, not just the panel.
        child[1] = (lab["child_name"], v["child_name"])
        guardian[1] = (lab["guardian"], v["guardian"])

    split = left + (right - left) * rng.uniform(0.48, 0.56)
    gutter = rng.choice([0, 0, em * 1.2])
    panels = [(rng.choice(["児童", "通告児童", "対象児童"]), child), (rng.choice(["保護者", "保護者等"]), guardian)]
    if rng.random() < 0.15:
        panels.reverse()
    rh = max(em * 1.8, rng.uniform(6.5, 9.5))
    hh = max(em * 1.6, rng.uniform(6, 8))
    top = y
    bottoms = []
    for (name, rows), (xa, xb) in zip(panels, [(left, split - gutter / 2), (split + gutter / 2, right)]):
        yy = top
        pg.rect(xa, yy, xb, yy + hh, inner, fill=shade if shade is not None else None)
        if rng.random() < 0.5:
            pg.put((xa + xb) / 2, yy + hh / 2, name, font=pg.heading, align="c")
        else:
            pg.put(xa + em * 0.5, yy + hh / 2, f"■{name}" if rng.random() < 0.5 else name, font=pg.heading)
        yy += hh
        lw = em * (max(len(la) for la, _ in rows) + (1 if colon else 0) + rng.uniform(1, 2))
        for la, val in rows:
            h = rh * (0.8 if la == lab["kana"] else 1)
            mid = yy + h / 2
            if colon:
                if len(la) <= 3 and rng.random() < 0.5:
                    la = "　".join(la) if len(la) == 2 else la
                pg.put(xa + em * 0.5, mid, la + "：", font=pg.label)
            else:
                pg.put(xa + em * 0.5, mid, la, font=pg.label, maxw=lw - em)
                pg.line(xa + lw, yy, xa + lw, yy + h, inner)
                pg.line(xa, yy + h, xb, yy + h, inner)
            vx = xa + lw + em * 0.4
            if isinstance(val, tuple):
                chosen = "男" if n["boy"] else "女"
                if sex_style:
                    pg.options(vx, mid, ["男", "女"], chosen, sex_style, marks)
                else:
                    pg.put(vx, mid, val[1])
            else:
                pg.put(vx, mid, val, size * (0.85 if la == lab["kana"] else 1), maxw=xb - vx - em * 0.4,
                       maxh=h - 0.4)
            yy += h
        pg.rect(xa, top, xb, yy, outer)
        bottoms.append(yy)
    y = max(bottoms) + em * 0.8

    abuse_style = option_style(rng) if st.abuse_boxes else None
    st.abuse_mark = abuse_style
    lw = em * rng.uniform(7, 9)
    box_top = y
    h = rh
    pg.put(left + em * 0.5, y + h / 2, lab["abuse"], font=pg.label, maxw=lw - em)
    if abuse_style:
        pg.options(left + lw + em * 0.4, y + h / 2, ABUSE_NAMES, v["abuse"], abuse_style, marks,
                   joiner=rng.choice(["・", "　", "　・　"]))
    else:
        pg.put(left + lw + em * 0.4, y + h / 2, v["abuse"])
    pg.line(left, y + h, right, y + h, inner)
    y += h
    lines = pg.wrap(v["summary"], right - left - lw - em)
    nl = max(len(lines), rng.choice([2, 3]))
    h = nl * em * 1.7 + em * 0.8
    pg.put(left + em * 0.5, y + min(h / 2, rh / 2), lab["summary"], font=pg.label, maxw=lw - em)
    for k, line in enumerate(lines):
        pg.text(left + lw + em * 0.4, y + em * 1.4 + k * em * 1.7, line)
    y += h
    if rng.random() < 0.6:
        pg.line(left, y, right, y, inner)
        pg.put(left + em * 0.5, y + rh / 2, rng.choice(["参考事項", "備考"]), font=pg.label)
        pg.put(left + lw + em * 0.4, y + rh / 2, rng.choice(REMARKS))
        y += rh
    pg.line(left + lw, box_top, left + lw, y, inner)
    pg.rect(left, box_top, right, y, outer)
    if rng.random() < 0.5:
        pg.text(right, y + em * 1.6, f"取扱者　{v['reporter']}", size=max(size - 1, 8), align="r")
    pg.save()
    return f"{stem}.pdf"


BUILDERS = {
    "pdf_npa": pdf_npa,
    "pdf_boxes": pdf_boxes,
    "pdf_landscape": pdf_landscape,
}
