/* tour.c - the "Paging Implementation" post, live on every boot: the active tables, then
 * translations, the frame allocator, the example mapping and page 0, each line checked
 * against a fact that does not come from the walk itself (boot info, the linker). */
#include "tour.h"

#include "cpu.h"
#include "fault.h"
#include "fbcon.h"
#include "kmem.h"
#include "kprintf.h"
#include "pte.h" /* the tour shows raw entries, so it reads the hardware layout */

extern char __kernel_start[], __rodata_start[];

static unsigned n_pass, n_fail;
static uint64_t tour_data_word = 1; /* an address in kernel data to translate */

static bool streq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

/* Counts one check and names its outcome for the log line. */
static const char *check(bool ok)
{
	if (ok)
		n_pass++;
	else
		n_fail++;
	return ok ? "pass" : "fail";
}

static bool no_frame(void *ctx, pg_paddr *frame)
{
	(void)ctx;
	(void)frame;
	return false;
}
static pg_frames empty_source = { no_frame, NULL, NULL };

uint64_t tour_table_count(const pg_space *s)
{
	uint64_t c[5];
	pg_count_tables(s, c);
	return c[0] + c[1] + c[2] + c[3] + c[4];
}

/* Writes the set bits of a raw entry as "P,W,U,PS,G,NX" into buf. */
static const char *entry_flags(uint64_t e, unsigned level, char *buf, size_t n)
{
	static const struct { uint64_t bit; const char *name; } bits[] = {
		{ PTE_P, "P" }, { PTE_W, "W" }, { PTE_U, "U" }, { PTE_PWT, "PWT" }, { PTE_PCD, "PCD" },
		{ PTE_A, "A" }, { PTE_D, "D" }, { PTE_PS, "PS" }, { PTE_G, "G" }, { PTE_XD, "NX" },
	};
	size_t len = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof bits / sizeof bits[0]; i++) {
		if (!(e & bits[i].bit) || (bits[i].bit == PTE_PS && (level == 1 || level >= 4)))
			continue;
		len += (size_t)ksnprintf(buf + len, n - len, "%s%s", len ? "," : "", bits[i].name);
		if (len >= n)
			break;
	}
	return buf;
}

/* Step 1: CR3, the PML4's non-empty entries, the L3 entries under the physmap. With 5
 * levels CR3 names a PML5: its entries first, then the PML4 that holds the physmap. */
static void tour_tables(const boot_info *bi, const pg_space *s)
{
	char fl[48];
	uint64_t pml4 = read_cr3() & PTE_ADDR;
	kprintf("tour: cr3 pml4=%p expect=%p check=%s\n", (void *)pml4, (void *)bi->pml4,
		check(pml4 == bi->pml4));
	const uint64_t *l4 = pg_table(s, pg_pa(pml4));
	if (s->levels == 5) {
		const uint64_t *l5 = l4;
		for (unsigned i = 0; i < 512; i++)
			if (l5[i] & PTE_P)
				kprintf("tour: l5 index=%u frame=%p flags=%s\n", i,
					(void *)(l5[i] & PTE_ADDR), entry_flags(l5[i], 5, fl, sizeof fl));
		unsigned pi5 = (unsigned)(physmap_base >> 48) & 511;
		kprintf("tour: physmap l5 index=%u present=%u check=%s\n", pi5,
			(unsigned)(l5[pi5] & PTE_P), check(l5[pi5] & PTE_P));
		if (!(l5[pi5] & PTE_P))
			return;
		l4 = pg_table(s, pg_pa(l5[pi5] & PTE_ADDR));
	}
	for (unsigned i = 0; i < 512; i++)
		if (l4[i] & PTE_P)
			kprintf("tour: l4 index=%u frame=%p flags=%s\n", i, (void *)(l4[i] & PTE_ADDR),
				entry_flags(l4[i], 4, fl, sizeof fl));
	unsigned pi = (unsigned)(physmap_base >> 39) & 511;
	if (!(l4[pi] & PTE_P)) {
		kprintf("tour: physmap l4 index=%u present=0 check=%s\n", pi, check(false));
		return;
	}
	const uint64_t *l3 = pg_table(s, pg_pa(l4[pi] & PTE_ADDR));
	unsigned count = 0, last = 0;
	for (unsigned i = 0; i < 512; i++) {
		if (!(l3[i] & PTE_P))
			continue;
		count++;
		last = i;
		kprintf("tour: physmap l3 index=%u virt=%p frame=%p kind=%s flags=%s\n", i,
			(void *)phys_to_virt((uint64_t)i << 30), (void *)(l3[i] & PTE_ADDR),
			l3[i] & PTE_PS ? "1G-leaf" : "table", entry_flags(l3[i], 3, fl, sizeof fl));
	}
	/* The physmap spans less than 512 GiB here, so its end lies under this one entry. */
	unsigned expect_last = (unsigned)((bi->physmap_end - 1 - physmap_base) >> 30);
	kprintf("tour: physmap l3 entries=%u last=%u expect_last=%u check=%s\n", count, last,
		expect_last, check(count > 0 && last == expect_last));
}

