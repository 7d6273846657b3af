/* model_main.c - make test-heap-model: random operations from a seeded generator through
 * heap_model_run, in rounds of 4,096 operations (each round a fresh heap). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "heap_model.h"

static uint64_t rng;
static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

int main(int argc, char **argv)
{
	uint64_t seed = 0, ops = 200000;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--seed") && argv[i + 1][0])
			seed = strtoull(argv[i + 1], NULL, 0);
		else if (!strcmp(argv[i], "--ops"))
			ops = strtoull(argv[i + 1], NULL, 0);
	}
	if (!seed)
		seed = (uint64_t)time(NULL);
	printf("heap-model: seed=%llu ops=%llu\n", (unsigned long long)seed,
	       (unsigned long long)ops);
	rng = seed * 0x9e3779b97f4a7c15ull | 1;
	static uint8_t buf[4096 * 4];
	unsigned passed = 0, failed = 0;
	for (uint64_t done = 0; done < ops; done += 4096) {
		for (size_t i = 0; i < sizeof buf; i++)
			buf[i] = (uint8_t)next();
		if (heap_model_run(buf, sizeof buf, done == 0))
			failed++;
		else
			passed++;
	}
	printf("%s heap model: %u rounds of 4096 operations against the reference (seed %llu)\n",
	       failed ? "FAIL" : "ok  ", passed + failed, (unsigned long long)seed);
	printf("%u passed, %u failed\n", failed ? 0 : 1, failed ? 1 : 0);
	return failed ? 1 : 0;
}
