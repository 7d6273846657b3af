/* kmem.h - the kernel's physical memory: the frame allocator built over the boot-info
 * regions (usable kinds only) and attached to the kernel's address space. */
#ifndef KERNEL_KMEM_H
#define KERNEL_KMEM_H

#include "boot_info.h"
#include "frame.h"
#include "paging.h"
#include "region.h"

/* Where the physmap starts in this boot: boot_info.phys_offset, 10 TiB unless the EFI
 * shell's `boot --offset X` chose another. Set once, by kernel_main, from the validated
 * boot info; everything that reaches physical memory goes through phys_to_virt(). */
extern uint64_t physmap_base;

static inline uint64_t phys_to_virt(uint64_t pa) { return physmap_base + pa; }

/* Builds the allocator over bi's usable regions, records its metadata as kernel memory in
 * the kernel's copy of the region list, and makes it s's frame source; also gives s a TLB
 * flush. Returns frame_init's error (s is then left as it was). */
pg_err kmem_init(const boot_info *bi, pg_space *s);

frame_alloc *kmem_frames(void);
pg_frames *kmem_source(void);       /* the pg_frames attached to the kernel's space */
const mem_list *kmem_regions(void); /* boot regions plus the allocator's metadata */
mem_region kmem_meta(void);

/* True when fa manages the frame at pa (free or handed out). */
bool kmem_owns(const frame_alloc *fa, uint64_t pa);

/* Table frames the library gave back that the allocator refused as not its own: the
 * EFI stage's page-table frames, which are not usable memory and stay out of it. */
uint64_t kmem_foreign_frees(void);

/* Invalidates [start, start+length) on this CPU: invlpg for a few pages, else a full
 * flush that includes global entries (CR4.PGE toggled). */
void kmem_flush(void *ctx, pg_vaddr start, uint64_t length);

#endif