/* Translates va and checks the physical address against expect. */
static bool translate_check(const pg_space *s, const char *name, uint64_t va, uint64_t expect,
			    pg_translation *t)
{
	pg_err e = pg_translate(s, pg_va(va), t);
	bool ok = e == PG_OK && t->phys.pa == expect;
	kprintf("tour: translate name=%s virt=%p phys=%p size=%s w=%u x=%u expect=%p check=%s\n",
		name, (void *)va, (void *)(e == PG_OK ? t->phys.pa : 0),
		e == PG_OK ? pg_size_name(t->size) : "none", !!(t->flags & PG_W),
		!!(t->flags & PG_X), (void *)expect, check(ok));
	return ok;
}

/* Expects va to be unmapped, the walk stopping at level expect_level. */
/* An address whose PML4 entry nothing uses: not the physmap (wherever `boot --offset`
 * put it), not the example page's slot, not slot 0 (the handoff page's old tables). */
static uint64_t empty_pml4_slot(const boot_info *bi)
{
	static const uint64_t candidates[] = { 0x0000700000000000ull, 0x0000600000000000ull,
					       0x0000008000000000ull };
	for (unsigned i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++) {
		uint64_t va = candidates[i], slot = va >> 39;
		if ((va < physmap_base || va >= bi->physmap_end) &&
		    slot != (physmap_base >> 39) && slot != (TOUR_EXAMPLE_PAGE >> 39))
			return va;
	}
	return 0x0000100000000000ull;
}

static void translate_unmapped(const pg_space *s, const char *name, uint64_t va,
			       unsigned expect_level)
{
	pg_translation t;
	pg_err e = pg_translate(s, pg_va(va), &t);
	kprintf("tour: translate name=%s virt=%p result=%s stop_level=%u expect_level=%u check=%s\n",
		name, (void *)va, pg_strerror(e), e == PG_ERR_NOT_MAPPED ? t.stop_level : 0,
		expect_level, check(e == PG_ERR_NOT_MAPPED && t.stop_level == expect_level));
}

