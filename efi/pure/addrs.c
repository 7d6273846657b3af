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

/* The reason va's word is bad, written into why; false when it is a good address. */
static bool bad_address(const char *w, char *why, size_t cap)
{
	uint64_t va;
	if (!args_number(w, &va, why, cap))
		return true;
	if (pg_is_canonical(va))
		return false;
	fmt_line l;
	fmt_init(&l, why, cap);
	fmt_str(&l, "address ");
	fmt_hex16(&l, va);
	fmt_str(&l, " is not canonical (bits 63:47 must all be equal)");
	return true;
}

/* True when some word from argv[from] on is a good address (option values aside). */
static bool any_good(int argc, const char **argv, int from)
{
	char why[ARGS_ERROR_MAX];
	for (int i = from; i < argc; i++) {
		const char *w = argv[i];
		if (w[0] == '-' && !(w[1] >= '0' && w[1] <= '9')) {
			i += fmt_streq_nocase(w, "--offset") || fmt_streq_nocase(w, "--page");
			continue;
		}
		if (!bad_address(w, why, sizeof why))
			return true;
	}
	return false;
}

int addrs_drop_bad(int *argc, const char **argv, fmt_sink sink, void *ctx)
{
	int from = list_start(*argc, argv), out, dropped = 0;
	if (from < 0 || !any_good(*argc, argv, from))
		return 0; /* nothing left to translate: the parser refuses the whole line */
	out = from;
	for (int i = from; i < *argc; i++) {
		const char *w = argv[i];
		char why[ARGS_ERROR_MAX], line[ARGS_ERROR_MAX + 64];
		bool opt = w[0] == '-' && !(w[1] >= '0' && w[1] <= '9');
		if (opt) { /* an option, and its value when it takes one */
			argv[out++] = w;
			if ((fmt_streq_nocase(w, "--offset") || fmt_streq_nocase(w, "--page")) &&
			    i + 1 < *argc)
				argv[out++] = argv[++i];
			continue;
		}
		if (!bad_address(w, why, sizeof why)) {
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
