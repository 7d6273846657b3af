/* bench.c - host benchmark of paging/: page-table operations and the frame allocator,
 * each figure the median of 5 runs and set against machine bounds measured in the same
 * run. Output: one line per figure, "bench: NAME ns_per_op=X ratio=Y", then a summary
 * of which targets hold. Build: -O2 -DNDEBUG, no sanitizers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "frame.h"
#include "paging.h"
#include "region.h"

#define RUNS 5

void bench_heap(void);
#define KIB (1ull << 10)
#define MIB (1ull << 20)
#define GIB (1ull << 30)
#define PAGES_1G (GIB / 4096)           /* 262,144 */
#define VA_BASE 0xffff900000000000ull   /* 1 GiB aligned, upper half */
#define PA_BASE 0x0000002000000000ull   /* leaf frames: never touched */
#define FAKE_BASE 0x0000001000000000ull /* fake physical address of the table buffer */

static volatile uint64_t sink; /* keeps results alive */

static double now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static void *big(uint64_t bytes)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED) {
		perror("bench mmap");
		exit(1);
	}
	return p;
}

static uint64_t mix(uint64_t v) { return v * 0x9e3779b97f4a7c15ull; }

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

typedef double (*bench_fn)(void); /* one run: ns per operation */

/* ---- a cheap frame source for tables: a bump allocator over one big buffer */

typedef struct {
	uint8_t *mem;
	uint64_t size, next;
} bump;

static bump tables;

static bool bump_alloc(void *ctx, pg_paddr *frame)
{
	bump *b = ctx;
	if (b->next + 4096 > b->size)
		return false;
	*frame = pg_pa(FAKE_BASE + b->next);
	b->next += 4096;
	return true;
}

static void bump_free(void *ctx, pg_paddr frame)
{
	(void)ctx;
	(void)frame; /* given back for good: the buffer is reset per run */
}

static pg_frames bump_src = { bump_alloc, bump_free, &tables };

static void space_new(pg_space *s, unsigned levels)
{
	tables.next = 0;
	if (pg_space_init(s, &bump_src, (uint64_t)(uintptr_t)tables.mem - FAKE_BASE, true, true,
			  52, levels) != PG_OK) {
		fprintf(stderr, "bench: pg_space_init failed\n");
		exit(1);
	}
}

static void must(pg_err e, const char *what)
{
	if (e != PG_OK) {
		fprintf(stderr, "bench: %s: %s\n", what, pg_strerror(e));
		exit(1);
	}
}

/* ---- machine bounds */

#define STORE_N (2 * MIB / 8)
static uint64_t *store_buf;

/* Sequential 8-byte stores, one per page-table entry, over 2 MiB (warm). */
static double run_bound_store(void)
{
	volatile uint64_t *p = store_buf;
	for (uint64_t i = 0; i < STORE_N; i++) /* warm */
		p[i] = 0;
	double t0 = now_ns();
	for (int rep = 0; rep < 16; rep++)
		for (uint64_t i = 0; i < STORE_N; i++)
			p[i] = (i << 12) | 3;
	return (now_ns() - t0) / (16.0 * STORE_N);
}

#define CHASE_N (1u << 21)
static uint64_t *chase_l4, *chase_l3, *chase_l2, *chase_l1; /* 4 KiB x3, 2 MiB */

/* Four chained loads per step, the index of each taken from the load before, the last
 * array 2 MiB; the next step's start depends on the last load (a table walk's shape). */
static double run_bound_chase(void)
{
	uint64_t v = 12345;
	double t0 = now_ns();
	for (uint64_t i = 0; i < CHASE_N; i++) {
		uint64_t x = mix(v);
		uint64_t a = chase_l4[(x >> 39) & 511];
		uint64_t b = chase_l3[(a ^ (x >> 30)) & 511];
		uint64_t c = chase_l2[(b ^ (x >> 21)) & 511];
		v = chase_l1[(c ^ (x >> 12)) & (PAGES_1G - 1)];
	}
	sink = v;
	return (now_ns() - t0) / CHASE_N;
}

/* ---- page tables */