/* Step 2: translations, each against boot info or the linker. */
static void tour_translate(const boot_info *bi, const pg_space *s)
{
	pg_translation t;
	uint64_t local = 0;
	uint64_t text = (uint64_t)(uintptr_t)&tour_run;
	uint64_t data = (uint64_t)(uintptr_t)&tour_data_word;
	uint64_t stack = (uint64_t)(uintptr_t)&local;
	bool nx = s->has_nx;

	/* the framebuffer through its one mapping, the console's window (not in the physmap) */
	const fb_device *fb = fbcon_device();
	if (bi->fb.base && fb)
		translate_check(s, "fb", (uint64_t)(uintptr_t)fb->base, bi->fb.base, &t);
	/* The EFI stage loads the image contiguously: virt - kernel.virt == phys - kernel.phys. */
	if (translate_check(s, "kernel-text", text, bi->kernel.phys + (text - bi->kernel.virt), &t))
		kprintf("tour: protect name=kernel-text w=%u x=%u expect=w0,x1 check=%s\n",
			!!(t.flags & PG_W), !!(t.flags & PG_X),
			check(!(t.flags & PG_W) && (t.flags & PG_X)));
	if (translate_check(s, "kernel-data", data, bi->kernel.phys + (data - bi->kernel.virt), &t))
		kprintf("tour: protect name=kernel-data w=%u x=%u expect=w1,x0 check=%s\n",
			!!(t.flags & PG_W), !!(t.flags & PG_X),
			check((t.flags & PG_W) && (!nx || !(t.flags & PG_X))));
	translate_check(s, "stack", stack, bi->stack.phys + (stack - bi->stack.virt), &t);
	translate_check(s, "physmap-zero", physmap_base, 0, &t);
	translate_unmapped(s, "guard-page", bi->stack.virt - 4096, 1);
	translate_unmapped(s, "nothing", empty_pml4_slot(bi), 4);
	/* the first address past the lower half: bit 47, or bit 56 with 5 levels */
	uint64_t bad = s->levels == 5 ? 0x0100000000000000ull : 0x0000800000000000ull;
	pg_err e = pg_translate(s, pg_va(bad), &t);
	kprintf("tour: translate name=non-canonical virt=%p result=%s check=%s\n", (void *)bad,
		pg_strerror(e), check(e == PG_ERR_NOT_CANONICAL));
}

/* Frames of [pa, pa+len) that the allocator manages: must be 0 for memory in use. */
static uint64_t owned_frames(const frame_alloc *fa, uint64_t pa, uint64_t len)
{
	uint64_t n = 0;
	for (uint64_t f = pa & ~0xfffull; f < pa + len; f += 4096)
		n += kmem_owns(fa, f);
	return n;
}

/* Counts the table frames reachable from table (at level), and how many fa owns. */
static void table_frames(const pg_space *s, const frame_alloc *fa, uint64_t table,
			 unsigned level, uint64_t *total, uint64_t *owned)
{
	const uint64_t *t = pg_table(s, pg_pa(table));
	(*total)++;
	*owned += kmem_owns(fa, table);
	if (level == 1)
		return;
	for (unsigned i = 0; i < 512; i++)
		if ((t[i] & PTE_P) && !(level < 4 && (t[i] & PTE_PS)))
			table_frames(s, fa, t[i] & PTE_ADDR, level - 1, total, owned);
}

static void overlap_line(const char *name, uint64_t frames, uint64_t owned)
{
	kprintf("frames: overlap name=%s frames=%lu owned=%lu check=%s\n", name,
		(unsigned long)frames, (unsigned long)owned, check(frames > 0 && owned == 0));
}

/* Step 5 (first, since steps 3 and 4 need it): the allocator over usable memory, and
 * proof that nothing in use is among its frames. */
static void tour_frames(const boot_info *bi, pg_space *s)
{
	pg_err e = kmem_status(); /* kmem_init built the allocator; the tour only checks it */
	frame_alloc *fa = kmem_frames();
	mem_region meta = kmem_meta();
	const mem_list *bl = kmem_regions();
	uint64_t usable = 0;
	for (uint32_t i = 0; i < bi->region_count; i++)
		if (bi->regions[i].kind == MEM_USABLE)
			usable += bi->regions[i].length;
	kprintf("frames: init=%s regions=%lu total=%lu free=%lu meta=%p meta_bytes=%lu\n",
		pg_strerror(e), (unsigned long)fa->region_count, (unsigned long)fa->total_frames,
		(unsigned long)frame_free_count(fa), (void *)meta.start, (unsigned long)meta.length);
	kprintf("frames: managed_bytes=%lu meta_bytes=%lu usable_bytes=%lu check=%s\n",
		(unsigned long)(fa->total_frames * 4096), (unsigned long)meta.length,
		(unsigned long)usable,
		check(e == PG_OK && fa->total_frames > 0 &&
		      fa->total_frames * 4096 + meta.length <= usable));
	if (e != PG_OK)
		return;
	uint64_t tables = 0, tables_owned = 0;
	table_frames(s, fa, s->root.pa, s->levels, &tables, &tables_owned);
	overlap_line("kernel-image", bi->kernel.length / 4096,
		     owned_frames(fa, bi->kernel.phys, bi->kernel.length));
	overlap_line("kernel-stack", bi->stack.length / 4096,
		     owned_frames(fa, bi->stack.phys, bi->stack.length));
	overlap_line("page-tables", tables, tables_owned);
	overlap_line("boot-info", (sizeof(boot_info) + 4095) / 4096,
		     owned_frames(fa, (uint64_t)(uintptr_t)bi - physmap_base, sizeof(boot_info)));
	overlap_line("allocator-meta", meta.length / 4096, owned_frames(fa, meta.start, meta.length));
	/* And what it hands out is usable memory by the boot info's own list. */
	pg_paddr got[32];
	unsigned n = 0, outside = 0;
	while (n < 32 && frame_alloc_4k(fa, &got[n]) == PG_OK)
		outside += mem_list_kind_at(bl, got[n++].pa) != MEM_USABLE;
	for (unsigned i = 0; i < n; i++)
		frame_free_4k(fa, got[i]);
	kprintf("frames: sample handed_out=%u not_usable=%u first=%p check=%s\n", n, outside,
		(void *)(n ? got[0].pa : 0), check(n == 32 && outside == 0));
}

