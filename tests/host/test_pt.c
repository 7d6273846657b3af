/* test_pt.c - unit tests of the page-table engine (paging.h) over simulated RAM.
 * Each test states its intent in one sentence; entries are read back raw, level by
 * level, through pg_table() and checked bit by bit against the Intel SDM layout. */
#include <stdlib.h>
#include <string.h>

#include "paging.h"
#include "simram.h"
#include "test.h"

/* PTE bits, Intel SDM vol. 3 section 4.5 (written out here, not taken from paging/). */
#define B_P     (1ull << 0)
#define B_W     (1ull << 1)
#define B_U     (1ull << 2)
#define B_PWT   (1ull << 3)
#define B_PCD   (1ull << 4)
#define B_A     (1ull << 5)
#define B_D     (1ull << 6)
#define B_PS    (1ull << 7)
#define B_PAT4K (1ull << 7)
#define B_G     (1ull << 8)
#define B_PATH  (1ull << 12)
#define B_XD    (1ull << 63)
#define B_ADDR  0x000ffffffffff000ull
#define B_TABLE (B_P | B_W | B_U) /* what paging.h promises for intermediate entries */
/* Bits 52-61 of an intermediate entry: the count of present entries in its table. */
#define B_COUNT(n) ((uint64_t)(n) << 52)
static uint64_t count_bits(uint64_t e) { return (e >> 52) & 0x3ff; }

#define KIB (1ull << 10)
#define MIB (1ull << 20)
#define GIB (1ull << 30)

/* Leaf frames: they are never touched by the library, so they need not be simulated. */
#define F4K 0x0000000123456000ull
#define F2M 0x0000000123400000ull
#define F1G 0x00000004c0000000ull

/* A virtual address from its four table indices (sign-extended for the upper half). */
static uint64_t va_of(unsigned l4, unsigned l3, unsigned l2, unsigned l1)
{
	uint64_t va = (uint64_t)l4 << 39 | (uint64_t)l3 << 30 | (uint64_t)l2 << 21 |
		      (uint64_t)l1 << 12;
	return l4 >= 256 ? va | 0xffff000000000000ull : va;
}

static unsigned idx(uint64_t va, unsigned level) { return (va >> (3 + 9 * level)) & 511; }

/* Every test runs twice: over a 4-level space (PML4 on top) and a 5-level one (PML5).
 * The addresses of va_of() are canonical in both; under a PML5 they sit in its entry 0
 * (lower half) or 511 (upper half), so a 5-level walk has one more step on top. */
