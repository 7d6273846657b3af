/* region.c - the sorted, non-overlapping, merged list of physical memory regions.
 * Every change is planned first and committed only when it fits the caller's storage,
 * so a failing call leaves the list exactly as it was. */
#include "region.h"

static const char *const kind_names[MEM_KIND_COUNT] = {
	[MEM_USABLE] = "usable",
	[MEM_BOOT_RECLAIMABLE] = "boot-reclaimable",
	[MEM_ACPI_RECLAIMABLE] = "acpi-reclaimable",
	[MEM_KERNEL] = "kernel",
	[MEM_KERNEL_STACK] = "kernel-stack",
	[MEM_AP_TRAMPOLINE] = "ap-trampoline",
	[MEM_PAGE_TABLES] = "page-tables",
	[MEM_BOOT_INFO] = "boot-info",
	[MEM_ACPI_NVS] = "acpi-nvs",
	[MEM_FIRMWARE_RUNTIME] = "firmware-runtime",
	[MEM_MMIO] = "mmio",
	[MEM_RESERVED] = "reserved",
	[MEM_BAD] = "bad",
};

const char *mem_kind_name(mem_kind k)
{
	if ((unsigned)k >= MEM_KIND_COUNT)
		return "unknown";
	return kind_names[k];
}

/* One past the last byte of region i. Regions in a list never wrap (set refuses them). */
static uint64_t rend(const mem_list *l, size_t i)
{
	return l->r[i].start + l->r[i].length;
}

