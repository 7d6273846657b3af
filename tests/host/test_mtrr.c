/* test_mtrr.c - common/mtrr.c and efi/pure/physplan.c over synthetic MTRR sets (a desktop
 * with TOLUD and stolen graphics memory, AMD with TOM2, a laptop with SMRAM carve-outs, odd
 * masks, overlaps, default UC and WB), each checked granule by granule against the
 * brute-force reference in mtrr_ref.h, and the physmap's choice of pages over them. */
#include <string.h>

#include "mtrr.h"
#include "mtrr_ref.h"
#include "physplan.h"
#include "test.h"

#define KIB (1ull << 10)
#define MIB (1ull << 20)
#define GIB (1ull << 30)

static uint64_t bytes_of(unsigned t) { return 0x0101010101010101ull * t; }

/* A PC's fixed ranges (WB below 640 KiB, UC legacy video, WP option ROMs and BIOS, UC
 * between them) and an empty set of ten variable ranges. */
static mtrr_state pc(unsigned def)
{
	mtrr_state m;
	memset(&m, 0, sizeof m);
	m.present = true;
	m.phys_bits = 39;
	m.cap = 10 | MTRR_CAP_FIX | MTRR_CAP_WC;
	m.def_type = def | MTRR_DEF_E | MTRR_DEF_FE;
	m.fixed[0] = m.fixed[1] = bytes_of(MTRR_WB);
	m.fixed[2] = bytes_of(MTRR_UC);
	for (unsigned i = 3; i < 11; i++)
		m.fixed[i] = bytes_of(i < 5 || i > 8 ? MTRR_WP : MTRR_UC);
	m.var_count = 10;
	return m;
}

/* Variable range n: [base, base+size), size a power of two, as firmware programs it. */
static void var(mtrr_state *m, unsigned n, uint64_t base, uint64_t size, unsigned type)
{
	m->var_base[n] = base | type;
	m->var_mask[n] = (~(size - 1) & mtrr_addr_bits(m)) | MTRR_MASK_VALID;
}

/* Every granule of [lo, hi) stepping by step: mtrr_type_at equals the reference. */
static void check_types(const mtrr_state *m, uint64_t lo, uint64_t hi, uint64_t step)
{
	unsigned bad = 0;
	for (uint64_t pa = lo; pa < hi; pa += step) {
		unsigned got = mtrr_type_at(m, pa, NULL), want = ref_type(m, pa);
		if (got != want && bad++ < 3)
			test_fail(__FILE__, __LINE__, "type at 0x%" PRIx64 ": %s, reference %s", pa,
				  mtrr_type_name(got), mtrr_type_name(want));
	}
}

/* mtrr_page_shift against the reference: 1 GiB at every 1 GiB, 2 MiB at every 2 MiB. */
static void check_shifts(const mtrr_state *m, uint64_t hi)
{
	unsigned bad = 0;
	for (uint64_t pa = 0; pa < hi; pa += GIB) {
		unsigned got = mtrr_page_shift(m, pa, hi, 30), want = ref_page_shift(m, pa, hi, 30);
		if (got != want && bad++ < 3)
			test_fail(__FILE__, __LINE__, "shift at 0x%" PRIx64 ": %u, reference %u", pa,
				  got, want);
	}
	for (uint64_t pa = 0; pa < hi; pa += 2 * MIB) {
		unsigned got = mtrr_page_shift(m, pa, hi, 21), want = ref_page_shift(m, pa, hi, 21);
		if (got != want && bad++ < 3)
			test_fail(__FILE__, __LINE__, "shift<=21 at 0x%" PRIx64 ": %u, reference %u",
				  pa, got, want);
	}
}

/* ---- the physmap's plan, collected and judged */

typedef struct {
	uint64_t pa, len;
	unsigned shift;
} run;

static run runs[1 << 14];
static unsigned n_runs;

