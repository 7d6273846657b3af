/* test_args.c - host tests of the command parser (efi/pure/args.c): every command and
 * option, and every malformed input refused with its own one-line reason. */
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "test.h"

#define ARGV(...) ((const char *const[]){ __VA_ARGS__ })
#define ARGC(...) ((int)(sizeof(ARGV(__VA_ARGS__)) / sizeof(const char *)))
/* Parses the listed words with env e into r; evaluates to args_parse's result. */
#define PARSE(r, e, ...) args_parse(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), (e), (r))

static const args_env cpu_1g = { true, 0, false, 0 };
static const args_env cpu_2m = { false, 0, false, 0 };

#define CHECK_STR(got, want)                                                    \
	do {                                                                    \
		const char *g_ = (got), *w_ = (want);                           \
		if (strcmp(g_, w_) != 0)                                        \
			test_fail(__FILE__, __LINE__, "got \"%s\", want \"%s\"", g_, w_); \
	} while (0)

/* Parsing must fail with exactly this reason. */
static void refuse(int line, int argc, const char *const argv[], const args_env *env,
		   const char *want)
{
	args_result r;
	if (args_parse(argc, argv, env, &r)) {
		test_fail(__FILE__, line, "accepted, want \"%s\"", want);
		return;
	}
	if (strcmp(r.error, want) != 0)
		test_fail(__FILE__, line, "reason \"%s\", want \"%s\"", r.error, want);
	if (strchr(r.error, '\n'))
		test_fail(__FILE__, line, "reason has a newline");
}
#define REFUSE(env, want, ...) refuse(__LINE__, ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), env, want)

/* ------------------------------------------------------------------ commands */

/* No arguments at all means boot with every default. */
TEST(args_no_arguments_boots)
{
	args_result r;
	CHECK(args_parse(0, NULL, &cpu_1g, &r));
	CHECK_EQ(r.cmd, ARGS_BOOT);
	CHECK(!r.test && !r.paging && !r.offset_set && !r.page_set);
}

/* help, -h and --help all ask for the usage. */
TEST(args_help_spellings)
{
	static const char *const words[] = { "help", "-h", "--help", "HELP" };
	for (unsigned i = 0; i < 4; i++) {
		args_result r;
		CHECK(args_parse(1, &words[i], &cpu_1g, &r));
		CHECK_EQ(r.cmd, ARGS_HELP);
	}
}

/* help takes no arguments. */
TEST(args_help_extra_argument)
{
	REFUSE(&cpu_1g, "unexpected argument 'map' for help", "help", "map");
}

/* An unknown first word is named in the reason. */
TEST(args_unknown_command)
{
	REFUSE(&cpu_1g, "unknown command 'bot'", "bot");
}

/* An option where the command should be is refused as such. */
TEST(args_option_before_command)
{
	REFUSE(&cpu_1g, "unknown option '--offset' (a command comes first)", "--offset", "0",
	       "map");
}

/* Commands and options are case-insensitive, as the shell's own are. */
TEST(args_case_insensitive)
{
	args_result r;
	CHECK(PARSE(&r, &cpu_1g, "MemMap", "--KINDS"));
	CHECK_EQ(r.cmd, ARGS_MEMMAP);
	CHECK(r.kinds);
	CHECK(PARSE(&r, &cpu_1g, "Map", "--Page", "2M"));
	CHECK_EQ(r.page, PG_2M);
}

/* ------------------------------------------------------------------ memmap */

/* memmap alone lists the firmware map. */
TEST(args_memmap)
{
	args_result r;
	CHECK(PARSE(&r, &cpu_1g, "memmap"));
	CHECK_EQ(r.cmd, ARGS_MEMMAP);
	CHECK(!r.kinds);
}

/* memmap --kinds asks for the region list. */
TEST(args_memmap_kinds)
{
	args_result r;
	CHECK(PARSE(&r, &cpu_1g, "memmap", "--kinds"));
	CHECK(r.kinds);
}

/* --kinds twice is a mistake worth saying. */
TEST(args_memmap_kinds_twice)
{
	REFUSE(&cpu_1g, "option --kinds given twice", "memmap", "--kinds", "--kinds");
}

