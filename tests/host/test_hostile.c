/* test_hostile.c - hostile inputs for the two parsers of outside data (issue 7): the
 * EFI memory-map conversion and the embedded kernel ELF check. Only cases that
 * test_memmap.c and test_elf.c do not already cover; one behaviour per test. */
#include <stdlib.h>
#include <string.h>

#include "elf.h"
#include "memmap.h"
#include "test.h"

#define PAGE 0x1000ull

/* ------------------------------------------------------------------ memory map */

/* Writes entry i of a map with the given stride; bytes past the version-1 struct are
 * left as the caller filled them. */
static void ent(uint8_t *map, uint64_t ds, size_t i, uint32_t type, uint64_t start,
		uint64_t pages)
{
	efi_desc d = { type, 0, start, 0, pages, 0xf };
	memcpy(map + i * ds, &d, sizeof d);
}

/* An empty list with room for cap regions, storage from the caller. */
static mem_list list_of(mem_region *st, size_t cap)
{
	mem_list l;
	mem_list_init(&l, st, cap);
	return l;
}

static bool is_region(const mem_list *l, size_t i, uint64_t start, uint64_t length,
		      mem_kind kind)
{
	return i < l->count && l->r[i].start == start && l->r[i].length == length &&
	       l->r[i].kind == (uint32_t)kind;
}

/* True when the list is sorted, disjoint, merged, page aligned and without empty regions. */
static bool well_formed(const mem_list *l)
{
	for (size_t i = 0; i < l->count; i++) {
		const mem_region *r = &l->r[i];
		if (!r->length || r->start % PAGE || r->length % PAGE)
			return false;
		if (i + 1 < l->count) {
			uint64_t end = r->start + r->length;
			if (end > l->r[i + 1].start)
				return false;
			if (end == l->r[i + 1].start && r->kind == l->r[i + 1].kind)
				return false;
		}
	}
	return true;
}

/* A bad geometry empties a list that held stale regions, as the header promises. */
TEST(hostile_memmap_bad_geometry_empties_list)
{
	uint8_t map[2 * 48] = { 0 };
	ent(map, 48, 0, 7, 0x1000, 1);
	ent(map, 48, 1, 7, 0x2000, 1);
	mem_region st[4] = { { 0x5000, PAGE, MEM_USABLE, 0 } };
	mem_list l = list_of(st, 4);
	l.count = 1;
	CHECK_ERR(memmap_convert(map, sizeof map, 44, &l, NULL), PG_ERR_BAD_ARG);
	CHECK_EQ(l.count, 0);
	l.count = 1;
	CHECK_ERR(memmap_convert(map, sizeof map - 8, 48, &l, NULL), PG_ERR_BAD_ARG);
	CHECK_EQ(l.count, 0);
}

/* With a 128-byte stride, a complete decoy descriptor in an entry's padding is ignored. */
TEST(hostile_memmap_decoy_in_descriptor_padding)
{
	uint8_t map[2 * 128];
	memset(map, 0, sizeof map);
	ent(map, 128, 0, 7, 0x100000, 1);
	ent(map + 48, 128, 0, 0, 0x100000, 0x10); /* reserved decoy inside entry 0 */
	ent(map, 128, 1, 9, 0x200000, 1);
	mem_region st[4];
	mem_list l = list_of(st, 4);
	CHECK_ERR(memmap_convert(map, sizeof map, 128, &l, NULL), PG_OK);
	CHECK_EQ(l.count, 2);
	CHECK(is_region(&l, 0, 0x100000, PAGE, MEM_USABLE));
	CHECK(is_region(&l, 1, 0x200000, PAGE, MEM_ACPI_RECLAIMABLE));
}

/* A map made only of zero-page entries, even ones with absurd addresses, is an empty list. */
TEST(hostile_memmap_only_zero_page_entries)
{
	uint8_t map[3 * 40];
	ent(map, 40, 0, 7, 0, 0);
	ent(map, 40, 1, 11, UINT64_MAX, 0);
	ent(map, 40, 2, 0x80000000, 0xfff, 0);
	mem_region st[2];
	mem_list l = list_of(st, 2);
	memmap_stats s;
	CHECK_ERR(memmap_convert(map, sizeof map, 40, &l, &s), PG_OK);
	CHECK_EQ(l.count, 0);
	CHECK_EQ(s.empty, 3);
}

