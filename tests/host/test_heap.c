/* test_heap.c - host tests of the heap's allocator core (kernel/mm/heap_core.c), one
 * behaviour per test, over a region whose pages are PROT_NONE unless the heap mapped them. */
#include <stdint.h>
#include <string.h>

#include "hostpages.h"
#include "test.h"

#define CHECK_HC(expr, want)                                                    \
	do {                                                                    \
		hc_err got_ = (expr), want_ = (want);                          \
		if (got_ != want_)                                              \
			test_fail(__FILE__, __LINE__, "%s: %s, want %s", #expr, \
				  hc_strerror(got_), hc_strerror(want_));       \
	} while (0)

/* Snapshot of the figures, to prove a failed call changed nothing. */
typedef struct { uint64_t mapped, objs, bytes, slab, large; } figs;
static figs figs_of(const hc_heap *h)
{
	return (figs){ h->mapped_pages, h->live_objects, h->live_bytes, h->slab_pages,
		       h->large_pages };
}
static bool same(figs a, figs b) { return memcmp(&a, &b, sizeof a) == 0; }

/* Every size up to 2048 lands in the smallest power-of-two class that holds it, aligned to it. */
TEST(heap_small_sizes_take_their_class)
{
	hostpages hp;
	hc_heap h;
	hp_setup(&hp, &h, 256, true);
	for (size_t size = 1; size <= HC_MAX_SMALL; size += 7) {
		size_t cls = 16;
		while (cls < size)
			cls <<= 1;
		uint8_t *p = hc_alloc(&h, size, 0, NULL);
		CHECK(p != NULL);
		if (!p)
			break;
		CHECK_EQ(hc_usable(&h, p), cls);
		CHECK_EQ((uintptr_t)p % cls, 0);
		memset(p, 0xa5, size);
		CHECK_HC(hc_free(&h, p), HC_OK);
	}
	CHECK(hc_check(&h));
	CHECK_EQ(h.live_objects, 0);
	hp_teardown(&hp, &h);
}

/* Zero bytes is an error, not a pointer, and takes nothing. */
TEST(heap_zero_size_is_an_error)
{
	hostpages hp;
	hc_heap h;
	hc_err e = HC_OK;
	hp_setup(&hp, &h, 16, true);
	CHECK(hc_alloc(&h, 0, 0, &e) == NULL);
	CHECK_HC(e, HC_ERR_ZERO);
	CHECK(hc_calloc(&h, 0, 8, &e) == NULL);
	CHECK_HC(e, HC_ERR_ZERO);
	CHECK_EQ(h.mapped_pages, 0);
	CHECK_EQ(hp.maps, 0);
	hp_teardown(&hp, &h);
}

/* Sizes whose rounding or product overflows, and sizes beyond the region, are refused. */
TEST(heap_overflow_and_too_big_are_refused)
{
	hostpages hp;
	hc_heap h;
	hc_err e = HC_OK;
	hp_setup(&hp, &h, 16, true);
	CHECK(hc_alloc(&h, SIZE_MAX, 0, &e) == NULL);
	CHECK_HC(e, HC_ERR_OVERFLOW);
	CHECK(hc_alloc(&h, SIZE_MAX - 100, 0, &e) == NULL);
	CHECK_HC(e, HC_ERR_OVERFLOW);
	CHECK(hc_calloc(&h, SIZE_MAX / 2, 3, &e) == NULL);
	CHECK_HC(e, HC_ERR_OVERFLOW);
	CHECK(hc_alloc(&h, 16 * HC_PAGE + 1, 0, &e) == NULL);
	CHECK_HC(e, HC_ERR_TOO_BIG);
	CHECK(hc_alloc(&h, 16 * HC_PAGE, 0, &e) != NULL); /* the whole region still fits */
	CHECK(hc_check(&h));
	hp_teardown(&hp, &h);
}

/* Alignment: any power of two up to a page is honoured; others are an error. */
TEST(heap_alignment_up_to_a_page)
{
	hostpages hp;
	hc_heap h;
	hc_err e = HC_OK;
	hp_setup(&hp, &h, 64, true);
	for (size_t a = 1; a <= HC_PAGE; a <<= 1) {
		void *p = hc_alloc(&h, 24, a, &e);
		CHECK(p != NULL);
		CHECK_EQ((uintptr_t)p % a, 0);
	}
	CHECK(hc_alloc(&h, 24, 3, &e) == NULL);
	CHECK_HC(e, HC_ERR_ALIGN);
	CHECK(hc_alloc(&h, 24, 2 * HC_PAGE, &e) == NULL);
	CHECK_HC(e, HC_ERR_ALIGN);
	CHECK(hc_check(&h));
	hp_teardown(&hp, &h);
}

