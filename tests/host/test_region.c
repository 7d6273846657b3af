/* test_region.c - host tests of the memory-region list (paging/region.c): set, the
 * conservative add, normalize, and the promise that running out of storage changes nothing. */
#include <stdlib.h>
#include <string.h>

#include "region.h"
#include "test.h"

#define K4 0x1000ull

/* True when l is sorted, non-overlapping, merged and free of empty regions. */
static bool well_formed(const mem_list *l)
{
	for (size_t i = 0; i < l->count; i++) {
		if (l->r[i].length == 0 || l->r[i].kind >= MEM_KIND_COUNT || l->r[i].reserved)
			return false;
		if (i == 0)
			continue;
		uint64_t pe = l->r[i - 1].start + l->r[i - 1].length;
		if (pe > l->r[i].start)
			return false;
		if (pe == l->r[i].start && l->r[i - 1].kind == l->r[i].kind)
			return false;
	}
	return true;
}

static bool region_is(const mem_list *l, size_t i, uint64_t start, uint64_t length,
		      mem_kind kind)
{
	return i < l->count && l->r[i].start == start && l->r[i].length == length &&
	       l->r[i].kind == (uint32_t)kind;
}

/* Setting a range on an empty list creates exactly that region. */
TEST(region_set_into_empty)
{
	mem_region st[4];
	mem_list l;
	mem_list_init(&l, st, 4);
	CHECK_ERR(mem_list_set(&l, 0x1000, 0x3000, MEM_USABLE), PG_OK);
	CHECK_EQ(l.count, 1);
	CHECK(region_is(&l, 0, 0x1000, 0x3000, MEM_USABLE));
}

/* Adjacent ranges of the same kind merge into one region. */
TEST(region_set_merges_adjacent_same_kind)
{
	mem_region st[4];
	mem_list l;
	mem_list_init(&l, st, 4);
	CHECK_ERR(mem_list_set(&l, 0x3000, 0x1000, MEM_USABLE), PG_OK);
	CHECK_ERR(mem_list_set(&l, 0x1000, 0x1000, MEM_USABLE), PG_OK);
	CHECK_ERR(mem_list_set(&l, 0x2000, 0x1000, MEM_USABLE), PG_OK);
	CHECK_EQ(l.count, 1);
	CHECK(region_is(&l, 0, 0x1000, 0x3000, MEM_USABLE));
}

/* Adjacent ranges of different kinds stay separate regions. */
TEST(region_set_keeps_adjacent_different_kinds)
{
	mem_region st[4];
	mem_list l;
	mem_list_init(&l, st, 4);
	CHECK_ERR(mem_list_set(&l, 0x1000, 0x1000, MEM_USABLE), PG_OK);
	CHECK_ERR(mem_list_set(&l, 0x2000, 0x1000, MEM_MMIO), PG_OK);
	CHECK_EQ(l.count, 2);
	CHECK(region_is(&l, 0, 0x1000, 0x1000, MEM_USABLE));
	CHECK(region_is(&l, 1, 0x2000, 0x1000, MEM_MMIO));
}

/* Setting the middle of a region splits it into three. */
TEST(region_set_splits_middle)
{
	mem_region st[4];
	mem_list l;
	mem_list_init(&l, st, 4);
	CHECK_ERR(mem_list_set(&l, 0, 0x10000, MEM_USABLE), PG_OK);
	CHECK_ERR(mem_list_set(&l, 0x4000, 0x2000, MEM_KERNEL), PG_OK);
	CHECK_EQ(l.count, 3);
	CHECK(region_is(&l, 0, 0, 0x4000, MEM_USABLE));
	CHECK(region_is(&l, 1, 0x4000, 0x2000, MEM_KERNEL));
	CHECK(region_is(&l, 2, 0x6000, 0xa000, MEM_USABLE));
}

