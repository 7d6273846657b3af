/* space.c - builds the kernel's address space with paging/ (phys_offset 0: the firmware
 * identity-maps memory): the physmap at 10 TiB, the kernel's segments W^X, the stack
 * with its guard page, and the identity-mapped handoff trampoline; 4 or 5 levels. */
#include "stage.h"

/* What the physmap covers, page rounded and merged. Kept after the build so the exit can
 * hold the final map against it (no firmware is needed to read or extend it). */
static mem_region physmap_storage[BOOT_INFO_MAX_REGIONS];
static mem_list physmap_have;
static uint64_t physmap_limit; /* 1 << MAXPHYADDR: nothing at or above it is memory */

static EFI_STATUS map_failed(const CHAR16 *what, uint64_t va, pg_err e)
{
	Print(L"efi: error: mapping %s at 0x%016lx failed: %a\n", what, va, pg_strerror(e));
	return EFI_LOAD_ERROR;
}

/* The MTRRs as the stage found them (mtrr_read, only where CPUID says they exist); the
 * late cover after the exit types its pages with the same snapshot. */
static mtrr_state stage_mtrr;

typedef struct {
	stage_space *st;
	uint64_t at; /* the run being mapped, for the error message */
} map_ctx;

#ifdef PHYSMAP_MUTANT
/* Broken on purpose (make BUILD=build/mutant PHYSMAP_MUTANT=n), to prove the kernel's memtype
 * audit fails: 1 maps the first GiB as one 1 GiB page (legacy UC hole and non-RAM inside),
 * 2 adds the framebuffer to the physmap, WB beside the console's WC window. */
static bool mutant_first_gib(stage_space *st, uint64_t pa)
{
	static bool done;
	if (PHYSMAP_MUTANT != 1 || pa >= (1ull << 30))
		return false;
	if (!done)
		pg_map(&st->space, pg_va(st->physmap.offset), pg_pa(0), PG_1G, PG_W | PG_G, NULL);
	done = true;
	return true;
}
#endif

/* physplan_fn: maps one run of same-size pages into the physmap and records it. */
static pg_err map_run(void *ctx, uint64_t pa, uint64_t len, unsigned shift)
{
	map_ctx *c = ctx;
	c->at = pa;
#ifdef PHYSMAP_MUTANT
	if (mutant_first_gib(c->st, pa))
		return mem_list_add(&physmap_have, pa, len, MEM_USABLE);
#endif
	pg_err e = pg_map_range(&c->st->space, pg_va(c->st->physmap.offset + pa), pg_pa(pa), len,
				PG_W | PG_G, (pg_size)((shift - 12) / 9));
	return e == PG_OK ? mem_list_add(&physmap_have, pa, len, MEM_USABLE) : e;
}

/* The physmap's rules, in one place (physplan.c): only RAM-like memory, exactly, so that
 * neither speculation nor a stray pointer reaches device memory through it (Linux keeps
 * non-RAM out of its direct map for the same reason); the framebuffer never, since the
 * kernel's WC window is its one mapping; each page as large as one MTRR type allows. */
static physplan plan_for(const stage_space *st, const boot_info *bi)
{
	physplan p = { &stage_mtrr, pg_size_shift(st->physmap.page), physmap_limit, 0, 0,
		       { 0, 0, 0 }, 0 };
	if (bi->fb.base && bi->fb.size) {
		p.skip_lo = bi->fb.base;
		p.skip_hi = bi->fb.base + bi->fb.size;
	}
	return p;
}

