/* fuzz_memmap.c - libFuzzer target for memmap_convert (efi/pure/memmap.c).
 *
 * Input: byte 0 chooses the geometry and the mode, byte 1 a parameter, the rest is the
 * raw map (copied to a buffer of exactly that size so any over-read is an ASan report).
 *   byte 0 bits 0-3  descriptor size 40 + 8 * (bits % 12): 40 .. 128, multiples of 8
 *          bit 4     use byte 1 itself as the descriptor size (bad geometry too)
 *          bit 5     pass the map length as is, even when not a multiple of desc_size
 *          bit 6     small list: capacity = byte 1 & 31, so running out can happen
 *          bit 7     shaped: rewrite each entry to a small, page-aligned, known-type
 *                    entry, which makes overlaps and merges frequent
 * The result is checked against a reference computed here from the descriptors alone:
 * the error code, the stats, and on success the exact kind of every byte (the most
 * restrictive kind among the entries covering it), sortedness, merging and alignment. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memmap.h"

#define PAGE 4096ull

#define REQUIRE(cond)                                                              \
	do {                                                                       \
		if (!(cond)) {                                                     \
			fprintf(stderr, "fuzz_memmap: %s:%d: invariant broken: %s\n", \
				__FILE__, __LINE__, #cond);                       \
			abort();                                                   \
		}                                                                  \
	} while (0)

/* One descriptor as the reference sees it: read straight from the bytes. */
typedef struct {
	uint32_t type;
	uint64_t start, pages;
} ref_desc;

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof v); /* x86_64 host: little endian like the firmware */
	return v;
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof v);
	return v;
}

/* True when a non-empty entry cannot be a region: misaligned or reaching 2^64. */
static int ref_bad(const ref_desc *d)
{
	if (d->pages == 0)
		return 0;
	unsigned __int128 end = (unsigned __int128)d->start + (unsigned __int128)d->pages * PAGE;
	return (d->start % PAGE) != 0 || end >= ((unsigned __int128)1 << 64);
}

static uint64_t ref_end(const ref_desc *d)
{
	return d->start + d->pages * PAGE; /* only for entries that passed ref_bad */
}

/* The kind the conversion must report for addr: the largest (most restrictive) kind of
 * the non-empty entries covering it, or -1 when none does. */
static int ref_kind_at(const ref_desc *d, size_t n, uint64_t addr)
{
	int k = -1;
	for (size_t i = 0; i < n; i++) {
		if (d[i].pages == 0 || addr < d[i].start || addr >= ref_end(&d[i]))
			continue;
		int ki = (int)memmap_kind_of(d[i].type);
		if (ki > k)
			k = ki;
	}
	return k;
}

