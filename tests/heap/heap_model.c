/* heap_model.c - the heap model: 4 bytes an operation (what, slot, two size bytes) over 64
 * slots. The reference knows each live block's request and its fill byte; the page source
 * (hostpages.h) knows which pages are mapped, which decides when out-of-memory is a right
 * answer: a large request only when no run of that many unmapped pages exists, a small one
 * only when no page is unmapped at all. */
#include "heap_model.h"

#include <stdio.h>
#include <string.h>

#include "hostpages.h"

#define SLOTS  64
#define NPAGES 256

typedef struct {
	uint8_t *p;
	size_t size;
	uint8_t fill;
} block;

typedef struct {
	hostpages hp;
	hc_heap h;
	block b[SLOTS];
	unsigned live;
	uint8_t *last_freed;
	uint8_t gen;
	size_t op;
	int verbose;
	bool injected; /* the page source was told to fail: out-of-memory is right */
} model;

#define BAD(m, ...)                                                             \
	do {                                                                    \
		printf("heap-model: op %zu: ", (m)->op);                        \
		printf(__VA_ARGS__);                                            \
		printf("\n");                                                   \
		return 1;                                                       \
	} while (0)

static size_t longest_unmapped_run(const hostpages *hp)
{
	size_t best = 0, run = 0;
	for (uint32_t i = 0; i < hp->npages; i++) {
		run = hp->mapped[i] ? 0 : run + 1;
		if (run > best)
			best = run;
	}
	return best;
}

static int check_block(model *m, const block *b)
{
	for (size_t i = 0; i < b->size; i++)
		if (b->p[i] != (uint8_t)(b->fill + i * 7))
			BAD(m, "block %p+%zu holds 0x%02x, wrote 0x%02x", (void *)b->p, i, b->p[i],
			    (uint8_t)(b->fill + i * 7));
	size_t first = ((uintptr_t)b->p - (uintptr_t)m->hp.mem) / HC_PAGE;
	size_t last = ((uintptr_t)b->p + b->size - 1 - (uintptr_t)m->hp.mem) / HC_PAGE;
	for (size_t k = first; k <= last; k++)
		if (k >= m->hp.npages || !m->hp.mapped[k])
			BAD(m, "block %p size %zu lies on page %zu which is not mapped", (void *)b->p,
			    b->size, k);
	return 0;
}

static void fill(model *m, block *b)
{
	b->fill = ++m->gen;
	for (size_t i = 0; i < b->size; i++)
		b->p[i] = (uint8_t)(b->fill + i * 7);
}

/* A new block must be aligned, inside the region, and overlap no live block. */
static int check_new(model *m, const uint8_t *p, size_t size, size_t align, unsigned self)
{
	uintptr_t a = (uintptr_t)p, base = (uintptr_t)m->hp.mem;
	if (a % (align ? align : 16))
		BAD(m, "%p is not aligned to %zu", (void *)p, align);
	if (a < base || a + size > base + (uintptr_t)NPAGES * HC_PAGE)
		BAD(m, "%p+%zu is outside the region", (void *)p, size);
	if (hc_usable(&m->h, p) < size)
		BAD(m, "usable %zu < requested %zu", hc_usable(&m->h, p), size);
	for (unsigned s = 0; s < SLOTS; s++) {
		const block *o = &m->b[s];
		if (s != self && o->p && a < (uintptr_t)o->p + o->size && (uintptr_t)o->p < a + size)
			BAD(m, "%p+%zu overlaps live block %p+%zu", (void *)p, size, (void *)o->p,
			    o->size);
	}
	return 0;
}

/* Whether out-of-memory is a right answer for size now. */
static bool nomem_ok(model *m, size_t size, size_t align)
{
	if (m->injected)
		return true;
	size_t need = size > align ? size : align;
	if (need <= HC_MAX_SMALL)
		return hp_count(&m->hp) == m->hp.npages;
	return longest_unmapped_run(&m->hp) < (size + HC_PAGE - 1) / HC_PAGE;
}

