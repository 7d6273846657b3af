/* test_memmap.c - host tests of the EFI memory-map conversion (efi/pure/memmap.c):
 * descriptor stride, validation, the type table and the conservative merge. */
#include <stdlib.h>
#include <string.h>

#include "memmap.h"
#include "test.h"

#define PAGE 0x1000ull

/* Writes descriptor i of a map whose entries are desc_size apart; bytes past the
 * version-1 struct are filled with junk that the conversion must ignore. */
static void put(uint8_t *map, uint64_t desc_size, size_t i, uint32_t type, uint64_t start,
		uint64_t pages)
{
	efi_desc d = { type, 0xdeadbeef, start, 0x5555000000000000ull, pages, 0xf };
	uint8_t *p = map + i * desc_size;
	memset(p, 0xEE, desc_size);
	memcpy(p, &d, sizeof(d));
}

static bool region_is(const mem_list *l, size_t i, uint64_t start, uint64_t length,
		      mem_kind kind)
{
	return i < l->count && l->r[i].start == start && l->r[i].length == length &&
	       l->r[i].kind == (uint32_t)kind;
}

/* Each defined EFI type becomes the kind of the table in the design. */
TEST(memmap_type_table)
{
	static const mem_kind want[EFI_TYPE_COUNT] = {
		MEM_RESERVED, MEM_BOOT_RECLAIMABLE, MEM_BOOT_RECLAIMABLE,
		MEM_BOOT_RECLAIMABLE, MEM_BOOT_RECLAIMABLE, MEM_FIRMWARE_RUNTIME,
		MEM_FIRMWARE_RUNTIME, MEM_USABLE, MEM_BAD, MEM_ACPI_RECLAIMABLE,
		MEM_ACPI_NVS, MEM_MMIO, MEM_MMIO, MEM_RESERVED, MEM_RESERVED, MEM_RESERVED,
	};
	for (uint32_t t = 0; t < EFI_TYPE_COUNT; t++)
		CHECK_EQ(memmap_kind_of(t), want[t]);
}

/* Type names are the UEFI spec's; values outside the set are OEM, OS or Unknown. */
TEST(memmap_type_names)
{
	CHECK(strcmp(memmap_type_name(0), "EfiReservedMemoryType") == 0);
	CHECK(strcmp(memmap_type_name(7), "EfiConventionalMemory") == 0);
	CHECK(strcmp(memmap_type_name(10), "EfiACPIMemoryNVS") == 0);
	CHECK(strcmp(memmap_type_name(15), "EfiUnacceptedMemoryType") == 0);
	CHECK(strcmp(memmap_type_name(16), "Unknown") == 0);
	CHECK(strcmp(memmap_type_name(0x6fffffff), "Unknown") == 0);
	CHECK(strcmp(memmap_type_name(0x70000000), "OEM") == 0);
	CHECK(strcmp(memmap_type_name(0x7fffffff), "OEM") == 0);
	CHECK(strcmp(memmap_type_name(0x80000000), "OS") == 0);
	CHECK(strcmp(memmap_type_name(0xffffffff), "OS") == 0);
}

/* Unknown, OEM and OS-defined types are treated as reserved memory. */
TEST(memmap_unknown_oem_os_types_reserved)
{
	uint8_t map[3 * 48];
	put(map, 48, 0, 16, 0x100000, 1);
	put(map, 48, 1, 0x70000001, 0x200000, 1);
	put(map, 48, 2, 0x80000002, 0x300000, 1);
	mem_region st[8];
	mem_list l;
	mem_list_init(&l, st, 8);
	CHECK_ERR(memmap_convert(map, sizeof(map), 48, &l, NULL), PG_OK);
	CHECK_EQ(l.count, 3);
	CHECK_EQ(mem_list_total(&l, MEM_RESERVED), 3 * PAGE);
}

