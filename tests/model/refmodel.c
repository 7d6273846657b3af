/* refmodel.c - the reference model behind the model test and the fuzz target.
 * Leaves live in flat arrays per window and page size; counters and live flags per
 * table say which table frames must exist. Nothing here looks at real page tables. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "refmodel.h"

#define SZ_4K (1ull << 12)
#define SZ_2M (1ull << 21)
#define SZ_1G (1ull << 30)
#define OK_BIT RM_BIT(PG_OK)

static void *zalloc(size_t n)
{
	void *p = calloc(n ? n : 1, 1);
	if (!p) {
		perror("refmodel calloc");
		abort();
	}
	return p;
}

void rm_init(rm_model *m, const uint64_t *bases, const uint64_t *sizes, unsigned nwin,
	     bool has_nx, bool has_1g, unsigned phys_bits)
{
	memset(m, 0, sizeof(*m));
	if (nwin > RM_MAX_WIN)
		abort();
	m->nwin = nwin;
	for (unsigned i = 0; i < nwin; i++) {
		rm_window *w = &m->win[i];
		if ((bases[i] | sizes[i]) & (SZ_1G - 1) || !sizes[i])
			abort();
		w->base = bases[i];
		w->size = sizes[i];
		uint64_t n4 = sizes[i] / SZ_4K, n2 = sizes[i] / SZ_2M, n1 = sizes[i] / SZ_1G;
		w->l4k = zalloc(n4 * 8);
		w->f4k = zalloc(n4);
		w->x4k = zalloc(n4 * 2);
		w->l2m = zalloc(n2 * 8);
		w->f2m = zalloc(n2);
		w->x2m = zalloc(n2 * 2);
		w->cnt2m = zalloc(n2 * 2);
		w->pt2m = zalloc(n2);
		w->l1g = zalloc(n1 * 8);
		w->f1g = zalloc(n1);
		w->x1g = zalloc(n1 * 2);
		w->cnt1g = zalloc(n1 * 4);
		w->pd1g = zalloc(n1);
		w->touched = zalloc(n1);
	}
	rm_clear(m, has_nx, has_1g, phys_bits, true, 4);
}

void rm_free(rm_model *m)
{
	for (unsigned i = 0; i < m->nwin; i++) {
		rm_window *w = &m->win[i];
		void *p[] = { w->l4k, w->f4k, w->x4k, w->l2m, w->f2m, w->x2m, w->cnt2m, w->pt2m,
			      w->l1g, w->f1g, w->x1g, w->cnt1g, w->pd1g, w->touched };
		for (size_t k = 0; k < sizeof(p) / sizeof(p[0]); k++)
			free(p[k]);
	}
	memset(m, 0, sizeof(*m));
}

void rm_clear(rm_model *m, bool has_nx, bool has_1g, unsigned phys_bits, bool reclaim,
	      unsigned levels)
{
	for (unsigned i = 0; i < m->nwin; i++) {
		rm_window *w = &m->win[i];
		for (uint64_t g = 0; g < w->size / SZ_1G; g++) {
			if (!w->touched[g])
				continue;
			w->l1g[g] = 0;
			w->cnt1g[g] = 0;
			w->pd1g[g] = 0;
			w->touched[g] = 0;
			for (uint64_t t = g * 512; t < g * 512 + 512; t++) {
				if (w->cnt2m[t])
					memset(&w->l4k[t * 512], 0, 512 * 8);
				w->l2m[t] = 0;
				w->cnt2m[t] = 0;
				w->pt2m[t] = 0;
			}
		}
	}
	m->npdpt = m->npml4 = 0;
	memset(m->tables, 0, sizeof(m->tables));
	m->levels = levels;
	m->tables[levels - 1] = 1; /* the top table */
	m->leaves = 0;
	m->abandoned = 0;
	m->has_nx = has_nx;
	m->has_1g = has_1g;
	m->phys_bits = phys_bits;
	m->reclaim = reclaim;
}

unsigned rm_effective(const rm_model *m, unsigned flags)
{
	return m->has_nx ? flags : flags | PG_X;
}

bool rm_canonical(const rm_model *m, uint64_t va)
{
	unsigned sh = 64 - (12 + 9 * m->levels);
	return (uint64_t)((int64_t)(va << sh) >> sh) == va;
}

