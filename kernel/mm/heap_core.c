/* heap_core.c - the heap's allocator core (see heap_core.h). Small objects come from slab
 * pages, one class per page, a bitmap per page saying which objects are out so that a
 * double or foreign free is caught; large ones are runs of whole pages found first-fit.
 * Pages are mapped when a slab or run needs them and unmapped as soon as they empty
 * (except one spare slab page per class, so that alloc/free at a boundary does not
 * thrash the page tables). */
#include "heap_core.h"

#define OBJ_NONE 0xffffu

static const char *const names[HC_ERR__COUNT] = {
	"ok", "zero-size", "overflow", "too-big", "bad-alignment", "out-of-memory",
	"double-free", "foreign-pointer", "bad-argument",
};

const char *hc_strerror(hc_err e)
{
	return (unsigned)e < HC_ERR__COUNT ? names[e] : "unknown";
}

static inline uint32_t cls_size(unsigned c) { return HC_MIN_CLASS << c; }
static inline uint32_t cls_objs(unsigned c) { return HC_PAGE / cls_size(c); }
static inline uintptr_t page_va(const hc_heap *h, uint32_t i) { return h->base + (uintptr_t)i * HC_PAGE; }

static void *fail(hc_heap *h, hc_err *err, hc_err e)
{
	h->errors++;
	if (err)
		*err = e;
	return NULL;
}

hc_err hc_init(hc_heap *h, uintptr_t base, uint32_t npages, hc_page *descs, hc_pages src)
{
	if (!h || !descs || npages == 0 || npages >= HC_NONE || (base & (HC_PAGE - 1)) ||
	    !src.map || !src.unmap || base + (uintptr_t)npages * HC_PAGE < base)
		return HC_ERR_BAD_ARG;
	*h = (hc_heap){ 0 };
	h->base = base;
	h->npages = npages;
	h->pages = descs;
	h->src = src;
	for (uint32_t i = 0; i < npages; i++)
		descs[i] = (hc_page){ 0 };
	for (unsigned c = 0; c < HC_CLASSES; c++)
		h->partial[c] = h->spare[c] = HC_NONE;
	return HC_OK;
}

/* ---------------------------------------------------------------- pages */

/* First run of n free pages at or above the hint, HC_NONE if there is none. */
static uint32_t find_run(hc_heap *h, uint32_t n)
{
	uint32_t i = h->hint;
	while (i < h->npages && h->npages - i >= n) {
		uint32_t k = 0;
		while (k < n && h->pages[i + k].state == HC_PG_FREE)
			k++;
		if (k == n)
			return i;
		i += k + 1;
		while (i < h->npages && h->pages[i].state != HC_PG_FREE)
			i += h->pages[i].state == HC_PG_LARGE ? h->pages[i].run : 1;
	}
	return HC_NONE;
}

/* Maps n free pages at i and moves the hint past them when they were its first free page. */
static bool take_pages(hc_heap *h, uint32_t i, uint32_t n)
{
	if (!h->src.map(h->src.ctx, page_va(h, i), n))
		return false;
	h->mapped_pages += n;
	if (i == h->hint) {
		uint32_t j = i + n;
		while (j < h->npages && h->pages[j].state != HC_PG_FREE)
			j++;
		h->hint = j;
	}
	return true;
}

static void give_pages(hc_heap *h, uint32_t i, uint32_t n)
{
	for (uint32_t k = 0; k < n; k++)
		h->pages[i + k] = (hc_page){ 0 };
	h->src.unmap(h->src.ctx, page_va(h, i), n);
	h->mapped_pages -= n;
	if (i < h->hint)
		h->hint = i;
}

/* ---------------------------------------------------------------- slabs */

static void list_push(hc_heap *h, unsigned c, uint32_t i)
{
	hc_page *p = &h->pages[i];
	p->prev = HC_NONE;
	p->next = h->partial[c];
	if (p->next != HC_NONE)
		h->pages[p->next].prev = i;
	h->partial[c] = i;
}