/* Descriptors larger than the version-1 struct are stepped over by desc_size. */
TEST(memmap_large_desc_size)
{
	static const uint64_t sizes[] = { 48, 56, 64 };
	for (size_t s = 0; s < 3; s++) {
		uint64_t ds = sizes[s];
		uint8_t map[3 * 64];
		put(map, ds, 0, 7, 0x1000, 0x9f);
		put(map, ds, 1, 11, 0xfec00000, 1);
		put(map, ds, 2, 4, 0x100000, 0x100);
		mem_region st[8];
		mem_list l;
		mem_list_init(&l, st, 8);
		CHECK_ERR(memmap_convert(map, 3 * ds, ds, &l, NULL), PG_OK);
		CHECK_EQ(l.count, 3);
		CHECK(region_is(&l, 0, 0x1000, 0x9f000, MEM_USABLE));
		CHECK(region_is(&l, 1, 0x100000, 0x100000, MEM_BOOT_RECLAIMABLE));
		CHECK(region_is(&l, 2, 0xfec00000, 0x1000, MEM_MMIO));
	}
}

/* A buffer at an odd address is read correctly (fuzzers pass such buffers). */
TEST(memmap_unaligned_buffer)
{
	uint8_t raw[2 * 40 + 1];
	uint8_t *map = raw + 1;
	put(map, 40, 0, 7, 0x200000, 2);
	put(map, 40, 1, 9, 0x400000, 1);
	mem_region st[4];
	mem_list l;
	mem_list_init(&l, st, 4);
	CHECK_ERR(memmap_convert(map, 80, 40, &l, NULL), PG_OK);
	CHECK(region_is(&l, 0, 0x200000, 0x2000, MEM_USABLE));
	CHECK(region_is(&l, 1, 0x400000, 0x1000, MEM_ACPI_RECLAIMABLE));
}

/* Zero-page entries are skipped and counted, even when their address is odd. */
TEST(memmap_zero_page_entries_skipped)
{
	uint8_t map[4 * 40];
	put(map, 40, 0, 7, 0x1000, 1);
	put(map, 40, 1, 0, 0x5000, 0);
	put(map, 40, 2, 11, 0x123, 0);
	put(map, 40, 3, 7, 0x2000, 1);
	mem_region st[4];
	mem_list l;
	mem_list_init(&l, st, 4);
	memmap_stats stats;
	CHECK_ERR(memmap_convert(map, sizeof(map), 40, &l, &stats), PG_OK);
	CHECK_EQ(stats.descriptors, 4);
	CHECK_EQ(stats.empty, 2);
	CHECK_EQ(stats.overlaps, 0);
	CHECK_EQ(l.count, 1);
	CHECK(region_is(&l, 0, 0x1000, 0x2000, MEM_USABLE));
}

/* An unsorted map comes out sorted, with same-kind neighbours merged. */
TEST(memmap_unsorted_input)
{
	uint8_t map[4 * 40];
	put(map, 40, 0, 7, 0x300000, 0x100);
	put(map, 40, 1, 7, 0x100000, 0x100);
	put(map, 40, 2, 1, 0x200000, 0x100);
	put(map, 40, 3, 2, 0x000000, 0x100);
	mem_region st[8];
	mem_list l;
	mem_list_init(&l, st, 8);
	CHECK_ERR(memmap_convert(map, sizeof(map), 40, &l, NULL), PG_OK);
	CHECK_EQ(l.count, 4);
	CHECK(region_is(&l, 0, 0x000000, 0x100000, MEM_BOOT_RECLAIMABLE));
	CHECK(region_is(&l, 1, 0x100000, 0x100000, MEM_USABLE));
	CHECK(region_is(&l, 2, 0x200000, 0x100000, MEM_BOOT_RECLAIMABLE));
	CHECK(region_is(&l, 3, 0x300000, 0x100000, MEM_USABLE));
}