uint64_t rm_table_total(const rm_model *m)
{
	uint64_t n = 0;
	for (unsigned i = 0; i < 5; i++)
		n += m->tables[i];
	return n;
}

/* The window holding va, and va's offset in it; NULL outside every window. */
static rm_window *win_of(const rm_model *m, uint64_t va, uint64_t *off)
{
	for (unsigned i = 0; i < m->nwin; i++) {
		const rm_window *w = &m->win[i];
		if (va - w->base < w->size) {
			*off = va - w->base;
			return (rm_window *)w;
		}
	}
	return NULL;
}

bool rm_in_window(const rm_model *m, uint64_t va)
{
	uint64_t off;
	return win_of(m, va, &off) != NULL;
}

/* The slot for key, made when create says so; NULL when absent. */
static rm_slot *slot_of(const rm_slot *v, const unsigned *n, uint64_t key, bool create)
{
	rm_slot *s = (rm_slot *)v;
	for (unsigned i = 0; i < *n; i++)
		if (s[i].key == key)
			return &s[i];
	if (!create)
		return NULL;
	if (*n == RM_MAX_SLOTS)
		abort();
	s[*n] = (rm_slot){ key, 0, 0 };
	return &s[(*(unsigned *)n)++];
}

static bool slot_live(const rm_slot *v, const unsigned *n, uint64_t key)
{
	const rm_slot *s = slot_of(v, n, key, false);
	return s && s->live;
}

bool rm_table_live(const rm_model *m, uint64_t va, unsigned level)
{
	uint64_t off;
	rm_window *w;
	switch (level) {
	case 5:
		return m->levels == 5;
	case 4:
		return m->levels == 4 || slot_live(m->pml4, &m->npml4, va >> 48);
	case 3:
		return slot_live(m->pdpt, &m->npdpt, va >> 39);
	case 2:
		w = win_of(m, va, &off);
		return w && w->pd1g[off / SZ_1G];
	default:
		w = win_of(m, va, &off);
		return w && w->pt2m[off / SZ_2M];
	}
}

bool rm_lookup(const rm_model *m, uint64_t va, rm_leaf *leaf)
{
	uint64_t off;
	rm_window *w = win_of(m, va, &off);
	if (!w)
		return false;
	uint64_t g = off / SZ_1G, t = off / SZ_2M, p = off / SZ_4K;
	if (w->l1g[g]) {
		*leaf = (rm_leaf){ w->base + g * SZ_1G, w->l1g[g] & ~1ull, PG_1G, w->f1g[g], w->x1g[g] };
		return true;
	}
	if (w->l2m[t]) {
		*leaf = (rm_leaf){ w->base + t * SZ_2M, w->l2m[t] & ~1ull, PG_2M, w->f2m[t], w->x2m[t] };
		return true;
	}
	if (w->l4k[p]) {
		*leaf = (rm_leaf){ w->base + p * SZ_4K, w->l4k[p] & ~1ull, PG_4K, w->f4k[p], w->x4k[p] };
		return true;
	}
	return false;
}

unsigned rm_stop_level(const rm_model *m, uint64_t va)
{
	for (unsigned level = m->levels - 1; level >= 1; level--)
		if (!rm_table_live(m, va, level))
			return level + 1;
	return 1;
}

/* One table's bookkeeping for a leaf below it appearing (d > 0) or going away: made on
 * the first, freed with the last when the source takes frames back. */
static void track(rm_model *m, uint8_t *live, uint64_t cnt_after, int d, unsigned level)
{
	if (d > 0 && !*live) {
		*live = 1;
		m->tables[level - 1]++;
	}
	if (d < 0 && cnt_after == 0 && m->reclaim && *live) {
		*live = 0;
		m->tables[level - 1]--;
	}
}