/* set overrides whatever was there, even a more restrictive kind. */
TEST(region_set_overrides_restrictive)
{
	mem_region st[8];
	mem_list l;
	mem_list_init(&l, st, 8);
	CHECK_ERR(mem_list_set(&l, 0x0000, 0x2000, MEM_USABLE), PG_OK);
	CHECK_ERR(mem_list_set(&l, 0x2000, 0x2000, MEM_BAD), PG_OK);
	CHECK_ERR(mem_list_set(&l, 0x5000, 0x2000, MEM_MMIO), PG_OK);
	CHECK_ERR(mem_list_set(&l, 0x1000, 0x5000, MEM_USABLE), PG_OK);
	CHECK(well_formed(&l));
	CHECK_EQ(l.count, 2);
	CHECK(region_is(&l, 0, 0, 0x6000, MEM_USABLE));
	CHECK(region_is(&l, 1, 0x6000, 0x1000, MEM_MMIO));
}

/* Zero length, a range that wraps past 2^64 and an unknown kind are bad arguments. */
TEST(region_set_rejects_bad_args)
{
	mem_region st[4];
	mem_list l;
	mem_list_init(&l, st, 4);
	CHECK_ERR(mem_list_set(&l, 0x1000, 0, MEM_USABLE), PG_ERR_BAD_ARG);
	CHECK_ERR(mem_list_set(&l, UINT64_MAX - 0xfff, 0x1000, MEM_USABLE), PG_ERR_BAD_ARG);
	CHECK_ERR(mem_list_set(&l, 0x1000, UINT64_MAX, MEM_USABLE), PG_ERR_BAD_ARG);
	CHECK_ERR(mem_list_set(&l, 0x1000, 0x1000, MEM_KIND_COUNT), PG_ERR_BAD_ARG);
	CHECK_ERR(mem_list_add(&l, UINT64_MAX - 0xfff, 0x1000, MEM_USABLE), PG_ERR_BAD_ARG);
	CHECK_EQ(l.count, 0);
	CHECK_ERR(mem_list_set(&l, UINT64_MAX - 0x1000, 0x1000, MEM_USABLE), PG_OK);
}

/* A set that needs more storage than there is fails and leaves the list unchanged. */
TEST(region_set_full_storage_unchanged)
{
	mem_region st[2];
	mem_list l;
	mem_list_init(&l, st, 2);
	CHECK_ERR(mem_list_set(&l, 0, 0x10000, MEM_USABLE), PG_OK);
	CHECK_ERR(mem_list_set(&l, 0x20000, 0x1000, MEM_MMIO), PG_OK);
	CHECK_ERR(mem_list_set(&l, 0x4000, 0x1000, MEM_KERNEL), PG_ERR_NO_FRAMES);
	CHECK_EQ(l.count, 2);
	CHECK(region_is(&l, 0, 0, 0x10000, MEM_USABLE));
	CHECK(region_is(&l, 1, 0x20000, 0x1000, MEM_MMIO));
	/* A set that only trims fits even at full storage. */
	CHECK_ERR(mem_list_set(&l, 0, 0x1000, MEM_KERNEL), PG_ERR_NO_FRAMES);
	CHECK_ERR(mem_list_set(&l, 0x10000, 0x10000, MEM_MMIO), PG_OK);
	CHECK_EQ(l.count, 2);
	CHECK(region_is(&l, 1, 0x10000, 0x11000, MEM_MMIO));
}

/* add never weakens a byte: a less restrictive kind over a more restrictive one is ignored. */
TEST(region_add_keeps_restrictive)
{
	mem_region st[4];
	mem_list l;
	mem_list_init(&l, st, 4);
	CHECK_ERR(mem_list_add(&l, 0x2000, 0x2000, MEM_RESERVED), PG_OK);
	CHECK_ERR(mem_list_add(&l, 0x2000, 0x2000, MEM_USABLE), PG_OK);
	CHECK_EQ(l.count, 1);
	CHECK(region_is(&l, 0, 0x2000, 0x2000, MEM_RESERVED));
}

/* add of a more restrictive kind wins where it overlaps and nowhere else. */
TEST(region_add_restrictive_wins_overlap)
{
	mem_region st[4];
	mem_list l;
	mem_list_init(&l, st, 4);
	CHECK_ERR(mem_list_add(&l, 0x0000, 0x4000, MEM_USABLE), PG_OK);
	CHECK_ERR(mem_list_add(&l, 0x3000, 0x3000, MEM_ACPI_NVS), PG_OK);
	CHECK_EQ(l.count, 2);
	CHECK(region_is(&l, 0, 0, 0x3000, MEM_USABLE));
	CHECK(region_is(&l, 1, 0x3000, 0x3000, MEM_ACPI_NVS));
}

