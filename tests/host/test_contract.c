/* test_contract.c - unit tests written to kill the mutants of paging/ that the other
 * tests let live (issue 12, make mutate): flush calls on every path, the walk cache's
 * guards, huge leaves over empty tables, bits protect keeps, ranges across the canonical
 * hole, the documented error order and refused table frames. */
#include <stdlib.h>
#include <string.h>

#include "paging.h"
#include "region.h"
#include "simram.h"
#include "test.h"

/* PTE bits, Intel SDM vol. 3 section 4.5 (written out here, not taken from paging/). */
#define E_P     (1ull << 0)
#define E_W     (1ull << 1)
#define E_U     (1ull << 2)
#define E_A     (1ull << 5)
#define E_D     (1ull << 6)
#define E_PS    (1ull << 7)
#define E_XD    (1ull << 63)
#define E_ADDR  0x000ffffffffff000ull

#define MIB (1ull << 20)
#define GIB (1ull << 30)
#define LOW 0x0000001200000000ull  /* 72 GiB: a 1 GiB-aligned lower-half address */
#define TOP 0x00007ffffffff000ull  /* the last lower-half page */
#define UP  0xffff800000000000ull  /* the first upper-half page */
#define F2M 0x0000000123400000ull  /* leaf frames: never touched, need not be simulated */
#define F1G 0x00000004c0000000ull

/* ---- fixture: a space over simulated RAM that records flush calls; a second handle on
 * the same tables whose frame source cannot take frames back */

typedef struct {
	simram ram;
	pg_space s, b;
	pg_frames frames, nofree;
	struct { uint64_t start, len; } fl[8];
	unsigned nfl;
} cx;

static void on_flush(void *ctx, pg_vaddr start, uint64_t len)
{
	cx *c = ctx;
	if (c->nfl < 8) {
		c->fl[c->nfl].start = start.va;
		c->fl[c->nfl].len = len;
	}
	c->nfl++;
}

static uint64_t root(const pg_space *s) { return s->root.pa; }

static void cx_up_with(cx *c, bool reclaim, unsigned phys_bits)
{
	memset(c, 0, sizeof(*c));
	sim_init(&c->ram, 64 * MIB);
	c->frames = *sim_frames(&c->ram);
	c->nofree = c->frames;
	c->nofree.free = NULL;
	CHECK_ERR(pg_space_init(&c->s, reclaim ? &c->frames : &c->nofree, sim_offset(&c->ram),
				true, true, phys_bits, 4), PG_OK);
	CHECK_ERR(pg_space_attach(&c->b, pg_pa(root(&c->s)), &c->nofree, sim_offset(&c->ram),
				  true, true, phys_bits, 4), PG_OK);
	c->s.flush = c->b.flush = on_flush;
	c->s.flush_ctx = c->b.flush_ctx = c;
}

static void cx_up(cx *c) { cx_up_with(c, true, 52); }

/* Destroys through a source that frees; frames abandoned on purpose are given. */
static void cx_down(cx *c, uint64_t abandoned)
{
	c->s.frames = &c->frames;
	pg_space_destroy(&c->s);
	CHECK_EQ(sim_outstanding(&c->ram), abandoned);
	sim_destroy(&c->ram);
}

/* The raw entry for va at level, by our own walk; 0 when a table is missing. */
static uint64_t raw(const cx *c, uint64_t va, unsigned level)
{
	uint64_t t = root(&c->s);
	for (unsigned l = 4; l >= level; l--) {
		uint64_t e = pg_table(&c->s, pg_pa(t))[(va >> (3 + 9 * l)) & 511];
		if (l == level)
			return e;
		if (!(e & E_P) || (l < 4 && (e & E_PS)))
			return 0;
		t = e & E_ADDR;
	}
	return 0;
}

static uint64_t *raw_ptr(const cx *c, uint64_t va, unsigned level)
{
	uint64_t t = root(&c->s);
	for (unsigned l = 4; l > level; l--)
		t = pg_table(&c->s, pg_pa(t))[(va >> (3 + 9 * l)) & 511] & E_ADDR;
	return &pg_table(&c->s, pg_pa(t))[(va >> (3 + 9 * level)) & 511];
}

static bool mapped_to(const pg_space *s, uint64_t va, uint64_t pa)
{
	pg_translation t;
	return pg_translate(s, pg_va(va), &t) == PG_OK && t.phys.pa == pa;
}

static bool unmapped(const pg_space *s, uint64_t va)
{
	pg_translation t;
	return pg_translate(s, pg_va(va), &t) == PG_ERR_NOT_MAPPED;
}

static void flushed_once(const cx *c, uint64_t start, uint64_t len)
{
	CHECK_EQ(c->nfl, 1);
	CHECK_EQ(c->fl[0].start, start);
	CHECK_EQ(c->fl[0].len, len);
}

typedef struct {
	pg_range *r;
	unsigned n;
} runs2;

/* pg_walk callback: keeps the first two runs. */
static bool collect2(void *ctx, const pg_range *r)
{
	runs2 *g = ctx;
	if (g->n < 2)
		g->r[g->n] = *r;
	g->n++;
	return true;
}

/* ---- huge leaves over empty tables */

/* An empty PT (left by a handle that cannot free) is replaced by a 2 MiB leaf: the PT
 * goes back to the source and the 2 MiB range is flushed once. */
TEST(contract_2m_leaf_replaces_empty_pt)
{
	cx c;
	cx_up(&c);
	CHECK_ERR(pg_map(&c.s, pg_va(LOW + 0x5000), pg_pa(F2M), PG_4K, 0, NULL), PG_OK);
	CHECK_ERR(pg_unmap(&c.b, pg_va(LOW + 0x5000), NULL, NULL), PG_OK);
	uint64_t before = sim_outstanding(&c.ram);
	c.nfl = 0;
	CHECK_ERR(pg_map(&c.s, pg_va(LOW), pg_pa(F2M), PG_2M, PG_W, NULL), PG_OK);
	flushed_once(&c, LOW, 2 * MIB);
	CHECK_EQ(sim_outstanding(&c.ram), before - 1);
	CHECK_EQ(raw(&c, LOW, 2), F2M | E_P | E_W | E_PS | E_XD);
	CHECK(mapped_to(&c.s, LOW + 0x5000, F2M + 0x5000));
	cx_down(&c, 0);
}

/* A 1 GiB leaf over a PD whose PTs are all empty gives back the PD and every PT. */
TEST(contract_1g_leaf_replaces_empty_pd_and_pts)
{
	cx c;
	cx_up(&c);
	static const uint64_t at[3] = { 0, 4 * MIB, GIB - 0x1000 }; /* PD entries 0, 2, 511 */
	for (unsigned i = 0; i < 3; i++)
		CHECK_ERR(pg_map(&c.s, pg_va(LOW + at[i]), pg_pa(F2M), PG_4K, 0, NULL), PG_OK);
	for (unsigned i = 0; i < 3; i++)
		CHECK_ERR(pg_unmap(&c.b, pg_va(LOW + at[i]), NULL, NULL), PG_OK);
	uint64_t before = sim_outstanding(&c.ram);
	c.nfl = 0;
	CHECK_ERR(pg_map(&c.s, pg_va(LOW), pg_pa(F1G), PG_1G, PG_X, NULL), PG_OK);
	flushed_once(&c, LOW, GIB);
	CHECK_EQ(sim_outstanding(&c.ram), before - 4);
	CHECK_EQ(raw(&c, LOW, 3), F1G | E_P | E_PS);
	cx_down(&c, 0);
}

/* map_range does the same for the chunks that land on empty tables, and flushes them. */
TEST(contract_map_range_replaces_empty_tables)
{
	cx c;
	cx_up(&c);
	CHECK_ERR(pg_map(&c.s, pg_va(LOW + 2 * MIB), pg_pa(F2M), PG_4K, 0, NULL), PG_OK);
	CHECK_ERR(pg_unmap(&c.b, pg_va(LOW + 2 * MIB), NULL, NULL), PG_OK);
	uint64_t before = sim_outstanding(&c.ram);
	c.nfl = 0;
	CHECK_ERR(pg_map_range(&c.s, pg_va(LOW), pg_pa(F2M - 2 * MIB * 0), 4 * MIB, 0, PG_2M),
		  PG_OK);
	CHECK_EQ(c.nfl, 1);
	CHECK(c.fl[0].start >= LOW && c.fl[0].start <= LOW + 2 * MIB);
	CHECK(c.fl[0].start + c.fl[0].len >= LOW + 4 * MIB && c.fl[0].len <= 4 * MIB);
	CHECK_EQ(sim_outstanding(&c.ram), before - 1);
	CHECK_EQ(raw(&c, LOW + 2 * MIB, 2), (F2M + 2 * MIB) | E_P | E_PS | E_XD);
	cx_down(&c, 0);
}

