/* main.c - runs every TEST() linked into the binary, or those whose name contains argv[1]. */
#include <stdarg.h>
#include <string.h>

#include "test.h"

extern const struct test_case __start_test_cases[], __stop_test_cases[];

static int failures_in_case;

void test_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	printf("    %s:%d: ", file, line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	failures_in_case++;
}

int main(int argc, char **argv)
{
	unsigned passed = 0, failed = 0;
	for (const struct test_case *t = __start_test_cases; t < __stop_test_cases; t++) {
		if (argc > 1 && !strstr(t->name, argv[1]))
			continue;
		failures_in_case = 0;
		t->fn();
		if (failures_in_case) {
			printf("FAIL %s\n", t->name);
			failed++;
		} else {
			printf("ok   %s\n", t->name);
			passed++;
		}
	}
	printf("%u passed, %u failed\n", passed, failed);
	return failed ? 1 : 0;
}
