/* reclaim.c - reuses boot-services and loader memory in a test: builds a frame allocator
 * over the boot-reclaimable regions only, drains it filling every frame through the
 * physmap, runs the kernel on (a fault, console output, paging calls), then checks and
 * frees every frame. Frames the kernel still uses have kinds of their own (image, stack,
 * page tables, boot info), so a region list that names them correctly keeps them out. */
#include "reclaim.h"

#include "cpu.h"
#include "fault.h"
#include "frame.h"
#include "kmem.h"
#include "kprintf.h"
#include "region.h"

#define RECLAIM_VA 0xFFFF800000200000ull /* a scratch page in the free higher half */

static mem_region store[FRAME_MAX_REGIONS];
static frame_alloc fa;

/* The word i of a reclaimed frame at pa: differs from the EFI stage's check pattern, so
 * a frame the stage filled cannot pass for one this test filled. */
static uint64_t pattern(uint64_t pa, uint64_t i)
{
	return boot_check_word(pa, i) ^ 0x7265636c61696d21ull;
}

static volatile uint64_t *frame_ptr(uint64_t pa)
{
	return (volatile uint64_t *)(uintptr_t)phys_to_virt(pa);
}

/* The boot-reclaimable regions of the kernel's list, as usable memory, in l. */
static void take_regions(mem_list *l, reclaim_result *r)
{
	const mem_list *all = kmem_regions();
	mem_list_init(l, store, FRAME_MAX_REGIONS);
	for (size_t i = 0; i < all->count; i++) {
		if (all->r[i].kind != MEM_BOOT_RECLAIMABLE)
			continue;
		if (l->count == l->capacity) {
			r->left_out++;
			continue;
		}
		l->r[l->count++] = (mem_region){ all->r[i].start, all->r[i].length, MEM_USABLE, 0 };
		r->regions++;
	}
}

/* The physical address behind a kernel virtual address, or ~0 when it has none. */
static uint64_t phys_of(const pg_space *s, uint64_t va)
{
	pg_translation t;
	return pg_translate(s, pg_va(va), &t) == PG_OK ? t.phys.pa : ~0ull;
}

/* What must not be overwritten is outside l: the live GDT and IDT (the kernel loaded its
 * own at entry, so the firmware's are garbage now), the PML4, the stack and boot_info. */
static bool own_tables(const mem_list *l, const boot_info *bi, const pg_space *s)
{
	struct __attribute__((packed)) { uint16_t limit; uint64_t base; } gdtr, idtr;
	uint64_t rsp;
	__asm__ volatile("sgdt %0; sidt %1" : "=m"(gdtr), "=m"(idtr));
	__asm__ volatile("mov %%rsp, %0" : "=r"(rsp));
	uint64_t live[] = { phys_of(s, gdtr.base), phys_of(s, idtr.base), read_cr3() & ~0xfffull,
			    phys_of(s, rsp), phys_of(s, (uint64_t)(uintptr_t)bi) };
	bool ok = true;
	for (size_t i = 0; i < sizeof live / sizeof live[0]; i++)
		ok &= live[i] != ~0ull && mem_list_kind_at(l, live[i]) < 0;
	kprintf("selftest: reclaim gdt=%p idt=%p cr3=%p outside=%s\n", (void *)gdtr.base,
		(void *)idtr.base, (void *)(read_cr3() & ~0xfffull), ok ? "yes" : "NO");
	return ok;
}

/* Hands out every frame, filling each; counts frames that are not where they should be. */
static void drain(const mem_list *l, mem_region meta, reclaim_result *r)
{
	pg_paddr f;
	pg_err e;
	while ((e = frame_alloc_4k(&fa, &f)) == PG_OK) {
		bool in_meta = f.pa >= meta.start && f.pa - meta.start < meta.length;
		r->stray += mem_list_kind_at(l, f.pa) != MEM_USABLE || in_meta;
		volatile uint64_t *w = frame_ptr(f.pa);
		for (uint64_t i = 0; i < 512; i++)
			w[i] = pattern(f.pa, i);
		r->frames++;
	}
	r->drained = e == PG_ERR_NO_FRAMES && frame_free_count(&fa) == 0 &&
		     r->frames == fa.total_frames;
}