/* A second free of a small object or of a page run is reported and changes nothing. */
TEST(heap_double_free_is_detected)
{
	hostpages hp;
	hc_heap h;
	hp_setup(&hp, &h, 64, true);
	void *keep = hc_alloc(&h, 40, 0, NULL);
	void *s = hc_alloc(&h, 40, 0, NULL), *l = hc_alloc(&h, 3 * HC_PAGE, 0, NULL);
	CHECK_HC(hc_free(&h, s), HC_OK);
	CHECK_HC(hc_free(&h, l), HC_OK);
	figs before = figs_of(&h);
	CHECK_HC(hc_free(&h, s), HC_ERR_DOUBLE_FREE);
	CHECK_HC(hc_free(&h, l), HC_ERR_DOUBLE_FREE);
	CHECK(same(before, figs_of(&h)));
	CHECK(hc_check(&h));
	CHECK_EQ(hc_usable(&h, keep), 64);
	hp_teardown(&hp, &h);
}

/* Pointers the heap never handed out - outside it, inside an object, a run's second
 * page - are foreign, and the heap stays as it was. */
TEST(heap_foreign_free_is_detected)
{
	hostpages hp;
	hc_heap h;
	int local;
	hp_setup(&hp, &h, 64, true);
	uint8_t *s = hc_alloc(&h, 100, 0, NULL), *l = hc_alloc(&h, 3 * HC_PAGE, 0, NULL);
	figs before = figs_of(&h);
	CHECK_HC(hc_free(&h, &local), HC_ERR_FOREIGN);
	CHECK_HC(hc_free(&h, s + 8), HC_ERR_FOREIGN);
	CHECK_HC(hc_free(&h, l + HC_PAGE), HC_ERR_FOREIGN);
	CHECK_HC(hc_free(&h, l + 16), HC_ERR_FOREIGN);
	CHECK_HC(hc_free(&h, hp.mem + 64 * HC_PAGE), HC_ERR_FOREIGN); /* the guard page */
	CHECK(same(before, figs_of(&h)));
	CHECK(hc_check(&h));
	CHECK_EQ(hc_usable(&h, s), 128);
	CHECK_EQ(hc_usable(&h, l), 3 * HC_PAGE);
	hp_teardown(&hp, &h);
}

/* A large allocation maps exactly its pages and gives them back when freed. */
TEST(heap_large_maps_and_unmaps_its_pages)
{
	hostpages hp;
	hc_heap h;
	hp_setup(&hp, &h, 64, true);
	uint8_t *p = hc_alloc(&h, 5 * HC_PAGE - 3, 0, NULL);
	CHECK(p != NULL);
	CHECK_EQ(hp_count(&hp), 5);
	CHECK_EQ((uintptr_t)p % HC_PAGE, 0);
	memset(p, 1, 5 * HC_PAGE - 3);
	CHECK_HC(hc_free(&h, p), HC_OK);
	CHECK_EQ(hp_count(&hp), 0);
	CHECK_EQ(h.mapped_pages, 0);
	CHECK_EQ(hp.bad_calls, 0);
	hp_teardown(&hp, &h);
}

/* Slab pages that empty go back, except one spare per class. */
TEST(heap_empty_slab_pages_go_back)
{
	hostpages hp;
	hc_heap h;
	void *p[16];
	hp_setup(&hp, &h, 64, true);
	for (unsigned i = 0; i < 16; i++) /* four 1 KiB objects a page: 4 pages */
		p[i] = hc_alloc(&h, 1000, 0, NULL);
	CHECK_EQ(hp_count(&hp), 4);
	for (unsigned i = 0; i < 16; i++)
		CHECK_HC(hc_free(&h, p[i]), HC_OK);
	CHECK_EQ(hp_count(&hp), 1); /* the spare */
	CHECK_EQ(h.slab_pages, 1);
	CHECK(hc_check(&h));
	CHECK_EQ(hp.bad_calls, 0);
	hp_teardown(&hp, &h);
}

/* When the page source says no, the allocation fails with out-of-memory and nothing moves. */
TEST(heap_page_source_failure_changes_nothing)
{
	hostpages hp;
	hc_heap h;
	hc_err e = HC_OK;
	hp_setup(&hp, &h, 64, true);
	void *a = hc_alloc(&h, 100, 0, NULL);
	hp.fail_after = 0;
	figs before = figs_of(&h);
	CHECK(hc_alloc(&h, 3000, 0, &e) == NULL); /* needs a new slab page */
	CHECK_HC(e, HC_ERR_NOMEM);
	CHECK(hc_alloc(&h, 4 * HC_PAGE, 0, &e) == NULL);
	CHECK_HC(e, HC_ERR_NOMEM);
	CHECK(same(before, figs_of(&h)));
	CHECK(hc_check(&h));
	CHECK(hc_alloc(&h, 100, 0, &e) != NULL); /* its page is mapped already */
	hp.fail_after = -1;
	CHECK(hc_alloc(&h, 4 * HC_PAGE, 0, &e) != NULL);
	CHECK_EQ(hc_usable(&h, a), 128);
	hp_teardown(&hp, &h);
}

