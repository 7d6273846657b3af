/* test_addrs.c - addrs_drop_bad: a bad address in a translate list is reported and
 * dropped, the rest kept in order; lists with no good address and other commands are
 * left to the parser untouched. */
#include <string.h>

#include "addrs.h"
#include "test.h"

static char seen[8][256];
static int n_seen;

static void collect(void *ctx, const char *line)
{
	(void)ctx;
	if (n_seen < 8)
		strncpy(seen[n_seen], line, sizeof seen[0] - 1);
	n_seen++;
}

static int drop(int *argc, const char **argv)
{
	n_seen = 0;
	memset(seen, 0, sizeof seen);
	return addrs_drop_bad(argc, argv, collect, NULL);
}

/* Two bad words among good ones: both named, the good ones kept in order. */
TEST(addrs_bad_words_dropped_rest_kept)
{
	const char *v[] = { "translate", "0xA0000001000", "0xzz", "0x800000000000", "0x1000" };
	int argc = 5;
	CHECK_EQ(drop(&argc, v), 2);
	CHECK_EQ(argc, 3);
	CHECK(!strcmp(v[1], "0xA0000001000") && !strcmp(v[2], "0x1000"));
	CHECK_EQ(n_seen, 2);
	CHECK(strstr(seen[0], "translate: error: malformed number '0xzz'") == seen[0]);
	CHECK(strstr(seen[1], "address 0x0000800000000000 is not canonical") != NULL);
	CHECK(strstr(seen[1], "(skipped; the rest are translated)") != NULL);
}

/* Option values are not addresses: --page 2m and --offset X stay, -b anywhere too. */
TEST(addrs_option_values_kept)
{
	const char *v[] = { "-b", "translate", "--page", "2m", "--offset", "0x10000000000",
			    "nope", "0x1000" };
	int argc = 8;
	CHECK_EQ(drop(&argc, v), 1);
	CHECK_EQ(argc, 7);
	CHECK(!strcmp(v[3], "2m") && !strcmp(v[5], "0x10000000000") && !strcmp(v[6], "0x1000"));
}

/* current translate is a translate list as well. */
TEST(addrs_current_translate)
{
	const char *v[] = { "current", "translate", "-5", "0x1000" };
	int argc = 4;
	CHECK_EQ(drop(&argc, v), 1);
	CHECK_EQ(argc, 3);
	CHECK(!strcmp(v[2], "0x1000"));
}

/* No good address at all: the line is left whole, so the parser refuses it as before. */
TEST(addrs_all_bad_left_to_parser)
{
	const char *v[] = { "translate", "0x800000000000", "zz" };
	int argc = 3;
	CHECK_EQ(drop(&argc, v), 0);
	CHECK_EQ(argc, 3);
	CHECK_EQ(n_seen, 0);
}

/* Other commands are never touched, even with words that look like bad addresses. */
TEST(addrs_other_commands_untouched)
{
	const char *v[] = { "map", "--offset", "0xzz", "0x1000" };
	const char *w[] = { "current", "map", "zz" };
	int argc = 4, argc2 = 3;
	CHECK_EQ(drop(&argc, v), 0);
	CHECK_EQ(argc, 4);
	CHECK_EQ(drop(&argc2, w), 0);
	CHECK_EQ(argc2, 3);
}

/* With --levels 5 (or for current translate on 5-level firmware) a 57-bit address is
 * good, and the reason for a bad one names bits 63:56. */
TEST(addrs_levels_5_width)
{
	const char *v[] = { "translate", "--levels", "5", "0x00ff800000000000", "0x0100000000000000" };
	int argc = 5;
	n_seen = 0;
	memset(seen, 0, sizeof seen);
	CHECK_EQ(addrs_drop_bad_levels(&argc, v, 4, collect, NULL), 1);
	CHECK_EQ(argc, 4);
	CHECK(!strcmp(v[3], "0x00ff800000000000"));
	CHECK(strstr(seen[0], "address 0x0100000000000000 is not canonical (bits 63:56") != NULL);

	const char *c[] = { "current", "translate", "0x00ff800000000000", "0x1000" };
	argc = 4;
	CHECK_EQ(addrs_drop_bad_levels(&argc, c, 5, collect, NULL), 0);
	CHECK_EQ(argc, 4);
	argc = 4;
	CHECK_EQ(addrs_drop_bad_levels(&argc, c, 4, collect, NULL), 1);
	CHECK_EQ(argc, 3);
}