/* memmap has no layout options. */
TEST(args_memmap_rejects_offset)
{
	REFUSE(&cpu_1g, "unknown option '--offset' for memmap", "memmap", "--offset", "0");
}

/* memmap takes no positional argument. */
TEST(args_memmap_rejects_word)
{
	REFUSE(&cpu_1g, "unexpected argument 'kinds' for memmap", "memmap", "kinds");
}

/* ------------------------------------------------------------------ map and options */

/* map without options leaves offset and page size to the caller's defaults. */
TEST(args_map_defaults)
{
	args_result r;
	CHECK(PARSE(&r, &cpu_1g, "map"));
	CHECK_EQ(r.cmd, ARGS_MAP);
	CHECK(!r.offset_set && !r.page_set);
}

/* --offset takes hex and decimal. */
TEST(args_map_offset_hex_and_decimal)
{
	args_result r;
	CHECK(PARSE(&r, &cpu_1g, "map", "--offset", "0xA0000000000"));
	CHECK(r.offset_set);
	CHECK_EQ(r.offset, 0xA0000000000ull);
	CHECK(PARSE(&r, &cpu_1g, "map", "--offset", "10995116277760"));
	CHECK_EQ(r.offset, 0xA0000000000ull);
}

/* Each page size word becomes its pg_size. */
TEST(args_map_page_sizes)
{
	args_result r;
	CHECK(PARSE(&r, &cpu_1g, "map", "--page", "4k"));
	CHECK(r.page_set);
	CHECK_EQ(r.page, PG_4K);
	CHECK(PARSE(&r, &cpu_1g, "map", "--page", "2m"));
	CHECK_EQ(r.page, PG_2M);
	CHECK(PARSE(&r, &cpu_1g, "map", "--page", "1g"));
	CHECK_EQ(r.page, PG_1G);
}

/* Both options, in either order. */
TEST(args_map_both_options_any_order)
{
	args_result r;
	CHECK(PARSE(&r, &cpu_1g, "map", "--page", "2m", "--offset", "0x10000000000"));
	CHECK_EQ(r.page, PG_2M);
	CHECK_EQ(r.offset, 0x10000000000ull);
}

/* 1 GiB pages on a CPU without them are refused, not quietly downgraded. */
TEST(args_page_1g_without_cpu_support)
{
	REFUSE(&cpu_2m, "--page 1g: this CPU has no 1 GiB pages", "map", "--page", "1g");
}

/* Without an env, the parser assumes no 1 GiB pages. */
TEST(args_null_env_means_no_1g)
{
	REFUSE(NULL, "--page 1g: this CPU has no 1 GiB pages", "map", "--page", "1G");
}

/* An unknown page size is named. */
TEST(args_page_bad_value)
{
	REFUSE(&cpu_1g, "--page must be 4k, 2m or 1g, not '8k'", "map", "--page", "8k");
	REFUSE(&cpu_1g, "--page must be 4k, 2m or 1g, not '4096'", "map", "--page", "4096");
}

/* An option at the end without its value. */
TEST(args_option_missing_value)
{
	REFUSE(&cpu_1g, "option --offset needs a value", "map", "--offset");
	REFUSE(&cpu_1g, "option --page needs a value", "map", "--page");
}

/* -b is not a value: --offset -b at the end still lacks its value. */
TEST(args_option_value_is_not_paging_flag)
{
	REFUSE(&cpu_1g, "option --offset needs a value", "map", "--offset", "-b");
}

/* The same option twice is refused rather than letting the last one win. */
TEST(args_option_twice)
{
	REFUSE(&cpu_1g, "option --page given twice", "map", "--page", "2m", "--page", "1g");
	REFUSE(&cpu_1g, "option --offset given twice", "map", "--offset", "0x10000000000",
	       "--offset", "0x10000000000");
}

/* map refuses options it does not know. */
TEST(args_map_unknown_option)
{
	REFUSE(&cpu_1g, "unknown option '--kinds' for map", "map", "--kinds");
	REFUSE(&cpu_1g, "unknown option '-x' for map", "map", "-x");
}

