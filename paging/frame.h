/* frame.h - physical frame allocator: 4 KiB frames and 2 MiB blocks (2 MiB aligned),
 * alloc and free in constant amortized time, strict about double and foreign frees.
 * Its metadata lives in the memory it manages and is reached through phys_offset. */
#ifndef PAGING_FRAME_H
#define PAGING_FRAME_H

#include "paging.h"
#include "region.h"

#define FRAME_MAX_REGIONS 256

typedef struct frame_alloc frame_alloc; /* opaque layout lives in frame.c, but sized here */

struct frame_region {
	uint64_t base;        /* first frame (4 KiB aligned) */
	uint64_t frames;      /* number of 4 KiB frames */
	uint64_t bitmap_word; /* index of its first word in the free bitmap (8 words per
				 block, kept inside the block records: first_block * 8) */
	uint64_t first_block; /* index of its first 2 MiB block record; block 0 of a region
				 starts at the 2 MiB boundary at or below base */
};

struct frame_alloc {
	uint64_t phys_offset;
	pg_paddr meta;              /* physical address of the metadata area */
	uint64_t meta_bytes;        /* its size, whole 4 KiB frames */
	struct frame_region regions[FRAME_MAX_REGIONS];
	size_t region_count;
	uint64_t free_frames;       /* 4 KiB frames free, counting those inside free blocks */
	uint64_t total_frames;      /* 4 KiB frames managed (metadata excluded) */
	/* list heads and internal state; see frame.c */
	uint64_t list4k;            /* physical address of first free 4K frame, or ~0 */
	uint64_t list2m;            /* block index of first whole free block, or ~0 */
	uint64_t bump_block;        /* block being handed out 4 KiB at a time, or ~0 */
	uint64_t bump_next;         /* next frame index inside bump_block */
	uint64_t block_count;
};

/* Builds the allocator over the MEM_USABLE regions of list (rounded inward to 4 KiB).
 * The metadata (72 bytes per 2 MiB block touched) is carved out of the start of the
 * first usable region large enough; *meta_out (if non-NULL) receives its range, as
 * MEM_KERNEL, so the caller can record it. PG_ERR_NO_FRAMES when there is no usable
 * memory or no region can hold the metadata, PG_ERR_BAD_ARG when there are more than
 * FRAME_MAX_REGIONS usable regions or they are unsorted or overlap. */
pg_err frame_init(frame_alloc *fa, const mem_list *list, uint64_t phys_offset,
		  mem_region *meta_out);

pg_err frame_alloc_4k(frame_alloc *fa, pg_paddr *frame);
pg_err frame_alloc_2m(frame_alloc *fa, pg_paddr *block);
/* PG_ERR_NOT_ALIGNED, PG_ERR_NOT_OWNED (outside usable memory, or a 2 MiB block freed
 * as 4 KiB frames or the other way round), PG_ERR_DOUBLE_FREE. */
pg_err frame_free_4k(frame_alloc *fa, pg_paddr frame);
pg_err frame_free_2m(frame_alloc *fa, pg_paddr block);

static inline uint64_t frame_free_count(const frame_alloc *fa) { return fa->free_frames; }
static inline uint64_t frame_used_count(const frame_alloc *fa)
{
	return fa->total_frames - fa->free_frames;
}

/* A pg_frames that draws page-table frames from fa. */
pg_frames frame_source(frame_alloc *fa);

#endif
