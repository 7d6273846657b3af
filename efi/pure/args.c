/* args.c - the parser of args.h. Every refusal leaves one line of reason in
 * out->error; nothing is ever truncated or guessed silently. */
#include "args.h"

/* ------------------------------------------------------------------ errors */

/* Starts the reason line; the returned fmt_line appends to out->error. */
static fmt_line why_line(args_result *o)
{
	fmt_line l;
	fmt_init(&l, o->error, sizeof(o->error));
	return l;
}

/* The common shape "a'b'c": returns false so that callers can `return fail(...)`. */
static bool fail(args_result *o, const char *a, const char *b, const char *c)
{
	fmt_line l = why_line(o);
	fmt_str(&l, a);
	fmt_word(&l, b);
	fmt_str(&l, c);
	return false;
}

/* "--offset 0x... <reason>": offset refusals quote the value in canonical form. */
static bool fail_offset(args_result *o, uint64_t v, const char *reason)
{
	fmt_line l = why_line(o);
	fmt_str(&l, "--offset ");
	fmt_hex16(&l, v);
	fmt_str(&l, reason);
	return false;
}

/* ------------------------------------------------------------------ numbers */

static int digit_value(char c, unsigned base)
{
	int d = -1;
	if (c >= '0' && c <= '9')
		d = c - '0';
	else if (c >= 'a' && c <= 'f')
		d = c - 'a' + 10;
	else if (c >= 'A' && c <= 'F')
		d = c - 'A' + 10;
	return d >= 0 && (unsigned)d < base ? d : -1;
}

static bool number_fail(char *why, size_t cap, const char *a, const char *s, const char *c)
{
	fmt_line l;
	fmt_init(&l, why, cap);
	fmt_str(&l, a);
	fmt_word(&l, s);
	fmt_str(&l, c);
	return false;
}

bool args_number(const char *s, uint64_t *value, char *why, size_t cap)
{
	unsigned base = 10;
	const char *p = s;
	uint64_t v = 0;

	if (!s || !*s)
		return number_fail(why, cap, "empty number", "", "");
	if (s[0] == '-')
		return number_fail(why, cap, "negative number '", s, "'");
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
		if (!*p)
			return number_fail(why, cap, "malformed number '", s, "' (no digits after 0x)");
	}
	if (digit_value(*p, base) < 0)
		return number_fail(why, cap, "malformed number '", s,
				   "' (decimal, or hex with 0x)");
	for (; *p; p++) {
		int d = digit_value(*p, base);
		if (d < 0)
			return number_fail(why, cap, "trailing junk in number '", s, "'");
		if (v > (UINT64_MAX - (uint64_t)d) / base)
			return number_fail(why, cap, "number '", s, "' does not fit in 64 bits");
		v = v * base + (uint64_t)d;
	}
	*value = v;
	return true;
}

/* ------------------------------------------------------------------ words */

/* Walks the arguments, skipping -b wherever it stands. */
typedef struct {
	int argc;
	const char *const *argv;
	int i;
} cursor;

static bool is_paging_flag(const char *w)
{
	return fmt_streq_nocase(w, "-b");
}

static const char *next(cursor *c)
{
	while (c->i < c->argc && is_paging_flag(c->argv[c->i]))
		c->i++;
	return c->i < c->argc ? c->argv[c->i++] : NULL;
}

/* An option is "-x" or "--xyz"; "-1" is a (negative, hence refused) number. */
static bool is_option(const char *w)
{
	return w[0] == '-' && !(w[1] >= '0' && w[1] <= '9');
}

static const char *const cmd_names[] = {
	[ARGS_BOOT] = "boot",
	[ARGS_HELP] = "help",
	[ARGS_MEMMAP] = "memmap",
	[ARGS_MAP] = "map",
	[ARGS_TRANSLATE] = "translate",
	[ARGS_CURRENT_MAP] = "current map",
	[ARGS_CURRENT_TRANSLATE] = "current translate",
};

static bool unknown_option(args_result *o, const char *w)
{
	fmt_line l = why_line(o);
	fmt_str(&l, "unknown option '");
	fmt_word(&l, w);
	fmt_str(&l, "' for ");
	fmt_str(&l, cmd_names[o->cmd]);
	return false;
}

static bool unexpected(args_result *o, const char *w)
{
	fmt_line l = why_line(o);
	fmt_str(&l, "unexpected argument '");
	fmt_word(&l, w);
	fmt_str(&l, "' for ");
	fmt_str(&l, cmd_names[o->cmd]);
	return false;
}