/* Without free the replaced PT is abandoned: no longer linked, never handed to free. */
TEST(contract_huge_leaf_over_empty_pt_without_free)
{
	cx c;
	cx_up_with(&c, false, 52);
	CHECK_ERR(pg_map(&c.s, pg_va(LOW + 0x1000), pg_pa(F2M), PG_4K, 0, NULL), PG_OK);
	CHECK_ERR(pg_unmap(&c.s, pg_va(LOW + 0x1000), NULL, NULL), PG_OK);
	uint64_t counts[5];
	pg_count_tables(&c.s, counts);
	CHECK_EQ(counts[0], 1); /* the empty PT stays linked */
	c.nfl = 0;
	CHECK_ERR(pg_map(&c.s, pg_va(LOW), pg_pa(F2M), PG_2M, 0, NULL), PG_OK);
	flushed_once(&c, LOW, 2 * MIB);
	pg_count_tables(&c.s, counts);
	CHECK_EQ(counts[0], 0);
	cx_down(&c, 1);
}

/* ---- flush calls */

/* unmap_range flushes once over what it removed; with nothing removed it does not. */
TEST(contract_unmap_range_flushes_only_when_it_removed)
{
	cx c;
	cx_up(&c);
	CHECK_ERR(pg_map(&c.s, pg_va(LOW + 0x3000), pg_pa(F2M), PG_4K, 0, NULL), PG_OK);
	c.nfl = 0;
	CHECK_ERR(pg_unmap_range(&c.s, pg_va(LOW + 8 * MIB), 2 * MIB, NULL), PG_OK);
	CHECK_EQ(c.nfl, 0);
	CHECK_ERR(pg_unmap_range(&c.s, pg_va(LOW), 2 * MIB, NULL), PG_OK);
	CHECK_EQ(c.nfl, 1);
	CHECK(c.fl[0].start <= LOW + 0x3000 && c.fl[0].start + c.fl[0].len >= LOW + 0x4000);
	CHECK(c.fl[0].start >= LOW && c.fl[0].start + c.fl[0].len <= LOW + 2 * MIB);
	cx_down(&c, 0);
}

/* ---- the walk cache */

/* After a second handle freed the tables, the first handle's next map in the same 2 MiB
 * region builds new tables instead of writing into the freed PT. */
TEST(contract_walk_cache_after_other_handle_freed_tables)
{
	cx c;
	cx_up(&c);
	pg_space b2;
	CHECK_ERR(pg_space_attach(&b2, pg_pa(root(&c.s)), &c.frames, sim_offset(&c.ram), true,
				  true, 52, 4), PG_OK);
	CHECK_ERR(pg_map(&c.s, pg_va(LOW), pg_pa(F2M), PG_4K, 0, NULL), PG_OK);
	CHECK_ERR(pg_map(&c.s, pg_va(LOW + 0x1000), pg_pa(F2M), PG_4K, 0, NULL), PG_OK);
	CHECK_ERR(pg_unmap_range(&b2, pg_va(LOW), 2 * MIB, NULL), PG_OK);
	CHECK_EQ(sim_outstanding(&c.ram), 1);
	CHECK_ERR(pg_map(&c.s, pg_va(LOW + 0x2000), pg_pa(F2M + 0x2000), PG_4K, 0, NULL), PG_OK);
	CHECK(mapped_to(&c.s, LOW + 0x2000, F2M + 0x2000));
	CHECK_EQ(sim_outstanding(&c.ram), 4);
	cx_down(&c, 0);
}

/* Another handle frees the tables the first handle's cache points into and maps
 * elsewhere, so that the frames come back (last in, first out) in the same roles at the
 * same indices: the first handle's next map must still land in its own region. */
TEST(contract_walk_cache_after_other_handle_reused_the_frames)
{
	cx c;
	cx_up(&c);
	pg_space b2;
	CHECK_ERR(pg_space_attach(&b2, pg_pa(root(&c.s)), &c.frames, sim_offset(&c.ram), true,
				  true, 52, 4), PG_OK);
	uint64_t va0 = LOW + 0x5000, va1 = LOW + (1ull << 39) + 0x5000;
	CHECK_ERR(pg_map(&c.s, pg_va(va0), pg_pa(F2M), PG_4K, 0, NULL), PG_OK);
	CHECK_ERR(pg_map(&c.s, pg_va(va0 + 0x1000), pg_pa(F2M), PG_4K, 0, NULL), PG_OK);
	CHECK_ERR(pg_unmap_range(&b2, pg_va(va0), 0x2000, NULL), PG_OK);
	/* two pages, so that even the level-2 entry's count is the one the cache saw */
	CHECK_ERR(pg_map(&b2, pg_va(va1), pg_pa(F2M), PG_4K, 0, NULL), PG_OK);
	CHECK_ERR(pg_map(&b2, pg_va(va1 + 0x1000), pg_pa(F2M), PG_4K, 0, NULL), PG_OK);
	CHECK_ERR(pg_map(&c.s, pg_va(va0 + 0x2000), pg_pa(F2M + 0x2000), PG_4K, 0, NULL), PG_OK);
	CHECK(mapped_to(&c.s, va0 + 0x2000, F2M + 0x2000));
	CHECK(unmapped(&c.s, va1 + 0x2000));
	CHECK(mapped_to(&c.s, va1, F2M));
	cx_down(&c, 0);
}

/* A handle pointed at another space's top table does not map through the old space's
 * cached PT. */
TEST(contract_walk_cache_follows_the_top_table)
{
	cx c;
	cx_up(&c);
	pg_space other;
	CHECK_ERR(pg_space_init(&other, &c.frames, sim_offset(&c.ram), true, true, 52, 4), PG_OK);
	CHECK_ERR(pg_map(&c.s, pg_va(LOW), pg_pa(F2M), PG_4K, 0, NULL), PG_OK);
	pg_space moved = c.s;
	moved.root = other.root;
	CHECK_ERR(pg_map(&moved, pg_va(LOW + 0x1000), pg_pa(F2M + 0x1000), PG_4K, 0, NULL), PG_OK);
	CHECK(mapped_to(&other, LOW + 0x1000, F2M + 0x1000));
	CHECK(unmapped(&c.s, LOW + 0x1000));
	pg_space_destroy(&other);
	cx_down(&c, 0);
}

/* With the cache warm, the fast path still refuses what map_checked refuses. */
TEST(contract_walk_cache_keeps_every_argument_check)
{
	cx c;
	cx_up_with(&c, true, 39);
	uint64_t va = LOW + 0x10000;
	CHECK_ERR(pg_map(&c.s, pg_va(LOW), pg_pa(F2M), PG_4K, 0, NULL), PG_OK);
	/* the first map built the tables; this one walks to them and warms the cache */
	CHECK_ERR(pg_map(&c.s, pg_va(LOW + 0x1000), pg_pa(F2M), PG_4K, 0, NULL), PG_OK);
	CHECK_EQ(c.s.walk_key, (LOW >> 21) + 1);
	CHECK_ERR(pg_map(&c.s, pg_va(va), pg_pa(F2M), PG_4K, 1u << 7, NULL), PG_ERR_BAD_ARG);
	CHECK_ERR(pg_map(&c.s, pg_va(va), pg_pa(F2M + 8), PG_4K, 0, NULL), PG_ERR_NOT_ALIGNED);
	CHECK_ERR(pg_map(&c.s, pg_va(va + 8), pg_pa(F2M), PG_4K, 0, NULL), PG_ERR_NOT_ALIGNED);
	CHECK_ERR(pg_map(&c.s, pg_va(va), pg_pa(F2M + 1), PG_4K, 0, NULL), PG_ERR_NOT_ALIGNED);
	CHECK_ERR(pg_map(&c.s, pg_va(va + 1), pg_pa(F2M), PG_4K, 0, NULL), PG_ERR_NOT_ALIGNED);
	/* and so does the walk, cold, down to an address one byte off */
	for (unsigned z = PG_4K; z <= PG_1G; z++) {
		CHECK_ERR(pg_map(&c.s, pg_va(LOW + GIB), pg_pa(F1G + 1), (pg_size)z, 0, NULL),
			  PG_ERR_NOT_ALIGNED);
		CHECK_ERR(pg_map(&c.s, pg_va(LOW + GIB + 1), pg_pa(F1G), (pg_size)z, 0, NULL),
			  PG_ERR_NOT_ALIGNED);
	}
	CHECK(unmapped(&c.s, LOW + GIB));
	CHECK_ERR(pg_map(&c.s, pg_va(va), pg_pa(1ull << 39), PG_4K, 0, NULL), PG_ERR_BAD_FRAME);
	CHECK_ERR(pg_map(&c.s, pg_va(LOW), pg_pa(F2M), PG_2M, 0, NULL), PG_ERR_ALREADY_MAPPED);
	CHECK_ERR(pg_map(&c.s, pg_va(va), pg_pa(F2M), (pg_size)7, 0, NULL), PG_ERR_BAD_ARG);
	CHECK(unmapped(&c.s, va));
	CHECK_EQ(raw(&c, LOW, 1) & E_ADDR, F2M);
	cx_down(&c, 0);
}

/* ---- protect keeps the accessed and dirty bits the CPU set */

