/* harness.c - lock-step execution of paging/ and the reference model. Every step checks
 * the returned error against the model's prediction, the outputs, the flush calls and
 * the frames outstanding; rh_check_all compares whole walks. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static const char *const kind_names[OP__COUNT] = {
	"map", "map_range", "unmap", "unmap_range", "protect", "split", "translate", "walk",
};

void rh_op_str(const rh_op *op, char *buf, size_t n)
{
	snprintf(buf, n, "%s va=0x%016llx pa=0x%016llx len=0x%llx flags=0x%x size=%u avail=%ld",
		 (unsigned)op->kind < OP__COUNT ? kind_names[op->kind] : "?",
		 (unsigned long long)op->va, (unsigned long long)op->pa,
		 (unsigned long long)op->len, op->flags, op->size, op->avail);
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
	     uint64_t ram_bytes)
{
	memset(h, 0, sizeof(*h));
	sim_init(&h->ram, ram_bytes);
	memcpy(h->bases, bases, nwin * sizeof(*bases));
	memcpy(h->sizes, sizes, nwin * sizeof(*sizes));
	h->nwin = nwin;
}

bool rh_reset(rh *h, bool has_nx, bool has_1g, unsigned phys_bits)
{
	bool ok = true;
	if (h->s.root.pa) {
		pg_space_destroy(&h->s);
		if (sim_outstanding(&h->ram) != 0)
			ok = fail(h, "pg_space_destroy left %llu frames outstanding",
				  (unsigned long long)sim_outstanding(&h->ram));
	}
	if (h->m.nwin) {
		rm_clear(&h->m);
		h->m.has_nx = has_nx;
		h->m.has_1g = has_1g;
		h->m.phys_bits = phys_bits;
	} else {
		rm_init(&h->m, h->bases, h->sizes, h->nwin, has_nx, has_1g, phys_bits);
	}
	h->ram.fail_after = -1;
	pg_err e = pg_space_init(&h->s, sim_frames(&h->ram), sim_offset(&h->ram), has_nx, has_1g,
				 phys_bits, 4);
	if (e != PG_OK)
		return fail(h, "pg_space_init: %s", pg_strerror(e));
	h->s.flush = record_flush;
	h->s.flush_ctx = h;
	return ok;
}

void rh_fini(rh *h)
{
	if (h->s.root.pa)
		pg_space_destroy(&h->s);
	rm_free(&h->m);
	sim_destroy(&h->ram);
}

/* ---- translation */

