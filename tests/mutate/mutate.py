#!/usr/bin/env python3
"""mutate.py - operator-level mutation testing of paging/*.c (issue 12).

Generates mutants from the C tokens of each file (comments, strings and preprocessor
lines are never touched), builds each into the unit tests and the model test, runs them
with timeouts, and reports every mutant as killed, survived, equivalent (listed with an
argument in tests/mutate/equivalent.txt) or stillborn (does not compile).

  mutate.py full   [--jobs 2] [--out DIR]   every mutant; table in DIR/report.md
  mutate.py sample [--jobs 2] [--count 24]  a fixed sample, as a suite (N passed, N failed)
  mutate.py list                            print the mutants without running them
  mutate.py key ID...                       the equivalent.txt key of those mutants

The build flags and object lists come from the Makefile through the environment
(MUT_CC, MUT_CFLAGS, MUT_LDFLAGS, MUT_UNIT_OBJ, MUT_MODEL_OBJ, MUT_BUILD).
"""
import argparse
import concurrent.futures as cf
import hashlib
import os
import re
import resource
import signal
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EQUIV_FILE = os.path.join(ROOT, "tests", "mutate", "equivalent.txt")
SEP = " @@ "

# ---------------------------------------------------------------- tokens

TOKEN_RE = re.compile(r"""
    (?P<ws>[ \t\r\n]+)
  | (?P<comment>/\*.*?\*/|//[^\n]*)
  | (?P<string>"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*')
  | (?P<number>0[xX][0-9a-fA-F]+[uUlL]*|[0-9]+[uUlL]*)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op><<=|>>=|->|\+\+|--|<<|>>|<=|>=|==|!=|&&|\|\||\+=|-=|\*=|/=|%=|&=|\|=|\^=|[][(){};,.?:~!%^&*+=<>|/-])
""", re.S | re.X)


class Tok:
    __slots__ = ("kind", "text", "start", "end", "line")

    def __init__(self, kind, text, start, end, line):
        self.kind, self.text, self.start, self.end, self.line = kind, text, start, end, line

    def __repr__(self):
        return "%s:%r@%d" % (self.kind, self.text, self.line)


def tokenize(src):
    """Code tokens of src with their offsets; preprocessor lines, comments and
    whitespace are dropped (strings are kept as opaque tokens)."""
    toks = []
    pos, line, n = 0, 1, len(src)
    while pos < n:
        bol = src.rfind("\n", 0, pos) + 1
        if src[pos] == "#" and not src[bol:pos].strip():
            end = pos  # a preprocessor line, with its continuations
            while True:
                nl = src.find("\n", end)
                nl = n if nl < 0 else nl
                if src[nl - 1] == "\\" and nl < n:
                    end = nl + 1
                    line += 1
                    continue
                break
            pos = nl
            continue
        m = TOKEN_RE.match(src, pos)
        if not m:
            raise SystemExit("mutate: cannot tokenize at offset %d (line %d)" % (pos, line))
        kind, text = m.lastgroup, m.group(0)
        if kind not in ("ws", "comment"):
            toks.append(Tok(kind, text, pos, m.end(), line))
        line += text.count("\n")
        pos = m.end()
    return toks


def annotate(toks):
    """Per token: the enclosing function's name ('<global>' outside any) and, for each
    function, its return-type tokens. Also the matching index of every bracket."""
    match = {}
    stack = []
    for i, t in enumerate(toks):
        if t.text in "([{" and t.kind == "op":
            stack.append(i)
        elif t.text in ")]}" and t.kind == "op":
            j = stack.pop()
            match[i], match[j] = j, i
    func = ["<global>"] * len(toks)
    rtype = {}
    depth = 0
    i = 0
    cur = "<global>"
    decl_start = 0
    while i < len(toks):
        t = toks[i]
        if depth == 0:
            if t.text in (";", "}") or (t.text == "=" and t.kind == "op"):
                decl_start = i + 1
            if t.text == "(" and i > 0 and toks[i - 1].kind == "ident":
                close = match[i]
                k = close + 1
                while k < len(toks) and toks[k].kind == "ident":  # attributes are idents
                    k += 1
                if k < len(toks) and toks[k].text == "{":
                    name = toks[i - 1].text
                    rt = [x.text for x in toks[decl_start:i - 1]]
                    rtype[name] = rt
                    for j in range(i, match[k] + 1):
                        func[j] = name
                    i = match[k] + 1
                    decl_start = i
                    continue
        i += 1
    return match, func, rtype


