/* test_frame.c - host tests of the frame allocator (paging/frame.c) over simulated RAM:
 * frames stay inside usable memory, errors change nothing, blocks coalesce, and a long
 * random run agrees with a host-side reference. */
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "simram.h"
#include "test.h"

#define K4 0x1000ull
#define M2 0x200000ull
#define MiB 0x100000ull
#define SIM_SIZE (128 * MiB)

/* The fixture: usable memory with unaligned edges, holes and non-usable regions. */
typedef struct {
	simram sim;
	mem_region st[16];
	mem_list list;
	frame_alloc fa;
	mem_region meta;
} fixture;

static void layout(mem_list *l, uint64_t b)
{
	mem_list_set(l, b + 0x3000, 0x502000, MEM_USABLE);           /* [12K, 5M+20K) */
	mem_list_set(l, b + 0x505000, 0xfb000, MEM_MMIO);             /* up to 6M */
	mem_list_set(l, b + 0x601000, 40 * MiB - 0x601000, MEM_USABLE); /* hole of 4K before */
	mem_list_set(l, b + 42 * MiB, 2 * MiB, MEM_RESERVED);        /* hole [40M, 42M) before */
	mem_list_set(l, b + 44 * MiB, SIM_SIZE - 44 * MiB - 0x7000, MEM_USABLE);
	mem_list_set(l, b + SIM_SIZE - 0x7000, 0x7000, MEM_BOOT_RECLAIMABLE);
}

/* Full 2 MiB blocks of the layout after the metadata (2 frames) is carved from the
 * first region: 1 in the first region, 16 in the second, 41 in the third. */
#define LAYOUT_BLOCKS 58

static void setup(fixture *f)
{
	sim_init(&f->sim, SIM_SIZE);
	mem_list_init(&f->list, f->st, 16);
	layout(&f->list, SIM_BASE);
	pg_err e = frame_init(&f->fa, &f->list, sim_offset(&f->sim), &f->meta);
	CHECK_ERR(e, PG_OK);
}

static void teardown(fixture *f)
{
	sim_destroy(&f->sim);
}

static bool in_meta(const fixture *f, uint64_t pa)
{
	return pa >= f->meta.start && pa - f->meta.start < f->meta.length;
}

/* True when every frame of [pa, pa+len) is usable in the list and not metadata. */
static bool usable_range(const fixture *f, uint64_t pa, uint64_t len)
{
	for (uint64_t a = pa; a < pa + len; a += K4)
		if (mem_list_kind_at(&f->list, a) != MEM_USABLE || in_meta(f, a))
			return false;
	return true;
}

static uint64_t frame_index(uint64_t pa)
{
	return (pa - SIM_BASE) / K4;
}

/* The allocator starts with every usable frame but the metadata free. */
TEST(frame_init_counts)
{
	fixture f;
	setup(&f);
	uint64_t usable = mem_list_total(&f.list, MEM_USABLE) / K4;
	CHECK_EQ(f.fa.total_frames, usable - f.meta.length / K4);
	CHECK_EQ(frame_free_count(&f.fa), f.fa.total_frames);
	CHECK_EQ(frame_used_count(&f.fa), 0);
	teardown(&f);
}

/* The metadata lies in usable memory, takes at most 0.01% of what is managed and
 * sits at the start of the first usable region. */
TEST(frame_metadata_placement_and_budget)
{
	fixture f;
	setup(&f);
	CHECK_EQ(f.meta.start, SIM_BASE + 0x3000);
	CHECK_EQ(f.meta.kind, MEM_KERNEL);
	CHECK_EQ(f.meta.length, f.fa.meta_bytes);
	CHECK(f.meta.length % K4 == 0 && f.meta.length > 0);
	CHECK_EQ(mem_list_kind_at(&f.list, f.meta.start), MEM_USABLE);
	CHECK_EQ(mem_list_kind_at(&f.list, f.meta.start + f.meta.length - 1), MEM_USABLE);
	CHECK(f.fa.meta_bytes * 10000 <= f.fa.total_frames * K4);
	teardown(&f);
}

