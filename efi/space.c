/* space.c - builds the kernel's address space with paging/ (phys_offset 0: the firmware
 * identity-maps memory): the physmap at 10 TiB, the kernel's segments W^X, the stack
 * with its guard page, and the identity-mapped handoff page. */
#include "stage.h"

#define GIB (1ull << 30)

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

/* Collects the physical ranges the physmap covers, rounded out to page, into want
 * (mem_list_add merges what touches). */
static pg_err physmap_ranges(const mem_list *map, const boot_info *bi, uint64_t page,
			     mem_list *want)
{
	pg_err e = mem_list_add(want, 0, 4 * GIB, MEM_USABLE);
	for (size_t i = 0; e == PG_OK && i < map->count; i++) {
		const mem_region *r = &map->r[i];
		/* above 4 GiB only memory; below it everything, so low MMIO such as the
		 * APIC and HPET stays reachable */
		if (!mem_kind_ram_like(r->kind) || r->start + r->length <= 4 * GIB)
			continue;
		uint64_t lo = r->start & ~(page - 1);
		uint64_t hi = (r->start + r->length + page - 1) & ~(page - 1);
		e = mem_list_add(want, lo, hi - lo, MEM_USABLE);
	}
	if (e == PG_OK && bi->fb.base && bi->fb.size) {
		uint64_t lo = bi->fb.base & ~(page - 1);
		uint64_t hi = (bi->fb.base + bi->fb.size + page - 1) & ~(page - 1);
		e = mem_list_add(want, lo, hi - lo, MEM_USABLE);
	}
	return e;
}

static EFI_STATUS map_physmap(stage_space *st, const stage_cpu *cpu, const mem_list *map,
			      boot_info *bi)
{
	mem_list want;
	pg_size size = st->physmap.page;
	uint64_t page = pg_size_bytes(size), limit = 1ull << cpu->phys_bits, end = 0;
	uint32_t mapped = 0;
	uint64_t offset = st->physmap.offset;

	mem_list_init(&want, physmap_storage, BOOT_INFO_MAX_REGIONS);
	pg_err e = physmap_ranges(map, bi, page, &want);
	if (e != PG_OK) {
		Print(L"efi: error: physmap range list: %a\n", pg_strerror(e));
		return EFI_LOAD_ERROR;
	}
	for (size_t i = 0; i < want.count; i++) {
		uint64_t start = want.r[i].start, len = want.r[i].length;
		if (start >= limit)
			continue; /* beyond what the CPU can address: cannot be memory */
		if (len > limit - start)
			len = limit - start;
		e = pg_map_range(&st->space, pg_va(offset + start), pg_pa(start), len, PG_W | PG_G,
				 size);
		if (e != PG_OK)
			return map_failed(L"physmap", offset + start, e);
		end = start + len;
		mapped++;
	}
	bi->phys_offset = offset;
	bi->physmap_end = offset + end;
	bi->physmap_page_shift = pg_size_shift(size);
	bi->physmap_ranges = mapped; /* not those beyond MAXPHYADDR, which were skipped */
	physmap_have = want;
	physmap_limit = limit;
	Print(L"efi: physmap ranges=%d end=0x%016lx page=%a\n", mapped, bi->physmap_end,
	      pg_size_name(size));
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

/* The handoff code runs on both sets of tables, so its page is mapped at its own
 * physical address: executable, read-only, not global (the kernel removes it). */
static EFI_STATUS map_handoff(stage_space *st, boot_info *bi)
{
	st->handoff_page = (uint64_t)(UINTN)stage_handoff_page;
	if (st->handoff_page & 0xfff || st->handoff_page >= st->physmap.offset) {
		Print(L"efi: error: handoff code at 0x%016lx is not a page in low memory\n",
		      st->handoff_page);
		return EFI_LOAD_ERROR;
	}
	pg_err e = pg_map(&st->space, pg_va(st->handoff_page), pg_pa(st->handoff_page), PG_4K,
			  PG_X, NULL);
	if (e != PG_OK)
		return map_failed(L"handoff page", st->handoff_page, e);
	bi->handoff_page = st->handoff_page;
	return EFI_SUCCESS;
}

EFI_STATUS stage_build_space(stage_space *st, const stage_cpu *cpu, const mem_list *map,
			     const void *kernel, uint64_t kernel_size, boot_info *bi)
{
	EFI_STATUS s;
	pg_err e = pg_space_init(&st->space, stage_table_frames(), 0, cpu->nx, cpu->gb_pages,
				 cpu->phys_bits, 4);
	if (e != PG_OK) {
		Print(L"efi: error: new PML4: %a\n", pg_strerror(e));
		return EFI_OUT_OF_RESOURCES;
	}
	if (EFI_ERROR((s = map_physmap(st, cpu, map, bi))) ||
	    EFI_ERROR((s = load_kernel(st, kernel, kernel_size, bi))) ||
	    EFI_ERROR((s = map_stack(st, bi))) || EFI_ERROR((s = map_handoff(st, bi))))
		return s;
	uint64_t counts[5];
	bi->pml4 = st->space.root.pa;
	pg_count_tables(&st->space, counts);
	for (unsigned i = 0; i < 4; i++) /* the kernel's tables have 4 levels */
		bi->table_counts[i] = counts[i];
	bi->table_frames_reserved = stage_table_frames_reserved();
	Print(L"efi: tables pml4=0x%016lx l4=%ld l3=%ld l2=%ld l1=%ld reserved=%ld\n", bi->pml4,
	      bi->table_counts[3], bi->table_counts[2], bi->table_counts[1], bi->table_counts[0],
	      bi->table_frames_reserved);
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

pg_err stage_physmap_cover(stage_space *st, const mem_list *final, boot_info *bi,
			   mem_region *gap)
{
	uint64_t page = pg_size_bytes(st->physmap.page), lo, hi;
	for (size_t i = 0; i < final->count; i++) {
		const mem_region *r = &final->r[i];
		uint64_t end = r->start + r->length;
		if (!mem_kind_ram_like(r->kind) || r->start >= physmap_limit)
			continue; /* beyond what the CPU can address: cannot be memory */
		if (end > physmap_limit)
			end = physmap_limit;
		while (first_gap(r->start, end, &lo, &hi)) {
			/* rounding out stays clear of the mapped ranges: their ends are aligned */
			lo &= ~(page - 1);
			hi = (hi + page - 1) & ~(page - 1);
			if (hi > physmap_limit)
				hi = physmap_limit;
			*gap = (mem_region){ lo, hi - lo, r->kind, 0 };
			pg_err e = pg_map_range(&st->space, pg_va(st->physmap.offset + lo), pg_pa(lo),
						hi - lo, PG_W | PG_G, st->physmap.page);
			if (e == PG_OK)
				e = mem_list_add(&physmap_have, lo, hi - lo, MEM_USABLE);
			if (e != PG_OK)
				return e;
			bi->physmap_late_ranges++;
			if (st->physmap.offset + hi > bi->physmap_end)
				bi->physmap_end = st->physmap.offset + hi;
		}
	}
	bi->physmap_ranges = (uint32_t)physmap_have.count;
	return PG_OK;
}