/* The size two bytes ask for: mostly small, some page runs, a few absurd. */
static size_t size_of(uint8_t lo, uint8_t hi)
{
	if (hi == 0xff)
		return SIZE_MAX - lo;               /* overflows when rounded */
	if (hi == 0xfe)
		return (size_t)NPAGES * HC_PAGE + 1 + lo; /* larger than the region */
	if (hi >= 0xf0)
		return (size_t)(hi & 0x0f) * HC_PAGE + lo * 16; /* up to ~16 pages */
	return ((size_t)(hi & 0x07) << 8 | lo);      /* 0..2047 */
}

static int op_alloc(model *m, unsigned s, size_t size, size_t align, bool zeroed)
{
	block *b = &m->b[s];
	if (b->p)
		return 0;
	hc_err e = HC_OK;
	uint8_t *p = zeroed ? hc_calloc(&m->h, 1, size, &e) : hc_alloc(&m->h, size, align, &e);
	hc_err want = size == 0 ? HC_ERR_ZERO :
		      (align & (align - 1)) || align > HC_PAGE ? HC_ERR_ALIGN :
		      size > SIZE_MAX - 4095 ? HC_ERR_OVERFLOW :
		      size > (size_t)NPAGES * HC_PAGE ? HC_ERR_TOO_BIG : HC_OK;
	if (zeroed && want == HC_ERR_ALIGN)
		want = HC_OK;
	if (!p) {
		if (e == want || (want == HC_OK && e == HC_ERR_NOMEM && nomem_ok(m, size, align)))
			return 0;
		BAD(m, "alloc(%zu, %zu) failed with %s, want %s", size, align, hc_strerror(e),
		    hc_strerror(want));
	}
	if (want != HC_OK)
		BAD(m, "alloc(%zu, %zu) = %p, want error %s", size, align, (void *)p,
		    hc_strerror(want));
	if (check_new(m, p, size, zeroed ? 0 : align, s))
		return 1;
	for (size_t i = 0; zeroed && i < size; i++)
		if (p[i])
			BAD(m, "calloc block %p has 0x%02x at %zu", (void *)p, p[i], i);
	*b = (block){ p, size, 0 };
	fill(m, b);
	m->live++;
	return 0;
}

static int op_free(model *m, unsigned s)
{
	block *b = &m->b[s];
	if (!b->p)
		return 0;
	if (check_block(m, b))
		return 1;
	hc_err e = hc_free(&m->h, b->p);
	if (e != HC_OK)
		BAD(m, "free(%p) = %s", (void *)b->p, hc_strerror(e));
	m->last_freed = b->p;
	*b = (block){ 0 };
	m->live--;
	return 0;
}

/* The last freed pointer again: a double free unless a live block now covers it. */
static int op_double_free(model *m)
{
	uint8_t *p = m->last_freed;
	if (!p)
		return 0;
	hc_err want = HC_ERR_DOUBLE_FREE;
	for (unsigned s = 0; s < SLOTS; s++) {
		const block *o = &m->b[s];
		if (o->p == p)
			return 0; /* handed out again: freeing it would be legal */
		if (o->p && p > o->p && p < o->p + hc_usable(&m->h, o->p))
			want = HC_ERR_FOREIGN;
	}
	/* a freed slab object whose page went back and became part of a run's tail */
	hc_err e = hc_free(&m->h, p);
	if (e != want && !(want == HC_ERR_DOUBLE_FREE && e == HC_ERR_FOREIGN &&
			   ((uintptr_t)p - (uintptr_t)m->hp.mem) % HC_PAGE))
		BAD(m, "second free(%p) = %s, want %s", (void *)p, hc_strerror(e),
		    hc_strerror(want));
	return 0;
}

/* A pointer into the middle of a live block is foreign. */
static int op_foreign(model *m, unsigned s, size_t off)
{
	block *b = &m->b[s];
	if (!b->p)
		return 0;
	size_t usable = hc_usable(&m->h, b->p);
	if (usable < 2)
		return 0;
	off = 1 + off % (usable - 1);
	hc_err e = hc_free(&m->h, b->p + off);
	if (e != HC_ERR_FOREIGN)
		BAD(m, "free(%p + %zu) inside a live block = %s", (void *)b->p, off, hc_strerror(e));
	return check_block(m, b);
}

