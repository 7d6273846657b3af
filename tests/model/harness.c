/* harness.c - lock-step execution of paging/ and the reference model. Every step checks
 * the returned error against the one the contract names, the outputs, the flush calls,
 * the frames outstanding and the raw entries where the operation acted; rh_check_all
 * walks every table in simulated RAM and compares whole pg_walks. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* The entry layout, written out here rather than taken from paging/ (Intel SDM vol. 3,
 * 4.5): the harness reads raw entries on its own. */
#define E_P     (1ull << 0)
#define E_W     (1ull << 1)
#define E_U     (1ull << 2)
#define E_PWT   (1ull << 3)
#define E_PCD   (1ull << 4)
#define E_A     (1ull << 5)
#define E_D     (1ull << 6)
#define E_PS    (1ull << 7)
#define E_PAT4K (1ull << 7)
#define E_G     (1ull << 8)
#define E_COUNT (0x3ffull << 52) /* paging/'s present count in a table entry */
#define E_PATH  (1ull << 12)
#define E_XD    (1ull << 63)
#define E_ADDR  0x000ffffffffff000ull
/* paging.h's PAT layout: the power-on default with entry 4 = write-combining. */
#define RH_PAT  0x0007040100070406ull

static const char *const kind_names[OP__COUNT] = {
	"map", "map_range", "unmap", "unmap_range", "protect", "split", "translate", "walk",
	"touch",
};

static uint64_t root_of(const pg_space *s) { return s->root.pa; }
static unsigned levels_of(const rh *h) { return h->m.levels; }

void rh_op_str(const rh_op *op, char *buf, size_t n)
{
	snprintf(buf, n, "%s va=0x%016llx pa=0x%016llx len=0x%llx flags=0x%x size=%u avail=%ld "
		 "handle=%u", (unsigned)op->kind < OP__COUNT ? kind_names[op->kind] : "?",
		 (unsigned long long)op->va, (unsigned long long)op->pa,
		 (unsigned long long)op->len, op->flags, op->size, op->avail, op->handle);
}

