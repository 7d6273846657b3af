/* aspace.c - address spaces on paging/'s handle (see aspace.h). Sharing is done by copying
 * the kernel's entries for the upper half and for the physmap's 512 GiB slots into the new
 * tables: the kernel then runs unchanged whichever space is loaded (syscalls, faults, the
 * heap), and the copies point at the kernel's own tables, so destroy unlinks them before
 * paging/ frees what the space owns. The kernel's later changes inside those slots are
 * seen by every space; a new slot (a new top-level entry) is not, which is why the heap
 * keeps its slot's tables for good. */
#include "aspace.h"

#include "cpu.h"
#include "kmem.h"
#include "kprintf.h"

#define CR3_NOFLUSH  (1ull << 63)
#define ENTRY_TABLE  0x7ull                 /* P W U: the leaf alone decides, as paging/ does */
#define ENTRY_ADDR   0x000ffffffffff000ull
#define ENTRY_COUNT  (0x3ffull << 52)       /* paging/'s present count of the child table */
#define ID1_ECX_PCID (1u << 17)
#define ID7_EBX_INVPCID (1u << 10)
#define PCIDS 4096

static aspace_info info;
static aspace *current;
static uint16_t next_pcid = 1;
static bool stale[PCIDS]; /* entries tagged with this PCID may still be in the TLB */
static bool live[PCIDS];  /* held by an address space that exists */

void aspace_init(void)
{
	uint32_t r[4];
	cpuid(1, r);
	info.pcid = (r[2] & ID1_ECX_PCID) != 0;
	if (cpuid_max(0) >= 7) {
		cpuid_count(7, 0, r);
		info.invpcid = (r[1] & ID7_EBX_INVPCID) != 0;
	}
	info.levels = kmem_space()->levels;
	/* CR4.PCIDE may only be set while CR3[11:0] is 0 (the kernel's CR3 is a bare root). */
	if (info.pcid && (read_cr3() & 0xfff) == 0) {
		write_cr4(read_cr4() | CR4_PCIDE);
		info.pcide = (read_cr4() & CR4_PCIDE) != 0;
	}
	kprintf("aspace: levels=%u pcid=%u invpcid=%u pcide=%u user=%p..%p kernel_slots=256-511\n",
		info.levels, info.pcid, info.invpcid, info.pcide, (void *)USER_BASE,
		(void *)USER_TOP);
}

const aspace_info *aspace_info_get(void) { return &info; }
aspace *aspace_current(void) { return current; }

void aspace_set_next_pcid(uint16_t pcid)
{
	if (pcid > 0 && pcid < PCIDS)
		next_pcid = pcid;
}

static uint64_t *table_of(const pg_space *s, uint64_t entry)
{
	return pg_table(s, pg_pa(entry & ENTRY_ADDR));
}

/* The level-4 table of a's space that covers va (a's root with 4 levels; with 5 the PML4
 * under the root's entry, created when missing). NULL when no frame is left. */
static uint64_t *l4_of(aspace *a, uint64_t va)
{
	uint64_t *root = pg_table(&a->s, a->s.root);
	if (a->s.levels == 4)
		return root;
	uint64_t *e = &root[(va >> 48) & 511];
	if (!(*e & 1)) {
		pg_paddr f;
		if (!a->s.frames->alloc(a->s.frames->ctx, &f))
			return NULL;
		uint64_t *t = pg_table(&a->s, f);
		for (unsigned i = 0; i < 512; i++)
			t[i] = 0;
		*e = f.pa | ENTRY_TABLE;
	}
	return table_of(&a->s, *e);
}

/* The kernel's level-4 table over va. */
static const uint64_t *kernel_l4(uint64_t va)
{
	const pg_space *k = kmem_space();
	const uint64_t *root = pg_table(k, k->root);
	return k->levels == 4 ? root : table_of(k, root[(va >> 48) & 511]);
}

/* Copies one kernel entry (without paging/'s count, which belongs to the kernel's copy). */
static bool share(aspace *a, uint64_t *dst, uint64_t e)
{
	if (!(e & 1))
		return true;
	if (a->nshared == ASPACE_MAX_SHARED)
		return false;
	*dst = e & ~ENTRY_COUNT;
	a->shared[a->nshared++] = dst;
	return true;
}

