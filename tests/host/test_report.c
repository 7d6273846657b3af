/* test_report.c - host tests of the inspection reports (efi/pure/report.c): the exact
 * lines of memmap, --kinds, map and translate over simulated RAM with known mappings. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "memmap.h"
#include "report.h"
#include "simram.h"
#include "test.h"

#define GIB (1ull << 30)
#define OFFSET 0x00000A0000000000ull /* the design's physmap offset */
#define KBASE 0xFFFFFFFF80000000ull

/* ------------------------------------------------------------------ fixture */

#define MAX_LINES 256

typedef struct {
	simram ram;
	pg_space s;
	char *line[MAX_LINES];
	unsigned n;
} fixture;

/* Collects every line; a line that fills the report buffer was probably cut. */
static void collect(void *ctx, const char *line)
{
	fixture *f = ctx;
	if (strlen(line) >= REPORT_LINE_MAX - 1)
		test_fail(__FILE__, __LINE__, "line reached the buffer size: \"%s\"", line);
	if (strchr(line, '\n'))
		test_fail(__FILE__, __LINE__, "line holds a newline: \"%s\"", line);
	if (f->n < MAX_LINES)
		f->line[f->n++] = strdup(line);
}

static void setup(fixture *f, bool has_nx, bool has_1g)
{
	memset(f, 0, sizeof(*f));
	sim_init(&f->ram, 16ull << 20);
	if (pg_space_init(&f->s, sim_frames(&f->ram), sim_offset(&f->ram), has_nx, has_1g, 46, 4))
		abort();
}

static void clear_lines(fixture *f)
{
	for (unsigned i = 0; i < f->n; i++)
		free(f->line[i]);
	f->n = 0;
}

static void teardown(fixture *f)
{
	clear_lines(f);
	pg_space_destroy(&f->s);
	sim_destroy(&f->ram);
}