static double map_4k(unsigned levels)
{
	pg_space s;
	space_new(&s, levels);
	double t0 = now_ns();
	for (uint64_t i = 0; i < PAGES_1G; i++)
		if (pg_map(&s, pg_va(VA_BASE + i * 4096), pg_pa(PA_BASE + i * 4096), PG_4K, PG_W,
			   NULL) != PG_OK)
			must(PG_ERR_BAD_ARG, "map_4k");
	double t = (now_ns() - t0) / PAGES_1G;
	pg_space_destroy(&s);
	return t;
}

/* map_4k with the same pages in a scattered order: page (i * 0x9e3779b1) mod 2^18 (an
 * odd multiplier, so every page once), as ../shared/peerbench defines it. The cache of
 * the last level-1 table rarely hits. */
#define SCATTER(i) (((i) * 0x9e3779b1ull) & (PAGES_1G - 1))
static double map_4k_scattered(unsigned levels)
{
	pg_space s;
	uint64_t c[5];
	space_new(&s, levels);
	double t0 = now_ns();
	for (uint64_t i = 0; i < PAGES_1G; i++) {
		uint64_t p = SCATTER(i);
		if (pg_map(&s, pg_va(VA_BASE + p * 4096), pg_pa(PA_BASE + p * 4096), PG_4K, PG_W,
			   NULL) != PG_OK)
			must(PG_ERR_BAD_ARG, "map_4k_scattered");
	}
	double t = (now_ns() - t0) / PAGES_1G;
	pg_count_tables(&s, c);
	if (c[0] != 512 || c[1] != 1 || c[2] != 1 || c[3] != 1 || c[4] != (levels == 5))
		must(PG_ERR_BAD_ARG, "map_4k_scattered table count");
	pg_space_destroy(&s);
	return t;
}

/* 262,144 single-page unmaps over 1 GiB in ascending order, each table given back as
 * it empties (the bump source takes them). */
static double unmap_4k(unsigned levels)
{
	pg_space s;
	pg_paddr f;
	pg_size sz;
	uint64_t acc = 0, c[5];
	space_new(&s, levels);
	must(pg_map_range(&s, pg_va(VA_BASE), pg_pa(PA_BASE), GIB, PG_W, PG_4K), "map_range");
	double t0 = now_ns();
	for (uint64_t i = 0; i < PAGES_1G; i++) {
		if (pg_unmap(&s, pg_va(VA_BASE + i * 4096), &f, &sz) != PG_OK)
			must(PG_ERR_NOT_MAPPED, "unmap_4k");
		acc += f.pa;
	}
	double t = (now_ns() - t0) / PAGES_1G;
	sink = acc;
	pg_count_tables(&s, c);
	if (c[0] || c[1] || c[2] || c[3] != (levels == 4) || c[4] != (levels == 5))
		must(PG_ERR_BAD_ARG, "unmap_4k: tables left");
	pg_space_destroy(&s);
	return t;
}

static double map_range_4k(unsigned levels)
{
	pg_space s;
	space_new(&s, levels);
	double t0 = now_ns();
	must(pg_map_range(&s, pg_va(VA_BASE), pg_pa(PA_BASE), GIB, PG_W, PG_4K), "map_range_4k");
	double t = (now_ns() - t0) / PAGES_1G;
	pg_space_destroy(&s);
	return t;
}

static double map_2m(unsigned levels)
{
	pg_space s;
	space_new(&s, levels);
	double t0 = now_ns();
	for (uint64_t i = 0; i < 512; i++)
		if (pg_map(&s, pg_va(VA_BASE + i * 2 * MIB), pg_pa(PA_BASE + i * 2 * MIB), PG_2M,
			   PG_W, NULL) != PG_OK)
			must(PG_ERR_BAD_ARG, "map_2m");
	double t = (now_ns() - t0) / 512;
	pg_space_destroy(&s);
	return t;
}