/* map takes no positional argument. */
TEST(args_map_rejects_word)
{
	REFUSE(&cpu_1g, "unexpected argument '0x1000' for map", "map", "0x1000");
}

/* ------------------------------------------------------------------ --offset checks */

/* The offset is whole PML4 entries: 512 GiB aligned. */
TEST(args_offset_not_aligned)
{
	REFUSE(&cpu_1g, "--offset 0x00000a0000001000 is not 512 GiB aligned", "map",
	       "--offset", "0xa0000001000");
	REFUSE(&cpu_1g, "--offset 0x0000004000000000 is not 512 GiB aligned", "map",
	       "--offset", "0x4000000000");
}

/* Offset 0 would map memory over the null page (and the identity-mapped handoff). */
TEST(args_offset_zero)
{
	REFUSE(&cpu_1g, "--offset 0x0000000000000000 would put physical memory over the null page",
	       "map", "--offset", "0");
}

/* A canonical upper-half offset is refused: the physmap is in the lower half. */
TEST(args_offset_upper_half)
{
	REFUSE(&cpu_1g,
	       "--offset 0xffff800000000000 is in the upper half; the physmap lives in the lower half",
	       "boot", "--offset", "0xffff800000000000");
}

/* A non-canonical offset says so. */
TEST(args_offset_not_canonical)
{
	REFUSE(&cpu_1g, "--offset 0x0000800000000000 is not canonical (bits 63:47 must all be equal)",
	       "map", "--offset", "0x800000000000");
}

/* With the default room of 2^46, the highest offset is 2^47 - 2^46; one PML4 entry
 * more leaves no room. */
TEST(args_offset_room_default)
{
	args_result r;
	CHECK(PARSE(&r, &cpu_1g, "map", "--offset", "0x400000000000"));
	REFUSE(&cpu_1g,
	       "--offset 0x0000408000000000 leaves no room for physical memory up to "
	       "0x0000400000000000 before the non-canonical hole",
	       "map", "--offset", "0x408000000000");
}

/* A smaller physical top, as from MAXPHYADDR 40, allows offsets up to 2^47 - 2^40. */
TEST(args_offset_room_phys_top)
{
	args_env env = { true, 1ull << 40, false, 0 };
	args_result r;
	CHECK(PARSE(&r, &env, "map", "--offset", "0x7f0000000000"));
	CHECK_EQ(r.offset, 0x7f0000000000ull);
	REFUSE(&env,
	       "--offset 0x00007f8000000000 leaves no room for physical memory up to "
	       "0x0000010000000000 before the non-canonical hole",
	       "map", "--offset", "0x7f8000000000");
}

/* A malformed offset reports the number's problem. */
TEST(args_offset_malformed)
{
	REFUSE(&cpu_1g, "--offset: trailing junk in number '10T'", "map", "--offset", "10T");
	REFUSE(&cpu_1g, "--offset: negative number '-1'", "map", "--offset", "-1");
}

/* ------------------------------------------------------------------ numbers */

/* Decimal and hex (either case, 0x or 0X), leading zeros, the full 64-bit range. */
TEST(args_number_accepts)
{
	char why[64];
	uint64_t v;
	CHECK(args_number("0", &v, why, sizeof(why)) && v == 0);
	CHECK(args_number("007", &v, why, sizeof(why)) && v == 7);
	CHECK(args_number("0XAbC", &v, why, sizeof(why)) && v == 0xabc);
	CHECK(args_number("0x00000000000000000001", &v, why, sizeof(why)) && v == 1);
	CHECK(args_number("18446744073709551615", &v, why, sizeof(why)) && v == UINT64_MAX);
	CHECK(args_number("0xffffffffffffffff", &v, why, sizeof(why)) && v == UINT64_MAX);
}

/* Numbers refused with their reason. */
static void number_refused(int line, const char *s, const char *want)
{
	char why[96];
	uint64_t v = 42;
	if (args_number(s, &v, why, sizeof(why)))
		test_fail(__FILE__, line, "'%s' accepted", s ? s : "(null)");
	else if (strcmp(why, want) != 0)
		test_fail(__FILE__, line, "'%s': \"%s\", want \"%s\"", s ? s : "(null)", why, want);
	if (v != 42)
		test_fail(__FILE__, line, "value written on failure");
}

