"""Form families of the notice corpus written as HTML+CSS (the third corpus method): each
builder writes one police notice (児童通告書) as an .html page the way a police records
system or a web form prints it; make_corpus.py prints it to PDF with headless Chromium.

Families (each with randomised label wording, row order, column widths, Noto Serif/Sans CJK
JP at 9–12 pt, 和暦 or 西暦 dates, the age in brackets or in its own cell):
- html_twocol: a ruled table with two label/value pairs on a row (氏名 | … | 性別 | …;
  生年月日 | … | 年齢 | …), a vertical section column (writing-mode: vertical-rl) 「児童」
  「保護者」「通告内容」, shaded label cells; the guardian's age, occupation and telephone as
  distractors.
- html_system: a records-system printout: a header band with the system's name, 「印刷日時」
  and a page number (distractor date and numbers), a case number, labels on the left with
  the values in bordered boxes (one or two to a row), 事案の概要 in a tall paragraph box
  (below, or as a narrow pane on the right where it wraps), the sender 「○○県警察 ○○警察署長
  警視 氏名」 at the bottom right and an operator line.
- html_fax: a faxed notice: the fax machine's header line at the very top (送信日時, FAX
  number, P.1/1), then a letter with 記 and label lines with dotted leaders (CSS dots or
  printed 「……」) or underlines; sex and the kind of abuse printed as options with one
  marked (a hand circle, ■ or a hand tick); more pages go through the fax damage.

The values come from forms.values (the same clerk's choices and hand marks as the office
families); marks a hand or a stamp adds are appended to `marks` and drawn by degrade.py.
"""

import datetime as dt
import html
from pathlib import Path

import forms
import vocab

INTROS = [
    "児童福祉法第25条の規定により、下記のとおり通告します。",
    "下記児童について、児童福祉法第25条に基づき通告します。",
    "下記の児童は、保護者に監護させることが不適当であると認められるので、児童福祉法第25条により通告します。",
]


def number(k):
    """An item number as letters print it: full-width digits."""
    return str(k).translate(str.maketrans("0123456789", "０１２３４５６７８９"))


def other_font(st):
    return "Noto Sans CJK JP" if st.mincho else "Noto Serif CJK JP"


def fmt(value):
    """A value as HTML: escaped text, or the handwritten picture at its size in points."""
    if isinstance(value, forms.Pic):
        return (f'<img class="hand" src="{html.escape(Path(value.path).name)}" alt="" '
                f'style="width:{value.w_pt:.1f}pt;height:{value.h_pt:.1f}pt">')
    return html.escape(value)


def kana_as_labelled(v, n, lab):
    """「フリガナ」 is filled in katakana, 「ふりがな」 in hiragana."""
    if lab["kana"] == "フリガナ":
        v["kana"] = n["kana_k"].replace(" ", "　")


def label_width(labels, st, pad_pt, rng, wrap_over=7):
    """A label column's width in mm: the longest label on one line (labels longer than
    `wrap_over` characters wrap), its padding and some slack."""
    em = st.size * 25.4 / 72
    longest = max([len(x) for x in labels if len(x) <= wrap_over] or [4])
    return longest * em + 2 * pad_pt * 25.4 / 72 + 1 + rng.uniform(0, 8)


def more_labels(lab, rng):
    """Wordings real forms use besides forms' ones (drawn here, so the office families'
    draws stay as they were)."""
    lab = dict(lab)
    if rng.random() < 0.3:
        lab["child_name"] = rng.choice(["児童の氏名", "氏名（児童）", "対象児童氏名"])
    if rng.random() < 0.25:
        lab["address"] = rng.choice(["住居（居所）", "住居", "住所地"])
    if rng.random() < 0.25:
        lab["guardian"] = rng.choice(["保護者等氏名", "保護者の氏名"])
    if rng.random() < 0.3:
        lab["abuse"] = rng.choice(["虐待の類型", "虐待の種類"])
    if rng.random() < 0.3:
        lab["summary"] = rng.choice(["通告の理由", "事案概要", "通告理由及び事案の概要"])
    if rng.random() < 0.3:
        lab["date"] = "通告年月日"
    return lab


def police_of(pref):
    """The prefectural police as it signs: 警視庁 for Tokyo, else 「○○県警察」."""
    return "警視庁" if pref == "東京都" else f"{pref}警察"


