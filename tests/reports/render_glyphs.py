#!/usr/bin/python3
"""Glyph outline check for a certificate PDF (run with Debian's /usr/bin/python3).

Guards against the libharu 2.3.0 composite-glyph bug (tech-notes.md §3.2):
a character can be embedded with an empty outline and still "extract" fine.

For every character of the page text (pdftotext), find the glyph the PDF
draws for it — the fonts are Type0/Identity-H with the UTF-8 encoder, so the
CID is the Unicode code point and CIDToGIDMap gives the glyph id — and
assert that glyph in the embedded FontFile2 has an outline: a simple glyph
with numberOfContours > 0 and points, or a composite whose components all
have outlines. Also checks that the embedded font's own cmap agrees.

Usage: render_glyphs.py FILE.pdf   -> exit 0 and "ok N characters", or exit 1
"""
import io
import re
import subprocess
import sys
import tempfile

from fontTools.ttLib import TTFont


def qdf(path):
    with tempfile.NamedTemporaryFile(suffix=".pdf") as out:
        subprocess.run(["qpdf", "--qdf", "--object-streams=disable", path, out.name], check=True)
        return open(out.name, "rb").read()


def objects(data):
    objs = {}
    for m in re.finditer(rb"\n(\d+) 0 obj\n(.*?)\nendobj", data, re.S):
        objs[int(m.group(1))] = m.group(2)
    return objs


def stream(body):
    i = body.index(b"stream\n") + 7
    j = body.rindex(b"endstream")
    return body[i:j].rstrip(b"\n") if not body[i:j].endswith(b"\n\n") else body[i:j - 1]


def ref(body, key):
    m = re.search(rb"/" + key + rb" (\d+) 0 R", body)
    return int(m.group(1)) if m else None


def has_outline(font, name, depth=0):
    g = font["glyf"][name]
    if g.isComposite():
        return depth < 8 and all(has_outline(font, c.glyphName, depth + 1) for c in g.components)
    return g.numberOfContours > 0 and len(g.getCoordinates(font["glyf"])[0]) > 0


def main(path):
    objs = objects(qdf(path))
    fails = []
    checked = 0
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", path, "-"], check=True,
                          capture_output=True).stdout.decode("utf-8")
    chars = sorted({c for c in text if not c.isspace() and ord(c) <= 0xFFFF})
    fonts = [b for b in objs.values() if b"/CIDFontType2" in b]
    if not fonts:
        print("no CIDFontType2 font in", path)
        return 1
    for cid_font in fonts:
        desc = objs[ref(cid_font, b"FontDescriptor")]
        body = objs[ref(desc, b"FontFile2")]
        length1 = int(re.search(rb"/Length1 (\d+)", body).group(1))
        data = stream(body)[:length1]
        font = TTFont(io.BytesIO(data))
        order = font.getGlyphOrder()
        cmap = font.getBestCmap() or {}
        m = stream(objs[ref(cid_font, b"CIDToGIDMap")])
        for c in chars:
            cid = ord(c)
            gid = (m[2 * cid] << 8 | m[2 * cid + 1]) if 2 * cid + 1 < len(m) else 0
            if gid == 0 or gid >= len(order):
                fails.append("%r U+%04X: no glyph (gid %d)" % (c, cid, gid))
                continue
            if cmap.get(cid) != order[gid]:
                fails.append("%r U+%04X: font cmap says %s, CIDToGIDMap %s" % (c, cid, cmap.get(cid), order[gid]))
            if not has_outline(font, order[gid]):
                fails.append("%r U+%04X: glyph %d has no outline" % (c, cid, gid))
            checked += 1
    for f in fails:
        print(f)
    if fails or not checked:
        return 1
    print("ok %d characters" % checked)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
