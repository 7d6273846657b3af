/* refmodel.c - the reference model behind the model test and the fuzz target.
 * Leaves live in flat arrays per window and page size; three levels of counters say
 * which table frames must exist. Nothing here looks at real page tables. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "refmodel.h"

#define SZ_4K (1ull << 12)
#define SZ_2M (1ull << 21)
#define SZ_1G (1ull << 30)

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
	m->has_nx = has_nx;
	m->has_1g = has_1g;
	m->phys_bits = phys_bits;
	m->tables[3] = 1; /* the PML4 */
	for (unsigned i = 0; i < nwin; i++) {
		rm_window *w = &m->win[i];
		if ((bases[i] | sizes[i]) & (SZ_1G - 1) || !sizes[i])
			abort();
		w->base = bases[i];
		w->size = sizes[i];
		uint64_t n4 = sizes[i] / SZ_4K, n2 = sizes[i] / SZ_2M, n1 = sizes[i] / SZ_1G;
		w->l4k = zalloc(n4 * 8);
		w->f4k = zalloc(n4);
		w->l2m = zalloc(n2 * 8);
		w->f2m = zalloc(n2);
		w->cnt2m = zalloc(n2 * 2);
		w->l1g = zalloc(n1 * 8);
		w->f1g = zalloc(n1);
		w->cnt1g = zalloc(n1 * 4);
	}
}

void rm_free(rm_model *m)
{
	for (unsigned i = 0; i < m->nwin; i++) {
		rm_window *w = &m->win[i];
		free(w->l4k);
		free(w->f4k);
		free(w->l2m);
		free(w->f2m);
		free(w->cnt2m);
		free(w->l1g);
		free(w->f1g);
		free(w->cnt1g);
	}
	memset(m, 0, sizeof(*m));
}

void rm_clear(rm_model *m)
{
	for (unsigned i = 0; i < m->nwin; i++) {
		rm_window *w = &m->win[i];
		for (uint64_t g = 0; g < w->size / SZ_1G; g++) {
			w->l1g[g] = 0;
			if (!w->cnt1g[g])
				continue;
			for (uint64_t t = g * 512; t < g * 512 + 512; t++) {
				w->l2m[t] = 0;
				if (w->cnt2m[t])
					memset(&w->l4k[t * 512], 0, 512 * 8);
				w->cnt2m[t] = 0;
			}
			w->cnt1g[g] = 0;
		}
	}
	memset(m->cnt512, 0, sizeof(m->cnt512));
	memset(m->tables, 0, sizeof(m->tables));
	m->tables[3] = 1;
	m->leaves = 0;
}

unsigned rm_effective(const rm_model *m, unsigned flags)
{
	return m->has_nx ? flags : flags | PG_X;
}

uint64_t rm_table_total(const rm_model *m)
{
	return m->tables[0] + m->tables[1] + m->tables[2] + m->tables[3];
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

static unsigned pml4_slot(uint64_t va) { return (unsigned)(va >> 39) & 511; }

bool rm_lookup(const rm_model *m, uint64_t va, rm_leaf *leaf)
{
	uint64_t off;
	rm_window *w = win_of(m, va, &off);
	if (!w)
		return false;
	uint64_t g = off / SZ_1G, t = off / SZ_2M, p = off / SZ_4K;
	if (w->l1g[g]) {
		*leaf = (rm_leaf){ w->base + g * SZ_1G, w->l1g[g] & ~1ull, PG_1G, w->f1g[g] };
		return true;
	}
	if (w->l2m[t]) {
		*leaf = (rm_leaf){ w->base + t * SZ_2M, w->l2m[t] & ~1ull, PG_2M, w->f2m[t] };
		return true;
	}
	if (w->l4k[p]) {
		*leaf = (rm_leaf){ w->base + p * SZ_4K, w->l4k[p] & ~1ull, PG_4K, w->f4k[p] };
		return true;
	}
	return false;
}

unsigned rm_stop_level(const rm_model *m, uint64_t va)
{
	uint64_t off;
	rm_window *w = win_of(m, va, &off);
	if (!m->cnt512[pml4_slot(va)])
		return 4;
	if (!w || !w->cnt1g[off / SZ_1G])
		return 3;
	if (!w->cnt2m[off / SZ_2M])
		return 2;
	return 1;
}

/* Counter bookkeeping for one leaf appearing (d = +1) or going away (d = -1). */
static void count_leaf(rm_model *m, rm_window *w, uint64_t off, pg_size size, int d)
{
	uint64_t va = w->base + off;
	uint32_t *c512 = &m->cnt512[pml4_slot(va)];
	if (d > 0 && (*c512)++ == 0)
		m->tables[2]++;
	if (d < 0 && --(*c512) == 0)
		m->tables[2]--;
	if (size == PG_1G)
		goto done;
	uint32_t *c1 = &w->cnt1g[off / SZ_1G];
	if (d > 0 && (*c1)++ == 0)
		m->tables[1]++;
	if (d < 0 && --(*c1) == 0)
		m->tables[1]--;
	if (size == PG_2M)
		goto done;
	uint16_t *c2 = &w->cnt2m[off / SZ_2M];
	if (d > 0 && (*c2)++ == 0)
		m->tables[0]++;
	if (d < 0 && --(*c2) == 0)
		m->tables[0]--;
done:
	m->leaves += (uint64_t)(int64_t)d;
}

static void set_leaf(rm_model *m, uint64_t va, uint64_t pa, pg_size size, unsigned flags)
{
	uint64_t off;
	rm_window *w = win_of(m, va, &off);
	if (!w)
		abort();
	switch (size) {
	case PG_4K:
		w->l4k[off / SZ_4K] = pa | 1;
		w->f4k[off / SZ_4K] = (uint8_t)flags;
		break;
	case PG_2M:
		w->l2m[off / SZ_2M] = pa | 1;
		w->f2m[off / SZ_2M] = (uint8_t)flags;
		break;
	case PG_1G:
		w->l1g[off / SZ_1G] = pa | 1;
		w->f1g[off / SZ_1G] = (uint8_t)flags;
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
			l = (rm_leaf){ w->base + g * SZ_1G, w->l1g[g] & ~1ull, PG_1G, w->f1g[g] };
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
				l = (rm_leaf){ w->base + t * SZ_2M, w->l2m[t] & ~1ull, PG_2M, w->f2m[t] };
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
				l = (rm_leaf){ w->base + p * SZ_4K, w->l4k[p] & ~1ull, PG_4K, w->f4k[p] };
				if (!fn(ctx, &l))
					return;
			}
		}
	}
}