TEST(args_number_empty)
{
	number_refused(__LINE__, "", "empty number");
	number_refused(__LINE__, NULL, "empty number");
}

TEST(args_number_negative)
{
	number_refused(__LINE__, "-5", "negative number '-5'");
	number_refused(__LINE__, "-0x5", "negative number '-0x5'");
}

TEST(args_number_malformed)
{
	number_refused(__LINE__, "abc", "malformed number 'abc' (decimal, or hex with 0x)");
	number_refused(__LINE__, "+1", "malformed number '+1' (decimal, or hex with 0x)");
	number_refused(__LINE__, " 1", "malformed number ' 1' (decimal, or hex with 0x)");
	number_refused(__LINE__, "0x", "malformed number '0x' (no digits after 0x)");
	number_refused(__LINE__, "0xg", "malformed number '0xg' (decimal, or hex with 0x)");
}

TEST(args_number_trailing_junk)
{
	number_refused(__LINE__, "12ab", "trailing junk in number '12ab'");
	number_refused(__LINE__, "0x12g", "trailing junk in number '0x12g'");
	number_refused(__LINE__, "1 ", "trailing junk in number '1 '");
	number_refused(__LINE__, "0x1_000", "trailing junk in number '0x1_000'");
	number_refused(__LINE__, "0x0x1", "trailing junk in number '0x0x1'");
}

TEST(args_number_overflow)
{
	number_refused(__LINE__, "18446744073709551616", "number '18446744073709551616' does not fit in 64 bits");
	number_refused(__LINE__, "0x10000000000000000", "number '0x10000000000000000' does not fit in 64 bits");
	number_refused(__LINE__, "99999999999999999999999", "number '99999999999999999999999' does not fit in 64 bits");
}

/* ------------------------------------------------------------------ translate */

/* Every address is kept in order. */
TEST(args_translate_addresses)
{
	args_result r;
	CHECK(PARSE(&r, &cpu_1g, "translate", "0xA0000001000", "4096", "0xffffffff80000000"));
	CHECK_EQ(r.cmd, ARGS_TRANSLATE);
	CHECK_EQ(r.addr_count, 3);
	CHECK_EQ(r.addrs[0], 0xA0000001000ull);
	CHECK_EQ(r.addrs[1], 4096);
	CHECK_EQ(r.addrs[2], 0xffffffff80000000ull);
}

/* translate walks the tables boot would build, so it takes the layout options too. */
TEST(args_translate_with_options)
{
	args_result r;
	CHECK(PARSE(&r, &cpu_1g, "translate", "0x10000001000", "--offset", "0x10000000000",
		    "--page", "2m"));
	CHECK_EQ(r.addr_count, 1);
	CHECK_EQ(r.offset, 0x10000000000ull);
	CHECK_EQ(r.page, PG_2M);
}

TEST(args_translate_needs_address)
{
	REFUSE(&cpu_1g, "translate needs at least one address", "translate");
	REFUSE(&cpu_1g, "translate needs at least one address", "translate", "--page", "2m");
}

/* A non-canonical address is an error that says why. */
TEST(args_translate_not_canonical)
{
	REFUSE(&cpu_1g, "address 0x0000800000000000 is not canonical (bits 63:47 must all be equal)",
	       "translate", "0x800000000000");
	REFUSE(&cpu_1g, "address 0xfff0000000000000 is not canonical (bits 63:47 must all be equal)",
	       "translate", "0x1000", "0xfff0000000000000");
}

/* A malformed address reports the number's problem. */
TEST(args_translate_malformed_address)
{
	REFUSE(&cpu_1g, "address: negative number '-4096'", "translate", "-4096");
	REFUSE(&cpu_1g, "address: trailing junk in number '0x1000,'", "translate", "0x1000,");
	REFUSE(&cpu_1g, "address: malformed number 'kernel' (decimal, or hex with 0x)",
	       "translate", "kernel");
}

