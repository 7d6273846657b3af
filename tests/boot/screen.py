#!/usr/bin/env python3
"""screen.py - the screen test's helper: takes a QEMU screendump over QMP, and checks a
PPM screendump against the kernel's serial log by rendering each expected text row with
the same PSF font the kernel was built with (scripts/psf2c.py parses it). Subcommands:
  dump SOCKET OUT.ppm                 screendump through QMP
  check LOG PPM FONT                  prints ok/FAIL lines, exits 1 on any FAIL
  find PPM FONT TEXT                  exits 0 when a text row starts with TEXT (the layout
                                      follows from the screen's size, as the kernel's does)
  png PPM OUT.png                     converts (zlib only) for the README"""

import importlib.util
import json
import os
import re
import socket
import struct
import sys
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location(
    "psf2c", os.path.join(HERE, "..", "..", "scripts", "psf2c.py"))
psf2c = importlib.util.module_from_spec(spec)
spec.loader.exec_module(psf2c)

BG = (0, 0, 0)
RED, AMBER = (0xff, 0x50, 0x50), (0xf0, 0xc0, 0x40)  # fbcon.c's error and note colours


def qmp_screendump(sock_path, out):
    """Asks QEMU for a screendump of the primary console; raises on a QMP error."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(20)
    s.connect(sock_path)
    f = s.makefile("rw")

    def reply():
        while True:
            msg = json.loads(f.readline())
            if "return" in msg or "error" in msg:
                return msg

    json.loads(f.readline())  # greeting
    for cmd in ({"execute": "qmp_capabilities"},
                {"execute": "screendump", "arguments": {"filename": os.path.abspath(out)}}):
        f.write(json.dumps(cmd) + "\n")
        f.flush()
        msg = reply()
        if "error" in msg:
            raise RuntimeError("QMP %s: %s" % (cmd["execute"], msg["error"]))
    s.close()


def read_ppm(path):
    """(width, height, rgb bytes) of a binary PPM with maxval 255."""
    with open(path, "rb") as f:
        data = f.read()
    fields, pos = [], 0
    while len(fields) < 4:
        m = re.compile(rb"\s*(#[^\n]*\n\s*)*(\S+)").match(data, pos)
        fields.append(m.group(2))
        pos = m.end()
    if fields[0] != b"P6" or fields[3] != b"255":
        raise ValueError("%s: not an 8-bit binary PPM" % path)
    w, h = int(fields[1]), int(fields[2])
    return w, h, data[pos + 1:pos + 1 + w * h * 3]


class Screen:
    def __init__(self, path):
        self.w, self.h, self.px = read_ppm(path)

    def rgb(self, x, y):
        i = (y * self.w + x) * 3
        return tuple(self.px[i:i + 3])

    def ink(self, x, y):
        return self.rgb(x, y) != BG


class Font:
    def __init__(self, path):
        data = psf2c.load(path)
        parse = psf2c.parse_psf1 if data[:2] == psf2c.PSF1_MAGIC else psf2c.parse_psf2
        self.w, self.h, self.row, glyphs, (kind, table) = parse(data)
        cmap = psf2c.unicode_map(kind, table, len(glyphs)) if table else None
        self.glyphs = {}
        for cp in range(psf2c.FIRST, psf2c.LAST + 1):
            self.glyphs[chr(cp)] = glyphs[psf2c.glyph_for(cp, cmap, glyphs)]
        self.fallback = self.glyphs["?"]

    def bit(self, ch, x, y):
        g = self.glyphs.get(ch, self.fallback)
        return bool(g[y * self.row + x // 8] & (0x80 >> (x % 8)))


def cell_errors(scr, font, text, cols, r, top):
    """Number of cells in text row r whose pixels differ from text rendered in font."""
    bad = 0
    y0 = top + r * font.h
    for c in range(cols):
        ch = text[c] if c < len(text) else " "
        x0 = c * font.w
        for y in range(font.h):
            if any(scr.ink(x0 + x, y0 + y) != font.bit(ch, x, y) for x in range(font.w)):
                bad += 1
                break
    return bad


def expected_rows(kernel_lines, cols, rows):
    """What the console shows after printing kernel_lines: long lines wrap, and the
    cursor's empty row after the last newline counts, so the screen holds the last rows."""
    out = []
    for line in kernel_lines:
        line = "".join(ch if " " <= ch <= "~" else "?" for ch in line)
        out += [line[i:i + cols] for i in range(0, max(len(line), 1), cols)]
    out.append("")
    return out[-rows:] if len(out) > rows else out + [""] * (rows - len(out))


