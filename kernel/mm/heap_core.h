/* heap_core.h - the kernel heap's allocator core: size classes of 16..2048 bytes carved out
 * of 4 KiB slab pages, whole pages for anything larger, inside one fixed virtual region
 * whose pages are mapped and unmapped through callbacks as they are used. Freestanding
 * (<stdint.h>, <stddef.h>, <stdbool.h>): the kernel and the host tests build the same file. */
#ifndef KERNEL_HEAP_CORE_H
#define KERNEL_HEAP_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HC_PAGE      4096u
#define HC_MIN_CLASS 16u
#define HC_CLASSES   8u      /* 16, 32, ..., 2048 */
#define HC_MAX_SMALL 2048u
#define HC_NONE      0xffffffffu

typedef enum {
	HC_OK = 0,
	HC_ERR_ZERO,        /* a request for 0 bytes */
	HC_ERR_OVERFLOW,    /* the size (or count * size) does not fit in size_t once rounded */
	HC_ERR_TOO_BIG,     /* larger than the whole region */
	HC_ERR_ALIGN,       /* alignment not a power of two, or above one page */
	HC_ERR_NOMEM,       /* no run of free pages that long, or the page source said no */
	HC_ERR_DOUBLE_FREE, /* the object or page is free already (or was never handed out) */
	HC_ERR_FOREIGN,     /* not a pointer this heap handed out: outside the region or inside
			       an object instead of at its start */
	HC_ERR_BAD_ARG,     /* hc_init: misaligned base, no pages, no descriptors */
	HC_ERR__COUNT
} hc_err;

const char *hc_strerror(hc_err e);

/* Where pages come from. map makes [va, va + pages * 4 KiB) readable and writable and
 * returns false (having mapped nothing) when it cannot; unmap gives them back. */
typedef struct {
	bool (*map)(void *ctx, uintptr_t va, size_t pages);
	void (*unmap)(void *ctx, uintptr_t va, size_t pages);
	void *ctx;
} hc_pages;

/* One descriptor per page of the region, kept outside it (heap memory holds only objects). */
enum { HC_PG_FREE = 0, HC_PG_SLAB, HC_PG_LARGE, HC_PG_TAIL };
typedef struct {
	uint8_t state;      /* HC_PG_* */
	uint8_t cls;        /* slab: class index */
	uint16_t nfree;     /* slab: objects not handed out */
	uint16_t free_head; /* slab: first freed object (index), 0xffff = none */
	uint16_t bump;      /* slab: objects ever handed out from the untouched tail */
	uint32_t next, prev;/* slab: the class's partial list (page indexes, HC_NONE ends) */
	uint32_t run;       /* large: pages in the run (head); tail: index of the head */
	uint32_t pad;
	uint64_t used[4];   /* slab: one bit per object handed out (256 objects at most) */
} hc_page;

typedef struct {
	uintptr_t base;       /* first byte of the region, page aligned */
	uint32_t npages;      /* pages in the region (the guard page after it is the caller's) */
	hc_page *pages;       /* npages descriptors */
	hc_pages src;
	uint32_t partial[HC_CLASSES]; /* slab pages with free objects, by class */
	uint32_t spare[HC_CLASSES];   /* one empty slab page kept mapped per class */
	uint32_t hint;        /* no free page lies below it */
	/* figures */
	uint64_t mapped_pages, slab_pages, large_pages;
	uint64_t live_objects, live_bytes; /* usable bytes of what is handed out */
	uint64_t allocs, frees, errors;
} hc_heap;

/* Sets up an empty heap over [base, base + npages * 4 KiB); nothing is mapped yet. descs
 * must hold npages entries (zeroed here). */
hc_err hc_init(hc_heap *h, uintptr_t base, uint32_t npages, hc_page *descs, hc_pages src);

/* size bytes aligned to align (a power of two up to 4096; 0 means 16). NULL on error,
 * with *err (if not NULL) saying why; the heap is then unchanged. */
void *hc_alloc(hc_heap *h, size_t size, size_t align, hc_err *err);
/* n * size bytes, zeroed; overflow of the product is HC_ERR_OVERFLOW. */
void *hc_calloc(hc_heap *h, size_t n, size_t size, hc_err *err);
/* Moves p's contents into an allocation of size bytes (p NULL: hc_alloc). On error p is
 * untouched and still allocated. Keeps p when it already fits its class or run; a moved
 * block has the default alignment (16), not the one p was allocated with. */
void *hc_realloc(hc_heap *h, void *p, size_t size, hc_err *err);
/* Gives p back. HC_ERR_DOUBLE_FREE / HC_ERR_FOREIGN leave the heap unchanged. NULL is a
 * no-op (HC_OK). */
hc_err hc_free(hc_heap *h, void *p);

/* The usable size of the live allocation that starts at p, 0 if p is not one. */
size_t hc_usable(const hc_heap *h, const void *p);

/* Walks every descriptor and list and checks them against each other and the figures:
 * true when consistent. For tests; O(pages). */
bool hc_check(const hc_heap *h);

#endif