static void list_remove(hc_heap *h, unsigned c, uint32_t i)
{
	hc_page *p = &h->pages[i];
	if (p->prev != HC_NONE)
		h->pages[p->prev].next = p->next;
	else
		h->partial[c] = p->next;
	if (p->next != HC_NONE)
		h->pages[p->next].prev = p->prev;
	p->next = p->prev = HC_NONE;
}

static void slab_reset(hc_page *p, unsigned c)
{
	*p = (hc_page){ 0 };
	p->state = HC_PG_SLAB;
	p->cls = (uint8_t)c;
	p->nfree = (uint16_t)cls_objs(c);
	p->free_head = OBJ_NONE;
	p->next = p->prev = HC_NONE;
}

/* A slab page of class c with a free object: the partial list, the spare, or a new page. */
static uint32_t slab_page(hc_heap *h, unsigned c)
{
	uint32_t i = h->partial[c];
	if (i != HC_NONE)
		return i;
	i = h->spare[c];
	if (i != HC_NONE) {
		h->spare[c] = HC_NONE;
	} else {
		i = find_run(h, 1);
		if (i == HC_NONE || !take_pages(h, i, 1))
			return HC_NONE;
		slab_reset(&h->pages[i], c);
		h->slab_pages++;
	}
	list_push(h, c, i);
	return i;
}

static void *slab_alloc(hc_heap *h, unsigned c, hc_err *err)
{
	uint32_t i = slab_page(h, c);
	if (i == HC_NONE)
		return fail(h, err, HC_ERR_NOMEM);
	hc_page *p = &h->pages[i];
	uint16_t k;
	uintptr_t va;
	if (p->free_head != OBJ_NONE) {
		k = p->free_head;
		va = page_va(h, i) + (uintptr_t)k * cls_size(c);
		p->free_head = *(const uint16_t *)va;
	} else {
		k = p->bump++;
		va = page_va(h, i) + (uintptr_t)k * cls_size(c);
	}
	p->used[k >> 6] |= 1ull << (k & 63);
	if (--p->nfree == 0)
		list_remove(h, c, i);
	h->live_objects++;
	h->live_bytes += cls_size(c);
	return (void *)va;
}

static hc_err slab_free(hc_heap *h, uint32_t i, uintptr_t off)
{
	hc_page *p = &h->pages[i];
	unsigned c = p->cls;
	if (off % cls_size(c))
		return HC_ERR_FOREIGN;
	uint16_t k = (uint16_t)(off / cls_size(c));
	if (!(p->used[k >> 6] & (1ull << (k & 63))))
		return HC_ERR_DOUBLE_FREE;
	p->used[k >> 6] &= ~(1ull << (k & 63));
	*(uint16_t *)(page_va(h, i) + off) = p->free_head;
	p->free_head = k;
	if (p->nfree++ == 0)
		list_push(h, c, i);
	h->live_objects--;
	h->live_bytes -= cls_size(c);
	if (p->nfree == cls_objs(c)) { /* empty: keep one spare per class, give back the rest */
		list_remove(h, c, i);
		if (h->spare[c] == HC_NONE) {
			slab_reset(p, c);
			h->spare[c] = i;
		} else {
			give_pages(h, i, 1);
			h->slab_pages--;
		}
	}
	return HC_OK;
}

/* ---------------------------------------------------------------- the interface */