/* The region runs out: out-of-memory; a free makes room again, first fit reuses it. */
TEST(heap_region_exhaustion_and_recovery)
{
	hostpages hp;
	hc_heap h;
	hc_err e = HC_OK;
	void *p[8];
	hp_setup(&hp, &h, 32, true);
	for (unsigned i = 0; i < 8; i++)
		p[i] = hc_alloc(&h, 4 * HC_PAGE, 0, NULL);
	CHECK(p[7] != NULL);
	CHECK(hc_alloc(&h, 3000, 0, &e) == NULL);
	CHECK_HC(e, HC_ERR_NOMEM);
	CHECK_HC(hc_free(&h, p[2]), HC_OK);
	CHECK(hc_alloc(&h, 5 * HC_PAGE, 0, &e) == NULL); /* four free pages are not five */
	CHECK_HC(e, HC_ERR_NOMEM);
	void *q = hc_alloc(&h, 3 * HC_PAGE, 0, NULL);
	CHECK(q == p[2]);
	CHECK(hc_check(&h));
	hp_teardown(&hp, &h);
}

/* realloc keeps the contents across classes and into pages; within its class it stays. */
TEST(heap_realloc_keeps_contents)
{
	hostpages hp;
	hc_heap h;
	hp_setup(&hp, &h, 64, true);
	uint8_t *p = hc_alloc(&h, 20, 0, NULL);
	for (unsigned i = 0; i < 20; i++)
		p[i] = (uint8_t)i;
	CHECK(hc_realloc(&h, p, 30, NULL) == p); /* 32-byte class both times */
	uint8_t *q = hc_realloc(&h, p, 3000, NULL);
	CHECK(q != NULL && q != p);
	for (unsigned i = 0; q && i < 20; i++)
		CHECK_EQ(q[i], i);
	CHECK_EQ(hc_usable(&h, p), 0); /* the old one is free */
	uint8_t *r = hc_realloc(&h, q, 10000, NULL);
	CHECK(r != NULL);
	for (unsigned i = 0; r && i < 20; i++)
		CHECK_EQ(r[i], i);
	uint8_t *t = hc_realloc(&h, r, 10, NULL);
	CHECK(t != NULL);
	for (unsigned i = 0; t && i < 10; i++)
		CHECK_EQ(t[i], i);
	CHECK(hc_check(&h));
	CHECK_EQ(h.live_objects, 1);
	hp_teardown(&hp, &h);
}

/* A realloc that cannot get memory, or of a bad pointer, leaves everything as it was. */
TEST(heap_realloc_failure_keeps_the_old_block)
{
	hostpages hp;
	hc_heap h;
	hc_err e = HC_OK;
	hp_setup(&hp, &h, 8, true);
	uint8_t *p = hc_alloc(&h, 100, 0, NULL);
	p[0] = 42;
	CHECK(hc_realloc(&h, p, 100 * HC_PAGE, &e) == NULL);
	CHECK_HC(e, HC_ERR_TOO_BIG);
	CHECK(hc_realloc(&h, p, 0, &e) == NULL);
	CHECK_HC(e, HC_ERR_ZERO);
	CHECK(hc_realloc(&h, p + 4, 10, &e) == NULL);
	CHECK_HC(e, HC_ERR_FOREIGN);
	CHECK_EQ(p[0], 42);
	CHECK_EQ(hc_usable(&h, p), 128);
	CHECK(hc_check(&h));
	hp_teardown(&hp, &h);
}

/* calloc hands out zeroes even where freed memory was dirty. */
TEST(heap_calloc_zeroes_reused_memory)
{
	hostpages hp;
	hc_heap h;
	hp_setup(&hp, &h, 8, true);
	uint8_t *p = hc_alloc(&h, 64, 0, NULL);
	memset(p, 0xff, 64);
	hc_free(&h, p);
	uint64_t *z = hc_calloc(&h, 8, 8, NULL);
	CHECK((void *)z == (void *)p);
	for (unsigned i = 0; z && i < 8; i++)
		CHECK_EQ(z[i], 0);
	hp_teardown(&hp, &h);
}

/* hc_init refuses a misaligned base, an empty region and a missing page source. */
TEST(heap_init_refuses_bad_arguments)
{
	hc_heap h;
	hc_page d[4];
	hc_pages none = { 0 }, src = { hp_map, hp_unmap, NULL };
	CHECK_HC(hc_init(&h, 0x1000, 4, d, none), HC_ERR_BAD_ARG);
	CHECK_HC(hc_init(&h, 0x1001, 4, d, src), HC_ERR_BAD_ARG);
	CHECK_HC(hc_init(&h, 0x1000, 0, d, src), HC_ERR_BAD_ARG);
	CHECK_HC(hc_init(&h, 0x1000, 4, NULL, src), HC_ERR_BAD_ARG);
	CHECK_HC(hc_init(&h, 0x1000, 4, d, src), HC_OK);
}