/* Where entries overlap, the more restrictive kind wins whichever comes first. */
TEST(memmap_overlap_restrictive_wins)
{
	for (int order = 0; order < 2; order++) {
		uint8_t map[2 * 40];
		put(map, 40, order, 7, 0x0, 0x10);       /* usable [0, 0x10000) */
		put(map, 40, 1 - order, 10, 0x8000, 0x10); /* NVS [0x8000, 0x18000) */
		mem_region st[4];
		mem_list l;
		mem_list_init(&l, st, 4);
		memmap_stats stats;
		CHECK_ERR(memmap_convert(map, sizeof(map), 40, &l, &stats), PG_OK);
		CHECK_EQ(stats.overlaps, 1);
		CHECK_EQ(l.count, 2);
		CHECK(region_is(&l, 0, 0x0, 0x8000, MEM_USABLE));
		CHECK(region_is(&l, 1, 0x8000, 0x10000, MEM_ACPI_NVS));
	}
}

/* Touching entries of different kinds stay apart; of kinds that map alike they merge. */
TEST(memmap_adjacent_entries)
{
	uint8_t map[4 * 40];
	put(map, 40, 0, 3, 0x0000, 1);  /* boot services code */
	put(map, 40, 1, 4, 0x1000, 1);  /* boot services data: same kind, merges */
	put(map, 40, 2, 7, 0x2000, 1);  /* conventional */
	put(map, 40, 3, 5, 0x3000, 1);  /* runtime code */
	mem_region st[8];
	mem_list l;
	mem_list_init(&l, st, 8);
	memmap_stats stats;
	CHECK_ERR(memmap_convert(map, sizeof(map), 40, &l, &stats), PG_OK);
	CHECK_EQ(stats.overlaps, 0);
	CHECK_EQ(l.count, 3);
	CHECK(region_is(&l, 0, 0x0000, 0x2000, MEM_BOOT_RECLAIMABLE));
	CHECK(region_is(&l, 1, 0x2000, 0x1000, MEM_USABLE));
	CHECK(region_is(&l, 2, 0x3000, 0x1000, MEM_FIRMWARE_RUNTIME));
}

/* Entries far above 2^52 convert as long as they end below 2^64. */
TEST(memmap_high_entries)
{
	uint8_t map[3 * 40];
	put(map, 40, 0, 7, 1ull << 52, 0x100);
	put(map, 40, 1, 11, 0xfffffff000000000ull, 0x100);
	put(map, 40, 2, 0, 0xfffffffffff00000ull, 0xff); /* ends at 2^64 - 4 KiB */
	mem_region st[4];
	mem_list l;
	mem_list_init(&l, st, 4);
	CHECK_ERR(memmap_convert(map, sizeof(map), 40, &l, NULL), PG_OK);
	CHECK_EQ(l.count, 3);
	CHECK(region_is(&l, 0, 1ull << 52, 0x100000, MEM_USABLE));
	CHECK(region_is(&l, 1, 0xfffffff000000000ull, 0x100000, MEM_MMIO));
	CHECK(region_is(&l, 2, 0xfffffffffff00000ull, 0xff000, MEM_RESERVED));
}

/* An entry that reaches or runs past 2^64 is a bad argument and leaves out empty. */
TEST(memmap_entry_past_2_64)
{
	static const struct { uint64_t start, pages; } bad[] = {
		{ 0xfffffffffff00000ull, 0x100 },        /* ends exactly at 2^64 */
		{ 0xfffffffffff00000ull, 0x101 },        /* one page past */
		{ 0x1000, 1ull << 52 },                  /* huge count */
		{ 0, UINT64_MAX },                       /* shift would overflow */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t map[2 * 40];
		put(map, 40, 0, 7, 0x1000, 1);
		put(map, 40, 1, 7, bad[i].start, bad[i].pages);
		mem_region st[4];
		mem_list l;
		mem_list_init(&l, st, 4);
		CHECK_ERR(memmap_convert(map, sizeof(map), 40, &l, NULL), PG_ERR_BAD_ARG);
		CHECK_EQ(l.count, 0);
	}
}

