/* fuzz_args.c - libFuzzer target for the shell argument parser (efi/pure/args.c).
 *
 * Input: byte 0 sets the machine (bit 0: 1 GiB pages, bit 1: env NULL, bit 2: the last
 * argument is a NULL pointer), byte 1 the physical top (0: default, else 2^(b % 64)),
 * the rest is argv: words separated by NUL bytes, each copied to a buffer of exactly its
 * length. args_parse must never crash and must give a non-empty one-line reason for every
 * refusal; what it accepts must keep the promises of args.h. args_number is also run on
 * every word against a reference parser written here. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"

#define MAX_WORDS 64

#define REQUIRE(cond)                                                              \
	do {                                                                       \
		if (!(cond)) {                                                     \
			fprintf(stderr, "fuzz_args: %s:%d: invariant broken: %s\n", \
				__FILE__, __LINE__, #cond);                        \
			abort();                                                   \
		}                                                                  \
	} while (0)

/* A reason is present, NUL terminated inside its buffer and a single line. */
static void check_reason(const char *why, size_t cap)
{
	const char *nul = memchr(why, '\0', cap);
	REQUIRE(nul != NULL);
	REQUIRE(nul != why);
	REQUIRE(memchr(why, '\n', (size_t)(nul - why)) == NULL);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The grammar of args.h: decimal digits, or 0x/0X and hex digits; at most 2^64 - 1. */
static int ref_number(const char *s, uint64_t *v)
{
	unsigned base = 10;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (!*s)
		return 0;
	unsigned __int128 acc = 0;
	for (; *s; s++) {
		int d = hexval(*s);
		if (d < 0 || (unsigned)d >= base)
			return 0;
		acc = acc * base + (unsigned)d;
		if (acc > UINT64_MAX)
			return 0;
	}
	*v = (uint64_t)acc;
	return 1;
}

/* Bits 63:47 (4 levels) or 63:56 (5 levels) all equal, by shifting out the top. */
static int canonical(uint64_t v, unsigned levels)
{
	unsigned bit = levels == 5 ? 56 : 47;
	uint64_t top = v >> bit;
	return top == 0 || top == (UINT64_MAX >> bit);
}

static int is_b_flag(const char *w)
{
	return w && w[0] == '-' && (w[1] == 'b' || w[1] == 'B') && w[2] == '\0';
}

static void check_accepted(const args_result *o, int argc, char *const *argv,
			   const args_env *env)
{
	REQUIRE(o->cmd <= ARGS_CURRENT_TRANSLATE);
	REQUIRE(o->addr_count <= ARGS_MAX_ADDRS);
	int translate = o->cmd == ARGS_TRANSLATE || o->cmd == ARGS_CURRENT_TRANSLATE;
	REQUIRE(translate ? o->addr_count >= 1 : o->addr_count == 0);
	int any_b = 0;
	for (int i = 0; i < argc; i++)
		any_b |= is_b_flag(argv[i]);
	REQUIRE(o->paging == (any_b != 0));
	if (o->kinds)
		REQUIRE(o->cmd == ARGS_MEMMAP);
	/* 4 or 5; 5 only with LA57; current follows the firmware's mode */
	REQUIRE(o->levels == 4 || o->levels == 5);
	REQUIRE(o->levels != 5 || o->cmd == ARGS_CURRENT_MAP || o->cmd == ARGS_CURRENT_TRANSLATE ||
		(env && env->has_la57));
	if (o->cmd == ARGS_CURRENT_MAP || o->cmd == ARGS_CURRENT_TRANSLATE)
		REQUIRE(o->levels == (env && env->firmware_levels == 5 ? 5u : 4u));
	if (o->page_set) {
		REQUIRE((unsigned)o->page < PG_SIZE_COUNT);
		REQUIRE(o->page != PG_1G || (env && env->has_1g));
	}
	if (o->offset_set) {
		uint64_t top = env && env->phys_top ? env->phys_top : ARGS_DEFAULT_PHYS_TOP;
		REQUIRE(o->offset != 0 && o->offset % ARGS_GIB512 == 0);
		REQUIRE(o->offset < ARGS_LOWER_END && top <= ARGS_LOWER_END - o->offset);
	}
	/* Every address is canonical and is the value of one of the words given. */
	for (unsigned a = 0; a < o->addr_count; a++) {
		REQUIRE(canonical(o->addrs[a], o->levels));
		int found = 0;
		for (int i = 0; i < argc && !found; i++) {
			uint64_t v;
			found = argv[i] && ref_number(argv[i], &v) && v == o->addrs[a];
		}
		REQUIRE(found);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	args_env env = { (data[0] & 1) != 0, data[1] ? 1ull << (data[1] % 64) : 0, (data[0] & 4) != 0,
			 (data[0] & 8) ? 5u : 4u };
	const args_env *envp = (data[0] & 2) ? NULL : &env;
	char *argv[MAX_WORDS];
	int argc = 0;
	size_t pos = 2;
	while (pos < size && argc < MAX_WORDS) {
		const uint8_t *end = memchr(data + pos, 0, size - pos);
		size_t n = end ? (size_t)(end - (data + pos)) : size - pos;
		argv[argc] = malloc(n + 1);
		REQUIRE(argv[argc] != NULL);
		memcpy(argv[argc], data + pos, n);
		argv[argc][n] = '\0';
		argc++;
		pos += n + 1;
	}
	char *dropped = NULL;
	if ((data[0] & 4) && argc > 0) {
		dropped = argv[argc - 1];
		argv[argc - 1] = NULL;
	}

	args_result *o = malloc(sizeof *o);
	REQUIRE(o != NULL);
	memset(o, 0xa5, sizeof *o);
	bool ok = args_parse(argc, (const char *const *)argv, envp, o);
	if (dropped)
		REQUIRE(!ok);
	if (ok)
		check_accepted(o, argc, argv, envp);
	else
		check_reason(o->error, sizeof o->error);

	for (int i = 0; i < argc; i++) {
		if (!argv[i])
			continue;
		uint64_t got = 0, want = 0;
		char why[48];
		memset(why, 0xa5, sizeof why);
		int ref = ref_number(argv[i], &want);
		bool num = args_number(argv[i], &got, why, sizeof why);
		REQUIRE(num == (ref != 0));
		if (num)
			REQUIRE(got == want);
		else
			check_reason(why, sizeof why);
		free(argv[i]);
	}
	free(dropped);
	free(o);
	return 0;
}