# ---------------------------------------------------------------- mutants

class Mutant:
    __slots__ = ("file", "func", "line", "line_text", "desc", "edits", "key", "id", "op")

    def __init__(self, file, func, line, line_text, op, desc, edits):
        self.file, self.func, self.line, self.line_text = file, func, line, line_text
        self.op, self.desc, self.edits = op, desc, edits  # edits: [(start, end, text)]
        self.key = SEP.join((file, func, desc, line_text))
        self.id = hashlib.sha1(self.key.encode()).hexdigest()[:10]

    def apply(self, src):
        out, pos = [], 0
        for s, e, text in sorted(self.edits):
            out.append(src[pos:s])
            out.append(text)
            pos = e
        out.append(src[pos:])
        return "".join(out)


COMPARE = {"<": ["<=", ">="], "<=": ["<", ">"], ">": [">=", "<="], ">=": [">", "<"],
           "==": ["!="], "!=": ["=="]}
DECL_TYPES = {"char", "int", "unsigned", "long", "short", "bool", "const", "*", "uint8_t",
              "uint16_t", "uint32_t", "uint64_t", "size_t", "pg_paddr", "mem_region"}
STMT_START = {";", "{", "}", "else"}
AFTER_OPERAND = {")", ";", ",", "|", "&", "]", "?", ":", "&&", "||", "}"}


def is_operand_end(t):
    return t.kind in ("ident", "number") or t.text in (")", "]")


def number_value(text):
    body = text.rstrip("uUlL")
    suffix = text[len(body):]
    if body.lower().startswith("0x"):
        return int(body, 16), "hex", suffix, len(body) - 2
    return int(body, 10), "dec", suffix, 0


def format_number(v, form, suffix, width):
    if form == "hex":
        return "0x%0*x" % (width, v) + suffix
    return "%d" % v + suffix


def primary_end(toks, match, i):
    """Index one past the primary expression that starts at token i (identifier or
    number, with calls, subscripts and member accesses; or a parenthesized group), or
    None when it is not one."""
    t = toks[i]
    if t.text == "(":
        j = match[i] + 1
    elif t.kind in ("ident", "number"):
        j = i + 1
    else:
        return None
    while j < len(toks):
        if toks[j].text in ("(", "["):
            j = match[j] + 1
        elif toks[j].text in ("->", ".") and j + 1 < len(toks) and toks[j + 1].kind == "ident":
            j += 2
        else:
            break
    return j


def stmt_end(toks, match, i):
    """One past the end of the simple statement starting at i (a block, or tokens up to
    ';' at bracket depth 0); None for compound statements (if/for/while/switch/do)."""
    if toks[i].text == "{":
        return match[i] + 1
    if toks[i].text in ("if", "for", "while", "switch", "do", "else"):
        return None
    j = i
    while j < len(toks) and toks[j].text != ";":
        if toks[j].text in ("(", "[", "{"):
            j = match[j]
        elif toks[j].text == "}":
            return None
        j += 1
    return j + 1 if j < len(toks) else None