/* Index of the first region that ends after addr (count if none); ends rise with starts. */
static size_t first_after(const mem_list *l, uint64_t addr)
{
	size_t lo = 0, hi = l->count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (rend(l, mid) > addr)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* Copies n regions from index from to index to; the ranges may overlap. */
static void move_regions(mem_region *r, size_t to, size_t from, size_t n)
{
	if (to < from) {
		for (size_t k = 0; k < n; k++)
			r[to + k] = r[from + k];
	} else if (to > from) {
		for (size_t k = n; k > 0; k--)
			r[to + k - 1] = r[from + k - 1];
	}
}

static mem_region region(uint64_t start, uint64_t end, uint32_t kind)
{
	mem_region m = { start, end - start, kind, 0 };
	return m;
}

/* What mem_list_set will do: replace regions [lo, hi) by npieces pieces. */
struct plan {
	size_t lo, hi;
	size_t npieces;
	mem_region pieces[3];
};

/* Plans setting [start, end) to kind: trims the regions it cuts, keeps their outer
 * parts, and absorbs neighbours of the same kind so the list stays merged. */
static void plan_set(const mem_list *l, uint64_t start, uint64_t end, uint32_t kind,
		     struct plan *p)
{
	size_t i = first_after(l, start), j = i;
	while (j < l->count && l->r[j].start < end)
		j++;
	uint64_t ns = start, ne = end;
	bool left = false, right = false;
	mem_region lp = { 0, 0, 0, 0 }, rp = { 0, 0, 0, 0 };
	if (i < j && l->r[i].start < start) {
		lp = region(l->r[i].start, start, l->r[i].kind);
		left = lp.kind != kind;
		if (!left)
			ns = lp.start;
	}
	if (i < j && rend(l, j - 1) > end) {
		rp = region(end, rend(l, j - 1), l->r[j - 1].kind);
		right = rp.kind != kind;
		if (!right)
			ne = end + rp.length;
	}
	if (!left && i > 0 && rend(l, i - 1) == ns && l->r[i - 1].kind == kind)
		ns = l->r[--i].start;
	if (!right && j < l->count && l->r[j].start == ne && l->r[j].kind == kind)
		ne = rend(l, j++);
	p->lo = i;
	p->hi = j;
	p->npieces = 0;
	if (left)
		p->pieces[p->npieces++] = lp;
	p->pieces[p->npieces++] = region(ns, ne, kind);
	if (right)
		p->pieces[p->npieces++] = rp;
}

/* How the region count changes when the plan is committed. */
static long plan_delta(const struct plan *p)
{
	return (long)p->npieces - (long)(p->hi - p->lo);
}

static void commit(mem_list *l, const struct plan *p)
{
	size_t tail = l->count - p->hi;
	move_regions(l->r, p->lo + p->npieces, p->hi, tail);
	for (size_t k = 0; k < p->npieces; k++)
		l->r[p->lo + k] = p->pieces[k];
	l->count = p->lo + p->npieces + tail;
}

/* PG_OK when [start, start+length) is a non-empty range that does not wrap and kind is valid. */
static pg_err check_range(uint64_t start, uint64_t length, uint32_t kind)
{
	if (length == 0 || length > UINT64_MAX - start || kind >= MEM_KIND_COUNT)
		return PG_ERR_BAD_ARG;
	return PG_OK;
}

pg_err mem_list_set(mem_list *l, uint64_t start, uint64_t length, mem_kind kind)
{
	if (!l)
		return PG_ERR_BAD_ARG;
	pg_err e = check_range(start, length, kind);
	if (e != PG_OK)
		return e;
	struct plan p;
	plan_set(l, start, start + length, kind, &p);
	if ((long)l->count + plan_delta(&p) > (long)l->capacity)
		return PG_ERR_NO_FRAMES;
	commit(l, &p);
	return PG_OK;
}

/* Finds the next run at or after pos, below end, made of gaps and regions less
 * restrictive than kind: the bytes mem_list_add has to claim. False when none is left. */
static bool next_run(const mem_list *l, uint64_t pos, uint64_t end, uint32_t kind,
		     uint64_t *a, uint64_t *b)
{
	size_t i = first_after(l, pos);
	while (pos < end && i < l->count && l->r[i].start <= pos && l->r[i].kind >= kind)
		pos = rend(l, i++);
	if (pos >= end)
		return false;
	*a = pos;
	while (pos < end) {
		if (i == l->count) {
			pos = end;
		} else if (l->r[i].start > pos) {
			pos = l->r[i].start < end ? l->r[i].start : end;
		} else if (l->r[i].kind >= kind) {
			break;
		} else {
			pos = rend(l, i) < end ? rend(l, i) : end;
			i++;
		}
	}
	*b = pos;
	return true;
}

/* Sets every run of [start, end) whose plan grows the list (grow) or does not (!grow).
 * Runs are separated by more restrictive regions, so setting one never changes another's
 * plan; that is what lets mem_list_add check the total first and shrink before growing. */
static long add_runs(mem_list *l, uint64_t start, uint64_t end, uint32_t kind, bool grow,
		     bool apply)
{
	long total = 0;
	uint64_t a, b, pos = start;
	while (next_run(l, pos, end, kind, &a, &b)) {
		struct plan p;
		plan_set(l, a, b, kind, &p);
		long d = plan_delta(&p);
		if ((d > 0) == grow) {
			total += d;
			if (apply)
				commit(l, &p);
		}
		pos = b;
	}
	return total;
}

pg_err mem_list_add(mem_list *l, uint64_t start, uint64_t length, mem_kind kind)
{
	if (!l)
		return PG_ERR_BAD_ARG;
	pg_err e = check_range(start, length, kind);
	if (e != PG_OK)
		return e;
	uint64_t end = start + length;
	long need = add_runs(l, start, end, kind, false, false) +
		    add_runs(l, start, end, kind, true, false);
	if ((long)l->count + need > (long)l->capacity)
		return PG_ERR_NO_FRAMES;
	add_runs(l, start, end, kind, false, true);
	add_runs(l, start, end, kind, true, true);
	return PG_OK;
}

/* ---- normalize: count the result first, then build it in place (see below) */

/* The smallest region edge (start or end) above x, or at or above it when first. */
static bool next_edge(const mem_list *l, uint64_t x, bool first, uint64_t *out)
{
	bool found = false;
	for (size_t i = 0; i < l->count; i++) {
		uint64_t e[2] = { l->r[i].start, rend(l, i) };
		for (unsigned k = 0; k < 2 && l->r[i].length; k++)
			if ((first ? e[k] >= x : e[k] > x) && (!found || e[k] < *out)) {
				*out = e[k];
				found = true;
			}
	}
	return found;
}

/* The most restrictive kind of the regions that cover byte x, -1 when none does. */
static int kind_over(const mem_list *l, uint64_t x)
{
	int k = -1;
	for (size_t i = 0; i < l->count; i++)
		if (l->r[i].start <= x && x < rend(l, i) && (int)l->r[i].kind > k)
			k = (int)l->r[i].kind;
	return k;
}

/* How many regions the normalized form of a hand-filled list has, found by sweeping its
 * edges in order without changing it. Quadratic; memory maps are short. */
static size_t normalized_count(const mem_list *l)
{
	uint64_t x, y;
	size_t n = 0;
	int prev = -1;
	if (!next_edge(l, 0, true, &x))
		return 0;
	while (next_edge(l, x, false, &y)) {
		int k = kind_over(l, x); /* [x, y) has one kind: no edge inside */
		if (k >= 0 && k != prev)
			n++;
		prev = k;
		x = y;
	}
	return n;
}

/* Build order: more restrictive kinds first, then by start. */
static bool before(const mem_region *a, const mem_region *b)
{
	return a->kind > b->kind || (a->kind == b->kind && a->start < b->start);
}

/* Restores the max-heap property below node i of r[0..n). */
static void sift_down(mem_region *r, size_t i, size_t n)
{
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= n)
			return;
		if (c + 1 < n && before(&r[c], &r[c + 1]))
			c++;
		if (!before(&r[i], &r[c]))
			return;
		mem_region t = r[i];
		r[i] = r[c];
		r[c] = t;
		i = c;
	}
}

