/* kmem.h - the kernel's memory core: its address space (the tables the EFI stage built,
 * adopted), the frame allocator over the boot-info regions (usable kinds only) and the TLB
 * flush. kmem_init brings all three up in one place; everything after it only uses them. */
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

/* Adopts the tables in CR3 (bi->pml4) as the kernel's address space, builds the frame
 * allocator over bi's usable regions (its metadata recorded as kernel memory in the
 * kernel's copy of the region list) and makes it the space's frame source, with
 * kmem_flush as its TLB flush. On an error the space is still there, read-only (no frame
 * source), and the error says why the allocator is not. */
pg_err kmem_init(const boot_info *bi);

/* What kmem_init returned (PG_ERR_BAD_ARG before it ran). */
pg_err kmem_status(void);

/* The kernel's address space; valid from kmem_init on. */
pg_space *kmem_space(void);

/* Prints the allocator's state: frames: total=N free=N used=N. */
void kmem_report(void);

frame_alloc *kmem_frames(void);
pg_frames *kmem_source(void);       /* the pg_frames attached to the kernel's space */
const mem_list *kmem_regions(void); /* boot regions plus the allocator's metadata */
mem_region kmem_meta(void);

/* True when fa manages the frame at pa (free or handed out). */
bool kmem_owns(const frame_alloc *fa, uint64_t pa);

/* Table frames the library gave back that the allocator refused as not its own: the
 * EFI stage's page-table frames, which are not usable memory and stay out of it. */
uint64_t kmem_foreign_frees(void);

/* kspace's flush callback. Under kmem_lock it adds the range to the lock holder's batch
 * (kmem_unlock shoots it down); otherwise it is a shootdown on every online CPU at once
 * (smp.h: invlpg per page, a full flush with global entries past a threshold). */
void kmem_flush(void *ctx, pg_vaddr start, uint64_t length);

/* The lock of kspace and the frame allocator: see the rule in kmem.c. Not reentrant.
 * kmem_unlock completes the batched shootdown, then frees what waited for it. */
void kmem_lock(void);
void kmem_unlock(void);

/* pg_* on kspace (4 KiB pages) and the allocator, each under kmem_lock; safe from any CPU.
 * kmem_unmap returns the frame once no CPU can reach it any more; kmem_unmap_free gives it
 * back to the allocator at that point, and refuses a huge page (PG_ERR_HUGE_PAGE). */
pg_err kmem_map(uint64_t va, uint64_t pa, unsigned flags);
pg_err kmem_unmap(uint64_t va, uint64_t *pa);
pg_err kmem_unmap_free(uint64_t va);
pg_err kmem_protect(uint64_t va, uint64_t length, unsigned flags);
pg_err kmem_translate(uint64_t va, pg_mapping *m);
pg_err kmem_frame_alloc(uint64_t *pa);
void kmem_frame_free(uint64_t pa);

#endif
