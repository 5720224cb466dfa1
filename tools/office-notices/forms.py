"""Form families of the office-document notice corpus (make_corpus.py): each builder writes
one police notice (児童通告書) as a .docx (python-docx) or .xlsx (openpyxl) the way a clerk
fills a form in a word processor, and returns the document's path.

Families (each with randomised label wording, row order, column widths, font and size):
- docx_sections: ruled table under 「１ 児童」「２ 保護者」「３ 通告の理由」, where 氏名 and
  住居 repeat in each section; section titles as a spanning row or a merged side column.
- docx_stacked:  no table; each label on its own line, the value below it, indented
  (sometimes underlined with a rule).
- docx_letter:   a letter: 「下記児童について、児童福祉法第25条に基づき通告します。」, 記, then
  numbered items with tab-aligned values, 以上.
- xlsx_grid:     an Excel police form: merged cells, a narrow section column, two label/value
  pairs on a row (氏名 | … | 性別 | …), thin borders, fitted to one A4 page.
- xlsx_marks:    an Excel form whose options are printed and one marked: 男・女 with one
  circled by hand, the kinds of abuse as □ boxes with one filled or ticked; the date and the
  sender (with the seal) inside the table.

Marks that a hand or a stamp adds after printing are appended to `marks` and drawn on the
raster by degrade.py at the printed option's position.
"""

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from openpyxl import Workbook
from openpyxl.drawing.image import Image as XlImage
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.page import PageMargins

import degrade
import vocab

KANJI_NUM = "１２３４５６７８９"


class Pic:
    """A value drawn as if handwritten: a picture in the document."""

    def __init__(self, path, w_pt, h_pt):
        self.path, self.w_pt, self.h_pt = str(path), w_pt, h_pt


def values(stem, n, st, lab, rng, marks):
    """The printed value of every field, as this clerk writes them."""
    v = {}
    v["child_name"] = st.name(n["surname"], n["given"])
    v["kana"] = n["kana"]
    birth = st.date(n["birth"]) + (rng.choice(["生", ""]))
    if st.age_in_brackets:
        birth += st.digits(f"（{n['age']}歳）")
    v["birth"] = birth
    v["age"] = st.digits(f"{n['age']}歳")
    if st.sex_options:
        v["sex"] = rng.choice(["男・女", "男 ・ 女"])
        mark = {"kind": "circle", "target": "男" if n["boy"] else "女"}
        if v["sex"] == "男・女":
            mark["within"] = "男・女"
        else:
            # Words split at spaces: the option is a word of its own.
            mark["exact"] = True
        marks.append(mark)
    else:
        v["sex"] = rng.choice(["男", "男児"] if n["boy"] else ["女", "女児"])
    v["address"] = st.digits(f"{n['pref']}{n['city']}{n['town']}{n['chome']}丁目{n['ban']}番{n['go']}号")
    v["guardian"] = st.name(n["g_surname"], n["g_given"])
    v["relation"] = n["relation"]
    v["occupation"] = n["occupation"]
    v["school"] = n["school"]
    v["summary"] = n["summary"]
    ja = vocab.ABUSE_JA[n["abuse"]]
    if st.abuse_boxes:
        items = []
        for k in vocab.ABUSE_ORDER:
            name = vocab.ABUSE_JA[k]
            box = st.abuse_mark if (k == n["abuse"] and st.abuse_mark != "tick") else "□"
            items.append(f"{box}{name}")
        v["abuse"] = "　".join(items)
        if st.abuse_mark == "tick":
            marks.append({"kind": "tick", "target": "□" + ja})
    else:
        v["abuse"] = ja
    v["date"] = st.date(n["day"])
    sender = (n["pref"] if st.sender_pref else "") + f"{n['station']}警察署長"
    v["sender"] = sender + (f"　{st.rank}" if st.rank else "") + f"　{n['officer']}"
    v["addressee"] = f"{n['centre']}　殿"
    v["reporter"] = n["reporter"]
    if st.hand:
        key = {"notice_date": "date", "child_name": "child_name", "guardian_name": "guardian"}[st.hand]
        path = f"{stem}-hand.png"
        w, h = degrade.handwritten(v[key], st.size, rng, path)
        v[key] = Pic(path, w, h)
    return v


