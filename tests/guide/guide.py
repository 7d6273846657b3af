#!/usr/bin/env python3
"""guide.py - keeps docs/from-the-post.md honest: pulls its marked code blocks out so that
make guide-test and make playground-test can compile and run them.

A marker is an HTML comment on the line before a fenced block:
  <!-- guide-test: prelude -->        C shared by every host block (includes, helpers)
  <!-- guide-test: host NAME -->      C defining `static void NAME(void)`; run on the host
  <!-- guide-test: output NAME -->    the text NAME prints, compared line for line
  <!-- guide-test: playground -->     C compiled into the kernel playground (its exercise)
  <!-- guide-test: playground-output -->  what that prints in a boot (addresses may differ)
  <!-- guide-test: transcript -->     a shell session: `FS0:\\> kernel.efi ...` lines and
                                      what they print ("..." skips lines), checked on a boot
  <!-- guide-test: bootlog -->        lines of a boot's serial log, in order ("..." skips)
Commands:
  guide.py host DOC OUT.c          writes the host program (main runs every NAME in order)
  guide.py check-host DOC PROGRAM  runs it and compares each NAME's output; ok/FAIL lines
  guide.py playground DOC OUT.c    writes the playground block
  guide.py check-playground DOC LOG   the playground-output lines against a boot's log
  guide.py commands DOC...         the kernel.efi command lines of every transcript
  guide.py check-transcripts LOG DOC...   each transcript's lines against a boot's log
"""
import re
import subprocess
import sys

MARK = re.compile(r'^<!--\s*guide-test:\s*([\w-]+)(?:\s+(\S+))?\s*-->\s*$')


def blocks(path):
    """(kind, name, text, line) for every marked fenced block of path, in order."""
    lines = open(path, encoding='utf-8').read().split('\n')
    out = []
    i = 0
    while i < len(lines):
        m = MARK.match(lines[i])
        if not m:
            i += 1
            continue
        j = i + 1
        if j >= len(lines) or not lines[j].startswith('```'):
            sys.exit(f'{path}:{i + 1}: marker not followed by a fenced block')
        k = j + 1
        while k < len(lines) and not lines[k].startswith('```'):
            k += 1
        if k == len(lines):
            sys.exit(f'{path}:{j + 1}: fenced block never closed')
        out.append((m.group(1), m.group(2), '\n'.join(lines[j + 1:k]), i + 1))
        i = k + 1
    return out


def host_program(doc):
    parts, names = [], []
    for kind, name, text, line in blocks(doc):
        if kind == 'prelude':
            parts.append(f'#line {line + 2} "{doc}"\n{text}\n')
        elif kind == 'host':
            parts.append(f'#line {line + 2} "{doc}"\n{text}\n')
            names.append(name)
    if not names:
        sys.exit(f'{doc}: no host blocks')
    main = ['int main(void)', '{', '\tsetvbuf(stdout, NULL, _IONBF, 0);']
    for n in names:
        main += [f'\tprintf("--- {n}\\n");', f'\t{n}();']
    main += ['\treturn 0;', '}']
    return '\n'.join(parts) + '\n' + '\n'.join(main) + '\n'


def check_host(doc, program):
    expected = {name: text for kind, name, text, _ in blocks(doc) if kind == 'output'}
    hosts = [name for kind, name, _, _ in blocks(doc) if kind == 'host']
    run = subprocess.run([program], capture_output=True, text=True)
    got, cur = {}, None
    for ln in run.stdout.split('\n'):
        if ln.startswith('--- '):
            cur = ln[4:]
            got[cur] = []
        elif cur is not None:
            got[cur].append(ln)
    passed = failed = 0

    def verdict(ok, what):
        nonlocal passed, failed
        print(('ok   ' if ok else 'FAIL ') + what)
        passed, failed = passed + ok, failed + (not ok)

    verdict(run.returncode == 0, f'host program ran (exit {run.returncode})')
    if run.stderr.strip():
        print(run.stderr.strip())
    for n in hosts:
        text = '\n'.join(got.get(n, [])).rstrip('\n')
        want = expected.get(n)
        if want is None:
            verdict(False, f'{n}: the guide shows no output block for it')
            continue
        ok = text == want.rstrip('\n')
        verdict(ok, f'{n}: prints what the guide shows')
        if not ok:
            print('  guide:\n    ' + '\n    '.join(want.split('\n')))
            print('  run:\n    ' + '\n    '.join(text.split('\n')))
    return passed, failed


def playground(doc):
    found = [text for kind, _, text, _ in blocks(doc) if kind == 'playground']
    if len(found) != 1:
        sys.exit(f'{doc}: want exactly one playground block, found {len(found)}')
    return found[0] + '\n'


PROMPT = re.compile(r'^FS0:\\> (kernel\.efi .*)$')


def transcripts(docs):
    """[(doc, command, [expected lines])] from every transcript block."""
    out = []
    for doc in docs:
        for kind, _, text, _ in blocks(doc):
            if kind != 'transcript':
                continue
            cur = None
            for ln in text.split('\n'):
                m = PROMPT.match(ln)
                if m:
                    cur = (doc, m.group(1), [])
                    out.append(cur)
                elif cur is not None and ln.strip():
                    cur[2].append(ln)
    return out


