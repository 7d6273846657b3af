/* test.h - a tiny host test framework: TEST() registers a case in a linker section,
 * CHECK*() records a failure and carries on, the runner prints "N passed, N failed". */
#ifndef TESTS_HOST_TEST_H
#define TESTS_HOST_TEST_H

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct test_case {
	const char *name;
	void (*fn)(void);
};

#define TEST(name)                                                              \
	static void name(void);                                                 \
	static const struct test_case tc_##name                                 \
		__attribute__((used, section("test_cases"), aligned(16))) = { #name, name }; \
	static void name(void)

void test_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define CHECK(cond)                                                             \
	do {                                                                    \
		if (!(cond))                                                    \
			test_fail(__FILE__, __LINE__, "CHECK(%s)", #cond);      \
	} while (0)

#define CHECK_EQ(a, b)                                                          \
	do {                                                                    \
		uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b);                \
		if (a_ != b_)                                                   \
			test_fail(__FILE__, __LINE__, "%s == %s: 0x%" PRIx64 " != 0x%" PRIx64, \
				  #a, #b, a_, b_);                              \
	} while (0)

/* For pg_err results: prints the error names. */
#define CHECK_ERR(expr, want)                                                   \
	do {                                                                    \
		int got_ = (int)(expr), want_ = (int)(want);                    \
		if (got_ != want_)                                              \
			test_fail(__FILE__, __LINE__, "%s: got %s, want %s", #expr, \
				  pg_strerror((pg_err)got_), pg_strerror((pg_err)want_)); \
	} while (0)

#endif