/* ------------------------------------------------------------------ options */

/* The physmap offset must be one or more whole PML4 entries of the lower half, not 0
 * (the null page must fault and the handoff page is identity mapped), and leave room
 * below the hole for physical memory up to phys_top. */
static bool check_offset(args_result *o, uint64_t v, const args_env *env)
{
	uint64_t top = env->phys_top ? env->phys_top : ARGS_DEFAULT_PHYS_TOP;
	if (!pg_is_canonical(v))
		return fail_offset(o, v, " is not canonical (bits 63:47 must all be equal)");
	if (v >= ARGS_LOWER_END)
		return fail_offset(o, v, " is in the upper half; the physmap lives in the lower half");
	if (v & (ARGS_GIB512 - 1))
		return fail_offset(o, v, " is not 512 GiB aligned");
	if (v == 0)
		return fail_offset(o, v, " would put physical memory over the null page");
	if (top > ARGS_LOWER_END - v) {
		fmt_line l = why_line(o);
		fmt_str(&l, "--offset ");
		fmt_hex16(&l, v);
		fmt_str(&l, " leaves no room for physical memory up to ");
		fmt_hex16(&l, top);
		fmt_str(&l, " before the non-canonical hole");
		return false;
	}
	return true;
}

static bool parse_page(args_result *o, const char *w, const args_env *env)
{
	if (fmt_streq_nocase(w, "4k"))
		o->page = PG_4K;
	else if (fmt_streq_nocase(w, "2m"))
		o->page = PG_2M;
	else if (fmt_streq_nocase(w, "1g"))
		o->page = PG_1G;
	else
		return fail(o, "--page must be 4k, 2m or 1g, not '", w, "'");
	if (o->page == PG_1G && !env->has_1g)
		return fail(o, "--page 1g: this CPU has no 1 GiB pages", "", "");
	o->page_set = true;
	return true;
}

/* --levels 4|5: the paging mode of the tables built (map, translate, boot, test) or read
 * (current). 5 needs LA57 in the CPU. */
static bool parse_levels(args_result *o, const char *w, const args_env *env)
{
	if (fmt_streq_nocase(w, "4"))
		o->levels = 4;
	else if (fmt_streq_nocase(w, "5"))
		o->levels = 5;
	else
		return fail(o, "--levels must be 4 or 5, not '", w, "'");
	if (o->levels == 5 && !env->has_la57)
		return fail(o, "--levels 5: this CPU has no 5-level paging "
			       "(CPUID.(EAX=7,ECX=0):ECX[16] LA57 is clear)", "", "");
	o->levels_set = true;
	return true;
}

/* Handles one of the table-layout options (--offset, --page, --levels) of map, translate,
 * boot and test, taking its value from the cursor. */
static bool layout_option(args_result *o, const char *w, cursor *c, const args_env *env)
{
	bool is_offset = fmt_streq_nocase(w, "--offset"), is_page = fmt_streq_nocase(w, "--page");
	bool is_levels = fmt_streq_nocase(w, "--levels");
	if (!is_offset && !is_page && !is_levels)
		return unknown_option(o, w);
	if (is_offset ? o->offset_set : is_page ? o->page_set : o->levels_set)
		return fail(o, "option ", w, " given twice");
	const char *v = next(c);
	if (!v)
		return fail(o, "option ", w, " needs a value");
	if (is_page)
		return parse_page(o, v, env);
	if (is_levels)
		return parse_levels(o, v, env);
	char why[ARGS_ERROR_MAX - 10];
	if (!args_number(v, &o->offset, why, sizeof(why)))
		return fail(o, "--offset: ", why, "");
	o->offset_set = true;
	return check_offset(o, o->offset, env);
}

/* Sign-extended from bit 47 (4 levels) or bit 56 (5 levels). */
static bool canonical_in(uint64_t va, unsigned levels)
{
	unsigned sh = 64 - (12 + 9 * levels);
	return (uint64_t)((int64_t)(va << sh) >> sh) == va;
}

static bool not_canonical(args_result *o, uint64_t va, unsigned levels)
{
	fmt_line l = why_line(o);
	fmt_str(&l, "address ");
	fmt_hex16(&l, va);
	fmt_str(&l, levels == 5 ? " is not canonical (bits 63:56 must all be equal)"
				: " is not canonical (bits 63:47 must all be equal)");
	return false;
}

