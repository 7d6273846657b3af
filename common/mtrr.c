/* mtrr.c - the MTRR rules of the Intel SDM (Vol. 3A, "Memory Type Range Registers") over a
 * snapshot of the MSRs: the type of an address, of a range, and the largest uniform page.
 * Pure functions of the snapshot except mtrr_read, the one place that reads the CPU. */
#include "mtrr.h"

#include "cpu.h"

#define GRANULE 0x1000ull

static bool type_valid(unsigned t)
{
	return t == MTRR_UC || t == MTRR_WC || t == MTRR_WT || t == MTRR_WP || t == MTRR_WB;
}

/* A type as stored in an MSR, reserved values typed UC and noted. */
static unsigned checked(unsigned t, unsigned *notes)
{
	if (type_valid(t))
		return t;
	*notes |= MTRR_NOTE_BAD_TYPE;
	return MTRR_UC;
}

uint64_t mtrr_fixed_size(unsigned i)
{
	return i == 0 ? 0x10000 : i < 3 ? 0x4000 : 0x1000;
}

uint64_t mtrr_fixed_start(unsigned i, unsigned b)
{
	if (i == 0)
		return b * 0x10000ull;
	if (i < 3)
		return 0x80000 + (i - 1) * 0x20000ull + b * 0x4000ull;
	return 0xC0000 + (i - 3) * 0x8000ull + b * 0x1000ull;
}

/* The fixed-range type of pa < 1 MiB: one byte per sub-range, eight per MSR. */
static unsigned fixed_type(const mtrr_state *m, uint64_t pa, unsigned *notes)
{
	unsigned i, b;
	if (pa < 0x80000) {
		i = 0;
		b = (unsigned)(pa >> 16);
	} else if (pa < 0xC0000) {
		i = 1 + (unsigned)((pa - 0x80000) >> 17);
		b = (unsigned)((pa - 0x80000) >> 14) & 7;
	} else {
		i = 3 + (unsigned)((pa - 0xC0000) >> 15);
		b = (unsigned)((pa - 0xC0000) >> 12) & 7;
	}
	return checked((unsigned)(m->fixed[i] >> (8 * b)) & 0xff, notes);
}

#define FOUR_GIB 0x100000000ull

/* The type of an address no variable range matches: AMD's TOM2 makes [4 GiB, TOM2) WB. */
static unsigned default_at(const mtrr_state *m, uint64_t pa, unsigned *notes)
{
	if (m->tom2 && pa >= FOUR_GIB && pa < m->tom2)
		return MTRR_WB;
	return checked(mtrr_default(m), notes);
}

/* The type of a set of matching variable ranges (seen: one bit per type) at pa: none gives
 * the default, UC wins, WT+WB gives WT, any other mix is undefined and typed UC. */
static unsigned resolve(const mtrr_state *m, uint64_t pa, unsigned seen, unsigned *notes)
{
	if (!seen)
		return default_at(m, pa, notes);
	if (seen & (1u << MTRR_UC))
		return MTRR_UC;
	if (!(seen & (seen - 1)))
		return (unsigned)__builtin_ctz(seen);
	if (seen == ((1u << MTRR_WT) | (1u << MTRR_WB)))
		return MTRR_WT;
	*notes |= MTRR_NOTE_OVERLAP;
	return MTRR_UC;
}

static bool var_valid(const mtrr_state *m, unsigned n)
{
	return (m->var_mask[n] & MTRR_MASK_VALID) != 0;
}

static unsigned var_type(const mtrr_state *m, unsigned n, unsigned *notes)
{
	return checked((unsigned)(m->var_base[n] & 0xff), notes);
}

static unsigned var_count(const mtrr_state *m)
{
	return m->var_count < MTRR_MAX_VAR ? m->var_count : MTRR_MAX_VAR;
}