/* 32 addresses fit; the 33rd is an error, never a silent truncation. */
TEST(args_translate_address_limit)
{
	const char *argv[1 + ARGS_MAX_ADDRS + 1];
	args_result r;
	argv[0] = "translate";
	for (int i = 1; i <= ARGS_MAX_ADDRS + 1; i++)
		argv[i] = "0x1000";
	CHECK(args_parse(1 + ARGS_MAX_ADDRS, argv, &cpu_1g, &r));
	CHECK_EQ(r.addr_count, ARGS_MAX_ADDRS);
	refuse(__LINE__, 2 + ARGS_MAX_ADDRS, argv, &cpu_1g, "too many addresses (at most 32)");
}

/* ------------------------------------------------------------------ current */

TEST(args_current_map)
{
	args_result r;
	CHECK(PARSE(&r, &cpu_1g, "current", "map"));
	CHECK_EQ(r.cmd, ARGS_CURRENT_MAP);
}

TEST(args_current_translate)
{
	args_result r;
	CHECK(PARSE(&r, &cpu_1g, "current", "translate", "0x7e000000", "0x1000"));
	CHECK_EQ(r.cmd, ARGS_CURRENT_TRANSLATE);
	CHECK_EQ(r.addr_count, 2);
	CHECK_EQ(r.addrs[0], 0x7e000000);
}

TEST(args_current_needs_subcommand)
{
	REFUSE(&cpu_1g, "current needs 'map' or 'translate'", "current");
	REFUSE(&cpu_1g, "current needs 'map' or 'translate', not 'memmap'", "current", "memmap");
}

/* The live tables are what they are: no layout options. */
TEST(args_current_rejects_options)
{
	REFUSE(&cpu_1g, "unknown option '--page' for current map", "current", "map", "--page", "2m");
	REFUSE(&cpu_1g, "unknown option '--offset' for current translate", "current",
	       "translate", "--offset", "0x10000000000", "0x1000");
	REFUSE(&cpu_1g, "unexpected argument '0x1000' for current map", "current", "map", "0x1000");
	REFUSE(&cpu_1g, "current translate needs at least one address", "current", "translate");
}

/* ------------------------------------------------------------------ boot and test */

TEST(args_boot_plain)
{
	args_result r;
	CHECK(PARSE(&r, &cpu_1g, "boot"));
	CHECK_EQ(r.cmd, ARGS_BOOT);
	CHECK(!r.test);
}

TEST(args_boot_test_and_options)
{
	args_result r;
	CHECK(PARSE(&r, &cpu_1g, "boot", "--page", "2m", "test", "--offset", "0x20000000000"));
	CHECK_EQ(r.cmd, ARGS_BOOT);
	CHECK(r.test);
	CHECK_EQ(r.page, PG_2M);
	CHECK_EQ(r.offset, 0x20000000000ull);
}

/* test is short for boot test. */
TEST(args_test_command)
{
	args_result r;
	CHECK(PARSE(&r, &cpu_1g, "test"));
	CHECK_EQ(r.cmd, ARGS_BOOT);
	CHECK(r.test);
}

TEST(args_boot_rejects_other_words)
{
	REFUSE(&cpu_1g, "unexpected argument 'quiet' for boot", "boot", "quiet");
	REFUSE(&cpu_1g, "unexpected argument 'test' for boot", "boot", "test", "test");
	REFUSE(&cpu_1g, "unexpected argument 'test' for boot", "test", "test");
}

/* drill=D picks one of the kernel's fault drills; test may come with it. */
TEST(args_boot_drill)
{
	args_result r;
	CHECK(PARSE(&r, &cpu_1g, "boot"));
	CHECK_STR(r.drill, "");
	CHECK(PARSE(&r, &cpu_1g, "boot", "drill=null"));
	CHECK_STR(r.drill, "null");
	CHECK(!r.test);
	CHECK(PARSE(&r, &cpu_1g, "boot", "test", "DRILL=Stack"));
	CHECK_STR(r.drill, "stack");
	CHECK(r.test);
	CHECK(PARSE(&r, &cpu_1g, "test", "drill=nx"));
	CHECK_STR(r.drill, "nx");
	CHECK(PARSE(&r, &cpu_1g, "boot", "drill=panic")); /* a panic before the console */
	CHECK_STR(r.drill, "panic");
}

