/* refmodel.h - a deliberately simple reference model of an x86_64 address space, used by
 * the randomized model test and the fuzz target to predict what paging/ must answer.
 * It knows leaves only inside a few fixed virtual windows, and which table frames must
 * exist (a table exists exactly while some leaf lies below it). */
#ifndef TESTS_MODEL_REFMODEL_H
#define TESTS_MODEL_REFMODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "paging.h"

#define RM_MAX_WIN 4
#define RM_GIB (1ull << 30)

/* One window: [base, base + size), both multiples of 1 GiB. Leaf arrays hold
 * phys | 1 for a present leaf starting at that slot, 0 otherwise. */
typedef struct {
	uint64_t base, size;
	uint64_t *l4k, *l2m, *l1g;
	uint8_t *f4k, *f2m, *f1g;   /* flags of the leaf (effective PG_* flags) */
	uint16_t *cnt2m;            /* 4 KiB leaves per 2 MiB slot: a PT exists iff > 0 */
	uint32_t *cnt1g;            /* 4 KiB + 2 MiB leaves per 1 GiB slot: a PD exists iff > 0 */
} rm_window;

typedef struct {
	rm_window win[RM_MAX_WIN];
	unsigned nwin;
	uint32_t cnt512[512];       /* leaves per PML4 slot: a PDPT exists iff > 0 */
	uint64_t tables[4];         /* table frames per level, index 0 = level 1 */
	uint64_t leaves;
	bool has_nx, has_1g;
	unsigned phys_bits;
} rm_model;

typedef struct {
	uint64_t start, phys;
	pg_size size;
	unsigned flags;
} rm_leaf;

/* The set of acceptable outcomes of an operation: bit e means pg_err e is right. Where
 * several errors are true at once and paging.h does not rank them, any of them is
 * accepted; an error that is not true is never accepted. */
typedef unsigned rm_mask;
#define RM_BIT(e) (1u << (unsigned)(e))

void rm_init(rm_model *m, const uint64_t *bases, const uint64_t *sizes, unsigned nwin,
	     bool has_nx, bool has_1g, unsigned phys_bits);
/* Forgets every leaf (cost proportional to what is mapped). */
void rm_clear(rm_model *m);
void rm_free(rm_model *m);

/* The flags a correct library reports for a leaf mapped with flags. */
unsigned rm_effective(const rm_model *m, unsigned flags);

bool rm_in_window(const rm_model *m, uint64_t va);
/* true and *leaf when a leaf maps va (va must lie in a window). */
bool rm_lookup(const rm_model *m, uint64_t va, rm_leaf *leaf);
/* For an unmapped va: the level (4..1) whose entry a walk finds empty. */
unsigned rm_stop_level(const rm_model *m, uint64_t va);
uint64_t rm_table_total(const rm_model *m);

/* Predictions. avail is how many frames the source will still hand out (-1 = any). */
rm_mask rm_expect_map(const rm_model *m, uint64_t va, uint64_t pa, unsigned size,
		      unsigned flags, long avail);
rm_mask rm_expect_map_range(const rm_model *m, uint64_t va, uint64_t pa, uint64_t len,
			    unsigned flags, unsigned max_size, long avail);
rm_mask rm_expect_unmap(const rm_model *m, uint64_t va);
rm_mask rm_expect_unmap_range(const rm_model *m, uint64_t va, uint64_t len);
rm_mask rm_expect_protect(const rm_model *m, uint64_t va, uint64_t len, unsigned flags);
rm_mask rm_expect_split(const rm_model *m, uint64_t va, long avail);

/* Effects, applied after the library returned PG_OK (argument checks already done). */
void rm_do_map(rm_model *m, uint64_t va, uint64_t pa, pg_size size, unsigned flags);
void rm_do_map_range(rm_model *m, uint64_t va, uint64_t pa, uint64_t len, unsigned flags,
		     pg_size max_size);
/* Returns the removed leaf. */
rm_leaf rm_do_unmap(rm_model *m, uint64_t va);
/* Returns the number of leaves removed and the span they covered (*lo, *hi exclusive). */
uint64_t rm_do_unmap_range(rm_model *m, uint64_t va, uint64_t len, uint64_t *lo, uint64_t *hi);
/* Returns how many leaves changed their flags; *lo and *hi span those. */
uint64_t rm_do_protect(rm_model *m, uint64_t va, uint64_t len, unsigned flags, uint64_t *lo,
		       uint64_t *hi);
void rm_do_split(rm_model *m, uint64_t va);

/* The page size map_range uses at va/pa with rem bytes left. */
pg_size rm_chunk_size(uint64_t va, uint64_t pa, uint64_t rem, pg_size max_size);

/* Calls fn for each merged run (same size, same flags, contiguous virt and phys) of
 * leaves inside [va, va+len), in address order; len 0 means every window, else the
 * range must lie in one window and cut no leaf. */
typedef bool (*rm_range_fn)(void *ctx, const pg_range *r);
void rm_ranges(const rm_model *m, uint64_t va, uint64_t len, rm_range_fn fn, void *ctx);

#endif