/* An entry nested inside another splits it into head, restrictive middle and tail. */
TEST(hostile_memmap_nested_entry_splits_outer)
{
	uint8_t map[2 * 40];
	ent(map, 40, 0, 7, 0x0, 0x10);     /* usable [0, 0x10000) */
	ent(map, 40, 1, 5, 0x4000, 0x2);   /* runtime code in the middle */
	mem_region st[4];
	mem_list l = list_of(st, 4);
	CHECK_ERR(memmap_convert(map, sizeof map, 40, &l, NULL), PG_OK);
	CHECK_EQ(l.count, 3);
	CHECK(is_region(&l, 0, 0x0, 0x4000, MEM_USABLE));
	CHECK(is_region(&l, 1, 0x4000, 0x2000, MEM_FIRMWARE_RUNTIME));
	CHECK(is_region(&l, 2, 0x6000, 0xa000, MEM_USABLE));
}

/* Identical entries of different types collapse to the most restrictive one. */
TEST(hostile_memmap_duplicate_entries_most_restrictive)
{
	static const uint32_t types[] = { 7, 8, 3, 10 }; /* usable, bad, boot, NVS */
	uint8_t map[4 * 40];
	for (size_t i = 0; i < 4; i++)
		ent(map, 40, i, types[i], 0x300000, 4);
	mem_region st[4];
	mem_list l = list_of(st, 4);
	memmap_stats s;
	CHECK_ERR(memmap_convert(map, sizeof map, 40, &l, &s), PG_OK);
	CHECK_EQ(l.count, 1);
	CHECK(is_region(&l, 0, 0x300000, 4 * PAGE, MEM_BAD));
	CHECK_EQ(s.overlaps, 3);
}

/* Every order of the same overlapping entries gives the same list. */
TEST(hostile_memmap_overlaps_order_independent)
{
	static const struct { uint32_t type; uint64_t start, pages; } e[4] = {
		{ 7, 0x0, 0x20 }, { 4, 0x8000, 0x10 }, { 10, 0xc000, 0x2 }, { 16, 0x1f000, 0x4 },
	};
	mem_region first[8];
	size_t first_count = 0;
	unsigned perms = 0;
	for (unsigned a = 0; a < 4; a++)
		for (unsigned b = 0; b < 4; b++)
			for (unsigned c = 0; c < 4; c++) {
				unsigned d = 6 - a - b - c;
				if (a == b || a == c || b == c || d > 3 || d == a || d == b || d == c)
					continue;
				unsigned ord[4] = { a, b, c, d };
				uint8_t map[4 * 40];
				for (size_t i = 0; i < 4; i++)
					ent(map, 40, i, e[ord[i]].type, e[ord[i]].start,
					    e[ord[i]].pages);
				mem_region st[8];
				mem_list l = list_of(st, 8);
				CHECK_ERR(memmap_convert(map, sizeof map, 40, &l, NULL), PG_OK);
				if (perms++ == 0) {
					memcpy(first, st, sizeof st);
					first_count = l.count;
				}
				CHECK_EQ(l.count, first_count);
				CHECK(memcmp(first, st, l.count * sizeof st[0]) == 0);
			}
	CHECK_EQ(perms, 24);
	CHECK_EQ(first_count, 6); /* usable, boot, NVS, boot, usable, reserved */
}

/* An OEM-typed entry inside conventional memory punches a reserved hole in it. */
TEST(hostile_memmap_oem_entry_inside_usable)
{
	uint8_t map[2 * 40];
	ent(map, 40, 0, 0x7fff0001, 0x105000, 1);
	ent(map, 40, 1, 7, 0x100000, 0x10);
	mem_region st[4];
	mem_list l = list_of(st, 4);
	CHECK_ERR(memmap_convert(map, sizeof map, 40, &l, NULL), PG_OK);
	CHECK_EQ(l.count, 3);
	CHECK(is_region(&l, 1, 0x105000, PAGE, MEM_RESERVED));
	CHECK_EQ(mem_list_total(&l, MEM_USABLE), 0xf * PAGE);
}