TEST(contract_protect_keeps_accessed_and_dirty)
{
	cx c;
	cx_up(&c);
	CHECK_ERR(pg_map(&c.s, pg_va(LOW), pg_pa(F2M), PG_4K, 0, NULL), PG_OK);
	CHECK_ERR(pg_map(&c.s, pg_va(LOW + 0x1000), pg_pa(F2M), PG_4K, 0, NULL), PG_OK);
	CHECK_ERR(pg_map(&c.s, pg_va(LOW + 2 * MIB), pg_pa(F2M), PG_2M, 0, NULL), PG_OK);
	*raw_ptr(&c, LOW, 1) |= E_A | E_D;
	*raw_ptr(&c, LOW + 0x1000, 1) |= E_A;
	*raw_ptr(&c, LOW + 2 * MIB, 2) |= E_D;
	CHECK_ERR(pg_protect(&c.s, pg_va(LOW), 0x2000, PG_W | PG_X), PG_OK);
	CHECK_ERR(pg_protect(&c.s, pg_va(LOW + 2 * MIB), 2 * MIB, PG_W | PG_X), PG_OK);
	CHECK_EQ(raw(&c, LOW, 1), F2M | E_P | E_W | E_A | E_D);
	CHECK_EQ(raw(&c, LOW + 0x1000, 1), F2M | E_P | E_W | E_A);
	CHECK_EQ(raw(&c, LOW + 2 * MIB, 2), F2M | E_P | E_W | E_PS | E_D);
	cx_down(&c, 0);
}

/* ---- ranges across the canonical hole */

/* Both ends canonical, but one in each half: refused, and nothing changes. */
TEST(contract_ranges_across_the_hole_are_not_canonical)
{
	cx c;
	cx_up(&c);
	uint64_t len = UP + 0x2000 - TOP; /* TOP .. UP + 0x1fff */
	CHECK_ERR(pg_map(&c.s, pg_va(TOP), pg_pa(F2M), PG_4K, 0, NULL), PG_OK);
	CHECK_ERR(pg_map(&c.s, pg_va(UP), pg_pa(F2M), PG_4K, 0, NULL), PG_OK);
	c.nfl = 0;
	CHECK_ERR(pg_unmap_range(&c.s, pg_va(TOP), len, NULL), PG_ERR_NOT_CANONICAL);
	CHECK_ERR(pg_protect(&c.s, pg_va(TOP), len, PG_W), PG_ERR_NOT_CANONICAL);
	CHECK_ERR(pg_map_range(&c.s, pg_va(TOP), pg_pa(0), len, 0, PG_4K), PG_ERR_NOT_CANONICAL);
	CHECK_EQ(c.nfl, 0);
	CHECK_EQ(raw(&c, TOP, 1), F2M | E_P | E_XD);
	CHECK_EQ(raw(&c, UP, 1), F2M | E_P | E_XD);
	cx_down(&c, 0);
}

/* ---- the documented error order: where two errors are true, the first named wins */

TEST(contract_map_error_order)
{
	cx c;
	cx_up(&c);
	pg_space no1g = c.s;
	no1g.has_1g = false;
	uint64_t bad_va = 0x0000800000000000ull;
	CHECK_ERR(pg_map(&no1g, pg_va(bad_va), pg_pa(0), PG_1G, 1u << 9, NULL), PG_ERR_BAD_ARG);
	CHECK_ERR(pg_map(&no1g, pg_va(bad_va), pg_pa(0), PG_1G, 0, NULL), PG_ERR_UNSUPPORTED);
	CHECK_ERR(pg_map(&c.s, pg_va(bad_va + 8), pg_pa(8), PG_4K, 0, NULL), PG_ERR_NOT_CANONICAL);
	CHECK_ERR(pg_map(&c.s, pg_va(LOW + 0x1000), pg_pa(1ull << 52), PG_2M, 0, NULL),
		  PG_ERR_NOT_ALIGNED);
	CHECK_ERR(pg_map(&c.s, pg_va(LOW), pg_pa(F2M), PG_2M, 0, NULL), PG_OK);
	CHECK_ERR(pg_map(&c.s, pg_va(LOW), pg_pa(1ull << 52), PG_2M, 0, NULL), PG_ERR_BAD_FRAME);
	CHECK_ERR(pg_map(&c.s, pg_va(LOW + 0x1000), pg_pa(F2M), PG_4K, 0, NULL), PG_ERR_HUGE_PAGE);
	cx_down(&c, 0);
}

TEST(contract_map_range_error_order)
{
	cx c;
	cx_up(&c);
	pg_space no1g = c.s;
	no1g.has_1g = false;
	uint64_t bad_va = 0x0000800000000000ull;
	CHECK_ERR(pg_map_range(&c.s, pg_va(bad_va), pg_pa(0), 0, 0, PG_4K), PG_ERR_BAD_ARG);
	CHECK_ERR(pg_map_range(&no1g, pg_va(bad_va), pg_pa(0), 4096, 0, PG_1G), PG_ERR_UNSUPPORTED);
	CHECK_ERR(pg_map_range(&c.s, pg_va(bad_va), pg_pa(8), 4096, 0, PG_4K), PG_ERR_NOT_CANONICAL);
	CHECK_ERR(pg_map_range(&c.s, pg_va(LOW), pg_pa((1ull << 52) + 8), 4096, 0, PG_4K),
		  PG_ERR_NOT_ALIGNED);
	/* a 4 KiB leaf at LOW + 4 MiB, a 2 MiB leaf at LOW + 8 MiB: the first one met wins */
	CHECK_ERR(pg_map(&c.s, pg_va(LOW + 4 * MIB), pg_pa(F2M), PG_4K, 0, NULL), PG_OK);
	CHECK_ERR(pg_map(&c.s, pg_va(LOW + 8 * MIB), pg_pa(F2M), PG_2M, 0, NULL), PG_OK);
	CHECK_ERR(pg_map_range(&c.s, pg_va(LOW), pg_pa(1ull << 52), 16 * MIB, 0, PG_2M),
		  PG_ERR_BAD_FRAME);
	CHECK_ERR(pg_map_range(&c.s, pg_va(LOW + 2 * MIB), pg_pa(0), 8 * MIB, 0, PG_2M),
		  PG_ERR_ALREADY_MAPPED);
	CHECK_ERR(pg_map_range(&c.s, pg_va(LOW + 6 * MIB), pg_pa(0x1000), 4 * MIB, 0, PG_2M),
		  PG_ERR_HUGE_PAGE);
	c.ram.fail_after = 0;
	CHECK_ERR(pg_map_range(&c.s, pg_va(GIB * 80), pg_pa(0), 8 * MIB, 0, PG_4K),
		  PG_ERR_NO_FRAMES);
	CHECK_ERR(pg_map_range(&c.s, pg_va(LOW + 2 * MIB), pg_pa(0), 8 * MIB, 0, PG_4K),
		  PG_ERR_ALREADY_MAPPED);
	c.ram.fail_after = -1;
	cx_down(&c, 0);
}

TEST(contract_unmap_protect_split_error_order)
{
	cx c;
	cx_up(&c);
	uint64_t bad_va = 0x0000800000000000ull;
	CHECK_ERR(pg_map(&c.s, pg_va(LOW), pg_pa(F2M), PG_2M, 0, NULL), PG_OK);
	CHECK_ERR(pg_map(&c.s, pg_va(LOW + 4 * MIB), pg_pa(F2M), PG_4K, 0, NULL), PG_OK);
	/* unmap: NOT_CANONICAL, NOT_ALIGNED, NOT_MAPPED, HUGE_PAGE */
	CHECK_ERR(pg_unmap(&c.s, pg_va(bad_va + 8), NULL, NULL), PG_ERR_NOT_CANONICAL);
	CHECK_ERR(pg_unmap(&c.s, pg_va(LOW + 40 * MIB + 8), NULL, NULL), PG_ERR_NOT_ALIGNED);
	CHECK_ERR(pg_unmap(&c.s, pg_va(LOW + 0x1000), NULL, NULL), PG_ERR_HUGE_PAGE);
	/* unmap_range: BAD_ARG, NOT_CANONICAL, NOT_ALIGNED, HUGE_PAGE */
	CHECK_ERR(pg_unmap_range(&c.s, pg_va(bad_va), 0, NULL), PG_ERR_BAD_ARG);
	CHECK_ERR(pg_unmap_range(&c.s, pg_va(bad_va), 4095, NULL), PG_ERR_NOT_CANONICAL);
	CHECK_ERR(pg_unmap_range(&c.s, pg_va(LOW + 0x1000), 4095, NULL), PG_ERR_NOT_ALIGNED);
	CHECK_ERR(pg_unmap_range(&c.s, pg_va(LOW + 0x1000), 4096, NULL), PG_ERR_HUGE_PAGE);
	/* protect: range errors, then BAD_ARG flags, then the first problem in address order */
	CHECK_ERR(pg_protect(&c.s, pg_va(LOW + 8), 4096, 1u << 9), PG_ERR_NOT_ALIGNED);
	CHECK_ERR(pg_protect(&c.s, pg_va(LOW + 2 * MIB), 4096, 1u << 9), PG_ERR_BAD_ARG);
	CHECK_ERR(pg_protect(&c.s, pg_va(LOW + 0x1000), 8 * MIB, 0), PG_ERR_HUGE_PAGE);
	CHECK_ERR(pg_protect(&c.s, pg_va(LOW + 2 * MIB), 0x201000, 0), PG_ERR_NOT_MAPPED);
	CHECK_ERR(pg_protect(&c.s, pg_va(LOW - 4096), 0x2000, 0), PG_ERR_NOT_MAPPED);
	/* split: NOT_CANONICAL, NOT_ALIGNED, NOT_MAPPED, BAD_ARG, NOT_ALIGNED, NO_FRAMES */
	c.ram.fail_after = 0;
	CHECK_ERR(pg_split(&c.s, pg_va(bad_va + 8)), PG_ERR_NOT_CANONICAL);
	CHECK_ERR(pg_split(&c.s, pg_va(LOW + 40 * MIB + 8)), PG_ERR_NOT_ALIGNED);
	CHECK_ERR(pg_split(&c.s, pg_va(LOW + 40 * MIB)), PG_ERR_NOT_MAPPED);
	CHECK_ERR(pg_split(&c.s, pg_va(LOW + 4 * MIB)), PG_ERR_BAD_ARG);
	CHECK_ERR(pg_split(&c.s, pg_va(LOW + 0x1000)), PG_ERR_NOT_ALIGNED);
	CHECK_ERR(pg_split(&c.s, pg_va(LOW)), PG_ERR_NO_FRAMES);
	c.ram.fail_after = -1;
	CHECK_ERR(pg_split(&c.s, pg_va(LOW)), PG_OK);
	cx_down(&c, 0);
}

