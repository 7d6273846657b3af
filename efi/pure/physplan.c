/* physplan.c - the physmap's layout from the region list and the MTRRs: exact RAM-like
 * coverage, each page as large as alignment, the RAM run and a uniform MTRR type allow. */
#include "physplan.h"

/* Emits [lo, hi), which is 4 KiB aligned and clear of the skipped range: the largest page
 * at each point, consecutive pages of one size gathered into one run. */
static pg_err emit(physplan *p, uint64_t lo, uint64_t hi, physplan_fn fn, void *ctx)
{
	uint64_t run = lo;
	unsigned run_shift = 0;
	for (uint64_t pa = lo; pa < hi;) {
		unsigned shift = mtrr_page_shift(p->mtrr, pa, hi, p->max_shift);
		if (shift == 0)
			return PG_ERR_BAD_ARG; /* cannot happen for aligned input: no page fits */
		if (shift != run_shift && pa != run) {
			pg_err e = fn(ctx, run, pa - run, run_shift);
			if (e != PG_OK)
				return e;
			run = pa;
		}
		run_shift = shift;
		p->pages[(shift - 12) / 9]++;
		pa += 1ull << shift;
	}
	if (hi > p->end)
		p->end = hi;
	return hi > run ? fn(ctx, run, hi - run, run_shift) : PG_OK;
}

pg_err physplan_range(physplan *p, uint64_t lo, uint64_t hi, physplan_fn fn, void *ctx)
{
	if (hi < lo || (lo | hi) & 0xfff || p->max_shift < 12)
		return PG_ERR_BAD_ARG;
	if (hi > p->limit)
		hi = p->limit;
	if (lo >= hi)
		return PG_OK;
	if (p->skip_lo < p->skip_hi && p->skip_lo < hi && p->skip_hi > lo) {
		uint64_t cut_lo = p->skip_lo & ~0xfffull, cut_hi = (p->skip_hi + 0xfff) & ~0xfffull;
		pg_err e = cut_lo > lo ? emit(p, lo, cut_lo, fn, ctx) : PG_OK;
		return e != PG_OK || cut_hi >= hi ? e : emit(p, cut_hi, hi, fn, ctx);
	}
	return emit(p, lo, hi, fn, ctx);
}

pg_err physplan_map(physplan *p, const mem_list *map, physplan_fn fn, void *ctx)
{
	for (size_t i = 0; i < map->count;) {
		if (!mem_kind_ram_like(map->r[i].kind)) {
			i++;
			continue;
		}
		uint64_t lo = map->r[i].start, hi = lo + map->r[i].length;
		for (i++; i < map->count && mem_kind_ram_like(map->r[i].kind) &&
			  map->r[i].start == hi; i++)
			hi += map->r[i].length;
		/* inward to whole pages: a partial page at either end may share its frame with
		 * non-RAM, which must not be mapped */
		lo = (lo + 0xfff) & ~0xfffull;
		hi &= ~0xfffull;
		pg_err e = lo < hi ? physplan_range(p, lo, hi, fn, ctx) : PG_OK;
		if (e != PG_OK)
			return e;
	}
	return PG_OK;
}