def row_colour(scr, font, r, top, cols):
    """The most common ink colour in text row r, or None if it has no ink."""
    count = {}
    for y in range(top + r * font.h, top + (r + 1) * font.h):
        for x in range(0, cols * font.w):
            c = scr.rgb(x, y)
            if c != BG:
                count[c] = count.get(c, 0) + 1
    return max(count, key=count.get) if count else None


class Report:
    def __init__(self):
        self.failed = 0

    def check(self, name, ok, detail=""):
        print("%s %s%s" % ("ok  " if ok else "FAIL", name, " (%s)" % detail if detail else ""))
        self.failed += 0 if ok else 1


def check(log_path, ppm, font_path):
    rep = Report()
    with open(log_path, "r", errors="replace") as f:
        log = f.read().replace("\r", "").split("\n")
    scr, font = Screen(ppm), Font(font_path)
    m = [re.match(r"fbcon: cols=(\d+) rows=(\d+) font=(\d+)x(\d+) top=(\d+)", l) for l in log]
    m = [x for x in m if x]
    fb = [re.match(r"fb: base=\S+ width=(\d+) height=(\d+) stride=(\d+)", l) for l in log]
    fb = [x for x in fb if x]
    rep.check("console reported its layout on serial", bool(m and fb))
    if not (m and fb):
        return rep
    cols, rows, fw, fh, top = (int(v) for v in m[-1].groups())
    width, height, stride = (int(v) for v in fb[-1].groups())
    rep.check("screendump is the framebuffer's size", (scr.w, scr.h) == (width, height),
              "%dx%d" % (scr.w, scr.h))
    rep.check("kernel font matches the packaged font", (fw, fh) == (font.w, font.h))
    starts = [i for i, l in enumerate(log) if l.startswith("kernel: entry=")]
    rep.check("serial log has the kernel's report", bool(starts))
    if not starts or (scr.w, scr.h) != (width, height):
        return rep
    # The kernel's first kprintf starts with a newline: its first row is empty.
    lines = [""] + log[starts[-1]:]
    if lines[-1] == "":
        lines.pop()  # the log ends with the last line's newline
    want = expected_rows(lines, cols, rows)
    bad_rows = [(r, cell_errors(scr, font, want[r], cols, r, top)) for r in range(rows)]
    bad_rows = [(r, n) for r, n in bad_rows if n]
    shown = sum(1 for t in want if t)
    rep.check("every text row shows the serial log's line, pixel for pixel (%d rows of text)"
              % shown, not bad_rows,
              ", ".join("row %d: %d cells differ" % x for x in bad_rows[:4]))
    inked = [r for r in range(rows) if want[r]]
    rep.check("text rows have ink, blank rows none", all(
        (row_colour(scr, font, r, top, cols) is not None) == bool(want[r].strip()) for r in range(rows)))
    # Negative control: the same comparison against the log shifted one row must fail,
    # or the check above could not tell rows apart.
    shifted = ["x"] + want[:-1]
    rep.check("negative control: a one-row shift does not match",
              sum(cell_errors(scr, font, shifted[r], cols, r, top) for r in inked[:8]) > 0)
    ready = [r for r in range(rows) if want[r].startswith("kernel: ready")]
    colour = row_colour(scr, font, ready[-1], top, cols) if ready else None
    rep.check("kernel: ready is the last line and green", bool(ready) and colour is not None
              and colour[1] > 128 and colour[0] < 128 and colour[2] < 128, "colour %s" % (colour,))
    red = [r for r in inked if row_colour(scr, font, r, top, cols) == RED]
    failing = re.search(r"FAIL|=fail|panic:|exception:|(failed|mismatches)=[1-9]", "\n".join(lines))
    rep.check("no red text on a boot without failures" if not failing else
              "failures are shown in red", bool(red) == bool(failing), "%d red rows" % len(red))
    notes = [r for r in inked if want[r].startswith("fault: expected")]
    if notes:
        colour = row_colour(scr, font, notes[0], top, cols)
        rep.check("an expected fault's report is amber, not red", colour == AMBER,
                  "colour %s" % (colour,))
    key = [r for r in inked if re.match(r"[a-z]+: ", want[r]) and r not in ready]
    if key:
        r = key[0]
        prefix = {scr.rgb(x, y) for x in range(font.w * want[r].index(":"))
                  for y in range(top + r * font.h, top + (r + 1) * font.h)} - {BG}
        rest = row_colour(scr, font, r, top, cols)
        rep.check("subsystem prefix drawn in its own colour", bool(prefix) and rest not in prefix,
                  "prefix %s, text %s" % (sorted(prefix)[:1], rest))
    bpp = re.search(r"^fbcon: .* bytes_pp=(\d+)", "\n".join(log), re.M)
    check_band(rep, scr, top, stride, int(bpp.group(1)) if bpp else 4, "\n".join(log))
    return rep


