/* refmodel.h - a deliberately simple reference model of an x86_64 address space, used by
 * the randomized model test and the fuzz target to predict what paging/ must answer.
 * It knows leaves only inside a few fixed virtual windows, and which table frames must
 * exist: with a frame source that takes frames back, a table lives exactly while some
 * leaf lies below it; with one that does not, from its creation until a huge leaf
 * replaces it (then its frame is abandoned). */
#ifndef TESTS_MODEL_REFMODEL_H
#define TESTS_MODEL_REFMODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "paging.h"

#define RM_MAX_WIN 4
#define RM_MAX_SLOTS 16
#define RM_GIB (1ull << 30)

/* One window: [base, base + size), both multiples of 1 GiB. Leaf arrays hold
 * phys | 1 for a present leaf starting at that slot, 0 otherwise. */
typedef struct {
	uint64_t base, size;
	uint64_t *l4k, *l2m, *l1g;
	uint8_t *f4k, *f2m, *f1g;   /* flags of the leaf (effective PG_* flags) */
	uint16_t *x4k, *x2m, *x1g;  /* the leaf's extra bits (see rm_leaf.extra) */
	uint16_t *cnt2m;            /* 4 KiB leaves per 2 MiB slot */
	uint32_t *cnt1g;            /* 4 KiB + 2 MiB leaves per 1 GiB slot */
	uint8_t *pt2m, *pd1g;       /* a PT (per 2 MiB slot) / PD (per 1 GiB slot) exists */
	uint8_t *touched;           /* per 1 GiB slot: something was set there (for rm_clear) */
} rm_window;

/* Tables above the windows' PDs: one per key (va >> 39 for a PDPT, va >> 48 for a
 * PML4 under a PML5), with the leaves below it. */
typedef struct {
	uint64_t key;
	uint32_t cnt;
	uint8_t live;
} rm_slot;

typedef struct {
	rm_window win[RM_MAX_WIN];
	unsigned nwin;
	rm_slot pdpt[RM_MAX_SLOTS], pml4[RM_MAX_SLOTS];
	unsigned npdpt, npml4;
	uint64_t tables[5];         /* table frames per level, index 0 = level 1 */
	uint64_t leaves;
	uint64_t abandoned;         /* table frames dropped by a source without free */
	bool has_nx, has_1g;
	bool reclaim;               /* the frame source takes frames back */
	unsigned phys_bits;
	unsigned levels;            /* 4 or 5 */
} rm_model;

/* extra: bits of the entry the model does not interpret (accessed, dirty, ...) that
 * protect and split must keep; map makes them 0. */
typedef struct {
	uint64_t start, phys;
	pg_size size;
	unsigned flags;
	unsigned extra;
} rm_leaf;

/* The outcome of an operation: exactly one bit, the error paging.h's documented order
 * names first (or PG_OK). */
typedef unsigned rm_mask;
#define RM_BIT(e) (1u << (unsigned)(e))

void rm_init(rm_model *m, const uint64_t *bases, const uint64_t *sizes, unsigned nwin,
	     bool has_nx, bool has_1g, unsigned phys_bits);
/* Forgets every leaf and table (cost proportional to what was mapped) and sets the
 * features of the next space. */
void rm_clear(rm_model *m, bool has_nx, bool has_1g, unsigned phys_bits, bool reclaim,
	      unsigned levels);
void rm_free(rm_model *m);

/* The flags a correct library reports for a leaf mapped with flags. */
unsigned rm_effective(const rm_model *m, unsigned flags);
/* Sign-extended from the top bit of the model's width (47 or 56). */
bool rm_canonical(const rm_model *m, uint64_t va);

bool rm_in_window(const rm_model *m, uint64_t va);
/* true and *leaf when a leaf maps va (va must lie in a window). */
bool rm_lookup(const rm_model *m, uint64_t va, rm_leaf *leaf);
/* For an unmapped va: the level (5..1) whose entry a walk finds empty. */
unsigned rm_stop_level(const rm_model *m, uint64_t va);
/* Whether a table of level (1..levels) covering va exists. */
bool rm_table_live(const rm_model *m, uint64_t va, unsigned level);
uint64_t rm_table_total(const rm_model *m);
void rm_set_extra(rm_model *m, const rm_leaf *l, unsigned extra);

/* Predictions. avail is how many frames the source will still hand out (-1 = any). */
rm_mask rm_expect_map(const rm_model *m, uint64_t va, uint64_t pa, unsigned size,
		      unsigned flags, long avail);
rm_mask rm_expect_map_range(const rm_model *m, uint64_t va, uint64_t pa, uint64_t len,
			    unsigned flags, unsigned max_size, long avail);
rm_mask rm_expect_unmap(const rm_model *m, uint64_t va);
rm_mask rm_expect_unmap_range(const rm_model *m, uint64_t va, uint64_t len);
rm_mask rm_expect_protect(const rm_model *m, uint64_t va, uint64_t len, unsigned flags);
rm_mask rm_expect_split(const rm_model *m, uint64_t va, long avail);

/* Effects, applied after the library returned PG_OK (argument checks already done).
 * Map and map_range return whether tables were unlinked (replaced by a leaf). */
bool rm_do_map(rm_model *m, uint64_t va, uint64_t pa, pg_size size, unsigned flags);
bool rm_do_map_range(rm_model *m, uint64_t va, uint64_t pa, uint64_t len, unsigned flags,
		     pg_size max_size);
/* Returns the removed leaf. */
rm_leaf rm_do_unmap(rm_model *m, uint64_t va);
/* Collects the leaves inside [va, va+len) (the range lies in one window); *n receives
 * how many. The caller frees the array. */
rm_leaf *rm_leaves(const rm_model *m, uint64_t va, uint64_t len, uint64_t *n);
/* Returns the number of leaves removed. */
uint64_t rm_do_unmap_range(rm_model *m, uint64_t va, uint64_t len);
/* Sets the flags of every leaf inside the range. */
void rm_do_protect(rm_model *m, uint64_t va, uint64_t len, unsigned flags);
void rm_do_split(rm_model *m, uint64_t va);

/* The page size map_range uses at va/pa with rem bytes left. */
pg_size rm_chunk_size(uint64_t va, uint64_t pa, uint64_t rem, pg_size max_size);

/* Calls fn for each merged run (same size, same flags, contiguous virt and phys) of
 * leaves inside [va, va+len), in address order; len 0 means every window, else the
 * range must lie in one window and cut no leaf. */
typedef bool (*rm_range_fn)(void *ctx, const pg_range *r);
void rm_ranges(const rm_model *m, uint64_t va, uint64_t len, rm_range_fn fn, void *ctx);

#endif