def gen_mutants(relpath, src):
    toks = tokenize(src)
    match, func, rtype = annotate(toks)
    lines = src.split("\n")
    muts = []
    occ = {}

    same_line = {}  # (function, line text) -> line numbers, to tell identical lines apart

    def add(i, op, desc_core, edits):
        t = toks[i]
        text = lines[t.line - 1].strip()
        seen = same_line.setdefault((func[i], text), [])
        if t.line not in seen:
            seen.append(t.line)
        if len(seen) > 1:
            text = "%s (line #%d of these)" % (text, len(seen))
        k = (t.line, desc_core)
        occ[k] = occ.get(k, 0) + 1
        desc = desc_core if occ[k] == 1 else "%s (#%d)" % (desc_core, occ[k])
        muts.append(Mutant(relpath, func[i], t.line, text, op, desc, edits))

    # static_assert spans are never mutated
    skip = set()
    for i, t in enumerate(toks):
        if t.text == "_Static_assert" and i + 1 < len(toks):
            skip.update(range(i, match[i + 1] + 1))

    for i, t in enumerate(toks):
        if i in skip:
            continue
        prev = toks[i - 1] if i > 0 else None
        nxt = toks[i + 1] if i + 1 < len(toks) else None
        fn = func[i]
        # comparisons
        if t.kind == "op" and t.text in COMPARE:
            for r in COMPARE[t.text]:
                add(i, "cmp", "'%s' -> '%s'" % (t.text, r), [(t.start, t.end, r)])
        # boolean operators
        if t.text in ("&&", "||"):
            r = "||" if t.text == "&&" else "&&"
            add(i, "bool", "'%s' -> '%s'" % (t.text, r), [(t.start, t.end, r)])
        # ! removed
        if t.text == "!":
            add(i, "not", "'!' removed", [(t.start, t.end, "")])
        # constants off by one (not array sizes in declarations)
        if t.kind == "number":
            in_decl = False
            if prev and prev.text == "[" and i >= 3:
                owner, before = toks[i - 2], toks[i - 3]
                if owner.text == "]" or (owner.kind == "ident" and (
                        before.text in DECL_TYPES or before.text.endswith("_t"))):
                    in_decl = True
            if not in_decl:
                v, form, suffix, width = number_value(t.text)
                for d in (1, -1):
                    if v + d < 0:
                        continue
                    r = format_number(v + d, form, suffix, width)
                    add(i, "const", "%s -> %s" % (t.text, r), [(t.start, t.end, r)])
        # binary & MASK and | BIT dropped
        if t.text in ("&", "|") and prev is not None and is_operand_end(prev) and fn != "<global>":
            j = primary_end(toks, match, i + 1) if nxt else None
            if j is not None and j < len(toks) and toks[j].text in AFTER_OPERAND:
                operand = src[toks[i + 1].start:toks[j - 1].end]
                add(i, "mask", "'%s %s' dropped" % (t.text, operand),
                    [(t.start, toks[j - 1].end, "")])
        # x |= BIT; and x &= MASK; dropped
        if t.text in ("&=", "|=") and prev is not None and i >= 2 and toks[i - 2].text in STMT_START:
            e = stmt_end(toks, match, i - 1)
            if e is not None:
                add(i, "mask", "'%s' statement dropped" % t.text,
                    [(toks[i - 1].start, toks[e - 1].start, "(void)0")])
        # statements that are only a call
        if fn != "<global>" and t.kind == "ident" and prev is not None and \
                (prev.text in STMT_START or (prev.text == ")" and toks[match[i - 1] - 1].text in
                                              ("if", "while", "for"))) and \
                t.text not in ("return", "if", "for", "while", "switch", "do", "else", "break",
                               "continue", "goto", "case", "default"):
            j = primary_end(toks, match, i)
            if j is not None and j < len(toks) and toks[j].text == ";" and \
                    toks[j - 1].text == ")":
                call = src[t.start:toks[j - 1].end]
                call = re.sub(r"\s+", " ", call)
                add(i, "call", "call '%s' deleted" % (call[:60]), [(t.start, toks[j].start, "(void)0")])
        # if/else branches swapped
        if t.text == "if" and nxt and nxt.text == "(":
            a0 = match[i + 1] + 1
            a1 = stmt_end(toks, match, a0)
            if a1 is not None and a1 < len(toks) and toks[a1].text == "else":
                b0 = a1 + 1
                b1 = stmt_end(toks, match, b0)
                if b1 is not None:
                    ta = src[toks[a0].start:toks[a1 - 1].end]
                    tb = src[toks[b0].start:toks[b1 - 1].end]
                    add(i, "swap", "if/else branches swapped",
                        [(toks[a0].start, toks[a1 - 1].end, tb),
                         (toks[b0].start, toks[b1 - 1].end, ta)])
        # return values changed
        if t.text == "return" and fn != "<global>" and nxt and nxt.text != ";":
            e = stmt_end(toks, match, i)
            expr = src[nxt.start:toks[e - 2].end]
            rt = rtype.get(fn, [])
            repl = None
            if "pg_err" in rt:
                repl = "PG_ERR_BAD_ARG" if expr == "PG_OK" else "PG_OK"
            elif "bool" in rt:
                repl = {"true": "false", "false": "true"}.get(expr, "!(%s)" % expr)
            elif rt and rt[-1] in ("uint64_t", "unsigned", "size_t", "long", "int") and expr != "0":
                repl = "0"
            elif "*" in rt and expr not in ("0", "NULL"):
                repl = "0"
            if repl is not None:
                add(i, "return", "return '%s' -> '%s'" % (re.sub(r"\s+", " ", expr)[:50], repl),
                    [(nxt.start, toks[e - 2].end, repl)])
    return muts