def check_band(rep, scr, top, stride, bpp, log):
    """The rows above the text belong to the framebuffer's first page, which the tour may
    draw on through its example mapping; the console never writes there."""
    first_page = 4096 // bpp  # pixels in the first 4 KiB of the framebuffer
    ink = [(x, y) for y in range(top) for x in range(scr.w) if scr.ink(x, y)]
    outside = [p for p in ink if p[1] * stride + p[0] >= first_page]
    rep.check("band above the text: ink only inside the framebuffer's first page",
              not outside, "%d pixels outside" % len(outside))
    if re.search(r"0x0*deadbeaf000", log):
        rep.check("tour's mark through 0xdeadbeaf000 visible in the first page",
                  len(ink) >= 64, "%d pixels" % len(ink))
    else:
        print("note: the log names no mapping of 0xdeadbeaf000 yet; first page has %d ink "
              "pixels" % len(ink))


def find(ppm, font_path, text):
    scr, font = Screen(ppm), Font(font_path)
    band = -(-4096 // (scr.w * 4))  # scan lines of the first page, 4-byte pixels, no padding
    top = -(-band // font.h) * font.h
    cols, rows = scr.w // font.w, (scr.h - top) // font.h
    return any(cell_errors(scr, font, text, len(text), r, top) == 0 and
               row_colour(scr, font, r, top, cols) is not None for r in range(rows))


def png(ppm, out):
    w, h, px = read_ppm(ppm)
    raw = b"".join(b"\0" + px[y * w * 3:(y + 1) * w * 3] for y in range(h))

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + \
            struct.pack(">I", zlib.crc32(kind + body) & 0xffffffff)

    with open(out, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def main(argv):
    if len(argv) >= 4 and argv[1] == "dump":
        qmp_screendump(argv[2], argv[3])
        return 0
    if len(argv) == 5 and argv[1] == "check":
        return 1 if check(argv[2], argv[3], argv[4]).failed else 0
    if len(argv) == 5 and argv[1] == "find":
        return 0 if find(argv[2], argv[3], argv[4]) else 1
    if len(argv) == 4 and argv[1] == "png":
        png(argv[2], argv[3])
        return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