unsigned mtrr_type_at(const mtrr_state *m, uint64_t pa, unsigned *notes)
{
	unsigned dummy = 0, seen = 0;
	if (!notes)
		notes = &dummy;
	if (!m->present)
		return MTRR_WB;
	if (!mtrr_enabled(m))
		return MTRR_UC;
	if (pa < MTRR_FIXED_END && mtrr_fixed_enabled(m))
		return fixed_type(m, pa, notes);
	uint64_t bits = mtrr_addr_bits(m);
	for (unsigned n = 0; n < var_count(m); n++)
		if (var_valid(m, n) && !((pa ^ m->var_base[n]) & m->var_mask[n] & bits))
			seen |= 1u << var_type(m, n, notes);
	return resolve(m, pa, seen, notes);
}

/* The fixed ranges over a block inside [0, 1 MiB): at most 256 granules, compared one by one. */
static bool fixed_block(const mtrr_state *m, uint64_t x, uint64_t size, unsigned *type,
			unsigned *notes)
{
	unsigned first = fixed_type(m, x, notes);
	for (uint64_t pa = x + GRANULE; pa < x + size; pa += GRANULE)
		if (fixed_type(m, pa, notes) != first)
			return false;
	*type = first;
	return true;
}

/* Whether the aligned block [x, x + 2^shift) has one type, and which. A variable range is
 * inside, outside or partly over the block: its mask bits at or above shift decide the
 * first two; mask bits below shift make it partial, and then the halves are asked. */
static bool block_type(const mtrr_state *m, uint64_t x, unsigned shift, unsigned *type,
		       unsigned *notes)
{
	uint64_t size = 1ull << shift, bits = mtrr_addr_bits(m), low = size - 1;
	unsigned seen = 0, a, b;
	bool partial = false;
	if (!m->present || !mtrr_enabled(m)) {
		*type = mtrr_type_at(m, x, notes);
		return true;
	}
	if (x < MTRR_FIXED_END && mtrr_fixed_enabled(m)) {
		if (x + size <= MTRR_FIXED_END)
			return fixed_block(m, x, size, type, notes);
		partial = true; /* [0, 1 MiB) and more: the halves */
	}
	/* a TOM2 edge inside the block changes the default part way: the halves */
	if (m->tom2 && ((x < FOUR_GIB && x + size > FOUR_GIB) || (x < m->tom2 && x + size > m->tom2)))
		partial = true;
	for (unsigned n = 0; n < var_count(m) && !partial; n++) {
		uint64_t mask = var_valid(m, n) ? m->var_mask[n] & bits : 0;
		if (!var_valid(m, n) || ((x ^ m->var_base[n]) & mask & ~low))
			continue;
		if (mask & low)
			partial = true;
		else
			seen |= 1u << var_type(m, n, notes);
	}
	if (!partial) {
		*type = resolve(m, x, seen, notes);
		return true;
	}
	if (!block_type(m, x, shift - 1, &a, notes) ||
	    !block_type(m, x + size / 2, shift - 1, &b, notes) || a != b)
		return false;
	*type = a;
	return true;
}

bool mtrr_range_type(const mtrr_state *m, uint64_t start, uint64_t len, unsigned *type,
		     unsigned *notes)
{
	unsigned dummy = 0, first = 0, t;
	bool have = false;
	if (!notes)
		notes = &dummy;
	if (!len || (start | len) & (GRANULE - 1) || start + len < start)
		return false;
	/* The range as maximal aligned power-of-two blocks, left to right. */
	for (uint64_t pa = start, end = start + len; pa != end;) {
		unsigned shift = pa ? (unsigned)__builtin_ctzll(pa) : 63;
		unsigned fit = 63 - (unsigned)__builtin_clzll(end - pa);
		if (shift > fit)
			shift = fit;
		if (!block_type(m, pa, shift, &t, notes) || (have && t != first))
			return false;
		first = t;
		have = true;
		pa += 1ull << shift;
	}
	*type = first;
	return true;
}

unsigned mtrr_page_shift(const mtrr_state *m, uint64_t pa, uint64_t limit, unsigned max_shift)
{
	static const unsigned shifts[] = { 30, 21, 12 };
	unsigned t, notes = 0;
	for (unsigned i = 0; i < 3; i++) {
		uint64_t size = 1ull << shifts[i];
		if (shifts[i] > max_shift || (pa & (size - 1)) || pa >= limit || limit - pa < size)
			continue;
		if (block_type(m, pa, shifts[i], &t, &notes))
			return shifts[i];
	}
	return 0;
}