def all_mutants(files):
    muts = []
    for f in files:
        with open(os.path.join(ROOT, f)) as fh:
            src = fh.read()
        muts.extend(gen_mutants(f, src))
    return muts


# ---------------------------------------------------------------- equivalents

def load_equivalents():
    """key -> argument, from tests/mutate/equivalent.txt:
    file @@ function @@ mutation @@ line text @@ argument"""
    eq = {}
    if not os.path.exists(EQUIV_FILE):
        return eq
    with open(EQUIV_FILE) as fh:
        for n, raw in enumerate(fh, 1):
            line = raw.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            parts = line.split(SEP)
            if len(parts) != 5 or not parts[4].strip():
                raise SystemExit("%s:%d: want 'file @@ function @@ mutation @@ line @@ argument'"
                                 % (EQUIV_FILE, n))
            eq[SEP.join(p.strip() for p in parts[:4])] = parts[4].strip()
    return eq


# ---------------------------------------------------------------- running

class Runner:
    def __init__(self, workdir, model_seeds, model_ops, unit_timeout, model_timeout):
        self.workdir = workdir
        self.cc = os.environ.get("MUT_CC", "cc")
        # Mutants build at -O0 without debug info: a third of the compile time, and the
        # tests, not the optimizer, are what decides a mutant's fate.
        swap = {"-O1": "-O0", "-O2": "-O0", "-g": "-g0"}
        self.cflags = [swap.get(f, f) for f in os.environ["MUT_CFLAGS"].split()
                       if f not in ("-MMD", "-MP")]
        self.ldflags = os.environ["MUT_LDFLAGS"].split()
        self.unit_obj = os.environ["MUT_UNIT_OBJ"].split()
        self.model_obj = os.environ["MUT_MODEL_OBJ"].split()
        self.build = os.environ.get("MUT_BUILD", "build")
        self.model_seeds = model_seeds
        self.model_ops = model_ops
        self.unit_timeout = unit_timeout
        self.model_timeout = model_timeout
        self.sources = {}

    def source(self, f):
        if f not in self.sources:
            with open(os.path.join(ROOT, f)) as fh:
                self.sources[f] = fh.read()
        return self.sources[f]

    def swap(self, objs, sub, f, obj):
        """objs with the object built from source f replaced by obj."""
        want = os.path.join(self.build, sub, f[:-2] + ".o")
        out = [obj if o == want else o for o in objs]
        if obj not in out:
            raise SystemExit("mutate: %s is not among the %s objects" % (want, sub))
        return out

    def run(self, m):
        """(outcome, detail) for one mutant: killed, survived or stillborn."""
        d = tempfile.mkdtemp(prefix=m.id + "-", dir=self.workdir)
        try:
            base = os.path.basename(m.file)
            msrc = os.path.join(d, base)
            with open(msrc, "w") as fh:
                fh.write(m.apply(self.source(m.file)))
            obj = os.path.join(d, base[:-2] + ".o")
            inc = ["-I" + os.path.dirname(os.path.join(ROOT, m.file))]
            r = subprocess.run([self.cc] + self.cflags + inc + ["-Itests/model", "-c", msrc,
                                "-o", obj], cwd=ROOT, capture_output=True, text=True)
            if r.returncode:
                first = next((l for l in r.stderr.splitlines() if "error" in l), "compile error")
                return "stillborn", first.strip()[:120]
            unit = os.path.join(d, "unit")
            r = subprocess.run([self.cc] + self.swap(self.unit_obj, "host", m.file, obj) +
                               self.ldflags + ["-o", unit], cwd=ROOT, capture_output=True,
                               text=True)
            if r.returncode:
                return "stillborn", "link: " + r.stderr.strip()[:100]
            out = self.exec([unit], self.unit_timeout)
            if out:
                return "killed", "unit: " + out
            if m.file.endswith("/pt.c"):
                model = os.path.join(d, "model")
                r = subprocess.run([self.cc] + self.swap(self.model_obj, "model", m.file, obj) +
                                   self.ldflags + ["-o", model], cwd=ROOT, capture_output=True,
                                   text=True)
                if r.returncode:
                    return "stillborn", "link: " + r.stderr.strip()[:100]
                for extra in self.model_runs():
                    out = self.exec([model] + extra, self.model_timeout)
                    if out:
                        return "killed", "model %s: %s" % (" ".join(extra), out)
            return "survived", ""
        finally:
            shutil.rmtree(d, ignore_errors=True)

    def model_runs(self):
        """One run per seed; the last seed runs with 5-level paging, the others with 4."""
        runs = []
        for i, s in enumerate(self.model_seeds):
            levels = "5" if i == len(self.model_seeds) - 1 and i > 0 else "4"
            runs.append(["--seed", str(s), "--ops", str(self.model_ops), "--levels", levels])
        return runs

    def exec(self, argv, timeout):
        """'' when the program passes, else a short reason."""
        env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0:abort_on_error=0",
                   UBSAN_OPTIONS="print_stacktrace=0")
        def limit():  # CPU seconds, so that a loaded machine does not look like a loop
            resource.setrlimit(resource.RLIMIT_CPU, (timeout, timeout + 1))
        try:
            r = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True,
                               timeout=timeout * 10, env=env, errors="replace",
                               preexec_fn=limit)
        except subprocess.TimeoutExpired:
            return "timeout %ds (wall)" % (timeout * 10)
        if r.returncode in (-signal.SIGXCPU, -signal.SIGKILL):
            return "timeout %ds (CPU)" % timeout
        if r.returncode == 0:
            return ""
        lines = r.stdout.splitlines() + r.stderr.splitlines()
        why = next((l for l in lines if l.startswith("FAIL ")), None) or \
            next((l for l in lines if "DIVERGED" in l or "ERROR: " in l or
                  "runtime error" in l), None) or "exit %d" % r.returncode
        return why.strip()[:110]


