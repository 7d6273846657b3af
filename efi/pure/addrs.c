/* addrs.c - drops the bad addresses of a translate list (addrs.h), reporting each. */
#include "addrs.h"

#include "args.h"

/* Index of the first address word of a translate command, or -1 for other commands. */
static int list_start(int argc, const char **argv)
{
	int w = 0, seen = 0;
	const char *first = NULL;
	for (; w < argc; w++) {
		if (fmt_streq_nocase(argv[w], "-b"))
			continue;
		if (seen == 0) {
			first = argv[w];
			if (fmt_streq_nocase(first, "translate"))
				return w + 1;
			if (!fmt_streq_nocase(first, "current"))
				return -1;
		} else {
			return fmt_streq_nocase(argv[w], "translate") ? w + 1 : -1;
		}
		seen++;
	}
	return -1;
}

/* Options whose value is the next word. */
static bool takes_value(const char *w)
{
	return fmt_streq_nocase(w, "--offset") || fmt_streq_nocase(w, "--page") ||
	       fmt_streq_nocase(w, "--levels");
}

/* The address width the line asks for: --levels 5 or 4 when given (the parser checks the
 * value), else dflt. */
static unsigned line_levels(int argc, const char **argv, unsigned dflt)
{
	for (int i = 0; i + 1 < argc; i++)
		if (fmt_streq_nocase(argv[i], "--levels"))
			return fmt_streq_nocase(argv[i + 1], "5") ? 5 : 4;
	return dflt;
}

/* The reason va's word is bad, written into why; false when it is a good address. */
static bool bad_address(const char *w, unsigned levels, char *why, size_t cap)
{
	uint64_t va;
	if (!args_number(w, &va, why, cap))
		return true;
	unsigned sh = 64 - (12 + 9 * levels);
	if ((uint64_t)((int64_t)(va << sh) >> sh) == va)
		return false;
	fmt_line l;
	fmt_init(&l, why, cap);
	fmt_str(&l, "address ");
	fmt_hex16(&l, va);
	fmt_str(&l, levels == 5 ? " is not canonical (bits 63:56 must all be equal)"
				: " is not canonical (bits 63:47 must all be equal)");
	return true;
}

/* True when some word from argv[from] on is a good address (option values aside). */
static bool any_good(int argc, const char **argv, int from, unsigned levels)
{
	char why[ARGS_ERROR_MAX];
	for (int i = from; i < argc; i++) {
		const char *w = argv[i];
		if (w[0] == '-' && !(w[1] >= '0' && w[1] <= '9')) {
			i += takes_value(w);
			continue;
		}
		if (!bad_address(w, levels, why, sizeof why))
			return true;
	}
	return false;
}

int addrs_drop_bad(int *argc, const char **argv, fmt_sink sink, void *ctx)
{
	return addrs_drop_bad_levels(argc, argv, 4, sink, ctx);
}

int addrs_drop_bad_levels(int *argc, const char **argv, unsigned current_levels, fmt_sink sink,
			  void *ctx)
{
	int from = list_start(*argc, argv), out, dropped = 0;
	/* `current translate` walks the firmware's tables: their width unless --levels says */
	bool current = false;
	for (int i = 0; i < *argc; i++)
		if (!fmt_streq_nocase(argv[i], "-b")) {
			current = fmt_streq_nocase(argv[i], "current");
			break;
		}
	unsigned levels = line_levels(*argc, argv, current ? current_levels : 4);
	if (from < 0 || !any_good(*argc, argv, from, levels))
		return 0; /* nothing left to translate: the parser refuses the whole line */
	out = from;
	for (int i = from; i < *argc; i++) {
		const char *w = argv[i];
		char why[ARGS_ERROR_MAX], line[ARGS_ERROR_MAX + 64];
		bool opt = w[0] == '-' && !(w[1] >= '0' && w[1] <= '9');
		if (opt) { /* an option, and its value when it takes one */
			argv[out++] = w;
			if (takes_value(w) && i + 1 < *argc)
				argv[out++] = argv[++i];
			continue;
		}
		if (!bad_address(w, levels, why, sizeof why)) {
			argv[out++] = w;
			continue;
		}
		fmt_line l;
		fmt_init(&l, line, sizeof line);
		fmt_str(&l, "translate: error: ");
		fmt_str(&l, why);
		fmt_str(&l, " (skipped; the rest are translated)");
		sink(ctx, line);
		dropped++;
	}
	*argc = out;
	return dropped;
}