/* ---- table frames the source gets wrong */

typedef struct {
	pg_frames *inner;
	unsigned calls, bad_at;
	uint64_t bad;        /* the address handed out instead, relative to the real frame */
	bool absolute;       /* bad is an absolute address */
	uint64_t real;       /* the real frame behind the bad one */
	unsigned refused_back;
} bad_source;

static bool bad_alloc(void *ctx, pg_paddr *frame)
{
	bad_source *b = ctx;
	if (!b->inner->alloc(b->inner->ctx, frame))
		return false;
	if (++b->calls == b->bad_at) {
		b->real = frame->pa;
		frame->pa = b->absolute ? b->bad : frame->pa + b->bad;
	}
	return true;
}

static void bad_free(void *ctx, pg_paddr frame)
{
	bad_source *b = ctx;
	if (b->calls >= b->bad_at && frame.pa == (b->absolute ? b->bad : b->real + b->bad)) {
		b->refused_back++;
		frame.pa = b->real;
	}
	b->inner->free(b->inner->ctx, frame);
}

/* A table frame beyond phys_bits or misaligned is BAD_FRAME and is never written. */
static void refuse_case(uint64_t bad, bool absolute)
{
	cx c;
	cx_up_with(&c, true, 39);
	bad_source b = { &c.frames, 0, 2, bad, absolute, 0, 0 };
	pg_frames src = { bad_alloc, bad_free, &b };
	c.s.frames = &src;
	/* two new tables: the second frame is the bad one */
	CHECK_ERR(pg_map(&c.s, pg_va(LOW), pg_pa(F2M), PG_2M, 0, NULL), PG_ERR_BAD_FRAME);
	CHECK(unmapped(&c.s, LOW));
	uint64_t counts[5];
	pg_count_tables(&c.s, counts);
	CHECK_EQ(counts[2] + counts[1], 0);
	c.s.frames = &c.frames;
	/* The refused frame went back to the source (issue 12, defect 4). */
	CHECK_EQ(b.refused_back, 1);
	cx_down(&c, 0);
}

TEST(contract_table_frame_beyond_phys_bits_is_refused)
{
	refuse_case(1ull << 39, true);
}

TEST(contract_misaligned_table_frame_is_refused)
{
	refuse_case(1, false);
}

/* pg_space_init with a first frame beyond phys_bits fails and sets nothing up. */
TEST(contract_init_refuses_a_bad_top_table)
{
	simram ram;
	sim_init(&ram, 16 * MIB);
	bad_source b = { sim_frames(&ram), 0, 1, 1ull << 39, true, 0, 0 };
	pg_frames src = { bad_alloc, bad_free, &b };
	pg_space s;
	memset(&s, 0, sizeof(s));
	CHECK_ERR(pg_space_init(&s, &src, sim_offset(&ram), true, true, 39, 4), PG_ERR_BAD_FRAME);
	CHECK_EQ(root(&s), 0);
	CHECK_EQ(b.refused_back, 1);
	CHECK_EQ(sim_outstanding(&ram), 0);
	sim_destroy(&ram);
}

/* ---- names */

TEST(contract_error_and_size_names_cover_their_ranges)
{
	CHECK(!strcmp(pg_strerror(PG_OK), "ok"));
	CHECK(!strcmp(pg_strerror(PG_ERR_NOT_OWNED), "frame not owned by the allocator"));
	CHECK(!strcmp(pg_strerror(PG_ERR__COUNT), "unknown error"));
	CHECK(!strcmp(pg_strerror((pg_err)-1), "unknown error"));
	CHECK(!strcmp(pg_size_name(PG_4K), "4K"));
	CHECK(!strcmp(pg_size_name(PG_1G), "1G"));
	CHECK(!strcmp(pg_size_name((pg_size)PG_SIZE_COUNT), "?"));
}

/* ---- tables someone else wrote (firmware, another loader) */

/* A non-present entry whose other bits are set (an OS may keep data there) maps nothing:
 * translate, walk and unmap see a hole, and map fills it. */
TEST(contract_non_present_entries_with_bits_are_holes)
{
	cx c;
	cx_up(&c);
	CHECK_ERR(pg_map(&c.s, pg_va(LOW), pg_pa(F2M), PG_4K, 0, NULL), PG_OK);
	uint64_t *pt = raw_ptr(&c, LOW, 1);
	pt[1] = (F2M + 0x1000) | E_W;          /* not present */
	CHECK(unmapped(&c.s, LOW + 0x1000));
	CHECK_ERR(pg_unmap(&c.s, pg_va(LOW + 0x1000), NULL, NULL), PG_ERR_NOT_MAPPED);
	uint64_t n = 9;
	CHECK_ERR(pg_unmap_range(&c.s, pg_va(LOW + 0x1000), 0x1000, &n), PG_OK);
	CHECK_EQ(n, 0);
	CHECK_ERR(pg_protect(&c.s, pg_va(LOW + 0x1000), 0x1000, 0), PG_ERR_NOT_MAPPED);
	CHECK_ERR(pg_map(&c.s, pg_va(LOW + 0x1000), pg_pa(F2M), PG_4K, PG_W, NULL), PG_OK);
	CHECK_EQ(pt[1], F2M | E_P | E_W | E_XD);
	cx_down(&c, 0);
}

/* PAT indices the library never writes (2, 5, 6, 7) still report their memory type:
 * entry 2 and 6 are UC-, 5 is WT, 7 is UC (the PAT value paging.h documents). */
TEST(contract_foreign_pat_indices_report_their_type)
{
	static const struct { unsigned index; unsigned cache; } cases[] = {
		{ 2, PG_CACHE_UC }, { 5, PG_CACHE_WT }, { 6, PG_CACHE_UC }, { 7, PG_CACHE_UC },
	};
	cx c;
	cx_up(&c);
	CHECK_ERR(pg_map(&c.s, pg_va(LOW), pg_pa(F2M), PG_4K, PG_X, NULL), PG_OK);
	CHECK_ERR(pg_map(&c.s, pg_va(LOW + 2 * MIB), pg_pa(F2M), PG_2M, PG_X, NULL), PG_OK);
	for (unsigned k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		unsigned i = cases[k].index;
		uint64_t *e4 = raw_ptr(&c, LOW, 1), *e2 = raw_ptr(&c, LOW + 2 * MIB, 2);
		*e4 = F2M | E_P | (i & 1 ? 1ull << 3 : 0) | (i & 2 ? 1ull << 4 : 0) |
		      (i & 4 ? 1ull << 7 : 0);
		*e2 = F2M | E_P | E_PS | (i & 1 ? 1ull << 3 : 0) | (i & 2 ? 1ull << 4 : 0) |
		      (i & 4 ? 1ull << 12 : 0);
		pg_translation t;
		CHECK_ERR(pg_translate(&c.s, pg_va(LOW), &t), PG_OK);
		CHECK_EQ(t.flags, PG_X | cases[k].cache);
		CHECK_ERR(pg_translate(&c.s, pg_va(LOW + 2 * MIB), &t), PG_OK);
		CHECK_EQ(t.flags, PG_X | cases[k].cache);
	}
	cx_down(&c, 0);
}

/* ---- rights inherited from the levels above */

/* Tables someone else built may clear W or U, or set XD, above a leaf: pg_walk and
 * pg_translate report the rights the CPU would grant. */