static unsigned lv = 4;
#define PT_TEST(name)							\
	static void name(void);						\
	TEST(name##_l4) { lv = 4; name(); }				\
	TEST(name##_l5) { lv = 5; name(); lv = 4; }			\
	static void name(void)

/* Index into pg_translation.walk[] of the entry at level (walk[0] is the top level). */
static unsigned wi(unsigned level) { return lv - level; }

/* Table frames of a space whose mappings all lie in the lower half and that holds n
 * tables with 4 levels: a PML5 adds itself and keeps the PML4 below it. */
static uint64_t T(uint64_t n) { return n > 1 ? n + (lv - 4) : n; }

/* The lowest non-canonical address of the lower half: 2^47, or 2^56 with 5 levels. */
static uint64_t hole_lo(void) { return 1ull << (lv == 4 ? 47 : 56); }
/* The highest non-canonical address below the upper half. */
static uint64_t hole_hi(void) { return (~0ull << (lv == 4 ? 47 : 56)) - 1; }

/* ---- fixture */

typedef struct {
	simram ram;
	pg_space s;
	pg_frames frames;
	struct { uint64_t start, len; } fl[16];
	unsigned nfl;
} fx;

static void on_flush(void *ctx, pg_vaddr start, uint64_t len)
{
	fx *f = ctx;
	if (f->nfl < 16) {
		f->fl[f->nfl].start = start.va;
		f->fl[f->nfl].len = len;
	}
	f->nfl++;
}

static void fx_up_with(fx *f, bool has_nx, bool has_1g, unsigned phys_bits)
{
	memset(f, 0, sizeof(*f));
	sim_init(&f->ram, 256 * MIB);
	f->frames = *sim_frames(&f->ram);
	CHECK_ERR(pg_space_init(&f->s, &f->frames, sim_offset(&f->ram), has_nx, has_1g, phys_bits,
				lv), PG_OK);
	f->s.flush = on_flush;
	f->s.flush_ctx = f;
}

static void fx_up(fx *f) { fx_up_with(f, true, true, 52); }

static void check_counts(const fx *f, uint64_t pa, unsigned level);

static void fx_down(fx *f)
{
	check_counts(f, f->s.root.pa, lv); /* every test ends with exact counts */
	f->frames.free = sim_frames(&f->ram)->free;
	pg_space_destroy(&f->s);
	CHECK_EQ(sim_outstanding(&f->ram), 0);
	sim_destroy(&f->ram);
}

static bool in_sim(const fx *f, uint64_t pa)
{
	return pa >= f->ram.base && pa - f->ram.base < f->ram.size && !(pa & 4095);
}

/* The table that holds va's entry at level, by our own walk; NULL if unreachable. */
static uint64_t *table_at(const fx *f, uint64_t va, unsigned level)
{
	uint64_t t = f->s.root.pa;
	for (unsigned l = lv; l > level; l--) {
		uint64_t e = pg_table(&f->s, pg_pa(t))[idx(va, l)];
		if (!(e & B_P) || (l < 4 && (e & B_PS)) || !in_sim(f, e & B_ADDR))
			return NULL;
		t = e & B_ADDR;
	}
	return pg_table(&f->s, pg_pa(t));
}

static uint64_t ent(const fx *f, uint64_t va, unsigned level)
{
	uint64_t *t = table_at(f, va, level);
	return t ? t[idx(va, level)] : 0;
}

/* Checks that every entry pointing at a table below pa carries, in bits 52-61, the
 * number of present entries of that table (the counts paging/ keeps for unmap). */
static void check_counts(const fx *f, uint64_t pa, unsigned level)
{
	const uint64_t *t = pg_table(&f->s, pg_pa(pa));
	for (unsigned i = 0; level > 1 && i < 512; i++) {
		uint64_t e = t[i];
		if (!(e & B_P) || (level < 4 && (e & B_PS)) || !in_sim(f, e & B_ADDR))
			continue;
		const uint64_t *c = pg_table(&f->s, pg_pa(e & B_ADDR));
		uint64_t n = 0;
		for (unsigned j = 0; j < 512; j++)
			n += c[j] & B_P;
		if (((e >> 52) & 0x3ff) != n)
			test_fail(__FILE__, __LINE__, "level %u entry %u: count %" PRIu64
				  ", table has %" PRIu64 " present", level, i, (e >> 52) & 0x3ff, n);
		check_counts(f, e & B_ADDR, level - 1);
	}
}

/* Entries of the table holding va's entry at level that are not zero. */
static unsigned nonzero(const fx *f, uint64_t va, unsigned level)
{
	uint64_t *t = table_at(f, va, level);
	unsigned n = 0;
	for (unsigned i = 0; t && i < 512; i++)
		n += t[i] != 0;
	return n;
}

static void map_ok(fx *f, uint64_t va, uint64_t pa, pg_size size, unsigned flags)
{
	CHECK_ERR(pg_map(&f->s, pg_va(va), pg_pa(pa), size, flags, NULL), PG_OK);
}

/* ---- snapshots: every table frame reachable from the PML4, copied */

typedef struct {
	uint64_t pa;
	uint64_t e[512];
} snap_table;

typedef struct {
	snap_table *t;
	size_t n, cap;
	uint64_t outstanding;
} snap;

static void snap_rec(const fx *f, uint64_t pa, unsigned level, snap *sn)
{
	if (sn->n == sn->cap) {
		sn->cap = sn->cap ? 2 * sn->cap : 64;
		sn->t = realloc(sn->t, sn->cap * sizeof(*sn->t));
		if (!sn->t)
			abort();
	}
	size_t me = sn->n++;
	sn->t[me].pa = pa;
	memcpy(sn->t[me].e, pg_table(&f->s, pg_pa(pa)), 4096);
	for (unsigned i = 0; level > 1 && i < 512; i++) {
		uint64_t e = sn->t[me].e[i];
		if ((e & B_P) && !(level < 4 && (e & B_PS)) && in_sim(f, e & B_ADDR))
			snap_rec(f, e & B_ADDR, level - 1, sn);
	}
}

static void snap_take(const fx *f, snap *sn)
{
	memset(sn, 0, sizeof(*sn));
	snap_rec(f, f->s.root.pa, lv, sn);
	sn->outstanding = sim_outstanding(&f->ram);
}

static bool snap_same(const snap *a, const snap *b)
{
	if (a->n != b->n || a->outstanding != b->outstanding)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (a->t[i].pa != b->t[i].pa || memcmp(a->t[i].e, b->t[i].e, 4096))
			return false;
	return true;
}

static void snap_free(snap *sn) { free(sn->t); }

/* Runs call and checks it failed with want and left every table as it was. */
#define CHECK_UNCHANGED(f, call, want)						\
	do {									\
		snap snap_b_, snap_a_;						\
		snap_take((f), &snap_b_);					\
		(f)->nfl = 0;							\
		CHECK_ERR((call), (want));					\
		snap_take((f), &snap_a_);					\
		CHECK(snap_same(&snap_b_, &snap_a_));				\
		CHECK_EQ((f)->nfl, 0);						\
		snap_free(&snap_b_);						\
		snap_free(&snap_a_);						\
	} while (0)

/* ---- walks collected */

typedef struct {
	pg_range r[64];
	unsigned n, stop_after;
} runs;

static bool collect(void *ctx, const pg_range *r)
{
	runs *rs = ctx;
	if (rs->n < 64)
		rs->r[rs->n] = *r;
	rs->n++;
	return !rs->stop_after || rs->n < rs->stop_after;
}

static void check_run(const runs *rs, unsigned i, uint64_t va, uint64_t pa, uint64_t len,
		      pg_size size, unsigned flags)
{
	CHECK(i < rs->n);
	if (i >= rs->n)
		return;
	CHECK_EQ(rs->r[i].virt.va, va);
	CHECK_EQ(rs->r[i].phys.pa, pa);
	CHECK_EQ(rs->r[i].length, len);
	CHECK_EQ(rs->r[i].size, size);
	CHECK_EQ(rs->r[i].flags, flags);
}

/* ================================================================ space */

/* A new space has one PML4 frame, all of whose entries are zero although the frame
 * came dirty from the source. */
PT_TEST(init_gives_a_zeroed_pml4)
{
	fx f;
	fx_up(&f);
	CHECK_EQ(sim_outstanding(&f.ram), T(1));
	CHECK(in_sim(&f, f.s.root.pa));
	uint64_t *t = pg_table(&f.s, f.s.root);
	for (unsigned i = 0; i < 512; i++)
		CHECK_EQ(t[i], 0);
	fx_down(&f);
}

/* pg_space_init reports an empty frame source and keeps nothing. */
PT_TEST(init_without_frames_is_no_frames)
{
	simram ram;
	pg_space s;
	sim_init(&ram, 16 * MIB);
	ram.fail_after = 0;
	CHECK_ERR(pg_space_init(&s, sim_frames(&ram), sim_offset(&ram), true, true, 52, lv),
		  PG_ERR_NO_FRAMES);
	CHECK_EQ(sim_outstanding(&ram), 0);
	sim_destroy(&ram);
}

/* pg_count_tables counts the frames of each level reachable from the PML4. */
PT_TEST(count_tables_counts_each_level)
{
	fx f;
	fx_up(&f);
	map_ok(&f, va_of(3, 5, 7, 9), F4K, PG_4K, PG_W);
	map_ok(&f, va_of(3, 5, 8, 0), F4K, PG_4K, PG_W);  /* second PT, same PD */
	map_ok(&f, va_of(3, 6, 0, 0), F2M, PG_2M, PG_W);  /* second PD, no PT */
	map_ok(&f, va_of(300, 1, 0, 0), F1G, PG_1G, PG_W); /* second PDPT, no PD */
	uint64_t c[5];
	pg_count_tables(&f.s, c);
	CHECK_EQ(c[0], 2);
	CHECK_EQ(c[1], 2);
	CHECK_EQ(c[2], 2);
	CHECK_EQ(c[3], lv == 5 ? 2 : 1); /* under a PML5 the halves have a PML4 each */
	CHECK_EQ(c[4], lv == 5);
	CHECK_EQ(sim_outstanding(&f.ram), lv == 5 ? 9 : 7);
	fx_down(&f);
}

/* pg_space_destroy gives back every table frame of both halves, PML4 included. */
PT_TEST(destroy_gives_back_every_table)
{
	fx f;
	fx_up(&f);
	for (unsigned i = 0; i < 8; i++) {
		map_ok(&f, va_of(i, i, i, i), F4K, PG_4K, PG_W);
		map_ok(&f, va_of(256 + i, i, i, i), F4K, PG_4K, PG_W);
		map_ok(&f, va_of(100 + i, 3, 4, 0), F2M, PG_2M, 0);
	}
	CHECK_ERR(pg_map_range(&f.s, pg_va(va_of(511, 510, 0, 0)), pg_pa(F1G), 2 * GIB, PG_W, PG_1G),
		  PG_OK);
	CHECK(sim_outstanding(&f.ram) > 40);
	pg_space_destroy(&f.s);
	CHECK_EQ(sim_outstanding(&f.ram), T(0));
	sim_destroy(&f.ram);
}

/* ================================================================ translate */

/* A 4 KiB translation gives phys + offset, size, flags, four levels with their
 * indices and exactly the raw entries in the tables. */
PT_TEST(translate_4k_reports_phys_size_flags_and_walk)
{
	fx f;
	fx_up(&f);
	uint64_t va = va_of(3, 5, 7, 9);
	map_ok(&f, va, F4K, PG_4K, PG_W | PG_X | PG_G);
	pg_translation t;
	CHECK_ERR(pg_translate(&f.s, pg_va(va + 0x123), &t), PG_OK);
	CHECK_EQ(t.phys.pa, F4K + 0x123);
	CHECK_EQ(t.size, PG_4K);
	CHECK_EQ(t.flags, PG_W | PG_X | PG_G | PG_CACHE_WB);
	CHECK_EQ(t.levels, lv);
	unsigned want_idx[5] = { 0, 3, 5, 7, 9 }; /* the PML5 index is 0 in the lower half */
	for (unsigned level = lv; level >= 1; level--) {
		CHECK_EQ(t.walk[wi(level)].index, want_idx[5 - level]);
		CHECK_EQ(t.walk[wi(level)].entry, ent(&f, va, level));
	}
	CHECK_EQ(t.walk[wi(1)].entry, F4K | B_P | B_W | B_G);
	fx_down(&f);
}

/* A 2 MiB translation stops at level 2 and keeps the 21-bit offset. */
PT_TEST(translate_2m_reports_three_levels)
{
	fx f;
	fx_up(&f);
	uint64_t va = va_of(3, 5, 8, 0);
	map_ok(&f, va, F2M, PG_2M, PG_U);
	pg_translation t;
	CHECK_ERR(pg_translate(&f.s, pg_va(va + 0x1fedcb), &t), PG_OK);
	CHECK_EQ(t.phys.pa, F2M + 0x1fedcb);
	CHECK_EQ(t.size, PG_2M);
	CHECK_EQ(t.flags, PG_U);
	CHECK_EQ(t.levels, lv - 1);
	CHECK_EQ(t.walk[wi(2)].index, 8);
	CHECK_EQ(t.walk[wi(2)].entry, F2M | B_P | B_U | B_PS | B_XD);
	fx_down(&f);
}

/* A 1 GiB translation stops at level 3 and keeps the 30-bit offset. */
PT_TEST(translate_1g_reports_two_levels)
{
	fx f;
	fx_up(&f);
	uint64_t va = va_of(3, 6, 0, 0);
	map_ok(&f, va, F1G, PG_1G, PG_W | PG_X);
	pg_translation t;
	CHECK_ERR(pg_translate(&f.s, pg_va(va + 0x3ffff123), &t), PG_OK);
	CHECK_EQ(t.phys.pa, F1G + 0x3ffff123);
	CHECK_EQ(t.size, PG_1G);
	CHECK_EQ(t.flags, PG_W | PG_X);
	CHECK_EQ(t.levels, lv - 2);
	CHECK_EQ(t.walk[wi(4)].index, 3);
	CHECK_EQ(t.walk[wi(3)].index, 6);
	CHECK_EQ(t.walk[wi(3)].entry, F1G | B_P | B_W | B_PS);
	fx_down(&f);
}

/* Writable is reported only when every level's entry allows writes. */
PT_TEST(translate_writable_only_if_every_level_allows)
{
	fx f;
	fx_up(&f);
	uint64_t va = va_of(3, 5, 7, 9);
	map_ok(&f, va, F4K, PG_4K, PG_W | PG_U | PG_X);
	pg_translation t;
	for (unsigned level = 4; level >= 2; level--) {
		uint64_t *e = &table_at(&f, va, level)[idx(va, level)];
		*e &= ~B_W;
		CHECK_ERR(pg_translate(&f.s, pg_va(va), &t), PG_OK);
		CHECK_EQ(t.flags, PG_U | PG_X);
		*e |= B_W;
	}
	CHECK_ERR(pg_translate(&f.s, pg_va(va), &t), PG_OK);
	CHECK_EQ(t.flags, PG_W | PG_U | PG_X);
	fx_down(&f);
}

/* User-accessible is reported only when every level's entry allows user access. */
PT_TEST(translate_user_only_if_every_level_allows)
{
	fx f;
	fx_up(&f);
	uint64_t va = va_of(3, 5, 8, 0);
	map_ok(&f, va, F2M, PG_2M, PG_W | PG_U | PG_X);
	pg_translation t;
	for (unsigned level = 4; level >= 3; level--) {
		uint64_t *e = &table_at(&f, va, level)[idx(va, level)];
		*e &= ~B_U;
		CHECK_ERR(pg_translate(&f.s, pg_va(va), &t), PG_OK);
		CHECK_EQ(t.flags, PG_W | PG_X);
		*e |= B_U;
	}
	fx_down(&f);
}

/* Execute is withdrawn when any level sets XD. */
PT_TEST(translate_nx_if_any_level_sets_xd)
{
	fx f;
	fx_up(&f);
	uint64_t va = va_of(3, 5, 7, 9);
	map_ok(&f, va, F4K, PG_4K, PG_W | PG_X);
	pg_translation t;
	for (unsigned level = 4; level >= 2; level--) {
		uint64_t *e = &table_at(&f, va, level)[idx(va, level)];
		*e |= B_XD;
		CHECK_ERR(pg_translate(&f.s, pg_va(va), &t), PG_OK);
		CHECK_EQ(t.flags, PG_W);
		*e &= ~B_XD;
	}
	fx_down(&f);
}

/* Without NX every mapping is executable and no entry carries XD. */
PT_TEST(translate_without_nx_is_always_executable)
{
	fx f;
	fx_up_with(&f, false, true, 52);
	uint64_t va = va_of(3, 5, 7, 9);
	map_ok(&f, va, F4K, PG_4K, PG_W);
	pg_translation t;
	CHECK_ERR(pg_translate(&f.s, pg_va(va), &t), PG_OK);
	CHECK_EQ(t.flags, PG_W | PG_X);
	CHECK_EQ(ent(&f, va, 1), F4K | B_P | B_W);
	fx_down(&f);
}

/* Not mapped names the first level whose entry is empty and fills the walk so far. */
PT_TEST(translate_not_mapped_reports_stop_level)
{
	fx f;
	fx_up(&f);
	pg_translation t;
	CHECK_ERR(pg_translate(&f.s, pg_va(va_of(3, 5, 7, 9)), &t), PG_ERR_NOT_MAPPED);
	CHECK_EQ(t.stop_level, lv);
	CHECK_EQ(t.levels, 1);
	CHECK_EQ(t.walk[0].index, lv == 4 ? 3 : 0);
	CHECK_EQ(t.walk[0].entry, 0);
	map_ok(&f, va_of(3, 5, 7, 9), F4K, PG_4K, PG_W);
	struct { uint64_t va; unsigned stop; } cases[] = {
		{ va_of(4, 5, 7, 9), 4 },
		{ va_of(3, 6, 7, 9), 3 },
		{ va_of(3, 5, 8, 9), 2 },
		{ va_of(3, 5, 7, 10), 1 },
	};
	for (unsigned i = 0; i < 4; i++) {
		memset(&t, 0, sizeof(t));
		CHECK_ERR(pg_translate(&f.s, pg_va(cases[i].va), &t), PG_ERR_NOT_MAPPED);
		CHECK_EQ(t.stop_level, cases[i].stop);
		CHECK_EQ(t.levels, lv + 1 - cases[i].stop);
		for (unsigned l = 0; l < t.levels && l < lv; l++) {
			CHECK_EQ(t.walk[l].index, idx(cases[i].va, lv - l));
			CHECK_EQ(t.walk[l].entry, ent(&f, cases[i].va, lv - l));
		}
	}
	fx_down(&f);
}

/* Addresses whose upper bits do not copy bit 47 (bit 56 with 5 levels) are refused. */
PT_TEST(translate_non_canonical_is_refused)
{
	fx f;
	fx_up(&f);
	pg_translation t;
	CHECK_ERR(pg_translate(&f.s, pg_va(hole_lo()), &t), PG_ERR_NOT_CANONICAL);
	CHECK_ERR(pg_translate(&f.s, pg_va(hole_hi()), &t), PG_ERR_NOT_CANONICAL);
	CHECK_ERR(pg_translate(&f.s, pg_va(hole_lo() << 1), &t), PG_ERR_NOT_CANONICAL);
	CHECK_ERR(pg_translate(&f.s, pg_va(hole_lo() - 1), &t), PG_ERR_NOT_MAPPED);
	CHECK_ERR(pg_translate(&f.s, pg_va(hole_hi() + 1), &t), PG_ERR_NOT_MAPPED);
	fx_down(&f);
}

/* The hole's edge addresses share their top-table index with mapped canonical pages
 * (2^47 with the first upper-half page, slot 256; 2^47 below the upper half with the
 * last lower-half page, slot 255; 2^56 and slot 256/255 of the PML5 likewise): translate
 * and map still refuse them, so the canonical test cannot lean on an empty slot. */
PT_TEST(hole_edges_are_refused_where_their_top_slot_is_mapped)
{
	fx f;
	fx_up(&f);
	uint64_t first_hi = hole_hi() + 1, last_lo = hole_lo() - 4096;
	uint64_t in_lo = hole_lo(), in_hi = hole_hi() & ~4095ull; /* slots 256 and 255 */
	map_ok(&f, first_hi, F4K, PG_4K, PG_W);
	map_ok(&f, last_lo, F4K + 4096, PG_4K, PG_W);
	pg_mapping m;
	pg_translation t;
	CHECK_ERR(pg_translate_fast(&f.s, pg_va(first_hi), &m), PG_OK);
	CHECK_ERR(pg_translate_fast(&f.s, pg_va(last_lo), &m), PG_OK);
	CHECK_ERR(pg_translate_fast(&f.s, pg_va(in_lo), &m), PG_ERR_NOT_CANONICAL);
	CHECK_ERR(pg_translate_fast(&f.s, pg_va(in_hi), &m), PG_ERR_NOT_CANONICAL);
	CHECK_ERR(pg_translate(&f.s, pg_va(in_lo), &t), PG_ERR_NOT_CANONICAL);
	CHECK_ERR(pg_translate(&f.s, pg_va(in_hi), &t), PG_ERR_NOT_CANONICAL);
	for (unsigned size = PG_4K; size <= PG_1G; size++) {
		uint64_t span = pg_size_bytes((pg_size)size);
		CHECK_ERR(pg_map(&f.s, pg_va(in_lo), pg_pa(0), (pg_size)size, PG_W, NULL),
			  PG_ERR_NOT_CANONICAL);
		CHECK_ERR(pg_map(&f.s, pg_va(hole_hi() + 1 - span - span), pg_pa(0), (pg_size)size,
				 PG_W, NULL), PG_ERR_NOT_CANONICAL);
	}
	fx_down(&f);
}

/* The canonical edges follow the width: 2^47 is a hole address with 4 levels and an
 * ordinary one with 5 (PML5 entry 0, PML4 entry 256); 2^56 is a hole address in both. Every operation
 * that takes an address agrees, and map/translate/unmap work at the 5-level edges. */
PT_TEST(canonical_edges_follow_the_width)
{
	fx f;
	fx_up(&f);
	pg_translation t;
	uint64_t e47 = 1ull << 47, e56 = 1ull << 56, top = 0ull - 4096;
	pg_err want47 = lv == 4 ? PG_ERR_NOT_CANONICAL : PG_OK;
	CHECK_EQ(pg_space_canonical(&f.s, e47), lv == 5);
	CHECK_EQ(pg_space_canonical(&f.s, e47 - 1), 1);
	CHECK_EQ(pg_space_canonical(&f.s, e56), 0);
	CHECK_EQ(pg_space_canonical(&f.s, e56 - 1), lv == 5);
	CHECK_EQ(pg_space_canonical(&f.s, ~0ull << 56), lv == 5);
	CHECK_EQ(pg_space_canonical(&f.s, (~0ull << 56) - 1), 0);
	CHECK_EQ(pg_space_canonical(&f.s, ~0ull << 47), 1);
	CHECK_UNCHANGED(&f, pg_map(&f.s, pg_va(e56), pg_pa(F4K), PG_4K, PG_W, NULL),
			PG_ERR_NOT_CANONICAL);
	CHECK_UNCHANGED(&f, pg_map_range(&f.s, pg_va(e56 - 4096), pg_pa(F4K), 8192, PG_W, PG_4K),
			PG_ERR_NOT_CANONICAL);
	CHECK_UNCHANGED(&f, pg_unmap(&f.s, pg_va(e56), NULL, NULL), PG_ERR_NOT_CANONICAL);
	CHECK_UNCHANGED(&f, pg_unmap_range(&f.s, pg_va(e56), 4096, NULL), PG_ERR_NOT_CANONICAL);
	CHECK_UNCHANGED(&f, pg_protect(&f.s, pg_va(e56), 4096, 0), PG_ERR_NOT_CANONICAL);
	CHECK_UNCHANGED(&f, pg_split(&f.s, pg_va(e56)), PG_ERR_NOT_CANONICAL);
	CHECK_ERR(pg_translate(&f.s, pg_va(e56), &t), PG_ERR_NOT_CANONICAL);
	/* A range from below the hole into it, and one across the whole hole. */
	CHECK_UNCHANGED(&f, pg_unmap_range(&f.s, pg_va(hole_lo() - 4096), 8192, NULL),
			PG_ERR_NOT_CANONICAL);
	CHECK_UNCHANGED(&f, pg_protect(&f.s, pg_va(hole_lo() - 4096), 0 - (hole_lo() - 4096), 0),
			PG_ERR_NOT_CANONICAL);
	if (lv == 4) {
		CHECK_UNCHANGED(&f, pg_map(&f.s, pg_va(e47), pg_pa(F4K), PG_4K, PG_W, NULL),
				PG_ERR_NOT_CANONICAL);
		CHECK_ERR(pg_translate(&f.s, pg_va(e47), &t), PG_ERR_NOT_CANONICAL);
	}
	CHECK_ERR(pg_map(&f.s, pg_va(e47 - 4096), pg_pa(F4K), PG_4K, PG_W, NULL), PG_OK);
	CHECK_ERR(pg_map(&f.s, pg_va(top), pg_pa(F4K + 4096), PG_4K, PG_W, NULL), PG_OK);
	if (lv == 5) {
		CHECK_ERR(pg_map(&f.s, pg_va(e47), pg_pa(F4K + 8192), PG_4K, PG_W, NULL), want47);
		CHECK_ERR(pg_map(&f.s, pg_va(e56 - 4096), pg_pa(F4K + 12288), PG_4K, PG_W, NULL),
			  PG_OK);
		CHECK_ERR(pg_map(&f.s, pg_va(~0ull << 56), pg_pa(F4K + 16384), PG_4K, PG_W, NULL),
			  PG_OK);
		CHECK_ERR(pg_translate(&f.s, pg_va(e47 + 5), &t), PG_OK);
		CHECK_EQ(t.phys.pa, F4K + 8192 + 5);
		CHECK_EQ(t.walk[0].index, 0);
		CHECK_EQ(t.walk[1].index, 256);
		CHECK_ERR(pg_translate(&f.s, pg_va(e56 - 1), &t), PG_OK);
		CHECK_EQ(t.phys.pa, F4K + 12288 + 4095);
		CHECK_EQ(t.walk[0].index, 255);
		CHECK_ERR(pg_translate(&f.s, pg_va(~0ull << 56), &t), PG_OK);
		CHECK_EQ(t.walk[0].index, 256);
		CHECK_EQ(t.levels, 5);
		CHECK_ERR(pg_unmap(&f.s, pg_va(e47), NULL, NULL), PG_OK);
		CHECK_ERR(pg_unmap(&f.s, pg_va(e56 - 4096), NULL, NULL), PG_OK);
		CHECK_ERR(pg_unmap(&f.s, pg_va(~0ull << 56), NULL, NULL), PG_OK);
	}
	CHECK_ERR(pg_translate(&f.s, pg_va(top + 9), &t), PG_OK);
	CHECK_EQ(t.phys.pa, F4K + 4096 + 9);
	CHECK_EQ(t.walk[0].index, 511);
	CHECK_EQ(t.levels, lv);
	fx_down(&f);
}

/* Under a PML5, unmapping the last page below a PML4 gives that PML4 back too, and the
 * PML5 entry becomes 0; the PML5 itself stays. With 4 levels the PML4 stays. */
PT_TEST(unmap_gives_back_the_pml4_under_a_pml5)
{
	fx f;
	fx_up(&f);
	uint64_t va = va_of(7, 1, 2, 3), other = va_of(300, 1, 2, 3);
	map_ok(&f, va, F4K, PG_4K, PG_W);
	map_ok(&f, other, F4K, PG_4K, PG_W);
	uint64_t c[5];
	pg_count_tables(&f.s, c);
	CHECK_EQ(c[4], lv == 5);
	CHECK_EQ(c[3], lv == 5 ? 2 : 1);
	CHECK_EQ(sim_outstanding(&f.ram), lv == 5 ? 9 : 7);
	CHECK_ERR(pg_unmap(&f.s, pg_va(va), NULL, NULL), PG_OK);
	pg_count_tables(&f.s, c);
	CHECK_EQ(c[3], 1);
	CHECK_EQ(c[2], 1);
	CHECK_EQ(sim_outstanding(&f.ram), lv == 5 ? 5 : 4);
	CHECK_EQ(pg_table(&f.s, f.s.root)[0], 0);
	CHECK(pg_table(&f.s, f.s.root)[lv == 5 ? 511 : 300] & B_P);
	CHECK_ERR(pg_unmap_range(&f.s, pg_va(other), 4096, NULL), PG_OK);
	pg_count_tables(&f.s, c);
	CHECK_EQ(c[lv - 1], 1);
	CHECK_EQ(c[0] + c[1] + c[2] + c[3] + c[4], 1);
	CHECK_EQ(sim_outstanding(&f.ram), T(1));
	for (unsigned i = 0; i < 512; i++)
		CHECK_EQ(pg_table(&f.s, f.s.root)[i], 0);
	fx_down(&f);
}

/* Upper-half addresses use PML4 entries 256..511. */
PT_TEST(translate_upper_half_indices)
{
	fx f;
	fx_up(&f);
	uint64_t va = 0xffffffff80000000ull;
	map_ok(&f, va, F4K, PG_4K, PG_G);
	pg_translation t;
	CHECK_ERR(pg_translate(&f.s, pg_va(va + 7), &t), PG_OK);
	CHECK_EQ(t.phys.pa, F4K + 7);
	if (lv == 5)
		CHECK_EQ(t.walk[0].index, 511);
	CHECK_EQ(t.walk[wi(4)].index, 511);
	CHECK_EQ(t.walk[wi(3)].index, 510);
	CHECK_EQ(t.walk[wi(2)].index, 0);
	CHECK_EQ(t.walk[wi(1)].index, 0);
	CHECK(pg_table(&f.s, f.s.root)[511] & B_P);
	fx_down(&f);
}

/* ================================================================ map */

/* A 4 KiB map into an empty space builds PDPT, PD and PT whose only entries are the
 * path (P W U, table address) and the leaf; every other entry of the dirty frames is 0. */
PT_TEST(map_4k_writes_entries_level_by_level)
{
	fx f;
	fx_up(&f);
	uint64_t va = va_of(3, 5, 7, 9);
	map_ok(&f, va, F4K, PG_4K, PG_W);
	uint64_t l4 = ent(&f, va, 4), l3 = ent(&f, va, 3), l2 = ent(&f, va, 2), l1 = ent(&f, va, 1);
	CHECK_EQ(l4 & ~B_ADDR, B_TABLE | B_COUNT(1));
	CHECK_EQ(l3 & ~B_ADDR, B_TABLE | B_COUNT(1));
	CHECK_EQ(l2 & ~B_ADDR, B_TABLE | B_COUNT(1));
	CHECK(in_sim(&f, l4 & B_ADDR) && in_sim(&f, l3 & B_ADDR) && in_sim(&f, l2 & B_ADDR));
	CHECK((l4 & B_ADDR) != (l3 & B_ADDR) && (l3 & B_ADDR) != (l2 & B_ADDR));
	CHECK_EQ(l1, F4K | B_P | B_W | B_XD);
	for (unsigned level = 4; level >= 1; level--)
		CHECK_EQ(nonzero(&f, va, level), 1);
	CHECK_EQ(sim_outstanding(&f.ram), T(4));
	fx_down(&f);
}

/* A 2 MiB map writes a PS leaf into the PD and builds no PT. */
PT_TEST(map_2m_writes_ps_leaf_at_level_2)
{
	fx f;
	fx_up(&f);
	uint64_t va = va_of(3, 5, 8, 0);
	map_ok(&f, va, F2M, PG_2M, 0);
	CHECK_EQ(ent(&f, va, 4) & ~B_ADDR, B_TABLE | B_COUNT(1));
	CHECK_EQ(ent(&f, va, 3) & ~B_ADDR, B_TABLE | B_COUNT(1));
	CHECK_EQ(ent(&f, va, 2), F2M | B_P | B_PS | B_XD);
	CHECK_EQ(nonzero(&f, va, 2), 1);
	CHECK_EQ(nonzero(&f, va, 3), 1);
	CHECK_EQ(sim_outstanding(&f.ram), T(3));
	fx_down(&f);
}

/* A 1 GiB map writes a PS leaf into the PDPT and builds no PD. */
PT_TEST(map_1g_writes_ps_leaf_at_level_3)
{
	fx f;
	fx_up(&f);
	uint64_t va = va_of(3, 6, 0, 0);
	map_ok(&f, va, F1G, PG_1G, PG_U | PG_X);
	CHECK_EQ(ent(&f, va, 4) & ~B_ADDR, B_TABLE | B_COUNT(1));
	CHECK_EQ(ent(&f, va, 3), F1G | B_P | B_U | B_PS);
	CHECK_EQ(nonzero(&f, va, 3), 1);
	CHECK_EQ(sim_outstanding(&f.ram), T(2));
	fx_down(&f);
}

/* Each generic flag sets exactly its SDM bit: W bit 1, U bit 2, G bit 8, no X -> XD. */
PT_TEST(map_sets_each_flag_bit)
{
	fx f;
	fx_up(&f);
	struct { unsigned flags; uint64_t bits; } cases[] = {
		{ 0, B_XD },
		{ PG_X, 0 },
		{ PG_W | PG_X, B_W },
		{ PG_U | PG_X, B_U },
		{ PG_G | PG_X, B_G },
		{ PG_W | PG_U | PG_G, B_W | B_U | B_G | B_XD },
	};
	for (unsigned i = 0; i < 6; i++) {
		uint64_t va = va_of(3, 5, 7, i);
		map_ok(&f, va, F4K + i * 4096, PG_4K, cases[i].flags);
		CHECK_EQ(ent(&f, va, 1), (F4K + i * 4096) | B_P | cases[i].bits);
	}
	fx_down(&f);
}

/* Each cache mode selects a PAT entry (PWT, PCD, and PAT at bit 7 or 12) whose value in
 * pg_pat_value() is that memory type, on all page sizes, without touching the address. */
PT_TEST(map_cache_modes_select_matching_pat_entry)
{
	fx f;
	fx_up(&f);
	/* SDM memory type encodings: UC 0, WC 1, WT 4, WB 6 */
	struct { unsigned mode; uint64_t type; } cases[] = {
		{ PG_CACHE_WB, 6 }, { PG_CACHE_WT, 4 }, { PG_CACHE_UC, 0 }, { PG_CACHE_WC, 1 },
	};
	uint64_t pat = pg_pat_value();
	for (unsigned c = 0; c < 4; c++) {
		for (unsigned s = 0; s < PG_SIZE_COUNT; s++) {
			uint64_t va = va_of(10 + c, s, 0, 0);
			uint64_t pa = s == PG_4K ? F4K : s == PG_2M ? F2M : F1G;
			map_ok(&f, va, pa, (pg_size)s, cases[c].mode | PG_W);
			uint64_t e = ent(&f, va, pg_size_level((pg_size)s));
			uint64_t pat_bit = s == PG_4K ? B_PAT4K : B_PATH;
			unsigned i = (e & B_PWT ? 1 : 0) | (e & B_PCD ? 2 : 0) | (e & pat_bit ? 4 : 0);
			CHECK_EQ((pat >> (8 * i)) & 0xff, cases[c].type);
			pg_translation t;
			CHECK_ERR(pg_translate(&f.s, pg_va(va + 4095), &t), PG_OK);
			CHECK_EQ(t.phys.pa, pa + 4095);
			CHECK_EQ(t.flags, cases[c].mode | PG_W);
		}
	}
	fx_down(&f);
}

/* New intermediate tables are zeroed even when a partly built space is extended and
 * the frames come dirty (0xA5) from the source. */
PT_TEST(map_zeroes_new_tables_in_partly_built_space)
{
	fx f;
	fx_up(&f);
	map_ok(&f, va_of(3, 5, 7, 9), F4K, PG_4K, PG_W);
	uint64_t va = va_of(3, 9, 1, 2);
	map_ok(&f, va, F4K, PG_4K, PG_W);
	CHECK_EQ(nonzero(&f, va, 4), 1);
	CHECK_EQ(nonzero(&f, va, 3), 2);
	CHECK_EQ(nonzero(&f, va, 2), 1);
	CHECK_EQ(nonzero(&f, va, 1), 1);
	CHECK_ERR(pg_map_range(&f.s, pg_va(va_of(7, 0, 0, 3)), pg_pa(F4K), 3 * 4096, PG_W, PG_4K),
		  PG_OK);
	CHECK_EQ(nonzero(&f, va_of(7, 0, 0, 3), 1), 3);
	CHECK_EQ(nonzero(&f, va_of(7, 0, 0, 3), 2), 1);
	CHECK_EQ(nonzero(&f, va_of(7, 0, 0, 3), 3), 1);
	fx_down(&f);
}

/* Without NX no entry anywhere carries bit 63, whatever was mapped. */
PT_TEST(map_without_nx_never_sets_xd)
{
	fx f;
	fx_up_with(&f, false, true, 52);
	map_ok(&f, va_of(1, 1, 1, 1), F4K, PG_4K, 0);
	map_ok(&f, va_of(1, 1, 2, 0), F2M, PG_2M, PG_W);
	map_ok(&f, va_of(1, 2, 0, 0), F1G, PG_1G, PG_G);
	CHECK_ERR(pg_map_range(&f.s, pg_va(va_of(300, 0, 511, 510)), pg_pa(F1G - 8192),
			       GIB + 4 * MIB, 0, PG_1G), PG_OK);
	CHECK_ERR(pg_protect(&f.s, pg_va(va_of(1, 1, 1, 1)), 4096, PG_U), PG_OK);
	CHECK_ERR(pg_split(&f.s, pg_va(va_of(1, 2, 0, 0))), PG_OK);
	snap sn;
	snap_take(&f, &sn);
	CHECK(sn.n >= 8);
	for (size_t i = 0; i < sn.n; i++)
		for (unsigned j = 0; j < 512; j++)
			CHECK_EQ(sn.t[i].e[j] & B_XD, 0);
	snap_free(&sn);
	fx_down(&f);
}

/* A second 4 KiB page in the same PT reuses it and keeps its neighbour. */
PT_TEST(map_reuses_existing_tables)
{
	fx f;
	fx_up(&f);
	map_ok(&f, va_of(3, 5, 7, 9), F4K, PG_4K, PG_W);
	map_ok(&f, va_of(3, 5, 7, 10), F4K + 4096, PG_4K, 0);
	CHECK_EQ(sim_outstanding(&f.ram), T(4));
	CHECK_EQ(ent(&f, va_of(3, 5, 7, 9), 1), F4K | B_P | B_W | B_XD);
	CHECK_EQ(ent(&f, va_of(3, 5, 7, 10), 1), (F4K + 4096) | B_P | B_XD);
	fx_down(&f);
}

/* A page address outside the canonical halves is refused. */
PT_TEST(map_non_canonical_is_refused)
{
	fx f;
	fx_up(&f);
	CHECK_UNCHANGED(&f, pg_map(&f.s, pg_va(hole_lo()), pg_pa(F4K), PG_4K, 0, NULL),
			PG_ERR_NOT_CANONICAL);
	CHECK_UNCHANGED(&f, pg_map(&f.s, pg_va(hole_hi() & ~(2 * MIB - 1)), pg_pa(F2M), PG_2M, 0, NULL),
			PG_ERR_NOT_CANONICAL);
	fx_down(&f);
}

/* A page address not aligned to the page size is refused. */
PT_TEST(map_unaligned_page_is_refused)
{
	fx f;
	fx_up(&f);
	CHECK_UNCHANGED(&f, pg_map(&f.s, pg_va(va_of(3, 5, 7, 9) + 0x800), pg_pa(F4K), PG_4K, 0,
				   NULL), PG_ERR_NOT_ALIGNED);
	CHECK_UNCHANGED(&f, pg_map(&f.s, pg_va(va_of(3, 5, 7, 9)), pg_pa(F2M), PG_2M, 0, NULL),
			PG_ERR_NOT_ALIGNED);
	CHECK_UNCHANGED(&f, pg_map(&f.s, pg_va(va_of(3, 5, 7, 0)), pg_pa(F1G), PG_1G, 0, NULL),
			PG_ERR_NOT_ALIGNED);
	fx_down(&f);
}

/* A frame not aligned to the page size is refused as not aligned. */
PT_TEST(map_unaligned_frame_is_refused)
{
	fx f;
	fx_up(&f);
	CHECK_UNCHANGED(&f, pg_map(&f.s, pg_va(va_of(3, 5, 7, 9)), pg_pa(F4K + 0x10), PG_4K, 0,
				   NULL), PG_ERR_NOT_ALIGNED);
	CHECK_UNCHANGED(&f, pg_map(&f.s, pg_va(va_of(3, 5, 8, 0)), pg_pa(F2M + 4096), PG_2M, 0,
				   NULL), PG_ERR_NOT_ALIGNED);
	CHECK_UNCHANGED(&f, pg_map(&f.s, pg_va(va_of(3, 6, 0, 0)), pg_pa(F1G + 2 * MIB), PG_1G, 0,
				   NULL), PG_ERR_NOT_ALIGNED);
	fx_down(&f);
}

/* Mapping over a leaf of the same size reports its frame and leaves it alone. */
PT_TEST(map_over_same_size_leaf_reports_existing_frame)
{
	fx f;
	fx_up(&f);
	uint64_t frames[3] = { F4K, F2M, F1G };
	for (unsigned s = 0; s < PG_SIZE_COUNT; s++) {
		uint64_t va = va_of(20 + s, 0, 0, 0);
		map_ok(&f, va, frames[s], (pg_size)s, PG_W);
		pg_paddr ex = pg_pa(0);
		CHECK_UNCHANGED(&f, pg_map(&f.s, pg_va(va), pg_pa(frames[s] + 2 * GIB), (pg_size)s,
					   PG_U, &ex), PG_ERR_ALREADY_MAPPED);
		CHECK_EQ(ex.pa, frames[s]);
	}
	fx_down(&f);
}

/* A huge page over a table that holds smaller leaves is already mapped, naming one of
 * the frames in the way. */
PT_TEST(map_huge_over_smaller_leaves_is_already_mapped)
{
	fx f;
	fx_up(&f);
	map_ok(&f, va_of(3, 5, 7, 5), F4K, PG_4K, PG_W);
	pg_paddr ex = pg_pa(0);
	CHECK_UNCHANGED(&f, pg_map(&f.s, pg_va(va_of(3, 5, 7, 0)), pg_pa(F2M), PG_2M, 0, &ex),
			PG_ERR_ALREADY_MAPPED);
	CHECK_EQ(ex.pa, F4K);
	ex = pg_pa(0);
	CHECK_UNCHANGED(&f, pg_map(&f.s, pg_va(va_of(3, 5, 0, 0)), pg_pa(F1G), PG_1G, 0, &ex),
			PG_ERR_ALREADY_MAPPED);
	CHECK_EQ(ex.pa, F4K);
	fx_down(&f);
}

/* A smaller page inside a huge leaf is refused because the huge page is in the way. */
PT_TEST(map_inside_huge_page_is_huge_page)
{
	fx f;
	fx_up(&f);
	map_ok(&f, va_of(3, 5, 7, 0), F2M, PG_2M, PG_W);
	map_ok(&f, va_of(3, 6, 0, 0), F1G, PG_1G, PG_W);
	CHECK_UNCHANGED(&f, pg_map(&f.s, pg_va(va_of(3, 5, 7, 3)), pg_pa(F4K), PG_4K, 0, NULL),
			PG_ERR_HUGE_PAGE);
	CHECK_UNCHANGED(&f, pg_map(&f.s, pg_va(va_of(3, 6, 4, 3)), pg_pa(F4K), PG_4K, 0, NULL),
			PG_ERR_HUGE_PAGE);
	CHECK_UNCHANGED(&f, pg_map(&f.s, pg_va(va_of(3, 6, 4, 0)), pg_pa(F2M), PG_2M, 0, NULL),
			PG_ERR_HUGE_PAGE);
	fx_down(&f);
}

/* An empty frame source makes a map that needs tables fail and keep nothing. */
PT_TEST(map_out_of_frames_is_no_frames)
{
	fx f;
	fx_up(&f);
	f.ram.fail_after = 0;
	CHECK_UNCHANGED(&f, pg_map(&f.s, pg_va(va_of(3, 5, 7, 9)), pg_pa(F4K), PG_4K, 0, NULL),
			PG_ERR_NO_FRAMES);
	CHECK_EQ(sim_outstanding(&f.ram), T(1));
	/* a map that needs no new table still works */
	f.ram.fail_after = -1;
	map_ok(&f, va_of(3, 5, 7, 9), F4K, PG_4K, 0);
	f.ram.fail_after = 0;
	map_ok(&f, va_of(3, 5, 7, 10), F4K, PG_4K, 0);
	f.ram.fail_after = -1;
	fx_down(&f);
}

/* Without 1 GiB support a 1 GiB map, or a map_range allowed 1 GiB pages, is refused. */
PT_TEST(map_1g_unsupported_without_has_1g)
{
	fx f;
	fx_up_with(&f, true, false, 52);
	CHECK_UNCHANGED(&f, pg_map(&f.s, pg_va(va_of(3, 6, 0, 0)), pg_pa(F1G), PG_1G, 0, NULL),
			PG_ERR_UNSUPPORTED);
	CHECK_UNCHANGED(&f, pg_map_range(&f.s, pg_va(va_of(3, 6, 0, 0)), pg_pa(F1G), GIB, 0, PG_1G),
			PG_ERR_UNSUPPORTED);
	CHECK_ERR(pg_map_range(&f.s, pg_va(va_of(3, 6, 0, 0)), pg_pa(F1G), GIB, 0, PG_2M), PG_OK);
	fx_down(&f);
}

/* A frame at or beyond 2^phys_bits is a bad frame; the last frame below it is fine. */
PT_TEST(map_frame_beyond_phys_bits_is_bad_frame)
{
	fx f;
	fx_up(&f);
	CHECK_UNCHANGED(&f, pg_map(&f.s, pg_va(va_of(3, 5, 7, 9)), pg_pa(1ull << 52), PG_4K, 0,
				   NULL), PG_ERR_BAD_FRAME);
	map_ok(&f, va_of(3, 5, 7, 9), (1ull << 52) - 4096, PG_4K, 0);
	CHECK_EQ(ent(&f, va_of(3, 5, 7, 9), 1), ((1ull << 52) - 4096) | B_P | B_XD);
	fx_down(&f);
	fx_up_with(&f, true, true, 40);
	CHECK_UNCHANGED(&f, pg_map(&f.s, pg_va(va_of(3, 5, 8, 0)), pg_pa(1ull << 40), PG_2M, 0,
				   NULL), PG_ERR_BAD_FRAME);
	CHECK_UNCHANGED(&f, pg_map_range(&f.s, pg_va(va_of(3, 5, 8, 0)),
					 pg_pa((1ull << 40) - 4096), 8192, 0, PG_4K),
			PG_ERR_BAD_FRAME);
	map_ok(&f, va_of(3, 5, 8, 0), (1ull << 40) - 2 * MIB, PG_2M, 0);
	fx_down(&f);
}

/* Unknown flag bits and unknown page sizes are bad arguments. */
PT_TEST(map_bad_flags_or_size_is_bad_arg)
{
	fx f;
	fx_up(&f);
	CHECK_UNCHANGED(&f, pg_map(&f.s, pg_va(va_of(3, 5, 7, 9)), pg_pa(F4K), PG_4K, 1u << 6,
				   NULL), PG_ERR_BAD_ARG);
	CHECK_UNCHANGED(&f, pg_map(&f.s, pg_va(va_of(3, 5, 7, 9)), pg_pa(F4K), PG_4K, 1u << 31,
				   NULL), PG_ERR_BAD_ARG);
	CHECK_UNCHANGED(&f, pg_map(&f.s, pg_va(va_of(3, 5, 7, 9)), pg_pa(F4K), (pg_size)3, 0, NULL),
			PG_ERR_BAD_ARG);
	fx_down(&f);
}

/* Mapping into empty slots never asks for a TLB flush. */
PT_TEST(map_fresh_does_not_flush)
{
	fx f;
	fx_up(&f);
	map_ok(&f, va_of(3, 5, 7, 9), F4K, PG_4K, 0);
	map_ok(&f, va_of(3, 5, 8, 0), F2M, PG_2M, 0);
	map_ok(&f, va_of(3, 6, 0, 0), F1G, PG_1G, 0);
	CHECK_ERR(pg_map_range(&f.s, pg_va(va_of(4, 0, 0, 1)), pg_pa(F4K), 5 * MIB, 0, PG_2M),
		  PG_OK);
	CHECK_EQ(f.nfl, 0);
	fx_down(&f);
}

/* ================================================================ map_range */

/* map_range of 12K + 2M + 1G + 2M + 8K at matching alignment uses 4K head pages, a 2M
 * page, a 1G page, a 2M page and 4K tail pages, as the raw entries show. */
PT_TEST(map_range_picks_largest_page_per_alignment)
{
	fx f;
	fx_up(&f);
	uint64_t va = va_of(3, 4, 510, 509), pa = 7 * GIB - 2 * MIB - 12 * KIB;
	uint64_t len = 12 * KIB + 2 * MIB + GIB + 2 * MIB + 8 * KIB;
	CHECK_ERR(pg_map_range(&f.s, pg_va(va), pg_pa(pa), len, PG_W, PG_1G), PG_OK);
	for (unsigned i = 0; i < 3; i++)
		CHECK_EQ(ent(&f, va_of(3, 4, 510, 509 + i), 1), (pa + i * 4096) | B_P | B_W | B_XD);
	CHECK_EQ(ent(&f, va_of(3, 4, 511, 0), 2), (7 * GIB - 2 * MIB) | B_P | B_W | B_PS | B_XD);
	CHECK_EQ(ent(&f, va_of(3, 5, 0, 0), 3), (7 * GIB) | B_P | B_W | B_PS | B_XD);
	CHECK_EQ(ent(&f, va_of(3, 6, 0, 0), 2), (8 * GIB) | B_P | B_W | B_PS | B_XD);
	CHECK_EQ(ent(&f, va_of(3, 6, 1, 0), 1), (8 * GIB + 2 * MIB) | B_P | B_W | B_XD);
	CHECK_EQ(ent(&f, va_of(3, 6, 1, 1), 1), (8 * GIB + 2 * MIB + 4096) | B_P | B_W | B_XD);
	CHECK_EQ(nonzero(&f, va_of(3, 6, 1, 0), 1), 2);
	CHECK_EQ(nonzero(&f, va_of(3, 4, 510, 0), 1), 3);
	/* PML4, PDPT, PD(3,4), PT(3,4,510), PD(3,6), PT(3,6,1) */
	CHECK_EQ(sim_outstanding(&f.ram), T(6));
	runs rs = { .n = 0 };
	CHECK_ERR(pg_walk(&f.s, pg_va(va), len, collect, &rs), PG_OK);
	CHECK_EQ(rs.n, 5);
	check_run(&rs, 0, va, pa, 12 * KIB, PG_4K, PG_W);
	check_run(&rs, 1, va + 12 * KIB, pa + 12 * KIB, 2 * MIB, PG_2M, PG_W);
	check_run(&rs, 2, va_of(3, 5, 0, 0), 7 * GIB, GIB, PG_1G, PG_W);
	check_run(&rs, 3, va_of(3, 6, 0, 0), 8 * GIB, 2 * MIB, PG_2M, PG_W);
	check_run(&rs, 4, va_of(3, 6, 1, 0), 8 * GIB + 2 * MIB, 8 * KIB, PG_4K, PG_W);
	fx_down(&f);
}

/* When virtual and physical addresses disagree modulo 2 MiB only 4 KiB pages fit. */
PT_TEST(map_range_incongruent_phys_uses_4k)
{
	fx f;
	fx_up(&f);
	uint64_t va = va_of(3, 5, 0, 0);
	CHECK_ERR(pg_map_range(&f.s, pg_va(va), pg_pa(GIB + 4096), 4 * MIB, 0, PG_1G), PG_OK);
	uint64_t c[5];
	pg_count_tables(&f.s, c);
	CHECK_EQ(c[0], 2);
	CHECK_EQ(ent(&f, va + 4 * MIB - 4096, 1), (GIB + 4 * MIB) | B_P | B_XD);
	fx_down(&f);
}

/* max_size caps the page size even where larger pages would fit. */
PT_TEST(map_range_respects_max_size)
{
	fx f;
	fx_up(&f);
	CHECK_ERR(pg_map_range(&f.s, pg_va(va_of(3, 5, 0, 0)), pg_pa(F1G), GIB, 0, PG_2M), PG_OK);
	CHECK_EQ(ent(&f, va_of(3, 5, 0, 0), 3) & B_PS, 0);
	CHECK_EQ(nonzero(&f, va_of(3, 5, 0, 0), 2), 512);
	CHECK_EQ(ent(&f, va_of(3, 5, 511, 0), 2), (F1G + GIB - 2 * MIB) | B_P | B_PS | B_XD);
	CHECK_ERR(pg_map_range(&f.s, pg_va(va_of(3, 6, 0, 0)), pg_pa(F1G), 4 * MIB, 0, PG_4K),
		  PG_OK);
	CHECK_EQ(nonzero(&f, va_of(3, 6, 1, 0), 1), 512);
	fx_down(&f);
}

/* A map_range whose last page is already mapped maps nothing at all. */
PT_TEST(map_range_conflict_at_end_changes_nothing)
{
	fx f;
	fx_up(&f);
	map_ok(&f, va_of(3, 7, 0, 3), F4K, PG_4K, 0);
	CHECK_UNCHANGED(&f, pg_map_range(&f.s, pg_va(va_of(3, 5, 510, 0)), pg_pa(F1G - 4 * MIB),
					 GIB + 4 * MIB + 4 * 4096, PG_W, PG_1G),
			PG_ERR_ALREADY_MAPPED);
	pg_translation t;
	CHECK_ERR(pg_translate(&f.s, pg_va(va_of(3, 5, 510, 0)), &t), PG_ERR_NOT_MAPPED);
	fx_down(&f);
}

/* A map_range of small pages that runs into a huge leaf is refused whole. */
PT_TEST(map_range_into_huge_page_changes_nothing)
{
	fx f;
	fx_up(&f);
	map_ok(&f, va_of(3, 5, 8, 0), F2M, PG_2M, 0);
	CHECK_UNCHANGED(&f, pg_map_range(&f.s, pg_va(va_of(3, 5, 7, 500)), pg_pa(F4K), 20 * 4096,
					 PG_W, PG_2M), PG_ERR_HUGE_PAGE);
	fx_down(&f);
}

/* Zero length, unaligned arguments, overflow, non-canonical ends, frames beyond the
 * CPU, unknown sizes and flags are refused before anything is touched. */
PT_TEST(map_range_argument_errors)
{
	fx f;
	fx_up(&f);
	uint64_t va = va_of(3, 5, 7, 0);
	CHECK_UNCHANGED(&f, pg_map_range(&f.s, pg_va(va), pg_pa(F4K), 0, 0, PG_4K), PG_ERR_BAD_ARG);
	CHECK_UNCHANGED(&f, pg_map_range(&f.s, pg_va(va + 1), pg_pa(F4K), 4096, 0, PG_4K),
			PG_ERR_NOT_ALIGNED);
	CHECK_UNCHANGED(&f, pg_map_range(&f.s, pg_va(va), pg_pa(F4K + 8), 4096, 0, PG_4K),
			PG_ERR_NOT_ALIGNED);
	CHECK_UNCHANGED(&f, pg_map_range(&f.s, pg_va(va), pg_pa(F4K), 4095, 0, PG_4K),
			PG_ERR_NOT_ALIGNED);
	CHECK_UNCHANGED(&f, pg_map_range(&f.s, pg_va(0xfffffffffffff000ull), pg_pa(F4K), 8192, 0,
					 PG_4K), PG_ERR_BAD_ARG);
	CHECK_UNCHANGED(&f, pg_map_range(&f.s, pg_va(hole_lo() - 4096), pg_pa(F4K), 8192, 0,
					 PG_4K), PG_ERR_NOT_CANONICAL);
	CHECK_UNCHANGED(&f, pg_map_range(&f.s, pg_va(hole_lo() - 4096), pg_pa(F4K),
					 hole_hi() + 1 - (hole_lo() - 4096) + 4096, 0,
					 PG_4K), PG_ERR_NOT_CANONICAL);
	CHECK_UNCHANGED(&f, pg_map_range(&f.s, pg_va(va), pg_pa((1ull << 52) - 4096), 8192, 0,
					 PG_4K), PG_ERR_BAD_FRAME);
	CHECK_UNCHANGED(&f, pg_map_range(&f.s, pg_va(va), pg_pa(F4K), 4096, 0, (pg_size)3),
			PG_ERR_BAD_ARG);
	CHECK_UNCHANGED(&f, pg_map_range(&f.s, pg_va(va), pg_pa(F4K), 4096, 1u << 7, PG_4K),
			PG_ERR_BAD_ARG);
	fx_down(&f);
}

/* A range that ends exactly at the top of the address space is valid. */
PT_TEST(map_range_up_to_top_of_address_space)
{
	fx f;
	fx_up(&f);
	CHECK_ERR(pg_map_range(&f.s, pg_va(0xffffffffffc00000ull), pg_pa(F2M), 4 * MIB, PG_W, PG_2M),
		  PG_OK);
	CHECK_EQ(ent(&f, 0xffffffffffe00000ull, 2), (F2M + 2 * MIB) | B_P | B_W | B_PS | B_XD);
	uint64_t n = 0;
	CHECK_ERR(pg_unmap_range(&f.s, pg_va(0xffffffffffc00000ull), 4 * MIB, &n), PG_OK);
	CHECK_EQ(n, 2);
	CHECK_EQ(sim_outstanding(&f.ram), T(1));
	fx_down(&f);
}

/* ================================================================ unmap */

/* unmap returns the frame and size of the leaf, clears its entry, and va stops
 * translating. */
PT_TEST(unmap_returns_frame_and_size)
{
	fx f;
	fx_up(&f);
	uint64_t vas[3] = { va_of(3, 5, 7, 9), va_of(3, 5, 8, 0), va_of(3, 6, 0, 0) };
	uint64_t frames[3] = { F4K, F2M, F1G };
	map_ok(&f, va_of(3, 5, 7, 10), F4K, PG_4K, 0); /* keeps the tables alive */
	for (unsigned s = 0; s < 3; s++)
		map_ok(&f, vas[s], frames[s], (pg_size)s, PG_W);
	for (unsigned s = 0; s < 3; s++) {
		pg_paddr fr = pg_pa(0);
		pg_size sz = PG_SIZE_COUNT;
		CHECK_ERR(pg_unmap(&f.s, pg_va(vas[s]), &fr, &sz), PG_OK);
		CHECK_EQ(fr.pa, frames[s]);
		CHECK_EQ(sz, s);
		CHECK_EQ(ent(&f, vas[s], pg_size_level((pg_size)s)), 0);
		pg_translation t;
		CHECK_ERR(pg_translate(&f.s, pg_va(vas[s]), &t), PG_ERR_NOT_MAPPED);
	}
	fx_down(&f);
}

/* Unmapping an address nothing maps is not mapped, also next to a mapped page. */
PT_TEST(unmap_not_mapped_is_refused)
{
	fx f;
	fx_up(&f);
	CHECK_UNCHANGED(&f, pg_unmap(&f.s, pg_va(va_of(3, 5, 7, 9)), NULL, NULL), PG_ERR_NOT_MAPPED);
	map_ok(&f, va_of(3, 5, 7, 9), F4K, PG_4K, 0);
	CHECK_UNCHANGED(&f, pg_unmap(&f.s, pg_va(va_of(3, 5, 7, 8)), NULL, NULL), PG_ERR_NOT_MAPPED);
	fx_down(&f);
}

/* Unmapping a page inside a huge leaf (not its start) is refused: the huge page is in
 * the way. */
PT_TEST(unmap_inside_huge_page_is_huge_page)
{
	fx f;
	fx_up(&f);
	map_ok(&f, va_of(3, 5, 8, 0), F2M, PG_2M, 0);
	map_ok(&f, va_of(3, 6, 0, 0), F1G, PG_1G, 0);
	CHECK_UNCHANGED(&f, pg_unmap(&f.s, pg_va(va_of(3, 5, 8, 1)), NULL, NULL), PG_ERR_HUGE_PAGE);
	CHECK_UNCHANGED(&f, pg_unmap(&f.s, pg_va(va_of(3, 6, 1, 0)), NULL, NULL), PG_ERR_HUGE_PAGE);
	fx_down(&f);
}

/* Non-canonical and unaligned pages are refused by unmap. */
PT_TEST(unmap_argument_errors)
{
	fx f;
	fx_up(&f);
	map_ok(&f, va_of(3, 5, 7, 9), F4K, PG_4K, 0);
	CHECK_UNCHANGED(&f, pg_unmap(&f.s, pg_va(hole_lo() | 1ull << 44), NULL, NULL),
			PG_ERR_NOT_CANONICAL);
	CHECK_UNCHANGED(&f, pg_unmap(&f.s, pg_va(va_of(3, 5, 7, 9) + 8), NULL, NULL),
			PG_ERR_NOT_ALIGNED);
	fx_down(&f);
}

/* Tables left empty by unmap go back to the frame source, bottom up. */
PT_TEST(unmap_gives_back_empty_tables)
{
	fx f;
	fx_up(&f);
	map_ok(&f, va_of(3, 5, 7, 9), F4K, PG_4K, 0);
	CHECK_EQ(sim_outstanding(&f.ram), T(4));
	CHECK_ERR(pg_unmap(&f.s, pg_va(va_of(3, 5, 7, 9)), NULL, NULL), PG_OK);
	CHECK_EQ(sim_outstanding(&f.ram), T(1));
	CHECK_EQ(pg_table(&f.s, f.s.root)[3], 0);
	map_ok(&f, va_of(3, 5, 8, 0), F2M, PG_2M, 0);
	map_ok(&f, va_of(3, 6, 0, 0), F1G, PG_1G, 0);
	CHECK_ERR(pg_unmap(&f.s, pg_va(va_of(3, 5, 8, 0)), NULL, NULL), PG_OK);
	CHECK_EQ(sim_outstanding(&f.ram), T(2)); /* PD gone, PDPT still holds the 1G leaf */
	CHECK_EQ(ent(&f, va_of(3, 5, 0, 0), 3), 0);
	CHECK_ERR(pg_unmap(&f.s, pg_va(va_of(3, 6, 0, 0)), NULL, NULL), PG_OK);
	CHECK_EQ(sim_outstanding(&f.ram), T(1));
	fx_down(&f);
}

/* unmap keeps tables that still hold other leaves. */
PT_TEST(unmap_keeps_tables_in_use)
{
	fx f;
	fx_up(&f);
	map_ok(&f, va_of(3, 5, 7, 9), F4K, PG_4K, 0);
	map_ok(&f, va_of(3, 5, 7, 10), F4K + 4096, PG_4K, 0);
	CHECK_ERR(pg_unmap(&f.s, pg_va(va_of(3, 5, 7, 9)), NULL, NULL), PG_OK);
	CHECK_EQ(sim_outstanding(&f.ram), T(4));
	CHECK_EQ(ent(&f, va_of(3, 5, 7, 10), 1), (F4K + 4096) | B_P | B_XD);
	fx_down(&f);
}

/* Without a free function empty tables stay linked and counted. */
PT_TEST(unmap_keeps_empty_tables_without_free)
{
	fx f;
	fx_up(&f);
	f.frames.free = NULL;
	map_ok(&f, va_of(3, 5, 7, 9), F4K, PG_4K, 0);
	CHECK_ERR(pg_unmap(&f.s, pg_va(va_of(3, 5, 7, 9)), NULL, NULL), PG_OK);
	uint64_t c[5];
	pg_count_tables(&f.s, c);
	CHECK(c[0] == 1 && c[1] == 1 && c[2] == 1 && c[3] == 1);
	CHECK_EQ(sim_outstanding(&f.ram), T(4));
	CHECK_ERR(pg_unmap_range(&f.s, pg_va(va_of(3, 0, 0, 0)), 4 * GIB, NULL), PG_OK);
	CHECK_EQ(sim_outstanding(&f.ram), T(4));
	fx_down(&f); /* restores free, so destroy gives all four back */
}

/* unmap asks for exactly the unmapped page to be flushed. */
PT_TEST(unmap_flushes_the_page)
{
	fx f;
	fx_up(&f);
	map_ok(&f, va_of(3, 5, 7, 9), F4K, PG_4K, 0);
	map_ok(&f, va_of(3, 5, 8, 0), F2M, PG_2M, 0);
	f.nfl = 0;
	CHECK_ERR(pg_unmap(&f.s, pg_va(va_of(3, 5, 7, 9)), NULL, NULL), PG_OK);
	CHECK_EQ(f.nfl, 1);
	CHECK_EQ(f.fl[0].start, va_of(3, 5, 7, 9));
	CHECK_EQ(f.fl[0].len, 4096);
	f.nfl = 0;
	CHECK_ERR(pg_unmap(&f.s, pg_va(va_of(3, 5, 8, 0)), NULL, NULL), PG_OK);
	CHECK_EQ(f.nfl, 1);
	CHECK_EQ(f.fl[0].start, va_of(3, 5, 8, 0));
	CHECK_EQ(f.fl[0].len, 2 * MIB);
	fx_down(&f);
}

/* ================================================================ unmap_range */

/* unmap_range removes every leaf of any size inside the range, skips holes, counts
 * the leaves and gives back all tables. */
PT_TEST(unmap_range_skips_holes_and_counts_leaves)
{
	fx f;
	fx_up(&f);
	uint64_t base = va_of(3, 5, 0, 0);
	map_ok(&f, base, F4K, PG_4K, 0);
	map_ok(&f, base + 8 * KIB, F4K, PG_4K, 0);
	map_ok(&f, base + 2 * MIB, F2M, PG_2M, 0);
	map_ok(&f, base + 4 * MIB + 4 * KIB, F4K, PG_4K, 0);
	map_ok(&f, va_of(3, 6, 0, 0), F1G, PG_1G, 0);
	uint64_t n = 0;
	CHECK_ERR(pg_unmap_range(&f.s, pg_va(base), 2 * GIB, &n), PG_OK);
	CHECK_EQ(n, 5);
	CHECK_EQ(sim_outstanding(&f.ram), T(1));
	fx_down(&f);
}

/* A huge page that crosses the start of the range refuses the whole unmap_range. */
PT_TEST(unmap_range_huge_page_crossing_start_is_refused)
{
	fx f;
	fx_up(&f);
	map_ok(&f, va_of(3, 5, 8, 0), F2M, PG_2M, 0);
	map_ok(&f, va_of(3, 5, 9, 0), F4K, PG_4K, 0);
	CHECK_UNCHANGED(&f, pg_unmap_range(&f.s, pg_va(va_of(3, 5, 8, 1)), 4 * MIB, NULL),
			PG_ERR_HUGE_PAGE);
	fx_down(&f);
}

/* A huge page that crosses the end of the range refuses the whole unmap_range. */
PT_TEST(unmap_range_huge_page_crossing_end_is_refused)
{
	fx f;
	fx_up(&f);
	map_ok(&f, va_of(3, 5, 511, 511), F4K, PG_4K, 0);
	map_ok(&f, va_of(3, 6, 0, 0), F1G, PG_1G, 0);
	CHECK_UNCHANGED(&f, pg_unmap_range(&f.s, pg_va(va_of(3, 5, 511, 511)), 8192, NULL),
			PG_ERR_HUGE_PAGE);
	fx_down(&f);
}

/* unmap_range asks for one flush that covers every removed leaf and stays inside the
 * range; with nothing removed it asks for none. */
PT_TEST(unmap_range_flushes_once_covering_removed)
{
	fx f;
	fx_up(&f);
	uint64_t base = va_of(3, 5, 0, 0);
	map_ok(&f, base + 4 * MIB, F2M, PG_2M, 0);
	map_ok(&f, base + 12 * MIB + 4096, F4K, PG_4K, 0);
	f.nfl = 0;
	uint64_t n = 0;
	CHECK_ERR(pg_unmap_range(&f.s, pg_va(base), 64 * MIB, &n), PG_OK);
	CHECK_EQ(n, 2);
	CHECK_EQ(f.nfl, 1);
	CHECK(f.fl[0].start >= base && f.fl[0].start <= base + 4 * MIB);
	CHECK(f.fl[0].start + f.fl[0].len >= base + 12 * MIB + 8192);
	CHECK(f.fl[0].start + f.fl[0].len <= base + 64 * MIB);
	f.nfl = 0;
	CHECK_ERR(pg_unmap_range(&f.s, pg_va(base), 64 * MIB, &n), PG_OK);
	CHECK_EQ(n, 0);
	CHECK_EQ(f.nfl, 0);
	fx_down(&f);
}

/* Partial unmap_range frees exactly the tables it emptied. */
PT_TEST(unmap_range_gives_back_emptied_tables_only)
{
	fx f;
	fx_up(&f);
	uint64_t base = va_of(3, 5, 0, 0);
	CHECK_ERR(pg_map_range(&f.s, pg_va(base), pg_pa(F4K), 6 * MIB, 0, PG_4K), PG_OK);
	CHECK_EQ(sim_outstanding(&f.ram), T(6));
	CHECK_ERR(pg_unmap_range(&f.s, pg_va(base + 4096), 4 * MIB, NULL), PG_OK);
	CHECK_EQ(sim_outstanding(&f.ram), T(5)); /* the second PT was emptied */
	CHECK_EQ(ent(&f, base + 2 * MIB, 2), 0);
	CHECK_EQ(nonzero(&f, base, 1), 1);
	CHECK_EQ(nonzero(&f, base + 4 * MIB + 4096, 1), 511);
	fx_down(&f);
}

/* Zero length, unaligned, overflowing and non-canonical ranges are refused. */
PT_TEST(unmap_range_argument_errors)
{
	fx f;
	fx_up(&f);
	map_ok(&f, va_of(3, 5, 7, 9), F4K, PG_4K, 0);
	uint64_t va = va_of(3, 5, 7, 0);
	CHECK_UNCHANGED(&f, pg_unmap_range(&f.s, pg_va(va), 0, NULL), PG_ERR_BAD_ARG);
	CHECK_UNCHANGED(&f, pg_unmap_range(&f.s, pg_va(va + 4), 4096, NULL), PG_ERR_NOT_ALIGNED);
	CHECK_UNCHANGED(&f, pg_unmap_range(&f.s, pg_va(va), 100, NULL), PG_ERR_NOT_ALIGNED);
	CHECK_UNCHANGED(&f, pg_unmap_range(&f.s, pg_va(0xfffffffffffff000ull), 8192, NULL),
			PG_ERR_BAD_ARG);
	CHECK_UNCHANGED(&f, pg_unmap_range(&f.s, pg_va(hole_lo() - 8192), 3 * 4096, NULL),
			PG_ERR_NOT_CANONICAL);
	fx_down(&f);
}

/* ================================================================ protect */

/* protect rewrites the flags of every leaf inside the range and nothing outside it,
 * keeping the frames. */
PT_TEST(protect_rewrites_every_leaf_in_range)
{
	fx f;
	fx_up(&f);
	uint64_t va = va_of(3, 5, 7, 0);
	CHECK_ERR(pg_map_range(&f.s, pg_va(va), pg_pa(F4K), 4 * 4096, PG_W, PG_4K), PG_OK);
	CHECK_ERR(pg_protect(&f.s, pg_va(va + 4096), 2 * 4096, PG_U | PG_X | PG_CACHE_WT), PG_OK);
	CHECK_EQ(ent(&f, va, 1), F4K | B_P | B_W | B_XD);
	CHECK_EQ(ent(&f, va + 4096, 1), (F4K + 4096) | B_P | B_U | B_PWT);
	CHECK_EQ(ent(&f, va + 8192, 1), (F4K + 8192) | B_P | B_U | B_PWT);
	CHECK_EQ(ent(&f, va + 12288, 1), (F4K + 12288) | B_P | B_W | B_XD);
	fx_down(&f);
}

/* protect over a whole huge leaf rewrites it in place, PS and frame kept. */
PT_TEST(protect_whole_huge_page)
{
	fx f;
	fx_up(&f);
	map_ok(&f, va_of(3, 5, 8, 0), F2M, PG_2M, PG_W);
	map_ok(&f, va_of(3, 6, 0, 0), F1G, PG_1G, PG_W);
	CHECK_ERR(pg_protect(&f.s, pg_va(va_of(3, 5, 8, 0)), 2 * MIB, PG_G | PG_CACHE_WC), PG_OK);
	CHECK_EQ(ent(&f, va_of(3, 5, 8, 0), 2), F2M | B_P | B_PS | B_G | B_PATH | B_XD);
	CHECK_ERR(pg_protect(&f.s, pg_va(va_of(3, 6, 0, 0)), GIB, PG_X), PG_OK);
	CHECK_EQ(ent(&f, va_of(3, 6, 0, 0), 3), F1G | B_P | B_PS);
	fx_down(&f);
}

/* A hole in the range makes protect fail as not mapped and change nothing. */
PT_TEST(protect_hole_is_not_mapped)
{
	fx f;
	fx_up(&f);
	map_ok(&f, va_of(3, 5, 7, 0), F4K, PG_4K, PG_W);
	map_ok(&f, va_of(3, 5, 7, 2), F4K, PG_4K, PG_W);
	CHECK_UNCHANGED(&f, pg_protect(&f.s, pg_va(va_of(3, 5, 7, 0)), 3 * 4096, 0),
			PG_ERR_NOT_MAPPED);
	CHECK_UNCHANGED(&f, pg_protect(&f.s, pg_va(va_of(9, 0, 0, 0)), 4096, 0), PG_ERR_NOT_MAPPED);
	fx_down(&f);
}

/* A huge leaf crossing either end of the range makes protect fail and change nothing. */
PT_TEST(protect_huge_page_crossing_is_refused)
{
	fx f;
	fx_up(&f);
	map_ok(&f, va_of(3, 5, 8, 0), F2M, PG_2M, PG_W);
	map_ok(&f, va_of(3, 5, 9, 0), F2M, PG_2M, PG_W);
	CHECK_UNCHANGED(&f, pg_protect(&f.s, pg_va(va_of(3, 5, 8, 0)), 3 * MIB, 0), PG_ERR_HUGE_PAGE);
	CHECK_UNCHANGED(&f, pg_protect(&f.s, pg_va(va_of(3, 5, 8, 256)), 3 * MIB, 0),
			PG_ERR_HUGE_PAGE);
	fx_down(&f);
}

/* protect asks for one flush of (a superset inside) the range. */
PT_TEST(protect_flushes_the_range)
{
	fx f;
	fx_up(&f);
	uint64_t va = va_of(3, 5, 7, 0);
	CHECK_ERR(pg_map_range(&f.s, pg_va(va), pg_pa(F4K), 8 * 4096, PG_W, PG_4K), PG_OK);
	f.nfl = 0;
	CHECK_ERR(pg_protect(&f.s, pg_va(va + 4096), 3 * 4096, 0), PG_OK);
	CHECK_EQ(f.nfl, 1);
	CHECK_EQ(f.fl[0].start, va + 4096);
	CHECK_EQ(f.fl[0].len, 3 * 4096);
	fx_down(&f);
}

/* protect refuses unknown flags and bad ranges without touching anything. */
PT_TEST(protect_argument_errors)
{
	fx f;
	fx_up(&f);
	uint64_t va = va_of(3, 5, 7, 0);
	map_ok(&f, va, F4K, PG_4K, PG_W);
	CHECK_UNCHANGED(&f, pg_protect(&f.s, pg_va(va), 4096, 1u << 8), PG_ERR_BAD_ARG);
	CHECK_UNCHANGED(&f, pg_protect(&f.s, pg_va(va), 0, 0), PG_ERR_BAD_ARG);
	CHECK_UNCHANGED(&f, pg_protect(&f.s, pg_va(va + 1), 4096, 0), PG_ERR_NOT_ALIGNED);
	CHECK_UNCHANGED(&f, pg_protect(&f.s, pg_va(hole_lo()), 4096, 0),
			PG_ERR_NOT_CANONICAL);
	fx_down(&f);
}

/* ================================================================ split */

/* Splitting a 2 MiB leaf gives 512 4 KiB leaves: every address translates to the same
 * physical address with the same flags, and the PAT bit moves from bit 12 to bit 7. */
PT_TEST(split_2m_keeps_every_translation)
{
	fx f;
	fx_up(&f);
	uint64_t va = va_of(3, 5, 8, 0);
	unsigned flags = PG_W | PG_U | PG_G | PG_CACHE_WC;
	map_ok(&f, va, F2M, PG_2M, flags);
	uint64_t before = sim_outstanding(&f.ram);
	CHECK_ERR(pg_split(&f.s, pg_va(va)), PG_OK);
	CHECK_EQ(sim_outstanding(&f.ram), before + 1);
	CHECK_EQ(ent(&f, va, 2) & ~B_ADDR, B_TABLE | B_COUNT(512));
	for (unsigned i = 0; i < 512; i++) {
		uint64_t a = va + i * 4096ull + (i * 37u) % 4096u;
		pg_translation t;
		CHECK_ERR(pg_translate(&f.s, pg_va(a), &t), PG_OK);
		CHECK_EQ(t.phys.pa, F2M + (a - va));
		CHECK_EQ(t.size, PG_4K);
		CHECK_EQ(t.flags, flags);
		CHECK_EQ(ent(&f, a, 1), (F2M + i * 4096ull) | B_P | B_W | B_U | B_G | B_PAT4K | B_XD);
	}
	fx_down(&f);
}

/* Splitting a 1 GiB leaf gives 512 2 MiB leaves mapping the same memory and flags. */
PT_TEST(split_1g_keeps_every_translation)
{
	fx f;
	fx_up(&f);
	uint64_t va = va_of(3, 6, 0, 0);
	map_ok(&f, va, F1G, PG_1G, PG_X | PG_CACHE_UC);
	CHECK_ERR(pg_split(&f.s, pg_va(va)), PG_OK);
	CHECK_EQ(ent(&f, va, 3) & ~B_ADDR, B_TABLE | B_COUNT(512));
	uint64_t pat = pg_pat_value();
	for (unsigned i = 0; i < 512; i++) {
		uint64_t a = va + i * 2 * MIB + (i * 4097ull) % (2 * MIB);
		pg_translation t;
		CHECK_ERR(pg_translate(&f.s, pg_va(a), &t), PG_OK);
		CHECK_EQ(t.phys.pa, F1G + (a - va));
		CHECK_EQ(t.size, PG_2M);
		CHECK_EQ(t.flags, PG_X | PG_CACHE_UC);
		uint64_t e = ent(&f, a, 2);
		CHECK_EQ(e & (B_ADDR & ~(2 * MIB - 1)), F1G + i * 2 * MIB);
		CHECK(e & B_PS);
		unsigned pi = (e & B_PWT ? 1 : 0) | (e & B_PCD ? 2 : 0) | (e & B_PATH ? 4 : 0);
		CHECK_EQ((pat >> (8 * pi)) & 0xff, 0);
	}
	fx_down(&f);
}

/* split asks for exactly the huge page to be flushed. */
PT_TEST(split_flushes_the_huge_page)
{
	fx f;
	fx_up(&f);
	map_ok(&f, va_of(3, 5, 8, 0), F2M, PG_2M, PG_W);
	f.nfl = 0;
	CHECK_ERR(pg_split(&f.s, pg_va(va_of(3, 5, 8, 0))), PG_OK);
	CHECK_EQ(f.nfl, 1);
	CHECK_EQ(f.fl[0].start, va_of(3, 5, 8, 0));
	CHECK_EQ(f.fl[0].len, 2 * MIB);
	fx_down(&f);
}

/* split refuses an unmapped page, a page inside (not at the start of) a huge leaf, a
 * non-canonical page and an empty frame source, changing nothing. */
PT_TEST(split_errors_change_nothing)
{
	fx f;
	fx_up(&f);
	map_ok(&f, va_of(3, 5, 8, 0), F2M, PG_2M, PG_W);
	CHECK_UNCHANGED(&f, pg_split(&f.s, pg_va(va_of(3, 5, 9, 0))), PG_ERR_NOT_MAPPED);
	CHECK_UNCHANGED(&f, pg_split(&f.s, pg_va(va_of(3, 5, 8, 1))), PG_ERR_NOT_ALIGNED);
	CHECK_UNCHANGED(&f, pg_split(&f.s, pg_va(hole_lo())), PG_ERR_NOT_CANONICAL);
	f.ram.fail_after = 0;
	CHECK_UNCHANGED(&f, pg_split(&f.s, pg_va(va_of(3, 5, 8, 0))), PG_ERR_NO_FRAMES);
	f.ram.fail_after = -1;
	fx_down(&f);
}

/* Quirk: splitting a 4 KiB leaf is a bad argument (paging.h does not name an error
 * for it; nothing smaller exists). */
PT_TEST(split_4k_page_is_bad_arg_quirk)
{
	fx f;
	fx_up(&f);
	map_ok(&f, va_of(3, 5, 7, 9), F4K, PG_4K, PG_W);
	CHECK_UNCHANGED(&f, pg_split(&f.s, pg_va(va_of(3, 5, 7, 9))), PG_ERR_BAD_ARG);
	fx_down(&f);
}

/* ================================================================ walk */

/* Leaves with contiguous virtual and physical addresses and equal flags merge into one
 * run. */
PT_TEST(walk_merges_contiguous_equal_leaves)
{
	fx f;
	fx_up(&f);
	uint64_t va = va_of(3, 5, 7, 10);
	for (unsigned i = 0; i < 3; i++)
		map_ok(&f, va + i * 4096, F4K + i * 4096, PG_4K, PG_W | PG_G);
	runs rs = { .n = 0 };
	CHECK_ERR(pg_walk(&f.s, pg_va(va_of(3, 0, 0, 0)), GIB * 8, collect, &rs), PG_OK);
	CHECK_EQ(rs.n, 1);
	check_run(&rs, 0, va, F4K, 3 * 4096, PG_4K, PG_W | PG_G);
	fx_down(&f);
}

/* A leaf whose flags differ splits the run. */
PT_TEST(walk_splits_on_different_flags)
{
	fx f;
	fx_up(&f);
	uint64_t va = va_of(3, 5, 7, 10);
	map_ok(&f, va, F4K, PG_4K, PG_W);
	map_ok(&f, va + 4096, F4K + 4096, PG_4K, 0);
	map_ok(&f, va + 8192, F4K + 8192, PG_4K, PG_W);
	runs rs = { .n = 0 };
	CHECK_ERR(pg_walk(&f.s, pg_va(0), 0, collect, &rs), PG_OK);
	CHECK_EQ(rs.n, 3);
	check_run(&rs, 0, va, F4K, 4096, PG_4K, PG_W);
	check_run(&rs, 1, va + 4096, F4K + 4096, 4096, PG_4K, 0);
	check_run(&rs, 2, va + 8192, F4K + 8192, 4096, PG_4K, PG_W);
	fx_down(&f);
}

/* A gap in physical addresses splits the run although virtual addresses continue. */
PT_TEST(walk_splits_on_discontiguous_phys)
{
	fx f;
	fx_up(&f);
	uint64_t va = va_of(3, 5, 7, 10);
	map_ok(&f, va, F4K, PG_4K, PG_W);
	map_ok(&f, va + 4096, F4K + 8192, PG_4K, PG_W);
	runs rs = { .n = 0 };
	CHECK_ERR(pg_walk(&f.s, pg_va(0), 0, collect, &rs), PG_OK);
	CHECK_EQ(rs.n, 2);
	check_run(&rs, 0, va, F4K, 4096, PG_4K, PG_W);
	check_run(&rs, 1, va + 4096, F4K + 8192, 4096, PG_4K, PG_W);
	fx_down(&f);
}

/* Leaves of different sizes do not merge even when contiguous with equal flags. */
PT_TEST(walk_splits_on_page_size)
{
	fx f;
	fx_up(&f);
	uint64_t va = va_of(3, 5, 7, 511);
	map_ok(&f, va, F2M - 4096, PG_4K, PG_W);
	map_ok(&f, va_of(3, 5, 8, 0), F2M, PG_2M, PG_W);
	runs rs = { .n = 0 };
	CHECK_ERR(pg_walk(&f.s, pg_va(0), 0, collect, &rs), PG_OK);
	CHECK_EQ(rs.n, 2);
	check_run(&rs, 0, va, F2M - 4096, 4096, PG_4K, PG_W);
	check_run(&rs, 1, va_of(3, 5, 8, 0), F2M, 2 * MIB, PG_2M, PG_W);
	fx_down(&f);
}

/* Leaves are clipped to the walked range, with the matching physical address. */
PT_TEST(walk_clips_leaves_to_the_range)
{
	fx f;
	fx_up(&f);
	map_ok(&f, va_of(3, 5, 8, 0), F2M, PG_2M, PG_W);
	runs rs = { .n = 0 };
	CHECK_ERR(pg_walk(&f.s, pg_va(va_of(3, 5, 8, 1)), 8192, collect, &rs), PG_OK);
	CHECK_EQ(rs.n, 1);
	check_run(&rs, 0, va_of(3, 5, 8, 1), F2M + 4096, 8192, PG_2M, PG_W);
	fx_down(&f);
}

/* The walk stops as soon as the callback returns false. */
PT_TEST(walk_stops_when_callback_says_so)
{
	fx f;
	fx_up(&f);
	for (unsigned i = 0; i < 4; i++)
		map_ok(&f, va_of(3, 5, 7, 2 * i), F4K, PG_4K, 0);
	runs rs = { .n = 0, .stop_after = 2 };
	CHECK_ERR(pg_walk(&f.s, pg_va(0), 0, collect, &rs), PG_OK);
	CHECK_EQ(rs.n, 2);
	fx_down(&f);
}

/* Length 0 walks to the end of the address space, through both halves in order. */
PT_TEST(walk_length_zero_covers_both_halves)
{
	fx f;
	fx_up(&f);
	map_ok(&f, 0xfffffffffffff000ull, F4K, PG_4K, PG_G);
	map_ok(&f, 0x1000, F4K + 4096, PG_4K, 0);
	runs rs = { .n = 0 };
	CHECK_ERR(pg_walk(&f.s, pg_va(0), 0, collect, &rs), PG_OK);
	CHECK_EQ(rs.n, 2);
	check_run(&rs, 0, 0x1000, F4K + 4096, 4096, PG_4K, 0);
	check_run(&rs, 1, 0xfffffffffffff000ull, F4K, 4096, PG_4K, PG_G);
	fx_down(&f);
}

/* The walk reports effective flags, as translate does. */
PT_TEST(walk_reports_effective_flags)
{
	fx f;
	fx_up(&f);
	uint64_t va = va_of(3, 5, 7, 9);
	map_ok(&f, va, F4K, PG_4K, PG_W | PG_U | PG_X);
	table_at(&f, va, 3)[5] &= ~B_W;
	table_at(&f, va, 4)[3] |= B_XD;
	runs rs = { .n = 0 };
	CHECK_ERR(pg_walk(&f.s, pg_va(0), 0, collect, &rs), PG_OK);
	check_run(&rs, 0, va, F4K, 4096, PG_4K, PG_U);
	table_at(&f, va, 3)[5] |= B_W;
	table_at(&f, va, 4)[3] &= ~B_XD;
	fx_down(&f);
}

/* ================================================================ no partial success */

typedef pg_err (*op_fn)(fx *f, const void *arg);

/* Runs op with the frame source failing after n frames for n = 0, 1, ...: every
 * failure must be NO_FRAMES with every table frame and the outstanding count as
 * before; the first success must come at exactly need frames. */
static void no_partial_success(fx *f, op_fn op, const void *arg, unsigned need)
{
	for (unsigned n = 0;; n++) {
		snap before, after;
		snap_take(f, &before);
		f->ram.fail_after = n;
		f->nfl = 0;
		pg_err e = op(f, arg);
		f->ram.fail_after = -1;
		snap_take(f, &after);
		if (e == PG_OK) {
			CHECK_EQ(n, need);
			CHECK_EQ(after.outstanding - before.outstanding, need);
			snap_free(&before);
			snap_free(&after);
			return;
		}
		CHECK_ERR(e, PG_ERR_NO_FRAMES);
		CHECK(snap_same(&before, &after));
		CHECK_EQ(f->nfl, 0);
		snap_free(&before);
		snap_free(&after);
		if (e != PG_ERR_NO_FRAMES || n > need) {
			CHECK(false);
			return;
		}
	}
}

typedef struct {
	uint64_t va, pa, len;
	pg_size size;
} op_args;

static pg_err do_map(fx *f, const void *arg)
{
	const op_args *a = arg;
	return pg_map(&f->s, pg_va(a->va), pg_pa(a->pa), a->size, PG_W, NULL);
}

static pg_err do_map_range(fx *f, const void *arg)
{
	const op_args *a = arg;
	return pg_map_range(&f->s, pg_va(a->va), pg_pa(a->pa), a->len, PG_W | PG_G, a->size);
}

static pg_err do_split(fx *f, const void *arg)
{
	const op_args *a = arg;
	return pg_split(&f->s, pg_va(a->va));
}

/* Every size of map into an empty space fails cleanly for each frame short. */
PT_TEST(no_partial_success_map_into_empty_space)
{
	unsigned need[3] = { 3, 2, 1 };
	uint64_t frames[3] = { F4K, F2M, F1G };
	for (unsigned s = 0; s < 3; s++) {
		fx f;
		fx_up(&f);
		op_args a = { va_of(300, 6, 0, 0), frames[s], 0, (pg_size)s };
		no_partial_success(&f, do_map, &a, need[s] + (lv - 4)); /* + a PML4 */
		fx_down(&f);
	}
}

/* Maps into a partly built space fail cleanly for each frame short of what they need. */
PT_TEST(no_partial_success_map_into_partly_built_space)
{
	fx f;
	fx_up(&f);
	map_ok(&f, va_of(3, 5, 7, 9), F4K, PG_4K, 0);
	map_ok(&f, va_of(300, 5, 7, 9), F4K, PG_4K, 0);
	struct { op_args a; unsigned need; } cases[] = {
		{ { va_of(3, 5, 7, 10), F4K, 0, PG_4K }, 0 },
		{ { va_of(3, 5, 8, 0), F4K, 0, PG_4K }, 1 },
		{ { va_of(3, 6, 0, 0), F4K, 0, PG_4K }, 2 },
		{ { va_of(4, 0, 0, 0), F4K, 0, PG_4K }, 3 },
		{ { va_of(300, 5, 9, 0), F2M, 0, PG_2M }, 0 },
		{ { va_of(300, 7, 0, 0), F2M, 0, PG_2M }, 1 },
		{ { va_of(301, 0, 0, 0), F2M, 0, PG_2M }, 2 },
		{ { va_of(3, 9, 0, 0), F1G, 0, PG_1G }, 0 },
		{ { va_of(5, 0, 0, 0), F1G, 0, PG_1G }, 1 },
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		no_partial_success(&f, do_map, &cases[i].a, cases[i].need);
	fx_down(&f);
}

/* map_range over several page sizes and alignments fails cleanly for each frame short,
 * in an empty and in a partly built space. */
PT_TEST(no_partial_success_map_range)
{
	uint64_t mixed = 12 * KIB + 2 * MIB + GIB + 2 * MIB + 8 * KIB;
	struct { op_args a; unsigned need; } empty[] = {
		{ { va_of(3, 4, 510, 509), 7 * GIB - 2 * MIB - 12 * KIB, mixed, PG_1G }, 5 },
		{ { va_of(3, 4, 510, 509), 7 * GIB - 2 * MIB - 12 * KIB, mixed, PG_2M }, 6 },
		{ { va_of(3, 5, 511, 511), F4K, 3 * 4096, PG_1G }, 5 },
		{ { va_of(254, 511, 511, 510), F4K, 4 * 4096, PG_4K }, 6 },
		{ { 0xffffffff7fffe000ull, F2M - 8192, 4 * MIB + 16 * KIB, PG_2M }, 5 },
	};
	for (unsigned i = 0; i < sizeof(empty) / sizeof(empty[0]); i++) {
		fx f;
		fx_up(&f);
		no_partial_success(&f, do_map_range, &empty[i].a, empty[i].need + (lv - 4));
		fx_down(&f);
	}
	fx f;
	fx_up(&f);
	map_ok(&f, va_of(3, 4, 510, 0), F4K, PG_4K, 0);
	map_ok(&f, va_of(3, 6, 5, 0), F2M, PG_2M, 0);
	/* PDPT(3), PD(3,4), PT(3,4,510) and PD(3,6) exist: only PT(3,6,1) is new */
	op_args a = { va_of(3, 4, 510, 509), 7 * GIB - 2 * MIB - 12 * KIB, mixed, PG_1G };
	no_partial_success(&f, do_map_range, &a, 1); /* just PT(3,6,1) */
	fx_down(&f);
}

/* split of either huge size fails cleanly without its one frame. */
PT_TEST(no_partial_success_split)
{
	fx f;
	fx_up(&f);
	map_ok(&f, va_of(3, 5, 8, 0), F2M, PG_2M, PG_W);
	map_ok(&f, va_of(3, 6, 0, 0), F1G, PG_1G, PG_W);
	op_args a2 = { va_of(3, 5, 8, 0), 0, 0, PG_2M }, a1 = { va_of(3, 6, 0, 0), 0, 0, PG_1G };
	no_partial_success(&f, do_split, &a2, 1);
	no_partial_success(&f, do_split, &a1, 1);
	fx_down(&f);
}

/* ---- the walk cache: pg_map remembers the last level-1 table it walked to */

/* Pages mapped one after another in one 2 MiB region land in the same level-1 table,
 * whether the walk was taken or skipped. */
PT_TEST(walk_cache_maps_land_in_the_same_table)
{
	fx f;
	fx_up(&f);
	uint64_t va = va_of(3, 4, 5, 0);
	for (unsigned i = 0; i < 512; i++)
		CHECK_ERR(pg_map(&f.s, pg_va(va + i * 4096), pg_pa(F4K + i * 4096ull), PG_4K,
				 PG_W, NULL), PG_OK);
	uint64_t counts[5];
	pg_count_tables(&f.s, counts);
	CHECK_EQ(counts[0], 1);
	pg_translation t;
	for (unsigned i = 0; i < 512; i += 37) {
		CHECK_ERR(pg_translate(&f.s, pg_va(va + i * 4096ull + 5), &t), PG_OK);
		CHECK_EQ(t.phys.pa, F4K + i * 4096ull + 5);
	}
	/* A hit still reports a page that is already there. */
	pg_paddr ex;
	CHECK_ERR(pg_map(&f.s, pg_va(va + 7 * 4096), pg_pa(F4K), PG_4K, PG_W, &ex),
		  PG_ERR_ALREADY_MAPPED);
	CHECK_EQ(ex.pa, F4K + 7 * 4096);
	fx_down(&f);
}

/* After unmap gives the cached table back and its frame is reused for other tables,
 * a map in the old region must walk again, not write into the recycled frame. */
PT_TEST(walk_cache_dropped_when_unmap_frees_the_table)
{
	fx f;
	fx_up(&f);
	uint64_t va = va_of(3, 4, 5, 0);
	CHECK_ERR(pg_map(&f.s, pg_va(va), pg_pa(F4K), PG_4K, PG_W, NULL), PG_OK);
	CHECK_ERR(pg_map(&f.s, pg_va(va + 4096), pg_pa(F4K), PG_4K, PG_W, NULL), PG_OK);
	CHECK_ERR(pg_unmap(&f.s, pg_va(va), NULL, NULL), PG_OK);
	CHECK_ERR(pg_unmap(&f.s, pg_va(va + 4096), NULL, NULL), PG_OK);
	/* The freed frames (LIFO in simram) now become the tables of another region. */
	CHECK_ERR(pg_map(&f.s, pg_va(va_of(9, 1, 2, 3)), pg_pa(F4K), PG_4K, PG_W, NULL), PG_OK);
	/* The old region now holds a 2 MiB leaf: a 4 KiB map there is in its way. */
	CHECK_ERR(pg_map(&f.s, pg_va(va), pg_pa(F2M), PG_2M, PG_W, NULL), PG_OK);
	CHECK_ERR(pg_map(&f.s, pg_va(va + 2 * 4096), pg_pa(F4K), PG_4K, PG_W, NULL),
		  PG_ERR_HUGE_PAGE);
	pg_translation t;
	CHECK_ERR(pg_translate(&f.s, pg_va(va_of(9, 1, 2, 3)), &t), PG_OK);
	CHECK_EQ(t.phys.pa, F4K);
	CHECK_ERR(pg_translate(&f.s, pg_va(va_of(9, 1, 2, 5)), &t), PG_ERR_NOT_MAPPED);
	fx_down(&f);
}

/* unmap_range that frees the cached table drops the cache the same way. */
PT_TEST(walk_cache_dropped_when_unmap_range_frees_the_table)
{
	fx f;
	fx_up(&f);
	uint64_t va = va_of(3, 4, 5, 0);
	for (unsigned i = 0; i < 4; i++)
		CHECK_ERR(pg_map(&f.s, pg_va(va + i * 4096ull), pg_pa(F4K), PG_4K, PG_W, NULL),
			  PG_OK);
	CHECK_ERR(pg_unmap_range(&f.s, pg_va(va), 2 * MIB, NULL), PG_OK);
	CHECK_EQ(sim_outstanding(&f.ram), T(1)); /* only the PML4 is left */
	CHECK_ERR(pg_map(&f.s, pg_va(va_of(7, 0, 0, 0)), pg_pa(F4K), PG_4K, PG_W, NULL), PG_OK);
	CHECK_ERR(pg_map(&f.s, pg_va(va + 5 * 4096ull), pg_pa(F4K), PG_4K, PG_W, NULL), PG_OK);
	pg_translation t;
	CHECK_ERR(pg_translate(&f.s, pg_va(va_of(7, 0, 0, 5)), &t), PG_ERR_NOT_MAPPED);
	CHECK_ERR(pg_translate(&f.s, pg_va(va + 5 * 4096ull), &t), PG_OK);
	uint64_t counts[5];
	pg_count_tables(&f.s, counts);
	CHECK_EQ(counts[0], 2);
	fx_down(&f);
}

/* A handle attached to existing tables sees and extends them. */
PT_TEST(space_attach_adopts_existing_tables)
{
	fx f;
	fx_up(&f);
	uint64_t va = va_of(1, 2, 3, 4);
	CHECK_ERR(pg_map(&f.s, pg_va(va), pg_pa(F4K), PG_4K, PG_W, NULL), PG_OK);
	pg_space b;
	CHECK_ERR(pg_space_attach(&b, f.s.root, &f.frames, sim_offset(&f.ram), true, true, 52, lv),
		  PG_OK);
	pg_translation t;
	CHECK_ERR(pg_translate(&b, pg_va(va), &t), PG_OK);
	CHECK_EQ(t.phys.pa, F4K);
	CHECK_ERR(pg_space_attach(&b, pg_pa(f.s.root.pa + 8), NULL, 0, true, true, 52, lv),
		  PG_ERR_BAD_ARG);
	for (unsigned bad = 0; bad < 8; bad++)
		if (bad != 4 && bad != 5) {
			CHECK_ERR(pg_space_attach(&b, f.s.root, NULL, 0, true, true, 52, bad),
				  PG_ERR_BAD_ARG);
			CHECK_ERR(pg_space_init(&b, &f.frames, 0, true, true, 52, bad), PG_ERR_BAD_ARG);
		}
	CHECK_EQ(sim_outstanding(&f.ram), T(4));
	fx_down(&f);
}

/* The freed tables come back (LIFO) as the level-3, level-2 and level-1 tables of another
 * region with the same level-3 and level-2 indices, so the old level-2 entry's bytes hold
 * the same value again. Only the handle's own invalidation can tell the cache is stale. */
PT_TEST(walk_cache_dropped_when_frames_return_in_the_same_roles)
{
	fx f;
	fx_up(&f);
	uint64_t va = va_of(3, 4, 5, 0), other = va_of(9, 4, 5, 0);
	CHECK_ERR(pg_map(&f.s, pg_va(va), pg_pa(F4K), PG_4K, PG_W, NULL), PG_OK);
	CHECK_ERR(pg_map(&f.s, pg_va(va + 4096), pg_pa(F4K), PG_4K, PG_W, NULL), PG_OK);
	CHECK_ERR(pg_unmap(&f.s, pg_va(va + 4096), NULL, NULL), PG_OK);
	CHECK_ERR(pg_unmap(&f.s, pg_va(va), NULL, NULL), PG_OK);
	CHECK_ERR(pg_map(&f.s, pg_va(other), pg_pa(F4K), PG_4K, PG_W, NULL), PG_OK);
	CHECK_ERR(pg_map(&f.s, pg_va(va + 2 * 4096), pg_pa(F4K + 4096), PG_4K, PG_W, NULL), PG_OK);
	pg_translation t;
	CHECK_ERR(pg_translate(&f.s, pg_va(va + 2 * 4096), &t), PG_OK);
	CHECK_EQ(t.phys.pa, F4K + 4096);
	CHECK_ERR(pg_translate(&f.s, pg_va(other + 2 * 4096), &t), PG_ERR_NOT_MAPPED);
	fx_down(&f);
}

/* The fast path builds 4 KiB entries from a table; for every flag combination, with and
 * without NX, it must write exactly what the walking path writes. */
PT_TEST(walk_cache_entries_equal_slow_path_entries_for_every_flag)
{
	for (int nx = 0; nx < 2; nx++) {
		fx f;
		fx_up_with(&f, nx, true, 52);
		for (unsigned flags = 0; flags <= PG_FLAGS_ALL; flags++) {
			uint64_t va = va_of(2, 3, flags, 0); /* one 2 MiB region per combination */
			pg_translation a, b;
			/* The first map builds the table (slow path), the second walks and fills
			 * the cache, the third hits it. */
			for (unsigned i = 0; i < 3; i++)
				CHECK_ERR(pg_map(&f.s, pg_va(va + i * 4096ull), pg_pa(F4K + i * 4096ull),
						 PG_4K, flags, NULL), PG_OK);
			CHECK_ERR(pg_translate(&f.s, pg_va(va), &a), PG_OK);
			CHECK_ERR(pg_translate(&f.s, pg_va(va + 2 * 4096ull), &b), PG_OK);
			CHECK_EQ(a.walk[wi(1)].entry & ~B_ADDR, b.walk[wi(1)].entry & ~B_ADDR);
			CHECK_EQ(b.walk[wi(1)].entry & B_ADDR, F4K + 2 * 4096ull);
			CHECK_EQ(a.flags, b.flags);
		}
		fx_down(&f);
	}
}

/* ================================================================ review defects (issue 12) */

/* Defect 1: a second handle on the same tables unmaps a region and frees its tables;
 * they come back LIFO in the same roles for another region, so the level-2 entry the
 * first handle's walk cache checks holds the same value again. The first handle's next
 * map must still land in its own region, not in the other region's table. */
PT_TEST(walk_cache_survives_a_second_handle_unlinking_tables)
{
	fx f;
	fx_up(&f);
	uint64_t va = va_of(3, 4, 5, 0), other = va_of(9, 4, 5, 0);
	pg_space b;
	CHECK_ERR(pg_map(&f.s, pg_va(va), pg_pa(F4K), PG_4K, PG_W, NULL), PG_OK);
	CHECK_ERR(pg_map(&f.s, pg_va(va + 4096), pg_pa(F4K), PG_4K, PG_W, NULL), PG_OK);
	CHECK_ERR(pg_space_attach(&b, f.s.root, &f.frames, sim_offset(&f.ram), true, true, 52, lv),
		  PG_OK);
	CHECK_ERR(pg_unmap(&b, pg_va(va + 4096), NULL, NULL), PG_OK);
	CHECK_ERR(pg_unmap(&b, pg_va(va), NULL, NULL), PG_OK);
	CHECK_ERR(pg_map(&b, pg_va(other), pg_pa(F4K), PG_4K, PG_W, NULL), PG_OK);
	CHECK_ERR(pg_map(&f.s, pg_va(va + 2 * 4096), pg_pa(F4K + 4096), PG_4K, PG_W, NULL), PG_OK);
	pg_translation t;
	CHECK_ERR(pg_translate(&f.s, pg_va(va + 2 * 4096), &t), PG_OK);
	CHECK_EQ(t.phys.pa, F4K + 4096);
	CHECK_ERR(pg_translate(&f.s, pg_va(other + 2 * 4096), &t), PG_ERR_NOT_MAPPED);
	/* The same through a handle copied by value, and after a re-attach of the first. */
	pg_space c = f.s;
	CHECK_ERR(pg_map(&c, pg_va(va + 3 * 4096), pg_pa(F4K), PG_4K, PG_W, NULL), PG_OK);
	CHECK_ERR(pg_unmap_range(&b, pg_va(va), 2 * MIB, NULL), PG_OK);
	CHECK_ERR(pg_map(&b, pg_va(other + 2 * MIB), pg_pa(F4K), PG_4K, PG_W, NULL), PG_OK);
	CHECK_ERR(pg_map(&c, pg_va(va + 4 * 4096), pg_pa(F4K + 8192), PG_4K, PG_W, NULL), PG_OK);
	CHECK_ERR(pg_translate(&b, pg_va(va + 4 * 4096), &t), PG_OK);
	CHECK_EQ(t.phys.pa, F4K + 8192);
	CHECK_ERR(pg_translate(&b, pg_va(other + 2 * MIB + 4 * 4096), &t), PG_ERR_NOT_MAPPED);
	fx_down(&f);
}

/* Defect 2: a top table at physical address 0 (firmware maps mark page 0 usable) is an
 * address space like any other: destroy gives it back with everything below it. */
PT_TEST(destroy_gives_back_a_root_at_physical_zero)
{
	fx f;
	memset(&f, 0, sizeof(f));
	sim_init(&f.ram, 16 * MIB);
	f.ram.base = 0; /* the first frame handed out is physical page 0 */
	f.frames = *sim_frames(&f.ram);
	CHECK_ERR(pg_space_init(&f.s, &f.frames, sim_offset(&f.ram), true, true, 52, lv), PG_OK);
	CHECK_EQ(f.s.root.pa, 0);
	map_ok(&f, va_of(3, 5, 7, 9), F4K, PG_4K, PG_W);
	CHECK_EQ(sim_outstanding(&f.ram), T(4));
	pg_space_destroy(&f.s);
	CHECK_EQ(sim_outstanding(&f.ram), 0);
	pg_space_destroy(&f.s); /* a destroyed handle is empty: nothing is given back twice */
	CHECK_EQ(sim_outstanding(&f.ram), 0);
	pg_translation t; /* and it refuses work instead of walking from page 0 */
	CHECK_ERR(pg_translate(&f.s, pg_va(va_of(3, 5, 7, 9)), &t), PG_ERR_BAD_ARG);
	CHECK_ERR(pg_map(&f.s, pg_va(va_of(3, 5, 7, 9)), pg_pa(F4K), PG_4K, 0, NULL), PG_ERR_BAD_ARG);
	CHECK_ERR(pg_unmap(&f.s, pg_va(va_of(3, 5, 7, 9)), NULL, NULL), PG_ERR_BAD_ARG);
	CHECK_ERR(pg_unmap_range(&f.s, pg_va(0), 4096, NULL), PG_ERR_BAD_ARG);
	CHECK_ERR(pg_map_range(&f.s, pg_va(0), pg_pa(0), 4096, 0, PG_4K), PG_ERR_BAD_ARG);
	CHECK_EQ(sim_outstanding(&f.ram), 0);
	sim_destroy(&f.ram);
}

/* A frame source that hands out one wrong frame (bits added to a good one) at the
 * bad_at-th allocation, and counts the wrong frames that come back. */
typedef struct {
	simram *ram;
	long bad_at;
	uint64_t bad_bits, back;
} bad_source;

static bool bad_alloc(void *ctx, pg_paddr *frame)
{
	bad_source *b = ctx;
	if (!sim_frames(b->ram)->alloc(b->ram, frame))
		return false;
	if (b->bad_at-- == 0)
		frame->pa |= b->bad_bits;
	return true;
}

static void bad_free(void *ctx, pg_paddr frame)
{
	bad_source *b = ctx;
	if (frame.pa & b->bad_bits) {
		b->back++;
		frame.pa &= ~b->bad_bits;
	}
	sim_frames(b->ram)->free(b->ram, frame);
}

/* Defect 4: a frame the source hands out and the library refuses (misaligned, or beyond
 * phys_bits) goes back to the source with the others: no frame is kept. */
PT_TEST(refused_frames_go_back_to_the_source)
{
	uint64_t bads[2] = { 8, 1ull << 47 };
	for (unsigned k = 0; k < 2; k++)
		for (long at = 0; at < 3; at++) {
			fx f;
			fx_up_with(&f, true, true, 46);
			bad_source b = { &f.ram, at, bads[k], 0 };
			pg_frames src = { bad_alloc, bad_free, &b };
			f.s.frames = &src;
			CHECK_UNCHANGED(&f, pg_map(&f.s, pg_va(va_of(3, 5, 7, 9)), pg_pa(F4K), PG_4K,
						   PG_W, NULL), PG_ERR_BAD_FRAME);
			CHECK_EQ(b.back, 1);
			CHECK_EQ(sim_outstanding(&f.ram), 1);
			f.s.frames = &f.frames;
			fx_down(&f);
		}
	simram ram;
	pg_space s;
	sim_init(&ram, 16 * MIB);
	bad_source b = { &ram, 0, 8, 0 };
	pg_frames src = { bad_alloc, bad_free, &b };
	CHECK_ERR(pg_space_init(&s, &src, sim_offset(&ram), true, true, 46, lv), PG_ERR_BAD_FRAME);
	CHECK_EQ(b.back, 1);
	CHECK_EQ(sim_outstanding(&ram), 0);
	sim_destroy(&ram);
}

/* Defect 5: protect rewrites what the PG_* flags say (W, U, G, cache type, XD) and keeps
 * the rest of a leaf: its frame, A and D, the software-available bits 9-11 and 52-58
 * and the protection key (bits 59-62), on 4 KiB and on huge leaves. */
PT_TEST(protect_keeps_software_bits_key_and_accessed_dirty)
{
	fx f;
	fx_up(&f);
	uint64_t keep = B_A | B_D | (7ull << 9) | (0x7full << 52) | (0xfull << 59);
	uint64_t v4 = va_of(3, 5, 7, 9), v2 = va_of(3, 5, 8, 0);
	map_ok(&f, v4, F4K, PG_4K, PG_W);
	map_ok(&f, v2, F2M, PG_2M, PG_W);
	table_at(&f, v4, 1)[idx(v4, 1)] |= keep;
	table_at(&f, v2, 2)[idx(v2, 2)] |= keep;
	CHECK_ERR(pg_protect(&f.s, pg_va(v4), 4096, PG_U | PG_G | PG_CACHE_WC), PG_OK);
	CHECK_ERR(pg_protect(&f.s, pg_va(v2), 2 * MIB, PG_X | PG_CACHE_UC), PG_OK);
	CHECK_EQ(ent(&f, v4, 1), F4K | keep | B_P | B_U | B_G | B_PAT4K | B_XD);
	CHECK_EQ(ent(&f, v2, 2), F2M | keep | B_P | B_PS | B_PWT | B_PCD);
	/* and back: only the flag bits move */
	CHECK_ERR(pg_protect(&f.s, pg_va(v4), 4096, PG_W), PG_OK);
	CHECK_EQ(ent(&f, v4, 1), F4K | keep | B_P | B_W | B_XD);
	/* split keeps them too, into every smaller leaf */
	CHECK_ERR(pg_split(&f.s, pg_va(v2)), PG_OK);
	CHECK_EQ(ent(&f, v2 + 511 * 4096ull, 1), (F2M + 511 * 4096ull) | keep | B_P | B_PWT | B_PCD);
	fx_down(&f);
}

/* ================================================================ translate_fast */

/* pg_translate_fast gives what pg_translate gives (error, phys, size, effective flags)
 * for every flag combination at every page size, with and without NX, under upper
 * levels that take W or U away or add XD, for holes and for non-canonical addresses;
 * on an error it clears *out. */
PT_TEST(translate_fast_agrees_with_translate)
{
	for (int nx = 0; nx < 2; nx++) {
		fx f;
		fx_up_with(&f, nx, true, 52);
		for (unsigned flags = 0; flags <= PG_FLAGS_ALL; flags++) {
			map_ok(&f, va_of(1, 1, flags, 3), F4K + flags * 4096ull, PG_4K, flags);
			map_ok(&f, va_of(1, 2, flags, 0), F2M, PG_2M, flags);
			map_ok(&f, va_of(2 + flags / 32, flags % 32, 0, 0), F1G, PG_1G, flags);
			map_ok(&f, va_of(300, 1, flags, 3), F4K, PG_4K, flags);
		}
		table_at(&f, va_of(1, 1, 0, 0), 3)[1] &= ~B_W;  /* PDPT entry: no writes */
		table_at(&f, va_of(1, 2, 0, 0), 4)[1] |= B_XD;  /* PML4 entry: no execute */
		table_at(&f, va_of(3, 0, 0, 0), 4)[3] &= ~B_U;  /* PML4 entry: supervisor */
		uint64_t probes[] = { 0, 0x123, 0xfff, 0x1000, 0x1fffff, hole_lo(), hole_hi() };
		for (unsigned flags = 0; flags <= PG_FLAGS_ALL; flags++) {
			uint64_t vas[4] = { va_of(1, 1, flags, 3), va_of(1, 2, flags, 0),
					    va_of(2 + flags / 32, flags % 32, 0, 0),
					    va_of(300, 1, flags, 3) };
			for (unsigned k = 0; k < 4; k++)
				for (unsigned p = 0; p < sizeof(probes) / sizeof(probes[0]); p++) {
					uint64_t va = p < 5 ? vas[k] + probes[p] : probes[p];
					pg_translation t;
					pg_mapping m = { pg_pa(7), (pg_size)2, 99 };
					pg_err a = pg_translate(&f.s, pg_va(va), &t);
					CHECK_ERR(pg_translate_fast(&f.s, pg_va(va), &m), a);
					if (a == PG_OK) {
						CHECK_EQ(m.phys.pa, t.phys.pa);
						CHECK_EQ(m.size, t.size);
						CHECK_EQ(m.flags, t.flags);
					} else { /* cleared, not left as it was */
						CHECK_EQ(m.phys.pa, 0);
						CHECK_EQ(m.size, PG_4K);
						CHECK_EQ(m.flags, 0);
					}
				}
		}
		table_at(&f, va_of(1, 1, 0, 0), 3)[1] |= B_W;
		table_at(&f, va_of(1, 2, 0, 0), 4)[1] &= ~B_XD;
		table_at(&f, va_of(3, 0, 0, 0), 4)[3] |= B_U;
		fx_down(&f);
	}
}

/* A 4 KiB leaf's software bits (9-11, 52-58) and protection key (59-62) are the
 * caller's: pg_translate_fast still says 4 KiB and the flags pg_translate gives. */
PT_TEST(translate_fast_ignores_a_leafs_software_bits)
{
	fx f;
	fx_up(&f);
	uint64_t va = va_of(1, 2, 3, 4);
	map_ok(&f, va, F4K, PG_4K, PG_W | PG_U | PG_G | PG_CACHE_WT);
	table_at(&f, va, 1)[idx(va, 1)] |= 7ull << 9 | 0x7ffull << 52;
	pg_mapping m;
	pg_translation t;
	CHECK_ERR(pg_translate(&f.s, pg_va(va + 5), &t), PG_OK);
	CHECK_ERR(pg_translate_fast(&f.s, pg_va(va + 5), &m), PG_OK);
	CHECK_EQ(m.phys.pa, F4K + 5);
	CHECK_EQ(m.size, PG_4K);
	CHECK_EQ(m.flags, t.flags);
	CHECK_EQ(m.flags, PG_W | PG_U | PG_G | PG_CACHE_WT);
	fx_down(&f);
}

/* Without NX (EFER.NXE clear) an XD bit takes nothing away: a 4 KiB leaf that has one,
 * under plain tables, still translates as executable, as pg_translate says. */
PT_TEST(translate_fast_without_nx_ignores_a_leafs_xd)
{
	fx f;
	fx_up_with(&f, false, true, 52);
	uint64_t va = va_of(1, 2, 3, 4);
	map_ok(&f, va, F4K, PG_4K, PG_W | PG_X);
	table_at(&f, va, 1)[idx(va, 1)] |= B_XD;
	pg_mapping m;
	pg_translation t;
	CHECK_ERR(pg_translate(&f.s, pg_va(va), &t), PG_OK);
	CHECK_ERR(pg_translate_fast(&f.s, pg_va(va), &m), PG_OK);
	CHECK_EQ(t.flags, PG_W | PG_X);
	CHECK_EQ(m.flags, PG_W | PG_X);
	fx_down(&f);
}

/* Pages under entry 0 of every table, with leaves that grant everything (present,
 * writable, user, executable: bits a table entry would have too): pg_translate_fast
 * walks exactly as many levels as the space has, so no leaf is taken for a table. */
PT_TEST(translate_fast_walks_the_spaces_width_through_entry_zero)
{
	fx f;
	fx_up(&f);
	for (unsigned i = 0; i < 4; i++)
		map_ok(&f, va_of(0, 0, 0, i), F4K + i * 4096ull, PG_4K, PG_W | PG_U | PG_X);
	for (unsigned i = 0; i < 4; i++) {
		pg_mapping m;
		CHECK_ERR(pg_translate_fast(&f.s, pg_va(va_of(0, 0, 0, i) + 8), &m), PG_OK);
		CHECK_EQ(m.phys.pa, F4K + i * 4096ull + 8);
		CHECK_EQ(m.size, PG_4K);
		CHECK_EQ(m.flags, PG_W | PG_U | PG_X);
	}
	fx_down(&f);
}

/* Neighbouring slots of the top table (entries 0 and 1, and 510 and 511) hold different
 * pages: each address translates to its own. */
PT_TEST(translate_fast_reads_the_top_index_of_the_address)
{
	fx f;
	fx_up(&f);
	unsigned top_shift = lv == 4 ? 39 : 48;
	uint64_t va[4] = { 0, 1ull << top_shift, ~0ull << top_shift << 1, ~0ull << top_shift };
	for (unsigned i = 0; i < 4; i++)
		map_ok(&f, va[i], F4K + i * 4096ull, PG_4K, PG_W | PG_U | PG_X);
	for (unsigned i = 0; i < 4; i++) {
		pg_mapping m;
		CHECK_ERR(pg_translate_fast(&f.s, pg_va(va[i] + 0x10), &m), PG_OK);
		CHECK_EQ(m.phys.pa, F4K + i * 4096ull + 0x10);
	}
	fx_down(&f);
}

/* With NX, an XD bit on any table entry above a 4 KiB leaf takes X away, as
 * pg_translate says; the page's address and W stay. */
PT_TEST(translate_fast_takes_x_away_under_a_table_with_xd)
{
	fx f;
	fx_up_with(&f, true, true, 52);
	uint64_t va = va_of(1, 2, 3, 4);
	map_ok(&f, va, F4K, PG_4K, PG_W | PG_X);
	for (unsigned level = lv; level >= 2; level--) {
		table_at(&f, va, level)[idx(va, level)] |= B_XD;
		pg_mapping m;
		pg_translation t;
		CHECK_ERR(pg_translate(&f.s, pg_va(va + 1), &t), PG_OK);
		CHECK_ERR(pg_translate_fast(&f.s, pg_va(va + 1), &m), PG_OK);
		CHECK_EQ(t.flags, PG_W);
		CHECK_EQ(m.flags, PG_W);
		CHECK_EQ(m.phys.pa, F4K + 1);
		table_at(&f, va, level)[idx(va, level)] &= ~B_XD;
	}
	fx_down(&f);
}

/* A handle over s's tables written by hand, as efi/shell.c writes one for the firmware's
 * tables: its public fields only, not set up by pg_space_init/attach. */
static pg_space by_hand(const pg_space *s)
{
	pg_space h = { .root = s->root, .levels = s->levels, .phys_offset = s->phys_offset,
		       .has_nx = s->has_nx, .has_1g = s->has_1g, .phys_bits = s->phys_bits };
	return h;
}

/* A handle written by hand (as the shell's view of the firmware's tables), not set up
 * by pg_space_init/attach: pg_translate_fast takes its other way in and gives what
 * pg_translate gives, through a 4 KiB leaf, a 2 MiB leaf, a hole and the address hole. */
PT_TEST(translate_fast_on_a_handle_written_by_hand)
{
	fx f;
	fx_up(&f);
	uint64_t va = va_of(1, 2, 3, 4), va2m = va_of(1, 2, 4, 0);
	map_ok(&f, va, F4K, PG_4K, PG_W | PG_X);
	map_ok(&f, va2m, F2M, PG_2M, PG_W | PG_CACHE_UC);
	pg_space h = by_hand(&f.s);
	uint64_t probes[] = { va + 9, va2m + 0x12345, va_of(1, 2, 5, 0), hole_lo() };
	pg_err want[] = { PG_OK, PG_OK, PG_ERR_NOT_MAPPED, PG_ERR_NOT_CANONICAL };
	for (unsigned i = 0; i < 4; i++) {
		pg_mapping m;
		pg_translation t;
		CHECK_ERR(pg_translate(&h, pg_va(probes[i]), &t), want[i]);
		CHECK_ERR(pg_translate_fast(&h, pg_va(probes[i]), &m), want[i]);
		if (want[i] == PG_OK) {
			CHECK_EQ(m.phys.pa, t.phys.pa);
			CHECK_EQ(m.size, t.size);
			CHECK_EQ(m.flags, t.flags);
		}
	}
	pg_mapping m;
	CHECK_ERR(pg_translate_fast(&h, pg_va(va + 9), &m), PG_OK);
	CHECK_EQ(m.phys.pa, F4K + 9);
	fx_down(&f);
}

/* A 4-level handle written by hand is walked with 4 levels. Read with 5, the address
 * va_of(1, 2, 3, 4) would take PML4 entry 0, PDPT entry 1, PD entry 2 and then entry 3
 * of a level-1 table, which here maps that same table (a leaf with the bits of a table
 * entry: writable, user, executable), so that its entry 4 would be taken for the leaf:
 * another page. */
TEST(translate_fast_walks_a_handle_written_by_hand_with_its_levels)
{
	lv = 4;
	fx f;
	fx_up(&f);
	map_ok(&f, va_of(0, 1, 2, 4), F2M, PG_4K, PG_W | PG_U);
	uint64_t l1 = ent(&f, va_of(0, 1, 2, 4), 2) & B_ADDR;
	map_ok(&f, va_of(0, 1, 2, 3), l1, PG_4K, PG_W | PG_U | PG_X);
	map_ok(&f, va_of(1, 2, 3, 4), F4K, PG_4K, PG_W | PG_U);
	pg_space h = by_hand(&f.s);
	pg_mapping m;
	CHECK_ERR(pg_translate_fast(&h, pg_va(va_of(1, 2, 3, 4) + 3), &m), PG_OK);
	CHECK_EQ(m.phys.pa, F4K + 3);
	CHECK_ERR(pg_translate_fast(&f.s, pg_va(va_of(1, 2, 3, 4) + 3), &m), PG_OK);
	CHECK_EQ(m.phys.pa, F4K + 3);
	fx_down(&f);
}

/* A copy of a handle is a handle written by hand: pointed at other tables (its root
 * changed), pg_translate_fast reads those, as pg_translate does; the handle it was
 * copied from still reads its own. */
PT_TEST(translate_fast_on_a_copy_reads_the_copys_root)
{
	fx f;
	fx_up(&f);
	pg_space other;
	CHECK_ERR(pg_space_init(&other, &f.frames, sim_offset(&f.ram), true, true, 52, lv),
		  PG_OK);
	uint64_t va = va_of(1, 2, 3, 4);
	map_ok(&f, va, F4K, PG_4K, PG_W | PG_U);
	CHECK_ERR(pg_map(&other, pg_va(va), pg_pa(F2M), PG_4K, PG_W | PG_U, NULL), PG_OK);
	pg_space moved = f.s;
	moved.root = other.root;
	pg_mapping m;
	pg_translation t;
	CHECK_ERR(pg_translate(&moved, pg_va(va + 6), &t), PG_OK);
	CHECK_EQ(t.phys.pa, F2M + 6);
	CHECK_ERR(pg_translate_fast(&moved, pg_va(va + 6), &m), PG_OK);
	CHECK_EQ(m.phys.pa, F2M + 6);
	CHECK_ERR(pg_translate_fast(&f.s, pg_va(va + 6), &m), PG_OK);
	CHECK_EQ(m.phys.pa, F4K + 6);
	pg_space_destroy(&other);
	fx_down(&f);
}

/* Bits of a table entry that take no right away (accessed and dirty, which the CPU or
 * another writer may set, PWT, PCD, bits 9-11) leave pg_translate_fast's answer the
 * one pg_translate gives, the page's own. The 15 entries after each one on the way are
 * mapped too, each to its own frame, so that reading a neighbour gives another page. */
PT_TEST(translate_fast_reads_tables_whatever_their_other_bits)
{
	fx f;
	fx_up(&f);
	uint64_t va = va_of(1, 2, 3, 4);
	map_ok(&f, va, F4K, PG_4K, PG_W | PG_U | PG_CACHE_WC);
	for (unsigned k = 1; k < 16; k++) {
		map_ok(&f, va_of(1, 2, 3, 4 + k), F4K + k * 4096ull, PG_4K, PG_W);
		map_ok(&f, va_of(1, 2, 3 + k, 4), F4K + (16 + k) * 4096ull, PG_4K, PG_W);
		map_ok(&f, va_of(1, 2 + k, 3, 4), F4K + (32 + k) * 4096ull, PG_4K, PG_W);
		map_ok(&f, va_of(1 + k, 2, 3, 4), F4K + (48 + k) * 4096ull, PG_4K, PG_W);
	}
	const uint64_t extra = B_A | B_D | B_PWT | B_PCD | 7ull << 9;
	for (unsigned level = lv; level >= 2; level--)
		table_at(&f, va, level)[idx(va, level)] |= extra;
	pg_mapping m;
	pg_translation t;
	CHECK_ERR(pg_translate(&f.s, pg_va(va + 0x80), &t), PG_OK);
	CHECK_ERR(pg_translate_fast(&f.s, pg_va(va + 0x80), &m), PG_OK);
	CHECK_EQ(m.phys.pa, F4K + 0x80);
	CHECK_EQ(m.size, PG_4K);
	CHECK_EQ(m.flags, t.flags);
	CHECK_EQ(m.flags, PG_W | PG_U | PG_CACHE_WC);
	for (unsigned level = lv; level >= 2; level--)
		table_at(&f, va, level)[idx(va, level)] &= ~extra;
	fx_down(&f);
}

/* The 512th page of a level-1 table mapped by a walk (the cached table is another one)
 * brings the level-2 entry's count from 511 to 512: fx_down checks every count. */
PT_TEST(map_by_walk_counts_the_last_free_entry)
{
	fx f;
	fx_up(&f);
	for (unsigned i = 0; i < 511; i++)
		map_ok(&f, va_of(1, 1, 1, i), F4K, PG_4K, PG_W);
	map_ok(&f, va_of(1, 1, 2, 0), F4K, PG_4K, PG_W); /* the cache moves away */
	map_ok(&f, va_of(1, 1, 1, 511), F4K, PG_4K, PG_W);
	CHECK_EQ(count_bits(ent(&f, va_of(1, 1, 1, 0), 2)), 512);
	fx_down(&f);
}

/* ================================================================ counts (issue 12, speed) */

/* Single-page unmaps through the cached level-1 table (the fast path) keep the exact
 * count, report frame and size, flush each page and refuse what the walk refuses; the
 * last one gives the emptied tables back at once. */
PT_TEST(unmap_fast_path_counts_and_gives_back)
{
	fx f;
	fx_up(&f);
	uint64_t va = va_of(3, 5, 7, 0);
	pg_paddr fr;
	pg_size sz;
	for (unsigned i = 0; i < 4; i++)
		map_ok(&f, va + i * 4096ull, F4K + i * 4096ull, PG_4K, PG_W);
	CHECK_EQ(count_bits(ent(&f, va, 2)), 4);
	f.nfl = 0;
	CHECK_ERR(pg_unmap(&f.s, pg_va(va + 4096), &fr, &sz), PG_OK); /* the walk; caches */
	CHECK_ERR(pg_unmap(&f.s, pg_va(va + 2 * 4096), &fr, &sz), PG_OK); /* the fast path */
	CHECK_EQ(fr.pa, F4K + 2 * 4096);
	CHECK_EQ(sz, PG_4K);
	CHECK_EQ(f.nfl, 2);
	CHECK_EQ(f.fl[1].start, va + 2 * 4096);
	CHECK_EQ(f.fl[1].len, 4096);
	CHECK_EQ(ent(&f, va + 2 * 4096, 1), 0);
	CHECK_EQ(count_bits(ent(&f, va, 2)), 2);
	CHECK_UNCHANGED(&f, pg_unmap(&f.s, pg_va(va + 2 * 4096), NULL, NULL), PG_ERR_NOT_MAPPED);
	CHECK_UNCHANGED(&f, pg_unmap(&f.s, pg_va(va + 3 * 4096 + 8), NULL, NULL),
			PG_ERR_NOT_ALIGNED);
	CHECK_ERR(pg_unmap(&f.s, pg_va(va + 3 * 4096), NULL, NULL), PG_OK);
	CHECK_EQ(sim_outstanding(&f.ram), T(4));
	CHECK_ERR(pg_unmap(&f.s, pg_va(va), NULL, NULL), PG_OK);
	CHECK_EQ(sim_outstanding(&f.ram), 1);
	CHECK_EQ(pg_table(&f.s, f.s.root)[lv == 5 ? 0 : 3], 0);
	fx_down(&f);
}

/* Tables built elsewhere carry no counts (bits 52-61 zero): unmap counts such a table
 * once, never gives it back while it holds a page, and does when it empties; maps and
 * map_range into it leave exact counts too. */
PT_TEST(tables_without_counts_are_counted_on_first_use)
{
	fx f;
	fx_up(&f);
	uint64_t va = va_of(3, 5, 7, 0);
	CHECK_ERR(pg_map_range(&f.s, pg_va(va), pg_pa(F4K), 3 * 4096, PG_W, PG_4K), PG_OK);
	map_ok(&f, va_of(3, 5, 9, 0), F2M, PG_2M, PG_W);
	for (unsigned level = lv; level >= 2; level--) /* as firmware would have built them */
		table_at(&f, va, level)[idx(va, level)] &= ~(0x3ffull << 52);
	pg_space b; /* a fresh handle: no cache */
	CHECK_ERR(pg_space_attach(&b, f.s.root, &f.frames, sim_offset(&f.ram), true, true, 52, lv),
		  PG_OK);
	CHECK_ERR(pg_unmap(&b, pg_va(va), NULL, NULL), PG_OK);
	CHECK_EQ(count_bits(ent(&f, va, 2)), 2);
	CHECK_EQ(sim_outstanding(&f.ram), T(4));
	CHECK_ERR(pg_map(&b, pg_va(va + 9 * 4096), pg_pa(F4K), PG_4K, 0, NULL), PG_OK);
	CHECK_EQ(count_bits(ent(&f, va, 2)), 3);
	CHECK_ERR(pg_unmap_range(&b, pg_va(va), 2 * MIB, NULL), PG_OK);
	CHECK_EQ(sim_outstanding(&f.ram), T(3)); /* the PT went, the PD keeps the 2M leaf */
	table_at(&f, va, 3)[idx(va, 3)] &= ~(0x3ffull << 52);
	CHECK_ERR(pg_unmap(&b, pg_va(va_of(3, 5, 9, 0)), NULL, NULL), PG_OK);
	CHECK_EQ(sim_outstanding(&f.ram), 1);
	fx_down(&f);
}
