/* addrs.h - a translate list with a bad address in it: the bad words are reported and
 * dropped, so that the rest is still translated (issue 13). */
#ifndef EFI_PURE_ADDRS_H
#define EFI_PURE_ADDRS_H

#include "fmt.h"

/* For a `translate` or `current translate` command line (argv[0..argc), -b anywhere),
 * removes each address word that is not a number or not canonical, printing one line
 * "translate: error: <reason> (skipped; the rest are translated)" for it through sink.
 * Option values (--offset X, --page S) are left to the parser. Other commands, and lists
 * without one good address (the parser refuses those whole), are left alone. Returns how
 * many words it removed; *argc shrinks by as many. */
int addrs_drop_bad(int *argc, const char **argv, fmt_sink sink, void *ctx);

/* The same with the address width of the line: 57 bits (bits 63:56 equal) when it says
 * --levels 5, or for `current translate` without --levels when current_levels is 5 (the
 * firmware runs with CR4.LA57); 48 bits otherwise. */
int addrs_drop_bad_levels(int *argc, const char **argv, unsigned current_levels, fmt_sink sink,
			  void *ctx);

#endif