static double unmap_range_4k(unsigned levels)
{
	pg_space s;
	uint64_t n = 0;
	space_new(&s, levels);
	must(pg_map_range(&s, pg_va(VA_BASE), pg_pa(PA_BASE), GIB, PG_W, PG_4K), "map_range");
	double t0 = now_ns();
	must(pg_unmap_range(&s, pg_va(VA_BASE), GIB, &n), "unmap_range_4k");
	double t = (now_ns() - t0) / PAGES_1G;
	if (n != PAGES_1G)
		must(PG_ERR_BAD_ARG, "unmap_range_4k count");
	pg_space_destroy(&s);
	return t;
}

#define TRANSLATE_N (1u << 21)
static pg_space tr_spaces[2]; /* 1 GiB in 4 KiB pages, built once: 4 and 5 levels */

/* Each address is computed from the physical address the previous translation gave.
 * pg_translate_fast: the call kernels use (phys, size, effective flags). */
static double translate_chain(unsigned levels)
{
	const pg_space *tr = &tr_spaces[levels - 4];
	pg_mapping m;
	uint64_t v = 12345;
	double t0 = now_ns();
	for (uint64_t i = 0; i < TRANSLATE_N; i++) {
		uint64_t va = VA_BASE + ((mix(v) >> 46) << 12);
		if (pg_translate_fast(tr, pg_va(va), &m) != PG_OK)
			must(PG_ERR_NOT_MAPPED, "translate_chain");
		v = m.phys.pa;
	}
	sink = v;
	return (now_ns() - t0) / TRANSLATE_N;
}

static double translate_rand(unsigned levels)
{
	const pg_space *tr = &tr_spaces[levels - 4];
	pg_mapping m;
	uint64_t acc = 0;
	double t0 = now_ns();
	for (uint64_t i = 0; i < TRANSLATE_N; i++) {
		uint64_t va = VA_BASE + ((mix(i + 1) >> 46) << 12);
		if (pg_translate_fast(tr, pg_va(va), &m) != PG_OK)
			must(PG_ERR_NOT_MAPPED, "translate_rand");
		acc += m.phys.pa;
	}
	sink = acc;
	return (now_ns() - t0) / TRANSLATE_N;
}

/* The same two with pg_translate, which also records the walk (shell, fault reports). */
static double translate_walk_chain(unsigned levels)
{
	const pg_space *tr = &tr_spaces[levels - 4];
	pg_translation t;
	uint64_t v = 12345;
	double t0 = now_ns();
	for (uint64_t i = 0; i < TRANSLATE_N; i++) {
		uint64_t va = VA_BASE + ((mix(v) >> 46) << 12);
		if (pg_translate(tr, pg_va(va), &t) != PG_OK)
			must(PG_ERR_NOT_MAPPED, "translate_chain");
		v = t.phys.pa;
	}
	sink = v;
	return (now_ns() - t0) / TRANSLATE_N;
}

static double translate_walk_rand(unsigned levels)
{
	const pg_space *tr = &tr_spaces[levels - 4];
	pg_translation t;
	uint64_t acc = 0;
	double t0 = now_ns();
	for (uint64_t i = 0; i < TRANSLATE_N; i++) {
		uint64_t va = VA_BASE + ((mix(i + 1) >> 46) << 12);
		if (pg_translate(tr, pg_va(va), &t) != PG_OK)
			must(PG_ERR_NOT_MAPPED, "translate_rand");
		acc += t.phys.pa;
	}
	sink = acc;
	return (now_ns() - t0) / TRANSLATE_N;
}

/* ---- frame allocator: one alloc + one free with N frames outstanding */

#define FA_BYTES (8 * GIB)
#define FA_BASE 0x0000000100000000ull
#define PAIRS (1u << 21)
typedef struct {
	frame_alloc fa;
	uint64_t outstanding;
} pool;
static pool pool_1k, pool_1m;

static void pool_setup(pool *p, uint64_t outstanding)
{
	mem_region r[1] = { { FA_BASE, FA_BYTES, MEM_USABLE, 0 } };
	mem_list l = { r, 1, 1 };
	uint8_t *mem = big(FA_BYTES);
	must(frame_init(&p->fa, &l, (uint64_t)(uintptr_t)mem - FA_BASE, NULL), "frame_init");
	pg_paddr f;
	for (uint64_t i = 0; i < outstanding; i++)
		must(frame_alloc_4k(&p->fa, &f), "frame_alloc_4k (setup)");
	p->outstanding = outstanding;
}