/* Over 1 GiB in one region the metadata stays within 0.01% of managed memory. */
TEST(frame_metadata_budget_1g)
{
	simram sim;
	sim_init(&sim, 1024 * MiB);
	mem_region st[2];
	mem_list l;
	mem_list_init(&l, st, 2);
	mem_list_set(&l, SIM_BASE, 1024 * MiB, MEM_USABLE);
	frame_alloc fa;
	CHECK_ERR(frame_init(&fa, &l, sim_offset(&sim), NULL), PG_OK);
	CHECK(fa.meta_bytes * 10000 <= fa.total_frames * K4);
	CHECK_EQ(fa.total_frames + fa.meta_bytes / K4, 1024 * MiB / K4);
	sim_destroy(&sim);
}

/* Every 4 KiB frame handed out until exhaustion is aligned, usable, not metadata and
 * unique, and exactly total_frames of them come out. */
TEST(frame_4k_never_outside_usable)
{
	fixture f;
	setup(&f);
	uint8_t *seen = calloc(SIM_SIZE / K4, 1);
	uint64_t n = 0;
	bool ok = true;
	pg_paddr p;
	while (frame_alloc_4k(&f.fa, &p) == PG_OK) {
		ok = ok && p.pa % K4 == 0 && p.pa >= SIM_BASE && p.pa < SIM_BASE + SIM_SIZE;
		ok = ok && usable_range(&f, p.pa, K4) && !seen[frame_index(p.pa)];
		if (ok)
			seen[frame_index(p.pa)] = 1;
		n++;
		if (!ok)
			break;
	}
	CHECK(ok);
	CHECK_EQ(n, f.fa.total_frames);
	CHECK_EQ(frame_free_count(&f.fa), 0);
	CHECK_ERR(frame_alloc_4k(&f.fa, &p), PG_ERR_NO_FRAMES);
	CHECK_ERR(frame_alloc_2m(&f.fa, &p), PG_ERR_NO_FRAMES);
	free(seen);
	teardown(&f);
}

/* 2 MiB blocks are 2 MiB aligned, wholly usable, and there is one per full block. */
TEST(frame_2m_aligned_and_usable)
{
	fixture f;
	setup(&f);
	uint64_t n = 0;
	bool ok = true;
	pg_paddr p;
	while (frame_alloc_2m(&f.fa, &p) == PG_OK) {
		ok = ok && p.pa % M2 == 0 && usable_range(&f, p.pa, M2);
		n++;
	}
	CHECK(ok);
	CHECK_EQ(n, LAYOUT_BLOCKS);
	CHECK_EQ(frame_used_count(&f.fa), LAYOUT_BLOCKS * 512);
	/* The edge frames are still there for 4 KiB requests. */
	CHECK_ERR(frame_alloc_4k(&f.fa, &p), PG_OK);
	CHECK(usable_range(&f, p.pa, K4));
	teardown(&f);
}

/* After exhaustion a freed frame can be allocated again. */
TEST(frame_exhaustion_recovers)
{
	fixture f;
	setup(&f);
	pg_paddr p, last = { 0 };
	while (frame_alloc_4k(&f.fa, &p) == PG_OK)
		last = p;
	CHECK_ERR(frame_alloc_4k(&f.fa, &p), PG_ERR_NO_FRAMES);
	CHECK_ERR(frame_free_4k(&f.fa, last), PG_OK);
	CHECK_EQ(frame_free_count(&f.fa), 1);
	CHECK_ERR(frame_alloc_4k(&f.fa, &p), PG_OK);
	CHECK_EQ(p.pa, last.pa);
	CHECK_ERR(frame_alloc_4k(&f.fa, &p), PG_ERR_NO_FRAMES);
	teardown(&f);
}