/* add fills the gaps and weaker regions around restrictive islands, leaving the islands. */
TEST(region_add_fills_around_islands)
{
	mem_region st[8];
	mem_list l;
	mem_list_init(&l, st, 8);
	CHECK_ERR(mem_list_set(&l, 0x2000, 0x1000, MEM_BAD), PG_OK);
	CHECK_ERR(mem_list_set(&l, 0x4000, 0x1000, MEM_USABLE), PG_OK);
	CHECK_ERR(mem_list_set(&l, 0x6000, 0x1000, MEM_MMIO), PG_OK);
	CHECK_ERR(mem_list_add(&l, 0x1000, 0x7000, MEM_ACPI_NVS), PG_OK);
	CHECK(well_formed(&l));
	CHECK_EQ(l.count, 5);
	CHECK(region_is(&l, 0, 0x1000, 0x1000, MEM_ACPI_NVS));
	CHECK(region_is(&l, 1, 0x2000, 0x1000, MEM_BAD));
	CHECK(region_is(&l, 2, 0x3000, 0x3000, MEM_ACPI_NVS));
	CHECK(region_is(&l, 3, 0x6000, 0x1000, MEM_MMIO));
	CHECK(region_is(&l, 4, 0x7000, 0x1000, MEM_ACPI_NVS));
}

/* An add that needs more storage fails and leaves the list unchanged. */
TEST(region_add_full_storage_unchanged)
{
	mem_region st[3];
	mem_list l;
	mem_list_init(&l, st, 3);
	CHECK_ERR(mem_list_set(&l, 0x1000, 0x1000, MEM_BAD), PG_OK);
	CHECK_ERR(mem_list_set(&l, 0x3000, 0x1000, MEM_BAD), PG_OK);
	CHECK_ERR(mem_list_add(&l, 0x0000, 0x5000, MEM_USABLE), PG_ERR_NO_FRAMES);
	CHECK_EQ(l.count, 2);
	CHECK(region_is(&l, 0, 0x1000, 0x1000, MEM_BAD));
	CHECK(region_is(&l, 1, 0x3000, 0x1000, MEM_BAD));
}

/* An add whose result fits succeeds at full storage even if a step would grow the list. */
TEST(region_add_shrinks_before_growing)
{
	mem_region st[4];
	mem_list l;
	mem_list_init(&l, st, 4);
	/* [gap][MMIO][usable][boot][usable]: the gap grows by one, the tail shrinks by two. */
	CHECK_ERR(mem_list_set(&l, 0x1000, 0x1000, MEM_MMIO), PG_OK);
	CHECK_ERR(mem_list_set(&l, 0x2000, 0x1000, MEM_USABLE), PG_OK);
	CHECK_ERR(mem_list_set(&l, 0x3000, 0x1000, MEM_BOOT_RECLAIMABLE), PG_OK);
	CHECK_ERR(mem_list_set(&l, 0x4000, 0x1000, MEM_USABLE), PG_OK);
	CHECK_ERR(mem_list_add(&l, 0x0000, 0x5000, MEM_ACPI_RECLAIMABLE), PG_OK);
	CHECK(well_formed(&l));
	CHECK_EQ(l.count, 3);
	CHECK(region_is(&l, 0, 0x0000, 0x1000, MEM_ACPI_RECLAIMABLE));
	CHECK(region_is(&l, 1, 0x1000, 0x1000, MEM_MMIO));
	CHECK(region_is(&l, 2, 0x2000, 0x3000, MEM_ACPI_RECLAIMABLE));
}

/* normalize sorts a hand-filled list, drops empty entries and merges equal neighbours. */
TEST(region_normalize_sorts_and_merges)
{
	mem_region st[6] = {
		{ 0x5000, 0x1000, MEM_USABLE, 0 },
		{ 0x1000, 0x1000, MEM_USABLE, 0 },
		{ 0x9000, 0, MEM_BAD, 0 },
		{ 0x2000, 0x3000, MEM_USABLE, 0 },
		{ 0x7000, 0x1000, MEM_MMIO, 0 },
	};
	mem_list l = { st, 5, 6 };
	CHECK_ERR(mem_list_normalize(&l), PG_OK);
	CHECK(well_formed(&l));
	CHECK_EQ(l.count, 2);
	CHECK(region_is(&l, 0, 0x1000, 0x5000, MEM_USABLE));
	CHECK(region_is(&l, 1, 0x7000, 0x1000, MEM_MMIO));
}