static bool fail(rh *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool fail(rh *h, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(h->err, sizeof(h->err), fmt, ap);
	va_end(ap);
	return false;
}

static void mask_str(rm_mask m, char *buf, size_t n)
{
	size_t used = 0;
	buf[0] = 0;
	for (unsigned e = 0; e < PG_ERR__COUNT && used < n; e++)
		if (m & RM_BIT(e))
			used += (size_t)snprintf(buf + used, n - used, "%s'%s'", used ? "|" : "",
						 pg_strerror((pg_err)e));
}

static void record_flush(void *ctx, pg_vaddr start, uint64_t length)
{
	rh *h = ctx;
	if (h->nflush < RH_MAX_FLUSH) {
		h->flush[h->nflush].start = start.va;
		h->flush[h->nflush].len = length;
	}
	h->nflush++;
}

void rh_init(rh *h, const uint64_t *bases, const uint64_t *sizes, unsigned nwin,
	     uint64_t ram_bytes, unsigned levels)
{
	memset(h, 0, sizeof(*h));
	h->levels = levels;
	sim_init(&h->ram, ram_bytes);
	memcpy(h->bases, bases, nwin * sizeof(*bases));
	memcpy(h->sizes, sizes, nwin * sizeof(*sizes));
	h->nwin = nwin;
	h->visited = calloc(ram_bytes / 4096 / 64 + 1, 8);
	if (!h->visited)
		abort();
	rm_init(&h->m, bases, sizes, nwin, true, true, 52);
}

/* Destroys the space (through a source that frees, so that reachable tables come back)
 * and checks that only the frames the model says were abandoned stay out. */
static bool destroy(rh *h)
{
	if (!root_of(&h->s))
		return true;
	h->s.frames = sim_frames(&h->ram);
	pg_space_destroy(&h->s);
	memset(&h->s2, 0, sizeof(h->s2));
	uint64_t want = h->lost + h->m.abandoned;
	if (sim_outstanding(&h->ram) != want)
		return fail(h, "pg_space_destroy left %llu frames outstanding, want %llu (abandoned)",
			    (unsigned long long)sim_outstanding(&h->ram),
			    (unsigned long long)want);
	h->lost = want;
	return true;
}

bool rh_reset(rh *h, bool has_nx, bool has_1g, unsigned phys_bits, bool reclaim)
{
	bool ok = destroy(h);
	rm_clear(&h->m, has_nx, has_1g, phys_bits, reclaim, h->levels);
	h->ram.fail_after = -1;
	pg_frames *src = sim_frames(&h->ram);
	h->nofree = (pg_frames){ src->alloc, NULL, src->ctx };
	pg_frames *use = reclaim ? src : &h->nofree;
	pg_err e = pg_space_init(&h->s, use, sim_offset(&h->ram), has_nx, has_1g, phys_bits,
				 h->levels);
	if (e != PG_OK)
		return fail(h, "pg_space_init: %s", pg_strerror(e));
	e = pg_space_attach(&h->s2, h->s.root, use, sim_offset(&h->ram), has_nx, has_1g,
			    phys_bits, h->levels);
	if (e != PG_OK)
		return fail(h, "pg_space_attach: %s", pg_strerror(e));
	h->s.flush = h->s2.flush = record_flush;
	h->s.flush_ctx = h->s2.flush_ctx = h;
	return ok;
}

void rh_fini(rh *h)
{
	destroy(h);
	rm_free(&h->m);
	sim_destroy(&h->ram);
	free(h->visited);
}

/* ---- raw entries */

static uint64_t sext(const rh *h, uint64_t va)
{
	unsigned sh = 64 - (12 + 9 * levels_of(h));
	return (uint64_t)((int64_t)(va << sh) >> sh);
}

/* The PAT index of a PG_CACHE_* type: the first entry of RH_PAT holding it. */
static unsigned pat_index(unsigned cache)
{
	static const uint8_t type[4] = { 6, 4, 0, 1 }; /* WB, WT, UC, WC */
	for (unsigned i = 0; i < 8; i++)
		if (((RH_PAT >> (8 * i)) & 0xff) == type[cache])
			return i;
	abort();
}

/* rm_leaf.extra bit by bit: A, D, the software bits 9-11 and 52-58, the protection key
 * 59-62 (RH_EXTRA_BITS). */
static uint64_t extra_bits(unsigned extra)
{
	return (extra & 1 ? E_A : 0) | (extra & 2 ? E_D : 0) |
	       (uint64_t)(extra >> 2 & 7) << 9 | (uint64_t)(extra >> 5 & 0x7ff) << 52;
}

/* The entry a correct library writes for the model's leaf l. */
static uint64_t expected_leaf(const rh *h, const rm_leaf *l)
{
	uint64_t e = l->phys | E_P | extra_bits(l->extra);
	unsigned pat = pat_index((l->flags & PG_CACHE_MASK) >> PG_CACHE_SHIFT);
	if (l->flags & PG_W)
		e |= E_W;
	if (l->flags & PG_U)
		e |= E_U;
	if (l->flags & PG_G)
		e |= E_G;
	if (h->m.has_nx && !(l->flags & PG_X))
		e |= E_XD;
	if (pat & 1)
		e |= E_PWT;
	if (pat & 2)
		e |= E_PCD;
	if (pat & 4)
		e |= l->size == PG_4K ? E_PAT4K : E_PATH;
	if (l->size != PG_4K)
		e |= E_PS;
	return e;
}

static bool is_leaf_entry(uint64_t e, unsigned level)
{
	return level == 1 || (level <= 3 && (e & E_PS));
}

/* A table frame must be one the simulated source handed out and has not taken back. */
static bool frame_ok(const rh *h, uint64_t pa)
{
	uint64_t off = pa - h->ram.base;
	return pa >= h->ram.base && off < h->ram.next && !(off & 4095) && h->ram.state[off / 4096];
}

static uint64_t *raw_table(const rh *h, uint64_t pa) { return sim_ptr(&h->ram, pa); }

/* The leaf entry at va against the model's leaf there (level is where the walk found it). */
static bool check_leaf_entry(rh *h, uint64_t va, uint64_t e, unsigned level)
{
	rm_leaf l;
	if (!rm_lookup(&h->m, va, &l) || l.start != va || (unsigned)l.size != level - 1)
		return fail(h, "raw: level-%u leaf 0x%016llx at va 0x%016llx, model has %s",
			    level, (unsigned long long)e, (unsigned long long)va,
			    rm_lookup(&h->m, va, &l) ? "another leaf there" : "none");
	uint64_t want = expected_leaf(h, &l);
	if (e != want)
		return fail(h, "raw: leaf at va 0x%016llx is 0x%016llx, want 0x%016llx (flags 0x%x "
			    "extra 0x%x)", (unsigned long long)va, (unsigned long long)e,
			    (unsigned long long)want, l.flags, l.extra);
	return true;
}

/* A present non-leaf entry: exactly a table frame | P | W | U, and the model must have
 * a table of level-1 there. */
static bool check_table_entry(rh *h, uint64_t va, uint64_t e, unsigned level)
{
	if ((e & ~(E_ADDR | E_COUNT)) != (E_P | E_W | E_U) || !frame_ok(h, e & E_ADDR))
		return fail(h, "raw: level-%u entry for va 0x%016llx is 0x%016llx, want a table "
			    "frame | P | W | U", level, (unsigned long long)va,
			    (unsigned long long)e);
	if (!rm_table_live(&h->m, va, level - 1))
		return fail(h, "raw: a level-%u table for va 0x%016llx that the model does not have",
			    level - 1, (unsigned long long)va);
	/* Bits 52-61 are paging/'s count of the table's present entries: 0 (not counted
	 * yet) or exactly right. */
	uint64_t count = (e & E_COUNT) >> 52, n = 0;
	const uint64_t *t = raw_table(h, e & E_ADDR);
	for (unsigned i = 0; i < 512; i++)
		n += t[i] & E_P;
	if (count != 0 && count != n)
		return fail(h, "raw: level-%u entry for va 0x%016llx counts %llu present entries, "
			    "the table has %llu", level, (unsigned long long)va,
			    (unsigned long long)count, (unsigned long long)n);
	return true;
}

typedef struct {
	uint64_t tables[5], leaves;
} raw_count;

static bool walk_raw(rh *h, uint64_t pa, unsigned level, uint64_t base, raw_count *c)
{
	uint64_t bit = (pa - h->ram.base) / 4096;
	if (h->visited[bit / 64] & (1ull << (bit % 64)))
		return fail(h, "raw: table 0x%016llx linked twice", (unsigned long long)pa);
	h->visited[bit / 64] |= 1ull << (bit % 64);
	c->tables[level - 1]++;
	const uint64_t *t = raw_table(h, pa);
	for (unsigned i = 0; i < 512; i++) {
		uint64_t e = t[i], va = sext(h, base + ((uint64_t)i << (3 + 9 * level)));
		if (!(e & E_P)) {
			if (e)
				return fail(h, "raw: non-present level-%u entry for va 0x%016llx is "
					    "0x%016llx, not 0", level, (unsigned long long)va,
					    (unsigned long long)e);
			continue;
		}
		if (is_leaf_entry(e, level)) {
			if (!check_leaf_entry(h, va, e, level))
				return false;
			c->leaves++;
			continue;
		}
		if (!check_table_entry(h, va, e, level) ||
		    !walk_raw(h, e & E_ADDR, level - 1, va, c))
			return false;
	}
	return true;
}

bool rh_check_raw(rh *h)
{
	raw_count c;
	memset(&c, 0, sizeof(c));
	memset(h->visited, 0, (h->ram.size / 4096 / 64 + 1) * 8);
	if (!frame_ok(h, root_of(&h->s)))
		return fail(h, "raw: the top table 0x%016llx is not a live frame",
			    (unsigned long long)root_of(&h->s));
	if (!walk_raw(h, root_of(&h->s), levels_of(h), 0, &c))
		return false;
	if (c.leaves != h->m.leaves)
		return fail(h, "raw: %llu leaves in the tables, model %llu",
			    (unsigned long long)c.leaves, (unsigned long long)h->m.leaves);
	for (unsigned i = 0; i < 5; i++)
		if (c.tables[i] != h->m.tables[i])
			return fail(h, "raw: %llu level-%u tables, model %llu",
				    (unsigned long long)c.tables[i], i + 1,
				    (unsigned long long)h->m.tables[i]);
	return true;
}

/* Walks the raw entries for va (in a window) and compares the leaf, or where the walk
 * stops, with the model. *entry receives a pointer to the leaf entry when mapped. */
static bool raw_va(rh *h, uint64_t va, uint64_t **entry)
{
	uint64_t table = root_of(&h->s);
	*entry = NULL;
	for (unsigned level = levels_of(h); level >= 1; level--) {
		uint64_t *t = raw_table(h, table), e = t[(va >> (3 + 9 * level)) & 511];
		uint64_t start = va & ~((1ull << (3 + 9 * level)) - 1);
		if (!(e & E_P)) {
			rm_leaf l;
			if (rm_lookup(&h->m, va, &l) || rm_stop_level(&h->m, va) != level)
				return fail(h, "raw: walk of 0x%016llx stops at level %u, model %s",
					    (unsigned long long)va, level,
					    rm_lookup(&h->m, va, &l) ? "maps it" : "stops elsewhere");
			return true;
		}
		if (is_leaf_entry(e, level)) {
			*entry = &t[(va >> (3 + 9 * level)) & 511];
			return check_leaf_entry(h, start, e, level);
		}
		if (!check_table_entry(h, va, e, level))
			return false;
		table = e & E_ADDR;
	}
	return fail(h, "raw: walk of 0x%016llx ran past level 1", (unsigned long long)va);
}

/* ---- translation */

bool rh_check_translate(rh *h, uint64_t va)
{
	pg_translation t;
	memset(&t, 0, sizeof(t));
	pg_err got = pg_translate(&h->s, pg_va(va), &t);
	/* pg_translate_fast must say the same (and clear its answer on an error) */
	pg_mapping m = { pg_pa(~0ull), (pg_size)3, ~0u };
	pg_err fast = pg_translate_fast(&h->s, pg_va(va), &m);
	if (fast != got || (got == PG_OK ? m.phys.pa != t.phys.pa || m.size != t.size ||
						 m.flags != t.flags
					   : m.phys.pa || m.size || m.flags))
		return fail(h, "translate_fast 0x%016llx: got '%s' phys=0x%llx size=%u flags=0x%x, "
			    "translate '%s' phys=0x%llx size=%u flags=0x%x", (unsigned long long)va,
			    pg_strerror(fast), (unsigned long long)m.phys.pa, m.size, m.flags,
			    pg_strerror(got), (unsigned long long)t.phys.pa, t.size, t.flags);
	if (!rm_canonical(&h->m, va)) {
		if (got != PG_ERR_NOT_CANONICAL)
			return fail(h, "translate 0x%016llx (not canonical): got '%s'",
				    (unsigned long long)va, pg_strerror(got));
		return true;
	}
	if (!rm_in_window(&h->m, va))
		return true;
	rm_leaf l;
	unsigned levels, top = levels_of(h);
	if (rm_lookup(&h->m, va, &l)) {
		uint64_t want = l.phys + (va - l.start);
		levels = top - (unsigned)l.size;
		if (got != PG_OK || t.phys.pa != want || t.size != l.size || t.flags != l.flags ||
		    t.levels != levels)
			return fail(h, "translate 0x%016llx: got '%s' phys=0x%llx size=%u flags=0x%x "
				    "levels=%u, model phys=0x%llx size=%u flags=0x%x levels=%u",
				    (unsigned long long)va, pg_strerror(got),
				    (unsigned long long)t.phys.pa, t.size, t.flags, t.levels,
				    (unsigned long long)want, l.size, l.flags, levels);
		uint64_t e = t.walk[levels - 1].entry;
		if (e != expected_leaf(h, &l))
			return fail(h, "translate 0x%016llx: walk's leaf entry 0x%016llx, want 0x%016llx",
				    (unsigned long long)va, (unsigned long long)e,
				    (unsigned long long)expected_leaf(h, &l));
	} else {
		unsigned stop = rm_stop_level(&h->m, va);
		levels = top + 1 - stop;
		if (got != PG_ERR_NOT_MAPPED || t.stop_level != stop || t.levels != levels ||
		    t.walk[levels - 1].entry != 0)
			return fail(h, "translate 0x%016llx: got '%s' stop_level=%u levels=%u, model "
				    "not mapped at level %u", (unsigned long long)va,
				    pg_strerror(got), t.stop_level, t.levels, stop);
	}
	for (unsigned i = 0; i < levels; i++)
		if (t.walk[i].index != ((va >> (12 + 9 * (top - 1 - i))) & 511))
			return fail(h, "translate 0x%016llx: walk[%u].index=%u",
				    (unsigned long long)va, i, t.walk[i].index);
	uint64_t *entry;
	return raw_va(h, va, &entry);
}

/* ---- walks */

typedef struct {
	pg_range *v;
	size_t n, cap;
} range_vec;

static bool collect(void *ctx, const pg_range *r)
{
	range_vec *rv = ctx;
	if (rv->n == rv->cap) {
		rv->cap = rv->cap ? 2 * rv->cap : 1024;
		rv->v = realloc(rv->v, rv->cap * sizeof(*rv->v));
		if (!rv->v)
			abort();
	}
	rv->v[rv->n++] = *r;
	return true;
}

static bool same_range(const pg_range *a, const pg_range *b)
{
	return a->virt.va == b->virt.va && a->phys.pa == b->phys.pa && a->length == b->length &&
	       a->size == b->size && a->flags == b->flags;
}

/* pg_walk of [va, va+len) (len 0: everything) against the model's runs. */
static bool compare_walk(rh *h, uint64_t va, uint64_t len)
{
	range_vec real = { 0 }, want = { 0 };
	pg_err e = pg_walk(&h->s, pg_va(va), len, collect, &real);
	rm_ranges(&h->m, va, len, collect, &want);
	bool ok = true;
	if (e != PG_OK) {
		ok = fail(h, "pg_walk(0x%016llx, 0x%llx): '%s'", (unsigned long long)va,
			  (unsigned long long)len, pg_strerror(e));
		goto out;
	}
	for (size_t i = 0; i < real.n || i < want.n; i++) {
		if (i < real.n && i < want.n && same_range(&real.v[i], &want.v[i]))
			continue;
		const pg_range *r = i < real.n ? &real.v[i] : NULL, *w = i < want.n ? &want.v[i] : NULL;
		ok = fail(h, "pg_walk(0x%016llx, 0x%llx) run %zu: got %s virt=0x%016llx phys=0x%llx "
			  "len=0x%llx size=%u flags=0x%x; model %s virt=0x%016llx phys=0x%llx "
			  "len=0x%llx size=%u flags=0x%x", (unsigned long long)va,
			  (unsigned long long)len, i, r ? "" : "(none)",
			  r ? (unsigned long long)r->virt.va : 0ull,
			  r ? (unsigned long long)r->phys.pa : 0ull,
			  r ? (unsigned long long)r->length : 0ull, r ? r->size : 0u, r ? r->flags : 0u,
			  w ? "" : "(none)", w ? (unsigned long long)w->virt.va : 0ull,
			  w ? (unsigned long long)w->phys.pa : 0ull,
			  w ? (unsigned long long)w->length : 0ull, w ? w->size : 0u, w ? w->flags : 0u);
		break;
	}
out:
	free(real.v);
	free(want.v);
	return ok;
}

static uint64_t outstanding_want(const rh *h)
{
	return rm_table_total(&h->m) + h->m.abandoned + h->lost;
}

bool rh_check_all(rh *h)
{
	uint64_t counts[5];
	if (pg_pat_value() != RH_PAT)
		return fail(h, "pg_pat_value 0x%016llx, paging.h says 0x%016llx",
			    (unsigned long long)pg_pat_value(), (unsigned long long)RH_PAT);
	pg_count_tables(&h->s, counts);
	for (unsigned i = 0; i < 5; i++)
		if (counts[i] != h->m.tables[i])
			return fail(h, "pg_count_tables level %u: got %llu, model %llu", i + 1,
				    (unsigned long long)counts[i],
				    (unsigned long long)h->m.tables[i]);
	if (sim_outstanding(&h->ram) != outstanding_want(h))
		return fail(h, "frames outstanding %llu, model %llu",
			    (unsigned long long)sim_outstanding(&h->ram),
			    (unsigned long long)outstanding_want(h));
	if (!rh_check_raw(h) || !compare_walk(h, 0, 0))
		return false;
	for (unsigned i = 0; i < h->nwin; i++)
		if (!compare_walk(h, h->bases[i], h->sizes[i]))
			return false;
	return true;
}

/* ---- flush calls */

/* What an operation changed, as the bounds of the ranges whose present leaves were
 * removed or rewritten (or whose tables were unlinked); inclusive. */
typedef struct {
	bool any;
	uint64_t lo, hi;
} change;

static void changed(change *c, uint64_t start, uint64_t len)
{
	uint64_t last = start + (len - 1);
	if (!c->any || start < c->lo)
		c->lo = start;
	if (!c->any || last > c->hi)
		c->hi = last;
	c->any = true;
}

/* Nothing changed: no flush. Else exactly one call (paging.h: once per operation) that
 * covers every change and stays inside [first, last], the operation's own range. */
static bool check_flush(rh *h, const rh_op *op, const change *c, uint64_t first, uint64_t last)
{
	char s[256];
	uint64_t fs = h->flush[0].start, fl = fs + (h->flush[0].len - 1);
	if (!c->any && h->nflush == 0)
		return true;
	/* Tolerated, and reported in issue 12: pg_protect flushes its range even when no
	 * leaf's flags changed. The call must still stay inside the range. */
	if (!c->any && op->kind == OP_PROTECT && h->nflush == 1 && h->flush[0].len &&
	    fl >= fs && fs >= first && fl <= last)
		return true;
	if (c->any && h->nflush == 1 && h->flush[0].len && fl >= fs && fs >= first &&
	    fl <= last && fs <= c->lo && fl >= c->hi)
		return true;
	rh_op_str(op, s, sizeof(s));
	if (!c->any)
		return fail(h, "%s: %u flush calls (first 0x%016llx+0x%llx) though no present "
			    "leaf changed", s, h->nflush, (unsigned long long)fs,
			    (unsigned long long)h->flush[0].len);
	return fail(h, "%s: %u flush calls (first 0x%016llx+0x%llx), want one covering "
		    "[0x%016llx, 0x%016llx] inside [0x%016llx, 0x%016llx]", s, h->nflush,
		    h->nflush ? (unsigned long long)fs : 0ull,
		    h->nflush ? (unsigned long long)h->flush[0].len : 0ull,
		    (unsigned long long)c->lo, (unsigned long long)c->hi,
		    (unsigned long long)first, (unsigned long long)last);
}

/* ---- one step */

/* map_range on the model chunk by chunk, noting the chunks that replaced tables. */
static void model_map_range(rh *h, const rh_op *op, change *c)
{
	for (uint64_t done = 0; done < op->len;) {
		pg_size s = rm_chunk_size(op->va + done, op->pa + done, op->len - done,
					  (pg_size)op->size);
		if (rm_do_map(&h->m, op->va + done, op->pa + done, s, op->flags))
			changed(c, op->va + done, pg_size_bytes(s));
		done += pg_size_bytes(s);
	}
}

/* Applies a successful op to the model and checks its outputs and flush calls. */
static bool apply(rh *h, const rh_op *op, pg_paddr frame, pg_size size, uint64_t pages)
{
	char s[256];
	rm_model *m = &h->m;
	change c = { false, 0, 0 };
	uint64_t n, last = op->va + (op->len - 1);
	rm_leaf l, *v;
	rh_op_str(op, s, sizeof(s));
	switch (op->kind) {
	case OP_MAP:
		n = pg_size_bytes((pg_size)op->size);
		if (rm_do_map(m, op->va, op->pa, (pg_size)op->size, op->flags))
			changed(&c, op->va, n);
		return check_flush(h, op, &c, op->va, op->va + (n - 1));
	case OP_MAP_RANGE:
		model_map_range(h, op, &c);
		return check_flush(h, op, &c, op->va, last);
	case OP_UNMAP:
		l = rm_do_unmap(m, op->va);
		if (frame.pa != l.phys || size != l.size)
			return fail(h, "%s: returned frame 0x%llx size %u, model 0x%llx size %u", s,
				    (unsigned long long)frame.pa, size,
				    (unsigned long long)l.phys, l.size);
		changed(&c, l.start, pg_size_bytes(l.size));
		return check_flush(h, op, &c, l.start, c.hi);
	case OP_UNMAP_RANGE:
		v = rm_leaves(m, op->va, op->len, &n);
		for (uint64_t i = 0; i < n; i++)
			changed(&c, v[i].start, pg_size_bytes(v[i].size));
		free(v);
		if (pages != rm_do_unmap_range(m, op->va, op->len))
			return fail(h, "%s: %llu pages removed, model %llu", s,
				    (unsigned long long)pages, (unsigned long long)n);
		return check_flush(h, op, &c, op->va, last);
	case OP_PROTECT:
		v = rm_leaves(m, op->va, op->len, &n);
		for (uint64_t i = 0; i < n; i++)
			if (v[i].flags != rm_effective(m, op->flags))
				changed(&c, v[i].start, pg_size_bytes(v[i].size));
		free(v);
		rm_do_protect(m, op->va, op->len, op->flags);
		return check_flush(h, op, &c, op->va, last);
	case OP_SPLIT:
		if (!rm_lookup(m, op->va, &l))
			abort();
		rm_do_split(m, op->va);
		changed(&c, l.start, pg_size_bytes(l.size));
		return check_flush(h, op, &c, l.start, c.hi);
	default:
		return true;
	}
}

/* The CPU sets accessed and dirty bits (op->flags picks which) on the leaf at va. */
static bool touch(rh *h, const rh_op *op)
{
	uint64_t *entry;
	rm_leaf l;
	if (!rm_in_window(&h->m, op->va) || !rm_canonical(&h->m, op->va))
		return true;
	if (!raw_va(h, op->va, &entry))
		return false;
	if (!entry || !rm_lookup(&h->m, op->va, &l))
		return true;
	unsigned extra = l.extra | (op->flags & RH_EXTRA_BITS);
	*entry |= extra_bits(extra);
	rm_set_extra(&h->m, &l, extra);
	return true;
}

bool rh_step(rh *h, const rh_op *op)
{
	rm_model *m = &h->m;
	rm_mask want = RM_BIT(PG_OK);
	pg_err got = PG_OK;
	pg_paddr frame = pg_pa(~0ull);
	pg_size size = PG_SIZE_COUNT;
	uint64_t pages = ~0ull;
	pg_space *sp = op->handle ? &h->s2 : &h->s;
	char s[256], ms[256];

	uint64_t allocs = h->ram.allocs;
	h->nflush = 0;
	h->ram.fail_after = op->avail;
	switch (op->kind) {
	case OP_MAP:
		want = rm_expect_map(m, op->va, op->pa, op->size, op->flags, op->avail);
		got = pg_map(sp, pg_va(op->va), pg_pa(op->pa), (pg_size)op->size, op->flags,
			     &frame);
		break;
	case OP_MAP_RANGE:
		want = rm_expect_map_range(m, op->va, op->pa, op->len, op->flags, op->size,
					   op->avail);
		got = pg_map_range(sp, pg_va(op->va), pg_pa(op->pa), op->len, op->flags,
				   (pg_size)op->size);
		break;
	case OP_UNMAP:
		want = rm_expect_unmap(m, op->va);
		got = pg_unmap(sp, pg_va(op->va), &frame, &size);
		break;
	case OP_UNMAP_RANGE:
		want = rm_expect_unmap_range(m, op->va, op->len);
		got = pg_unmap_range(sp, pg_va(op->va), op->len, &pages);
		break;
	case OP_PROTECT:
		want = rm_expect_protect(m, op->va, op->len, op->flags);
		got = pg_protect(sp, pg_va(op->va), op->len, op->flags);
		break;
	case OP_SPLIT:
		want = rm_expect_split(m, op->va, op->avail);
		got = pg_split(sp, pg_va(op->va));
		break;
	case OP_TRANSLATE:
		h->ram.fail_after = -1;
		return rh_check_translate(h, op->va);
	case OP_WALK:
		h->ram.fail_after = -1;
		return compare_walk(h, op->va, op->len);
	case OP_TOUCH:
		h->ram.fail_after = -1;
		return touch(h, op);
	default:
		abort();
	}
	h->ram.fail_after = -1;
	if (!(want & RM_BIT(got))) {
		rh_op_str(op, s, sizeof(s));
		mask_str(want, ms, sizeof(ms));
		return fail(h, "%s: got '%s', the contract says %s", s, pg_strerror(got), ms);
	}
	if (got == PG_OK) {
		h->stat_ok++;
		if (!apply(h, op, frame, size, pages))
			return false;
	} else {
		change none = { false, 0, 0 };
		h->stat_err++;
		/* Frames a source without free handed out before it ran dry cannot go back. */
		if (got == PG_ERR_NO_FRAMES && !m->reclaim)
			h->lost += h->ram.allocs - allocs;
		if (!check_flush(h, op, &none, 0, 0))
			return false;
		rm_leaf l;
		if (op->kind == OP_MAP && got == PG_ERR_ALREADY_MAPPED &&
		    rm_lookup(m, op->va, &l) && frame.pa != l.phys + (op->va - l.start)) {
			rh_op_str(op, s, sizeof(s));
			return fail(h, "%s: already mapped, existing=0x%llx, model 0x%llx", s,
				    (unsigned long long)frame.pa,
				    (unsigned long long)(l.phys + (op->va - l.start)));
		}
	}
	if (sim_outstanding(&h->ram) != outstanding_want(h)) {
		rh_op_str(op, s, sizeof(s));
		return fail(h, "%s -> '%s': %llu frames outstanding, model %llu", s,
			    pg_strerror(got), (unsigned long long)sim_outstanding(&h->ram),
			    (unsigned long long)outstanding_want(h));
	}
	/* Spot checks where the operation acted (or was refused). */
	uint64_t span = op->len ? op->len : 4096;
	uint64_t probes[3] = { op->va, op->va + (span - 1), op->va + (span / 2) };
	for (unsigned i = 0; i < 3; i++)
		if (!rh_check_translate(h, probes[i]))
			return false;
	return true;
}