/* An unknown drill, an empty one or two of them are refused before anything boots. */
TEST(args_boot_drill_refused)
{
	REFUSE(&cpu_1g, "drill must be null, text, stack, nx or panic, not 'heap'", "boot",
	       "drill=heap");
	REFUSE(&cpu_1g, "drill must be null, text, stack, nx or panic, not ''", "boot",
	       "drill=");
	REFUSE(&cpu_1g, "drill= given twice", "boot", "drill=null", "drill=text");
	REFUSE(&cpu_1g, "unexpected argument 'drill=null' for map", "map", "drill=null");
}

/* stale-key (the ExitBootServices retry test) goes with boot and test, once. */
TEST(args_boot_stale_key)
{
	args_result r;
	CHECK(PARSE(&r, &cpu_1g, "boot"));
	CHECK(!r.stale_key);
	CHECK(PARSE(&r, &cpu_1g, "boot", "stale-key"));
	CHECK(r.stale_key);
	CHECK(!r.test);
	CHECK_STR(r.drill, "");
	CHECK(PARSE(&r, &cpu_1g, "test", "STALE-KEY", "drill=null"));
	CHECK(r.stale_key && r.test);
	CHECK_STR(r.drill, "null");
	CHECK(PARSE(&r, &cpu_1g, "boot", "--page", "2m", "stale-key", "test"));
	CHECK(r.stale_key && r.test && r.page == PG_2M);
}

/* Twice, misspelt, with a value or on a command that does not boot: one-line refusals. */
TEST(args_boot_stale_key_refused)
{
	REFUSE(&cpu_1g, "stale-key given twice", "boot", "stale-key", "stale-key");
	REFUSE(&cpu_1g, "unexpected argument 'stale-keys' for boot", "boot", "stale-keys");
	REFUSE(&cpu_1g, "unexpected argument 'stale-key=1' for boot", "boot", "stale-key=1");
	REFUSE(&cpu_1g, "unexpected argument 'stale-key' for map", "map", "stale-key");
	REFUSE(&cpu_1g, "unexpected argument 'stale-key' for memmap", "memmap", "stale-key");
}

/* late-fail (the test of a failure after ExitBootServices) goes with boot, once. */
TEST(args_boot_late_fail)
{
	args_result r;
	CHECK(PARSE(&r, &cpu_1g, "boot"));
	CHECK(!r.late_fail);
	CHECK(PARSE(&r, &cpu_1g, "boot", "late-fail"));
	CHECK(r.late_fail && !r.stale_key && !r.test);
	CHECK(PARSE(&r, &cpu_1g, "boot", "stale-key", "LATE-FAIL"));
	CHECK(r.late_fail && r.stale_key);
	REFUSE(&cpu_1g, "late-fail given twice", "boot", "late-fail", "late-fail");
	REFUSE(&cpu_1g, "unexpected argument 'late-fail' for map", "map", "late-fail");
	REFUSE(&cpu_1g, "unexpected argument 'late-fails' for boot", "boot", "late-fails");
}

/* Boot options are checked like map's: boot with a bad offset changes nothing. */
TEST(args_boot_checks_offset)
{
	REFUSE(&cpu_1g, "--offset 0x0000000000001000 is not 512 GiB aligned", "boot", "--offset",
	       "0x1000");
}

/* ------------------------------------------------------------------ -b and odd input */

/* -b may stand anywhere and is not an argument of the command. */
TEST(args_paging_flag_anywhere)
{
	args_result r;
	CHECK(PARSE(&r, &cpu_1g, "-b"));
	CHECK_EQ(r.cmd, ARGS_BOOT);
	CHECK(r.paging);
	CHECK(PARSE(&r, &cpu_1g, "-b", "memmap"));
	CHECK_EQ(r.cmd, ARGS_MEMMAP);
	CHECK(r.paging);
	CHECK(PARSE(&r, &cpu_1g, "translate", "0x1000", "-B", "0x2000"));
	CHECK(r.paging);
	CHECK_EQ(r.addr_count, 2);
	CHECK(PARSE(&r, &cpu_1g, "map", "--offset", "-b", "0x10000000000"));
	CHECK(r.paging && r.offset == 0x10000000000ull);
	CHECK(PARSE(&r, &cpu_1g, "memmap"));
	CHECK(!r.paging);
}