static pg_err collect(void *ctx, uint64_t pa, uint64_t len, unsigned shift)
{
	(void)ctx;
	if (n_runs == sizeof runs / sizeof runs[0])
		return PG_ERR_NO_FRAMES;
	runs[n_runs++] = (run){ pa, len, shift };
	return PG_OK;
}

static bool ram_at(const mem_list *l, const physplan *p, uint64_t pa)
{
	int k = mem_list_kind_at(l, pa);
	bool skipped = pa + 4096 > p->skip_lo && pa < p->skip_hi;
	return k >= 0 && mem_kind_ram_like((uint32_t)k) && !skipped && pa < p->limit;
}

/* The whole page at pa of 1 << shift is mappable: RAM-like throughout, one type. */
static bool page_ok(const mem_list *l, const physplan *p, uint64_t pa, unsigned shift)
{
	unsigned t;
	for (uint64_t g = pa; g < pa + (1ull << shift); g += 4096)
		if (!ram_at(l, p, g))
			return false;
	return ref_uniform(p->mtrr, pa, 1ull << shift, &t);
}

/* Plans the physmap over l and checks it: in order, aligned, every page mappable, every
 * RAM-like granule covered once and nothing else, no page that could have been larger.
 * Returns the page counts through p. */
static void check_plan(const mem_list *l, physplan *p, uint64_t top)
{
	n_runs = 0;
	CHECK_ERR(physplan_map(p, l, collect, NULL), PG_OK);
	unsigned bad = 0, r = 0;
	uint64_t last_big = ~0ull;
	bool last_big_ok = false;
	for (unsigned i = 0; i < n_runs; i++) {
		uint64_t size = 1ull << runs[i].shift;
		if (((runs[i].pa | runs[i].len) & (size - 1)) ||
		    (i && runs[i].pa < runs[i - 1].pa + runs[i - 1].len)) {
			if (bad++ < 3)
				test_fail(__FILE__, __LINE__, "run %u at 0x%" PRIx64 " unaligned or out of order", i, runs[i].pa);
			continue;
		}
		for (uint64_t pa = runs[i].pa; pa < runs[i].pa + runs[i].len; pa += size) {
			if (!page_ok(l, p, pa, runs[i].shift) && bad++ < 3)
				test_fail(__FILE__, __LINE__, "page 0x%" PRIx64 " shift %u not mappable", pa, runs[i].shift);
			unsigned up = runs[i].shift + 9;
			if (up > p->max_shift)
				continue;
			uint64_t big = pa & ~((1ull << up) - 1);
			if (big != last_big) {
				last_big = big;
				last_big_ok = page_ok(l, p, big, up);
			}
			if (last_big_ok && bad++ < 3)
				test_fail(__FILE__, __LINE__, "page 0x%" PRIx64 " shift %u could be %u", pa, runs[i].shift, up);
		}
	}
	/* coverage: granule by granule, RAM-like (and not skipped) exactly when a run has it */
	for (uint64_t pa = 0; pa < top; pa += 4096) {
		while (r < n_runs && runs[r].pa + runs[r].len <= pa)
			r++;
		bool mapped = r < n_runs && runs[r].pa <= pa;
		if (mapped != ram_at(l, p, pa) && bad++ < 3)
			test_fail(__FILE__, __LINE__, "granule 0x%" PRIx64 " mapped=%d ram=%d", pa, mapped,
				  ram_at(l, p, pa));
	}
}

static mem_region store[64];

static mem_list regions(const mem_region *r, size_t n)
{
	mem_list l;
	mem_list_init(&l, store, 64);
	for (size_t i = 0; i < n; i++)
		CHECK_ERR(mem_list_set(&l, r[i].start, r[i].length, (mem_kind)r[i].kind), PG_OK);
	return l;
}

static physplan plan(const mtrr_state *m, unsigned max_shift)
{
	physplan p;
	memset(&p, 0, sizeof p);
	p.mtrr = m;
	p.max_shift = max_shift;
	p.limit = 1ull << m->phys_bits;
	return p;
}

/* ---- the machines */