/* The kind in the converted list at addr, found by a plain scan (not mem_list_kind_at). */
static int list_kind_at(const mem_list *l, uint64_t addr)
{
	for (size_t i = 0; i < l->count; i++)
		if (addr >= l->r[i].start && addr - l->r[i].start < l->r[i].length)
			return (int)l->r[i].kind;
	return -1;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static int in_sorted(const uint64_t *v, size_t n, uint64_t x)
{
	return bsearch(&x, v, n, sizeof *v, cmp_u64) != NULL;
}

/* Checks a successful conversion of the n entries d against the reference. */
static void check_ok(const mem_list *l, const ref_desc *d, size_t n)
{
	REQUIRE(l->count <= l->capacity);
	for (size_t i = 0; i < l->count; i++) {
		const mem_region *r = &l->r[i];
		REQUIRE(r->length != 0);
		REQUIRE(r->start % PAGE == 0 && r->length % PAGE == 0);
		REQUIRE(r->length <= UINT64_MAX - r->start);
		REQUIRE(r->kind < MEM_KIND_COUNT);
		REQUIRE(r->reserved == 0);
		if (i + 1 < l->count) {
			const mem_region *s = &l->r[i + 1];
			REQUIRE(r->start + r->length <= s->start);        /* sorted, disjoint */
			REQUIRE(!(r->start + r->length == s->start && r->kind == s->kind)); /* merged */
		}
	}
	/* Every entry start and end is a boundary; between two neighbouring boundaries both
	 * the reference and a correct list are constant, so one probe per piece is enough. */
	uint64_t *b = malloc((2 * n + 1) * sizeof *b);
	REQUIRE(b != NULL);
	size_t nb = 0;
	for (size_t i = 0; i < n; i++) {
		if (d[i].pages == 0)
			continue;
		b[nb++] = d[i].start;
		b[nb++] = ref_end(&d[i]);
	}
	qsort(b, nb, sizeof *b, cmp_u64);
	for (size_t i = 0; i < l->count; i++) {
		/* A region edge that is no entry edge would mean invented or lost memory. */
		REQUIRE(in_sorted(b, nb, l->r[i].start));
		REQUIRE(in_sorted(b, nb, l->r[i].start + l->r[i].length));
	}
	for (size_t i = 0; i < nb; i++)
		REQUIRE(list_kind_at(l, b[i]) == ref_kind_at(d, n, b[i]));
	free(b);
}

/* Rewrites entry p into a small page-aligned entry of a mostly defined type. */
static void shape(uint8_t *p)
{
	uint32_t type = get32(p) % 20;
	uint64_t start = (get64(p + 8) & 0xffff) * PAGE; /* below 256 MiB */
	uint64_t pages = get64(p + 24) % 64;
	memcpy(p, &type, sizeof type);
	memcpy(p + 8, &start, sizeof start);
	memcpy(p + 24, &pages, sizeof pages);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	const uint8_t mode = data[0], param = data[1];
	uint64_t ds = (mode & 0x10) ? param : 40 + 8 * (uint64_t)((mode & 0xf) % 12);
	uint64_t map_size = size - 2;
	if (!(mode & 0x20) && ds != 0)
		map_size -= map_size % ds;
	uint8_t *map = malloc(map_size ? map_size : 1);
	REQUIRE(map != NULL);
	memcpy(map, data + 2, map_size);

	int geometry_ok = ds >= sizeof(efi_desc) && ds % 8 == 0 && map_size % ds == 0;
	size_t n = geometry_ok ? (size_t)(map_size / ds) : 0;
	if (geometry_ok && (mode & 0x80))
		for (size_t i = 0; i < n; i++)
			shape(map + i * ds);

	ref_desc *d = malloc((n + 1) * sizeof *d);
	REQUIRE(d != NULL);
	size_t empty = 0, first_bad = n;
	for (size_t i = 0; i < n; i++) {
		const uint8_t *p = map + i * ds;
		d[i].type = get32(p);
		d[i].start = get64(p + 8);
		d[i].pages = get64(p + 24);
		empty += d[i].pages == 0;
		if (first_bad == n && ref_bad(&d[i]))
			first_bad = i;
	}

	/* Adding n entries to a merged list adds at most two regions each. */
	size_t ample = 2 * n + 1;
	size_t cap = (mode & 0x40) ? (size_t)(param & 31) : ample;
	mem_region *st = malloc((cap > ample ? cap : ample) * sizeof *st);
	REQUIRE(st != NULL);
	mem_list l;
	mem_list_init(&l, st, cap);
	l.count = cap; /* stale contents: the conversion must empty the list itself */
	memmap_stats stats;
	memset(&stats, 0xa5, sizeof stats);
	pg_err e = memmap_convert(map, map_size, ds, &l, &stats);

	if (!geometry_ok) {
		REQUIRE(e == PG_ERR_BAD_ARG);
		REQUIRE(l.count == 0);
		goto out;
	}
	/* The reference outcome: walk the entries in order; the first bad one is a bad
	 * argument unless an earlier prefix already outgrew the list. The region count after
	 * each prefix is the count of converting that prefix into ample storage. */
	pg_err want = PG_OK;
	if (cap < ample) {
		mem_region *pst = malloc(ample * sizeof *pst);
		REQUIRE(pst != NULL);
		for (size_t k = 0; k < n; k++) {
			if (k == first_bad) {
				want = PG_ERR_BAD_ARG;
				break;
			}
			mem_list pl;
			mem_list_init(&pl, pst, ample);
			REQUIRE(memmap_convert(map, (k + 1) * ds, ds, &pl, NULL) == PG_OK);
			if (pl.count > cap) {
				want = PG_ERR_NO_FRAMES;
				break;
			}
		}
		free(pst);
	} else if (first_bad < n) {
		want = PG_ERR_BAD_ARG;
	}
	REQUIRE(e == want);
	if (e != PG_OK) {
		REQUIRE(l.count == 0);
		REQUIRE(stats.descriptors <= n && stats.empty <= stats.descriptors);
		goto out;
	}
	REQUIRE(stats.descriptors == n);
	REQUIRE(stats.empty == empty);
	REQUIRE(stats.overlaps <= n - empty);
	if (n - empty <= 1)
		REQUIRE(stats.overlaps == 0);
	check_ok(&l, d, n);
out:
	free(st);
	free(d);
	free(map);
	return 0;
}
