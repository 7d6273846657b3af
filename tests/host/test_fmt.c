/* test_fmt.c - host tests of the pure line formatter (efi/pure/fmt.c). */
#include <string.h>

#include "fmt.h"
#include "test.h"

#define CHECK_LINE(l, want)                                                     \
	do {                                                                    \
		if (strcmp((l)->buf, (want)) != 0)                              \
			test_fail(__FILE__, __LINE__, "got \"%s\", want \"%s\"", (l)->buf, (want)); \
	} while (0)

/* hex16 always prints 16 digits, lower case. */
TEST(fmt_hex16_fixed_width)
{
	char b[64];
	fmt_line l;
	fmt_init(&l, b, sizeof(b));
	fmt_hex16(&l, 0xA0000001000ull);
	fmt_char(&l, ' ');
	fmt_hex16(&l, 0);
	fmt_char(&l, ' ');
	fmt_hex16(&l, UINT64_MAX);
	CHECK_LINE(&l, "0x00000a0000001000 0x0000000000000000 0xffffffffffffffff");
}

/* fmt_hex prints as few digits as needed, at least one. */
TEST(fmt_hex_minimal)
{
	char b[64];
	fmt_line l;
	fmt_init(&l, b, sizeof(b));
	fmt_hex(&l, 0);
	fmt_char(&l, ' ');
	fmt_hex(&l, 0xabc);
	fmt_char(&l, ' ');
	fmt_hex(&l, 1ull << 63);
	CHECK_LINE(&l, "0x0 0xabc 0x8000000000000000");
}

/* Decimal over the whole range. */
TEST(fmt_dec_range)
{
	char b[64];
	fmt_line l;
	fmt_init(&l, b, sizeof(b));
	fmt_dec(&l, 0);
	fmt_char(&l, ' ');
	fmt_dec(&l, 1234567890);
	fmt_char(&l, ' ');
	fmt_dec(&l, UINT64_MAX);
	CHECK_LINE(&l, "0 1234567890 18446744073709551615");
}

/* Sizes take the largest unit that divides exactly. */
TEST(fmt_size_units)
{
	static const struct { uint64_t v; const char *s; } cases[] = {
		{ 0, "0B" }, { 4096, "4KiB" }, { 4097, "4097B" }, { 3ull << 20, "3MiB" },
		{ (1ull << 30) + 4096, "1048580KiB" }, { 4ull << 30, "4GiB" },
		{ 118ull << 40, "118TiB" }, { 1ull << 63, "8388608TiB" },
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char b[32];
		fmt_line l;
		fmt_init(&l, b, sizeof(b));
		fmt_size(&l, cases[i].v);
		CHECK_LINE(&l, cases[i].s);
	}
}

/* Padding reaches the column, and adds nothing past it. */
TEST(fmt_pad_to_column)
{
	char b[32];
	fmt_line l;
	fmt_init(&l, b, sizeof(b));
	fmt_str(&l, "ab");
	fmt_pad(&l, 5);
	fmt_char(&l, '|');
	fmt_pad(&l, 3);
	CHECK_LINE(&l, "ab   |");
}

/* Text past the buffer is dropped, the buffer stays terminated and says so. */
TEST(fmt_truncates_safely)
{
	char b[8];
	memset(b, 'X', sizeof(b));
	fmt_line l;
	fmt_init(&l, b, 6);
	fmt_str(&l, "abcdefgh");
	CHECK_LINE(&l, "abcde");
	CHECK(l.truncated);
	CHECK_EQ(b[6], 'X');
	fmt_hex16(&l, 1);
	CHECK_LINE(&l, "abcde");
}

/* The comparisons the parser relies on. */
TEST(fmt_string_compare)
{
	CHECK(fmt_streq("map", "map"));
	CHECK(!fmt_streq("map", "Map"));
	CHECK(!fmt_streq("map", "maps"));
	CHECK(!fmt_streq("", "a"));
	CHECK(fmt_streq_nocase("MemMap", "memmap"));
	CHECK(!fmt_streq_nocase("memma", "memmap"));
	CHECK(!fmt_streq_nocase("[", "{")); /* folding is letters only */
}