# ---- .docx ---------------------------------------------------------------------------------

def new_doc(st, rng):
    d = Document()
    s = d.sections[0]
    s.page_width, s.page_height = Mm(210), Mm(297)
    s.left_margin = s.right_margin = Mm(rng.uniform(17, 25))
    s.top_margin, s.bottom_margin = Mm(rng.uniform(14, 22)), Mm(15)
    normal = d.styles["Normal"]
    normal.font.name = st.font
    normal.font.size = Pt(st.size)
    rfonts = normal.element.get_or_add_rPr().get_or_add_rFonts()
    for a in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        rfonts.attrib.pop(qn(a), None)
    for a in ("w:ascii", "w:hAnsi", "w:eastAsia"):
        rfonts.set(qn(a), st.font)
    pf = normal.paragraph_format
    pf.space_after, pf.space_before, pf.line_spacing = Pt(0), Pt(0), 1.15
    return d


def put(par, value, bold=False, size=None):
    """Write a value (text or handwritten picture) into a paragraph."""
    if isinstance(value, Pic):
        par.add_run().add_picture(value.path, height=Pt(value.h_pt))
        return
    r = par.add_run(value)
    r.bold = bold
    if size:
        r.font.size = Pt(size)


def para(d, value="", align=None, bold=False, size=None, indent_mm=None):
    p = d.add_paragraph()
    if align == "right":
        p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    elif align == "center":
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    if indent_mm:
        p.paragraph_format.left_indent = Mm(indent_mm)
    if value:
        put(p, value, bold, size)
    return p


def header(d, v, st, rng, title, sender_here=True):
    """Date, addressee, sender, title and the opening sentence, in one of the usual orders."""
    big = st.size + rng.choice([4, 6, 8])
    if rng.random() < 0.5:
        para(d, title, "center", True, big)
        para(d)
        para(d, v["date"], "right")
    else:
        para(d, v["date"], "right")
        para(d)
    para(d, v["addressee"], indent_mm=rng.choice([0, 0, 5]))
    para(d)
    if sender_here:
        para(d, v["sender"], "right")
        para(d)
    if d.paragraphs[0].text != title:
        para(d, title, "center", True, big)
        para(d)
    para(d, rng.choice([
        "児童福祉法第25条の規定により、下記のとおり通告します。",
        "下記児童について、児童福祉法第25条に基づき通告します。",
        "下記の児童は、保護者に監護させることが不適当であると認められるので、児童福祉法第25条により通告します。",
    ]))


def widths(table, mm):
    """Column widths that LibreOffice honours: the grid and every cell."""
    table.autofit = False
    grid = table._tbl.tblGrid
    for gc, w in zip(grid.findall(qn("w:gridCol")), mm):
        gc.set(qn("w:w"), str(int(w / 25.4 * 1440)))
    for row in table.rows:
        for cell, w in zip(row.cells, mm):
            cell.width = Mm(w)


def cell_put(cell, value, bold=False):
    p = cell.paragraphs[0]
    put(p, value, bold)


def shuffled_tail(rows, rng, keep=1):
    head, tail = rows[:keep], rows[keep:]
    rng.shuffle(tail)
    return head + tail