/* normalize resolves overlaps as add does: the more restrictive kind wins. */
TEST(region_normalize_resolves_overlaps)
{
	mem_region st[8] = {
		{ 0x0000, 0x10000, MEM_USABLE, 0 },
		{ 0x2000, 0x2000, MEM_RESERVED, 0 },
		{ 0x3000, 0x4000, MEM_BOOT_RECLAIMABLE, 0 },
		{ 0x8000, 0x1000, MEM_USABLE, 0 },
	};
	mem_list l = { st, 4, 8 };
	CHECK_ERR(mem_list_normalize(&l), PG_OK);
	CHECK(well_formed(&l));
	CHECK_EQ(l.count, 4);
	CHECK(region_is(&l, 0, 0x0000, 0x2000, MEM_USABLE));
	CHECK(region_is(&l, 1, 0x2000, 0x2000, MEM_RESERVED));
	CHECK(region_is(&l, 2, 0x4000, 0x3000, MEM_BOOT_RECLAIMABLE));
	CHECK(region_is(&l, 3, 0x7000, 0x9000, MEM_USABLE));
}

/* normalize refuses entries that wrap or carry an unknown kind, changing nothing. */
TEST(region_normalize_rejects_bad_entries)
{
	mem_region st[2] = {
		{ 0x5000, 0x1000, MEM_USABLE, 0 },
		{ UINT64_MAX, 0x1000, MEM_USABLE, 0 },
	};
	mem_list l = { st, 2, 2 };
	CHECK_ERR(mem_list_normalize(&l), PG_ERR_BAD_ARG);
	CHECK_EQ(st[0].start, 0x5000);
	st[1] = (mem_region){ 0x1000, 0x1000, 99, 0 };
	CHECK_ERR(mem_list_normalize(&l), PG_ERR_BAD_ARG);
	CHECK_EQ(st[0].start, 0x5000);
}

/* total sums one kind; kind_at finds the covering region or -1 in a hole. */
TEST(region_total_and_kind_at)
{
	mem_region st[8];
	mem_list l;
	mem_list_init(&l, st, 8);
	CHECK_ERR(mem_list_set(&l, 0x1000, 0x2000, MEM_USABLE), PG_OK);
	CHECK_ERR(mem_list_set(&l, 0x5000, 0x1000, MEM_MMIO), PG_OK);
	CHECK_ERR(mem_list_set(&l, 0x8000, 0x3000, MEM_USABLE), PG_OK);
	CHECK_EQ(mem_list_total(&l, MEM_USABLE), 0x5000);
	CHECK_EQ(mem_list_total(&l, MEM_MMIO), 0x1000);
	CHECK_EQ(mem_list_total(&l, MEM_BAD), 0);
	CHECK_EQ(mem_list_kind_at(&l, 0x0fff), -1);
	CHECK_EQ(mem_list_kind_at(&l, 0x1000), MEM_USABLE);
	CHECK_EQ(mem_list_kind_at(&l, 0x2fff), MEM_USABLE);
	CHECK_EQ(mem_list_kind_at(&l, 0x3000), -1);
	CHECK_EQ(mem_list_kind_at(&l, 0x5800), MEM_MMIO);
	CHECK_EQ(mem_list_kind_at(&l, 0xafff), MEM_USABLE);
	CHECK_EQ(mem_list_kind_at(&l, 0xb000), -1);
	CHECK(mem_list_intersects(&l, 0x2fff, 0x10));
	CHECK(mem_list_intersects(&l, 0x4000, 0x1001));
	CHECK(!mem_list_intersects(&l, 0x3000, 0x2000));
}

