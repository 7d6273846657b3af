/* physplan.h - what the physmap maps and with which pages: every RAM-like range exactly (never
 * rounded out into non-RAM), each piece with the largest page (1 GiB, 2 MiB, 4 KiB) that lies
 * wholly in RAM-like memory and over which the MTRR type is uniform. Pure: host-tested. */
#ifndef EFI_PURE_PHYSPLAN_H
#define EFI_PURE_PHYSPLAN_H

#include "mtrr.h"
#include "paging.h"
#include "region.h"

/* One run of pages of one size: [pa, pa+length), every page 1 << shift bytes and aligned. */
typedef pg_err (*physplan_fn)(void *ctx, uint64_t pa, uint64_t length, unsigned shift);

typedef struct {
	const mtrr_state *mtrr;
	unsigned max_shift;     /* 30, 21 or 12: the largest page the caller allows */
	uint64_t limit;         /* 1 << MAXPHYADDR: nothing at or above it is mapped */
	uint64_t skip_lo, skip_hi; /* a range never mapped (the framebuffer); empty when equal */
	uint64_t pages[3];      /* filled: pages emitted, [0] = 4 KiB, [1] = 2 MiB, [2] = 1 GiB */
	uint64_t end;           /* filled: the highest address mapped plus one */
} physplan;

/* Emits the runs that map [lo, hi) (4 KiB aligned, RAM-like as a whole) in address order,
 * minus the skipped range and anything at or above limit. Stops at the first error fn
 * returns and returns it; PG_ERR_BAD_ARG for an unaligned or reversed range. */
pg_err physplan_range(physplan *p, uint64_t lo, uint64_t hi, physplan_fn fn, void *ctx);

/* physplan_range over every maximal run of RAM-like regions of map (neighbours of
 * different RAM-like kinds form one run, so large pages may span them). */
pg_err physplan_map(physplan *p, const mem_list *map, physplan_fn fn, void *ctx);

#endif
