/* memtype.c - the memory-type audit: the effective type of every mapped page, from the
 * MTRRs (read here, not taken from the EFI stage), IA32_PAT and the raw entries of the live
 * tables, checked against the SDM's rules: a large page needs one MTRR type across it,
 * non-RAM is never WB, and every physical page has one type across all its mappings. */
#include "memtype.h"

#include "cpu.h"
#include "kmem.h"
#include "kprintf.h"
#include "mtrr.h"
#include "pat.h"

/* Entry bits (SDM Vol. 3A, 4.5), read raw on purpose: paging/'s walk reports the library's
 * idea of a cache type, not the PAT index the CPU will use. */
#define E_P        (1ull << 0)
#define E_PWT      (1ull << 3)
#define E_PCD      (1ull << 4)
#define E_PS       (1ull << 7)
#define E_PAT_4K   (1ull << 7)
#define E_PAT_HUGE (1ull << 12)
#define E_ADDR     0x000ffffffffff000ull
#define MAX_PIECES 4096
#define NAMED      4 /* offenders named per kind */

/* One physically contiguous piece of some mapping with one effective type. */
typedef struct {
	uint64_t pa, len;
	uint8_t type;
} piece;

typedef struct {
	const boot_info *bi;
	mtrr_state mtrr;
	uint64_t pat;
	memtype_result r;
	piece p[MAX_PIECES];
	unsigned n;
	bool leaf_wb_non_ram;
} audit;

static audit A; /* 48 KiB of pieces: static, the kernel stack is 64 KiB */

/* The PAT type an entry selects: PWT, PCD and PAT (bit 7 on 4 KiB leaves, bit 12 above). */
static unsigned pat_type(const audit *a, uint64_t e, unsigned level)
{
	unsigned idx = (e & E_PWT ? 1u : 0u) | (e & E_PCD ? 2u : 0u) |
		       (e & (level == 1 ? E_PAT_4K : E_PAT_HUGE) ? 4u : 0u);
	return (unsigned)(a->pat >> (8 * idx)) & 0xff;
}

/* True when boot_info's regions call every byte of [lo, hi) RAM-like. */
static bool ram_like(const boot_info *bi, uint64_t lo, uint64_t hi)
{
	for (uint32_t i = 0; i < bi->region_count && lo < hi; i++) {
		const boot_region *r = &bi->regions[i];
		if (r->start + r->length <= lo)
			continue;
		if (r->start > lo || !mem_kind_ram_like(r->kind))
			return false;
		lo = r->start + r->length;
	}
	return lo >= hi;
}

static void add_piece(audit *a, uint64_t pa, uint64_t len, unsigned type)
{
	piece *last = a->n ? &a->p[a->n - 1] : NULL;
	if (last && last->type == type && last->pa + last->len == pa) {
		last->len += len;
		return;
	}
	if (a->n == MAX_PIECES) {
		a->r.overflow = true;
		return;
	}
	a->p[a->n++] = (piece){ pa, len, (uint8_t)type };
}

/* Types [pa, pa+len) of a leaf whose PAT type is pat: uniform MTRR pieces whole, mixed ones
 * split into 512 parts until they are uniform (a 4 KiB granule always is). */
static void type_range(audit *a, uint64_t pa, uint64_t len, unsigned pat)
{
	unsigned mt = MTRR_UC, notes = 0;
	if (len <= 4096) {
		mt = mtrr_type_at(&a->mtrr, pa, &notes);
	} else if (!mtrr_range_type(&a->mtrr, pa, len, &mt, &notes)) {
		for (uint64_t part = len / 512, o = 0; o < len; o += part)
			type_range(a, pa + o, part, pat);
		return;
	}
	a->r.undefined += notes != 0;
	unsigned eff = mtrr_effective(mt, pat);
	if (eff == MTRR_WB && !ram_like(a->bi, pa, pa + len))
		a->leaf_wb_non_ram = true;
	add_piece(a, pa, len, eff);
}

static void leaf(audit *a, uint64_t va, uint64_t e, unsigned level)
{
	uint64_t size = 1ull << (12 + 9 * (level - 1));
	uint64_t pa = e & E_ADDR & ~(size - 1);
	unsigned mt;
	a->r.leaves++;
	if (size > 4096 && !mtrr_range_type(&a->mtrr, pa, size, &mt, NULL) &&
	    a->r.mixed_large++ < NAMED)
		kprintf("memtype: mixed_large virt=%p phys=%p bytes=%lu\n", (void *)va, (void *)pa,
			(unsigned long)size);
	a->leaf_wb_non_ram = false;
	type_range(a, pa, size, pat_type(a, e, level));
	if (a->leaf_wb_non_ram && a->r.wb_non_ram++ < NAMED)
		kprintf("memtype: wb_non_ram virt=%p phys=%p bytes=%lu\n", (void *)va, (void *)pa,
			(unsigned long)size);
}

/* Sign-extends a virtual address built from indices (bit 47, or 56 with 5 levels). */
static uint64_t canonical(uint64_t va, unsigned levels)
{
	unsigned top = 12 + 9 * levels - 1;
	return va & (1ull << top) ? va | ~((1ull << top) - 1) : va;
}

static void walk(audit *a, uint64_t table, unsigned level, uint64_t base, unsigned levels)
{
	const uint64_t *t = (const uint64_t *)(uintptr_t)phys_to_virt(table);
	for (unsigned i = 0; i < 512; i++) {
		uint64_t e = t[i], va = base | ((uint64_t)i << (12 + 9 * (level - 1)));
		if (!(e & E_P))
			continue;
		if (level == 1 || (level <= 3 && (e & E_PS)))
			leaf(a, canonical(va, levels), e, level);
		else
			walk(a, e & E_ADDR, level - 1, va, levels);
	}
}