def run_all(runner, muts, jobs, equiv, progress=True):
    results = {}
    t0 = time.time()
    with cf.ThreadPoolExecutor(max_workers=jobs) as ex:
        futs = {ex.submit(runner.run, m): m for m in muts}
        done = 0
        for fut in cf.as_completed(futs):
            m = futs[fut]
            outcome, detail = fut.result()
            if outcome == "survived" and m.key in equiv:
                outcome, detail = "equivalent", equiv[m.key]
            elif outcome != "survived" and m.key in equiv:
                detail = "(listed as equivalent) " + detail
            results[m.id] = (outcome, detail)
            done += 1
            if progress and (done % 25 == 0 or outcome == "survived"):
                print("mutate: %d/%d done, %.0fs%s" % (done, len(muts), time.time() - t0,
                      "  SURVIVED %s:%d %s %s" % (m.file, m.line, m.func, m.desc)
                      if outcome == "survived" else ""), flush=True)
    return results, time.time() - t0


def md_escape(s):
    return s.replace("|", "\\|").replace("`", "'")


def write_report(path, muts, results, secs, title):
    counts = {k: 0 for k in ("killed", "survived", "equivalent", "stillborn")}
    for m in muts:
        counts[results[m.id][0]] += 1
    with open(path, "w") as fh:
        fh.write("# %s\n\n" % title)
        fh.write("%d mutants: killed=%d survived=%d equivalent=%d stillborn=%d, %.0f s\n\n" % (
            len(muts), counts["killed"], counts["survived"], counts["equivalent"],
            counts["stillborn"], secs))
        fh.write("| where | function | mutation | outcome | detail |\n|---|---|---|---|---|\n")
        for m in muts:
            o, d = results[m.id]
            fh.write("| %s:%d | %s | %s | %s | %s |\n" % (m.file, m.line, m.func,
                     md_escape(m.desc), o, md_escape(d)))
    return counts


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=("full", "sample", "list", "key"))
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--count", type=int, default=24)
    ap.add_argument("--files", default="paging/frame.c paging/pt.c paging/region.c")
    ap.add_argument("--seeds", default="1,2,3")
    ap.add_argument("--ops", type=int, default=20000)
    ap.add_argument("--filter", default="", help="only mutants whose key contains this")
    ap.add_argument("ids", nargs="*", help="key: mutant ids whose equivalent.txt key to print")
    args = ap.parse_intermixed_args()

    files = args.files.split()
    muts = all_mutants(files)
    if args.filter:
        muts = [m for m in muts if args.filter in m.key]
    if args.ids and args.mode != "key":
        muts = [m for m in muts if m.id in args.ids]
    equiv = load_equivalents()
    if args.mode == "key":  # the start of an equivalent.txt line for each id given
        for m in muts:
            if m.id in args.ids:
                print(m.key + SEP)
        return 0
    if args.mode == "list":
        for m in muts:
            print("%s %s:%d %s %s%s%s" % (m.id, m.file, m.line, m.func, m.desc, SEP, m.line_text))
        print("%d mutants" % len(muts))
        return 0

    build = os.environ.get("MUT_BUILD", "build")
    workdir = os.path.join(ROOT, build, "mutate", "work")
    os.makedirs(workdir, exist_ok=True)
    runner = Runner(workdir, [int(s) for s in args.seeds.split(",")], args.ops, 10, 20)

    if args.mode == "full":
        keys = {m.key for m in muts}
        stale = [k for k in equiv if k not in keys]
        for k in stale:
            print("mutate: equivalent.txt names no current mutant: %s" % k)
        print("mutate: %d mutants of %s, %d jobs" % (len(muts), " ".join(files), args.jobs),
              flush=True)
        results, secs = run_all(runner, muts, args.jobs, equiv)
        report = os.path.join(ROOT, build, "mutate", "report.md")
        counts = write_report(report, muts, results, secs, "make mutate: every mutant")
        for m in muts:
            if results[m.id][0] == "survived":
                print("SURVIVED %s:%d %s %s%s%s" % (m.file, m.line, m.func, m.desc, SEP,
                                                   m.line_text))
        print("mutate: table in %s" % os.path.relpath(report, ROOT))
        print("mutate: mutants=%d killed=%d survived=%d equivalent=%d stillborn=%d time=%.0fs" % (
            len(muts), counts["killed"], counts["survived"], counts["equivalent"],
            counts["stillborn"], secs))
        return 1 if counts["survived"] else 0

    # sample: per file a share of the mutants with the smallest key hashes; one that does
    # not compile is replaced by the next. Killed or argued equivalent passes, a survivor fails.
    order = {}
    for m in sorted(muts, key=lambda m: m.id):
        order.setdefault(m.file, []).append(m)
    share = {f: max(3, round(args.count * len(v) / len(muts))) for f, v in order.items()}
    chosen = {f: [] for f in order}
    results, secs = {}, 0.0
    while True:
        todo = []
        for f, v in order.items():
            live = [m for m in chosen[f] if results[m.id][0] != "stillborn"]
            want = share[f] - len(live)
            nxt = v[len(chosen[f]):len(chosen[f]) + want]
            chosen[f].extend(nxt)
            todo.extend(nxt)
        if not todo:
            break
        r, t = run_all(runner, todo, args.jobs, equiv, progress=False)
        results.update(r)
        secs += t
    passed = failed = 0
    for f in sorted(chosen):
        for m in chosen[f]:
            o, d = results[m.id]
            if o == "stillborn":
                continue
            ok = o in ("killed", "equivalent")
            passed += ok
            failed += not ok
            print("%s %s:%d %s %s: %s%s" % ("ok  " if ok else "FAIL", m.file, m.line, m.func,
                                          m.desc, o, " (%s)" % d if d else ""))
    print("mutate-sample: %.0f s" % secs)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