static int op_realloc(model *m, unsigned s, size_t size)
{
	block *b = &m->b[s];
	if (!b->p)
		return op_alloc(m, s, size, 0, false);
	if (check_block(m, b))
		return 1;
	hc_err e = HC_OK;
	uint8_t *p = hc_realloc(&m->h, b->p, size, &e);
	if (!p) {
		hc_err want = size == 0 ? HC_ERR_ZERO : size > SIZE_MAX - 4095 ? HC_ERR_OVERFLOW :
			      size > (size_t)NPAGES * HC_PAGE ? HC_ERR_TOO_BIG : HC_OK;
		if (e != want && !(want == HC_OK && e == HC_ERR_NOMEM && nomem_ok(m, size, 0)))
			BAD(m, "realloc(%p, %zu) = %s, want %s", (void *)b->p, size,
			    hc_strerror(e), hc_strerror(want));
		return check_block(m, b); /* the old block is untouched */
	}
	if (check_new(m, p, size, 16, s))
		return 1;
	size_t keep = size < b->size ? size : b->size;
	for (size_t i = 0; i < keep; i++)
		if (p[i] != (uint8_t)(b->fill + i * 7))
			BAD(m, "realloc lost byte %zu", i);
	if (p != b->p)
		m->last_freed = b->p;
	b->p = p;
	b->size = size;
	fill(m, b);
	return 0;
}

static int invariants(model *m)
{
	if (!hc_check(&m->h))
		BAD(m, "hc_check: descriptors, lists and figures disagree");
	if (m->h.live_objects != m->live)
		BAD(m, "live_objects %lu, reference %u", (unsigned long)m->h.live_objects, m->live);
	if (m->h.mapped_pages != hp_count(&m->hp))
		BAD(m, "mapped_pages %lu, page source %lu", (unsigned long)m->h.mapped_pages,
		    hp_count(&m->hp));
	if (m->hp.bad_calls)
		BAD(m, "%lu map/unmap calls on pages in the wrong state", m->hp.bad_calls);
	return 0;
}

int heap_model_run(const uint8_t *data, size_t len, int verbose)
{
	static model m;
	int bad = 0;
	memset(&m, 0, sizeof m);
	hp_setup(&m.hp, &m.h, NPAGES, true);
	m.verbose = verbose;
	for (size_t i = 0; !bad && i + 4 <= len; i += 4, m.op++) {
		unsigned what = data[i] % 16, s = data[i + 1] % SLOTS;
		size_t size = size_of(data[i + 2], data[i + 3]);
		size_t align = (size_t)1 << (data[i + 1] >> 4); /* 1..32768 */
		if (data[i + 1] == 0xff)
			align = 48; /* not a power of two */
		switch (what) {
		case 0: case 1: case 2: case 3: case 4:
			bad = op_alloc(&m, s, size, 0, false);
			break;
		case 5:
			bad = op_alloc(&m, s, size, align, false);
			break;
		case 6:
			bad = op_alloc(&m, s, size, 0, true);
			break;
		case 7: case 8: case 9: case 10:
			bad = op_free(&m, s);
			break;
		case 11: case 12:
			bad = op_realloc(&m, s, size);
			break;
		case 13:
			bad = op_double_free(&m);
			break;
		case 14:
			bad = op_foreign(&m, s, size);
			break;
		default:
			m.hp.fail_after = 0; /* the page source fails: nothing may change */
			m.injected = true;
			bad = op_alloc(&m, s, size, 0, false);
			m.injected = false;
			m.hp.fail_after = -1;
			break;
		}
		if (!bad)
			bad = invariants(&m);
	}
	for (unsigned s = 0; !bad && s < SLOTS; s++)
		bad = op_free(&m, s);
	if (!bad && (m.h.live_objects || m.h.mapped_pages > HC_CLASSES || invariants(&m)))
		bad = printf("heap-model: after freeing all: live=%lu mapped=%lu\n",
			     (unsigned long)m.h.live_objects, (unsigned long)m.h.mapped_pages) || 1;
	if (verbose)
		printf("heap-model: ops=%zu allocs=%lu frees=%lu errors=%lu maps=%lu unmaps=%lu\n",
		       m.op, (unsigned long)m.h.allocs, (unsigned long)m.h.frees,
		       (unsigned long)m.h.errors, m.hp.maps, m.hp.unmaps);
	hp_teardown(&m.hp, &m.h);
	return bad;
}
