#!/usr/bin/python3
"""Layout check of a rendered certificate: no two words of a page overlap,
every word lies inside the page frame, no text is lower than MIN_BOX.

Usage: check_layout.py FILE.pdf
Uses `pdftotext -bbox` (poppler-utils): one box per word, top-left origin,
in points. Exit 0 and "ok N words" when clean, else 1 with one line per
problem (page, the two words and their boxes).
"""
import html
import re
import subprocess
import sys

FRAME = (36.0, 36.0, 595.276 - 36.0, 841.89 - 36.0)  # inside the printed double frame
MIN_BOX = 7.0  # word box height (~1.2 em): print below ~6 pt is not legible on paper

WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>')


def pages(path):
    out = subprocess.run(["pdftotext", "-bbox", path, "-"], check=True, capture_output=True, text=True).stdout
    for chunk in out.split("<page ")[1:]:
        yield [(float(a), float(b), float(c), float(d), html.unescape(t)) for a, b, c, d, t in WORD.findall(chunk)]


def overlap(a, b):
    """Words collide when their boxes (ascent to descent) share more than
    1 pt across and touch vertically: every line of the layout keeps its
    leading, so even touching boxes mean two lines ran into each other."""
    dx = min(a[2], b[2]) - max(a[0], b[0])
    dy = min(a[3], b[3]) - max(a[1], b[1])
    return dx > 1.0 and dy > -0.5


def main():
    problems, n = [], 0
    for p, words in enumerate(pages(sys.argv[1]), 1):
        n += len(words)
        for i, a in enumerate(words):
            if a[0] < FRAME[0] or a[1] < FRAME[1] or a[2] > FRAME[2] or a[3] > FRAME[3]:
                problems.append("page %d: %r %s outside the frame" % (p, a[4], a[:4]))
            if a[3] - a[1] < MIN_BOX:
                problems.append("page %d: %r %s lower than %.1f pt" % (p, a[4], a[:4], MIN_BOX))
            for b in words[i + 1:]:
                if overlap(a, b):
                    problems.append("page %d: %r %s overlaps %r %s" % (p, a[4], a[:4], b[4], b[:4]))
    for line in problems:
        print(line)
    if not problems:
        print("ok %d words" % n)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