/* Heapsort: in place, no recursion, no libc. */
static void sort_regions(mem_region *r, size_t n)
{
	for (size_t i = n / 2; i > 0; i--)
		sift_down(r, i - 1, n);
	for (size_t end = n; end > 1; end--) {
		mem_region t = r[0];
		r[0] = r[end - 1];
		r[end - 1] = t;
		sift_down(r, 0, end - 1);
	}
}

/* Drops region i, shifting the rest down. */
static void drop(mem_list *l, size_t i)
{
	move_regions(l->r, i, i + 1, l->count - i - 1);
	l->count--;
}

/* Whether regions [0, i) of a more restrictive kind than region i cover all of it. */
static bool covered_above(const mem_list *l, size_t i)
{
	uint64_t pos = l->r[i].start, end = rend(l, i);
	while (pos < end) {
		uint64_t reach = pos;
		for (size_t j = 0; j < i; j++)
			if (l->r[j].kind > l->r[i].kind && l->r[j].start <= pos && rend(l, j) > reach)
				reach = rend(l, j);
		if (reach == pos)
			return false;
		pos = reach;
	}
	return true;
}

/* Sorted in build order, merges same-kind regions that overlap or touch and drops the
 * regions that more restrictive ones hide: afterwards every region adds at least one
 * region of its own to the result, and none joins another's. */
static void prune(mem_list *l)
{
	sort_regions(l->r, l->count);
	for (size_t i = 0; i + 1 < l->count;) {
		mem_region *a = &l->r[i], *b = &l->r[i + 1];
		if (a->kind == b->kind && b->start <= a->start + a->length) {
			uint64_t end = rend(l, i + 1) > rend(l, i) ? rend(l, i + 1) : rend(l, i);
			a->length = end - a->start;
			drop(l, i + 1);
		} else {
			i++;
		}
	}
	for (size_t i = 0; i < l->count;) {
		if (covered_above(l, i))
			drop(l, i);
		else
			i++;
	}
}

/*
 * mem_list_normalize first counts the normalized result without touching the list, so
 * it fails (PG_ERR_NO_FRAMES) exactly when that result does not fit, and then changes
 * nothing. Then it builds the result in the same storage: the pruned input moves to
 * the end, and each region, taken from there in build order, is added with
 * mem_list_add to the list growing at the front. After pruning every region adds at
 * least one region and the count never falls, so the front list plus the regions still
 * waiting never exceeds the result's count: the two never meet.
 */
pg_err mem_list_normalize(mem_list *l)
{
	if (!l)
		return PG_ERR_BAD_ARG;
	for (size_t i = 0; i < l->count; i++)
		if (l->r[i].length && check_range(l->r[i].start, l->r[i].length,
						  l->r[i].kind) != PG_OK)
			return PG_ERR_BAD_ARG;
	if (normalized_count(l) > l->capacity)
		return PG_ERR_NO_FRAMES;
	/* Empty entries need no pass of their own: mem_list_add adds nothing for them, and
	 * it writes every region it adds afresh (reserved 0). */
	prune(l);
	size_t cap = l->capacity, waiting = l->count;
	move_regions(l->r, cap - waiting, 0, waiting);
	l->count = 0;
	while (waiting) {
		mem_region m = l->r[cap - waiting--];
		l->capacity = cap - waiting;
		pg_err e = mem_list_add(l, m.start, m.length, (mem_kind)m.kind);
		if (e != PG_OK) { /* cannot happen, see above; say so rather than lose regions */
			l->capacity = cap;
			return e;
		}
	}
	l->capacity = cap;
	return PG_OK;
}

uint64_t mem_list_total(const mem_list *l, mem_kind kind)
{
	uint64_t total = 0;
	for (size_t i = 0; i < l->count; i++)
		if (l->r[i].kind == (uint32_t)kind)
			total += l->r[i].length;
	return total;
}

int mem_list_kind_at(const mem_list *l, uint64_t addr)
{
	size_t i = first_after(l, addr);
	if (i < l->count && l->r[i].start <= addr)
		return (int)l->r[i].kind;
	return -1;
}

bool mem_list_intersects(const mem_list *l, uint64_t start, uint64_t length)
{
	if (length == 0)
		return false;
	size_t i = first_after(l, start);
	return i < l->count && (l->r[i].start <= start || l->r[i].start - start < length);
}