pg_err aspace_create(aspace *a)
{
	const pg_space *k = kmem_space();
	*a = (aspace){ 0 };
	pg_err e = pg_space_init(&a->s, kmem_source(), k->phys_offset, k->has_nx, k->has_1g,
				 k->phys_bits, k->levels);
	if (e != PG_OK)
		return e;
	const uint64_t *kroot = pg_table(k, k->root);
	uint64_t *root = pg_table(&a->s, a->s.root);
	bool ok = true;
	for (unsigned i = 256; i < 512; i++) /* the kernel half, at the top level */
		ok &= share(a, &root[i], kroot[i]);
	/* the physmap's slots in the lower half, at level 4 */
	for (uint64_t va = physmap_base; ok && va < 0x0000800000000000ull << (k->levels == 5 ? 9 : 0);
	     va += 1ull << 39) {
		const uint64_t *kl4 = kernel_l4(va);
		if (!kl4)
			break;
		uint64_t ke = kl4[(va >> 39) & 511];
		if (!(ke & 1))
			break; /* the physmap is contiguous from its base */
		uint64_t *l4 = l4_of(a, va);
		ok = l4 && share(a, &l4[(va >> 39) & 511], ke);
	}
	if (!ok) {
		aspace_destroy(a, NULL, NULL);
		return PG_ERR_NO_FRAMES;
	}
	if (info.pcide) {
		/* Round robin over 1..4095, skipping PCIDs a live space holds: two spaces on one
		 * PCID would mix their entries across no-flush switches. */
		unsigned tries = 0;
		while (live[next_pcid] && ++tries < PCIDS - 1)
			next_pcid = next_pcid == PCIDS - 1 ? 1 : next_pcid + 1;
		if (live[next_pcid]) {
			aspace_destroy(a, NULL, NULL);
			return PG_ERR_NO_FRAMES; /* 4095 spaces alive: no PCID left */
		}
		a->pcid = next_pcid;
		live[a->pcid] = true;
		next_pcid = next_pcid == PCIDS - 1 ? 1 : next_pcid + 1;
	}
	info.created++;
	return PG_OK;
}

pg_err aspace_map_user(aspace *a, uint64_t va, unsigned flags, pg_paddr *frame)
{
	pg_paddr f;
	if (va < USER_BASE || va >= USER_TOP || (va & 0xfff) || (flags & ~(PG_W | PG_X)))
		return PG_ERR_BAD_ARG;
	if (frame_alloc_4k(kmem_frames(), &f) != PG_OK)
		return PG_ERR_NO_FRAMES;
	uint64_t *p = (uint64_t *)(uintptr_t)phys_to_virt(f.pa);
	for (unsigned i = 0; i < 512; i++)
		p[i] = 0;
	pg_err e = pg_map(&a->s, pg_va(va), f, PG_4K, flags | PG_U, NULL);
	if (e != PG_OK) {
		frame_free_4k(kmem_frames(), f);
		return e;
	}
	a->user_pages++;
	if (frame)
		*frame = f;
	return PG_OK;
}

static inline void invpcid_single(uint16_t pcid)
{
	struct { uint64_t pcid, addr; } d = { pcid, 0 };
	__asm__ volatile("invpcid %0, %1" : : "m"(d), "r"(1ull) : "memory");
}

void aspace_switch(aspace *a)
{
	uint64_t root = a ? a->s.root.pa : kmem_space()->root.pa;
	current = a;
	info.switches++;
	if (!info.pcide) {
		write_cr3(root);
		return;
	}
	uint16_t id = a ? a->pcid : 0;
	if (stale[id]) {
		stale[id] = false;
		info.flushes++;
		if (info.invpcid) {
			invpcid_single(id);
			write_cr3(root | id | CR3_NOFLUSH);
		} else {
			write_cr3(root | id); /* without no-flush: this PCID's entries go */
		}
		return;
	}
	write_cr3(root | id | CR3_NOFLUSH);
}

/* pg_walk callback: the first user leaf. */
static bool first_leaf(void *ctx, const pg_range *r)
{
	*(pg_range *)ctx = *r;
	return false;
}

/* User pages first (pg_unmap gives back the tables they leave empty), then the shared
 * entries are cleared, then paging/ frees what is left, the top table last. */
void aspace_destroy(aspace *a, uint64_t *user_frames, uint64_t *table_frames)
{
	uint64_t users = 0, before = frame_free_count(kmem_frames());
	pg_range r;
	for (;;) {
		r.length = 0;
		pg_walk(&a->s, pg_va(USER_BASE), USER_TOP - USER_BASE, first_leaf, &r);
		if (!r.length)
			break;
		for (uint64_t off = 0; off < r.length; off += 4096) {
			pg_paddr f;
			pg_size sz;
			if (pg_unmap(&a->s, pg_va(r.virt.va + off), &f, &sz) == PG_OK &&
			    frame_free_4k(kmem_frames(), f) == PG_OK)
				users++;
		}
	}
	for (unsigned i = 0; i < a->nshared; i++)
		*a->shared[i] = 0; /* the kernel's tables are not a's to free */
	a->nshared = 0;
	pg_space_destroy(&a->s);
	if (info.pcide && a->pcid) {
		stale[a->pcid] = true;
		live[a->pcid] = false;
	}
	info.destroyed++;
	a->user_pages = 0;
	if (user_frames)
		*user_frames = users;
	if (table_frames)
		*table_frames = frame_free_count(kmem_frames()) - before - users;
}