def phone(rng):
    return f"0{rng.randint(11, 99)}-{rng.randint(200, 999)}-{rng.randint(0, 9999):04d}"


def stamp_time(n, rng, style):
    """A print or send time on or after the notice date (a distractor date on the page)."""
    d = n["day"] + dt.timedelta(days=rng.choice([0, 0, 0, 1, 2, 5, 14]))
    hh, mm = rng.randint(8, 21), rng.randint(0, 59)
    if style == "slash":
        return f"{d.year}/{d.month:02d}/{d.day:02d} {hh:02d}:{mm:02d}"
    if style == "dot":
        return f"{d.year % 100:02d}.{d.month:02d}.{d.day:02d} {hh:02d}:{mm:02d}"
    return f"{d.year}年{d.month}月{d.day}日 {hh}時{mm:02d}分"


def page(st, rng, css, body, margins=None, line_height=None):
    """A whole A4 page: @page margins, the notice's font and size, colours that print."""
    t, r, b, l = margins or (rng.uniform(14, 22), rng.uniform(16, 24), 14, rng.uniform(16, 24))
    lh = line_height or rng.choice([1.35, 1.5, 1.6])
    return f"""<!doctype html>
<html lang="ja"><head><meta charset="utf-8"><title>児童通告書</title><style>
@page {{ size: A4; margin: {t:.1f}mm {r:.1f}mm {b:.1f}mm {l:.1f}mm; }}
html {{ -webkit-print-color-adjust: exact; print-color-adjust: exact; }}
body {{ margin: 0; padding: 0 1.5pt; font-family: "{st.font}"; font-size: {st.size}pt; line-height: {lh};
  color: #000; }}
img.hand {{ vertical-align: middle; }}
.right {{ text-align: right; }}
.center {{ text-align: center; }}
p {{ margin: 0; }}
{css}
</style></head><body>
{body}
</body></html>
"""


def letter_head(v, st, rng, title, sender_here, date_here=True):
    """Date, addressee, sender, title and the opening sentence, in one of the usual orders."""
    big = st.size + rng.choice([4, 6, 8])
    spacing = rng.choice([0, .2, .5])
    t = (f'<h1 class="center" style="font-size:{big}pt;margin:.6em 0;letter-spacing:{spacing}em">'
         f'{html.escape(title)}</h1>')
    out = []
    title_first = rng.random() < 0.5
    if title_first:
        out.append(t)
    if date_here:
        out.append(f'<p class="right">{fmt(v["date"])}</p>')
    out.append(f'<p style="margin:.8em 0 .8em {rng.choice([0, 0, 1])}em">{fmt(v["addressee"])}</p>')
    if sender_here:
        out.append(f'<p class="right" style="margin-bottom:.8em">{fmt(v["sender"])}</p>')
    if not title_first:
        out.append(t)
    out.append(f'<p style="margin:.6em 0">{html.escape(rng.choice(INTROS))}</p>')
    return "\n".join(out)


# ---- html_twocol ---------------------------------------------------------------------------