/* ---- argument checks: the errors that are true of the arguments alone */

static bool range_canonical(uint64_t va, uint64_t len)
{
	uint64_t last = va + len - 1;
	return pg_is_canonical(va) && pg_is_canonical(last) && (va >> 63) == (last >> 63);
}

static rm_mask frame_errors(const rm_model *m, uint64_t pa, uint64_t len)
{
	rm_mask e = 0;
	uint64_t limit = 1ull << m->phys_bits;
	if (pa >= limit || len > limit - pa)
		e |= RM_BIT(PG_ERR_BAD_FRAME);
	return e;
}

static rm_mask range_arg_errors(uint64_t va, uint64_t len)
{
	rm_mask e = 0;
	if (len == 0)
		return RM_BIT(PG_ERR_BAD_ARG);
	if ((va | len) & (SZ_4K - 1))
		e |= RM_BIT(PG_ERR_NOT_ALIGNED);
	if (len - 1 > UINT64_MAX - va)
		e |= RM_BIT(PG_ERR_BAD_ARG);
	else if (!range_canonical(va, len))
		e |= RM_BIT(PG_ERR_NOT_CANONICAL);
	return e;
}

/* What stands in the way of a new leaf of size at va (which is aligned to it):
 * 0, or the errors that are true. *need is how many tables would be new. */
static rm_mask chunk_conflict(const rm_model *m, uint64_t va, pg_size size, unsigned *need)
{
	uint64_t off;
	rm_window *w = win_of(m, va, &off);
	if (!w)
		abort();
	uint64_t g = off / SZ_1G, t = off / SZ_2M, p = off / SZ_4K;
	*need = 0;
	if (size == PG_1G) {
		if (w->l1g[g] || w->cnt1g[g])
			return RM_BIT(PG_ERR_ALREADY_MAPPED);
		*need = !m->cnt512[pml4_slot(va)];
		return 0;
	}
	if (w->l1g[g]) /* a larger leaf covers va: it is both in the way and mapping va */
		return RM_BIT(PG_ERR_HUGE_PAGE) | RM_BIT(PG_ERR_ALREADY_MAPPED);
	if (size == PG_2M) {
		if (w->l2m[t] || w->cnt2m[t])
			return RM_BIT(PG_ERR_ALREADY_MAPPED);
		*need = !m->cnt512[pml4_slot(va)] + !w->cnt1g[g];
		return 0;
	}
	if (w->l2m[t])
		return RM_BIT(PG_ERR_HUGE_PAGE) | RM_BIT(PG_ERR_ALREADY_MAPPED);
	if (w->l4k[p])
		return RM_BIT(PG_ERR_ALREADY_MAPPED);
	*need = !m->cnt512[pml4_slot(va)] + !w->cnt1g[g] + !w->cnt2m[t];
	return 0;
}