/* Intel desktop, 8 GiB: TOLUD at 3 GiB, TSEG and 64 MiB of stolen graphics memory below
 * it (both UC), default UC, RAM above 4 GiB remapped to 9 GiB by two WB ranges. */
static mtrr_state intel_desktop(void)
{
	mtrr_state m = pc(MTRR_UC);
	var(&m, 0, 0, 4 * GIB, MTRR_WB);
	var(&m, 1, 3 * GIB, GIB, MTRR_UC);
	var(&m, 2, 0xBC000000, 64 * MIB, MTRR_UC);
	var(&m, 3, 0xBB800000, 8 * MIB, MTRR_UC);
	var(&m, 4, 4 * GIB, 4 * GIB, MTRR_WB);
	var(&m, 5, 8 * GIB, GIB, MTRR_WB);
	return m;
}

static const mem_region intel_map[] = {
	{ 0, 0xA0000, MEM_USABLE, 0 },
	{ 0x100000, 0x3FF00000, MEM_USABLE, 0 },
	{ 0x40000000, 0x7B800000, MEM_BOOT_RECLAIMABLE, 0 },
	{ 0xBB800000, 0x800000, MEM_RESERVED, 0 },   /* TSEG */
	{ 0xBC000000, 0x4000000, MEM_RESERVED, 0 },  /* stolen graphics */
	{ 0xFEC00000, 0x1400000, MEM_MMIO, 0 },
	{ 4 * GIB, 5 * GIB, MEM_USABLE, 0 },
};

TEST(mtrr_intel_desktop_types_match_reference)
{
	mtrr_state m = intel_desktop();
	check_types(&m, 0, 2 * MIB, 4 * KIB);
	check_types(&m, 0xBB000000, 0xC1000000, 4 * KIB);
	check_types(&m, 0, 10 * GIB, 2 * MIB);
	CHECK_EQ(mtrr_type_at(&m, 0x9F000, NULL), MTRR_WB);
	CHECK_EQ(mtrr_type_at(&m, 0xA0000, NULL), MTRR_UC);
	CHECK_EQ(mtrr_type_at(&m, 0xC0000, NULL), MTRR_WP);
	CHECK_EQ(mtrr_type_at(&m, 0xBB7FF000, NULL), MTRR_WB);
	CHECK_EQ(mtrr_type_at(&m, 0xBB800000, NULL), MTRR_UC);
	CHECK_EQ(mtrr_type_at(&m, 0x23FFFF000, NULL), MTRR_WB);
	CHECK_EQ(mtrr_type_at(&m, 0x240000000, NULL), MTRR_UC); /* default above the RAM */
	check_shifts(&m, 10 * GIB);
}

TEST(mtrr_intel_desktop_ranges_and_pages)
{
	mtrr_state m = intel_desktop();
	unsigned t = 99;
	CHECK(!mtrr_range_type(&m, 0, GIB, &t, NULL));  /* legacy UC inside the first 1 GiB */
	CHECK(!mtrr_range_type(&m, 0, 2 * MIB, &t, NULL));
	CHECK(mtrr_range_type(&m, GIB, GIB, &t, NULL) && t == MTRR_WB);
	CHECK(!mtrr_range_type(&m, 2 * GIB, GIB, &t, NULL)); /* TSEG and stolen at the top */
	CHECK(mtrr_range_type(&m, 0xBB800000, 72 * MIB, &t, NULL) && t == MTRR_UC);
	CHECK_EQ(mtrr_page_shift(&m, 0, 4 * GIB, 30), 12);
	CHECK_EQ(mtrr_page_shift(&m, 0x200000, 4 * GIB, 30), 21);
	CHECK_EQ(mtrr_page_shift(&m, GIB, 4 * GIB, 30), 30);
	CHECK_EQ(mtrr_page_shift(&m, GIB, 4 * GIB, 21), 21); /* the caller's cap */
	CHECK_EQ(mtrr_page_shift(&m, 2 * GIB, 4 * GIB, 30), 21);
	CHECK_EQ(mtrr_page_shift(&m, GIB, GIB + 2 * MIB, 30), 21); /* the limit */
	CHECK_EQ(mtrr_page_shift(&m, 0x1800, 4 * GIB, 30), 0);      /* unaligned */
}