def html_twocol(stem, n, st, lab, rng, marks):
    v = forms.values(stem, n, st, lab, rng, marks)
    kana_as_labelled(v, n, lab)
    lab = more_labels(lab, rng)
    generic = rng.random() < 0.6
    date_in_table = rng.random() < 0.5
    sender_top = rng.random() < 0.6
    title = rng.choice(["児童通告書", "児童通告書", "児童虐待通告書", "通　告　書"])
    head = letter_head(v, st, rng, title, sender_top, date_here=not date_in_table)

    age_cell = (not st.age_in_brackets) or rng.random() < 0.4
    name_row = [("氏名" if generic else lab["child_name"], v["child_name"]), (lab["sex"], v["sex"])]
    kana_row = [(lab["kana"], v["kana"])]
    child = [kana_row, name_row] if rng.random() < 0.5 else [name_row, kana_row]
    if age_cell:
        child.append([(lab["birth"], v["birth"]), (lab["age"], v["age"])])
    else:
        child.append([(lab["birth"], v["birth"]), (lab["school"], v["school"])])
    rest = [[("住居" if generic else lab["address"], v["address"])]]
    if age_cell:
        rest.append([(lab["school"], v["school"])] if rng.random() < 0.5
                    else [(lab["school"], v["school"]), ("電話", phone(rng))])
    rng.shuffle(rest)
    child += rest
    g_age = st.digits(f"{n['age'] + rng.randint(20, 32)}歳")
    guardian = [
        [("氏名" if generic else lab["guardian"], v["guardian"]), (lab["relation"], v["relation"])],
        [(lab["occupation"], v["occupation"]), ("年齢", g_age)],
        [("住居", rng.choice(["同上", v["address"]]))],
    ]
    if rng.random() < 0.4:
        guardian.append([("電話", phone(rng))])
    guardian = guardian[:1] + sorted(guardian[1:], key=lambda _: rng.random())
    case = []
    if date_in_table:
        if st.abuse_boxes:
            case += [[(lab["date"], v["date"])], [(lab["abuse"], v["abuse"])]]
        else:
            case.append([(lab["date"], v["date"]), (lab["abuse"], v["abuse"])])
    else:
        case.append([(lab["abuse"], v["abuse"])])
    case.append([(lab["summary"], v["summary"])])
    sections = [("児童", child), ("保護者", guardian), (rng.choice(["通告内容", "通告の理由", "事案"]), case)]

    pad = rng.choice([2, 3, 4])
    firsts = [r[0][0] for _, rows in sections for r in rows]
    seconds = [r[1][0] for _, rows in sections for r in rows if len(r) > 1]
    total = 210 - 40
    sw = rng.uniform(8, 13)
    l1 = label_width(firsts, st, pad + 2, rng)
    l2 = label_width(seconds, st, pad + 2, rng, wrap_over=5)
    v2 = rng.uniform(26, 40)
    v1 = total - sw - l1 - l2 - v2
    shade = rng.choice(["#d9d9d9", "#e6e6e6", "#cccccc", "#eeeeee"])
    sec_shade = rng.choice([shade, "#bfbfbf", "#ffffff"])
    label_font = rng.choice([st.font, other_font(st)])
    justify = rng.random() < 0.4
    rowh = rng.uniform(1.7, 2.3)
    border = rng.choice(["1px solid #000", "1.5px solid #000", "1px solid #333"])
    css = f"""
table.f {{ width: 100%; border-collapse: collapse; table-layout: fixed; margin-top: .8em; }}
table.f td {{ border: {border}; padding: {pad}pt {pad + 2}pt; height: {rowh:.2f}em; vertical-align: middle; }}
table.f td.l {{ background: {shade}; font-family: "{label_font}"; {"text-align-last: justify;" if justify else ""} }}
table.f td.s {{ background: {sec_shade}; text-align: center; padding: 2pt 0; }}
table.f td.s div {{ writing-mode: vertical-rl; margin: 0 auto; letter-spacing: {rng.choice([.1, .3, .6])}em;
  font-family: "{label_font}"; font-weight: {rng.choice(["normal", "bold"])}; }}
table.f td.tall {{ height: {rng.uniform(3.5, 6):.1f}em; vertical-align: top; }}
"""
    rows = []
    for title_s, srows in sections:
        for k, row in enumerate(srows):
            cells = []
            if k == 0:
                cells.append(f'<td class="s" rowspan="{len(srows)}"><div>{html.escape(title_s)}</div></td>')
            (la, va), *more = row
            tall = ' class="tall"' if la == lab["summary"] else ""
            cells.append(f'<td class="l">{html.escape(la)}</td>')
            if more:
                (lb, vb), = more
                cells.append(f'<td>{fmt(va)}</td><td class="l">{html.escape(lb)}</td><td>{fmt(vb)}</td>')
            else:
                cells.append(f'<td colspan="3"{tall}>{fmt(va)}</td>')
            rows.append("<tr>" + "".join(cells) + "</tr>")
    cols = "".join(f'<col style="width:{w:.1f}mm">' for w in (sw, l1, v1, l2, v2))
    body = [head]
    if rng.random() < 0.4:
        body.append('<p class="center" style="margin:.4em 0">記</p>')
    body.append(f'<table class="f"><colgroup>{cols}</colgroup>{"".join(rows)}</table>')
    if not sender_top:
        body.append(f'<p class="right" style="margin-top:1.2em">{fmt(v["sender"])}</p>')
    if rng.random() < 0.4:
        body.append(f'<p style="margin-top:.8em">{lab["reporter"]}　{fmt(v["reporter"])}</p>')
    path = f"{stem}.html"
    Path(path).write_text(page(st, rng, css, "\n".join(body)), encoding="utf-8")
    return path