rm_mask rm_expect_map(const rm_model *m, uint64_t va, uint64_t pa, unsigned size,
		      unsigned flags, long avail)
{
	rm_mask e = 0;
	if (size >= PG_SIZE_COUNT)
		return RM_BIT(PG_ERR_BAD_ARG);
	uint64_t sz = pg_size_bytes((pg_size)size);
	if (flags & ~PG_FLAGS_ALL)
		e |= RM_BIT(PG_ERR_BAD_ARG);
	/* A misaligned page can run past the canonical half or past 2^64 as well. */
	e |= range_arg_errors(va, sz);
	if (va & (sz - 1))
		e |= RM_BIT(PG_ERR_NOT_ALIGNED);
	if (pa & (sz - 1)) /* "not aligned" and "bad frame (misaligned)" both describe it */
		e |= RM_BIT(PG_ERR_NOT_ALIGNED) | RM_BIT(PG_ERR_BAD_FRAME);
	e |= frame_errors(m, pa & ~(sz - 1), sz);
	if (size == PG_1G && !m->has_1g)
		e |= RM_BIT(PG_ERR_UNSUPPORTED);
	if (e)
		return e;
	unsigned need;
	e = chunk_conflict(m, va, (pg_size)size, &need);
	if (e)
		return e;
	if (avail >= 0 && need > (unsigned long)avail)
		return RM_BIT(PG_ERR_NO_FRAMES);
	return RM_BIT(PG_OK);
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

/* A table that a map_range would create, remembered so that later chunks share it. */
typedef struct {
	uint64_t last512, last1g, last2m;
} pending;

rm_mask rm_expect_map_range(const rm_model *m, uint64_t va, uint64_t pa, uint64_t len,
			    unsigned flags, unsigned max_size, long avail)
{
	rm_mask e = range_arg_errors(va, len);
	if (max_size >= PG_SIZE_COUNT)
		e |= RM_BIT(PG_ERR_BAD_ARG);
	if (flags & ~PG_FLAGS_ALL)
		e |= RM_BIT(PG_ERR_BAD_ARG);
	if (pa & (SZ_4K - 1))
		e |= RM_BIT(PG_ERR_NOT_ALIGNED) | RM_BIT(PG_ERR_BAD_FRAME);
	if (len)
		e |= frame_errors(m, pa, len);
	if (max_size == PG_1G && !m->has_1g)
		e |= RM_BIT(PG_ERR_UNSUPPORTED);
	if (e)
		return e;
	/* Every chunk in order: the conflicts, and the tables the chunks that fit need. */
	uint64_t need = 0;
	pending pd = { ~0ull, ~0ull, ~0ull };
	for (uint64_t done = 0; done < len;) {
		uint64_t v = va + done;
		pg_size s = rm_chunk_size(v, pa + done, len - done, (pg_size)max_size);
		unsigned n;
		rm_mask c = chunk_conflict(m, v, s, &n);
		if (c) {
			e |= c;
		} else if (n) {
			uint64_t off;
			rm_window *w = win_of(m, v, &off);
			if (!m->cnt512[pml4_slot(v)] && pd.last512 != (v >> 39)) {
				pd.last512 = v >> 39;
				need++;
			}
			if (s < PG_1G && !w->cnt1g[off / SZ_1G] && pd.last1g != (v >> 30)) {
				pd.last1g = v >> 30;
				need++;
			}
			if (s < PG_2M && !w->cnt2m[off / SZ_2M] && pd.last2m != (v >> 21)) {
				pd.last2m = v >> 21;
				need++;
			}
		}
		done += pg_size_bytes(s);
	}
	if (avail >= 0 && need > (unsigned long)avail)
		e |= RM_BIT(PG_ERR_NO_FRAMES);
	return e ? e : RM_BIT(PG_OK);
}

rm_mask rm_expect_unmap(const rm_model *m, uint64_t va)
{
	rm_mask e = 0;
	if (!pg_is_canonical(va))
		e |= RM_BIT(PG_ERR_NOT_CANONICAL);
	if (va & (SZ_4K - 1))
		e |= RM_BIT(PG_ERR_NOT_ALIGNED);
	if (e)
		return e;
	rm_leaf l;
	if (!rm_lookup(m, va, &l))
		return RM_BIT(PG_ERR_NOT_MAPPED);
	if (l.start != va) /* inside a huge leaf, not at its start */
		return RM_BIT(PG_ERR_NOT_ALIGNED) | RM_BIT(PG_ERR_HUGE_PAGE);
	return RM_BIT(PG_OK);
}

/* Errors for a huge leaf crossing either end of [va, va+len). */
static rm_mask crossing(const rm_model *m, uint64_t va, uint64_t len)
{
	rm_leaf l;
	rm_mask e = 0;
	if (rm_lookup(m, va, &l) && l.start < va)
		e |= RM_BIT(PG_ERR_HUGE_PAGE);
	uint64_t last = va + len - 1;
	if (rm_lookup(m, last, &l) && l.start + pg_size_bytes(l.size) - 1 > last)
		e |= RM_BIT(PG_ERR_HUGE_PAGE);
	return e;
}

rm_mask rm_expect_unmap_range(const rm_model *m, uint64_t va, uint64_t len)
{
	rm_mask e = range_arg_errors(va, len);
	if (e)
		return e;
	e = crossing(m, va, len);
	return e ? e : RM_BIT(PG_OK);
}

typedef struct {
	uint64_t cursor;
	bool hole;
} cover_ctx;

static bool cover_step(void *ctx, const rm_leaf *l)
{
	cover_ctx *c = ctx;
	if (l->start > c->cursor) {
		c->hole = true;
		return false;
	}
	c->cursor = l->start + pg_size_bytes(l->size);
	return true;
}

rm_mask rm_expect_protect(const rm_model *m, uint64_t va, uint64_t len, unsigned flags)
{
	rm_mask e = range_arg_errors(va, len);
	if (flags & ~PG_FLAGS_ALL)
		e |= RM_BIT(PG_ERR_BAD_ARG);
	if (e)
		return e;
	e = crossing(m, va, len);
	cover_ctx c = { va, false };
	each_leaf(m, va, len, cover_step, &c);
	/* cursor wraps to 0 when the last leaf ends at the top of the address space */
	if (c.hole || (c.cursor != 0 && c.cursor - va < len))
		e |= RM_BIT(PG_ERR_NOT_MAPPED);
	return e ? e : RM_BIT(PG_OK);
}

rm_mask rm_expect_split(const rm_model *m, uint64_t va, long avail)
{
	rm_mask e = 0;
	if (!pg_is_canonical(va))
		e |= RM_BIT(PG_ERR_NOT_CANONICAL);
	if (e)
		return e;
	/* An unaligned page is never the start of a leaf; the state errors stay true too. */
	if (va & (SZ_4K - 1))
		e |= RM_BIT(PG_ERR_NOT_ALIGNED);
	rm_leaf l;
	if (!rm_lookup(m, va, &l))
		return e | RM_BIT(PG_ERR_NOT_MAPPED);
	if (l.size == PG_4K) /* nothing huge to split */
		return e | RM_BIT(PG_ERR_BAD_ARG) | RM_BIT(PG_ERR_NOT_MAPPED);
	if (l.start != va)
		return RM_BIT(PG_ERR_NOT_ALIGNED) | RM_BIT(PG_ERR_HUGE_PAGE);
	if (avail == 0)
		return RM_BIT(PG_ERR_NO_FRAMES);
	return RM_BIT(PG_OK);
}

/* ---- effects */

void rm_do_map(rm_model *m, uint64_t va, uint64_t pa, pg_size size, unsigned flags)
{
	set_leaf(m, va, pa, size, rm_effective(m, flags));
}

void rm_do_map_range(rm_model *m, uint64_t va, uint64_t pa, uint64_t len, unsigned flags,
		     pg_size max_size)
{
	for (uint64_t done = 0; done < len;) {
		pg_size s = rm_chunk_size(va + done, pa + done, len - done, max_size);
		set_leaf(m, va + done, pa + done, s, rm_effective(m, flags));
		done += pg_size_bytes(s);
	}
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

uint64_t rm_do_unmap_range(rm_model *m, uint64_t va, uint64_t len, uint64_t *lo, uint64_t *hi)
{
	leaf_vec lv = { 0 };
	each_leaf(m, va, len, gather, &lv);
	for (size_t i = 0; i < lv.n; i++)
		clear_leaf(m, &lv.v[i]);
	if (lv.n) {
		*lo = lv.v[0].start;
		*hi = lv.v[lv.n - 1].start + pg_size_bytes(lv.v[lv.n - 1].size);
	}
	uint64_t n = lv.n;
	free(lv.v);
	return n;
}

uint64_t rm_do_protect(rm_model *m, uint64_t va, uint64_t len, unsigned flags, uint64_t *lo,
		       uint64_t *hi)
{
	leaf_vec lv = { 0 };
	uint64_t changed = 0;
	unsigned eff = rm_effective(m, flags);
	each_leaf(m, va, len, gather, &lv);
	for (size_t i = 0; i < lv.n; i++) {
		if (lv.v[i].flags == eff)
			continue;
		if (!changed++)
			*lo = lv.v[i].start;
		*hi = lv.v[i].start + pg_size_bytes(lv.v[i].size);
		set_flags(m, &lv.v[i], eff);
	}
	free(lv.v);
	return changed;
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
		set_leaf(m, va + i * step, l.phys + i * step, small, l.flags);
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