TEST(contract_walk_narrows_rights_from_upper_levels)
{
	cx c;
	cx_up(&c);
	CHECK_ERR(pg_map(&c.s, pg_va(LOW), pg_pa(F2M), PG_4K, PG_W | PG_U | PG_X, NULL), PG_OK);
	CHECK_ERR(pg_map(&c.s, pg_va(LOW + GIB), pg_pa(F2M), PG_4K, PG_W | PG_U | PG_X, NULL),
		  PG_OK);
	*raw_ptr(&c, LOW, 2) &= ~E_U;          /* the PD entry above LOW's PT */
	*raw_ptr(&c, LOW + GIB, 3) &= ~E_W;    /* the PDPT entry above the other PD */
	pg_range r[2];
	runs2 got = { r, 0 };
	CHECK_ERR(pg_walk(&c.s, pg_va(LOW), 2 * GIB, collect2, &got), PG_OK);
	CHECK_EQ(got.n, 2);
	CHECK_EQ(r[0].flags, PG_W | PG_X);
	CHECK_EQ(r[1].flags, PG_U | PG_X);
	pg_translation t;
	CHECK_ERR(pg_translate(&c.s, pg_va(LOW), &t), PG_OK);
	CHECK_EQ(t.flags, PG_W | PG_X);
	CHECK_ERR(pg_translate(&c.s, pg_va(LOW + GIB), &t), PG_OK);
	CHECK_EQ(t.flags, PG_U | PG_X);
	pg_mapping m;
	CHECK_ERR(pg_translate_fast(&c.s, pg_va(LOW), &m), PG_OK);
	CHECK_EQ(m.flags, PG_W | PG_X);
	CHECK_ERR(pg_translate_fast(&c.s, pg_va(LOW + GIB), &m), PG_OK);
	CHECK_EQ(m.flags, PG_U | PG_X);
	cx_down(&c, 0);
}

/* ---- the walk cache of a single handle */

/* The handle frees the tables its cache points into, and maps elsewhere so that the
 * frames come back (last in, first out) in the same roles at the same indices: its next
 * map in the first region must still build that region's own tables. */
TEST(contract_walk_cache_emptied_when_its_tables_are_freed)
{
	cx c;
	cx_up(&c);
	uint64_t va0 = 0x5000, va1 = (1ull << 39) + 0x5000; /* region 0: key 1 */
	/* the second map finds every table and fills the cache */
	CHECK_ERR(pg_map(&c.s, pg_va(va0), pg_pa(F2M), PG_4K, 0, NULL), PG_OK);
	CHECK_ERR(pg_map(&c.s, pg_va(va0 + 0x1000), pg_pa(F2M), PG_4K, 0, NULL), PG_OK);
	CHECK_ERR(pg_unmap_range(&c.s, pg_va(va0), 0x2000, NULL), PG_OK);
	CHECK_EQ(sim_outstanding(&c.ram), 1);
	CHECK_ERR(pg_map(&c.b, pg_va(va1), pg_pa(F2M), PG_4K, 0, NULL), PG_OK);
	CHECK_ERR(pg_map(&c.s, pg_va(va0 + 0x2000), pg_pa(F2M + 0x2000), PG_4K, 0, NULL), PG_OK);
	CHECK(mapped_to(&c.s, va0 + 0x2000, F2M + 0x2000));
	CHECK(unmapped(&c.s, va1 + 0x2000));
	CHECK(mapped_to(&c.s, va1, F2M));
	cx_down(&c, 0);
}

/* ---- every table in its own heap block */

/* A frame source whose frames are separate 4 KiB heap blocks (physical address = host
 * address): AddressSanitizer then catches any access one entry past a table. */
typedef struct {
	void *live[64];
	unsigned n;
} heap_src;

static bool heap_alloc(void *ctx, pg_paddr *frame)
{
	heap_src *h = ctx;
	void *p = aligned_alloc(4096, 4096);
	if (!p || h->n == 64) {
		free(p);
		return false;
	}
	memset(p, 0xA5, 4096);
	h->live[h->n++] = p;
	*frame = pg_pa((uint64_t)(uintptr_t)p);
	return true;
}

static void heap_free(void *ctx, pg_paddr frame)
{
	heap_src *h = ctx;
	for (unsigned i = 0; i < h->n; i++)
		if ((uint64_t)(uintptr_t)h->live[i] == frame.pa) {
			free(h->live[i]);
			h->live[i] = h->live[--h->n];
			return;
		}
	CHECK(!"heap_free: not a frame of this source");
}

static bool count_runs(void *ctx, const pg_range *r)
{
	(void)r;
	++*(unsigned *)ctx;
	return true;
}

TEST(contract_every_operation_stays_inside_its_tables)
{
	heap_src hs = { { 0 }, 0 };
	pg_frames src = { heap_alloc, heap_free, &hs }, nofree = { heap_alloc, NULL, &hs };
	pg_space s, b;
	CHECK_ERR(pg_space_init(&s, &src, 0, true, true, 52, 4), PG_OK);
	CHECK_ERR(pg_space_attach(&b, pg_pa(root(&s)), &nofree, 0, true, true, 52, 4), PG_OK);
	uint64_t va = 0xffffffffffe00000ull; /* the last entry of every table */
	CHECK_ERR(pg_map(&s, pg_va(va + 0x1ff000), pg_pa(F2M), PG_4K, 0, NULL), PG_OK);
	CHECK_ERR(pg_map(&s, pg_va(va + 0x1fe000), pg_pa(F2M), PG_4K, 0, NULL), PG_OK);
	CHECK_ERR(pg_map(&s, pg_va(va), pg_pa(F2M), PG_2M, 0, NULL), PG_ERR_ALREADY_MAPPED);
	CHECK_ERR(pg_map(&s, pg_va(va - 0x200000), pg_pa(F2M), PG_2M, 0, NULL), PG_OK);
	CHECK_ERR(pg_split(&s, pg_va(va - 0x200000)), PG_OK);
	CHECK_ERR(pg_protect(&s, pg_va(va - 0x200000), 0x200000, PG_W), PG_OK);
	unsigned runs = 0;
	CHECK_ERR(pg_walk(&s, pg_va(0), 0, count_runs, &runs), PG_OK);
	CHECK_EQ(runs, 3); /* the split 2 MiB, then two pages on one frame */
	uint64_t counts[5];
	pg_count_tables(&s, counts);
	CHECK_EQ(counts[0], 2);
	/* empty tables left by the handle without free, then replaced by huge leaves */
	CHECK_ERR(pg_unmap_range(&b, pg_va(va - 0x200000), 0x400000, NULL), PG_OK);
	CHECK_ERR(pg_map_range(&s, pg_va(va - 0x200000), pg_pa(F2M), 0x400000, 0, PG_2M), PG_OK);
	CHECK_ERR(pg_unmap_range(&b, pg_va(va - 0x200000), 0x400000, NULL), PG_OK);
	CHECK_ERR(pg_map(&s, pg_va(va & ~(GIB - 1)), pg_pa(F1G), PG_1G, 0, NULL), PG_OK);
	CHECK_ERR(pg_unmap(&s, pg_va(va & ~(GIB - 1)), NULL, NULL), PG_OK);
	CHECK_ERR(pg_map_range(&s, pg_va(va + 0x1f0000), pg_pa(F2M), 0x10000, 0, PG_4K), PG_OK);
	CHECK_ERR(pg_unmap_range(&s, pg_va(va), 0x200000, NULL), PG_OK);
	pg_space_destroy(&s);
	while (hs.n) /* frames abandoned on purpose by the replacements */
		free(hs.live[--hs.n]);
}

/* ---- handle set-up arguments */

/* phys_bits must lie in 32..52, the top table be page aligned and below phys_bits, and a
 * frame source have alloc; init needs a source at all. Nothing is set up on refusal. */
