#!/usr/bin/env python3
"""figure.py - draws the address space the kernel runs on as an SVG, from a real boot's
serial log: the `map:` lines of `kernel.efi map` (the tables `boot` builds, walked by
paging/), then the kernel's own additions from its report (`fb: window=`, the tour's
example page, the handoff page it removes). Regions are named as the post's figures name
them. Python 3 standard library only.
  figure.py LOG OUT.svg
"""
import re
import sys

MAP = re.compile(r'^map: virt=0x([0-9a-f]{16})-0x([0-9a-f]{16}) phys=0x([0-9a-f]{16}) '
                 r'size=(\S+) page=(\S+) (.*)$')


def parse(path):
    text = open(path, encoding='utf-8', errors='replace').read().replace('\r', '')
    text = re.sub(r'\x1b\[[0-9;=?]*[A-Za-z]', '', text)
    ranges, extra = [], {}
    for ln in text.split('\n'):
        m = MAP.match(ln)
        if m:
            ranges.append(dict(lo=int(m[1], 16), hi=int(m[2], 16), phys=int(m[3], 16),
                               size=m[4], page=m[5], flags=m[6].strip()))
            continue
        m = re.match(r'^fb: window=0x([0-9a-f]{16}) bytes=(\d+) cache=(\w+)', ln)
        if m:
            extra['fb'] = (int(m[1], 16), int(m[2]), m[3])
        m = re.match(r'^tour: example page=0x([0-9a-f]{16}) frame=0x([0-9a-f]{16}) .*result=ok', ln)
        if m:
            extra['example'] = (int(m[1], 16), int(m[2], 16))
        m = re.match(r'^paging: handoff_page=0x([0-9a-f]{16}) unmapped=yes', ln)
        if m:
            extra['handoff'] = int(m[1], 16)
        m = re.match(r'^fb: base=0x([0-9a-f]{16})', ln)
        if m:
            extra['fb_phys'] = int(m[1], 16)
    if not ranges:
        sys.exit(f'{path}: no map: lines (run kernel.efi map in the boot)')
    return ranges, extra


def name(r, extra):
    """The post's name for a range of the boot's map."""
    if r['lo'] == r['phys'] and r['hi'] - r['lo'] <= 0x1000:
        return 'identity-mapped handoff page', 'removed by the kernel at entry'
    if r['lo'] >= 0x00000a0000000000 and r['lo'] < 0x0000800000000000 and r['page'] in ('1G', '2M'):
        return 'complete physical memory, at offset 10 TiB', f"{r['size']} on {r['page']} pages, {r['flags']}"
    if 'X' in r['flags'].split() and r['lo'] >= 0xffffffff80000000:
        return 'kernel code', r['flags']
    if r['lo'] >= 0xffffffff80000000 and 'RO' in r['flags'].split():
        return 'kernel read-only data', r['flags']
    if r['lo'] >= 0xffffffff80000000:
        return 'kernel data and bss', r['flags']
    if 0xffffffff00000000 <= r['lo'] < 0xffffffff80000000:
        return 'kernel stack (guard page below)', r['flags']
    return 'mapped', r['flags']


def esc(s):
    return s.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;')