# ---- html_system ---------------------------------------------------------------------------

SYSTEMS = ["児童虐待事案管理システム", "少年事案総合管理システム", "生活安全総合情報システム",
           "人身安全関連事案管理システム"]
OPERATOR_RANKS = ["巡査部長", "警部補", "巡査長", "巡査"]


def sys_date(d, st, style):
    """A date as a records system prints it."""
    if style == "slash":
        return f"{d.year}/{d.month:02d}/{d.day:02d}"
    if style == "zero":
        return f"{d.year}年{d.month:02d}月{d.day:02d}日"
    return st.date(d)


def html_system(stem, n, st, lab, rng, marks):
    # A system prints names; only a blank date box gets filled by hand.
    st.hand = "notice_date" if st.hand else None
    v = forms.values(stem, n, st, lab, rng, marks)
    kana_as_labelled(v, n, lab)
    lab = more_labels(lab, rng)
    dstyle = rng.choice(["era", "era", "slash", "zero"])
    if not isinstance(v["date"], forms.Pic):
        v["date"] = sys_date(n["day"], st, dstyle)
    v["birth"] = sys_date(n["birth"], st, dstyle) + (
        st.digits(f"（{n['age']}歳）") if st.age_in_brackets else "")
    sender = f"{police_of(n['pref'])}　{n['station']}警察署長" + (f"　{st.rank}" if st.rank else "") \
        + f"　{n['officer']}"

    system = rng.choice(SYSTEMS)
    printed = stamp_time(n, rng, rng.choice(["slash", "slash", "kanji"]))
    page_no = rng.choice(["1/1", "1 / 1 頁", "Page 1 of 1", "頁：1"])
    case_no = f"{n['day'].year}-{rng.randint(1, 9999):04d}-{rng.randint(1, 999):03d}"
    dark = rng.random() < 0.5
    band_bg, band_fg = (rng.choice(["#1f3a5f", "#333333", "#2d4f2d"]), "#ffffff") if dark else ("#d9d9d9", "#000000")
    sans = "Noto Sans CJK JP"
    lw = label_width([lab[k] for k in ("child_name", "kana", "birth", "address", "school", "sex", "guardian",
                                       "relation", "occupation", "date", "abuse", "summary")], st, 3, rng)
    lw2 = label_width([lab[k] for k in ("sex", "age", "relation", "abuse")] + ["連絡先"], st, 3, rng, 5)
    gap = rng.uniform(2, 5)
    bw = rng.choice([1, 1, 1.5])
    box_bg = rng.choice(["#ffffff", "#ffffff", "#f5f5f5"])
    lab_bg = rng.choice(["none", "none", "#e8e8e8"])
    pane = rng.random() < 0.4  # 事案の概要 as a narrow pane on the right
    css = f"""
.band {{ background: {band_bg}; color: {band_fg}; font-family: "{sans}"; display: flex;
  justify-content: space-between; align-items: baseline; padding: 3pt 6pt; }}
.band .sys {{ font-size: {st.size + 1}pt; font-weight: bold; }}
.band .meta {{ font-size: {max(st.size - 2, 8)}pt; }}
.sub {{ display: flex; justify-content: space-between; font-family: "{sans}"; font-size: {max(st.size - 2, 8)}pt;
  border-bottom: 1px solid #666; padding: 2pt 2pt; margin-bottom: .8em; }}
h1 {{ font-size: {st.size + rng.choice([4, 6])}pt; text-align: center; margin: .5em 0 .7em;
  letter-spacing: {rng.choice([0, .3])}em; }}
.sec {{ font-family: "{sans}"; font-weight: bold; margin: .9em 0 .3em;
  {rng.choice(["border-left: 4pt solid #555; padding-left: 4pt;", "border-bottom: 1px solid #000;", ""])} }}
.g {{ display: grid; grid-template-columns: {lw:.1f}mm 1fr {lw2:.1f}mm 1fr; gap: {gap:.1f}pt {gap + 2:.1f}pt;
  align-items: center; }}
.lab {{ background: {lab_bg}; padding: 1pt 3pt; font-family: "{rng.choice([st.font, sans])}"; }}
.box {{ border: {bw}px solid #444; background: {box_bg}; padding: 2pt 5pt; min-height: 1.3em; }}
.w {{ grid-column: 2 / 5; }}
.para {{ min-height: {rng.choice([4, 5, 6])}em; align-self: stretch; }}
.outer {{ display: grid; grid-template-columns: 1fr {rng.uniform(52, 68):.0f}mm; gap: 6pt; }}
.pane {{ display: flex; flex-direction: column; }}
.pane .box {{ flex: 1; min-height: 8em; }}
.sender {{ text-align: right; margin-top: 1.6em; }}
.foot {{ font-family: "{sans}"; font-size: {max(st.size - 2, 8)}pt; border-top: 1px solid #666; margin-top: 1.4em;
  padding-top: 2pt; display: flex; justify-content: space-between; }}
"""

    def grid(rows):
        out = []
        for row in rows:
            (la, va), *more = row
            cls = "box para" if la == lab["summary"] else "box"
            out.append(f'<div class="lab">{html.escape(la)}</div>')
            if more:
                (lb, vb), = more
                out.append(f'<div class="{cls}">{fmt(va)}</div><div class="lab">{html.escape(lb)}</div>'
                           f'<div class="box">{fmt(vb)}</div>')
            else:
                out.append(f'<div class="{cls} w">{fmt(va)}</div>')
        return f'<div class="g">{"".join(out)}</div>'

    paired = not pane and rng.random() < 0.6
    child = [
        [(lab["child_name"], v["child_name"])] + ([(lab["sex"], v["sex"])] if paired else []),
        [(lab["kana"], v["kana"])],
        [(lab["birth"], v["birth"])] + ([(lab["age"], v["age"])] if paired and not st.age_in_brackets else []),
        [(lab["address"], v["address"])],
        [(lab["school"], v["school"])],
    ]
    if not paired:
        child.insert(rng.randint(1, 3), [(lab["sex"], v["sex"])])
    child = child[:1] + sorted(child[1:], key=lambda _: rng.random())
    guardian = [
        [(lab["guardian"], v["guardian"])] + ([(lab["relation"], v["relation"])] if paired else []),
        [(lab["occupation"], v["occupation"])] + ([("連絡先", phone(rng))] if paired else []),
    ]
    if not paired:
        guardian.insert(1, [(lab["relation"], v["relation"])])
    case = [[(lab["date"], v["date"])], [(lab["abuse"], v["abuse"])]]
    if paired and not st.abuse_boxes:
        case = [[(lab["date"], v["date"]), (lab["abuse"], v["abuse"])]]
    if rng.random() < 0.3:
        reg = n["day"] - dt.timedelta(days=rng.randint(1, 6))
        case.append([("登録日", sys_date(reg, st, dstyle))])
    summary = [(lab["summary"], v["summary"])]
    sec_names = rng.choice([("児童", "保護者", "通告内容"), ("■児童情報", "■保護者情報", "■事案情報"),
                            ("対象児童", "保護者等", "通告事項")])

    fields = (f'<div class="sec">{html.escape(sec_names[0])}</div>{grid(child)}'
              f'<div class="sec">{html.escape(sec_names[1])}</div>{grid(guardian)}'
              f'<div class="sec">{html.escape(sec_names[2])}</div>')
    if pane:
        fields += grid(case)
        body_fields = (f'<div class="outer"><div>{fields}</div><div class="pane">'
                       f'<div class="lab" style="background:none">{html.escape(summary[0][0])}</div>'
                       f'<div class="box">{fmt(summary[0][1])}</div></div></div>')
    else:
        body_fields = fields + grid(case + [summary])

    body = [
        f'<div class="band"><span class="sys">{html.escape(system)}</span>'
        f'<span class="meta">印刷日時 {printed}　{html.escape(page_no)}</span></div>',
        f'<div class="sub"><span>事案番号 {case_no}</span>'
        f'<span>{rng.choice(["取扱注意", "部外秘", "帳票番号 KS-025"])}</span></div>',
        f'<h1>{html.escape(rng.choice(["児童通告書", "児童通告票", "要保護児童通告書"]))}</h1>',
        f'<p>{fmt(v["addressee"])}</p>',
        f'<p style="margin:.5em 0 .2em">{html.escape(rng.choice(INTROS))}</p>',
        body_fields,
        f'<p class="sender">{html.escape(sender)}</p>',
    ]
    op = rng.choice(OPERATOR_RANKS)
    body.append(f'<div class="foot"><span>出力者　{html.escape(n["station"])}警察署生活安全課　{op}　'
                f'{html.escape(rng.choice(vocab.OFFICERS))}</span>'
                f'<span>端末 WS-{rng.randint(100, 9999):04d}</span></div>')
    path = f"{stem}.html"
    margins = (rng.uniform(10, 16), rng.uniform(12, 18), 12, rng.uniform(12, 18))
    Path(path).write_text(page(st, rng, css, "\n".join(body), margins, rng.choice([1.3, 1.4, 1.5])),
                          encoding="utf-8")
    return path