bool rh_check_translate(rh *h, uint64_t va)
{
	pg_translation t;
	memset(&t, 0, sizeof(t));
	pg_err got = pg_translate(&h->s, pg_va(va), &t);
	if (!pg_is_canonical(va)) {
		if (got != PG_ERR_NOT_CANONICAL)
			return fail(h, "translate 0x%016llx (not canonical): got '%s'",
				    (unsigned long long)va, pg_strerror(got));
		return true;
	}
	if (!rm_in_window(&h->m, va))
		return true;
	rm_leaf l;
	unsigned levels;
	if (rm_lookup(&h->m, va, &l)) {
		uint64_t want = l.phys + (va - l.start);
		levels = 4 - (unsigned)l.size;
		if (got != PG_OK || t.phys.pa != want || t.size != l.size || t.flags != l.flags ||
		    t.levels != levels)
			return fail(h, "translate 0x%016llx: got '%s' phys=0x%llx size=%u flags=0x%x "
				    "levels=%u, model phys=0x%llx size=%u flags=0x%x levels=%u",
				    (unsigned long long)va, pg_strerror(got),
				    (unsigned long long)t.phys.pa, t.size, t.flags, t.levels,
				    (unsigned long long)want, l.size, l.flags, levels);
		uint64_t e = t.walk[levels - 1].entry;
		uint64_t addr = e & 0x000ffffffffff000ull & ~(pg_size_bytes(l.size) - 1);
		if (!(e & 1) || addr != l.phys)
			return fail(h, "translate 0x%016llx: leaf entry 0x%016llx does not hold 0x%llx",
				    (unsigned long long)va, (unsigned long long)e,
				    (unsigned long long)l.phys);
	} else {
		unsigned stop = rm_stop_level(&h->m, va);
		levels = 5 - stop;
		if (got != PG_ERR_NOT_MAPPED || t.stop_level != stop || t.levels != levels ||
		    (t.walk[levels - 1].entry & 1))
			return fail(h, "translate 0x%016llx: got '%s' stop_level=%u levels=%u, model "
				    "not mapped at level %u", (unsigned long long)va,
				    pg_strerror(got), t.stop_level, t.levels, stop);
	}
	for (unsigned i = 0; i < levels; i++)
		if (t.walk[i].index != ((va >> (39 - 9 * i)) & 511))
			return fail(h, "translate 0x%016llx: walk[%u].index=%u",
				    (unsigned long long)va, i, t.walk[i].index);
	return true;
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

bool rh_check_all(rh *h)
{
	uint64_t counts[5];
	pg_count_tables(&h->s, counts);
	for (unsigned i = 0; i < 4; i++)
		if (counts[i] != h->m.tables[i])
			return fail(h, "pg_count_tables level %u: got %llu, model %llu", i + 1,
				    (unsigned long long)counts[i],
				    (unsigned long long)h->m.tables[i]);
	if (sim_outstanding(&h->ram) != rm_table_total(&h->m))
		return fail(h, "frames outstanding %llu, model tables %llu",
			    (unsigned long long)sim_outstanding(&h->ram),
			    (unsigned long long)rm_table_total(&h->m));
	if (!compare_walk(h, 0, 0))
		return false;
	for (unsigned i = 0; i < h->nwin; i++)
		if (!compare_walk(h, h->bases[i], h->sizes[i]))
			return false;
	return true;
}

/* ---- one step */

/* The flush call lies inside [va, va+len) and (when lo != hi) covers [lo, hi). */
static bool flush_ok(const rh *h, uint64_t va, uint64_t len, uint64_t lo, uint64_t hi)
{
	uint64_t rs = h->flush[0].start - va, re = rs + h->flush[0].len;
	if (rs > len || h->flush[0].len > len - rs)
		return false;
	return lo == hi || (rs <= lo - va && hi - va <= re);
}

static bool check_flush(rh *h, const rh_op *op, unsigned min, unsigned max, uint64_t lo,
			uint64_t hi)
{
	char s[256];
	if (h->nflush >= min && h->nflush <= max &&
	    (h->nflush == 0 || flush_ok(h, op->va, op->len, lo, hi)))
		return true;
	rh_op_str(op, s, sizeof(s));
	return fail(h, "%s: %u flush calls (first 0x%016llx+0x%llx), want %u..%u covering "
		    "[0x%016llx, 0x%016llx) inside the range", s, h->nflush,
		    h->nflush ? (unsigned long long)h->flush[0].start : 0ull,
		    h->nflush ? (unsigned long long)h->flush[0].len : 0ull, min, max,
		    (unsigned long long)lo, (unsigned long long)hi);
}

/* Applies a successful op to the model and checks its outputs. */
static bool apply(rh *h, const rh_op *op, pg_paddr frame, pg_size size, uint64_t pages)
{
	char s[256];
	rm_model *m = &h->m;
	uint64_t lo = 0, hi = 0, n;
	rh_op o = *op;
	rm_leaf l;
	rh_op_str(op, s, sizeof(s));
	switch (op->kind) {
	case OP_MAP:
		rm_do_map(m, op->va, op->pa, (pg_size)op->size, op->flags);
		return check_flush(h, op, 0, 0, 0, 0);
	case OP_MAP_RANGE:
		rm_do_map_range(m, op->va, op->pa, op->len, op->flags, (pg_size)op->size);
		return check_flush(h, op, 0, 0, 0, 0);
	case OP_UNMAP:
		l = rm_do_unmap(m, op->va);
		if (frame.pa != l.phys || size != l.size)
			return fail(h, "%s: returned frame 0x%llx size %u, model 0x%llx size %u", s,
				    (unsigned long long)frame.pa, size,
				    (unsigned long long)l.phys, l.size);
		o.len = pg_size_bytes(l.size);
		if (h->nflush != 1 || h->flush[0].start != op->va || h->flush[0].len != o.len)
			return check_flush(h, &o, 1, 0, 0, 0); /* reports the mismatch */
		return true;
	case OP_UNMAP_RANGE:
		n = rm_do_unmap_range(m, op->va, op->len, &lo, &hi);
		if (pages != n)
			return fail(h, "%s: %llu pages removed, model %llu", s,
				    (unsigned long long)pages, (unsigned long long)n);
		return n ? check_flush(h, op, 1, 1, lo, hi) : check_flush(h, op, 0, 0, 0, 0);
	case OP_PROTECT:
		n = rm_do_protect(m, op->va, op->len, op->flags, &lo, &hi);
		return check_flush(h, op, n ? 1 : 0, 1, lo, hi);
	case OP_SPLIT:
		if (!rm_lookup(m, op->va, &l))
			abort();
		rm_do_split(m, op->va);
		o.len = pg_size_bytes(l.size);
		return check_flush(h, &o, 1, 1, op->va, op->va + o.len);
	default:
		return true;
	}
}

bool rh_step(rh *h, const rh_op *op)
{
	rm_model *m = &h->m;
	rm_mask want = RM_BIT(PG_OK);
	pg_err got = PG_OK;
	pg_paddr frame = pg_pa(~0ull);
	pg_size size = PG_SIZE_COUNT;
	uint64_t pages = ~0ull;
	char s[256], ms[256];

	h->nflush = 0;
	h->ram.fail_after = op->avail;
	switch (op->kind) {
	case OP_MAP:
		want = rm_expect_map(m, op->va, op->pa, op->size, op->flags, op->avail);
		got = pg_map(&h->s, pg_va(op->va), pg_pa(op->pa), (pg_size)op->size, op->flags,
			     &frame);
		break;
	case OP_MAP_RANGE:
		want = rm_expect_map_range(m, op->va, op->pa, op->len, op->flags, op->size,
					   op->avail);
		got = pg_map_range(&h->s, pg_va(op->va), pg_pa(op->pa), op->len, op->flags,
				   (pg_size)op->size);
		break;
	case OP_UNMAP:
		want = rm_expect_unmap(m, op->va);
		got = pg_unmap(&h->s, pg_va(op->va), &frame, &size);
		break;
	case OP_UNMAP_RANGE:
		want = rm_expect_unmap_range(m, op->va, op->len);
		got = pg_unmap_range(&h->s, pg_va(op->va), op->len, &pages);
		break;
	case OP_PROTECT:
		want = rm_expect_protect(m, op->va, op->len, op->flags);
		got = pg_protect(&h->s, pg_va(op->va), op->len, op->flags);
		break;
	case OP_SPLIT:
		want = rm_expect_split(m, op->va, op->avail);
		got = pg_split(&h->s, pg_va(op->va));
		break;
	case OP_TRANSLATE:
		h->ram.fail_after = -1;
		return rh_check_translate(h, op->va);
	case OP_WALK:
		h->ram.fail_after = -1;
		return compare_walk(h, op->va, op->len);
	default:
		abort();
	}
	h->ram.fail_after = -1;
	if (!(want & RM_BIT(got))) {
		rh_op_str(op, s, sizeof(s));
		mask_str(want, ms, sizeof(ms));
		return fail(h, "%s: got '%s', model allows %s", s, pg_strerror(got), ms);
	}
	if (got == PG_OK) {
		h->stat_ok++;
		if (!apply(h, op, frame, size, pages))
			return false;
	} else {
		h->stat_err++;
		if (!check_flush(h, op, 0, 0, 0, 0))
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
	if (sim_outstanding(&h->ram) != rm_table_total(m)) {
		rh_op_str(op, s, sizeof(s));
		return fail(h, "%s -> '%s': %llu frames outstanding, model has %llu tables", s,
			    pg_strerror(got), (unsigned long long)sim_outstanding(&h->ram),
			    (unsigned long long)rm_table_total(m));
	}
	/* Spot checks where the operation acted (or was refused). */
	uint64_t span = op->len ? op->len : 4096;
	uint64_t probes[3] = { op->va, op->va + (span - 1), op->va + (span / 2) };
	for (unsigned i = 0; i < 3; i++)
		if (!rh_check_translate(h, probes[i]))
			return false;
	return true;
}