static void count_leaf(rm_model *m, rm_window *w, uint64_t off, pg_size size, int d)
{
	uint64_t va = w->base + off;
	w->touched[off / SZ_1G] = 1;
	if (m->levels == 5) {
		rm_slot *s = slot_of(m->pml4, &m->npml4, va >> 48, true);
		s->cnt += (uint32_t)d;
		track(m, &s->live, s->cnt, d, 4);
	}
	rm_slot *s = slot_of(m->pdpt, &m->npdpt, va >> 39, true);
	s->cnt += (uint32_t)d;
	track(m, &s->live, s->cnt, d, 3);
	if (size < PG_1G) {
		uint32_t *c = &w->cnt1g[off / SZ_1G];
		*c += (uint32_t)d;
		track(m, &w->pd1g[off / SZ_1G], *c, d, 2);
	}
	if (size < PG_2M) {
		uint16_t *c = &w->cnt2m[off / SZ_2M];
		*c = (uint16_t)(*c + d);
		track(m, &w->pt2m[off / SZ_2M], *c, d, 1);
	}
	m->leaves += (uint64_t)(int64_t)d;
}

static void set_leaf(rm_model *m, uint64_t va, uint64_t pa, pg_size size, unsigned flags,
		     unsigned extra)
{
	uint64_t off;
	rm_window *w = win_of(m, va, &off);
	if (!w)
		abort();
	switch (size) {
	case PG_4K:
		w->l4k[off / SZ_4K] = pa | 1;
		w->f4k[off / SZ_4K] = (uint8_t)flags;
		w->x4k[off / SZ_4K] = (uint16_t)extra;
		break;
	case PG_2M:
		w->l2m[off / SZ_2M] = pa | 1;
		w->f2m[off / SZ_2M] = (uint8_t)flags;
		w->x2m[off / SZ_2M] = (uint16_t)extra;
		break;
	case PG_1G:
		w->l1g[off / SZ_1G] = pa | 1;
		w->f1g[off / SZ_1G] = (uint8_t)flags;
		w->x1g[off / SZ_1G] = (uint16_t)extra;
		break;
	}
	count_leaf(m, w, off, size, +1);
}

static void clear_leaf(rm_model *m, const rm_leaf *l)
{
	uint64_t off;
	rm_window *w = win_of(m, l->start, &off);
	if (!w)
		abort();
	if (l->size == PG_4K)
		w->l4k[off / SZ_4K] = 0;
	else if (l->size == PG_2M)
		w->l2m[off / SZ_2M] = 0;
	else
		w->l1g[off / SZ_1G] = 0;
	count_leaf(m, w, off, l->size, -1);
}

static void set_flags(rm_model *m, const rm_leaf *l, unsigned flags)
{
	uint64_t off;
	rm_window *w = win_of(m, l->start, &off);
	if (l->size == PG_4K)
		w->f4k[off / SZ_4K] = (uint8_t)flags;
	else if (l->size == PG_2M)
		w->f2m[off / SZ_2M] = (uint8_t)flags;
	else
		w->f1g[off / SZ_1G] = (uint8_t)flags;
}

void rm_set_extra(rm_model *m, const rm_leaf *l, unsigned extra)
{
	uint64_t off;
	rm_window *w = win_of(m, l->start, &off);
	if (l->size == PG_4K)
		w->x4k[off / SZ_4K] = (uint16_t)extra;
	else if (l->size == PG_2M)
		w->x2m[off / SZ_2M] = (uint16_t)extra;
	else
		w->x1g[off / SZ_1G] = (uint16_t)extra;
}

/* Calls fn for every leaf overlapping [va, va+len), in address order. The range must
 * lie inside one window. Stops when fn returns false. */