/* Freeing a 4 KiB frame twice, or one never handed out, is a double free and changes nothing. */
TEST(frame_double_free_4k)
{
	fixture f;
	setup(&f);
	pg_paddr a, b;
	CHECK_ERR(frame_alloc_4k(&f.fa, &a), PG_OK);
	CHECK_ERR(frame_alloc_4k(&f.fa, &b), PG_OK);
	CHECK_ERR(frame_free_4k(&f.fa, a), PG_OK);
	uint64_t free_before = frame_free_count(&f.fa);
	CHECK_ERR(frame_free_4k(&f.fa, a), PG_ERR_DOUBLE_FREE);
	CHECK_ERR(frame_free_4k(&f.fa, pg_pa(SIM_BASE + 100 * MiB)), PG_ERR_DOUBLE_FREE);
	CHECK_EQ(frame_free_count(&f.fa), free_before);
	/* The list is intact: a is handed out once more, then other frames. */
	pg_paddr c, d;
	CHECK_ERR(frame_alloc_4k(&f.fa, &c), PG_OK);
	CHECK_EQ(c.pa, a.pa);
	CHECK_ERR(frame_alloc_4k(&f.fa, &d), PG_OK);
	CHECK(d.pa != a.pa && d.pa != b.pa);
	teardown(&f);
}

/* Freeing a 2 MiB block twice, or one never handed out, is a double free and changes nothing. */
TEST(frame_double_free_2m)
{
	fixture f;
	setup(&f);
	pg_paddr a;
	CHECK_ERR(frame_alloc_2m(&f.fa, &a), PG_OK);
	CHECK_ERR(frame_free_2m(&f.fa, a), PG_OK);
	uint64_t free_before = frame_free_count(&f.fa);
	CHECK_ERR(frame_free_2m(&f.fa, a), PG_ERR_DOUBLE_FREE);
	CHECK_ERR(frame_free_2m(&f.fa, pg_pa(SIM_BASE + 100 * MiB)), PG_ERR_DOUBLE_FREE);
	CHECK_EQ(frame_free_count(&f.fa), free_before);
	uint64_t n = 0;
	pg_paddr p;
	while (frame_alloc_2m(&f.fa, &p) == PG_OK)
		n++;
	CHECK_EQ(n, LAYOUT_BLOCKS);
	teardown(&f);
}

/* Frames in holes, non-usable regions, the metadata or outside RAM are not owned. */
TEST(frame_foreign_free)
{
	fixture f;
	setup(&f);
	pg_paddr p;
	CHECK_ERR(frame_alloc_4k(&f.fa, &p), PG_OK);
	uint64_t free_before = frame_free_count(&f.fa);
	static const uint64_t foreign[] = {
		0x0, 0x2000, 0x505000, 0x600000, 40 * MiB, 42 * MiB, 43 * MiB,
		SIM_SIZE - 0x7000, SIM_SIZE, 1024 * MiB,
	};
	for (size_t i = 0; i < sizeof(foreign) / sizeof(foreign[0]); i++)
		CHECK_ERR(frame_free_4k(&f.fa, pg_pa(SIM_BASE + foreign[i])), PG_ERR_NOT_OWNED);
	CHECK_ERR(frame_free_4k(&f.fa, pg_pa(f.meta.start)), PG_ERR_NOT_OWNED);
	CHECK_ERR(frame_free_4k(&f.fa, pg_pa(0x1000)), PG_ERR_NOT_OWNED);
	CHECK_ERR(frame_free_2m(&f.fa, pg_pa(SIM_BASE + 40 * MiB)), PG_ERR_NOT_OWNED);
	CHECK_ERR(frame_free_2m(&f.fa, pg_pa(SIM_BASE)), PG_ERR_NOT_OWNED); /* edge block */
	CHECK_ERR(frame_free_2m(&f.fa, pg_pa(SIM_BASE + SIM_SIZE)), PG_ERR_NOT_OWNED);
	CHECK_EQ(frame_free_count(&f.fa), free_before);
	teardown(&f);
}

/* A 2 MiB block freed as 4 KiB frames, or a 4 KiB frame freed as a block, is not owned
 * in that size and changes nothing; the right-size free then works. */