static double frame_pairs(pool *p)
{
	frame_alloc *fa = &p->fa;
	pg_paddr f;
	uint64_t acc = 0;
	double t0 = now_ns();
	for (uint64_t i = 0; i < PAIRS; i++) {
		if (frame_alloc_4k(fa, &f) != PG_OK)
			must(PG_ERR_NO_FRAMES, "frame_alloc_4k");
		acc += f.pa;
		if (frame_free_4k(fa, f) != PG_OK)
			must(PG_ERR_BAD_ARG, "frame_free_4k");
	}
	sink = acc;
	if (frame_used_count(fa) != p->outstanding)
		must(PG_ERR_BAD_ARG, "frame pair leaked");
	return (now_ns() - t0) / PAIRS;
}

static double run_frame_pair_1k(void) { return frame_pairs(&pool_1k); }
static double run_frame_pair_1m(void) { return frame_pairs(&pool_1m); }

/* Every page-table figure in 4 and in 5 levels. */
#define BOTH_LEVELS(name)						\
	static double run_##name(void) { return name(4); }		\
	static double run_##name##_l5(void) { return name(5); }
BOTH_LEVELS(map_4k)
BOTH_LEVELS(map_4k_scattered)
BOTH_LEVELS(unmap_4k)
BOTH_LEVELS(translate_walk_chain)
BOTH_LEVELS(translate_walk_rand)
BOTH_LEVELS(map_range_4k)
BOTH_LEVELS(map_2m)
BOTH_LEVELS(translate_chain)
BOTH_LEVELS(translate_rand)
BOTH_LEVELS(unmap_range_4k)

/* ---- output */

enum { B_STORE, B_CHASE, B_FRAME_1K, NO_BOUND = -1 };

static const struct {
	const char *name;
	bench_fn fn;
	int bound;          /* index of the figure it is divided by, or NO_BOUND */
	double target;      /* largest ratio allowed, 0 = none */
} figs[] = {
	[B_STORE] = { "bound_store", run_bound_store, NO_BOUND, 0 },
	[B_CHASE] = { "bound_chase", run_bound_chase, NO_BOUND, 0 },
	[B_FRAME_1K] = { "frame_pair_1k", run_frame_pair_1k, NO_BOUND, 0 },
	{ "map_4k", run_map_4k, B_STORE, 12 },
	{ "map_4k_l5", run_map_4k_l5, B_STORE, 0 },
	{ "map_range_4k", run_map_range_4k, B_STORE, 2.5 },
	{ "map_range_4k_l5", run_map_range_4k_l5, B_STORE, 0 },
	{ "map_2m", run_map_2m, B_STORE, 0 },
	{ "map_2m_l5", run_map_2m_l5, B_STORE, 0 },
	{ "translate_chain", run_translate_chain, B_CHASE, 1.5 },
	{ "translate_chain_l5", run_translate_chain_l5, B_CHASE, 0 },
	{ "translate_rand", run_translate_rand, B_CHASE, 0 },
	{ "translate_rand_l5", run_translate_rand_l5, B_CHASE, 0 },
	{ "unmap_range_4k", run_unmap_range_4k, B_STORE, 3 },
	{ "unmap_range_4k_l5", run_unmap_range_4k_l5, B_STORE, 0 },
	{ "frame_pair_1m", run_frame_pair_1m, B_FRAME_1K, 1.5 },
	{ "map_4k_scattered", run_map_4k_scattered, B_STORE, 0 },
	{ "map_4k_scattered_l5", run_map_4k_scattered_l5, B_STORE, 0 },
	{ "unmap_4k", run_unmap_4k, B_STORE, 0 },
	{ "unmap_4k_l5", run_unmap_4k_l5, B_STORE, 0 },
	{ "translate_walk_chain", run_translate_walk_chain, B_CHASE, 0 },
	{ "translate_walk_chain_l5", run_translate_walk_chain_l5, B_CHASE, 0 },
	{ "translate_walk_rand", run_translate_walk_rand, B_CHASE, 0 },
	{ "translate_walk_rand_l5", run_translate_walk_rand_l5, B_CHASE, 0 },
};
#define NFIGS (sizeof(figs) / sizeof(figs[0]))
/* Print order: the rows of the table, each 5-level row (_l5) below its 4-level one. */
static const unsigned order[NFIGS] = { 0, 1, 3, 4, 16, 17, 5, 6, 7, 8, 9, 10, 11, 12,
				       20, 21, 22, 23, 13, 14, 18, 19, 2, 15 };