void *hc_alloc(hc_heap *h, size_t size, size_t align, hc_err *err)
{
	if (size == 0)
		return fail(h, err, HC_ERR_ZERO);
	if (align == 0)
		align = HC_MIN_CLASS;
	if ((align & (align - 1)) || align > HC_PAGE)
		return fail(h, err, HC_ERR_ALIGN);
	if (size > SIZE_MAX - (HC_PAGE - 1))
		return fail(h, err, HC_ERR_OVERFLOW);
	size_t need = size > align ? size : align;
	if (need <= HC_MAX_SMALL) {
		unsigned c = 0;
		while (cls_size(c) < need)
			c++;
		void *r = slab_alloc(h, c, err);
		if (r)
			h->allocs++;
		return r;
	}
	size_t n = (size + HC_PAGE - 1) / HC_PAGE;
	if (n > h->npages)
		return fail(h, err, HC_ERR_TOO_BIG);
	uint32_t i = find_run(h, (uint32_t)n);
	if (i == HC_NONE || !take_pages(h, i, (uint32_t)n))
		return fail(h, err, HC_ERR_NOMEM);
	h->pages[i] = (hc_page){ .state = HC_PG_LARGE, .run = (uint32_t)n };
	for (uint32_t k = 1; k < n; k++)
		h->pages[i + k] = (hc_page){ .state = HC_PG_TAIL, .run = i };
	h->large_pages += n;
	h->live_objects++;
	h->live_bytes += n * HC_PAGE;
	h->allocs++;
	return (void *)page_va(h, i);
}

void *hc_calloc(hc_heap *h, size_t n, size_t size, hc_err *err)
{
	if (n == 0 || size == 0)
		return fail(h, err, HC_ERR_ZERO);
	if (n > SIZE_MAX / size)
		return fail(h, err, HC_ERR_OVERFLOW);
	uint8_t *p = hc_alloc(h, n * size, 0, err);
	if (p)
		__builtin_memset(p, 0, n * size);
	return p;
}

/* Page index of p, or HC_NONE when p is outside the region. */
static uint32_t page_of(const hc_heap *h, const void *p)
{
	uintptr_t va = (uintptr_t)p;
	if (va < h->base || (va - h->base) / HC_PAGE >= h->npages)
		return HC_NONE;
	return (uint32_t)((va - h->base) / HC_PAGE);
}

size_t hc_usable(const hc_heap *h, const void *p)
{
	uint32_t i = page_of(h, p);
	if (i == HC_NONE)
		return 0;
	const hc_page *pg = &h->pages[i];
	uintptr_t off = (uintptr_t)p - page_va(h, i);
	if (pg->state == HC_PG_LARGE)
		return off ? 0 : (size_t)pg->run * HC_PAGE;
	if (pg->state != HC_PG_SLAB || off % cls_size(pg->cls))
		return 0;
	uint16_t k = (uint16_t)(off / cls_size(pg->cls));
	return pg->used[k >> 6] & (1ull << (k & 63)) ? cls_size(pg->cls) : 0;
}

hc_err hc_free(hc_heap *h, void *p)
{
	if (!p)
		return HC_OK;
	uint32_t i = page_of(h, p);
	hc_err e = HC_ERR_FOREIGN;
	if (i != HC_NONE) {
		hc_page *pg = &h->pages[i];
		uintptr_t off = (uintptr_t)p - page_va(h, i);
		if (pg->state == HC_PG_SLAB) {
			e = slab_free(h, i, off);
		} else if (pg->state == HC_PG_LARGE && off == 0) {
			uint32_t n = pg->run;
			give_pages(h, i, n);
			h->large_pages -= n;
			h->live_objects--;
			h->live_bytes -= (uint64_t)n * HC_PAGE;
			e = HC_OK;
		} else if (pg->state == HC_PG_FREE && off == 0) {
			e = HC_ERR_DOUBLE_FREE;
		}
	}
	if (e == HC_OK)
		h->frees++;
	else
		h->errors++;
	return e;
}

/* Why p, which is not a live allocation, cannot be freed or moved. */
static hc_err not_live(const hc_heap *h, const void *p)
{
	uint32_t i = page_of(h, p);
	if (i == HC_NONE)
		return HC_ERR_FOREIGN;
	const hc_page *pg = &h->pages[i];
	uintptr_t off = (uintptr_t)p - page_va(h, i);
	if (pg->state == HC_PG_SLAB)
		return off % cls_size(pg->cls) ? HC_ERR_FOREIGN : HC_ERR_DOUBLE_FREE;
	return pg->state == HC_PG_FREE && off == 0 ? HC_ERR_DOUBLE_FREE : HC_ERR_FOREIGN;
}