TEST(frame_wrong_size_free)
{
	fixture f;
	setup(&f);
	pg_paddr blk, fr;
	CHECK_ERR(frame_alloc_2m(&f.fa, &blk), PG_OK);
	/* The first 4 KiB frame of a fresh block is 2 MiB aligned. */
	CHECK_ERR(frame_alloc_4k(&f.fa, &fr), PG_OK);
	while (fr.pa % M2)
		CHECK_ERR(frame_alloc_4k(&f.fa, &fr), PG_OK);
	uint64_t free_before = frame_free_count(&f.fa);
	CHECK_ERR(frame_free_4k(&f.fa, blk), PG_ERR_NOT_OWNED);
	CHECK_ERR(frame_free_4k(&f.fa, pg_pa(blk.pa + 5 * K4)), PG_ERR_NOT_OWNED);
	CHECK_ERR(frame_free_2m(&f.fa, fr), PG_ERR_NOT_OWNED);
	CHECK_EQ(frame_free_count(&f.fa), free_before);
	CHECK_ERR(frame_free_2m(&f.fa, blk), PG_OK);
	CHECK_ERR(frame_free_4k(&f.fa, fr), PG_OK);
	CHECK_EQ(frame_free_count(&f.fa), free_before + 513);
	teardown(&f);
}

/* Misaligned frees are refused before anything else is looked at. */
TEST(frame_misaligned_free)
{
	fixture f;
	setup(&f);
	pg_paddr blk, fr;
	CHECK_ERR(frame_alloc_2m(&f.fa, &blk), PG_OK);
	CHECK_ERR(frame_alloc_4k(&f.fa, &fr), PG_OK);
	uint64_t free_before = frame_free_count(&f.fa);
	CHECK_ERR(frame_free_4k(&f.fa, pg_pa(fr.pa + 8)), PG_ERR_NOT_ALIGNED);
	CHECK_ERR(frame_free_2m(&f.fa, pg_pa(blk.pa + K4)), PG_ERR_NOT_ALIGNED);
	CHECK_ERR(frame_free_2m(&f.fa, pg_pa(blk.pa + 1)), PG_ERR_NOT_ALIGNED);
	CHECK_EQ(frame_free_count(&f.fa), free_before);
	teardown(&f);
}

/* Shuffles n addresses with a fixed-seed generator. */
static void shuffle(pg_paddr *a, size_t n, unsigned seed)
{
	srand(seed);
	for (size_t i = n - 1; i > 0; i--) {
		size_t j = (size_t)rand() % (i + 1);
		pg_paddr t = a[i];
		a[i] = a[j];
		a[j] = t;
	}
}

/* Once all 512 frames of a split block come back, in any order, it serves a 2 MiB
 * request again: both for the block being bumped and for one the bump has left. */
TEST(frame_coalesce_after_4k_frees)
{
	fixture f;
	setup(&f);
	pg_paddr p, frames[1024];
	for (int i = 0; i < LAYOUT_BLOCKS - 2; i++)
		CHECK_ERR(frame_alloc_2m(&f.fa, &p), PG_OK);
	/* Use up the edge frames so the next 4 KiB frames come from the two blocks left. */
	uint64_t edge = frame_free_count(&f.fa) - 2 * 512;
	pg_paddr *edges = malloc(edge * sizeof(pg_paddr));
	for (uint64_t i = 0; i < edge; i++)
		CHECK_ERR(frame_alloc_4k(&f.fa, &edges[i]), PG_OK);
	for (int i = 0; i < 1024; i++)
		CHECK_ERR(frame_alloc_4k(&f.fa, &frames[i]), PG_OK);
	CHECK_ERR(frame_alloc_2m(&f.fa, &p), PG_ERR_NO_FRAMES);
	uint64_t first = frames[0].pa & ~(M2 - 1), second = frames[512].pa & ~(M2 - 1);
	CHECK(first != second);
	/* The first block is no longer the bump block. */
	shuffle(frames, 512, 5);
	for (int i = 0; i < 512; i++)
		CHECK_ERR(frame_free_4k(&f.fa, frames[i]), PG_OK);
	CHECK_ERR(frame_alloc_2m(&f.fa, &p), PG_OK);
	CHECK_EQ(p.pa, first);
	CHECK_ERR(frame_alloc_2m(&f.fa, &p), PG_ERR_NO_FRAMES);
	/* The second one still is. */
	shuffle(frames + 512, 512, 6);
	for (int i = 512; i < 1024; i++)
		CHECK_ERR(frame_free_4k(&f.fa, frames[i]), PG_OK);
	CHECK_ERR(frame_alloc_2m(&f.fa, &p), PG_OK);
	CHECK_EQ(p.pa, second);
	CHECK_EQ(frame_free_count(&f.fa), 0);
	free(edges);
	teardown(&f);
}