TEST(contract_space_setup_arguments)
{
	simram ram;
	sim_init(&ram, 4 * MIB);
	pg_frames *src = sim_frames(&ram), no_alloc = { NULL, src->free, src->ctx };
	uint64_t off = sim_offset(&ram), top = SIM_BASE;
	pg_space s;
	CHECK_ERR(pg_space_attach(&s, pg_pa(top), NULL, off, true, true, 31, 4), PG_ERR_BAD_ARG);
	CHECK_ERR(pg_space_attach(&s, pg_pa(0), NULL, off, true, true, 31, 4), PG_ERR_BAD_ARG);
	CHECK_ERR(pg_space_attach(&s, pg_pa(top), NULL, off, true, true, 53, 4), PG_ERR_BAD_ARG);
	CHECK_ERR(pg_space_attach(&s, pg_pa(0), NULL, off, true, true, 32, 4), PG_OK);
	CHECK_ERR(pg_space_attach(&s, pg_pa(top), NULL, off, true, true, 52, 4), PG_OK);
	CHECK_ERR(pg_space_attach(&s, pg_pa(top + 1), NULL, off, true, true, 52, 4), PG_ERR_BAD_ARG);
	CHECK_ERR(pg_space_attach(&s, pg_pa(top + 0x800), NULL, off, true, true, 52, 4),
		  PG_ERR_BAD_ARG);
	CHECK_ERR(pg_space_attach(&s, pg_pa(1ull << 38), NULL, off, true, true, 38, 4),
		  PG_ERR_BAD_ARG);
	CHECK_ERR(pg_space_attach(&s, pg_pa(top), &no_alloc, off, true, true, 52, 4), PG_ERR_BAD_ARG);
	CHECK_ERR(pg_space_attach(NULL, pg_pa(top), NULL, off, true, true, 52, 4), PG_ERR_BAD_ARG);
	CHECK_ERR(pg_space_init(&s, src, off, true, true, 31, 4), PG_ERR_BAD_ARG);
	CHECK_ERR(pg_space_init(&s, src, off, true, true, 53, 4), PG_ERR_BAD_ARG);
	CHECK_ERR(pg_space_init(&s, NULL, off, true, true, 52, 4), PG_ERR_BAD_ARG);
	CHECK_ERR(pg_space_init(&s, &no_alloc, off, true, true, 52, 4), PG_ERR_BAD_ARG);
	CHECK_ERR(pg_space_init(NULL, src, off, true, true, 52, 4), PG_ERR_BAD_ARG);
	CHECK_ERR(pg_space_init(&s, src, off, true, true, 32, 4), PG_ERR_BAD_FRAME); /* RAM at 2^38 */
	CHECK_EQ(sim_outstanding(&ram), 0);
	CHECK_ERR(pg_space_init(&s, src, off, true, true, 52, 4), PG_OK);
	pg_space_destroy(&s);
	CHECK_ERR(pg_space_init(&s, src, off, true, true, 39, 4), PG_OK);
	pg_space_destroy(&s);
	CHECK_EQ(sim_outstanding(&ram), 0);
	sim_destroy(&ram);
}

/* A count field above 512 in a table entry (tables written by someone else) means "not
 * counted": the table is scanned. Unmapping its only page then frees it and every table
 * above it that it leaves empty; read as an exact 513, nothing would be freed. */
TEST(contract_count_above_512_is_not_a_count)
{
	cx c;
	cx_up(&c);
	CHECK_ERR(pg_map(&c.s, pg_va(LOW), pg_pa(0x1000), PG_4K, 0, NULL), PG_OK);
	CHECK_EQ(sim_outstanding(&c.ram), 4); /* PML4, PDPT, PD, PT */
	uint64_t *l2e = raw_ptr(&c, LOW, 2);
	*l2e = (*l2e & ~(0x3ffull << 52)) | (513ull << 52);
	CHECK_ERR(pg_unmap(&c.s, pg_va(LOW), NULL, NULL), PG_OK);
	CHECK_EQ(sim_outstanding(&c.ram), 1);
	CHECK_EQ(raw(&c, LOW, 4), 0);
	cx_down(&c, 0);
}

/* Mapping into a table whose count is 0 or above 512 (not counted: written by someone
 * else) counts it by a scan, so that the entry holds the exact count from then on. */
TEST(contract_map_into_a_table_not_counted_counts_it)
{
	static const uint64_t not_counted[2] = { 0, 600 };
	for (unsigned k = 0; k < 2; k++) {
		cx c;
		cx_up(&c);
		CHECK_ERR(pg_map(&c.s, pg_va(LOW), pg_pa(0x1000), PG_4K, 0, NULL), PG_OK);
		uint64_t *l2e = raw_ptr(&c, LOW, 2);
		*l2e = (*l2e & ~(0x3ffull << 52)) | not_counted[k] << 52;
		CHECK_ERR(pg_map(&c.s, pg_va(LOW + 0x5000), pg_pa(0x2000), PG_4K, 0, NULL), PG_OK);
		CHECK_EQ((*l2e >> 52) & 0x3ff, 2);
		cx_down(&c, 0);
	}
}

/* The length check comes first: a zero length at address 0 (where va + length - 1 does
 * not wrap below va) is BAD_ARG, not NOT_CANONICAL; a length of one byte is a length,
 * refused as NOT_ALIGNED. */
TEST(contract_map_range_zero_and_one_byte)
{
	cx c;
	cx_up(&c);
	CHECK_ERR(pg_map_range(&c.s, pg_va(0), pg_pa(0), 0, 0, PG_4K), PG_ERR_BAD_ARG);
	CHECK_ERR(pg_map_range(&c.s, pg_va(LOW), pg_pa(0), 1, 0, PG_4K), PG_ERR_NOT_ALIGNED);
	CHECK_EQ(sim_outstanding(&c.ram), 1);
	cx_down(&c, 0);
}

/* normalize checks every entry, the first one included, and changes nothing. */
TEST(contract_normalize_checks_the_first_entry)
{
	mem_region st[2] = {
		{ UINT64_MAX, 0x1000, MEM_USABLE, 0 },
		{ 0x5000, 0x1000, MEM_USABLE, 0 },
	};
	mem_list l = { st, 2, 2 };
	CHECK_ERR(mem_list_normalize(&l), PG_ERR_BAD_ARG);
	CHECK_EQ(st[0].start, UINT64_MAX);
	CHECK_EQ(st[1].start, 0x5000);
	st[0] = (mem_region){ 0x1000, 0x1000, 99, 0 };
	CHECK_ERR(mem_list_normalize(&l), PG_ERR_BAD_ARG);
	CHECK_EQ(st[0].kind, 99);
}

/* normalize drops empty entries wherever they are, the first one included, and clears
 * the reserved field of every entry it keeps. */
TEST(contract_normalize_drops_empty_first_entry)
{
	mem_region st[3] = {
		{ 0x1000, 0, MEM_USABLE, 7 },
		{ 0x5000, 0x1000, MEM_USABLE, 9 },
		{ 0x9000, 0, MEM_RESERVED, 3 },
	};
	mem_list l = { st, 3, 3 };
	CHECK_ERR(mem_list_normalize(&l), PG_OK);
	CHECK_EQ(l.count, 1);
	CHECK_EQ(st[0].start, 0x5000);
	CHECK_EQ(st[0].length, 0x1000);
	CHECK_EQ(st[0].kind, MEM_USABLE);
	CHECK_EQ(st[0].reserved, 0);
}

/* The walk cache is keyed by the whole 2 MiB region: a page at half or twice the cached
 * region's address (what a key one bit off would confuse with it) gets its own tables,
 * and the cached table gains nothing. */
TEST(contract_walk_cache_key_is_the_2m_region)
{
	cx c;
	cx_up(&c);
	uint64_t half = (LOW >> 22) << 21, twice = (LOW >> 21) << 22; /* 36 and 144 GiB */
	for (unsigned k = 0; k < 2; k++) {
		uint64_t other = (k ? twice : half) + 0x5000;
		/* the second map finds every table and fills the cache with LOW's table */
		CHECK_ERR(pg_map(&c.s, pg_va(LOW + 0x2000 * k), pg_pa(F2M), PG_4K, 0, NULL), PG_OK);
		CHECK_ERR(pg_map(&c.s, pg_va(LOW + 0x2000 * k + 0x1000), pg_pa(F2M), PG_4K, 0, NULL),
			  PG_OK);
		CHECK_ERR(pg_map(&c.s, pg_va(other), pg_pa(F2M + 0x5000), PG_4K, 0, NULL), PG_OK);
		CHECK(mapped_to(&c.s, other, F2M + 0x5000));
		CHECK(unmapped(&c.s, LOW + 0x5000));
		CHECK_EQ(raw(&c, LOW + 0x5000, 1), 0);
	}
	cx_down(&c, 0);
}

/* XD in a table entry (allowed there: it narrows every page below) is not part of the
 * present count: unmapping the last page of that table still gives the table back. */
TEST(contract_xd_in_a_table_entry_is_not_a_count)
{
	cx c;
	cx_up(&c);
	CHECK_ERR(pg_map(&c.s, pg_va(LOW), pg_pa(0x1000), PG_4K, 0, NULL), PG_OK);
	CHECK_ERR(pg_map(&c.s, pg_va(LOW + 0x1000), pg_pa(0x2000), PG_4K, 0, NULL), PG_OK);
	*raw_ptr(&c, LOW, 2) |= E_XD;
	CHECK_ERR(pg_unmap(&c.s, pg_va(LOW), NULL, NULL), PG_OK);
	CHECK_EQ(sim_outstanding(&c.ram), 4);
	CHECK(raw(&c, LOW, 2) & E_XD);
	CHECK_ERR(pg_unmap(&c.s, pg_va(LOW + 0x1000), NULL, NULL), PG_OK);
	CHECK_EQ(sim_outstanding(&c.ram), 1);
	CHECK_EQ(raw(&c, LOW, 4), 0);
	cx_down(&c, 0);
}

/* Destroying a handle whose source cannot take frames back (no free), or that has no
 * source at all, gives nothing back and leaves the tables to the other handle. */