typedef bool (*leaf_fn)(void *ctx, const rm_leaf *l);
static void each_leaf(const rm_model *m, uint64_t va, uint64_t len, leaf_fn fn, void *ctx)
{
	uint64_t o0;
	rm_window *w = win_of(m, va, &o0);
	if (!w || len > w->size - o0)
		abort();
	uint64_t o1 = o0 + len;
	for (uint64_t g = o0 / SZ_1G; g <= (o1 - 1) / SZ_1G; g++) {
		rm_leaf l;
		if (w->l1g[g]) {
			l = (rm_leaf){ w->base + g * SZ_1G, w->l1g[g] & ~1ull, PG_1G, w->f1g[g],
				       w->x1g[g] };
			if (!fn(ctx, &l))
				return;
			continue;
		}
		if (!w->cnt1g[g])
			continue;
		uint64_t t0 = g * 512 > o0 / SZ_2M ? g * 512 : o0 / SZ_2M;
		uint64_t t1 = g * 512 + 511 < (o1 - 1) / SZ_2M ? g * 512 + 511 : (o1 - 1) / SZ_2M;
		for (uint64_t t = t0; t <= t1; t++) {
			if (w->l2m[t]) {
				l = (rm_leaf){ w->base + t * SZ_2M, w->l2m[t] & ~1ull, PG_2M, w->f2m[t],
					       w->x2m[t] };
				if (!fn(ctx, &l))
					return;
				continue;
			}
			if (!w->cnt2m[t])
				continue;
			uint64_t p0 = t * 512 > o0 / SZ_4K ? t * 512 : o0 / SZ_4K;
			uint64_t p1 = t * 512 + 511 < (o1 - 1) / SZ_4K ? t * 512 + 511 : (o1 - 1) / SZ_4K;
			for (uint64_t p = p0; p <= p1; p++) {
				if (!w->l4k[p])
					continue;
				l = (rm_leaf){ w->base + p * SZ_4K, w->l4k[p] & ~1ull, PG_4K, w->f4k[p],
					       w->x4k[p] };
				if (!fn(ctx, &l))
					return;
			}
		}
	}
}

/* ---- argument checks, in the order paging.h documents */

/* The range errors unmap_range, protect and map_range share: BAD_ARG (zero length,
 * overflow), NOT_CANONICAL (either end, or across the hole), NOT_ALIGNED. */
static pg_err range_err(const rm_model *m, uint64_t va, uint64_t len, uint64_t pa)
{
	uint64_t last = va + len - 1;
	if (len == 0 || last < va)
		return PG_ERR_BAD_ARG;
	if (!rm_canonical(m, va) || !rm_canonical(m, last) || (va >> 63) != (last >> 63))
		return PG_ERR_NOT_CANONICAL;
	if ((va | len | pa) & (SZ_4K - 1))
		return PG_ERR_NOT_ALIGNED;
	return PG_OK;
}

/* What stands in the way of a new leaf of size at va (which is aligned to it): a
 * larger leaf covering it is HUGE_PAGE, a leaf of its size or below it ALREADY_MAPPED.
 * *need is how many tables would be new; *found the frame in the way. */
static pg_err chunk_conflict(const rm_model *m, uint64_t va, pg_size size, unsigned *need)
{
	uint64_t off;
	rm_window *w = win_of(m, va, &off);
	if (!w)
		abort();
	uint64_t g = off / SZ_1G, t = off / SZ_2M, p = off / SZ_4K;
	*need = (m->levels == 5 && !slot_live(m->pml4, &m->npml4, va >> 48)) +
		!slot_live(m->pdpt, &m->npdpt, va >> 39);
	if (size == PG_1G)
		return w->l1g[g] || w->cnt1g[g] ? PG_ERR_ALREADY_MAPPED : PG_OK;
	if (w->l1g[g])
		return PG_ERR_HUGE_PAGE;
	*need += !w->pd1g[g];
	if (size == PG_2M)
		return w->l2m[t] || w->cnt2m[t] ? PG_ERR_ALREADY_MAPPED : PG_OK;
	if (w->l2m[t])
		return PG_ERR_HUGE_PAGE;
	*need += !w->pt2m[t];
	return w->l4k[p] ? PG_ERR_ALREADY_MAPPED : PG_OK;
}

rm_mask rm_expect_map(const rm_model *m, uint64_t va, uint64_t pa, unsigned size,
		      unsigned flags, long avail)
{
	if (size >= PG_SIZE_COUNT || (flags & ~PG_FLAGS_ALL))
		return RM_BIT(PG_ERR_BAD_ARG);
	if (size == PG_1G && !m->has_1g)
		return RM_BIT(PG_ERR_UNSUPPORTED);
	if (!rm_canonical(m, va))
		return RM_BIT(PG_ERR_NOT_CANONICAL);
	uint64_t sz = pg_size_bytes((pg_size)size);
	if ((va | pa) & (sz - 1))
		return RM_BIT(PG_ERR_NOT_ALIGNED);
	if (pa >> m->phys_bits)
		return RM_BIT(PG_ERR_BAD_FRAME);
	unsigned need;
	pg_err e = chunk_conflict(m, va, (pg_size)size, &need);
	if (e != PG_OK)
		return RM_BIT(e);
	if (avail >= 0 && need > (unsigned long)avail)
		return RM_BIT(PG_ERR_NO_FRAMES);
	return OK_BIT;
}