static bool add_address(args_result *o, const char *w)
{
	char why[ARGS_ERROR_MAX - 10];
	uint64_t va;
	if (!args_number(w, &va, why, sizeof(why)))
		return fail(o, "address: ", why, "");
	if (!canonical_in(va, 5))
		return not_canonical(o, va, 5);
	if (o->addr_count == ARGS_MAX_ADDRS)
		return fail(o, "too many addresses (at most 32)", "", "");
	o->addrs[o->addr_count++] = va;
	return true;
}

/* True for a word that starts with "drill=" (letters in any case). */
static bool is_drill(const char *w)
{
	static const char prefix[] = "drill=";
	for (size_t i = 0; i < sizeof prefix - 1; i++) {
		char c = w[i] >= 'A' && w[i] <= 'Z' ? (char)(w[i] + ('a' - 'A')) : w[i];
		if (c != prefix[i])
			return false;
	}
	return true;
}

/* drill=D of boot and test: one of the kernel's fault drills (kernel/tour/drill.c), passed on
 * as its command line. Checked here so that a typo is refused before boot services end. */
static bool drill_word(args_result *o, const char *w)
{
	static const char *const names[] = { "null", "text", "stack", "nx", "panic" };
	if (o->drill[0])
		return fail(o, "drill= given twice", "", "");
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		if (fmt_streq_nocase(w + 6, names[i])) {
			for (size_t k = 0; names[i][k]; k++)
				o->drill[k] = names[i][k];
			return true;
		}
	}
	return fail(o, "drill must be null, text, stack, nx or panic, not '", w + 6, "'");
}

/* ------------------------------------------------------------------ commands */

/* The level count once every word is read: `current` reads the firmware's tables, so
 * --levels must name the mode they are in; the addresses must be canonical in it. */
static bool settle_levels(args_result *o, const args_env *env)
{
	bool cur = o->cmd == ARGS_CURRENT_MAP || o->cmd == ARGS_CURRENT_TRANSLATE;
	unsigned fw = env->firmware_levels == 5 ? 5 : 4;
	if (cur && o->levels_set && o->levels != fw) {
		fmt_line l = why_line(o);
		fmt_str(&l, "current --levels ");
		fmt_dec(&l, o->levels);
		fmt_str(&l, fw == 5 ? ": the firmware runs 5-level paging (CR4.LA57 set)"
				    : ": the firmware runs 4-level paging (CR4.LA57 clear)");
		return false;
	}
	if (!o->levels_set)
		o->levels = cur ? fw : 4;
	for (unsigned i = 0; i < o->addr_count; i++)
		if (!canonical_in(o->addrs[i], o->levels))
			return not_canonical(o, o->addrs[i], o->levels);
	return true;
}

/* The rest of the words of a command: options where `layout` allows them, addresses
 * where `addrs` does, the word "test" where `test_word` does; anything else refused. */
static bool rest(args_result *o, cursor *c, const args_env *env, bool layout, bool addrs,
		 bool test_word)
{
	for (const char *w; (w = next(c));) {
		if (is_option(w)) {
			if (o->cmd == ARGS_MEMMAP && fmt_streq_nocase(w, "--kinds")) {
				if (o->kinds)
					return fail(o, "option ", w, " given twice");
				o->kinds = true;
			} else if (!layout && fmt_streq_nocase(w, "--levels") &&
				   (o->cmd == ARGS_CURRENT_MAP || o->cmd == ARGS_CURRENT_TRANSLATE)) {
				if (!layout_option(o, w, c, env))
					return false;
			} else if (!layout) {
				return unknown_option(o, w);
			} else if (!layout_option(o, w, c, env)) {
				return false;
			}
		} else if (addrs) {
			if (!add_address(o, w))
				return false;
		} else if (test_word && !o->test && fmt_streq_nocase(w, "test")) {
			o->test = true;
		} else if (o->cmd == ARGS_BOOT && fmt_streq_nocase(w, "stale-key")) {
			if (o->stale_key)
				return fail(o, "stale-key given twice", "", "");
			o->stale_key = true;
		} else if (o->cmd == ARGS_BOOT && fmt_streq_nocase(w, "nmi-window")) {
			if (o->nmi_window)
				return fail(o, "nmi-window given twice", "", "");
			o->nmi_window = true;
		} else if (o->cmd == ARGS_BOOT && fmt_streq_nocase(w, "late-fail")) {
			if (o->late_fail)
				return fail(o, "late-fail given twice", "", "");
			o->late_fail = true;
		} else if (o->cmd == ARGS_BOOT && is_drill(w)) {
			if (!drill_word(o, w))
				return false;
		} else {
			return unexpected(o, w);
		}
	}
	if (addrs && o->addr_count == 0)
		return fail(o, cmd_names[o->cmd], " needs at least one address", "");
	return settle_levels(o, env);
}

