/* simram.c - simulated RAM and a failing-on-demand frame source for host tests. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "simram.h"

void sim_init(simram *s, uint64_t size)
{
	memset(s, 0, sizeof(*s));
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED) {
		perror("simram mmap");
		abort();
	}
	s->mem = p;
	s->base = SIM_BASE;
	s->size = size;
	s->fail_after = -1;
	s->state = calloc(size / 4096, 1);
	if (!s->state)
		abort();
}

void sim_destroy(simram *s)
{
	munmap(s->mem, s->size);
	free(s->free_list);
	free(s->state);
	memset(s, 0, sizeof(*s));
}

static bool sim_alloc(void *ctx, pg_paddr *frame)
{
	simram *s = ctx;
	if (s->fail_after == 0)
		return false;
	uint64_t off;
	if (s->free_count) {
		off = s->free_list[--s->free_count];
	} else {
		if (s->next + 4096 > s->size)
			return false;
		off = s->next;
		s->next += 4096;
	}
	if (s->fail_after > 0)
		s->fail_after--;
	memset(s->mem + off, 0xA5, 4096);
	s->state[off / 4096] = 1;
	s->allocs++;
	*frame = pg_pa(s->base + off);
	return true;
}

static void sim_free(void *ctx, pg_paddr frame)
{
	simram *s = ctx;
	uint64_t off = frame.pa - s->base;
	if (frame.pa < s->base || off >= s->next || (off & 4095)) {
		fprintf(stderr, "simram: free of foreign frame 0x%016llx\n",
			(unsigned long long)frame.pa);
		abort();
	}
	if (!s->state[off / 4096]) {
		fprintf(stderr, "simram: double free of 0x%016llx\n",
			(unsigned long long)frame.pa);
		abort();
	}
	s->state[off / 4096] = 0;
	if (s->free_count == s->free_cap) {
		s->free_cap = s->free_cap ? 2 * s->free_cap : 1024;
		s->free_list = realloc(s->free_list, s->free_cap * sizeof(uint64_t));
		if (!s->free_list)
			abort();
	}
	s->free_list[s->free_count++] = off;
	s->frees++;
}

pg_frames *sim_frames(simram *s)
{
	s->src.alloc = sim_alloc;
	s->src.free = sim_free;
	s->src.ctx = s;
	return &s->src;
}