TEST(contract_destroy_without_free_keeps_the_tables)
{
	cx c;
	cx_up(&c);
	CHECK_ERR(pg_map(&c.s, pg_va(LOW), pg_pa(0x1000), PG_4K, 0, NULL), PG_OK);
	pg_space none;
	CHECK_ERR(pg_space_attach(&none, pg_pa(root(&c.s)), NULL, sim_offset(&c.ram), true, true,
				  52, 4), PG_OK);
	pg_space_destroy(&c.b);
	pg_space_destroy(&none);
	CHECK_EQ(c.b.levels, 0);
	CHECK_EQ(none.levels, 0);
	CHECK_EQ(sim_outstanding(&c.ram), 4);
	CHECK(mapped_to(&c.s, LOW, 0x1000));
	cx_down(&c, 0);
}

/* pg_translate_fast reads the memory type of huge leaves from PWT, PCD and the PAT bit
 * at bit 12, and nothing else: the software-available bits 9-11 (which protect keeps)
 * change no flag. 2 MiB and 1 GiB leaves, write-combining and write-back. */
TEST(contract_translate_fast_huge_leaf_memory_type)
{
	cx c;
	cx_up(&c);
	const uint64_t soft = 7ull << 9;
	const uint64_t va2m = LOW, vawb = LOW + 2 * MIB, va1g = LOW + GIB;
	CHECK_ERR(pg_map(&c.s, pg_va(va2m), pg_pa(F2M), PG_2M, PG_W | PG_CACHE_WC, NULL), PG_OK);
	CHECK_ERR(pg_map(&c.s, pg_va(vawb), pg_pa(F2M), PG_2M, PG_W | PG_CACHE_WB, NULL), PG_OK);
	CHECK_ERR(pg_map(&c.s, pg_va(va1g), pg_pa(F1G), PG_1G, PG_U | PG_CACHE_WC, NULL), PG_OK);
	pg_mapping m;
	CHECK_ERR(pg_translate_fast(&c.s, pg_va(va2m + 0x3000), &m), PG_OK);
	CHECK_EQ(m.flags, PG_W | PG_CACHE_WC);
	CHECK_EQ(m.phys.pa, F2M + 0x3000);
	CHECK_EQ(m.size, PG_2M);
	*raw_ptr(&c, vawb, 2) |= soft;
	*raw_ptr(&c, va1g, 3) |= soft;
	CHECK_ERR(pg_translate_fast(&c.s, pg_va(vawb), &m), PG_OK);
	CHECK_EQ(m.flags, PG_W | PG_CACHE_WB);
	CHECK_ERR(pg_translate_fast(&c.s, pg_va(va1g + 0x5000), &m), PG_OK);
	CHECK_EQ(m.flags, PG_U | PG_CACHE_WC);
	CHECK_EQ(m.size, PG_1G);
	pg_translation t;
	CHECK_ERR(pg_translate(&c.s, pg_va(vawb), &t), PG_OK);
	CHECK_EQ(t.flags, PG_W | PG_CACHE_WB);
	CHECK_ERR(pg_translate(&c.s, pg_va(va1g), &t), PG_OK);
	CHECK_EQ(t.flags, PG_U | PG_CACHE_WC);
	cx_down(&c, 0);
}

/* A zeroed handle, and one destroyed, has no tables: both translations say BAD_ARG;
 * pg_translate writes nothing and pg_translate_fast clears *out. */
TEST(contract_translate_an_empty_handle_is_bad_arg)
{
	cx c;
	cx_up(&c);
	pg_space zero;
	memset(&zero, 0, sizeof(zero));
	pg_space_destroy(&c.b);
	const pg_space *empty[2] = { &zero, &c.b };
	for (unsigned i = 0; i < 2; i++) {
		pg_mapping m = { pg_pa(7), PG_1G, 99 };
		pg_translation t;
		t.levels = 77;
		CHECK_ERR(pg_translate_fast(empty[i], pg_va(LOW), &m), PG_ERR_BAD_ARG);
		CHECK_EQ(m.phys.pa, 0); /* cleared, as on every error */
		CHECK_EQ(m.size, PG_4K);
		CHECK_EQ(m.flags, 0);
		CHECK_ERR(pg_translate(empty[i], pg_va(LOW), &t), PG_ERR_BAD_ARG);
		CHECK_EQ(t.levels, 77);
	}
	cx_down(&c, 0);
}

/* A pg_map that walks to an existing page table fills the walk cache with it (so that
 * mapping page after page skips the walk), the 512th page of the table included; so
 * does a pg_unmap that leaves its table non-empty. The cache is private; this test
 * reads it to see that the fast paths are entered at all. */
TEST(contract_map_fills_the_walk_cache)
{
	cx c;
	cx_up(&c);
	CHECK_ERR(pg_map_range(&c.s, pg_va(LOW), pg_pa(F2M), 511 * 0x1000ull, 0, PG_4K), PG_OK);
	c.s.walk_key = 0;
	CHECK_ERR(pg_map(&c.s, pg_va(LOW + 0x1ff000), pg_pa(F2M), PG_4K, 0, NULL), PG_OK);
	CHECK_EQ(raw(&c, LOW, 2) >> 52 & 0x3ff, 512);
	CHECK_EQ(c.s.walk_key, (LOW >> 21) + 1);
	CHECK(c.s.walk_table == pg_table(&c.s, pg_pa(raw(&c, LOW, 2) & E_ADDR)));
	CHECK(c.s.walk_l2e == raw_ptr(&c, LOW, 2));
	/* so does a pg_unmap that walks and leaves the table non-empty */
	c.s.walk_key = 0;
	CHECK_ERR(pg_unmap(&c.s, pg_va(LOW + 0x3000), NULL, NULL), PG_OK);
	CHECK_EQ(raw(&c, LOW, 2) >> 52 & 0x3ff, 511);
	CHECK_EQ(c.s.walk_key, (LOW >> 21) + 1);
	CHECK(c.s.walk_l2e == raw_ptr(&c, LOW, 2));
	cx_down(&c, 0);
}

/* map_range's 1 GiB chunk over a PD whose PTs are all empty gives back the PD and every
 * PT under it, as pg_map does. */
TEST(contract_map_range_1g_replaces_empty_pd_and_pts)
{
	cx c;
	cx_up(&c);
	static const uint64_t at[3] = { 0, 4 * MIB, GIB - 0x1000 }; /* PD entries 0, 2, 511 */
	for (unsigned i = 0; i < 3; i++)
		CHECK_ERR(pg_map(&c.s, pg_va(LOW + at[i]), pg_pa(F2M), PG_4K, 0, NULL), PG_OK);
	for (unsigned i = 0; i < 3; i++)
		CHECK_ERR(pg_unmap(&c.b, pg_va(LOW + at[i]), NULL, NULL), PG_OK);
	uint64_t before = sim_outstanding(&c.ram);
	c.nfl = 0;
	CHECK_ERR(pg_map_range(&c.s, pg_va(LOW), pg_pa(F1G), GIB, PG_X, PG_1G), PG_OK);
	flushed_once(&c, LOW, GIB);
	CHECK_EQ(sim_outstanding(&c.ram), before - 4);
	CHECK_EQ(raw(&c, LOW, 3), F1G | E_P | E_PS);
	cx_down(&c, 0);
}

/* unmap and split refuse a page address one byte off, mapped or not, with the walk
 * cache warm or cold, as NOT_ALIGNED. */
TEST(contract_unmap_split_one_byte_off_is_not_aligned)
{
	cx c;
	cx_up(&c);
	CHECK_ERR(pg_map(&c.s, pg_va(LOW), pg_pa(F2M), PG_4K, 0, NULL), PG_OK);
	CHECK_ERR(pg_map(&c.s, pg_va(LOW + 2 * MIB), pg_pa(F2M), PG_2M, 0, NULL), PG_OK);
	/* warm the walk cache with LOW's table: the fast path must refuse too */
	CHECK_ERR(pg_map(&c.s, pg_va(LOW + 0x1000), pg_pa(F2M), PG_4K, 0, NULL), PG_OK);
	CHECK_EQ(c.s.walk_key, (LOW >> 21) + 1);
	const uint64_t at[3] = { LOW + 1, LOW + 2 * MIB + 1, LOW + GIB + 1 };
	for (unsigned i = 0; i < 3; i++) {
		CHECK_ERR(pg_unmap(&c.s, pg_va(at[i]), NULL, NULL), PG_ERR_NOT_ALIGNED);
		CHECK_ERR(pg_split(&c.s, pg_va(at[i])), PG_ERR_NOT_ALIGNED);
	}
	CHECK(mapped_to(&c.s, LOW, F2M));
	CHECK(mapped_to(&c.s, LOW + 2 * MIB, F2M));
	cx_down(&c, 0);
}

/* unmap_range and protect check the length first: zero at address 0 (where va +
 * length - 1 does not wrap below va) is BAD_ARG; one byte is a length, refused as
 * NOT_ALIGNED, also where its last byte would cross into the hole. */