/* Step 3: the post's example page, first with no frames (fails, leaves nothing), then with
 * the allocator onto the framebuffer's first frame; a visible band, read back. One memory
 * type per frame: the example page takes the type of the frame's other mapping (the
 * console's WC window, or WB for a RAM frame in the physmap) and the read-back goes
 * through that mapping. */
static void tour_example(const boot_info *bi, pg_space *s)
{
	frame_alloc *fa = kmem_frames();
	const fb_device *fb = fbcon_device();
	pg_paddr target = pg_pa(bi->fb.base);
	unsigned cache = !fb ? PG_CACHE_UC : fb->wc ? PG_CACHE_WC : PG_CACHE_UC;
	volatile uint32_t *back = (volatile uint32_t *)(uintptr_t)(fb ? (uint64_t)(uintptr_t)fb->base
								  : TOUR_EXAMPLE_PAGE);
	const char *via = fb ? "fb-window" : "example";
	if (!bi->fb.base) {
		cache = PG_CACHE_WB;
		if (frame_alloc_4k(fa, &target) != PG_OK)
			target = pg_pa(0);
		back = (volatile uint32_t *)(uintptr_t)phys_to_virt(target.pa);
		via = "physmap";
	}
	pg_translation t;
	pg_frames *real = s->frames;
	uint64_t before = tour_table_count(s);
	s->frames = &empty_source;
	pg_err e = pg_map(s, pg_va(TOUR_EXAMPLE_PAGE), target, PG_4K, PG_W | cache, NULL);
	s->frames = real;
	uint64_t after = tour_table_count(s);
	bool absent = pg_translate(s, pg_va(TOUR_EXAMPLE_PAGE), &t) == PG_ERR_NOT_MAPPED;
	kprintf("tour: example page=%p source=empty result=%s tables_before=%lu tables_after=%lu "
		"mapped=%u check=%s\n", (void *)TOUR_EXAMPLE_PAGE, pg_strerror(e),
		(unsigned long)before, (unsigned long)after, !absent,
		check(e == PG_ERR_NO_FRAMES && before == after && absent));

	uint64_t used = frame_used_count(fa);
	e = pg_map(s, pg_va(TOUR_EXAMPLE_PAGE), target, PG_4K, PG_W | cache, NULL);
	after = tour_table_count(s);
	kprintf("tour: example page=%p frame=%p source=frame-allocator result=%s new_tables=%lu "
		"frames_taken=%lu check=%s\n", (void *)TOUR_EXAMPLE_PAGE, (void *)target.pa,
		pg_strerror(e), (unsigned long)(after - before),
		(unsigned long)(frame_used_count(fa) - used),
		check(e == PG_OK && after > before && after - before == frame_used_count(fa) - used));
	if (e != PG_OK || !translate_check(s, "example", TOUR_EXAMPLE_PAGE, target.pa, &t))
		return;
	/* 1024 pixels of 32 bits: a band across the top of the screen. */
	const uint32_t mark = 0x00ffd700;
	volatile uint32_t *px = (volatile uint32_t *)(uintptr_t)TOUR_EXAMPLE_PAGE;
	unsigned bad = 0;
	for (unsigned i = 0; i < 1024; i++)
		px[i] = mark;
	/* WC stores may sit in a write-combining buffer: sfence drains them before the reads */
	__asm__ volatile("sfence" : : : "memory");
	for (unsigned i = 0; i < 1024; i++)
		bad += back[i] != mark;
	kprintf("tour: example mark pixels=1024 value=0x%08x rows=%u cache=%s readback=%s "
		"mismatches=%u check=%s\n", mark,
		bi->fb.stride ? (1024 + bi->fb.stride - 1) / bi->fb.stride : 0,
		cache == PG_CACHE_WC ? "WC" : cache == PG_CACHE_UC ? "UC" : "WB", via, bad,
		check(bad == 0));
}

