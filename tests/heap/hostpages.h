/* hostpages.h - a page source for heap_core on the host: the region is reserved PROT_NONE
 * and each page is made readable and writable only while the heap has it mapped, so a
 * touch of a page the heap gave back faults. A bitmap mirrors the state for the checks,
 * and fail_after makes map refuse after that many more successful calls. */
#ifndef TESTS_HEAP_HOSTPAGES_H
#define TESTS_HEAP_HOSTPAGES_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "heap_core.h"

typedef struct {
	uint8_t *mem;          /* npages + 1 (guard) pages */
	uint32_t npages;
	uint8_t *mapped;       /* one byte per page */
	long fail_after;       /* < 0: never fail */
	unsigned long maps, unmaps, bad_calls;
	bool protect;          /* mprotect on map/unmap (off for speed) */
} hostpages;

static inline bool hp_map(void *ctx, uintptr_t va, size_t n)
{
	hostpages *hp = ctx;
	if (hp->fail_after == 0)
		return false;
	if (hp->fail_after > 0)
		hp->fail_after--;
	size_t i = (va - (uintptr_t)hp->mem) / HC_PAGE;
	for (size_t k = 0; k < n; k++) {
		if (i + k >= hp->npages || hp->mapped[i + k])
			hp->bad_calls++;
		else
			hp->mapped[i + k] = 1;
	}
	if (hp->protect && mprotect((void *)va, n * HC_PAGE, PROT_READ | PROT_WRITE) != 0) {
		perror("mprotect");
		abort();
	}
	hp->maps++;
	return true;
}

static inline void hp_unmap(void *ctx, uintptr_t va, size_t n)
{
	hostpages *hp = ctx;
	size_t i = (va - (uintptr_t)hp->mem) / HC_PAGE;
	for (size_t k = 0; k < n; k++) {
		if (i + k >= hp->npages || !hp->mapped[i + k])
			hp->bad_calls++;
		else
			hp->mapped[i + k] = 0;
	}
	if (hp->protect) {
		/* the contents go, as a frame given back would */
		if (mmap((void *)va, n * HC_PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
			 -1, 0) == MAP_FAILED) {
			perror("mmap");
			abort();
		}
	}
	hp->unmaps++;
}

static inline unsigned long hp_count(const hostpages *hp)
{
	unsigned long n = 0;
	for (uint32_t i = 0; i < hp->npages; i++)
		n += hp->mapped[i];
	return n;
}

/* A heap of npages over a fresh host region; descs are calloc'ed. */
static inline void hp_setup(hostpages *hp, hc_heap *h, uint32_t npages, bool protect)
{
	memset(hp, 0, sizeof *hp);
	hp->npages = npages;
	hp->fail_after = -1;
	hp->protect = protect;
	hp->mem = mmap(NULL, (size_t)(npages + 1) * HC_PAGE,
		       protect ? PROT_NONE : PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	hp->mapped = calloc(npages, 1);
	hc_page *descs = calloc(npages, sizeof(hc_page));
	if (hp->mem == MAP_FAILED || !hp->mapped || !descs) {
		perror("hp_setup");
		abort();
	}
	hc_pages src = { hp_map, hp_unmap, hp };
	if (hc_init(h, (uintptr_t)hp->mem, npages, descs, src) != HC_OK)
		abort();
}

static inline void hp_teardown(hostpages *hp, hc_heap *h)
{
	munmap(hp->mem, (size_t)(hp->npages + 1) * HC_PAGE);
	free(hp->mapped);
	free(h->pages);
}

#endif