/* A NULL pointer in argv is refused, not followed. */
TEST(args_null_argument)
{
	const char *argv[2] = { "memmap", NULL };
	args_result r;
	CHECK(!args_parse(2, argv, &cpu_1g, &r));
	CHECK(r.error[0] != '\0');
}

/* A very long word is cut to fit the reason buffer, still one terminated line. */
TEST(args_long_word_reason_truncated)
{
	char word[400];
	memset(word, 'z', sizeof(word) - 1);
	word[sizeof(word) - 1] = '\0';
	const char *argv[1] = { word };
	args_result r;
	CHECK(!args_parse(1, argv, &cpu_1g, &r));
	CHECK_EQ(strlen(r.error), ARGS_ERROR_MAX - 1);
	CHECK(strncmp(r.error, "unknown command 'zzz", 20) == 0);
}

/* ------------------------------------------------------------------ usage */

static unsigned usage_lines;
static bool usage_seen[8];

static void usage_sink(void *ctx, const char *line)
{
	static const char *const words[8] = { "help", "memmap [--kinds]", "map [--offset X]",
		"translate [", "current map", "current translate", "boot [", "-b" };
	(void)ctx;
	usage_lines++;
	if (strlen(line) >= 80 || strchr(line, '\n'))
		test_fail(__FILE__, __LINE__, "usage line too long or multi-line: \"%s\"", line);
	for (int i = 0; i < 8; i++)
		if (strstr(line, words[i]))
			usage_seen[i] = true;
}

/* The usage names every command and fits an 80-column console. */
TEST(args_usage_lists_every_command)
{
	usage_lines = 0;
	memset(usage_seen, 0, sizeof(usage_seen));
	args_usage(usage_sink, NULL);
	CHECK(usage_lines > 8);
	for (int i = 0; i < 8; i++)
		CHECK(usage_seen[i]);
}

/* A word with a newline or other control byte is quoted escaped, so the reason stays
 * one line and cannot forge a line in a log that tests read. */
TEST(args_error_escapes_control_bytes_in_words)
{
	args_result r;
	CHECK(!PARSE(&r, &cpu_1g, "frob\nkernel: ready\x1b"));
	CHECK(strchr(r.error, '\n') == NULL);
	CHECK(strchr(r.error, '\x1b') == NULL);
	CHECK(strstr(r.error, "frob\\x0akernel: ready\\x1b") != NULL);
}

/* An unknown option with control bytes is quoted escaped too (fuzz_args found it). */
TEST(args_unknown_option_escapes_control_bytes)
{
	args_result r;
	CHECK(!PARSE(&r, &cpu_1g, "map", "-\x9d\n\n"));
	CHECK(strchr(r.error, '\n') == NULL);
	CHECK(strstr(r.error, "-\\x9d\\x0a\\x0a") != NULL);
}

/* ------------------------------------------------------------------ --levels (issue 11) */

static const args_env cpu_la57 = { true, 0, true, 0 };
static const args_env fw_la57 = { true, 0, true, 5 };

/* Without --levels everything builds 4-level tables, LA57 or not. */
TEST(args_levels_default_4)
{
	args_result r;
	CHECK(PARSE(&r, &cpu_la57, "boot"));
	CHECK_EQ(r.levels, 4u);
	CHECK(!r.levels_set);
	CHECK(args_parse(0, NULL, &cpu_la57, &r));
	CHECK_EQ(r.levels, 4u);
}

/* boot, test, map and translate take --levels 5 on a CPU with LA57. */
TEST(args_levels_5_accepted)
{
	args_result r;
	CHECK(PARSE(&r, &cpu_la57, "boot", "--levels", "5"));
	CHECK_EQ(r.cmd, ARGS_BOOT);
	CHECK_EQ(r.levels, 5u);
	CHECK(PARSE(&r, &cpu_la57, "test", "--levels", "5"));
	CHECK(r.test && r.levels == 5);
	CHECK(PARSE(&r, &cpu_la57, "map", "--levels", "5", "--page", "2m"));
	CHECK(r.cmd == ARGS_MAP && r.levels == 5 && r.page == PG_2M);
	CHECK(PARSE(&r, &cpu_la57, "boot", "--levels", "4", "test"));
	CHECK(r.levels == 4 && r.levels_set && r.test);
}