/* A block whose frames come back while the bump is partway through it is whole again. */
TEST(frame_coalesce_partial_bump)
{
	fixture f;
	setup(&f);
	pg_paddr p, fr[10];
	for (int i = 0; i < LAYOUT_BLOCKS - 1; i++)
		CHECK_ERR(frame_alloc_2m(&f.fa, &p), PG_OK);
	uint64_t edge = frame_free_count(&f.fa) - 512;
	pg_paddr *edges = malloc(edge * sizeof(pg_paddr));
	for (uint64_t i = 0; i < edge; i++)
		CHECK_ERR(frame_alloc_4k(&f.fa, &edges[i]), PG_OK);
	for (int i = 0; i < 10; i++)
		CHECK_ERR(frame_alloc_4k(&f.fa, &fr[i]), PG_OK);
	CHECK_ERR(frame_alloc_2m(&f.fa, &p), PG_ERR_NO_FRAMES);
	for (int i = 9; i >= 0; i--)
		CHECK_ERR(frame_free_4k(&f.fa, fr[i]), PG_OK);
	CHECK_ERR(frame_alloc_2m(&f.fa, &p), PG_OK);
	CHECK_EQ(p.pa, fr[0].pa);
	CHECK_ERR(frame_alloc_4k(&f.fa, &p), PG_ERR_NO_FRAMES);
	free(edges);
	teardown(&f);
}

/* No usable memory, too many usable regions, unsorted or overlapping regions, and
 * regions too small for the metadata are all refused. */
TEST(frame_init_errors)
{
	simram sim;
	sim_init(&sim, 64 * MiB);
	frame_alloc fa;
	mem_region st[300];
	mem_list l;
	mem_list_init(&l, st, 300);
	mem_list_set(&l, SIM_BASE, 16 * MiB, MEM_RESERVED);
	CHECK_ERR(frame_init(&fa, &l, sim_offset(&sim), NULL), PG_ERR_NO_FRAMES);
	mem_list_init(&l, st, 300);
	for (uint64_t i = 0; i < FRAME_MAX_REGIONS + 1; i++)
		mem_list_set(&l, SIM_BASE + i * 16 * K4, 8 * K4, MEM_USABLE);
	CHECK_ERR(frame_init(&fa, &l, sim_offset(&sim), NULL), PG_ERR_BAD_ARG);
	l.count = FRAME_MAX_REGIONS;
	CHECK_ERR(frame_init(&fa, &l, sim_offset(&sim), NULL), PG_OK);
	mem_region unsorted[2] = {
		{ SIM_BASE + 8 * MiB, 4 * MiB, MEM_USABLE, 0 },
		{ SIM_BASE, 4 * MiB, MEM_USABLE, 0 },
	};
	mem_list u = { unsorted, 2, 2 };
	CHECK_ERR(frame_init(&fa, &u, sim_offset(&sim), NULL), PG_ERR_BAD_ARG);
	unsorted[1].start = SIM_BASE + 10 * MiB;
	CHECK_ERR(frame_init(&fa, &u, sim_offset(&sim), NULL), PG_ERR_BAD_ARG);
	/* Scattered single frames: none can hold the metadata of the blocks they touch. */
	mem_list_init(&l, st, 300);
	for (uint64_t i = 0; i < 100; i++)
		mem_list_set(&l, SIM_BASE + i * M2 * 2, K4, MEM_USABLE);
	CHECK_ERR(frame_init(&fa, &l, sim_offset(&sim), NULL), PG_ERR_NO_FRAMES);
	sim_destroy(&sim);
}