TEST(contract_unmap_range_protect_zero_and_one_byte)
{
	cx c;
	cx_up(&c);
	CHECK_ERR(pg_map(&c.s, pg_va(LOW), pg_pa(F2M), PG_4K, 0, NULL), PG_OK);
	CHECK_ERR(pg_unmap_range(&c.s, pg_va(0), 0, NULL), PG_ERR_BAD_ARG);
	CHECK_ERR(pg_protect(&c.s, pg_va(0), 0, PG_W), PG_ERR_BAD_ARG);
	CHECK_ERR(pg_unmap_range(&c.s, pg_va(LOW), 1, NULL), PG_ERR_NOT_ALIGNED);
	CHECK_ERR(pg_protect(&c.s, pg_va(LOW), 1, PG_W), PG_ERR_NOT_ALIGNED);
	CHECK_ERR(pg_unmap_range(&c.s, pg_va(TOP), 0x1001, NULL), PG_ERR_NOT_CANONICAL);
	CHECK_ERR(pg_protect(&c.s, pg_va(TOP), 0x1001, PG_W), PG_ERR_NOT_CANONICAL);
	CHECK(mapped_to(&c.s, LOW, F2M));
	CHECK_EQ(raw(&c, LOW, 1) & E_W, 0);
	cx_down(&c, 0);
}

/* Splitting a write-combining 1 GiB leaf gives 2 MiB leaves that keep the memory type:
 * the PAT bit stays at bit 12 in each of them. */
TEST(contract_split_1g_keeps_the_pat_bit)
{
	cx c;
	cx_up(&c);
	CHECK_ERR(pg_map(&c.s, pg_va(LOW), pg_pa(F1G), PG_1G, PG_W | PG_CACHE_WC, NULL), PG_OK);
	CHECK_ERR(pg_split(&c.s, pg_va(LOW)), PG_OK);
	for (unsigned i = 0; i < 512; i += 73) {
		uint64_t e = raw(&c, LOW + i * 2 * MIB, 2);
		CHECK_EQ(e & E_ADDR & ~0x1fffffull, F1G + i * 2 * MIB);
		CHECK(e & (1ull << 12));
		pg_mapping m;
		CHECK_ERR(pg_translate_fast(&c.s, pg_va(LOW + i * 2 * MIB + 0x1000), &m), PG_OK);
		CHECK_EQ(m.flags, PG_W | PG_CACHE_WC);
		CHECK_EQ(m.size, PG_2M);
		CHECK_EQ(m.phys.pa, F1G + i * 2 * MIB + 0x1000);
	}
	cx_down(&c, 0);
}

/* pg_walk refuses what it cannot walk, without calling fn: no handle tables, no fn, a
 * range that wraps (BAD_ARG); a first or a last byte outside canonical form
 * (NOT_CANONICAL), on either side of the hole. */
TEST(contract_walk_argument_errors)
{
	cx c;
	cx_up(&c);
	CHECK_ERR(pg_map(&c.s, pg_va(TOP), pg_pa(F2M), PG_4K, 0, NULL), PG_OK);
	CHECK_ERR(pg_map(&c.s, pg_va(UP), pg_pa(F2M), PG_4K, 0, NULL), PG_OK);
	unsigned runs = 0;
	pg_space zero;
	memset(&zero, 0, sizeof(zero));
	CHECK_ERR(pg_walk(&zero, pg_va(0), 0, count_runs, &runs), PG_ERR_BAD_ARG);
	CHECK_ERR(pg_walk(NULL, pg_va(0), 0, count_runs, &runs), PG_ERR_BAD_ARG);
	CHECK_ERR(pg_walk(&c.s, pg_va(TOP), 0x1000, NULL, &runs), PG_ERR_BAD_ARG);
	CHECK_ERR(pg_walk(&c.s, pg_va(~0ull - 0xfff), 0x2000, count_runs, &runs), PG_ERR_BAD_ARG);
	CHECK_ERR(pg_walk(&c.s, pg_va(TOP), 0x2000, count_runs, &runs), PG_ERR_NOT_CANONICAL);
	CHECK_ERR(pg_walk(&c.s, pg_va(UP - 0x1000), 0x2000, count_runs, &runs),
		  PG_ERR_NOT_CANONICAL);
	CHECK_EQ(runs, 0);
	CHECK_ERR(pg_walk(&c.s, pg_va(TOP), 0x1000, count_runs, &runs), PG_OK);
	CHECK_ERR(pg_walk(&c.s, pg_va(UP), 0x1000, count_runs, &runs), PG_OK);
	CHECK_EQ(runs, 2);
	pg_range r[2];
	runs2 got = { r, 0 };
	CHECK_ERR(pg_walk(&c.s, pg_va(TOP + 0x10), 1, collect2, &got), PG_OK); /* one byte */
	CHECK_EQ(got.n, 1);
	CHECK_EQ(r[0].virt.va, TOP + 0x10);
	CHECK_EQ(r[0].length, 1);
	cx_down(&c, 0);
}

/* The region list's changing calls refuse a NULL list. */
TEST(contract_region_calls_refuse_a_null_list)
{
	CHECK_ERR(mem_list_set(NULL, 0x1000, 0x1000, MEM_USABLE), PG_ERR_BAD_ARG);
	CHECK_ERR(mem_list_add(NULL, 0x1000, 0x1000, MEM_USABLE), PG_ERR_BAD_ARG);
	CHECK_ERR(mem_list_normalize(NULL), PG_ERR_BAD_ARG);
}

/* An empty list normalizes to an empty list, even in storage of capacity 0. */
TEST(contract_normalize_empty_list_in_no_storage)
{
	mem_region st[1] = { { 0x1000, 0x1000, MEM_USABLE, 0 } };
	mem_list l = { st, 0, 0 };
	CHECK_ERR(mem_list_normalize(&l), PG_OK);
	CHECK_EQ(l.count, 0);
	CHECK_EQ(l.capacity, 0);
	CHECK_EQ(st[0].start, 0x1000);
}

/* normalize in storage exactly the size of its result, where a region hidden by a more
 * restrictive one starting at the same address must be dropped before the build: kept,
 * it would take the slot that the kernel region's three pieces need. */
TEST(contract_normalize_drops_a_region_hidden_from_its_first_byte)
{
	mem_region st[6] = {
		{ 0x10000, 0x10000, MEM_KERNEL, 0 },
		{ 0x12000, 0x1000, MEM_RESERVED, 0 },
		{ 0x16000, 0x1000, MEM_RESERVED, 0 },
		{ 0x1000, 0x1000, MEM_RESERVED, 0 }, /* first in build order */
		{ 0x1000, 0x1000, MEM_BOOT_RECLAIMABLE, 0 },
	};
	mem_list l = { st, 5, 6 };
	CHECK_ERR(mem_list_normalize(&l), PG_OK);
	CHECK_EQ(l.count, 6);
	static const uint64_t starts[6] = { 0x1000, 0x10000, 0x12000, 0x13000, 0x16000, 0x17000 };
	static const uint32_t kinds[6] = { MEM_RESERVED, MEM_KERNEL, MEM_RESERVED, MEM_KERNEL,
					   MEM_RESERVED, MEM_KERNEL };
	for (unsigned i = 0; i < 6; i++) {
		CHECK_EQ(st[i].start, starts[i]);
		CHECK_EQ(st[i].kind, kinds[i]);
	}
	CHECK_EQ(mem_list_total(&l, MEM_KERNEL), 0x10000 - 0x2000);
	CHECK_EQ(mem_list_total(&l, MEM_BOOT_RECLAIMABLE), 0);
}

/* intersects: a zero length meets nothing, even inside a region; one byte inside a
 * region, or just before one, meets it. */
TEST(contract_intersects_zero_and_one_byte)
{
	mem_region st[2];
	mem_list l;
	mem_list_init(&l, st, 2);
	CHECK_ERR(mem_list_set(&l, 0x10000, 0x1000, MEM_USABLE), PG_OK);
	CHECK(!mem_list_intersects(&l, 0x10800, 0));
	CHECK(!mem_list_intersects(&l, 0x10000, 0));
	CHECK(mem_list_intersects(&l, 0x10800, 1));
	CHECK(mem_list_intersects(&l, 0x10fff, 1));
	CHECK(!mem_list_intersects(&l, 0x11000, 1));
	CHECK(!mem_list_intersects(&l, 0xffff, 1));
	CHECK(mem_list_intersects(&l, 0xffff, 2));
}

/* pg_count_tables on a destroyed or zeroed handle counts nothing (it used to index
 * counts[levels - 1] with levels 0). */
TEST(contract_count_tables_of_an_empty_handle)
{
	pg_space z;
	uint64_t counts[5] = { 7, 7, 7, 7, 7 };
	memset(&z, 0, sizeof z);
	pg_count_tables(&z, counts);
	for (unsigned i = 0; i < 5; i++)
		CHECK_EQ(counts[i], 0);
	cx c;
	cx_up(&c);
	pg_space_destroy(&c.s);
	counts[0] = 7;
	pg_count_tables(&c.s, counts);
	CHECK_EQ(counts[0], 0);
	CHECK_EQ(sim_outstanding(&c.ram), 0);
	sim_destroy(&c.ram);
}