/* Every kind has its own name and out-of-range values do not crash. */
TEST(region_kind_names)
{
	CHECK(strcmp(mem_kind_name(MEM_USABLE), "usable") == 0);
	CHECK(strcmp(mem_kind_name(MEM_BOOT_RECLAIMABLE), "boot-reclaimable") == 0);
	CHECK(strcmp(mem_kind_name(MEM_BAD), "bad") == 0);
	CHECK(strcmp(mem_kind_name(MEM_KIND_COUNT), "unknown") == 0);
	for (int a = 0; a < MEM_KIND_COUNT; a++)
		for (int b = a + 1; b < MEM_KIND_COUNT; b++)
			CHECK(strcmp(mem_kind_name(a), mem_kind_name(b)) != 0);
}

#define UNITS 96

/* Rebuilds the per-unit kind map (-1 = absent) that l describes. */
static void flatten(const mem_list *l, int map[UNITS])
{
	for (int u = 0; u < UNITS; u++)
		map[u] = mem_list_kind_at(l, (uint64_t)u * K4);
}

/* Random sets and adds agree with a per-page reference and keep the list well formed;
 * failures for lack of storage change nothing. */
TEST(region_random_against_reference)
{
	mem_region st[12];
	mem_list l;
	mem_list_init(&l, st, 12);
	int ref[UNITS], got[UNITS];
	for (int u = 0; u < UNITS; u++)
		ref[u] = -1;
	srand(1234);
	for (int op = 0; op < 20000; op++) {
		int a = rand() % UNITS, n = 1 + rand() % 12;
		if (a + n > UNITS)
			n = UNITS - a;
		int kind = rand() % MEM_KIND_COUNT;
		bool is_add = rand() & 1;
		mem_region saved[12];
		size_t saved_count = l.count;
		memcpy(saved, st, sizeof(st));
		pg_err e = is_add ? mem_list_add(&l, (uint64_t)a * K4, (uint64_t)n * K4, kind)
				  : mem_list_set(&l, (uint64_t)a * K4, (uint64_t)n * K4, kind);
		if (e == PG_OK) {
			for (int u = a; u < a + n; u++)
				if (!is_add || ref[u] < kind)
					ref[u] = kind;
		} else {
			CHECK_ERR(e, PG_ERR_NO_FRAMES);
			CHECK_EQ(l.count, saved_count);
			CHECK(memcmp(saved, st, sizeof(st)) == 0);
		}
		CHECK(well_formed(&l));
		flatten(&l, got);
		CHECK(memcmp(ref, got, sizeof(ref)) == 0);
		if (op % 300 == 299) {
			l.count = 0;
			for (int u = 0; u < UNITS; u++)
				ref[u] = -1;
		}
	}
}

/* normalize of random overlapping lists matches "most restrictive kind wins" per page. */
TEST(region_random_normalize_against_reference)
{
	mem_region st[40];
	int ref[UNITS], got[UNITS];
	srand(99);
	for (int round = 0; round < 3000; round++) {
		mem_list l = { st, 1 + (size_t)(rand() % 8), 40 };
		for (int u = 0; u < UNITS; u++)
			ref[u] = -1;
		for (size_t i = 0; i < l.count; i++) {
			int a = rand() % UNITS, n = rand() % 30;
			if (a + n > UNITS)
				n = UNITS - a;
			int kind = rand() % MEM_KIND_COUNT;
			st[i] = (mem_region){ (uint64_t)a * K4, (uint64_t)n * K4, (uint32_t)kind, 0 };
			for (int u = a; u < a + n; u++)
				if (ref[u] < kind)
					ref[u] = kind;
		}
		CHECK_ERR(mem_list_normalize(&l), PG_OK);
		CHECK(well_formed(&l));
		flatten(&l, got);
		CHECK(memcmp(ref, got, sizeof(ref)) == 0);
	}
}

/* normalize succeeds whenever the normalized result fits, even when a split on the way
 * would not: here a usable range holds a reserved range that the next one extends to
 * its end, so the result is two regions in storage for three. (Issue 12, defect 3.) */
