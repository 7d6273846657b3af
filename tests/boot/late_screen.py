#!/usr/bin/env python3
"""late_screen.py - checks the EFI stage's late-failure screen (efi/latefb.c) in a PPM
screendump: a red band across the full width at the top, holding the given lines in
white, wrapped as the stage wraps them, each cell pixel for pixel in the PSF font.
  late_screen.py PPM FONT LINE...      prints ok/FAIL lines, exits 1 on any FAIL"""

import importlib.util
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("screen", os.path.join(HERE, "screen.py"))
screen = importlib.util.module_from_spec(spec)
spec.loader.exec_module(screen)

MARGIN = 8                                   # latefb.c's MARGIN
BAND, TEXT = (0xc0, 0x00, 0x00), (0xff, 0xff, 0xff)


def main(argv):
    if len(argv) < 4:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    scr, font = screen.Screen(argv[1]), screen.Font(argv[2])
    rep = screen.Report()
    cols = (scr.w - 2 * MARGIN) // font.w
    rows = []
    for line in argv[3:]:
        rows += [line[i:i + cols] for i in range(0, max(len(line), 1), cols)]
    band = len(rows) * font.h + 2 * MARGIN
    edges = [0, MARGIN - 1, band - MARGIN, band - 1]
    rep.check("band: rows %s red across all %d pixels" % (edges, scr.w),
              all(scr.rgb(x, y) == BAND for y in edges for x in range(scr.w)))
    rep.check("band: every pixel of its %d rows red or white" % band,
              all(scr.rgb(x, y) in (BAND, TEXT) for y in range(band) for x in range(scr.w)))
    for r, text in enumerate(rows):
        bad = 0
        for c in range(cols):
            ch = text[c] if c < len(text) else " "
            x0, y0 = MARGIN + c * font.w, MARGIN + r * font.h
            if any((scr.rgb(x0 + x, y0 + y) == TEXT) != font.bit(ch, x, y)
                   for y in range(font.h) for x in range(font.w)):
                bad += 1
        rep.check("text row %d matches \"%s\"" % (r, text), bad == 0, "%d cells differ" % bad)
    return 1 if rep.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