# Values that differ from boot to boot: addresses (16 hex digits), times and clock rates.
# The kernel's segment sizes change with every build; usable memory and so the frame
# allocator's counts with the firmware and the image.
VARIES = [(re.compile(r'0x[0-9a-fA-F]{16}'), '0x<addr>'),
          (re.compile(r'\b(tsc_hz|[a-z_]*_us|[a-z_]*_tsc)=\d+'), r'\1=<n>'),
          (re.compile(r'^(efi: kernel segment .* bytes=)\d+'), r'\1<n>'),
          (re.compile(r'^(memory: [a-z-]+=)\d+'), r'\1<n>'),
          (re.compile(r'^frames: total=\d+ free=\d+'), 'frames: total=<n> free=<n>')]


def mask(line):
    for rx, rep in VARIES:
        line = rx.sub(rep, line)
    return line.rstrip()


def in_order(have, want):
    """None when want's lines (masked; "..." skips) appear in have in order, else the
    first line that does not."""
    pos = 0
    for w in want:
        if w.strip() in ('...', ''):
            continue
        mw = mask(w.strip())
        while pos < len(have) and have[pos] != mw:
            pos += 1
        if pos == len(have):
            return w
        pos += 1
    return None


def check_bootlogs(log, docs):
    """Every bootlog block against the log after its "@@@ done" line (the kernel's boot)."""
    text = open(log, encoding='utf-8', errors='replace').read().replace('\r', '')
    text = re.sub(r'\x1b\[[0-9;=?]*[A-Za-z]', '', text)
    after = text.split('@@@ done', 1)[-1]
    have = [mask(ln.strip()) for ln in after.split('\n')]
    passed = failed = 0
    for doc in docs:
        for kind, _, block, line in blocks(doc):
            if kind != 'bootlog':
                continue
            bad = in_order(have, block.split('\n'))
            print(('ok   ' if not bad else 'FAIL ') + f'{doc}:{line}: boot log' +
                  (f': not printed (in this order): {bad}' if bad else ''))
            passed, failed = passed + (not bad), failed + bool(bad)
    return passed, failed


def check_transcripts(log, docs):
    """Each command's section of the log ("@@@ begin CMD" .. "@@@ end") must hold the
    transcript's lines in order (after masking); "..." skips any number of lines."""
    text = open(log, encoding='utf-8', errors='replace').read().replace('\r', '')
    text = re.sub(r'\x1b\[[0-9;=?]*[A-Za-z]', '', text)
    sections, cur = {}, None
    for ln in text.split('\n'):
        if ln.startswith('@@@ begin '):
            cur = ln[len('@@@ begin '):].strip()
            sections[cur] = []
        elif ln.startswith('@@@ end'):
            cur = None
        elif cur is not None:
            sections[cur].append(mask(ln))
    passed = failed = 0
    for doc, cmd, want in transcripts(docs):
        have = sections.get(cmd)
        bad = None
        if have is None:
            bad = 'the boot did not run it'
        else:
            miss = in_order(have, want)
            bad = miss and f'not printed (in this order): {miss}'
        print(('ok   ' if not bad else 'FAIL ') + f'{doc}: FS0:\\> {cmd}' + (f': {bad}' if bad else ''))
        passed, failed = passed + (not bad), failed + bool(bad)
    return passed, failed


def check_playground(doc, log):
    want = [text for kind, _, text, _ in blocks(doc) if kind == 'playground-output']
    if len(want) != 1:
        sys.exit(f'{doc}: want exactly one playground-output block, found {len(want)}')
    text = open(log, encoding='utf-8', errors='replace').read().replace('\r', '')
    have = [mask(ln) for ln in text.split('\n') if ln.startswith('playground: ')]
    wanted = [mask(ln) for ln in want[0].split('\n') if ln.strip()]
    ok = have == wanted
    print(('ok   ' if ok else 'FAIL ') + 'the boot printed the lines the guide shows (addresses aside)')
    if not ok:
        print('  guide:\n    ' + '\n    '.join(wanted) + '\n  boot:\n    ' + '\n    '.join(have))
    return ok


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    cmd = argv[1]
    if cmd == 'host':
        open(argv[3], 'w').write(host_program(argv[2]))
    elif cmd == 'check-host':
        p, f = check_host(argv[2], argv[3])
        print(f'guide-host: {p} passed, {f} failed')
        return 1 if f else 0
    elif cmd == 'playground':
        open(argv[3], 'w').write(playground(argv[2]))
    elif cmd == 'check-playground':
        return 0 if check_playground(argv[2], argv[3]) else 1
    elif cmd == 'commands':
        seen = []
        for _, c, _ in transcripts(argv[2:]):
            if c not in seen:
                seen.append(c)
        print('\n'.join(seen))
    elif cmd == 'check-transcripts':
        p, f = check_transcripts(argv[2], argv[3:])
        p2, f2 = check_bootlogs(argv[2], argv[3:])
        p, f = p + p2, f + f2
        print(f'guide-transcripts: {p} passed, {f} failed')
        return 1 if f else 0
    else:
        sys.exit(__doc__)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