static EFI_STATUS map_physmap(stage_space *st, const stage_cpu *cpu, const mem_list *map,
			      boot_info *bi)
{
	map_ctx c = { st, 0 };
	physmap_limit = 1ull << cpu->phys_bits;
	mtrr_read(&stage_mtrr, cpu->phys_bits);
	mem_list_init(&physmap_have, physmap_storage, BOOT_INFO_MAX_REGIONS);
	physplan p = plan_for(st, bi);
	pg_err e = physplan_map(&p, map, map_run, &c);
#ifdef PHYSMAP_MUTANT
	if (e == PG_OK && PHYSMAP_MUTANT == 2 && bi->fb.base)
		e = map_run(&c, bi->fb.base & ~0xfffull, (bi->fb.size + 0xfff) & ~0xfffull, 12);
#endif
	if (e != PG_OK)
		return map_failed(L"physmap", st->physmap.offset + c.at, e);
	bi->phys_offset = st->physmap.offset;
	bi->physmap_end = st->physmap.offset + p.end;
	bi->physmap_page_shift = pg_size_shift(st->physmap.page);
	bi->physmap_ranges = (uint32_t)physmap_have.count;
	for (int i = 0; i < 3; i++)
		bi->physmap_pages[i] = p.pages[i];
	Print(L"efi: mtrr present=%d enabled=%d default=%a variable=%d\n", stage_mtrr.present,
	      mtrr_enabled(&stage_mtrr), mtrr_type_name(mtrr_default(&stage_mtrr)),
	      stage_mtrr.var_count);
	Print(L"efi: physmap ranges=%d end=0x%016lx page=%a pages 1G=%ld 2M=%ld 4K=%ld\n",
	      bi->physmap_ranges, bi->physmap_end, pg_size_name(st->physmap.page), p.pages[2],
	      p.pages[1], p.pages[0]);
	return EFI_SUCCESS;
}

/* W^X from the segment flags; text and rodata global, as the DESIGN table says. */
static unsigned segment_flags(uint32_t elf_flags)
{
	unsigned f = PG_G;
	if (elf_flags & ELF_PF_W)
		f |= PG_W;
	if (elf_flags & ELF_PF_X)
		f |= PG_X;
	return f;
}

/* Copies the validated segments into one fresh block spanning img.lo..img.hi, so the
 * image is one physical range, and maps each segment's pages with its own flags. */
static EFI_STATUS load_kernel(stage_space *st, const void *file, uint64_t size, boot_info *bi)
{
	elf_image *img = &st->img;
	elf_err ee = elf_validate(file, size, BOOT_KERNEL_BASE, img);
	if (ee != ELF_OK) {
		Print(L"efi: error: embedded kernel ELF refused: %a (program header %d)\n",
		      elf_strerror(ee), img->bad_index);
		return EFI_LOAD_ERROR;
	}
	uint64_t span = img->hi - img->lo, phys;
	EFI_STATUS s = stage_alloc(span / 4096, MEM_KERNEL, L"kernel image", &phys);
	if (EFI_ERROR(s))
		return s;
	ZeroMem((void *)(UINTN)phys, span);
	for (unsigned i = 0; i < img->count; i++) {
		const elf_segment *seg = &img->seg[i];
		uint64_t page_lo = seg->vaddr & ~0xfffull;
		uint64_t page_hi = (seg->vaddr + seg->memsz + 0xfff) & ~0xfffull;
		CopyMem((void *)(UINTN)(phys + (seg->vaddr - img->lo)),
			(const uint8_t *)file + seg->offset, seg->filesz);
		pg_err e = pg_map_range(&st->space, pg_va(page_lo), pg_pa(phys + (page_lo - img->lo)),
					page_hi - page_lo, segment_flags(seg->flags), PG_4K);
		if (e != PG_OK)
			return map_failed(L"kernel segment", page_lo, e);
		Print(L"efi: kernel segment virt=0x%016lx phys=0x%016lx bytes=%ld flags=%c%c%c\n",
		      page_lo, phys + (page_lo - img->lo), page_hi - page_lo,
		      seg->flags & ELF_PF_R ? 'r' : '-', seg->flags & ELF_PF_W ? 'w' : '-',
		      seg->flags & ELF_PF_X ? 'x' : '-');
	}
	bi->kernel = (boot_range){ phys, img->lo, span };
	bi->kernel_entry = img->entry;
	return EFI_SUCCESS;
}

/* The stack sits below BOOT_STACK_TOP; the page under it is left unmapped so an
 * overflow faults instead of running into whatever lies below. */
