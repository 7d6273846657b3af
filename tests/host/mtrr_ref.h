/* mtrr_ref.h - a brute-force reference for common/mtrr.c, written from the SDM's rules
 * independently of it: the type of one 4 KiB granule, and uniformity by visiting every
 * granule. Used by the host tests (test_mtrr.c) and the fuzzer (fuzz_mtrr.c). */
#ifndef TESTS_HOST_MTRR_REF_H
#define TESTS_HOST_MTRR_REF_H

#include <stdbool.h>
#include <stdint.h>

#include "mtrr.h"

static inline unsigned ref_legal(unsigned t)
{
	return (t == 0 || t == 1 || t == 4 || t == 5 || t == 6) ? t : MTRR_UC;
}

/* The fixed-range byte that covers pa < 1 MiB, found by walking the 88 sub-ranges in order. */
static inline unsigned ref_fixed(const mtrr_state *m, uint64_t pa)
{
	uint64_t at = 0;
	for (unsigned i = 0; i < 11; i++) {
		uint64_t size = i == 0 ? 65536 : i <= 2 ? 16384 : 4096;
		for (unsigned b = 0; b < 8; b++, at += size)
			if (pa >= at && pa < at + size)
				return ref_legal((unsigned)(m->fixed[i] >> (8 * b)) & 0xff);
	}
	return 0xff; /* not reached for pa < 1 MiB */
}

static inline unsigned ref_type(const mtrr_state *m, uint64_t pa)
{
	if (!m->present)
		return MTRR_WB;
	if (!(m->def_type & (1ull << 11)))
		return MTRR_UC;
	if ((m->def_type & (1ull << 10)) && (m->cap & (1ull << 8)) && pa < 0x100000)
		return ref_fixed(m, pa);
	unsigned pb = m->phys_bits < 12 ? 12 : m->phys_bits > 52 ? 52 : m->phys_bits;
	uint64_t width = (1ull << pb) - 1;
	bool any = false, uc = false, wt = false, wb = false, other = false;
	unsigned n_max = m->var_count < MTRR_MAX_VAR ? m->var_count : MTRR_MAX_VAR;
	for (unsigned n = 0; n < n_max; n++) {
		uint64_t mask = m->var_mask[n];
		if (!(mask & (1ull << 11)))
			continue;
		mask &= width & ~0xfffull;
		if ((pa & mask) != (m->var_base[n] & mask))
			continue;
		unsigned t = ref_legal((unsigned)(m->var_base[n] & 0xff));
		any = true;
		uc |= t == MTRR_UC;
		wt |= t == MTRR_WT;
		wb |= t == MTRR_WB;
		other |= t == MTRR_WC || t == MTRR_WP;
	}
	if (!any) {
		if (m->tom2 && pa >= 0x100000000ull && pa < m->tom2)
			return MTRR_WB;
		return ref_legal((unsigned)(m->def_type & 0xff));
	}
	if (uc)
		return MTRR_UC;
	unsigned kinds = (unsigned)wt + (unsigned)wb + (unsigned)other;
	if (kinds == 1 && !other)
		return wt ? MTRR_WT : MTRR_WB;
	if (kinds == 2 && !other)
		return MTRR_WT;
	/* other alone: all matches of one type (WC or WP) or a WC+WP mix, undefined */
	if (kinds == 1) {
		unsigned first = 0xff;
		for (unsigned n = 0; n < n_max; n++) {
			uint64_t mask = m->var_mask[n];
			if (!(mask & (1ull << 11)))
				continue;
			mask &= width & ~0xfffull;
			if ((pa & mask) != (m->var_base[n] & mask))
				continue;
			unsigned t = ref_legal((unsigned)(m->var_base[n] & 0xff));
			if (first != 0xff && t != first)
				return MTRR_UC;
			first = t;
		}
		return first;
	}
	return MTRR_UC;
}

/* Every granule of [start, start+len) typed: true and *type when they all agree. */
static inline bool ref_uniform(const mtrr_state *m, uint64_t start, uint64_t len, unsigned *type)
{
	unsigned first = ref_type(m, start);
	for (uint64_t pa = start + 4096; pa - start < len; pa += 4096)
		if (ref_type(m, pa) != first)
			return false;
	*type = first;
	return true;
}

/* The largest of 1 GiB, 2 MiB, 4 KiB (up to max_shift) aligned at pa, inside [pa, limit)
 * and uniform by the brute force; 0 when none. */
static inline unsigned ref_page_shift(const mtrr_state *m, uint64_t pa, uint64_t limit,
				      unsigned max_shift)
{
	unsigned t;
	for (unsigned shift = 30; shift >= 12; shift -= 9) {
		uint64_t size = 1ull << shift;
		if (shift <= max_shift && !(pa & (size - 1)) && pa < limit && limit - pa >= size &&
		    ref_uniform(m, pa, size, &t))
			return shift;
	}
	return 0;
}

#endif
