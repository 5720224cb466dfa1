"""Scanner and fax damage for the notice corpus of make_corpus.py (office and HTML forms).

Takes the page pdftoppm rasterised from the LibreOffice or Chromium PDF and adds what a clerk's scanner
or the station's fax adds: the station chief's red seal (印影) stamped over the sender line,
marks made by hand on printed options (a circle round 男 or 女, a tick in a □ box), skew,
faint toner, fax-like binarisation, speckle, JPEG compression. Where marks go is taken from
the PDF's own text positions (`pdftotext -bbox`), so a mark lands on the printed option
whatever the layout. Also draws "handwritten-looking" values (per-glyph jitter and rotation
of a Noto CJK font) that the form builders place into documents as pictures.
"""

import math
import re
import subprocess
from html import unescape

import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageFont

SERIF = "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc"
SERIF_BOLD = "/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc"
SANS = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
SANS_BOLD = "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"
# Face 0 of the Noto CJK collections is the Japanese one.
JP = 0


# Chromium prints Noto CJK as Type 3 fonts whose boxes in `pdftotext -bbox` are 2.6 em tall,
# the em box's centre at 0.58 of that height from the top (measured at 9–20 pt, Serif and Sans).
TYPE3_BOX_EM, TYPE3_CENTRE = 2.6, 0.58


def words(pdf, em_boxes=False):
    """Words of page 1 with their boxes in PDF points: [(x0, y0, x1, y1, text)]. With
    `em_boxes` (Chromium's PDFs), each box is cut down to the glyphs' em box."""
    out = subprocess.run(
        ["pdftotext", "-bbox", "-f", "1", "-l", "1", str(pdf), "-"],
        check=True, capture_output=True, text=True,
    ).stdout
    found = []
    for m in re.finditer(
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>', out
    ):
        x0, y0, x1, y1 = (float(m.group(i)) for i in range(1, 5))
        if em_boxes:
            em = (y1 - y0) / TYPE3_BOX_EM
            cy = y0 + (y1 - y0) * TYPE3_CENTRE
            y0, y1 = cy - em / 2, cy + em / 2
        found.append((x0, y0, x1, y1, unescape(m.group(5))))
    return found


def char_box(ws, target, within=None, exact=False):
    """Box of the first occurrence of `target` inside a word (containing `within` if given),
    estimated from the character's place in the word (full-width characters: equal widths)."""
    for x0, y0, x1, y1, t in ws:
        if within is not None and within not in t:
            continue
        if exact and t != target:
            continue
        i = t.find(target)
        if i < 0:
            continue
        w = (x1 - x0) / max(len(t), 1)
        return (x0 + w * i, y0, x0 + w * (i + len(target)), y1)
    return None


def line_end(ws, box):
    """Right end of the text line through `box` (words whose vertical centre is in it)."""
    cy = (box[1] + box[3]) / 2
    same = [w for w in ws if w[1] <= cy <= w[3]]
    return max(w[2] for w in same) if same else box[2]


