/* harness.h - runs one operation on a real pg_space over simulated RAM and on the
 * reference model, and says whether they agree: the exact error, the outputs, the
 * flush calls, the frames outstanding and the raw entries. Shared by the model test and
 * the fuzz target. */
#ifndef TESTS_MODEL_HARNESS_H
#define TESTS_MODEL_HARNESS_H

#include "refmodel.h"
#include "simram.h"

typedef enum {
	OP_MAP,
	OP_MAP_RANGE,
	OP_UNMAP,
	OP_UNMAP_RANGE,
	OP_PROTECT,
	OP_SPLIT,
	OP_TRANSLATE,
	OP_WALK,
	OP_TOUCH,               /* the CPU sets accessed/dirty bits on the leaf at va */
	OP__COUNT
} rh_kind;

typedef struct {
	rh_kind kind;
	uint64_t va, pa, len;
	unsigned flags, size;   /* size: page size of map, largest size of map_range */
	long avail;             /* frames the source hands out before failing, -1 = all */
	unsigned handle;        /* 0: the space's own handle, 1: a second one attached to it */
} rh_op;

#define RH_MAX_FLUSH 8

/* Leaf bits outside the model's flags that the library must keep across protect and
 * split (paging.h): accessed and dirty, the software bits 9-11 and 52-58 and the
 * protection key 59-62, as rm_leaf.extra bits 0-1, 2-4, 5-11 and 12-15. */
#define RH_EXTRA_BITS 0xffffu

typedef struct {
	simram ram;
	pg_space s, s2;         /* s2: attached to s's tables, with its own walk cache */
	pg_frames nofree;       /* the simulated source without free */
	rm_model m;
	uint64_t bases[RM_MAX_WIN], sizes[RM_MAX_WIN];
	unsigned nwin;
	unsigned levels;        /* 4 or 5 */
	struct { uint64_t start, len; } flush[RH_MAX_FLUSH];
	unsigned nflush;
	uint64_t lost;          /* frames abandoned by earlier spaces (sources without free) */
	uint64_t stat_ok, stat_err;
	uint64_t *visited;      /* bitmap of simulated frames, for rh_check_raw */
	char err[512];          /* what diverged, when a call returns false */
} rh;

/* Windows must be 1 GiB aligned, canonical, not adjacent, in no particular order. */
void rh_init(rh *h, const uint64_t *bases, const uint64_t *sizes, unsigned nwin,
	     uint64_t ram_bytes, unsigned levels);
/* (Re)creates the space and an empty model; false if the old space leaked frames.
 * reclaim false: the frame source has no free. */
bool rh_reset(rh *h, bool has_nx, bool has_1g, unsigned phys_bits, bool reclaim);
void rh_fini(rh *h);

/* Runs op on both sides; false (with h->err) when they disagree. */
bool rh_step(rh *h, const rh_op *op);
/* Compares the translation of va (anywhere: non-canonical or in a window), through
 * pg_translate and through the harness's own walk of the raw entries. */
bool rh_check_translate(rh *h, uint64_t va);
/* Walks every table in simulated RAM itself and compares each entry, bit for bit, with
 * what the model says it must be; tables exactly where the model has them. */
bool rh_check_raw(rh *h);
/* Compares the whole space: the raw tables, pg_walk of everything and of each window,
 * table counts, frames outstanding. */
bool rh_check_all(rh *h);

void rh_op_str(const rh_op *op, char *buf, size_t n);

#endif
