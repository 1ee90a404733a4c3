#!/usr/bin/python3
"""Glyph outline check for a certificate PDF (run with Debian's /usr/bin/python3).

Guards against the libharu 2.3.0 composite-glyph bug (tech-notes.md §3.2):
a character can be embedded with an empty outline and still "extract" fine.

For every character of the page text (pdftotext), find the glyph the PDF
draws for it — the fonts are Type0/Identity-H, so the code is the CID: the
font's ToUnicode CMap gives the code of each character (dense codes from
meterlab's encoder, or code = code point with libharu's UTF-8 encoder) and
CIDToGIDMap the glyph id — and assert that glyph in the embedded FontFile2
has an outline: a simple glyph with numberOfContours > 0 and points, or a
composite whose components all have outlines. Also checks that the
embedded font's own cmap maps the character to the same glyph.

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


def stream(body, objs):
    """Stream data of a qdf object, cut at its /Length (qpdf adds a newline only when the data lacks one)."""
    i = body.index(b"stream\n") + 7
    m = re.search(rb"/Length (\d+) 0 R", body)
    n = int(objs[int(m.group(1))].strip()) if m else int(re.search(rb"/Length (\d+)", body).group(1))
    return body[i:i + n]


def ref(body, key):
    m = re.search(rb"/" + key + rb" (\d+) 0 R", body)
    return int(m.group(1)) if m else None


def tounicode(cmap):
    """Unicode code point -> code, from bfchar and bfrange sections."""
    rev = {}
    for sec in re.findall(rb"beginbfchar\n(.*?)endbfchar", cmap, re.S):
        for a, b in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", sec):
            rev.setdefault(int(b, 16), int(a, 16))
    for sec in re.findall(rb"beginbfrange\n(.*?)endbfrange", cmap, re.S):
        for a, b, c in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", sec):
            for k in range(int(b, 16) - int(a, 16) + 1):
                rev.setdefault(int(c, 16) + k, int(a, 16) + k)
    return rev


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
    fonts = [b for b in objs.values() if b"/Type0" in b]
    if not fonts:
        print("no Type0 font in", path)
        return 1
    for type0 in fonts:
        rev = tounicode(stream(objs[ref(type0, b"ToUnicode")], objs))
        cid_font = objs[int(re.search(rb"/DescendantFonts \[\s*(\d+) 0 R", type0).group(1))]
        desc = objs[ref(cid_font, b"FontDescriptor")]
        body = objs[ref(desc, b"FontFile2")]
        length1 = int(re.search(rb"/Length1 (\d+)", body).group(1))
        data = stream(body, objs)[:length1]
        font = TTFont(io.BytesIO(data))
        order = font.getGlyphOrder()
        cmap = font.getBestCmap() or {}
        m = stream(objs[ref(cid_font, b"CIDToGIDMap")], objs)
        for c in chars:
            u = ord(c)
            cid = rev.get(u)
            if cid is None:
                fails.append("%r U+%04X: not in the ToUnicode CMap" % (c, u))
                continue
            gid = (m[2 * cid] << 8 | m[2 * cid + 1]) if 2 * cid + 1 < len(m) else 0
            if gid == 0 or gid >= len(order):
                fails.append("%r U+%04X: code %04X has no glyph (gid %d)" % (c, u, cid, gid))
                continue
            if cmap.get(u) != order[gid]:
                fails.append("%r U+%04X: font cmap says %s, CIDToGIDMap %s" % (c, u, cmap.get(u), order[gid]))
            if not has_outline(font, order[gid]):
                fails.append("%r U+%04X: glyph %d has no outline" % (c, u, gid))
            checked += 1
    for f in fails:
        print(f)
    if fails or not checked:
        return 1
    print("ok %d characters" % checked)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