pg_size rm_chunk_size(uint64_t va, uint64_t pa, uint64_t rem, pg_size max_size)
{
	for (int s = (int)max_size; s > 0; s--) {
		uint64_t sz = pg_size_bytes((pg_size)s);
		if (!((va | pa) & (sz - 1)) && rem >= sz)
			return (pg_size)s;
	}
	return PG_4K;
}

rm_mask rm_expect_map_range(const rm_model *m, uint64_t va, uint64_t pa, uint64_t len,
			    unsigned flags, unsigned max_size, long avail)
{
	uint64_t last = va + len - 1;
	if (max_size >= PG_SIZE_COUNT || (flags & ~PG_FLAGS_ALL) || len == 0 || last < va)
		return RM_BIT(PG_ERR_BAD_ARG);
	if (max_size == PG_1G && !m->has_1g)
		return RM_BIT(PG_ERR_UNSUPPORTED);
	pg_err e = range_err(m, va, len, pa);
	if (e != PG_OK)
		return RM_BIT(e);
	if (pa + len - 1 < pa || (pa + len - 1) >> m->phys_bits)
		return RM_BIT(PG_ERR_BAD_FRAME);
	/* Every chunk in order: the first conflict, and the tables the chunks need. Tables
	 * made for an earlier chunk serve the later ones. */
	uint64_t need = 0, new1 = ~0ull, new2 = ~0ull, new3 = ~0ull, new4 = ~0ull;
	for (uint64_t done = 0; done < len;) {
		uint64_t v = va + done, off;
		pg_size s = rm_chunk_size(v, pa + done, len - done, (pg_size)max_size);
		unsigned n;
		if ((e = chunk_conflict(m, v, s, &n)) != PG_OK)
			return RM_BIT(e);
		rm_window *w = win_of(m, v, &off);
		if (m->levels == 5 && !slot_live(m->pml4, &m->npml4, v >> 48) && new4 != v >> 48) {
			new4 = v >> 48;
			need++;
		}
		if (!slot_live(m->pdpt, &m->npdpt, v >> 39) && new3 != v >> 39) {
			new3 = v >> 39;
			need++;
		}
		if (s < PG_1G && !w->pd1g[off / SZ_1G] && new2 != v >> 30) {
			new2 = v >> 30;
			need++;
		}
		if (s < PG_2M && !w->pt2m[off / SZ_2M] && new1 != v >> 21) {
			new1 = v >> 21;
			need++;
		}
		done += pg_size_bytes(s);
	}
	if (avail >= 0 && need > (unsigned long)avail)
		return RM_BIT(PG_ERR_NO_FRAMES);
	return OK_BIT;
}

rm_mask rm_expect_unmap(const rm_model *m, uint64_t va)
{
	if (!rm_canonical(m, va))
		return RM_BIT(PG_ERR_NOT_CANONICAL);
	if (va & (SZ_4K - 1))
		return RM_BIT(PG_ERR_NOT_ALIGNED);
	rm_leaf l;
	if (!rm_lookup(m, va, &l))
		return RM_BIT(PG_ERR_NOT_MAPPED);
	if (l.start != va) /* inside a huge leaf, not at its start */
		return RM_BIT(PG_ERR_HUGE_PAGE);
	return OK_BIT;
}

/* HUGE_PAGE when a leaf crosses either end of [va, va+len). */
static pg_err crossing(const rm_model *m, uint64_t va, uint64_t len)
{
	rm_leaf l;
	if (rm_lookup(m, va, &l) && l.start < va)
		return PG_ERR_HUGE_PAGE;
	uint64_t last = va + len - 1;
	if (rm_lookup(m, last, &l) && l.start + pg_size_bytes(l.size) - 1 > last)
		return PG_ERR_HUGE_PAGE;
	return PG_OK;
}

rm_mask rm_expect_unmap_range(const rm_model *m, uint64_t va, uint64_t len)
{
	pg_err e = range_err(m, va, len, 0);
	if (e == PG_OK)
		e = crossing(m, va, len);
	return RM_BIT(e);
}