/* Sorts pieces by physical address (insertion sort: a few hundred, mostly in order). */
static void sort_pieces(audit *a)
{
	for (unsigned i = 1; i < a->n; i++) {
		piece k = a->p[i];
		unsigned j = i;
		for (; j > 0 && a->p[j - 1].pa > k.pa; j--)
			a->p[j] = a->p[j - 1];
		a->p[j] = k;
	}
}

/* Pages of one piece that a later-starting piece maps with another type. */
static void count_aliases(audit *a)
{
	unsigned named = 0;
	sort_pieces(a);
	for (unsigned i = 0; i < a->n; i++) {
		uint64_t end = a->p[i].pa + a->p[i].len;
		for (unsigned j = i + 1; j < a->n && a->p[j].pa < end; j++) {
			if (a->p[j].type == a->p[i].type)
				continue;
			uint64_t hi = a->p[j].pa + a->p[j].len < end ? a->p[j].pa + a->p[j].len : end;
			a->r.type_aliases += (hi - a->p[j].pa) / 4096;
			if (named++ < NAMED)
				kprintf("memtype: alias phys=%p bytes=%lu types=%s,%s\n",
					(void *)a->p[j].pa, (unsigned long)(hi - a->p[j].pa),
					mtrr_type_name(a->p[i].type), mtrr_type_name(a->p[j].type));
		}
	}
}

bool memtype_audit(const boot_info *bi, memtype_result *out)
{
	audit *a = &A;
	unsigned levels = read_cr4() & CR4_LA57 ? 5 : 4;
	a->bi = bi;
	a->n = 0;
	a->r = (memtype_result){ 0, 0, 0, 0, 0, false };
	mtrr_read(&a->mtrr, bi->phys_bits);
	a->pat = pat_read();
	walk(a, read_cr3() & E_ADDR, levels, 0, levels);
	count_aliases(a);
	bool ok = a->r.leaves > 0 && !a->r.mixed_large && !a->r.wb_non_ram &&
		  !a->r.type_aliases && !a->r.overflow;
	if (a->r.undefined || a->r.overflow)
		kprintf("memtype: mtrr_undefined_pieces=%lu pieces_overflow=%u\n",
			(unsigned long)a->r.undefined, (unsigned)a->r.overflow);
	kprintf("memtype: leaves=%lu mixed_large=%lu wb_non_ram=%lu type_aliases=%lu check=%s\n",
		(unsigned long)a->r.leaves, (unsigned long)a->r.mixed_large,
		(unsigned long)a->r.wb_non_ram, (unsigned long)a->r.type_aliases,
		ok ? "pass" : "FAIL");
	if (out)
		*out = a->r;
	return ok;
}

/* The fixed ranges as runs of one type: 88 sub-ranges, merged where neighbours agree. */
static void print_fixed(const mtrr_state *m)
{
	uint64_t run = 0;
	unsigned type = 0x100;
	for (unsigned i = 0; i < MTRR_FIXED_MSRS; i++)
		for (unsigned b = 0; b < 8; b++) {
			unsigned t = (unsigned)(m->fixed[i] >> (8 * b)) & 0xff;
			uint64_t at = mtrr_fixed_start(i, b);
			if (t != type && type != 0x100)
				kprintf("mtrr: fixed %p-%p type=%s\n", (void *)run, (void *)(at - 1),
					mtrr_type_name(type));
			if (t != type)
				run = at;
			type = t;
		}
	kprintf("mtrr: fixed %p-%p type=%s\n", (void *)run, (void *)(MTRR_FIXED_END - 1),
		mtrr_type_name(type));
}

void memtype_print_mtrr(const boot_info *bi)
{
	mtrr_state m;
	mtrr_read(&m, bi->phys_bits);
	if (!m.present) {
		kprintf("mtrr: present=0 (CPUID.1:EDX[12] clear: every address WB by MTRR)\n");
	} else {
		kprintf("mtrr: cap=0x%016lx def_type=%s enabled=%u fixed_enabled=%u variable=%u\n",
			(unsigned long)m.cap, mtrr_type_name(mtrr_default(&m)), mtrr_enabled(&m),
			mtrr_fixed_enabled(&m), m.var_count);
		if (m.cap & MTRR_CAP_FIX)
			print_fixed(&m);
		uint64_t bits = mtrr_addr_bits(&m);
		for (unsigned n = 0; n < m.var_count; n++) {
			if (!(m.var_mask[n] & MTRR_MASK_VALID))
				continue;
			uint64_t mask = m.var_mask[n] & bits, lo = m.var_base[n] & mask;
			uint64_t size = mask & -mask; /* the range's size when the mask is contiguous */
			bool plain = ((~mask & bits) | 0xfff) == size - 1;
			kprintf("mtrr: variable n=%u base=0x%016lx mask=0x%016lx type=%s range=%p-%p%s\n",
				n, (unsigned long)m.var_base[n], (unsigned long)m.var_mask[n],
				mtrr_type_name((unsigned)(m.var_base[n] & 0xff)), (void *)lo,
				(void *)(lo + size - 1), plain ? "" : " mask=non-contiguous");
		}
		if (m.tom2)
			kprintf("mtrr: tom2=%p (AMD: [4 GiB, tom2) WB by default)\n", (void *)m.tom2);
	}
	kprintf("pat: value=0x%016lx\n", (unsigned long)pat_read());
}