TEST(region_normalize_succeeds_when_the_result_fits)
{
	mem_region st[3] = {
		{ 0x0000, 0x10000, MEM_USABLE, 0 },
		{ 0x2000, 0x2000, MEM_RESERVED, 0 },
		{ 0x4000, 0xc000, MEM_RESERVED, 0 },
	};
	mem_list l = { st, 3, 3 };
	CHECK_ERR(mem_list_normalize(&l), PG_OK);
	CHECK(well_formed(&l));
	CHECK_EQ(l.count, 2);
	CHECK(region_is(&l, 0, 0x0000, 0x2000, MEM_USABLE));
	CHECK(region_is(&l, 1, 0x2000, 0xe000, MEM_RESERVED));
	/* Many duplicates of one range and nested ranges shrink to what they mean. */
	mem_region dup[4] = {
		{ 0x1000, 0x1000, MEM_MMIO, 0 },
		{ 0x0000, 0x8000, MEM_USABLE, 0 },
		{ 0x0000, 0x8000, MEM_USABLE, 0 },
		{ 0x1000, 0x2000, MEM_BOOT_RECLAIMABLE, 0 },
	};
	mem_list d = { dup, 4, 4 };
	CHECK_ERR(mem_list_normalize(&d), PG_OK);
	CHECK(well_formed(&d));
	CHECK_EQ(d.count, 4);
	CHECK(region_is(&d, 0, 0x0000, 0x1000, MEM_USABLE));
	CHECK(region_is(&d, 1, 0x1000, 0x1000, MEM_MMIO));
	CHECK(region_is(&d, 2, 0x2000, 0x1000, MEM_BOOT_RECLAIMABLE));
	CHECK(region_is(&d, 3, 0x3000, 0x5000, MEM_USABLE));
}

/* When the normalized result does not fit, normalize says so and leaves every entry,
 * order included, as it was. (Issue 12, defect 3.) */
TEST(region_normalize_that_does_not_fit_changes_nothing)
{
	mem_region st[4] = {
		{ 0x8000, 0x1000, MEM_RESERVED, 0 },
		{ 0x0000, 0x10000, MEM_USABLE, 0 },
		{ 0x2000, 0x1000, MEM_RESERVED, 0 },
		{ 0x3000, 0, MEM_BAD, 7 },
	};
	mem_region copy[4];
	memcpy(copy, st, sizeof st);
	mem_list l = { st, 4, 4 }; /* the result needs 5 */
	CHECK_ERR(mem_list_normalize(&l), PG_ERR_NO_FRAMES);
	CHECK_EQ(l.count, 4);
	CHECK(memcmp(st, copy, sizeof st) == 0);
	mem_region big[5];
	memcpy(big, st, sizeof st);
	mem_list b = { big, 4, 5 };
	CHECK_ERR(mem_list_normalize(&b), PG_OK);
	CHECK(well_formed(&b));
	CHECK_EQ(b.count, 5);
	CHECK(region_is(&b, 4, 0x9000, 0x7000, MEM_USABLE));
}

/* A randomized cross-check: normalize agrees with building the list by mem_list_add from
 * empty (the definition of the result), succeeds exactly when that result fits, and
 * changes nothing when it does not. */
TEST(region_normalize_matches_add_and_fails_only_when_too_big)
{
	uint64_t x = 0x2545f4914f6cdd1dull;
	for (unsigned round = 0; round < 3000; round++) {
		mem_region in[8], st[8], ref_st[32];
		size_t n = 1 + round % 8, cap = 1 + (round / 8) % 8;
		if (cap < n)
			cap = n;
		for (size_t i = 0; i < n; i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			in[i] = (mem_region){ (x % 16) * 0x1000, ((x >> 8) % 6) * 0x1000,
					      (uint32_t)((x >> 16) % 4), 0 };
		}
		mem_list ref;
		mem_list_init(&ref, ref_st, 32);
		for (size_t i = 0; i < n; i++)
			if (in[i].length)
				CHECK_ERR(mem_list_add(&ref, in[i].start, in[i].length,
						       (mem_kind)in[i].kind), PG_OK);
		memcpy(st, in, n * sizeof in[0]);
		mem_list l = { st, n, cap };
		pg_err e = mem_list_normalize(&l);
		if (ref.count <= cap) {
			CHECK_ERR(e, PG_OK);
			CHECK_EQ(l.count, ref.count);
			CHECK(l.count == ref.count && !memcmp(st, ref_st, ref.count * sizeof st[0]));
		} else {
			CHECK_ERR(e, PG_ERR_NO_FRAMES);
			CHECK_EQ(l.count, n);
			CHECK(!memcmp(st, in, n * sizeof in[0]));
		}
	}
}