def svg(ranges, extra):
    rows = []  # (lo, hi, title, note, colour)
    for r in ranges:
        t, n = name(r, extra)
        colour = '#9ecae1' if 'physical memory' in t else '#fdae6b' if 'kernel' in t else '#d9d9d9'
        if 'handoff' in t:
            colour = '#eeeeee'
        rows.append((r['lo'], r['hi'], t, f"0x{r['lo']:016x}  {n}", colour, r))
    if 'example' in extra:
        va, pa = extra['example']
        rows.append((va, va + 0x1000, "example page 0xdeadbeaf000 (the post's create_example_mapping)",
                     f'0x{va:016x}  mapped by the tour onto the framebuffer frame 0x{pa:016x}',
                     '#a1d99b', None))
    if 'fb' in extra:
        va, n, cache = extra['fb']
        rows.append((va, va + n, 'framebuffer window', f'0x{va:016x}  {n // 1024} KiB, {cache.upper()}, added by the kernel',
                     '#a1d99b', None))
    rows.sort(key=lambda x: x[0])
    # Fixed markers of the layout, not to scale.
    marks = [(0, 'virtual address 0: the null page is not mapped'),
             (0x0000800000000000, 'non-canonical hole (0x0000800000000000 .. 0xffff7fffffffffff)'),
             (0xffff800000000000, 'higher half: free for the kernel from 0xffff800000000000')]
    items = sorted([(m[0], 'mark', m[1]) for m in marks] + [(r[0], 'row', r) for r in rows],
                   key=lambda x: (x[0], x[1] == 'row'))
    W, x0, bw, y = 1100, 40, 430, 90
    out = [f'<text x="{x0}" y="40" font-size="20" font-weight="bold">Virtual Address Space</text>',
           f'<text x="{x0}" y="62" font-size="12" fill="#555">the kernel\'s at boot, from the tables '
           'kernel.efi map walked (top: low addresses; not to scale)</text>',
           f'<text x="{x0 + bw + 330}" y="40" font-size="20" font-weight="bold">Physical Memory</text>']
    phys_y = {}
    for _, kind, it in items:
        if kind == 'mark':
            out.append(f'<rect x="{x0}" y="{y}" width="{bw}" height="26" fill="#ffffff" stroke="#999" stroke-dasharray="4 3"/>')
            out.append(f'<text x="{x0 + 8}" y="{y + 17}" font-size="12" fill="#555">{esc(it)}</text>')
            y += 34
            continue
        lo, hi, title, note, colour, r = it
        h = 70 if 'physical memory' in title else 40
        out.append(f'<rect x="{x0}" y="{y}" width="{bw}" height="{h}" fill="{colour}" stroke="#333"/>')
        out.append(f'<text x="{x0 + 8}" y="{y + 17}" font-size="13" font-weight="bold">{esc(title)}</text>')
        out.append(f'<text x="{x0 + 8}" y="{y + 33}" font-size="10" font-family="monospace">{esc(note[:70])}</text>')
        if r is not None and 'physical memory' in title:
            phys_y['physmap'] = (y, y + h, r)
        y += h + 8
    # Physical memory column: the physmap's target, with the offset arrow.
    px, pw = x0 + bw + 330, 260
    if 'physmap' in phys_y:
        y0, y1, r = phys_y['physmap']
        top = 90
        height = max(y - top - 8, 200)
        out.append(f'<rect x="{px}" y="{top}" width="{pw}" height="{height}" fill="#c6dbef" stroke="#333"/>')
        out.append(f'<text x="{px + 8}" y="{top + 18}" font-size="12" font-family="monospace">0x{r["phys"]:016x}</text>')
        out.append(f'<text x="{px + 8}" y="{top + height - 8}" font-size="12" font-family="monospace">'
                   f'0x{r["phys"] + (r["hi"] - r["lo"]):016x}</text>')
        out.append(f'<text x="{px + 8}" y="{top + height / 2}" font-size="13">all of it, page tables included</text>')
        out.append(f'<line x1="{x0 + bw}" y1="{y0}" x2="{px}" y2="{top}" stroke="#3182bd" stroke-width="2"/>')
        out.append(f'<line x1="{x0 + bw}" y1="{y1}" x2="{px}" y2="{top + height}" stroke="#3182bd" stroke-width="2"/>')
        out.append(f'<text x="{x0 + bw + 20}" y="{(y0 + top) / 2 - 6}" font-size="13" fill="#3182bd">'
                   f'virtual = physical + 0x{r["lo"] - r["phys"]:x} (10 TiB)</text>')
    H = y + 30
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
            f'font-family="sans-serif">\n<rect width="{W}" height="{H}" fill="white"/>\n' +
            '\n'.join(out) + '\n</svg>\n')


def main(argv):
    if len(argv) != 3:
        sys.exit(__doc__)
    ranges, extra = parse(argv[1])
    open(argv[2], 'w').write(svg(ranges, extra))
    print(f'figure: {argv[2]} from {argv[1]} ranges={len(ranges)} kernel_additions={len(extra)}')


if __name__ == '__main__':
    main(sys.argv)