/* Usable edges that are not page aligned are rounded inward. */
TEST(frame_init_rounds_inward)
{
	simram sim;
	sim_init(&sim, 16 * MiB);
	mem_region st[4];
	mem_list l;
	mem_list_init(&l, st, 4);
	mem_list_set(&l, SIM_BASE + 0x123, 0x10000, MEM_USABLE); /* [0x123, 0x10123) */
	frame_alloc fa;
	mem_region meta;
	CHECK_ERR(frame_init(&fa, &l, sim_offset(&sim), &meta), PG_OK);
	CHECK_EQ(meta.start, SIM_BASE + 0x1000);
	CHECK_EQ(fa.total_frames + meta.length / K4, 15);
	pg_paddr p;
	uint64_t n = 0;
	while (frame_alloc_4k(&fa, &p) == PG_OK) {
		CHECK(p.pa >= SIM_BASE + 0x1000 + meta.length && p.pa < SIM_BASE + 0x10000);
		n++;
	}
	CHECK_EQ(n, fa.total_frames);
	sim_destroy(&sim);
}

/* frame_source hands out frames through pg_frames and shrugs off a bad free. */
TEST(frame_source_adapter)
{
	fixture f;
	setup(&f);
	pg_frames src = frame_source(&f.fa);
	pg_paddr p;
	CHECK(src.alloc(src.ctx, &p));
	CHECK(usable_range(&f, p.pa, K4));
	CHECK_EQ(frame_used_count(&f.fa), 1);
	src.free(src.ctx, p);
	CHECK_EQ(frame_used_count(&f.fa), 0);
	src.free(src.ctx, p);                       /* double free: ignored */
	src.free(src.ctx, pg_pa(p.pa + 1));         /* misaligned: ignored */
	src.free(src.ctx, pg_pa(SIM_BASE + 41 * MiB)); /* hole: ignored */
	CHECK_EQ(frame_used_count(&f.fa), 0);
	uint64_t n = 0;
	while (src.alloc(src.ctx, &p))
		n++;
	CHECK_EQ(n, f.fa.total_frames);
	teardown(&f);
}

/* Reference state of each simulated frame for the random test. */
enum { R_FREE = 0, R_4K, R_2M, R_OTHER };

struct ref {
	uint8_t *state;       /* per frame of simram */
	pg_paddr *out;        /* outstanding allocations */
	bool *is2m;
	size_t n, cap;
	uint64_t free;
};

/* Stamps an allocation so a later free can prove the allocator did not write into it. */
static void stamp(const fixture *f, uint64_t pa)
{
	*(uint64_t *)sim_ptr(&f->sim, pa) = pa ^ 0x5a5a5a5a5a5a5a5aull;
}

static bool stamped(const fixture *f, uint64_t pa)
{
	return *(uint64_t *)sim_ptr(&f->sim, pa) == (pa ^ 0x5a5a5a5a5a5a5a5aull);
}

/* Allocates with the given size and checks the result against the reference. */
static void rand_alloc(fixture *f, struct ref *r, bool big)
{
	pg_paddr p;
	pg_err e = big ? frame_alloc_2m(&f->fa, &p) : frame_alloc_4k(&f->fa, &p);
	if (e != PG_OK) {
		CHECK_ERR(e, PG_ERR_NO_FRAMES);
		if (!big)
			CHECK_EQ(r->free, 0);
		return;
	}
	uint64_t n = big ? 512 : 1;
	bool ok = p.pa % (big ? M2 : K4) == 0;
	for (uint64_t i = 0; ok && i < n; i++)
		ok = r->state[frame_index(p.pa) + i] == R_FREE;
	CHECK(ok);
	if (!ok)
		return;
	for (uint64_t i = 0; i < n; i++)
		r->state[frame_index(p.pa) + i] = big ? R_2M : R_4K;
	r->free -= n;
	stamp(f, p.pa);
	r->out[r->n] = p;
	r->is2m[r->n++] = big;
}