TEST(physplan_intel_desktop)
{
	mtrr_state m = intel_desktop();
	mem_list l = regions(intel_map, sizeof intel_map / sizeof intel_map[0]);
	physplan p = plan(&m, 30);
	check_plan(&l, &p, 10 * GIB);
	/* 160 + 256 small pages under 2 MiB, 2 MiB up to 1 GiB and from 2 GiB to TSEG, one
	 * 1 GiB page at 1 GiB and five above 4 GiB */
	CHECK_EQ(p.pages[0], 160 + 256);
	CHECK_EQ(p.pages[1], 511 + 476);
	CHECK_EQ(p.pages[2], 6);
	CHECK_EQ(p.end, 9 * GIB);
}

/* AMD, 16 GiB: default UC, WB ranges below 3 GiB, and RAM above 4 GiB WB through TOM2
 * alone (no variable range covers it). */
static mtrr_state amd_tom2(void)
{
	mtrr_state m = pc(MTRR_UC);
	m.phys_bits = 48;
	var(&m, 0, 0, 2 * GIB, MTRR_WB);
	var(&m, 1, 2 * GIB, GIB, MTRR_WB);
	var(&m, 2, 0xBF000000, 16 * MIB, MTRR_UC);
	m.tom2 = 0x440000000;
	return m;
}

TEST(mtrr_amd_tom2)
{
	mtrr_state m = amd_tom2();
	unsigned t = 99;
	check_types(&m, 0, 20 * GIB, 2 * MIB);
	check_types(&m, 0x43FE00000, 0x440200000, 4 * KIB);
	CHECK_EQ(mtrr_type_at(&m, 4 * GIB, NULL), MTRR_WB);
	CHECK_EQ(mtrr_type_at(&m, 0x43FFFF000, NULL), MTRR_WB);
	CHECK_EQ(mtrr_type_at(&m, 0x440000000, NULL), MTRR_UC);
	CHECK_EQ(mtrr_type_at(&m, 0xC0000000, NULL), MTRR_UC); /* the hole keeps the default */
	CHECK(mtrr_range_type(&m, 4 * GIB, 13 * GIB, &t, NULL) && t == MTRR_WB);
	CHECK(!mtrr_range_type(&m, 3 * GIB, 2 * GIB, &t, NULL)); /* across 4 GiB */
	check_shifts(&m, 20 * GIB);
	m.tom2 = 0;
	CHECK_EQ(mtrr_type_at(&m, 4 * GIB, NULL), MTRR_UC); /* without TOM2: the default */
	static const mem_region map[] = {
		{ 0, 0x9F000, MEM_USABLE, 0 }, { 0x100000, 0xBEF00000, MEM_USABLE, 0 },
		{ 0xBF000000, 0x1000000, MEM_RESERVED, 0 }, { 4 * GIB, 13 * GIB, MEM_USABLE, 0 },
	};
	m.tom2 = 0x440000000;
	mem_list l = regions(map, 4);
	physplan p = plan(&m, 30);
	check_plan(&l, &p, 20 * GIB);
	CHECK_EQ(p.pages[2], 1 + 13); /* [1, 2) GiB and every GiB of the high RAM */
}

/* A laptop: default WB, the PCI hole UC, SMRAM (TSEG) and a firmware carve-out below it UC. */
static mtrr_state laptop(void)
{
	mtrr_state m = pc(MTRR_WB);
	var(&m, 0, 2 * GIB, 2 * GIB, MTRR_UC);
	var(&m, 1, 0x7F800000, 8 * MIB, MTRR_UC);
	var(&m, 2, 0x7F400000, 4 * MIB, MTRR_UC);
	return m;
}