static EFI_STATUS map_stack(stage_space *st, boot_info *bi)
{
	uint64_t virt = BOOT_STACK_TOP - BOOT_STACK_SIZE;
	EFI_STATUS s = stage_alloc(BOOT_STACK_SIZE / 4096, MEM_KERNEL_STACK, L"kernel stack",
				   &st->stack_phys);
	if (EFI_ERROR(s))
		return s;
	ZeroMem((void *)(UINTN)st->stack_phys, BOOT_STACK_SIZE);
	pg_err e = pg_map_range(&st->space, pg_va(virt), pg_pa(st->stack_phys), BOOT_STACK_SIZE,
				PG_W, PG_4K);
	if (e != PG_OK)
		return map_failed(L"kernel stack", virt, e);
	bi->stack = (boot_range){ st->stack_phys, virt, BOOT_STACK_SIZE };
	Print(L"efi: stack virt=0x%016lx phys=0x%016lx bytes=%ld guard=0x%016lx\n", virt,
	      st->stack_phys, BOOT_STACK_SIZE, virt - 4096);
	return EFI_SUCCESS;
}

/* The trampoline (handoff.h) runs on both sets of tables, so its two pages below 4 GiB are
 * mapped at their own physical addresses: code executable and read-only, data (GDT, IDT,
 * stack) writable and NX; neither global (the kernel removes both). A third page below
 * 4 GiB receives a copy of the top table right before the jump: a mode change loads CR3
 * from 32-bit code, which writes only 32 bits. */
static EFI_STATUS map_handoff(stage_space *st, boot_info *bi)
{
	EFI_STATUS s;
	if (EFI_ERROR((s = stage_alloc_low(1, EfiLoaderCode, MEM_BOOT_RECLAIMABLE,
					   L"handoff code", &st->handoff_page))) ||
	    EFI_ERROR((s = stage_alloc_low(1, EfiLoaderData, MEM_BOOT_RECLAIMABLE,
					   L"handoff data", &st->handoff_data))) ||
	    EFI_ERROR((s = stage_alloc_low(1, EfiLoaderData, MEM_PAGE_TABLES,
					   L"top table below 4 GiB", &st->handoff_root))))
		return s;
	if (st->handoff_page >= st->physmap.offset || st->handoff_data >= st->physmap.offset) {
		Print(L"efi: error: handoff pages 0x%016lx 0x%016lx are not below the physmap\n",
		      st->handoff_page, st->handoff_data);
		return EFI_LOAD_ERROR;
	}
	pg_err e = pg_map(&st->space, pg_va(st->handoff_page), pg_pa(st->handoff_page), PG_4K,
			  PG_X, NULL);
	if (e != PG_OK)
		return map_failed(L"handoff page", st->handoff_page, e);
	e = pg_map(&st->space, pg_va(st->handoff_data), pg_pa(st->handoff_data), PG_4K, PG_W,
		   NULL);
	if (e != PG_OK)
		return map_failed(L"handoff data page", st->handoff_data, e);
	ZeroMem((void *)(UINTN)st->handoff_root, 4096);
	bi->handoff_page = st->handoff_page;
	bi->handoff_data = st->handoff_data;
	Print(L"efi: handoff code=0x%016lx data=0x%016lx root_copy=0x%016lx\n", st->handoff_page,
	      st->handoff_data, st->handoff_root);
	return EFI_SUCCESS;
}

