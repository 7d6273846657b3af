/* recursive.c - the post's other way to reach the page tables: one top-level entry that
 * points at its own table, so that walking through it k times ends one level higher each
 * time. For a table at level k (1 = PT) on the walk of va, the address is the slot r
 * repeated k times, then va's own indexes from the top down to level k + 1,
 * then offset 0; sign-extended to the handle's width. Every such table is compared word for
 * word with its physmap view, then the entry is removed and the TLB flushed. */
#include "recursive.h"

#include "heap.h"
#include "kmem.h"
#include "kprintf.h"
#include "tour.h"

#define ENTRY_ADDR 0x000ffffffffff000ull
#define ENTRY_PW   0x3ull
#define ENTRY_XD   (1ull << 63)
#define ENTRY_PS   (1ull << 7)

static uint64_t sign_extend(uint64_t va, unsigned levels)
{
	unsigned sh = 64 - (12 + 9 * levels);
	return (uint64_t)((int64_t)(va << sh) >> sh);
}

static unsigned index_at(uint64_t va, unsigned level)
{
	return (unsigned)(va >> (12 + 9 * (level - 1))) & 511;
}

/* The recursive address of the level-k table on va's walk. */
static uint64_t table_va(uint64_t va, unsigned k, unsigned r, unsigned levels)
{
	uint64_t a = 0;
	unsigned field = levels; /* the index field being filled, top first */
	for (unsigned i = 0; i < k; i++, field--)
		a |= (uint64_t)r << (12 + 9 * (field - 1));
	for (unsigned lvl = levels; lvl > k; lvl--, field--)
		a |= (uint64_t)index_at(va, lvl) << (12 + 9 * (field - 1));
	return sign_extend(a, levels);
}

/* Walks va; compares each table on the way. Adds to *tables and *words, returns the
 * number of words that differ. */
static uint64_t compare_walk(const pg_space *s, uint64_t va, unsigned r, uint64_t *tables,
			     uint64_t *words)
{
	uint64_t bad = 0, table = s->root.pa;
	for (unsigned k = s->levels; k >= 1; k--) {
		const volatile uint64_t *rec = (const volatile uint64_t *)(uintptr_t)table_va(va, k, r, s->levels);
		const volatile uint64_t *phy = (const volatile uint64_t *)(uintptr_t)phys_to_virt(table);
		for (unsigned i = 0; i < 512; i++)
			bad += rec[i] != phy[i];
		(*tables)++;
		*words += 512;
		uint64_t e = phy[index_at(va, k)];
		if (!(e & 1) || k == 1 || (k <= 3 && (e & ENTRY_PS)))
			break;
		table = e & ENTRY_ADDR;
	}
	return bad;
}

int recursive_run(void)
{
	pg_space *s = kmem_space();
	uint64_t *top = pg_table(s, s->root);
	unsigned r = 0;
	for (unsigned i = 510; i >= 256 && !r; i--) /* 511 holds the kernel */
		if (!top[i])
			r = i;
	if (!r) {
		kprintf("recursive: no free slot in the upper half check=FAIL\n");
		return 0;
	}
	extern char __kernel_start[], __data_start[];
	const uint64_t samples[] = {
		(uint64_t)(uintptr_t)__kernel_start, (uint64_t)(uintptr_t)__data_start,
		(uint64_t)(uintptr_t)&r /* the stack */, physmap_base, HEAP_DESC_VA,
		TOUR_EXAMPLE_PAGE,
	};
	/* P W, no U, NX: data reads only, and only by the kernel. */
	top[r] = s->root.pa | ENTRY_PW | (s->has_nx ? ENTRY_XD : 0);
	uint64_t tables = 0, words = 0, bad = 0;
	for (unsigned i = 0; i < sizeof samples / sizeof samples[0]; i++)
		bad += compare_walk(s, samples[i], r, &tables, &words);
	/* the top table through r repeated at every level is the top table itself */
	uint64_t self = table_va(0, s->levels, r, s->levels);
	/* (the CPU sets the accessed bit in the entry: compare the address it holds) */
	bool self_ok = (((const volatile uint64_t *)(uintptr_t)self)[r] & ENTRY_ADDR) == s->root.pa;
	top[r] = 0;
	kmem_flush(NULL, pg_va(sign_extend((uint64_t)r << (12 + 9 * (s->levels - 1)), s->levels)),
		   1ull << 39); /* a full flush, global entries included */
	pg_translation t;
	bool removed = pg_translate(s, pg_va(self), &t) == PG_ERR_NOT_MAPPED;
	bool pass = bad == 0 && tables >= 6 && self_ok && removed;
	kprintf("recursive: slot=%u levels=%u self=%p walks=%u tables=%lu words=%lu mismatches=%lu "
		"self_entry=%s removed=%s check=%s\n", r, s->levels, (void *)self,
		(unsigned)(sizeof samples / sizeof samples[0]), (unsigned long)tables,
		(unsigned long)words, (unsigned long)bad, self_ok ? "ok" : "wrong",
		removed ? "yes" : "no", pass ? "pass" : "FAIL");
	return pass;
}