TEST(mtrr_laptop_smram)
{
	mtrr_state m = laptop();
	unsigned t = 99;
	check_types(&m, 0x7F000000, 0x80200000, 4 * KIB);
	check_types(&m, 0, 8 * GIB, 2 * MIB);
	CHECK(mtrr_range_type(&m, 0x7F400000, 12 * MIB, &t, NULL) && t == MTRR_UC);
	CHECK(!mtrr_range_type(&m, GIB, GIB, &t, NULL));
	check_shifts(&m, 8 * GIB);
	static const mem_region map[] = {
		{ 0, 0x9F000, MEM_USABLE, 0 },            /* the EBDA page after it is reserved */
		{ 0x9F000, 0x1000, MEM_RESERVED, 0 },
		{ 0x100000, 0x7F300000, MEM_USABLE, 0 },
		{ 0x7F400000, 0xC00000, MEM_RESERVED, 0 },
		{ 4 * GIB, 2 * GIB, MEM_USABLE, 0 },
	};
	mem_list l = regions(map, 5);
	physplan p = plan(&m, 30);
	check_plan(&l, &p, 8 * GIB);
	CHECK_EQ(p.pages[0], 159 + 256);
	CHECK_EQ(p.pages[1], 511 + 506);
	CHECK_EQ(p.pages[2], 2);
}

/* Masks no firmware should write: holes in the mask (a range repeating every 4 GiB and
 * every 4 MiB), a base with bits below the mask, mask bits above MAXPHYADDR. */
TEST(mtrr_odd_masks)
{
	mtrr_state m = pc(MTRR_WB);
	m.var_base[0] = 0x200000 | MTRR_UC;
	m.var_mask[0] = (1ull << 21) | (1ull << 32) | MTRR_MASK_VALID; /* 2 MiB of every 4 MiB, low 4 GiB of every 8 */
	m.var_base[1] = (3 * GIB + 0x1234000) | MTRR_WT;                /* base bits below the mask */
	m.var_mask[1] = (~(GIB - 1) & 0xFFFFFFFFFFFFF000ull) | MTRR_MASK_VALID; /* bits past MAXPHYADDR */
	m.var_base[2] = (5 * GIB) | MTRR_WC;
	m.var_mask[2] = (1ull << 12) | (~(GIB - 1) & mtrr_addr_bits(&m)) | MTRR_MASK_VALID;
	check_types(&m, 0, 12 * MIB, 4 * KIB);
	check_types(&m, 5 * GIB, 5 * GIB + 64 * KIB, 4 * KIB);
	check_types(&m, 0, 16 * GIB, 2 * MIB);
	CHECK_EQ(mtrr_type_at(&m, 0x200000, NULL), MTRR_UC);
	CHECK_EQ(mtrr_type_at(&m, 0x400000, NULL), MTRR_WB);
	CHECK_EQ(mtrr_type_at(&m, 0x600000, NULL), MTRR_UC);
	CHECK_EQ(mtrr_type_at(&m, 4 * GIB + 0x200000, NULL), MTRR_WB);
	CHECK_EQ(mtrr_type_at(&m, 3 * GIB, NULL), MTRR_WT);
	CHECK_EQ(mtrr_type_at(&m, 5 * GIB, NULL), MTRR_WC);         /* bit 12 clear, as the base */
	CHECK_EQ(mtrr_type_at(&m, 5 * GIB + 0x1000, NULL), MTRR_WB);
	CHECK_EQ(mtrr_page_shift(&m, 5 * GIB, 8 * GIB, 30), 12);
	CHECK_EQ(mtrr_page_shift(&m, 0x400000, 8 * GIB, 30), 21);
	check_shifts(&m, 16 * GIB);
}