void *hc_realloc(hc_heap *h, void *p, size_t size, hc_err *err)
{
	if (!p)
		return hc_alloc(h, size, 0, err);
	size_t have = hc_usable(h, p);
	if (!have)
		return fail(h, err, not_live(h, p));
	if (size == 0)
		return fail(h, err, HC_ERR_ZERO);
	/* Fits where it is: the same class, or the same number of pages. */
	if (size <= have && (have <= HC_MAX_SMALL ? size > have / 2 || have == HC_MIN_CLASS
						  : size > have - HC_PAGE))
		return p;
	void *q = hc_alloc(h, size, 0, err);
	if (!q)
		return NULL;
	__builtin_memcpy(q, p, size < have ? size : have);
	hc_free(h, p);
	return q;
}

/* ---------------------------------------------------------------- consistency */

static unsigned popcount64(uint64_t v)
{
	unsigned n = 0;
	for (; v; v &= v - 1)
		n++;
	return n;
}

static bool check_slab(const hc_heap *h, uint32_t i, uint64_t *objs, uint64_t *bytes)
{
	const hc_page *p = &h->pages[i];
	if (p->cls >= HC_CLASSES)
		return false;
	uint32_t total = cls_objs(p->cls), live = 0, listed = 0;
	for (unsigned w = 0; w < 4; w++)
		live += popcount64(p->used[w]);
	if (p->bump > total || live + p->nfree != total)
		return false;
	for (uint16_t k = p->free_head; k != OBJ_NONE; listed++) {
		if (k >= p->bump || listed > total || (p->used[k >> 6] & (1ull << (k & 63))))
			return false;
		k = *(const uint16_t *)(page_va(h, i) + (uintptr_t)k * cls_size(p->cls));
	}
	if (listed + (total - p->bump) != p->nfree)
		return false;
	*objs += live;
	*bytes += (uint64_t)live * cls_size(p->cls);
	return true;
}

bool hc_check(const hc_heap *h)
{
	uint64_t mapped = 0, slab = 0, large = 0, objs = 0, bytes = 0, in_lists = 0;
	for (uint32_t i = 0; i < h->npages; i++) {
		const hc_page *p = &h->pages[i];
		if (p->state == HC_PG_FREE && i < h->hint)
			return false;
		if (p->state == HC_PG_SLAB) {
			if (!check_slab(h, i, &objs, &bytes))
				return false;
			bool spare = h->spare[p->cls] == i, empty = p->nfree == cls_objs(p->cls);
			if (spare != empty)
				return false;
			mapped++, slab++;
		} else if (p->state == HC_PG_LARGE) {
			if (p->run == 0 || p->run > h->npages - i)
				return false;
			for (uint32_t k = 1; k < p->run; k++)
				if (h->pages[i + k].state != HC_PG_TAIL || h->pages[i + k].run != i)
					return false;
			mapped += p->run, large += p->run, objs++, bytes += (uint64_t)p->run * HC_PAGE;
			i += p->run - 1;
		} else if (p->state != HC_PG_FREE) {
			return false; /* a tail without its head */
		}
	}
	for (unsigned c = 0; c < HC_CLASSES; c++) {
		uint32_t prev = HC_NONE;
		for (uint32_t i = h->partial[c]; i != HC_NONE; i = h->pages[i].next) {
			const hc_page *p = &h->pages[i];
			if (i >= h->npages || p->state != HC_PG_SLAB || p->cls != c || p->prev != prev ||
			    p->nfree == 0 || p->nfree == cls_objs(c) || ++in_lists > h->npages)
				return false;
			prev = i;
		}
	}
	/* every slab page with a free object, not empty, is on its list */
	uint64_t partial = 0;
	for (uint32_t i = 0; i < h->npages; i++) {
		const hc_page *p = &h->pages[i];
		partial += p->state == HC_PG_SLAB && p->nfree && p->nfree != cls_objs(p->cls);
	}
	return partial == in_lists && mapped == h->mapped_pages && slab == h->slab_pages &&
	       large == h->large_pages && objs == h->live_objects && bytes == h->live_bytes;
}
