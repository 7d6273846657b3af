/* test_loadopt.c - host tests of the load-options decision and quote (efi/pure/loadopt.c):
 * firmware options that are no command are ignored with a bounded, escaped report line;
 * the shell's wrong words are still refused. */
#include <string.h>

#include "loadopt.h"
#include "test.h"

#define CHECK_STR(got, want)                                                    \
	do {                                                                    \
		if (strcmp((got), (want)) != 0)                                 \
			test_fail(__FILE__, __LINE__, "got \"%s\", want \"%s\"", (got), (want)); \
	} while (0)

/* The quote of n UTF-16 units (bytes given separately, to test odd sizes). */
static const char *quote(const uint16_t *u, size_t bytes)
{
	static char buf[512];
	fmt_line l;
	fmt_init(&l, buf, sizeof(buf));
	loadopt_quote(&l, u, bytes);
	return buf;
}

/* ASCII into UTF-16 units, NUL included. */
static size_t utf16(const char *s, uint16_t *out)
{
	size_t n = 0;
	do
		out[n] = (uint16_t)(unsigned char)s[n];
	while (s[n++]);
	return n * 2;
}

/* The EFI shell's words are obeyed, or refused when wrong: never ignored. */
TEST(loadopt_shell_words_refused_not_ignored)
{
	CHECK_EQ(loadopt_decide(true, true, 1, false), LOADOPT_RUN);
	CHECK_EQ(loadopt_decide(true, false, 0, false), LOADOPT_RUN);
	CHECK_EQ(loadopt_decide(true, true, 0, true), LOADOPT_RUN);
}

/* From the firmware: a command runs, anything else is ignored and the boot goes on. */
TEST(loadopt_firmware_options_ignored_unless_command)
{
	CHECK_EQ(loadopt_decide(false, true, 2, true), LOADOPT_RUN);        /* "boot test" */
	CHECK_EQ(loadopt_decide(false, true, 3, false), LOADOPT_IGNORE);    /* U-Boot bootargs */
	CHECK_EQ(loadopt_decide(false, false, 0, false), LOADOPT_IGNORE);   /* binary data */
	CHECK_EQ(loadopt_decide(false, true, 0, true), LOADOPT_NONE);       /* only the path */
}

/* U-Boot's default bootargs, quoted as they are. */
TEST(loadopt_quote_bootargs)
{
	uint16_t u[64];
	size_t b = utf16("root=/dev/sdb3 init=/sbin/init rootwait ro", u);
	CHECK_STR(quote(u, b), "\"root=/dev/sdb3 init=/sbin/init rootwait ro\" bytes=86");
}

/* Quotes, backslashes, control and non-ASCII units are escaped; one line stays one. */
TEST(loadopt_quote_escapes)
{
	const uint16_t u[] = { 'a', '"', '\\', '\n', 0xe9, 0x2603, 'z', 0 };
	CHECK_STR(quote(u, sizeof(u)), "\"a\\\"\\\\\\u000a\\u00e9\\u2603z\" bytes=16");
}

/* Binary options (EDK2 puts a GUID there) stop at the first NUL unit; an odd trailing
 * byte is counted but not read. */
TEST(loadopt_quote_binary_and_odd)
{
	const uint16_t guid[] = { 0x5c1d, 0x0000, 0xbeef };
	CHECK_STR(quote(guid, sizeof(guid)), "\"\\u5c1d\" bytes=6");
	const uint16_t odd[] = { 'h', 'i' };
	CHECK_STR(quote(odd, 3), "\"h\" bytes=3");
	CHECK_STR(quote(NULL, 8), "\"\" bytes=8");
	CHECK_STR(quote(odd, 0), "\"\" bytes=0");
}

/* Long options are cut at LOADOPT_SHOW_MAX units with a visible mark; without a NUL. */
TEST(loadopt_quote_bounded)
{
	uint16_t u[200];
	for (int i = 0; i < 200; i++)
		u[i] = 'x';
	const char *q = quote(u, sizeof(u));
	CHECK_EQ(strlen(q), 1 + LOADOPT_SHOW_MAX + 1 + 3 + strlen(" bytes=400"));
	CHECK(strstr(q, "\"... bytes=400") != NULL);
	/* exactly LOADOPT_SHOW_MAX units and no NUL: complete, no mark */
	CHECK(strstr(quote(u, LOADOPT_SHOW_MAX * 2), "...") == NULL);
}