/* Step 4: page 0 mapped, written, unmapped; then a read of address 0 must fault. */
static void tour_page0(pg_space *s)
{
	frame_alloc *fa = kmem_frames();
	pg_paddr f, back;
	pg_size size;
	fault_record rec;
	uint64_t before = tour_table_count(s), v = 0;
	if (frame_alloc_4k(fa, &f) != PG_OK) {
		kprintf("tour: page0 frame=none check=%s\n", check(false));
		return;
	}
	pg_err e = pg_map(s, pg_va(0), f, PG_4K, PG_W, NULL);
	kprintf("tour: page0 map frame=%p result=%s tables_before=%lu tables_after=%lu check=%s\n",
		(void *)f.pa, pg_strerror(e), (unsigned long)before,
		(unsigned long)tour_table_count(s), check(e == PG_OK));
	if (e == PG_OK) {
		volatile uint64_t *p = tour_ptr(0);
		p[0] = 0x70616765207a6572ull;
		p[511] = ~0x70616765207a6572ull;
		const volatile uint64_t *pm = tour_ptr(phys_to_virt(f.pa));
		kprintf("tour: page0 write value=0x%016lx read=0x%016lx physmap=0x%016lx last_ok=%u "
			"check=%s\n", 0x70616765207a6572ul, (unsigned long)p[0], (unsigned long)pm[0],
			pm[511] == p[511], check(p[0] == pm[0] && pm[0] == 0x70616765207a6572ull &&
						 pm[511] == ~0x70616765207a6572ull));
		uint64_t foreign = kmem_foreign_frees();
		e = pg_unmap(s, pg_va(0), &back, &size);
		kprintf("tour: page0 unmap result=%s frame=%p tables_after=%lu "
			"boot_table_frames_dropped=%lu check=%s\n", pg_strerror(e), (void *)back.pa,
			(unsigned long)tour_table_count(s),
			(unsigned long)(kmem_foreign_frees() - foreign),
			check(e == PG_OK && back.pa == f.pa));
		bool done = fault_probe_read(0, &v, &rec);
		kprintf("tour: page0 read-after-unmap faulted=%u cr2=%p error=0x%lx cause=%s check=%s\n",
			!done, (void *)rec.cr2, (unsigned long)rec.error,
			rec.cause, check(!done && rec.hit && rec.cr2 == 0 &&
					 !(rec.error & (PF_ERR_P | PF_ERR_W)) &&
					 streq(rec.cause, "null-dereference")));
	}
	frame_free_4k(fa, f);
}

tour_result tour_run(const boot_info *bi, pg_space *s)
{
	n_pass = n_fail = 0;
	tour_tables(bi, s);
	tour_translate(bi, s);
	tour_frames(bi, s);
	if (s->frames == kmem_source()) {
		tour_example(bi, s);
		tour_page0(s);
	}
	kmem_report();
	kprintf("tour: checks passed=%u failed=%u\n", n_pass, n_fail);
	tour_result r = { n_pass, n_fail };
	return r;
}