/* protect's state check: the first problem in address order, a hole (NOT_MAPPED) or a
 * leaf crossing an end (HUGE_PAGE). */
typedef struct {
	uint64_t cursor, last;
	pg_err err;
	bool top;               /* a leaf ended at the top of the address space */
} cover_ctx;

static bool cover_step(void *ctx, const rm_leaf *l)
{
	cover_ctx *c = ctx;
	if (l->start > c->cursor) {
		c->err = PG_ERR_NOT_MAPPED;
		return false;
	}
	uint64_t end = l->start + (pg_size_bytes(l->size) - 1);
	if (l->start < c->cursor || end > c->last) {
		c->err = PG_ERR_HUGE_PAGE;
		return false;
	}
	c->cursor = end + 1;
	c->top = c->cursor == 0;
	return !c->top;
}

rm_mask rm_expect_protect(const rm_model *m, uint64_t va, uint64_t len, unsigned flags)
{
	pg_err e = range_err(m, va, len, 0);
	if (e == PG_OK && (flags & ~PG_FLAGS_ALL))
		e = PG_ERR_BAD_ARG;
	if (e != PG_OK)
		return RM_BIT(e);
	cover_ctx c = { va, va + (len - 1), PG_OK, false };
	each_leaf(m, va, len, cover_step, &c);
	if (c.err == PG_OK && !c.top && c.cursor <= c.last)
		c.err = PG_ERR_NOT_MAPPED;
	return RM_BIT(c.err);
}

rm_mask rm_expect_split(const rm_model *m, uint64_t va, long avail)
{
	if (!rm_canonical(m, va))
		return RM_BIT(PG_ERR_NOT_CANONICAL);
	if (va & (SZ_4K - 1))
		return RM_BIT(PG_ERR_NOT_ALIGNED);
	rm_leaf l;
	if (!rm_lookup(m, va, &l))
		return RM_BIT(PG_ERR_NOT_MAPPED);
	if (l.size == PG_4K) /* nothing huge to split */
		return RM_BIT(PG_ERR_BAD_ARG);
	if (l.start != va)
		return RM_BIT(PG_ERR_NOT_ALIGNED);
	if (avail == 0)
		return RM_BIT(PG_ERR_NO_FRAMES);
	return OK_BIT;
}

/* ---- effects */

static void abandon(rm_model *m, uint8_t *live, unsigned level)
{
	if (*live) {
		*live = 0;
		m->tables[level - 1]--;
		m->abandoned++;
	}
}

/* A leaf of size at va replaces the (empty) tables below its slot: with a source that
 * takes frames back there are none; without, they are abandoned. */
static bool replace_tables(rm_model *m, uint64_t va, pg_size size)
{
	uint64_t off, before = m->abandoned;
	rm_window *w = win_of(m, va, &off);
	if (size == PG_1G) {
		for (uint64_t t = off / SZ_2M; t < off / SZ_2M + 512; t++)
			abandon(m, &w->pt2m[t], 1);
		abandon(m, &w->pd1g[off / SZ_1G], 2);
	} else if (size == PG_2M) {
		abandon(m, &w->pt2m[off / SZ_2M], 1);
	}
	return m->abandoned != before;
}

bool rm_do_map(rm_model *m, uint64_t va, uint64_t pa, pg_size size, unsigned flags)
{
	bool unlinked = replace_tables(m, va, size);
	set_leaf(m, va, pa, size, rm_effective(m, flags), 0);
	return unlinked;
}

bool rm_do_map_range(rm_model *m, uint64_t va, uint64_t pa, uint64_t len, unsigned flags,
		     pg_size max_size)
{
	bool unlinked = false;
	for (uint64_t done = 0; done < len;) {
		pg_size s = rm_chunk_size(va + done, pa + done, len - done, max_size);
		unlinked |= rm_do_map(m, va + done, pa + done, s, flags);
		done += pg_size_bytes(s);
	}
	return unlinked;
}

rm_leaf rm_do_unmap(rm_model *m, uint64_t va)
{
	rm_leaf l;
	if (!rm_lookup(m, va, &l))
		abort();
	clear_leaf(m, &l);
	return l;
}