# ---- html_fax ------------------------------------------------------------------------------

def html_fax(stem, n, st, lab, rng, marks):
    st.sex_options = True
    st.abuse_boxes = True
    v = forms.values(stem, n, st, lab, rng, marks)
    kana_as_labelled(v, n, lab)
    lab = more_labels(lab, rng)
    ja = vocab.ABUSE_JA[n["abuse"]]
    # Other ways a faxed form prints the options.
    sex_style = rng.choice(["values", "values", "boxes"])
    if sex_style == "boxes":
        marks[:] = [m for m in marks if m.get("target") not in ("男", "女")]
        mine = "男" if n["boy"] else "女"
        if st.abuse_mark == "tick":
            v["sex"] = "□男　□女"
            marks.append({"kind": "tick", "target": "□" + mine})
        else:
            v["sex"] = "　".join(("■" if s == mine else "□") + s for s in "男女")
    if rng.random() < 0.3:
        # The kinds listed with 「・」 and the one circled by hand.
        marks[:] = [m for m in marks if m.get("target") != "□" + ja]
        listed = "・".join(vocab.ABUSE_JA[k] for k in vocab.ABUSE_ORDER)
        v["abuse"] = listed
        marks.append({"kind": "circle", "target": ja, "within": listed})

    sent = stamp_time(n, rng, rng.choice(["slash", "dot", "kanji"]))
    station_fax = phone(rng)
    centre_fax = phone(rng)
    mono = rng.random() < 0.6
    hdr_font = "Noto Sans Mono CJK JP" if mono else "Noto Sans CJK JP"
    hdr = rng.choice([
        f"{sent}　FROM：{n['station']}警察署　FAX {station_fax}　　P.1/1",
        f"送信日時 {sent}　送信元 {n['station']}警察署生活安全課　TEL/FAX {station_fax}　P.001/001",
        f"{sent}　{station_fax}　{n['station']}警察署　　　#{rng.randint(100, 999)} P.1/1",
        f"TO：{n['centre'][:-1]}　FAX {centre_fax}　{sent}　P.1/1",
    ])
    leader = rng.choice(["dots", "dots", "text", "underline"])
    numbered = rng.random() < 0.5
    items = [
        (lab["child_name"], v["child_name"]),
        (lab["kana"], v["kana"]),
        (lab["birth"], v["birth"]),
        (lab["sex"], v["sex"]),
        (lab["address"], v["address"]),
    ]
    if not st.age_in_brackets and rng.random() < 0.5:
        items.append((lab["age"], v["age"]))
    items = items[:1] + sorted(items[1:], key=lambda _: rng.random())
    if rng.random() < 0.4:
        items.append((lab["school"], v["school"]))
    if isinstance(v["guardian"], forms.Pic) or rng.random() < 0.5:
        items += [(lab["guardian"], v["guardian"]), (lab["relation"], v["relation"])]
    else:
        items += [(lab["guardian"], f"{v['guardian']}（{v['relation']}）")]
    if rng.random() < 0.4:
        items.append((lab["occupation"], v["occupation"]))
    items.append((lab["abuse"], v["abuse"]))

    # The label column holds the longest label and a few leaders.
    em = st.size * 25.4 / 72
    lw = max(len(la) + (len(number(k + 1)) + 1 if numbered else 0) for k, (la, _) in enumerate(items)) * em \
        + rng.uniform(6, 16)
    vw = rng.uniform(85, 115)
    css = f"""
.fax {{ font-family: "{hdr_font}"; font-size: {rng.choice([7.5, 8, 9])}pt; white-space: pre;
  {rng.choice(["border-bottom: 1px solid #000;", "", ""])} margin-bottom: {rng.uniform(4, 10):.1f}mm; }}
.item {{ display: flex; align-items: baseline; margin: {rng.choice([.25, .4, .6])}em 0; }}
.item .l {{ display: flex; width: {lw:.1f}mm; flex: none; white-space: nowrap; }}
.dots .l::after {{ content: ""; flex: 1; border-bottom: {rng.choice([1.5, 2])}px dotted #000; margin: 0 3pt .3em; }}
.underline .v {{ border-bottom: 1px solid #000; min-width: {vw:.0f}mm; padding-left: 3pt; }}
.letter {{ padding: 0 {rng.uniform(8, 14):.1f}mm 0 {rng.uniform(8, 14):.1f}mm; }}
.sum {{ margin: .2em 0 .2em {rng.uniform(6, 14):.1f}mm;
  {"border-bottom: 1px solid #000;" if leader == "underline" else ""} }}
"""
    if leader == "text" and v["sex"] == "男 ・ 女":
        # Printed leaders run into the value: the options are no word of their own.
        v["sex"] = "男・女"
        for m in marks:
            if m.get("exact"):
                del m["exact"]
                m["within"] = "男・女"
        items = [(la, v["sex"] if la == lab["sex"] else va) for la, va in items]
    lines = []
    for k, (la, va) in enumerate(items):
        label = (f"{number(k + 1)}　" if numbered else "") + la
        if leader == "text":
            # Printed leaders: 「氏名……山田太郎」, as many as fill the label column.
            fill = "…" * max(2, round(lw / em) - len(label))
            lines.append(f'<div class="item"><span>{html.escape(label + fill)}</span>'
                         f'<span class="v">{fmt(va)}</span></div>')
        else:
            lines.append(f'<div class="item {leader}"><span class="l">{html.escape(label)}</span>'
                         f'<span class="v">{fmt(va)}</span></div>')
    k = len(items)
    lines.append(f'<div class="item"><span>{(number(k + 1) + "　") if numbered else ""}'
                 f'{html.escape(lab["summary"])}</span></div>')
    lines.append(f'<p class="sum">{fmt(v["summary"])}</p>')

    sender_top = rng.random() < 0.7
    # The receiving machine prints its line across the sheet; the letter keeps its margins.
    body = [f'<div class="fax">{html.escape(hdr)}</div><div class="letter">',
            letter_head(v, st, rng, rng.choice(["児童通告書", "児童通告書（送付）", "児童の通告について"]), sender_top),
            '<p class="center" style="margin:.8em 0">記</p>', "\n".join(lines)]
    if not sender_top:
        body.append(f'<p class="right" style="margin-top:1em">{fmt(v["sender"])}</p>')
    body.append('<p class="right" style="margin-top:.6em">以上</p>')
    if rng.random() < 0.6:
        body.append(f'<p style="margin-top:1.5em;font-size:{max(st.size - 1, 8)}pt">（担当）{html.escape(n["station"])}警察署'
                    f'生活安全課　{html.escape(rng.choice(vocab.OFFICERS))}　電話 {phone(rng)}（内線{rng.randint(200, 599)}）</p>')
    path = f"{stem}.html"
    body.append("</div>")
    margins = (rng.uniform(5, 9), rng.uniform(5, 9), 14, rng.uniform(5, 9))
    Path(path).write_text(page(st, rng, css, "\n".join(body), margins), encoding="utf-8")
    return path


def adjust_conditions(family, c, rng):
    """Family-specific damage: a faxed notice goes through the fax damage more often."""
    if family == "html_fax":
        c["fax"] = rng.random() < 0.65
        if c["fax"]:
            c["jpeg"] = None


BUILDERS = {
    "html_twocol": html_twocol,
    "html_system": html_system,
    "html_fax": html_fax,
}