unsigned mtrr_effective(unsigned mtrr, unsigned pat)
{
	if (!type_valid(mtrr) || (!type_valid(pat) && pat != MTRR_UC_MINUS) || pat == MTRR_UC)
		return MTRR_UC;
	if (pat == MTRR_WC)
		return MTRR_WC;
	if (pat == MTRR_UC_MINUS)
		return mtrr == MTRR_WC ? MTRR_WC : MTRR_UC;
	switch (mtrr) {
	case MTRR_UC:
		return MTRR_UC;
	case MTRR_WC:
		return pat == MTRR_WB ? MTRR_WC : MTRR_UC;
	case MTRR_WT:
		return pat == MTRR_WP ? MTRR_WP : MTRR_WT;
	case MTRR_WP:
		return pat == MTRR_WT ? MTRR_WT : MTRR_WP;
	default: /* WB: the PAT decides */
		return pat;
	}
}

const char *mtrr_type_name(unsigned type)
{
	switch (type) {
	case MTRR_UC: return "UC";
	case MTRR_WC: return "WC";
	case MTRR_WT: return "WT";
	case MTRR_WP: return "WP";
	case MTRR_WB: return "WB";
	case MTRR_UC_MINUS: return "UC-";
	default: return "??";
	}
}

/* TOM2 when AMD's SYSCFG puts [4 GiB, TOM2) at WB by default, else 0. */
static uint64_t amd_tom2(const mtrr_state *m)
{
	uint32_t r[4];
	cpuid(0, r);
	if (r[1] != 0x68747541 || r[3] != 0x69746e65 || r[2] != 0x444d4163) /* "AuthenticAMD" */
		return 0;
	cpuid(1, r);
	unsigned family = ((r[0] >> 8) & 0xf) + (((r[0] >> 8) & 0xf) == 0xf ? (r[0] >> 20) & 0xff : 0);
	if (family < 0xf || (r[2] & (1u << 31)))
		return 0; /* before K8 no TOM2; under a hypervisor SYSCFG may not exist */
	uint64_t syscfg = rdmsr(0xC0010010);
	if (!(syscfg & (1ull << 21)) || !(syscfg & (1ull << 22)))
		return 0; /* MtrrTom2En, Tom2ForceMemTypeWB */
	return rdmsr(0xC001001D) & mtrr_addr_bits(m) & ~0x7fffffull; /* 8 MiB granular */
}

void mtrr_read(mtrr_state *m, unsigned phys_bits)
{
	static const uint32_t fixed_msr[MTRR_FIXED_MSRS] = {
		0x250, 0x258, 0x259, 0x268, 0x269, 0x26A, 0x26B, 0x26C, 0x26D, 0x26E, 0x26F,
	};
	uint32_t r[4];
	*m = (mtrr_state){ .phys_bits = phys_bits };
	cpuid(1, r);
	if (!(r[3] & (1u << 12)))
		return; /* no MTRRs: nothing to read, everything WB by MTRR */
	m->present = true;
	m->cap = rdmsr(MSR_MTRR_CAP);
	m->def_type = rdmsr(MSR_MTRR_DEF_TYPE);
	if (m->cap & MTRR_CAP_FIX)
		for (unsigned i = 0; i < MTRR_FIXED_MSRS; i++)
			m->fixed[i] = rdmsr(fixed_msr[i]);
	m->var_count = (unsigned)(m->cap & MTRR_CAP_VCNT);
	if (m->var_count > MTRR_MAX_VAR)
		m->var_count = MTRR_MAX_VAR;
	for (unsigned n = 0; n < m->var_count; n++) {
		m->var_base[n] = rdmsr(0x200 + 2 * n);
		m->var_mask[n] = rdmsr(0x201 + 2 * n);
	}
	m->tom2 = amd_tom2(m);
}