/* An entry whose start is not page aligned is rejected. */
TEST(memmap_misaligned_entry)
{
	uint8_t map[40];
	put(map, 40, 0, 7, 0x1800, 1);
	mem_region st[2];
	mem_list l;
	mem_list_init(&l, st, 2);
	CHECK_ERR(memmap_convert(map, sizeof(map), 40, &l, NULL), PG_ERR_BAD_ARG);
}

/* Descriptor sizes below the struct or not a multiple of 8, a map size that is not a
 * multiple of the descriptor size, and NULL pointers are bad arguments. */
TEST(memmap_bad_geometry)
{
	uint8_t map[2 * 48];
	put(map, 48, 0, 7, 0x1000, 1);
	put(map, 48, 1, 7, 0x2000, 1);
	mem_region st[4];
	mem_list l;
	mem_list_init(&l, st, 4);
	CHECK_ERR(memmap_convert(map, 96, 32, &l, NULL), PG_ERR_BAD_ARG);
	CHECK_ERR(memmap_convert(map, 96, 0, &l, NULL), PG_ERR_BAD_ARG);
	CHECK_ERR(memmap_convert(map, 88, 44, &l, NULL), PG_ERR_BAD_ARG);
	CHECK_ERR(memmap_convert(map, 90, 48, &l, NULL), PG_ERR_BAD_ARG);
	CHECK_ERR(memmap_convert(map, 96, 48, NULL, NULL), PG_ERR_BAD_ARG);
	CHECK_ERR(memmap_convert(NULL, 96, 48, &l, NULL), PG_ERR_BAD_ARG);
	CHECK_ERR(memmap_convert(map, 96, 48, &l, NULL), PG_OK);
	CHECK_EQ(l.count, 1);
}

/* An empty map gives an empty list. */
TEST(memmap_empty_map)
{
	mem_region st[1];
	mem_list l;
	mem_list_init(&l, st, 1);
	l.count = 1;
	CHECK_ERR(memmap_convert(NULL, 0, 40, &l, NULL), PG_OK);
	CHECK_EQ(l.count, 0);
}

#define BIG 5000

/* 5000 shuffled entries of alternating kinds convert to 5000 sorted regions, and a list
 * one region too small reports PG_ERR_NO_FRAMES and ends up empty. */
TEST(memmap_many_entries)
{
	static const uint32_t kinds[] = { 7, 3, 10, 11 };
	uint8_t *map = malloc(BIG * 48);
	size_t *order = malloc(BIG * sizeof(size_t));
	mem_region *st = malloc((BIG + 1) * sizeof(mem_region));
	CHECK(map && order && st);
	if (!map || !order || !st)
		return;
	for (size_t i = 0; i < BIG; i++)
		order[i] = i;
	srand(7);
	for (size_t i = BIG - 1; i > 0; i--) {
		size_t j = (size_t)rand() % (i + 1), t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	for (size_t i = 0; i < BIG; i++) {
		size_t k = order[i];
		put(map, 48, i, kinds[k % 4], 0x100000000ull + k * 2 * PAGE, 2);
	}
	mem_list l;
	mem_list_init(&l, st, BIG + 1);
	memmap_stats stats;
	CHECK_ERR(memmap_convert(map, BIG * 48, 48, &l, &stats), PG_OK);
	CHECK_EQ(stats.descriptors, BIG);
	CHECK_EQ(l.count, BIG);
	for (size_t k = 0; k < BIG; k++)
		CHECK(region_is(&l, k, 0x100000000ull + k * 2 * PAGE, 2 * PAGE,
				memmap_kind_of(kinds[k % 4])));
	mem_list_init(&l, st, BIG - 1);
	CHECK_ERR(memmap_convert(map, BIG * 48, 48, &l, NULL), PG_ERR_NO_FRAMES);
	CHECK_EQ(l.count, 0);
	free(map);
	free(order);
	free(st);
}