/* Overlaps: UC wins over anything, WT over WB; any other mix is undefined: UC, noted. */
TEST(mtrr_overlaps)
{
	mtrr_state m = pc(MTRR_UC);
	unsigned notes = 0, t = 99;
	var(&m, 0, 0, 4 * GIB, MTRR_WB);
	var(&m, 1, GIB, 256 * MIB, MTRR_WT);
	var(&m, 2, GIB + 128 * MIB, 64 * MIB, MTRR_UC);
	var(&m, 3, 2 * GIB, GIB, MTRR_WC);
	var(&m, 4, 4 * GIB, 512 * MIB, MTRR_WP);
	var(&m, 5, 4 * GIB, 256 * MIB, MTRR_WP);
	CHECK_EQ(mtrr_type_at(&m, GIB, &notes), MTRR_WT);
	CHECK_EQ(mtrr_type_at(&m, GIB + 128 * MIB, &notes), MTRR_UC);
	CHECK_EQ(notes, 0);
	CHECK_EQ(mtrr_type_at(&m, 4 * GIB, &notes), MTRR_WP); /* two WP ranges: the same type */
	CHECK_EQ(notes, 0);
	CHECK_EQ(mtrr_type_at(&m, 2 * GIB, &notes), MTRR_UC); /* WC over WB: undefined */
	CHECK_EQ(notes, MTRR_NOTE_OVERLAP);
	notes = 0;
	CHECK(mtrr_range_type(&m, GIB, 128 * MIB, &t, &notes) && t == MTRR_WT);
	CHECK(!mtrr_range_type(&m, GIB, 256 * MIB, &t, NULL));
	check_types(&m, 0, 7 * GIB, 2 * MIB);
	check_shifts(&m, 7 * GIB);
	m.var_base[6] = 6 * GIB | 3; /* a reserved type */
	m.var_mask[6] = (~(GIB - 1) & mtrr_addr_bits(&m)) | MTRR_MASK_VALID;
	notes = 0;
	CHECK_EQ(mtrr_type_at(&m, 6 * GIB, &notes), MTRR_UC);
	CHECK_EQ(notes, MTRR_NOTE_BAD_TYPE);
}

/* The default type where nothing matches; E clear makes everything UC; no MTRRs at all
 * makes everything WB; FE clear hands the first MiB to the variable ranges. */
TEST(mtrr_defaults)
{
	mtrr_state m = pc(MTRR_WB);
	unsigned t = 99;
	CHECK_EQ(mtrr_type_at(&m, 7 * GIB, NULL), MTRR_WB);
	CHECK_EQ(mtrr_page_shift(&m, 0, 8 * GIB, 30), 12); /* the fixed ranges still split it */
	m.def_type &= ~MTRR_DEF_FE;
	CHECK_EQ(mtrr_type_at(&m, 0xA0000, NULL), MTRR_WB);
	CHECK_EQ(mtrr_page_shift(&m, 0, 8 * GIB, 30), 30);
	check_types(&m, 0, 2 * MIB, 4 * KIB);
	m = pc(MTRR_UC);
	CHECK_EQ(mtrr_type_at(&m, 7 * GIB, NULL), MTRR_UC);
	CHECK(mtrr_range_type(&m, GIB, 7 * GIB, &t, NULL) && t == MTRR_UC);
	m.def_type &= ~MTRR_DEF_E;
	m.def_type |= MTRR_WB;
	CHECK_EQ(mtrr_type_at(&m, 0x1000, NULL), MTRR_UC);
	CHECK_EQ(mtrr_page_shift(&m, 0, 8 * GIB, 30), 30);
	check_types(&m, 0, 2 * MIB, 4 * KIB);
	memset(&m, 0, sizeof m);
	m.phys_bits = 36;
	CHECK_EQ(mtrr_type_at(&m, 0xA0000, NULL), MTRR_WB);
	CHECK(mtrr_range_type(&m, 0, 64 * GIB, &t, NULL) && t == MTRR_WB);
}