def docx_sections(stem, n, st, lab, rng, marks):
    d = new_doc(st, rng)
    v = values(stem, n, st, lab, rng, marks)
    sender_top = rng.random() < 0.7
    header(d, v, st, rng, rng.choice(["児童通告書", "児童通告書", "通　告　書"]), sender_top)
    if rng.random() < 0.5:
        para(d, "記", "center")
    generic = rng.random() < 0.7
    child = shuffled_tail([
        ("氏名" if generic else lab["child_name"], v["child_name"]),
        (lab["kana"], v["kana"]),
        (lab["birth"], v["birth"]),
        (lab["sex"], v["sex"]),
        ("住居" if generic else lab["address"], v["address"]),
        (lab["school"], v["school"]),
    ], rng, keep=rng.choice([1, 2]))
    guardian = shuffled_tail([
        ("氏名" if generic else lab["guardian"], v["guardian"]),
        (lab["relation"], v["relation"]),
        (lab["occupation"], v["occupation"]),
        ("住居", rng.choice(["同上", v["address"]])),
    ], rng)
    reason = [(lab["abuse"], v["abuse"]), ("概要" if rng.random() < 0.3 else lab["summary"], v["summary"])]
    if rng.random() < 0.5:
        reason.reverse()
    sections = [("１　児童", child), ("２　保護者", guardian), ("３　通告の理由", reason)]
    side = rng.random() < 0.5
    total = 210 - 2 * 21
    lw = rng.uniform(24, 40)
    if side:
        sw = rng.uniform(16, 26)
        cols = [sw, lw, total - sw - lw]
    else:
        cols = [lw, total - lw]
    nrows = sum(len(r) for _, r in sections) + (0 if side else len(sections))
    t = d.add_table(rows=nrows, cols=len(cols))
    t.style = "Table Grid"
    r = 0
    for title, rows in sections:
        if side:
            first = r
            for label, value in rows:
                cell_put(t.cell(r, 1), label)
                cell_put(t.cell(r, 2), value)
                r += 1
            m = t.cell(first, 0).merge(t.cell(r - 1, 0))
            cell_put(m, title)
        else:
            m = t.cell(r, 0).merge(t.cell(r, 1))
            cell_put(m, title, bold=True)
            r += 1
            for label, value in rows:
                cell_put(t.cell(r, 0), label)
                cell_put(t.cell(r, 1), value)
                r += 1
    widths(t, cols)
    para(d)
    if not sender_top:
        para(d, v["sender"], "right")
    if rng.random() < 0.5:
        para(d, f"{lab['reporter']}　{v['reporter']}")
    path = f"{stem}.docx"
    d.save(path)
    return path


def rule_below(p):
    """A thin rule under a paragraph (the blank line of a printed form)."""
    ppr = p._p.get_or_add_pPr()
    bdr = OxmlElement("w:pBdr")
    b = OxmlElement("w:bottom")
    for k, val in (("w:val", "single"), ("w:sz", "4"), ("w:space", "1"), ("w:color", "000000")):
        b.set(qn(k), val)
    bdr.append(b)
    ppr.append(bdr)


def docx_stacked(stem, n, st, lab, rng, marks):
    d = new_doc(st, rng)
    v = values(stem, n, st, lab, rng, marks)
    header(d, v, st, rng, rng.choice(["児童通告書", "児童虐待に係る通告書"]))
    para(d)
    deco = rng.choice(["{}", "【{}】", "■ {}", "◎{}"])
    indent = rng.uniform(4, 16)
    ruled = rng.random() < 0.5
    rows = [
        (lab["child_name"], v["child_name"]),
        (lab["kana"], v["kana"]),
        (lab["birth"], v["birth"]),
        (lab["sex"], v["sex"]),
        (lab["address"], v["address"]),
        (lab["guardian"], v["guardian"]),
        (lab["relation"], v["relation"]),
        (lab["abuse"], v["abuse"]),
        (lab["summary"], v["summary"]),
    ]
    rows = shuffled_tail(rows[:5], rng) + shuffled_tail(rows[5:7], rng, 1) + rows[7:]
    if rng.random() < 0.4:
        rows.insert(rng.randint(3, 6), (lab["school"], v["school"]))
    for label, value in rows:
        para(d, deco.format(label), size=st.size - rng.choice([0, 1, 1.5]), bold=rng.random() < 0.3)
        p = para(d, value, indent_mm=indent)
        if ruled:
            rule_below(p)
        p.paragraph_format.space_after = Pt(rng.choice([3, 5, 7]))
    path = f"{stem}.docx"
    d.save(path)
    return path


