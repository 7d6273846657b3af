/* heap.h - the kernel heap: kmalloc and friends over heap_core, in a higher-half region
 * whose pages come from the frame allocator and are mapped (and unmapped) on demand. */
#ifndef KERNEL_HEAP_H
#define KERNEL_HEAP_H

#include <stddef.h>
#include <stdint.h>

#include "heap_core.h"

/* PML4 slot 288 with 4 levels (under PML5 slot 511 with 5): nothing else uses it.
 * The descriptors (one 2 MiB block, mapped for good, so the slot's upper tables exist
 * before any address space copies the kernel half) come first, then the region, then one
 * page that is never mapped: the guard. */
#define HEAP_DESC_VA  0xFFFF900000000000ull
#define HEAP_BASE     (HEAP_DESC_VA + (2ull << 20))
#define HEAP_PAGES    32768u /* 128 MiB */
#define HEAP_GUARD    (HEAP_BASE + (uint64_t)HEAP_PAGES * HC_PAGE)

/* Maps the descriptors and sets the heap up; prints `heap: ...`. Needs kmem_init. */
bool heap_init(void);

/* Errors are printed (`heap: error op=... why=...`), counted and answered with NULL;
 * a double or foreign kfree changes nothing. align: a power of two up to 4096. */
void *kmalloc(size_t size);
void *kmalloc_aligned(size_t size, size_t align);
void *kcalloc(size_t n, size_t size);
void *krealloc(void *p, size_t size);
void kfree(void *p);

/* The last error of the calls above (HC_OK if the last call succeeded). */
hc_err heap_last_error(void);
const hc_heap *heap_core(void);
/* Pages currently mapped for the heap (frames it holds), descriptors excluded. */
uint64_t heap_mapped_pages(void);
void heap_report(void);

#endif