EFI_STATUS stage_build_space(stage_space *st, const stage_cpu *cpu, const mem_list *map,
			     const void *kernel, uint64_t kernel_size, boot_info *bi)
{
	EFI_STATUS s;
	unsigned levels = st->levels ? st->levels : 4;
	if (levels == 5 && !cpu->la57) {
		Print(L"efi: error: 5-level paging asked for, but this CPU lacks LA57\n");
		return EFI_UNSUPPORTED;
	}
	pg_err e = pg_space_init(&st->space, stage_table_frames(), 0, cpu->nx, cpu->gb_pages,
				 cpu->phys_bits, levels);
	if (e != PG_OK) {
		Print(L"efi: error: new top table: %a\n", pg_strerror(e));
		return EFI_OUT_OF_RESOURCES;
	}
	if (EFI_ERROR((s = map_physmap(st, cpu, map, bi))) ||
	    EFI_ERROR((s = load_kernel(st, kernel, kernel_size, bi))) ||
	    EFI_ERROR((s = map_stack(st, bi))) || EFI_ERROR((s = map_handoff(st, bi))))
		return s;
	uint64_t counts[5];
	bi->pml4 = st->handoff_root; /* the copy the CPU will run on (exit.c makes it) */
	bi->paging_levels = levels;
	pg_count_tables(&st->space, counts);
	for (unsigned i = 0; i < 4; i++)
		bi->table_counts[i] = counts[i];
	bi->table_count_l5 = counts[4];
	bi->table_frames_reserved = stage_table_frames_reserved();
	Print(L"efi: tables pml4=0x%016lx l4=%ld l3=%ld l2=%ld l1=%ld reserved=%ld\n", bi->pml4,
	      bi->table_counts[3], bi->table_counts[2], bi->table_counts[1], bi->table_counts[0],
	      bi->table_frames_reserved);
	Print(L"efi: tables levels=%d root=0x%016lx l5=%ld\n", levels, bi->pml4, counts[4]);
	unsigned fw = (read_cr4() & CR4_LA57) ? 5 : 4;
	Print(L"efi: handoff firmware_levels=%d kernel_levels=%d switch=%s\n", fw, levels,
	      fw == levels ? L"mov-cr3" : L"via-32-bit-code");
	return EFI_SUCCESS;
}

/* The first part of [start, end) that no physmap range covers, as [*lo, *hi); false when
 * all of it is covered. have is sorted and merged, so one pass finds it. */
static bool first_gap(uint64_t start, uint64_t end, uint64_t *lo, uint64_t *hi)
{
	for (size_t i = 0; i < physmap_have.count && start < end; i++) {
		const mem_region *h = &physmap_have.r[i];
		if (h->start + h->length <= start)
			continue;
		if (h->start > start)
			break;
		start = h->start + h->length;
	}
	if (start >= end)
		return false;
	*lo = start;
	*hi = end;
	for (size_t i = 0; i < physmap_have.count; i++)
		if (physmap_have.r[i].start > start && physmap_have.r[i].start < *hi)
			*hi = physmap_have.r[i].start;
	return true;
}

/* Maps every gap the physmap leaves in [start, end), exactly. */
static pg_err cover_span(physplan *p, map_ctx *c, uint64_t start, uint64_t end, uint32_t kind,
			 boot_info *bi, mem_region *gap)
{
	uint64_t lo, hi;
	while (start < end && first_gap(start, end, &lo, &hi)) {
		*gap = (mem_region){ lo, hi - lo, kind, 0 };
		pg_err e = physplan_range(p, lo, hi, map_run, c);
		if (e != PG_OK)
			return e;
		bi->physmap_late_ranges++;
	}
	return PG_OK;
}

pg_err stage_physmap_cover(stage_space *st, const mem_list *final, boot_info *bi,
			   mem_region *gap)
{
	map_ctx c = { st, 0 };
	physplan p = plan_for(st, bi);
	pg_err e = PG_OK;
	for (size_t i = 0; i < final->count && e == PG_OK; i++) {
		const mem_region *r = &final->r[i];
		uint64_t lo = (r->start + 0xfff) & ~0xfffull, end = (r->start + r->length) & ~0xfffull;
		if (!mem_kind_ram_like(r->kind) || lo >= physmap_limit)
			continue; /* beyond what the CPU can address: cannot be memory */
		if (end > physmap_limit)
			end = physmap_limit;
		/* around the framebuffer, which the physmap never maps */
		uint64_t cut_lo = p.skip_lo & ~0xfffull, cut_hi = (p.skip_hi + 0xfff) & ~0xfffull;
		if (p.skip_lo == p.skip_hi || cut_hi <= lo || cut_lo >= end) {
			e = cover_span(&p, &c, lo, end, r->kind, bi, gap);
			continue;
		}
		e = cover_span(&p, &c, lo, cut_lo, r->kind, bi, gap);
		if (e == PG_OK)
			e = cover_span(&p, &c, cut_hi, end, r->kind, bi, gap);
	}
	for (int i = 0; i < 3; i++)
		bi->physmap_pages[i] += p.pages[i];
	if (p.end && st->physmap.offset + p.end > bi->physmap_end)
		bi->physmap_end = st->physmap.offset + p.end;
	bi->physmap_ranges = (uint32_t)physmap_have.count;
	return e;
}