/* An entry straddling 2^52 is kept whole, with no cut at the physical-address limit. */
TEST(hostile_memmap_entry_straddling_2_52)
{
	uint8_t map[40];
	ent(map, 40, 0, 7, (1ull << 52) - 0x4000, 8);
	mem_region st[2];
	mem_list l = list_of(st, 2);
	CHECK_ERR(memmap_convert(map, sizeof map, 40, &l, NULL), PG_OK);
	CHECK_EQ(l.count, 1);
	CHECK(is_region(&l, 0, (1ull << 52) - 0x4000, 8 * PAGE, MEM_USABLE));
}

/* A bad entry after good ones fails the whole map and leaves nothing behind. */
TEST(hostile_memmap_late_bad_entry_discards_all)
{
	uint8_t map[3 * 40];
	ent(map, 40, 0, 7, 0x100000, 0x10);
	ent(map, 40, 1, 3, 0x200000, 0x10);
	ent(map, 40, 2, 7, 0x300800, 1);
	mem_region st[4];
	mem_list l = list_of(st, 4);
	memmap_stats s;
	CHECK_ERR(memmap_convert(map, sizeof map, 40, &l, &s), PG_ERR_BAD_ARG);
	CHECK_EQ(l.count, 0);
	CHECK_EQ(s.descriptors, 3);
}

#define NESTED 3000
#define SPAN 4096 /* pages */

/* Thousands of randomly overlapping entries convert to exactly the per-page maximum kind
 * of a brute-force reference. */
TEST(hostile_memmap_thousands_of_overlapping_entries)
{
	static const uint32_t types[] = { 7, 1, 2, 3, 4, 5, 9, 10, 11, 0, 8, 0x70000000 };
	uint8_t *map = malloc(NESTED * 48);
	int8_t *want = malloc(SPAN);
	mem_region *st = malloc((2 * NESTED + 1) * sizeof *st);
	CHECK(map && want && st);
	if (!map || !want || !st)
		goto out;
	memset(map, 0xEE, NESTED * 48);
	memset(want, -1, SPAN);
	uint32_t x = 12345;
	for (size_t i = 0; i < NESTED; i++) {
		x = x * 1103515245u + 12345u;
		uint64_t start = (x >> 8) % SPAN;
		x = x * 1103515245u + 12345u;
		uint64_t pages = 1 + (x >> 8) % 16;
		if (start + pages > SPAN)
			pages = SPAN - start;
		uint32_t type = types[(x >> 4) % 12];
		ent(map, 48, i, type, 0x40000000 + start * PAGE, pages);
		int8_t k = (int8_t)memmap_kind_of(type);
		for (uint64_t p = start; p < start + pages; p++)
			if (k > want[p])
				want[p] = k;
	}
	mem_list l = list_of(st, 2 * NESTED + 1);
	CHECK_ERR(memmap_convert(map, NESTED * 48, 48, &l, NULL), PG_OK);
	CHECK(well_formed(&l));
	size_t wrong = 0;
	for (uint64_t p = 0; p < SPAN; p++)
		wrong += mem_list_kind_at(&l, 0x40000000 + p * PAGE) != want[p];
	CHECK_EQ(wrong, 0);
	CHECK_EQ(mem_list_kind_at(&l, 0x40000000 - 1), -1);
	CHECK_EQ(mem_list_kind_at(&l, 0x40000000 + SPAN * PAGE), -1);
out:
	free(map);
	free(want);
	free(st);
}

/* ------------------------------------------------------------------ kernel ELF */

#define KBASE 0xFFFFFFFF80000000ull
#define FILE_SIZE 0x300

typedef struct { uint8_t b[FILE_SIZE]; } kfile;