/* With every reclaimed frame overwritten: take an expected fault and resume, print, and
 * map a kernel page through paging/ (its tables come from the kernel's own allocator). */
static void still_runs(pg_space *s, reclaim_result *r)
{
	fault_record rec;
	uint64_t v;
	pg_paddr f, back;
	pg_size size;
	pg_translation t;
	bool read = fault_probe_read(0, &v, &rec);
	r->fault_ok = !read && rec.hit && rec.vector == 14 && rec.cr2 == 0;
	r->paging_ok = false;
	if (frame_alloc_4k(kmem_frames(), &f) == PG_OK) {
		pg_err em = pg_map(s, pg_va(RECLAIM_VA), f, PG_4K, PG_W, NULL);
		if (em == PG_OK)
			*(volatile uint64_t *)(uintptr_t)RECLAIM_VA = 0x7374696c6c6f6bull;
		pg_err et = pg_translate(s, pg_va(RECLAIM_VA), &t);
		bool seen = em == PG_OK && frame_ptr(f.pa)[0] == 0x7374696c6c6f6bull;
		pg_err eu = pg_unmap(s, pg_va(RECLAIM_VA), &back, &size);
		r->paging_ok = em == PG_OK && et == PG_OK && t.phys.pa == f.pa && seen &&
			       eu == PG_OK && back.pa == f.pa;
		frame_free_4k(kmem_frames(), f);
	}
	kprintf("selftest: reclaim still-running fault_resumed=%u paging=%s\n", r->fault_ok,
		r->paging_ok ? "ok" : "FAIL");
}

/* Checks every frame the allocator manages (all handed out) and gives each back. */
static void check_and_free(reclaim_result *r)
{
	for (size_t k = 0; k < fa.region_count; k++) {
		const struct frame_region *g = &fa.regions[k];
		for (uint64_t n = 0; n < g->frames; n++) {
			uint64_t pa = g->base + n * 4096;
			const volatile uint64_t *w = frame_ptr(pa);
			uint64_t i = 0;
			while (i < 512 && w[i] == pattern(pa, i))
				i++;
			r->mismatches += i != 512;
			r->freed += frame_free_4k(&fa, pg_pa(pa)) == PG_OK;
		}
	}
	r->all_free = frame_free_count(&fa) == fa.total_frames && r->freed == r->frames;
}

reclaim_result reclaim_run(const boot_info *bi, pg_space *s)
{
	reclaim_result r = { .init = PG_OK };
	mem_list l;
	mem_region meta = { 0, 0, 0, 0 };
	take_regions(&l, &r);
	r.own_tables = own_tables(&l, bi, s);
	if (!r.own_tables) /* overwriting a live table would take the kernel down, not fail */
		return r;
	r.init = frame_init(&fa, &l, s->phys_offset, &meta);
	if (r.init != PG_OK)
		return r;
	r.meta_bytes = meta.length;
	drain(&l, meta, &r);
	still_runs(s, &r);
	check_and_free(&r);
	kprintf("selftest: reclaim frames=%lu bytes=%lu regions=%lu left_out=%lu meta_bytes=%lu "
		"stray=%lu mismatches=%lu freed=%lu check=%s\n", (unsigned long)r.frames,
		(unsigned long)(r.frames * 4096), (unsigned long)r.regions,
		(unsigned long)r.left_out, (unsigned long)r.meta_bytes, (unsigned long)r.stray,
		(unsigned long)r.mismatches, (unsigned long)r.freed,
		reclaim_passed(&r) ? "pass" : "FAIL");
	return r;
}

bool reclaim_passed(const reclaim_result *r)
{
	return r->own_tables && r->init == PG_OK && r->frames > 0 && r->drained &&
	       r->stray == 0 && r->fault_ok && r->paging_ok && r->mismatches == 0 &&
	       r->all_free;
}