def docx_letter(stem, n, st, lab, rng, marks):
    d = new_doc(st, rng)
    v = values(stem, n, st, lab, rng, marks)
    header(d, v, st, rng, rng.choice(["児童通告書", "児童の通告について（通告）", "要保護児童の通告について"]))
    para(d)
    para(d, "記", "center")
    para(d)
    tab = Mm(rng.uniform(30, 52))
    items = [
        (lab["child_name"], v["child_name"]),
        (lab["birth"], v["birth"]),
        (lab["sex"], v["sex"]),
        (lab["address"], v["address"]),
    ]
    items = shuffled_tail(items, rng)
    if isinstance(v["guardian"], Pic) or rng.random() < 0.5:
        items += [(lab["guardian"], v["guardian"]), (lab["relation"], v["relation"])]
    else:
        items += [(lab["guardian"], f"{v['guardian']}（{v['relation']}）")]
    items += [(lab["abuse"], v["abuse"])]
    k = 0
    for label, value in items:
        p = d.add_paragraph()
        p.paragraph_format.tab_stops.add_tab_stop(tab)
        p.paragraph_format.space_after = Pt(rng.choice([2, 4, 6]))
        p.add_run(f"{KANJI_NUM[k]}　{label}\t")
        put(p, value)
        k += 1
    p = d.add_paragraph()
    p.add_run(f"{KANJI_NUM[k]}　{lab['summary']}")
    para(d, v["summary"], indent_mm=rng.uniform(6, 12))
    para(d)
    para(d, "以上", "right")
    path = f"{stem}.docx"
    d.save(path)
    return path


# ---- .xlsx ---------------------------------------------------------------------------------

THIN = Side(style="thin", color="000000")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)


class Sheet:
    def __init__(self, st, rng, col_widths):
        self.wb = Workbook()
        self.ws = self.wb.active
        self.ws.title = "通告書"
        self.st, self.rng = st, rng
        for i, w in enumerate(col_widths, start=1):
            self.ws.column_dimensions[get_column_letter(i)].width = w
        ps = self.ws.page_setup
        ps.paperSize = self.ws.PAPERSIZE_A4
        ps.orientation = "portrait"
        self.ws.sheet_properties.pageSetUpPr.fitToPage = True
        ps.fitToWidth, ps.fitToHeight = 1, 1
        m = rng.uniform(0.5, 0.8)
        self.ws.page_margins = PageMargins(left=m, right=m, top=0.7, bottom=0.6)
        self.ws.print_options.horizontalCentered = True
        self.ncols = len(col_widths)

    def put(self, r, c1, c2, value, border=True, align="left", bold=False, size=None, height=None, r2=None):
        ws = self.ws
        r2 = r2 or r
        cell = ws.cell(row=r, column=c1)
        if isinstance(value, Pic):
            img = XlImage(value.path)
            img.width, img.height = value.w_pt * 96 / 72, value.h_pt * 96 / 72
            ws.add_image(img, f"{get_column_letter(c1)}{r}")
        else:
            cell.value = value
        cell.font = Font(name=self.st.font, size=size or self.st.size, bold=bold)
        cell.alignment = Alignment(horizontal=align, vertical="center", wrap_text=True)
        if c2 > c1 or r2 > r:
            ws.merge_cells(start_row=r, start_column=c1, end_row=r2, end_column=c2)
        if border:
            for rr in range(r, r2 + 1):
                for cc in range(c1, c2 + 1):
                    ws.cell(row=rr, column=cc).border = BOX
        if height:
            ws.row_dimensions[r].height = height

    def save(self, path):
        self.wb.save(path)


def xlsx_header(sh, v, st, rng, title, sender=True):
    last = sh.ncols
    sh.put(1, 1, last, title, border=False, align="center", bold=True, size=st.size + 6, height=st.size * 3)
    sh.put(2, last - 2, last, v["date"], border=False, align="right", height=st.size * 2)
    sh.put(3, 1, last - 3, v["addressee"], border=False, height=st.size * 2)
    r = 4
    if sender:
        sh.put(4, 3, last, v["sender"], border=False, align="right", height=st.size * 2.4)
        r = 5
    sh.put(r + 1, 1, last, rng.choice([
        "児童福祉法第25条の規定により、下記のとおり通告します。",
        "下記児童について、児童福祉法第25条に基づき通告します。",
    ]), border=False, height=st.size * 2.2)
    return r + 3


