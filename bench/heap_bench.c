/* heap_bench.c - the heap row of make bench: kernel/mm/heap_core.c against glibc malloc on
 * the same mixed workload (one seeded sequence of malloc, free and realloc over 4,096
 * slots: most blocks small, some up to 32 KiB; each block's first and last byte written),
 * the median of 5 runs each, round robin. heap_core's page source only counts on the host
 * (its region is faulted in beforehand), so the row compares allocator work, not page-table
 * work; the kernel's map cost is paging/'s rows above. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "heap_core.h"

void bench_heap(void);

#define HB_RUNS  5
#define HB_OPS   1000000
#define HB_SLOTS 4096
#define HB_PAGES 65536 /* 256 MiB region */

typedef struct { unsigned what, slot; size_t size; } hb_op;

static hb_op *ops;
static void *slot[HB_SLOTS];
static hc_heap heap;
static volatile unsigned long hb_sink;

static double hb_now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static bool count_map(void *ctx, uintptr_t va, size_t n) { (void)va; *(size_t *)ctx += n; return true; }
static void count_unmap(void *ctx, uintptr_t va, size_t n) { (void)va; *(size_t *)ctx -= n; }

static size_t hb_size(uint64_t r)
{
	unsigned k = r % 100;
	r >>= 8;
	if (k < 80)
		return 8 + r % 249;
	if (k < 95)
		return 257 + r % 1792;
	return 2049 + r % 30720;
}

/* The sequence: an empty slot gets a block; a full one is freed (70 %) or resized. */
static void make_ops(void)
{
	uint64_t x = 0x2545f4914f6cdd1dull;
	bool full[HB_SLOTS] = { 0 };
	ops = malloc(sizeof(hb_op) * HB_OPS);
	for (unsigned i = 0; i < HB_OPS; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		unsigned s = (unsigned)(x % HB_SLOTS);
		uint64_t r = x >> 12;
		if (!full[s])
			ops[i] = (hb_op){ 0, s, hb_size(r) }, full[s] = true;
		else if (r % 10 < 7)
			ops[i] = (hb_op){ 1, s, 0 }, full[s] = false;
		else
			ops[i] = (hb_op){ 2, s, hb_size(r >> 7) };
	}
}

static void touch(void *p, size_t size)
{
	((volatile char *)p)[0] = 1;
	((volatile char *)p)[size - 1] = 2;
}

static double run_glibc(void)
{
	double t0 = hb_now();
	for (unsigned i = 0; i < HB_OPS; i++) {
		const hb_op *o = &ops[i];
		if (o->what == 0)
			touch(slot[o->slot] = malloc(o->size), o->size);
		else if (o->what == 1)
			free(slot[o->slot]), slot[o->slot] = NULL;
		else
			touch(slot[o->slot] = realloc(slot[o->slot], o->size), o->size);
	}
	double t = (hb_now() - t0) / HB_OPS;
	for (unsigned s = 0; s < HB_SLOTS; s++)
		free(slot[s]), slot[s] = NULL;
	return t;
}

static double run_heap(void)
{
	unsigned long failed = 0;
	double t0 = hb_now();
	for (unsigned i = 0; i < HB_OPS; i++) {
		const hb_op *o = &ops[i];
		void *p;
		if (o->what == 1) {
			hc_free(&heap, slot[o->slot]), slot[o->slot] = NULL;
			continue;
		}
		p = o->what == 0 ? hc_alloc(&heap, o->size, 0, NULL) :
				   hc_realloc(&heap, slot[o->slot], o->size, NULL);
		if (p)
			touch(slot[o->slot] = p, o->size);
		else
			failed++;
	}
	double t = (hb_now() - t0) / HB_OPS;
	for (unsigned s = 0; s < HB_SLOTS; s++)
		hc_free(&heap, slot[s]), slot[s] = NULL;
	hb_sink += failed;
	if (failed)
		fprintf(stderr, "bench: heap: %lu allocations failed\n", failed);
	return t;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

void bench_heap(void)
{
	static size_t mapped;
	size_t bytes = (size_t)HB_PAGES * HC_PAGE;
	void *region = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	hc_page *descs = calloc(HB_PAGES, sizeof(hc_page));
	if (region == MAP_FAILED || !descs) {
		perror("bench: heap region");
		exit(1);
	}
	memset(region, 0, bytes); /* fault it in once, as the kernel's pages are present */
	hc_pages src = { count_map, count_unmap, &mapped };
	if (hc_init(&heap, (uintptr_t)region, HB_PAGES, descs, src) != HC_OK)
		exit(1);
	make_ops();
	double g[HB_RUNS], h[HB_RUNS];
	run_glibc(); /* warm both */
	run_heap();
	for (int r = 0; r < HB_RUNS; r++) {
		g[r] = run_glibc();
		h[r] = run_heap();
	}
	qsort(g, HB_RUNS, sizeof(double), cmp);
	qsort(h, HB_RUNS, sizeof(double), cmp);
	double gm = g[HB_RUNS / 2], hm = h[HB_RUNS / 2];
	printf("bench: glibc_malloc_mixed ns_per_op=%.2f ratio=-\n", gm);
	printf("bench: heap_mixed ns_per_op=%.2f ratio=%.2f x glibc malloc (%d ops: 4096 slots, "
	       "malloc/free/realloc, 8 B..32 KiB)\n", hm, hm / gm, HB_OPS);
	free(ops);
	free(descs);
	munmap(region, bytes);
}