/* Frees outstanding allocation i and checks the stamp survived. */
static void rand_free(fixture *f, struct ref *r, size_t i)
{
	pg_paddr p = r->out[i];
	bool big = r->is2m[i];
	CHECK(stamped(f, p.pa));
	CHECK_ERR(big ? frame_free_2m(&f->fa, p) : frame_free_4k(&f->fa, p), PG_OK);
	uint64_t n = big ? 512 : 1;
	for (uint64_t k = 0; k < n; k++)
		r->state[frame_index(p.pa) + k] = R_FREE;
	r->free += n;
	r->out[i] = r->out[--r->n];
	r->is2m[i] = r->is2m[r->n];
}

/* Tries a free that must fail (double, wrong size, foreign) and checks nothing changed. */
static void rand_bad_free(fixture *f, struct ref *r, unsigned pick)
{
	uint64_t before = frame_free_count(&f->fa);
	uint64_t pa = SIM_BASE + ((uint64_t)pick % (SIM_SIZE / K4)) * K4;
	uint8_t s = r->state[frame_index(pa)];
	if (s == R_FREE) {
		if (usable_range(f, pa, K4))
			CHECK_ERR(frame_free_4k(&f->fa, pg_pa(pa)), PG_ERR_DOUBLE_FREE);
		else
			CHECK_ERR(frame_free_4k(&f->fa, pg_pa(pa)), PG_ERR_NOT_OWNED);
	} else if (s == R_2M) {
		CHECK_ERR(frame_free_4k(&f->fa, pg_pa(pa)), PG_ERR_NOT_OWNED);
	} else if (pa % M2 == 0) {
		CHECK_ERR(frame_free_2m(&f->fa, pg_pa(pa)), PG_ERR_NOT_OWNED);
	}
	CHECK_EQ(frame_free_count(&f->fa), before);
}

/* A few hundred thousand random allocations and frees of both sizes agree with a
 * reference of frame states; afterwards everything coalesces back into whole blocks. */
TEST(frame_random_against_reference)
{
	fixture f;
	setup(&f);
	struct ref r = { calloc(SIM_SIZE / K4, 1), NULL, NULL, 0, SIM_SIZE / K4, 0 };
	r.out = malloc(r.cap * sizeof(pg_paddr));
	r.is2m = malloc(r.cap * sizeof(bool));
	r.free = f.fa.total_frames;
	srand(20240601);
	for (long op = 0; op < 300000; op++) {
		/* Swing between filling up and draining so exhaustion and coalescing both happen. */
		bool filling = (op / 40000) % 2 == 0;
		unsigned x = (unsigned)rand() % 100;
		if (x < 2)
			rand_bad_free(&f, &r, (unsigned)rand());
		else if (r.n && (x < (filling ? 30u : 70u)))
			rand_free(&f, &r, (size_t)rand() % r.n);
		else
			rand_alloc(&f, &r, x % 16 == 0);
		if (frame_free_count(&f.fa) != r.free) {
			CHECK_EQ(frame_free_count(&f.fa), r.free);
			break;
		}
		CHECK_EQ(frame_free_count(&f.fa) + frame_used_count(&f.fa), f.fa.total_frames);
	}
	while (r.n)
		rand_free(&f, &r, r.n - 1);
	CHECK_EQ(frame_used_count(&f.fa), 0);
	uint64_t blocks = 0;
	pg_paddr p;
	while (frame_alloc_2m(&f.fa, &p) == PG_OK)
		blocks++;
	CHECK_EQ(blocks, LAYOUT_BLOCKS);
	free(r.state);
	free(r.out);
	free(r.is2m);
	teardown(&f);
}