/* Leaves are gathered first: removing while walking would confuse the counters that
 * the walk uses to skip empty slots. */
typedef struct {
	rm_leaf *v;
	size_t n, cap;
} leaf_vec;

static bool gather(void *ctx, const rm_leaf *l)
{
	leaf_vec *lv = ctx;
	if (lv->n == lv->cap) {
		lv->cap = lv->cap ? 2 * lv->cap : 256;
		lv->v = realloc(lv->v, lv->cap * sizeof(*lv->v));
		if (!lv->v)
			abort();
	}
	lv->v[lv->n++] = *l;
	return true;
}

rm_leaf *rm_leaves(const rm_model *m, uint64_t va, uint64_t len, uint64_t *n)
{
	leaf_vec lv = { 0 };
	each_leaf(m, va, len, gather, &lv);
	*n = lv.n;
	return lv.v;
}

uint64_t rm_do_unmap_range(rm_model *m, uint64_t va, uint64_t len)
{
	uint64_t n;
	rm_leaf *v = rm_leaves(m, va, len, &n);
	for (uint64_t i = 0; i < n; i++)
		clear_leaf(m, &v[i]);
	free(v);
	return n;
}

void rm_do_protect(rm_model *m, uint64_t va, uint64_t len, unsigned flags)
{
	uint64_t n;
	rm_leaf *v = rm_leaves(m, va, len, &n);
	for (uint64_t i = 0; i < n; i++)
		set_flags(m, &v[i], rm_effective(m, flags));
	free(v);
}

void rm_do_split(rm_model *m, uint64_t va)
{
	rm_leaf l;
	if (!rm_lookup(m, va, &l) || l.size == PG_4K || l.start != va)
		abort();
	clear_leaf(m, &l);
	pg_size small = (pg_size)(l.size - 1);
	uint64_t step = pg_size_bytes(small);
	for (uint64_t i = 0; i < 512; i++)
		set_leaf(m, va + i * step, l.phys + i * step, small, l.flags, l.extra);
}

/* ---- merged runs */

typedef struct {
	rm_range_fn fn;
	void *ctx;
	uint64_t first, last;   /* leaves are clipped to [first, last] */
	pg_range cur;
	bool have, stopped;
} merge_ctx;

static bool merge_step(void *ctx, const rm_leaf *l)
{
	merge_ctx *c = ctx;
	uint64_t lo = l->start, hi = l->start + (pg_size_bytes(l->size) - 1);
	lo = lo < c->first ? c->first : lo;
	hi = hi > c->last ? c->last : hi;
	uint64_t pa = l->phys + (lo - l->start), len = hi - lo + 1;
	if (c->have && c->cur.size == l->size && c->cur.flags == l->flags &&
	    c->cur.virt.va + c->cur.length == lo && c->cur.phys.pa + c->cur.length == pa) {
		c->cur.length += len;
		return true;
	}
	if (c->have && !c->fn(c->ctx, &c->cur)) {
		c->stopped = true;
		return false;
	}
	c->cur = (pg_range){ pg_va(lo), pg_pa(pa), len, l->size, l->flags };
	c->have = true;
	return true;
}

void rm_ranges(const rm_model *m, uint64_t va, uint64_t len, rm_range_fn fn, void *ctx)
{
	merge_ctx c = { fn, ctx, va, va + (len - 1), { { 0 }, { 0 }, 0, PG_4K, 0 }, false, false };
	if (len) {
		each_leaf(m, va, len, merge_step, &c);
		if (c.have && !c.stopped)
			fn(ctx, &c.cur);
		return;
	}
	c.first = 0;
	c.last = ~0ull;
	/* windows in address order */
	unsigned order[RM_MAX_WIN];
	for (unsigned i = 0; i < m->nwin; i++)
		order[i] = i;
	for (unsigned i = 1; i < m->nwin; i++)
		for (unsigned j = i; j > 0 && m->win[order[j]].base < m->win[order[j - 1]].base; j--) {
			unsigned t = order[j];
			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	for (unsigned i = 0; i < m->nwin && !c.stopped; i++)
		each_leaf(m, m->win[order[i]].base, m->win[order[i]].size, merge_step, &c);
	if (c.have && !c.stopped)
		fn(ctx, &c.cur);
}
