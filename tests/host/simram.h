/* simram.h - simulated physical RAM for host tests: a buffer that stands at a non-zero
 * fake physical base, so code that assumes identity mapping fails loudly, and a frame
 * source over it that can be told to fail after N frames. */
#ifndef TESTS_HOST_SIMRAM_H
#define TESTS_HOST_SIMRAM_H

#include "paging.h"

#define SIM_BASE 0x0000004000000000ull /* 256 GiB: fake physical address of byte 0 */

typedef struct {
	uint8_t *mem;          /* host buffer */
	uint64_t base;         /* fake physical address of mem[0] */
	uint64_t size;
	uint64_t next;         /* bump pointer (offset) for sim_frames */
	uint64_t *free_list;   /* recycled frames (stack) */
	uint8_t *state;        /* per frame: 1 = handed out by sim_frames */
	size_t free_count, free_cap;
	long fail_after;       /* allocations left before alloc fails; -1 = never */
	uint64_t allocs, frees;
	pg_frames src;
} simram;

/* Maps size bytes (MAP_NORESERVE: untouched pages cost nothing). Aborts on failure. */
void sim_init(simram *s, uint64_t size);
void sim_destroy(simram *s);

/* The value for pg_space.phys_offset / frame_alloc phys_offset. */
static inline uint64_t sim_offset(const simram *s)
{
	return (uint64_t)(uintptr_t)s->mem - s->base;
}
static inline void *sim_ptr(const simram *s, uint64_t phys)
{
	return (void *)(uintptr_t)(phys + sim_offset(s));
}

/* Frames that are dirty (filled with 0xA5) so that missing zeroing shows. */
pg_frames *sim_frames(simram *s);
/* Frames handed out and not given back. */
static inline uint64_t sim_outstanding(const simram *s) { return s->allocs - s->frees; }

#endif