def xlsx_grid(stem, n, st, lab, rng, marks):
    cw = [rng.uniform(4, 6), rng.uniform(10, 16), rng.uniform(9, 14), rng.uniform(9, 14),
          rng.uniform(6, 12), rng.uniform(7, 10), rng.uniform(7, 12), rng.uniform(6, 11)]
    sh = Sheet(st, rng, cw)
    v = values(stem, n, st, lab, rng, marks)
    r = xlsx_header(sh, v, st, rng, rng.choice(["児童通告書", "児 童 通 告 書"]))
    h = st.size * rng.uniform(2.0, 2.6)
    generic = rng.random() < 0.6
    child = [
        [("氏名" if generic else lab["child_name"], v["child_name"]), (lab["sex"], v["sex"])],
        [(lab["kana"], v["kana"]), (lab["age"], v["age"])],
        [(lab["birth"], v["birth"])],
        [("住居" if generic else lab["address"], v["address"])],
        [(lab["school"], v["school"])],
    ]
    child = shuffled_tail(child, rng, keep=2)
    guardian = [
        [("氏名" if generic else lab["guardian"], v["guardian"]), (lab["relation"], v["relation"])],
        [(lab["occupation"], v["occupation"])],
        [("住居", rng.choice(["同上", v["address"]]))],
    ]
    case = [[(lab["abuse"], v["abuse"])], [(lab["summary"], v["summary"])]]
    for title, rows in (("児童", child), ("保護者", guardian), ("通告の内容", case)):
        first = r
        for row in rows:
            (l1, v1), *rest = row
            sh.put(r, 2, 2, l1, height=h * (2.2 if l1 == lab["summary"] else 1))
            if rest:
                (l2, v2), = rest
                sh.put(r, 3, 5, v1)
                sh.put(r, 6, 6, l2)
                sh.put(r, 7, 8, v2)
            else:
                sh.put(r, 3, 8, v1)
            r += 1
        sh.put(first, 1, 1, title, align="center", r2=r - 1)
    if rng.random() < 0.5:
        sh.put(r, 1, 2, lab["reporter"], height=h)
        sh.put(r, 3, 8, v["reporter"])
    path = f"{stem}.xlsx"
    sh.save(path)
    return path


def xlsx_marks(stem, n, st, lab, rng, marks):
    st.sex_options = True
    st.abuse_boxes = True
    cw = [rng.uniform(13, 20)] + [rng.uniform(10, 15) for _ in range(5)]
    sh = Sheet(st, rng, cw)
    v = values(stem, n, st, lab, rng, marks)
    last = sh.ncols
    sh.put(1, 1, last, rng.choice(["児童通告書", "児童通告票"]), border=False, align="center", bold=True,
           size=st.size + 6, height=st.size * 3)
    sh.put(3, 1, last, v["addressee"], border=False, height=st.size * 2)
    sh.put(5, 1, last, "下記児童について、児童福祉法第25条に基づき通告します。", border=False,
           height=st.size * 2.2)
    h = st.size * rng.uniform(2.0, 2.8)
    rows = [
        (lab["date"], v["date"]),
        (lab["reporter"], v["sender"]),
        (lab["child_name"], v["child_name"]),
        (lab["kana"], v["kana"]),
        (lab["birth"], v["birth"]),
        (lab["sex"], v["sex"]),
        (lab["address"], v["address"]),
        (lab["guardian"], v["guardian"]),
        (lab["relation"], v["relation"]),
        (lab["abuse"], v["abuse"]),
        (lab["summary"], v["summary"]),
    ]
    rows = rows[:2] + shuffled_tail(rows[2:7], rng) + rows[7:]
    r = 7
    for label, value in rows:
        sh.put(r, 1, 1, label, height=h * (2.2 if label == lab["summary"] else 1))
        sh.put(r, 2, last, value)
        r += 1
    path = f"{stem}.xlsx"
    sh.save(path)
    return path


BUILDERS = {
    "docx_sections": docx_sections,
    "docx_stacked": docx_stacked,
    "docx_letter": docx_letter,
    "xlsx_grid": xlsx_grid,
    "xlsx_marks": xlsx_marks,
}