static void le(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void seg(kfile *k, unsigned i, uint32_t type, uint32_t flags, uint64_t off,
		uint64_t vaddr, uint64_t filesz, uint64_t memsz)
{
	uint8_t *ph = k->b + 64 + 56 * i;
	le(ph, type, 4);
	le(ph + 4, flags, 4);
	le(ph + 8, off, 8);
	le(ph + 16, vaddr, 8);
	le(ph + 24, vaddr, 8);
	le(ph + 32, filesz, 8);
	le(ph + 40, memsz, 8);
	le(ph + 48, PAGE, 8);
}

/* A valid kernel whose last byte is data: text RX [0x200, 0x280), data RW [0x280, 0x300). */
static void kernel(kfile *k, unsigned phnum)
{
	memset(k, 0, sizeof *k);
	memcpy(k->b, "\x7f" "ELF", 4);
	k->b[4] = 2;
	k->b[5] = 1;
	k->b[6] = 1;
	le(k->b + 16, 2, 2);
	le(k->b + 18, 62, 2);
	le(k->b + 20, 1, 4);
	le(k->b + 24, KBASE + 4, 8);
	le(k->b + 32, 64, 8);
	le(k->b + 54, 56, 2);
	le(k->b + 56, phnum, 2);
	seg(k, 0, 1, ELF_PF_R | ELF_PF_X, 0x200, KBASE, 0x80, 0x80);
	seg(k, 1, 1, ELF_PF_R | ELF_PF_W, 0x280, KBASE + 0x2000, 0x80, 0x2000);
}

static elf_err check(const kfile *k, uint64_t size, elf_image *img)
{
	return elf_validate(k->b, size, KBASE, img);
}

/* The base file of these tests is itself valid, so each refusal below is the edit's doing. */
TEST(hostile_elf_base_file_valid)
{
	kfile k;
	elf_image img;
	kernel(&k, 2);
	CHECK_EQ(check(&k, FILE_SIZE, &img), ELF_OK);
	CHECK_EQ(img.count, 2);
}

/* Every truncation of a valid kernel, from empty to one byte short, is refused. */
TEST(hostile_elf_every_truncation_refused)
{
	kfile k;
	kernel(&k, 2);
	size_t accepted = 0;
	for (uint64_t n = 0; n < FILE_SIZE; n++) {
		uint8_t *copy = malloc(n ? n : 1); /* exact size: ASan sees any over-read */
		CHECK(copy != NULL);
		if (!copy)
			return;
		memcpy(copy, k.b, n);
		elf_image img;
		accepted += elf_validate(copy, n, KBASE, &img) == ELF_OK;
		free(copy);
	}
	CHECK_EQ(accepted, 0);
}

/* A NULL file or NULL result is refused rather than dereferenced. */
TEST(hostile_elf_null_pointers_refused)
{
	kfile k;
	elf_image img;
	kernel(&k, 2);
	CHECK(elf_validate(NULL, FILE_SIZE, KBASE, &img) != ELF_OK);
	CHECK(elf_validate(k.b, FILE_SIZE, KBASE, NULL) != ELF_OK);
}

/* A program-header table starting exactly at the end of the file is outside it. */
TEST(hostile_elf_phoff_at_end_refused)
{
	kfile k;
	elf_image img;
	kernel(&k, 2);
	le(k.b + 32, FILE_SIZE, 8);
	CHECK_EQ(check(&k, FILE_SIZE, &img), ELF_ERR_PHDRS);
}

/* A file with no program headers at all is refused. */
TEST(hostile_elf_zero_phnum_refused)
{
	kfile k;
	elf_image img;
	kernel(&k, 0);
	CHECK_EQ(check(&k, FILE_SIZE, &img), ELF_ERR_PHDRS);
}

/* The largest phnum (65535) cannot make the table check overflow: it is outside the file. */
TEST(hostile_elf_max_phnum_refused)
{
	kfile k;
	elf_image img;
	kernel(&k, 2);
	le(k.b + 56, 0xffff, 2);
	CHECK_EQ(check(&k, FILE_SIZE, &img), ELF_ERR_PHDRS);
}

/* A segment whose file offset plus size wraps past 2^64 is refused. */
TEST(hostile_elf_file_range_overflow_refused)
{
	kfile k;
	elf_image img;
	kernel(&k, 2);
	seg(&k, 1, 1, ELF_PF_R | ELF_PF_W, ~0ull - 0x10, KBASE + 0x2000, 0x80, 0x2000);
	CHECK_EQ(check(&k, FILE_SIZE, &img), ELF_ERR_SEGMENT_FILE);
	CHECK_EQ(img.bad_index, 1);
}

/* A segment whose memory size is 2^64 - 1 is refused instead of wrapping. */
TEST(hostile_elf_huge_memsz_refused)
{
	kfile k;
	elf_image img;
	kernel(&k, 2);
	seg(&k, 1, 1, ELF_PF_R | ELF_PF_W, 0x280, KBASE + 0x2000, 0x80, UINT64_MAX);
	CHECK_EQ(check(&k, FILE_SIZE, &img), ELF_ERR_LOW_HALF);
}

/* A segment ending inside the last page of the address space is refused, since its
 * page-rounded end would be 2^64. */
TEST(hostile_elf_segment_in_last_page_refused)
{
	kfile k;
	elf_image img;
	kernel(&k, 2);
	seg(&k, 1, 1, ELF_PF_R | ELF_PF_W, 0x280, 0xFFFFFFFFFFFFF000ull, 0x80, 0x80);
	CHECK_EQ(check(&k, FILE_SIZE, &img), ELF_ERR_LOW_HALF);
}

/* A segment starting one page below the higher-half base is refused though it ends above. */
TEST(hostile_elf_segment_straddling_base_refused)
{
	kfile k;
	elf_image img;
	kernel(&k, 2);
	seg(&k, 1, 1, ELF_PF_R | ELF_PF_W, 0x280, KBASE - PAGE, 0x80, 0x2000);
	CHECK_EQ(check(&k, FILE_SIZE, &img), ELF_ERR_LOW_HALF);
}

/* A segment at a canonical lower-half address far above zero is refused. */
TEST(hostile_elf_segment_in_lower_half_refused)
{
	kfile k;
	elf_image img;
	kernel(&k, 2);
	seg(&k, 0, 1, ELF_PF_R | ELF_PF_X, 0x200, 0x00007FFFFFFF0000ull, 0x80, 0x80);
	le(k.b + 24, 0x00007FFFFFFF0000ull, 8);
	CHECK_EQ(check(&k, FILE_SIZE, &img), ELF_ERR_LOW_HALF);
	CHECK_EQ(img.bad_index, 0);
}

/* A later segment below and overlapping an earlier one is caught whatever the order. */
TEST(hostile_elf_overlap_in_reverse_order_refused)
{
	kfile k;
	elf_image img;
	kernel(&k, 2);
	seg(&k, 0, 1, ELF_PF_R | ELF_PF_X, 0x200, KBASE + 0x3000, 0x80, 0x80);
	seg(&k, 1, 1, ELF_PF_R | ELF_PF_W, 0x280, KBASE, 0x80, 0x4000);
	le(k.b + 24, KBASE + 0x3000, 8);
	CHECK_EQ(check(&k, FILE_SIZE, &img), ELF_ERR_OVERLAP);
}

/* A segment wholly containing another is an overlap. */
TEST(hostile_elf_segment_containing_another_refused)
{
	kfile k;
	elf_image img;
	kernel(&k, 2);
	seg(&k, 1, 1, ELF_PF_R, 0x280, KBASE, 0x80, 0x10000);
	seg(&k, 0, 1, ELF_PF_R | ELF_PF_X, 0x200, KBASE + 0x4000, 0x80, 0x80);
	le(k.b + 24, KBASE + 0x4000, 8);
	CHECK_EQ(check(&k, FILE_SIZE, &img), ELF_ERR_OVERLAP);
}

/* Disjoint segments listed in descending address order are fine. */
TEST(hostile_elf_descending_segments_accepted)
{
	kfile k;
	elf_image img;
	kernel(&k, 2);
	seg(&k, 0, 1, ELF_PF_R | ELF_PF_W, 0x280, KBASE + 0x8000, 0x80, 0x80);
	seg(&k, 1, 1, ELF_PF_R | ELF_PF_X, 0x200, KBASE, 0x80, 0x80);
	CHECK_EQ(check(&k, FILE_SIZE, &img), ELF_OK);
	CHECK_EQ(img.lo, KBASE);
	CHECK_EQ(img.hi, KBASE + 0x9000);
}

/* Write plus execute without read is still W+X. */
TEST(hostile_elf_wx_without_read_refused)
{
	kfile k;
	elf_image img;
	kernel(&k, 2);
	seg(&k, 0, 1, ELF_PF_W | ELF_PF_X, 0x200, KBASE, 0x80, 0x80);
	CHECK_EQ(check(&k, FILE_SIZE, &img), ELF_ERR_WX);
}

/* RWX on a header that loads nothing (PT_GNU_STACK) does not refuse the file. */
TEST(hostile_elf_wx_on_non_load_header_ignored)
{
	kfile k;
	elf_image img;
	kernel(&k, 3);
	seg(&k, 2, 0x6474e551, ELF_PF_R | ELF_PF_W | ELF_PF_X, 0, 0, 0, 0);
	CHECK_EQ(check(&k, FILE_SIZE, &img), ELF_OK);
	CHECK_EQ(img.count, 2);
}

/* A file with program headers but no PT_LOAD is refused. */
TEST(hostile_elf_no_load_segment_refused)
{
	kfile k;
	elf_image img;
	kernel(&k, 2);
	le(k.b + 64, 4, 4);      /* PT_NOTE */
	le(k.b + 64 + 56, 6, 4); /* PT_PHDR */
	CHECK_EQ(check(&k, FILE_SIZE, &img), ELF_ERR_NO_SEGMENTS);
}

/* One PT_LOAD more than ELF_MAX_SEGMENTS is refused, not written past the array. */
TEST(hostile_elf_too_many_segments_refused)
{
	static uint8_t f[64 + 56 * (ELF_MAX_SEGMENTS + 1)];
	kfile k;
	kernel(&k, 1);
	memcpy(f, k.b, 64);
	le(f + 56, ELF_MAX_SEGMENTS + 1, 2);
	for (unsigned i = 0; i <= ELF_MAX_SEGMENTS; i++) {
		uint8_t *ph = f + 64 + 56 * i;
		memset(ph, 0, 56);
		le(ph, 1, 4);
		le(ph + 4, i == 0 ? ELF_PF_R | ELF_PF_X : ELF_PF_R, 4);
		le(ph + 16, KBASE + i * PAGE, 8);
		le(ph + 40, 0x10, 8);
	}
	elf_image img;
	CHECK_EQ(elf_validate(f, sizeof f, KBASE, &img), ELF_ERR_NO_SEGMENTS);
	CHECK_EQ(img.bad_index, ELF_MAX_SEGMENTS);
}

/* Each header field naming the wrong class, encoding, version, type or machine is refused
 * with its own error. */
TEST(hostile_elf_wrong_ident_fields_refused)
{
	static const struct { unsigned at, bytes; uint64_t value; elf_err want; } bad[] = {
		{ 4, 1, 0, ELF_ERR_CLASS },       /* ELFCLASSNONE */
		{ 4, 1, 3, ELF_ERR_CLASS },       /* no such class */
		{ 5, 1, 2, ELF_ERR_ENCODING },    /* big endian */
		{ 5, 1, 0, ELF_ERR_ENCODING },
		{ 6, 1, 0, ELF_ERR_ENCODING },    /* ident version */
		{ 20, 4, 0, ELF_ERR_ENCODING },   /* e_version */
		{ 16, 2, 1, ELF_ERR_TYPE },       /* ET_REL */
		{ 16, 2, 4, ELF_ERR_TYPE },       /* ET_CORE */
		{ 18, 2, 183, ELF_ERR_MACHINE },  /* EM_AARCH64 */
		{ 18, 2, 0x3e00, ELF_ERR_MACHINE }, /* x86_64 byte-swapped */
		{ 18, 2, 0, ELF_ERR_MACHINE },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		kfile k;
		elf_image img;
		kernel(&k, 2);
		le(k.b + bad[i].at, bad[i].value, bad[i].bytes);
		CHECK_EQ(check(&k, FILE_SIZE, &img), bad[i].want);
	}
}

/* Every error has a non-empty message, and an out-of-range code still gets one. */
TEST(hostile_elf_every_error_has_a_message)
{
	for (int e = 0; e <= ELF_ERR__COUNT; e++) {
		const char *m = elf_strerror((elf_err)e);
		CHECK(m != NULL && m[0] != '\0');
	}
}