int main(void)
{
	tables.size = 64 * MIB;
	tables.mem = big(tables.size);
	memset(tables.mem, 0, tables.size); /* fault it in once */
	store_buf = big(2 * MIB);
	chase_l4 = big(4 * KIB);
	chase_l3 = big(4 * KIB);
	chase_l2 = big(4 * KIB);
	chase_l1 = big(2 * MIB);
	for (uint64_t i = 0; i < 512; i++) {
		chase_l4[i] = mix(i + 1);
		chase_l3[i] = mix(i + 1001);
		chase_l2[i] = mix(i + 2001);
	}
	for (uint64_t i = 0; i < PAGES_1G; i++)
		chase_l1[i] = mix(i + 3001);
	/* the translations run over their own space of 1 GiB in 4 KiB pages */
	static bump tr_tables[2];
	static pg_frames tr_src[2] = { { bump_alloc, bump_free, &tr_tables[0] },
				       { bump_alloc, bump_free, &tr_tables[1] } };
	for (unsigned i = 0; i < 2; i++) {
		tr_tables[i].size = 8 * MIB;
		tr_tables[i].mem = big(tr_tables[i].size);
		must(pg_space_init(&tr_spaces[i], &tr_src[i],
				   (uint64_t)(uintptr_t)tr_tables[i].mem - FAKE_BASE, true, true, 52,
				   4 + i), "pg_space_init");
		must(pg_map_range(&tr_spaces[i], pg_va(VA_BASE), pg_pa(PA_BASE), GIB, PG_W, PG_4K),
		     "map");
	}
	pool_setup(&pool_1k, 1000);
	pool_setup(&pool_1m, 1000000);

	/* Round robin: each of the RUNS rounds measures every figure once, so that load
	 * from elsewhere on the machine falls on bounds and operations alike. */
	static double v[NFIGS][RUNS], med[NFIGS];
	for (int r = 0; r < RUNS; r++)
		for (unsigned i = 0; i < NFIGS; i++)
			v[i][r] = figs[i].fn();
	for (unsigned i = 0; i < NFIGS; i++) {
		qsort(v[i], RUNS, sizeof(double), cmp_double);
		med[i] = v[i][RUNS / 2];
	}
	printf("bench: runs=%d (median, round robin), host -O2, no sanitizers\n", RUNS);
	for (unsigned k = 0; k < NFIGS; k++) {
		unsigned i = order[k];
		if (figs[i].bound == NO_BOUND)
			printf("bench: %s ns_per_op=%.2f ratio=-\n", figs[i].name, med[i]);
		else
			printf("bench: %s ns_per_op=%.2f ratio=%.2f\n", figs[i].name, med[i],
			       med[i] / med[figs[i].bound]);
	}
	unsigned held = 0, n = 0;
	printf("bench: targets");
	for (unsigned k = 0; k < NFIGS; k++) {
		unsigned i = order[k];
		if (!figs[i].target)
			continue;
		double ratio = med[i] / med[figs[i].bound];
		bool ok = ratio <= figs[i].target;
		held += ok;
		n++;
		printf(" %s=%.2f<=%.2g:%s", figs[i].name, ratio, figs[i].target,
		       ok ? "held" : "MISSED");
	}
	printf(" (%u of %u hold)\n", held, n);
	bench_heap(); /* bench/heap_bench.c: the kernel heap's core vs glibc malloc */
	pg_space_destroy(&tr_spaces[0]);
	pg_space_destroy(&tr_spaces[1]);
	return 0;
}
