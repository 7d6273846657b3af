/* kmem.c - the kernel's memory core: the address space, the frame allocator over the
 * boot-info regions and the TLB flush. Page tables the library frees go back through a
 * wrapper that counts what the allocator refuses, so frames of the EFI stage's tables are
 * reported rather than silently dropped. */
#include "kmem.h"

#include "cpu.h"
#include "kprintf.h"

uint64_t physmap_base = BOOT_PHYSMAP_OFFSET;

static pg_space kspace;
static pg_err status = PG_ERR_BAD_ARG;
static frame_alloc fa;
static mem_region region_store[BOOT_INFO_MAX_REGIONS + 4];
static mem_list regions;
static mem_region meta;
static pg_frames source;
static uint64_t foreign_frees;

static bool src_alloc(void *ctx, pg_paddr *frame)
{
	return frame_alloc_4k(ctx, frame) == PG_OK;
}

static void src_free(void *ctx, pg_paddr frame)
{
	if (frame_free_4k(ctx, frame) == PG_ERR_NOT_OWNED)
		foreign_frees++;
}

void kmem_flush(void *ctx, pg_vaddr start, uint64_t length)
{
	(void)ctx;
	if (length <= 64 * 4096) {
		for (uint64_t off = 0; off < length; off += 4096)
			invlpg(start.va + off);
		return;
	}
	uint64_t cr4 = read_cr4();
	write_cr4(cr4 & ~CR4_PGE); /* clearing PGE flushes every entry, global ones too */
	write_cr4(cr4);
}

/* Builds the allocator and makes it s's frame source. */
static pg_err frames_init(const boot_info *bi, pg_space *s)
{
	mem_list_init(&regions, region_store, sizeof region_store / sizeof region_store[0]);
	for (uint32_t i = 0; i < bi->region_count; i++) {
		const boot_region *r = &bi->regions[i];
		region_store[i] = (mem_region){ r->start, r->length, r->kind, 0 };
	}
	regions.count = bi->region_count;
	pg_err e = frame_init(&fa, &regions, s->phys_offset, &meta);
	if (e != PG_OK)
		return e;
	e = mem_list_set(&regions, meta.start, meta.length, MEM_KERNEL);
	if (e != PG_OK)
		return e;
	source = (pg_frames){ src_alloc, src_free, &fa };
	s->frames = &source;
	return PG_OK;
}

pg_err kmem_init(const boot_info *bi)
{
	pg_err e = pg_space_attach(&kspace, pg_pa(bi->pml4), NULL, bi->phys_offset,
				   (bi->cpu_features & BOOT_CPU_NX) != 0,
				   (bi->cpu_features & BOOT_CPU_1G) != 0, bi->phys_bits,
				   bi->paging_levels);
	if (e == PG_OK) {
		kspace.flush = kmem_flush;
		kspace.flush_ctx = NULL;
		e = frames_init(bi, &kspace);
	}
	return status = e;
}

pg_err kmem_status(void) { return status; }
pg_space *kmem_space(void) { return &kspace; }

void kmem_report(void)
{
	kprintf("frames: total=%lu free=%lu used=%lu\n", (unsigned long)fa.total_frames,
		(unsigned long)frame_free_count(&fa), (unsigned long)frame_used_count(&fa));
}

frame_alloc *kmem_frames(void) { return &fa; }
pg_frames *kmem_source(void) { return &source; }
const mem_list *kmem_regions(void) { return &regions; }
mem_region kmem_meta(void) { return meta; }
uint64_t kmem_foreign_frees(void) { return foreign_frees; }

bool kmem_owns(const frame_alloc *a, uint64_t pa)
{
	for (size_t k = 0; k < a->region_count; k++) {
		const struct frame_region *r = &a->regions[k];
		if (pa >= r->base && pa - r->base < r->frames * 4096)
			return true;
	}
	return false;
}