static bool current(args_result *o, cursor *c, const args_env *env)
{
	const char *w = next(c);
	if (!w)
		return fail(o, "current needs 'map' or 'translate'", "", "");
	if (fmt_streq_nocase(w, "map")) {
		o->cmd = ARGS_CURRENT_MAP;
		return rest(o, c, env, false, false, false);
	}
	if (fmt_streq_nocase(w, "translate")) {
		o->cmd = ARGS_CURRENT_TRANSLATE;
		return rest(o, c, env, false, true, false);
	}
	return fail(o, "current needs 'map' or 'translate', not '", w, "'");
}

bool args_parse(int argc, const char *const argv[], const args_env *env, args_result *o)
{
	static const args_env no_env = { false, 0, false, 0 };
	cursor c = { argc < 0 ? 0 : argc, argv, 0 };
	*o = (args_result){ .cmd = ARGS_BOOT };
	if (!env)
		env = &no_env;
	for (int i = 0; i < c.argc; i++) {
		if (!argv[i])
			return fail(o, "missing argument", "", "");
		o->paging |= is_paging_flag(argv[i]);
	}
	const char *w = next(&c);
	if (!w)
		return settle_levels(o, env);
	if (fmt_streq_nocase(w, "help") || fmt_streq_nocase(w, "-h") ||
	    fmt_streq_nocase(w, "--help")) {
		o->cmd = ARGS_HELP;
		return rest(o, &c, env, false, false, false);
	}
	if (fmt_streq_nocase(w, "memmap")) {
		o->cmd = ARGS_MEMMAP;
		return rest(o, &c, env, false, false, false);
	}
	if (fmt_streq_nocase(w, "map")) {
		o->cmd = ARGS_MAP;
		return rest(o, &c, env, true, false, false);
	}
	if (fmt_streq_nocase(w, "translate")) {
		o->cmd = ARGS_TRANSLATE;
		return rest(o, &c, env, true, true, false);
	}
	if (fmt_streq_nocase(w, "current"))
		return current(o, &c, env);
	if (fmt_streq_nocase(w, "boot"))
		return rest(o, &c, env, true, false, true);
	if (fmt_streq_nocase(w, "test")) {
		o->test = true;
		return rest(o, &c, env, true, false, false);
	}
	if (is_option(w))
		return fail(o, "unknown option '", w, "' (a command comes first)");
	return fail(o, "unknown command '", w, "'");
}

void args_usage(fmt_sink sink, void *ctx)
{
	static const char *const lines[] = {
		"usage: kernel.efi [-b] [command]",
		"  (none)                                 boot, as the boot command",
		"  help                                   this text",
		"  inspect                                a kernel.efi> prompt; exit leaves it",
		"  memmap [--kinds]                       the firmware memory map;",
		"                                         --kinds: the kernel's region list",
		"  map [--offset X] [--page S] [--levels L]  the tables boot would build",
		"  translate [--offset X] [--page S] [--levels L] VADDR...",
		"                                         walk VADDRs through them",
		"  current map [--levels L]               the firmware's live tables (CR3)",
		"  current translate [--levels L] VADDR...  walk VADDRs through the live tables",
		"  boot [--offset X] [--page S] [--levels L] [test]",
		"                                         exit boot services, start the kernel",
		"  test [--offset X] [--page S] [--levels L]  boot test: the kernel's self-tests",
		"  boot drill=D                           fault drill: null|text|stack|nx|panic",
		"  boot stale-key                         test: force one ExitBootServices retry",
		"  boot late-fail                         test: stop after ExitBootServices",
		"  boot nmi-window                        test: handoff waits for an NMI, halts",
		"  -b                                     page the output, a screen at a time",
		"X: physmap offset, 512 GiB aligned, lower half, default 0xa0000000000 (10 TiB)",
		"S: physmap page size 4k, 2m or 1g, default 1g (2m if the CPU lacks 1g)",
		"L: paging levels 4 or 5 (5 needs LA57), default 4; current: the firmware's",
		"numbers: decimal or hex with 0x; at most 32 addresses",
	};
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		sink(ctx, lines[i]);
}