/* Line i must be exactly the printf-formatted text. */
static void line_is(int src_line, const fixture *f, unsigned i, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void line_is(int src_line, const fixture *f, unsigned i, const char *fmt, ...)
{
	char want[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(want, sizeof(want), fmt, ap);
	va_end(ap);
	if (i >= f->n)
		test_fail(__FILE__, src_line, "line %u missing (%u lines), want \"%s\"", i, f->n, want);
	else if (strcmp(f->line[i], want) != 0)
		test_fail(__FILE__, src_line, "line %u:\n      got  \"%s\"\n      want \"%s\"", i,
			  f->line[i], want);
}
#define LINE_IS(f, i, ...) line_is(__LINE__, f, i, __VA_ARGS__)

/* The raw entry at index i of the table at phys, read straight from simulated RAM. */
static uint64_t raw(const fixture *f, uint64_t table, unsigned i)
{
	return ((const uint64_t *)sim_ptr(&f->ram, table))[i];
}

#define X16 "0x%016" PRIx64

/* ------------------------------------------------------------------ translate */

/* The design's example: a 1 GiB physmap page at 10 TiB maps 0xA0000001000 to 0x1000;
 * the walk shows the PML4 entry (index 20) and the 1 GiB leaf, raw and decoded. */
TEST(report_translate_1g_physmap)
{
	fixture f;
	setup(&f, true, true);
	CHECK_ERR(pg_map(&f.s, pg_va(OFFSET), pg_pa(0), PG_1G, PG_W | PG_G, NULL), PG_OK);
	CHECK_ERR(report_translate(collect, &f, &f.s, 0xA0000001000ull), PG_OK);
	uint64_t l4e = raw(&f, f.s.root.pa, 20);
	CHECK_EQ(f.n, 4);
	LINE_IS(&f, 0, "translate: 0x00000a0000001000 walk from pml4=" X16, f.s.root.pa);
	LINE_IS(&f, 1, "translate:   L4 index=20 entry=" X16 " P W U table=" X16, l4e,
		(uint64_t)(l4e & 0x000ffffffffff000ull)); /* bits 52-61 hold paging/'s count */
	LINE_IS(&f, 2, "translate:   L3 index=0 entry=0x8000000000000183 P W PS G NX "
		       "page=0x0000000000000000");
	LINE_IS(&f, 3, "translate: 0x00000a0000001000 -> 0x0000000000001000 page=1G W NX G WB");
	teardown(&f);
}

/* With 2 MiB pages the walk has three levels and the offset inside the page is kept. */
TEST(report_translate_2m_physmap)
{
	fixture f;
	setup(&f, true, false);
	CHECK_ERR(pg_map_range(&f.s, pg_va(OFFSET), pg_pa(0), 8ull << 20, PG_W | PG_G, PG_2M),
		  PG_OK);
	CHECK_ERR(report_translate(collect, &f, &f.s, OFFSET + 0x201234), PG_OK);
	CHECK_EQ(f.n, 5);
	LINE_IS(&f, 3, "translate:   L2 index=1 entry=0x8000000000200183 P W PS G NX "
		       "page=0x0000000000200000");
	LINE_IS(&f, 4, "translate: 0x00000a0000201234 -> 0x0000000000201234 page=2M W NX G WB");
	teardown(&f);
}

/* A kernel text page: four levels, read-only, executable, global. */
TEST(report_translate_4k_kernel_page)
{
	fixture f;
	setup(&f, true, true);
	CHECK_ERR(pg_map(&f.s, pg_va(KBASE), pg_pa(0x123000), PG_4K, PG_X | PG_G, NULL), PG_OK);
	CHECK_ERR(report_translate(collect, &f, &f.s, KBASE + 0xabc), PG_OK);
	CHECK_EQ(f.n, 6);
	CHECK(f.n == 6 && strstr(f.line[1], "L4 index=511 "));
	CHECK(f.n == 6 && strstr(f.line[2], "L3 index=510 "));
	CHECK(f.n == 6 && strstr(f.line[3], "L2 index=0 "));
	LINE_IS(&f, 4, "translate:   L1 index=0 entry=0x0000000000123101 P G page=0x0000000000123000");
	LINE_IS(&f, 5, "translate: 0xffffffff80000abc -> 0x0000000000123abc page=4K RO X G WB");
	teardown(&f);
}

/* An empty PML4 entry stops the walk at level 4. */
TEST(report_translate_not_mapped_level4)
{
	fixture f;
	setup(&f, true, true);
	CHECK_ERR(report_translate(collect, &f, &f.s, 0x1000), PG_ERR_NOT_MAPPED);
	CHECK_EQ(f.n, 3);
	LINE_IS(&f, 1, "translate:   L4 index=0 entry=0x0000000000000000 not present");
	LINE_IS(&f, 2, "translate: 0x0000000000001000 -> not mapped (level 4)");
	teardown(&f);
}

/* A hole next to a mapped 4 KiB page stops at level 1 and says so. */
TEST(report_translate_not_mapped_level1)
{
	fixture f;
	setup(&f, true, true);
	CHECK_ERR(pg_map(&f.s, pg_va(0x200000), pg_pa(0x5000), PG_4K, PG_W, NULL), PG_OK);
	CHECK_ERR(report_translate(collect, &f, &f.s, 0x201000), PG_ERR_NOT_MAPPED);
	CHECK_EQ(f.n, 6);
	LINE_IS(&f, 4, "translate:   L1 index=1 entry=0x0000000000000000 not present");
	LINE_IS(&f, 5, "translate: 0x0000000000201000 -> not mapped (level 1)");
	teardown(&f);
}

/* A non-canonical address gets one line with the reason and no walk. */
TEST(report_translate_not_canonical)
{
	fixture f;
	setup(&f, true, true);
	CHECK_ERR(report_translate(collect, &f, &f.s, 0x0000800000000000ull), PG_ERR_NOT_CANONICAL);
	CHECK_EQ(f.n, 1);
	LINE_IS(&f, 0, "translate: 0x0000800000000000 -> invalid: not canonical "
		       "(bits 63:47 must all be equal)");
	teardown(&f);
}

/* User and cache bits appear both raw (U, PWT, PCD) and as effective flags. */
TEST(report_translate_user_uncached)
{
	fixture f;
	setup(&f, true, true);
	CHECK_ERR(pg_map(&f.s, pg_va(0x400000), pg_pa(0x9000), PG_4K, PG_W | PG_U | PG_CACHE_UC,
			 NULL), PG_OK);
	CHECK_ERR(report_translate(collect, &f, &f.s, 0x400000), PG_OK);
	LINE_IS(&f, 4, "translate:   L1 index=0 entry=0x800000000000901f P W U PWT PCD NX "
		       "page=0x0000000000009000");
	LINE_IS(&f, 5, "translate: 0x0000000000400000 -> 0x0000000000009000 page=4K W NX U UC");
	teardown(&f);
}

/* Write-combining goes through the PAT bit, which sits at bit 7 in a 4 KiB leaf. */
TEST(report_translate_write_combining_pat_bit)
{
	fixture f;
	setup(&f, true, true);
	CHECK_ERR(pg_map(&f.s, pg_va(0x400000), pg_pa(0x9000), PG_4K, PG_W | PG_CACHE_WC, NULL),
		  PG_OK);
	CHECK_ERR(report_translate(collect, &f, &f.s, 0x400000), PG_OK);
	LINE_IS(&f, 4, "translate:   L1 index=0 entry=0x8000000000009083 P W PAT NX "
		       "page=0x0000000000009000");
	LINE_IS(&f, 5, "translate: 0x0000000000400000 -> 0x0000000000009000 page=4K W NX WC");
	teardown(&f);
}

/* Without NX every mapping is executable, and the report says X. */
TEST(report_translate_without_nx)
{
	fixture f;
	setup(&f, false, true);
	CHECK_ERR(pg_map(&f.s, pg_va(0x400000), pg_pa(0x9000), PG_4K, PG_W, NULL), PG_OK);
	CHECK_ERR(report_translate(collect, &f, &f.s, 0x400000), PG_OK);
	LINE_IS(&f, 4, "translate:   L1 index=0 entry=0x0000000000009003 P W page=0x0000000000009000");
	LINE_IS(&f, 5, "translate: 0x0000000000400000 -> 0x0000000000009000 page=4K W X WB");
	teardown(&f);
}

/* ------------------------------------------------------------------ map */

/* A small kernel-like space: the physmap, text and data; one line per merged range in
 * address order, then totals and table frames per level. */
TEST(report_map_ranges_and_tables)
{
	fixture f;
	setup(&f, true, true);
	CHECK_ERR(pg_map_range(&f.s, pg_va(OFFSET), pg_pa(0), 4 * GIB, PG_W | PG_G, PG_1G), PG_OK);
	CHECK_ERR(pg_map_range(&f.s, pg_va(KBASE), pg_pa(0x400000), 0x2000, PG_X | PG_G, PG_4K),
		  PG_OK);
	CHECK_ERR(pg_map(&f.s, pg_va(KBASE + 0x2000), pg_pa(0x402000), PG_4K, PG_W | PG_G, NULL),
		  PG_OK);
	CHECK_ERR(report_map(collect, &f, &f.s), PG_OK);
	CHECK_EQ(f.n, 5);
	LINE_IS(&f, 0, "map: virt=0x00000a0000000000-0x00000a0100000000 phys=0x0000000000000000 "
		       "size=4GiB page=1G W NX G WB");
	LINE_IS(&f, 1, "map: virt=0xffffffff80000000-0xffffffff80002000 phys=0x0000000000400000 "
		       "size=8KiB page=4K RO X G WB");
	LINE_IS(&f, 2, "map: virt=0xffffffff80002000-0xffffffff80003000 phys=0x0000000000402000 "
		       "size=4KiB page=4K W NX G WB");
	LINE_IS(&f, 3, "map: ranges=3 mapped=4194316KiB");
	LINE_IS(&f, 4, "map: tables pml4=" X16 " l4=1 l3=2 l2=1 l1=1 total=5", f.s.root.pa);
	teardown(&f);
}

/* Physically discontiguous neighbours are two ranges, not one. */
TEST(report_map_splits_discontiguous)
{
	fixture f;
	setup(&f, true, true);
	CHECK_ERR(pg_map(&f.s, pg_va(0x400000), pg_pa(0x9000), PG_4K, PG_W, NULL), PG_OK);
	CHECK_ERR(pg_map(&f.s, pg_va(0x401000), pg_pa(0x20000), PG_4K, PG_W, NULL), PG_OK);
	CHECK_ERR(report_map(collect, &f, &f.s), PG_OK);
	CHECK_EQ(f.n, 4);
	LINE_IS(&f, 0, "map: virt=0x0000000000400000-0x0000000000401000 phys=0x0000000000009000 "
		       "size=4KiB page=4K W NX WB");
	LINE_IS(&f, 1, "map: virt=0x0000000000401000-0x0000000000402000 phys=0x0000000000020000 "
		       "size=4KiB page=4K W NX WB");
	teardown(&f);
}

/* An empty space: no ranges, just the PML4. */
TEST(report_map_empty_space)
{
	fixture f;
	setup(&f, true, true);
	CHECK_ERR(report_map(collect, &f, &f.s), PG_OK);
	CHECK_EQ(f.n, 2);
	LINE_IS(&f, 0, "map: ranges=0 mapped=0B");
	LINE_IS(&f, 1, "map: tables pml4=" X16 " l4=1 l3=0 l2=0 l1=0 total=1", f.s.root.pa);
	teardown(&f);
}

/* ------------------------------------------------------------------ memmap */

/* Writes descriptor i of a map whose entries are ds bytes apart, junk in the slack. */
static void put(uint8_t *map, uint64_t ds, unsigned i, uint32_t type, uint64_t start,
		uint64_t pages, uint64_t attr)
{
	efi_desc d = { type, 0xdeadbeef, start, 0x5555000000000000ull, pages, attr };
	memset(map + i * ds, 0xEE, ds);
	memcpy(map + i * ds, &d, sizeof(d));
}

/* One line per descriptor (type padded to a column, end exclusive), stepping by the
 * descriptor size; totals per type in type order, OEM/OS/unknown pooled; a summary. */
TEST(report_memmap_lines_and_totals)
{
	fixture f;
	enum { DS = 56, N = 7 };
	uint8_t map[DS * N];
	memset(&f, 0, sizeof(f));
	put(map, DS, 0, 7, 0x100000, 0x700, 0xf);
	put(map, DS, 1, 2, 0x800000, 16, 0xf);
	put(map, DS, 2, 7, 0x1000000, 0x100, 0xf);
	put(map, DS, 3, 11, 0xfec00000, 1, 0x8000000000000001ull);
	put(map, DS, 4, 0x70000001, 0x2000000, 1, 0);
	put(map, DS, 5, 0x80000000, 0x3000000, 2, 0);
	put(map, DS, 6, 20, 0x4000000, 3, 0);
	report_memmap(collect, &f, map, sizeof(map), DS);
	CHECK_EQ(f.n, N + 6 + 1);
	LINE_IS(&f, 0, "memmap: %-26s start=0x0000000000100000 end=0x0000000000800000 pages=1792 "
		       "attr=0x000000000000000f", "EfiConventionalMemory");
	LINE_IS(&f, 3, "memmap: %-26s start=0x00000000fec00000 end=0x00000000fec01000 pages=1 "
		       "attr=0x8000000000000001", "EfiMemoryMappedIO");
	LINE_IS(&f, 4, "memmap: %-26s start=0x0000000002000000 end=0x0000000002001000 pages=1 "
		       "attr=0x0000000000000000", "OEM");
	LINE_IS(&f, 7, "memmap: total %-26s pages=16", "EfiLoaderData");
	LINE_IS(&f, 8, "memmap: total %-26s pages=2048", "EfiConventionalMemory");
	LINE_IS(&f, 9, "memmap: total %-26s pages=1", "EfiMemoryMappedIO");
	LINE_IS(&f, 10, "memmap: total %-26s pages=1", "OEM");
	LINE_IS(&f, 11, "memmap: total %-26s pages=2", "OS");
	LINE_IS(&f, 12, "memmap: total %-26s pages=3", "Unknown");
	LINE_IS(&f, 13, "memmap: descriptors=7 pages=2071");
	clear_lines(&f);
}

/* A map whose geometry is wrong is refused in one line, and no entry is read. */
TEST(report_memmap_bad_geometry)
{
	fixture f;
	uint8_t map[96] = { 0 };
	memset(&f, 0, sizeof(f));
	report_memmap(collect, &f, map, 96, 32);
	report_memmap(collect, &f, map, 90, 48);
	report_memmap(collect, &f, NULL, 48, 48);
	CHECK_EQ(f.n, 3);
	LINE_IS(&f, 0, "memmap: bad map geometry size=96 desc_size=32");
	LINE_IS(&f, 1, "memmap: bad map geometry size=90 desc_size=48");
	LINE_IS(&f, 2, "memmap: bad map geometry size=48 desc_size=48");
	clear_lines(&f);
}

/* An entry that would run past 2^64 is shown as such rather than wrapped. */
TEST(report_memmap_end_past_2_64)
{
	fixture f;
	uint8_t map[48];
	memset(&f, 0, sizeof(f));
	put(map, 48, 0, 0, 0xfffffffffffff000ull, 2, 0);
	report_memmap(collect, &f, map, 48, 48);
	CHECK(f.n >= 1 && strstr(f.line[0], " end=past-2^64 pages=2 "));
	clear_lines(&f);
}

/* An empty map still gets its summary line. */
TEST(report_memmap_empty)
{
	fixture f;
	memset(&f, 0, sizeof(f));
	report_memmap(collect, &f, NULL, 0, 48);
	CHECK_EQ(f.n, 1);
	LINE_IS(&f, 0, "memmap: descriptors=0 pages=0");
	clear_lines(&f);
}

/* The totals agree with memmap_convert's view of the same map (within the pages that
 * overlaps or merging could move, here none). */
TEST(report_memmap_totals_match_conversion)
{
	fixture f;
	uint8_t map[48 * 3];
	mem_region st[8];
	mem_list l;
	memset(&f, 0, sizeof(f));
	put(map, 48, 0, 7, 0x100000, 10, 0xf);
	put(map, 48, 1, 7, 0x200000, 5, 0xf);
	put(map, 48, 2, 4, 0x300000, 3, 0xf);
	mem_list_init(&l, st, 8);
	CHECK_ERR(memmap_convert(map, sizeof(map), 48, &l, NULL), PG_OK);
	report_memmap(collect, &f, map, sizeof(map), 48);
	char want[128];
	snprintf(want, sizeof(want), "memmap: total %-26s pages=%" PRIu64, "EfiConventionalMemory",
		 mem_list_total(&l, MEM_USABLE) / 4096);
	CHECK(f.n > 4 && strcmp(f.line[4], want) == 0);
	clear_lines(&f);
}

/* ------------------------------------------------------------------ kinds */

/* One line per region with its kind name, totals per kind in pages, the count. */
TEST(report_kinds_lines_and_totals)
{
	fixture f;
	mem_region st[8];
	mem_list l;
	memset(&f, 0, sizeof(f));
	mem_list_init(&l, st, 8);
	CHECK_ERR(mem_list_set(&l, 0x1000, 0x9f000, MEM_USABLE), PG_OK);
	CHECK_ERR(mem_list_set(&l, 0x100000, 0x300000, MEM_USABLE), PG_OK);
	CHECK_ERR(mem_list_set(&l, 0x400000, 0x10000, MEM_KERNEL), PG_OK);
	CHECK_ERR(mem_list_set(&l, 0xfec00000, 0x1000, MEM_MMIO), PG_OK);
	report_kinds(collect, &f, &l);
	CHECK_EQ(f.n, 4 + 3 + 1);
	LINE_IS(&f, 0, "kinds: start=0x0000000000001000 end=0x00000000000a0000 size=636KiB "
		       "kind=usable");
	LINE_IS(&f, 2, "kinds: start=0x0000000000400000 end=0x0000000000410000 size=64KiB "
		       "kind=kernel");
	LINE_IS(&f, 4, "kinds: total %-16s pages=927", "usable");
	LINE_IS(&f, 5, "kinds: total %-16s pages=16", "kernel");
	LINE_IS(&f, 6, "kinds: total %-16s pages=1", "mmio");
	LINE_IS(&f, 7, "kinds: regions=4");
	clear_lines(&f);
}

/* The flag words callers reuse for their own lines. */
TEST(report_flags_words)
{
	char b[64];
	fmt_line l;
	fmt_init(&l, b, sizeof(b));
	report_flags(&l, 0);
	CHECK(strcmp(b, "RO NX WB") == 0);
	fmt_init(&l, b, sizeof(b));
	report_flags(&l, PG_W | PG_X | PG_U | PG_G | PG_CACHE_WT);
	CHECK(strcmp(b, "W X U G WT") == 0);
}

/* ------------------------------------------------------------------ 5 levels (issue 11) */

/* With 5 levels the walk starts at the PML5 and names it; the physmap at 10 TiB lies under
 * PML5 index 0 and PML4 index 20, so the walk has one line more. */
TEST(report_translate_5_levels)
{
	fixture f;
	memset(&f, 0, sizeof(f));
	sim_init(&f.ram, 16ull << 20);
	if (pg_space_init(&f.s, sim_frames(&f.ram), sim_offset(&f.ram), true, true, 46, 5))
		abort();
	CHECK_ERR(pg_map(&f.s, pg_va(OFFSET), pg_pa(0), PG_1G, PG_W | PG_G, NULL), PG_OK);
	CHECK_ERR(report_translate(collect, &f, &f.s, 0xA0000001000ull), PG_OK);
	uint64_t l5e = raw(&f, f.s.root.pa, 0);
	CHECK_EQ(f.n, 5);
	LINE_IS(&f, 0, "translate: 0x00000a0000001000 walk from pml5=" X16, f.s.root.pa);
	LINE_IS(&f, 1, "translate:   L5 index=0 entry=" X16 " P W U table=" X16, l5e,
		(uint64_t)(l5e & 0x000ffffffffff000ull));
	CHECK(strncmp(f.line[2], "translate:   L4 index=20 entry=", 31) == 0);
	LINE_IS(&f, 3, "translate:   L3 index=0 entry=0x8000000000000183 P W PS G NX "
		       "page=0x0000000000000000");
	LINE_IS(&f, 4, "translate: 0x00000a0000001000 -> 0x0000000000001000 page=1G W NX G WB");
	clear_lines(&f);
	/* canonical in 57 bits, not mapped: stops at L5; past bit 56: not canonical */
	CHECK_ERR(report_translate(collect, &f, &f.s, 0x00ff800000000000ull), PG_ERR_NOT_MAPPED);
	LINE_IS(&f, f.n - 1, "translate: 0x00ff800000000000 -> not mapped (level 5)");
	clear_lines(&f);
	CHECK_ERR(report_translate(collect, &f, &f.s, 0x0100000000000000ull), PG_ERR_NOT_CANONICAL);
	LINE_IS(&f, 0, "translate: 0x0100000000000000 -> invalid: not canonical (bits 63:56 must all be equal)");
	clear_lines(&f);
	CHECK_ERR(report_map(collect, &f, &f.s), PG_OK);
	CHECK(strstr(f.line[f.n - 1], " pml5=") && strstr(f.line[f.n - 1], " l5=1 l4=1 "));
	teardown(&f);
}