/* --levels 5 on a CPU without LA57 is refused with one line naming the CPUID bit. */
TEST(args_levels_5_without_la57)
{
	REFUSE(&cpu_1g, "--levels 5: this CPU has no 5-level paging (CPUID.(EAX=7,ECX=0):ECX[16] LA57 is clear)",
	       "boot", "--levels", "5");
	REFUSE(NULL, "--levels 5: this CPU has no 5-level paging (CPUID.(EAX=7,ECX=0):ECX[16] LA57 is clear)",
	       "map", "--levels", "5");
}

/* Anything but 4 or 5 is refused, and so is a missing or repeated value. */
TEST(args_levels_bad_values)
{
	REFUSE(&cpu_la57, "--levels must be 4 or 5, not '3'", "boot", "--levels", "3");
	REFUSE(&cpu_la57, "--levels must be 4 or 5, not '0x5'", "boot", "--levels", "0x5");
	REFUSE(&cpu_la57, "--levels must be 4 or 5, not '6'", "translate", "--levels", "6", "0x1000");
	REFUSE(&cpu_la57, "option --levels needs a value", "boot", "--levels");
	REFUSE(&cpu_la57, "option --levels given twice", "boot", "--levels", "4", "--levels", "5");
	REFUSE(&cpu_la57, "unknown option '--levels' for memmap", "memmap", "--levels", "5");
}

/* A 57-bit address is canonical only with 5 levels; the reason names the right bits. */
TEST(args_levels_address_width)
{
	args_result r;
	CHECK(PARSE(&r, &cpu_la57, "translate", "--levels", "5", "0x00ff800000000000"));
	CHECK_EQ(r.addrs[0], 0x00ff800000000000ull);
	CHECK(PARSE(&r, &cpu_la57, "translate", "0xff00000000000000", "--levels", "5"));
	REFUSE(&cpu_la57, "address 0x00ff800000000000 is not canonical (bits 63:47 must all be equal)",
	       "translate", "0x00ff800000000000");
	REFUSE(&cpu_la57, "address 0x0100000000000000 is not canonical (bits 63:56 must all be equal)",
	       "translate", "--levels", "5", "0x0100000000000000");
}

/* current reads the firmware's tables: its mode by default, and --levels must agree. */
TEST(args_levels_current_follows_firmware)
{
	args_result r;
	CHECK(PARSE(&r, &fw_la57, "current", "map"));
	CHECK_EQ(r.levels, 5u);
	CHECK(PARSE(&r, &fw_la57, "current", "translate", "0x00ff800000000000"));
	CHECK_EQ(r.levels, 5u);
	CHECK(PARSE(&r, &cpu_la57, "current", "map", "--levels", "4"));
	CHECK_EQ(r.levels, 4u);
	REFUSE(&cpu_la57, "current --levels 5: the firmware runs 4-level paging (CR4.LA57 clear)",
	       "current", "map", "--levels", "5");
	REFUSE(&fw_la57, "current --levels 4: the firmware runs 5-level paging (CR4.LA57 set)",
	       "current", "translate", "--levels", "4", "0x1000");
}

/* nmi-window (the test of the handoff trampoline's IDT) goes with boot, once. */
TEST(args_boot_nmi_window)
{
	args_result r;
	CHECK(PARSE(&r, &cpu_la57, "boot", "--levels", "5", "nmi-window"));
	CHECK(r.nmi_window && r.levels == 5 && !r.late_fail);
	CHECK(PARSE(&r, &cpu_la57, "boot"));
	CHECK(!r.nmi_window);
	REFUSE(&cpu_la57, "nmi-window given twice", "boot", "nmi-window", "nmi-window");
	REFUSE(&cpu_la57, "unexpected argument 'nmi-window' for map", "map", "nmi-window");
}