def seal_image(text, size_px, rng, round_seal):
    """A red seal: square 「…之印」 in two or three columns, or a round one."""
    img = Image.new("L", (size_px, size_px), 0)
    d = ImageDraw.Draw(img)
    lw = max(2, size_px // 28)
    if round_seal:
        d.ellipse([lw, lw, size_px - lw, size_px - lw], outline=255, width=lw)
        chars = list(text[:3])
        f = ImageFont.truetype(SERIF_BOLD, int(size_px * 0.26), index=JP)
        for k, c in enumerate(chars):
            y = size_px * (0.2 + 0.22 * k)
            d.text((size_px / 2, y), c, font=f, fill=255, anchor="mt")
    else:
        d.rectangle([lw, lw, size_px - lw, size_px - lw], outline=255, width=lw)
        chars = list(text)
        cols = 3 if len(chars) > 6 else 2
        per = math.ceil(len(chars) / cols)
        cell = (size_px - 4 * lw) / max(per, cols)
        f = ImageFont.truetype(SERIF_BOLD, int(cell * 0.92), index=JP)
        # Seals read top to bottom, right column first.
        for k, c in enumerate(chars):
            col, row = divmod(k, per)
            x = size_px - 2 * lw - (col + 0.5) * (size_px - 4 * lw) / cols
            y = 2 * lw + (row + 0.5) * (size_px - 4 * lw) / per
            d.text((x, y), c, font=f, fill=255, anchor="mm")
    # Uneven ink: stamps are never solid.
    noise = np.array(img, dtype=np.float32) / 255.0
    noise *= np.clip(rng.uniform(0.55, 1.0) + np.random.default_rng(rng.randrange(1 << 30)).normal(
        0, 0.25, noise.shape), 0, 1)
    img = Image.fromarray((noise * 255).astype(np.uint8))
    return img.rotate(rng.uniform(-12, 12), resample=Image.BICUBIC, fillcolor=0)


def stamp(page, mask, cx, cy, colour):
    """Multiply a coloured mask onto the RGB page, centred at (cx, cy)."""
    w, h = mask.size
    layer = Image.new("RGB", page.size, (255, 255, 255))
    ink = Image.new("RGB", mask.size, colour)
    layer.paste(ink, (int(cx - w / 2), int(cy - h / 2)), mask)
    return ImageChops.multiply(page, layer)


def wobbly_ellipse(draw, box, rng, width, fill):
    """A hand-drawn ellipse round `box` (pixels): not closed exactly, uneven radius."""
    x0, y0, x1, y1 = box
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    rx, ry = (x1 - x0) / 2 * rng.uniform(1.25, 1.6), (y1 - y0) / 2 * rng.uniform(1.05, 1.35)
    start = rng.uniform(0, 2 * math.pi)
    sweep = 2 * math.pi * rng.uniform(1.03, 1.15)
    pts = []
    wob = rng.uniform(0.02, 0.08)
    for k in range(80):
        a = start + sweep * k / 79
        r = 1 + wob * math.sin(3 * a + start) + rng.uniform(-0.015, 0.015)
        pts.append((cx + rx * r * math.cos(a), cy + ry * r * math.sin(a)))
    draw.line(pts, fill=fill, width=width, joint="curve")


def tick(draw, box, rng, width, fill):
    """A hand-drawn ✓ over a □ box (pixels)."""
    x0, y0, x1, y1 = box
    s = (x1 - x0)
    pts = [
        (x0 + s * rng.uniform(0.0, 0.2), y0 + s * rng.uniform(0.4, 0.6)),
        (x0 + s * rng.uniform(0.35, 0.5), y1 - s * rng.uniform(-0.1, 0.1)),
        (x1 + s * rng.uniform(0.1, 0.5), y0 - s * rng.uniform(0.2, 0.6)),
    ]
    draw.line(pts, fill=fill, width=width, joint="curve")


def handwritten(text, pt, rng, path):
    """Draw `text` as if written by hand (per-glyph jitter, rotation, size and spacing) and
    save it as a PNG of 300 px per inch; returns (width, height) in points."""
    px = int(pt * 300 / 72 * 1.2)
    font_path = rng.choice([SANS, SANS_BOLD, SERIF_BOLD])
    glyphs = []
    for c in text:
        if c.isspace():
            glyphs.append(None)
            continue
        size = int(px * rng.uniform(0.85, 1.15))
        f = ImageFont.truetype(font_path, size, index=JP)
        g = Image.new("L", (size * 2, size * 2), 0)
        ImageDraw.Draw(g).text((size, size), c, font=f, fill=255, anchor="mm",
                               stroke_width=rng.choice([0, 1, 1, 2]), stroke_fill=255)
        g = g.rotate(rng.uniform(-9, 9), resample=Image.BICUBIC)
        # Slant like a hurried hand.
        shear = rng.uniform(-0.12, 0.22)
        g = g.transform(g.size, Image.AFFINE, (1, shear, -shear * size, 0, 1, 0), Image.BICUBIC)
        bb = g.getbbox()
        glyphs.append(g.crop(bb) if bb else None)
    width = sum((g.size[0] if g else px // 2) for g in glyphs) + int(px * 0.12) * len(glyphs) + px
    canvas = Image.new("L", (width, int(px * 1.9)), 0)
    x = px // 3
    for g in glyphs:
        if g is None:
            x += px // 2
            continue
        y = int(canvas.size[1] / 2 - g.size[1] / 2 + rng.uniform(-0.1, 0.1) * px)
        canvas.paste(255, (x, y), g)
        x += g.size[0] + int(px * rng.uniform(0.02, 0.2))
    canvas = canvas.crop((0, 0, min(width, x + px // 3), canvas.size[1]))
    ink = rng.choice([(25, 25, 60), (20, 20, 20), (40, 40, 90)])
    out = Image.new("RGB", canvas.size, (255, 255, 255))
    out.paste(Image.new("RGB", canvas.size, ink), (0, 0), canvas)
    out.save(path, dpi=(300, 300))
    return canvas.size[0] * 72 / 300, canvas.size[1] * 72 / 300


def damage(page, pdf, dpi, marks, c, rng, em_boxes=False):
    """Everything after rasterising. `page` is the greyscale page, `marks` what the hand and
    the seal add, `c` the drawn conditions (dict), `em_boxes` for Chromium's PDFs (see
    `words`); returns the damaged image."""
    ws = words(pdf, em_boxes)
    k = dpi / 72.0
    page = page.convert("RGB")
    d = ImageDraw.Draw(page)
    pen = max(2, int(dpi / 110))
    for m in marks:
        if m["kind"] == "circle":
            b = char_box(ws, m["target"], m.get("within"), m.get("exact", False))
            if b:
                wobbly_ellipse(d, [v * k for v in b], rng, pen, m.get("ink", (30, 30, 70)))
            else:
                c["missing_marks"] = c.get("missing_marks", 0) + 1
        elif m["kind"] == "tick":
            b = char_box(ws, m["target"], m.get("within"))
            if b:
                x0, y0, x1, y1 = (v * k for v in b)
                tick(d, (x0, y0, x0 + (y1 - y0), y1), rng, pen, m.get("ink", (30, 30, 70)))
            else:
                c["missing_marks"] = c.get("missing_marks", 0) + 1
    seal = c.get("seal")
    if seal:
        b = char_box(ws, "警察署長", None)
        # The sender's line, not a 通告者 line further down (it has no 署長).
        if b:
            size = int(dpi * rng.uniform(0.55, 0.8))
            mask = seal_image(seal["text"], size, rng, seal["round"])
            if seal["over"] == "title":
                cx = (b[0] + b[2]) / 2 * k + rng.uniform(-0.3, 0.3) * size
            else:
                cx = line_end(ws, b) * k - size * rng.uniform(0.1, 0.5)
            cy = (b[1] + b[3]) / 2 * k + rng.uniform(-0.25, 0.25) * size
            page = stamp(page, mask, cx, cy, (205, 45, 50))
        else:
            c["missing_marks"] = c.get("missing_marks", 0) + 1
    if c["skew"]:
        page = page.rotate(c["skew"], resample=Image.BICUBIC, expand=False, fillcolor=(255, 255, 255))
    a = np.asarray(page).astype(np.float32)
    if c["faint"] < 1.0:
        a = 255 - (255 - a) * c["faint"]
    nrng = np.random.default_rng(rng.randrange(1 << 30))
    if c["fax"]:
        grey = a.mean(axis=2)
        # Fax "standard" resolution halves the lines; then a hard threshold with noise.
        grey = grey[::2, :].repeat(2, axis=0)[: a.shape[0]]
        grey = grey + nrng.normal(0, 18, grey.shape)
        bw = np.where(grey < c["fax_threshold"], 0, 255).astype(np.float32)
        a = np.repeat(bw[:, :, None], 3, axis=2)
    if c["speckle"]:
        h, w = a.shape[:2]
        n = int(h * w / 1e6 * c["speckle"])
        ys, xs = nrng.integers(0, h - 3, n), nrng.integers(0, w - 3, n)
        for y, x, r in zip(ys, xs, nrng.integers(1, 4, n)):
            a[y:y + r, x:x + r] = nrng.integers(0, 90)
    img = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))
    if c["fax"]:
        img = img.convert("L")
    return img