TEST(mtrr_bad_arguments)
{
	mtrr_state m = intel_desktop();
	unsigned t = 99;
	CHECK(!mtrr_range_type(&m, 0, 0, &t, NULL));
	CHECK(!mtrr_range_type(&m, 0x800, 4096, &t, NULL));
	CHECK(!mtrr_range_type(&m, GIB, 0x800, &t, NULL));
	CHECK(!mtrr_range_type(&m, ~0xfffull, 0x2000, &t, NULL)); /* wraps */
	CHECK_EQ(t, 99);
	CHECK_EQ(mtrr_page_shift(&m, 4 * GIB, 4 * GIB, 30), 0); /* nothing fits */
	physplan p = plan(&m, 30);
	n_runs = 0;
	CHECK_ERR(physplan_range(&p, 0x1800, 0x4000, collect, NULL), PG_ERR_BAD_ARG);
	CHECK_ERR(physplan_range(&p, 0x4000, 0x2000, collect, NULL), PG_ERR_BAD_ARG);
	CHECK_EQ(n_runs, 0);
	CHECK_EQ(p.pages[0] + p.pages[1] + p.pages[2], 0);
}

/* SDM table "Effective Page-Level Memory Types": a PAT type over an MTRR type. */
TEST(mtrr_effective_table)
{
	CHECK_EQ(mtrr_effective(MTRR_UC, MTRR_WC), MTRR_WC);
	CHECK_EQ(mtrr_effective(MTRR_UC, MTRR_WB), MTRR_UC);
	CHECK_EQ(mtrr_effective(MTRR_WB, MTRR_WB), MTRR_WB);
	CHECK_EQ(mtrr_effective(MTRR_WB, MTRR_UC_MINUS), MTRR_UC);
	CHECK_EQ(mtrr_effective(MTRR_WC, MTRR_UC_MINUS), MTRR_WC);
	CHECK_EQ(mtrr_effective(MTRR_WC, MTRR_WB), MTRR_WC);
	CHECK_EQ(mtrr_effective(MTRR_WC, MTRR_WT), MTRR_UC);
	CHECK_EQ(mtrr_effective(MTRR_WT, MTRR_WB), MTRR_WT);
	CHECK_EQ(mtrr_effective(MTRR_WB, MTRR_WT), MTRR_WT);
	CHECK_EQ(mtrr_effective(MTRR_WB, MTRR_WC), MTRR_WC);
	CHECK_EQ(mtrr_effective(MTRR_WB, MTRR_UC), MTRR_UC);
	CHECK_EQ(mtrr_effective(2, MTRR_WB), MTRR_UC); /* a reserved MTRR type */
}

/* The framebuffer inside RAM-like memory is skipped, pages around it stay exact, and
 * nothing at or above MAXPHYADDR is planned. */
TEST(physplan_skip_and_limit)
{
	mtrr_state m = pc(MTRR_WB);
	m.def_type &= ~MTRR_DEF_FE;
	m.phys_bits = 33; /* 8 GiB */
	static const mem_region map[] = { { 0, 12 * GIB, MEM_BOOT_RECLAIMABLE, 0 } };
	mem_list l = regions(map, 1);
	physplan p = plan(&m, 30);
	p.skip_lo = GIB + 0x1800;        /* not page aligned: the whole page goes */
	p.skip_hi = GIB + 3 * MIB + 0x10;
	check_plan(&l, &p, 12 * GIB);
	CHECK_EQ(p.pages[2], 1 + 6);       /* [0, 1) GiB, then [2, 8) GiB */
	CHECK_EQ(p.pages[1], 510);         /* [1 GiB + 4 MiB, 2 GiB) */
	CHECK_EQ(p.pages[0], 1 + 255);     /* before the framebuffer, and up to 1 GiB + 4 MiB */
	CHECK_EQ(p.end, 8 * GIB);
	CHECK_EQ(runs[0].pa, 0);
	CHECK_EQ(runs[1].pa, GIB);          /* the first page of the GiB, then the gap */
	CHECK_EQ(runs[1].len, 0x1000);
	CHECK_EQ(runs[2].pa, GIB + 3 * MIB + 0x1000);
}
