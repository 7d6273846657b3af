/* test_contract_frame.c - unit tests written to kill the mutants of paging/frame.c that
 * the other tests let live (issue 12, make mutate): argument checks, the exact metadata
 * and block bookkeeping frame.h documents, region edges (physical 0, the top of memory,
 * sub-page and unaligned regions) and regions far apart. */
#include <string.h>
#include <sys/mman.h>

#include "frame.h"
#include "test.h"

#define K4 0x1000ull
#define M2 0x200000ull
#define MIB 0x100000ull

/* Host memory standing for physical [base, base + size): anonymous and zero-filled
 * (MAP_NORESERVE, so only the pages the allocator touches cost memory). */
typedef struct {
	uint8_t *mem;
	uint64_t base, size;
	mem_region st[16];
	mem_list list;
	frame_alloc fa;
	mem_region meta;
} fr;

static void fr_up(fr *f, uint64_t base, uint64_t size)
{
	memset(f, 0, sizeof(*f));
	f->mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS |
		      MAP_NORESERVE, -1, 0);
	CHECK(f->mem != MAP_FAILED);
	f->base = base;
	f->size = size;
	mem_list_init(&f->list, f->st, 16);
}

static uint64_t fr_offset(const fr *f) { return (uint64_t)(uintptr_t)f->mem - f->base; }

/* Adds a raw region (no normalizing: frame_init must cope with what it is given). */
static void fr_add(fr *f, uint64_t start, uint64_t len, mem_kind kind)
{
	f->st[f->list.count++] = (mem_region){ start, len, kind, 0 };
}

static pg_err fr_init(fr *f)
{
	return frame_init(&f->fa, &f->list, fr_offset(f), &f->meta);
}

static void fr_down(fr *f) { munmap(f->mem, f->size); }

/* Allocates every 4 KiB frame, checks each lies in a usable region of the list and is
 * aligned, frees them all (each PG_OK, a second free DOUBLE_FREE); returns the count. */
static uint64_t drain_and_refill(fr *f)
{
	static uint64_t got[8192];
	uint64_t n = 0;
	pg_paddr p;
	while (n < 8192 && frame_alloc_4k(&f->fa, &p) == PG_OK) {
		bool inside = false;
		for (size_t i = 0; i < f->list.count; i++)
			inside |= f->st[i].kind == MEM_USABLE && p.pa >= f->st[i].start &&
				  p.pa + K4 <= f->st[i].start + f->st[i].length;
		CHECK(inside && !(p.pa & (K4 - 1)));
		got[n++] = p.pa;
	}
	CHECK_EQ(frame_free_count(&f->fa), 0);
	for (uint64_t i = 0; i < n; i++)
		CHECK_ERR(frame_free_4k(&f->fa, pg_pa(got[i])), PG_OK);
	for (uint64_t i = 0; i < n; i += 97)
		CHECK_ERR(frame_free_4k(&f->fa, pg_pa(got[i])), PG_ERR_DOUBLE_FREE);
	CHECK_EQ(frame_free_count(&f->fa), n);
	return n;
}

TEST(contract_frame_null_arguments_are_bad_arg)
{
	fr f;
	fr_up(&f, 0x400000, 8 * MIB);
	fr_add(&f, 0x400000, 8 * MIB, MEM_USABLE);
	pg_paddr p;
	CHECK_ERR(frame_init(NULL, &f.list, fr_offset(&f), NULL), PG_ERR_BAD_ARG);
	CHECK_ERR(frame_init(&f.fa, NULL, fr_offset(&f), NULL), PG_ERR_BAD_ARG);
	CHECK_ERR(fr_init(&f), PG_OK);
	CHECK_ERR(frame_alloc_4k(NULL, &p), PG_ERR_BAD_ARG);
	CHECK_ERR(frame_alloc_4k(&f.fa, NULL), PG_ERR_BAD_ARG);
	CHECK_ERR(frame_alloc_2m(NULL, &p), PG_ERR_BAD_ARG);
	CHECK_ERR(frame_alloc_2m(&f.fa, NULL), PG_ERR_BAD_ARG);
	CHECK_ERR(frame_free_4k(NULL, pg_pa(0x600000)), PG_ERR_BAD_ARG);
	CHECK_ERR(frame_free_2m(NULL, pg_pa(0x600000)), PG_ERR_BAD_ARG);
	CHECK_EQ(frame_free_count(&f.fa), f.fa.total_frames);
	fr_down(&f);
}

/* 512 blocks need 512 * 72 bytes = exactly 9 frames of metadata; a region ending on a
 * 2 MiB boundary touches no block past it; the records say where they start. */
TEST(contract_frame_metadata_and_block_counts_are_exact)
{
	fr f;
	fr_up(&f, 0x40000000, 1ull << 30);
	fr_add(&f, 0x40000000, 1ull << 30, MEM_USABLE);
	CHECK_ERR(fr_init(&f), PG_OK);
	CHECK_EQ(f.fa.meta_bytes, 9 * K4);
	CHECK_EQ(f.meta.start, 0x40000000);
	CHECK_EQ(f.meta.length, 9 * K4);
	CHECK_EQ(f.meta.kind, MEM_KERNEL);
	CHECK_EQ(f.meta.reserved, 0);
	CHECK_EQ(f.fa.block_count, 512);
	CHECK_EQ(f.fa.region_count, 1);
	CHECK_EQ(f.fa.regions[0].first_block, 0);
	CHECK_EQ(f.fa.total_frames, 262144 - 9);
	fr_down(&f);

	fr_up(&f, 0x400000, 32 * MIB);
	fr_add(&f, 0x400000, 4 * MIB, MEM_USABLE);
	fr_add(&f, 0x1000000, 6 * MIB + 0x3000, MEM_USABLE);
	CHECK_ERR(fr_init(&f), PG_OK);
	CHECK_EQ(f.fa.block_count, 2 + 4);
	CHECK_EQ(f.fa.regions[1].first_block, 2);
	CHECK_EQ(f.fa.regions[1].bitmap_word, 16);
	CHECK_EQ(f.fa.total_frames, 1024 - 1 + 1536 + 3);
	fr_down(&f);
}

/* More blocks than a record index can name is BAD_ARG, found before any metadata is
 * written (the regions here are far larger than the memory behind them). */
TEST(contract_frame_too_many_blocks_is_bad_arg)
{
	fr f;
	fr_up(&f, 0, 16 * MIB);
	fr_add(&f, 0x200000, 0xffffffffull * M2, MEM_USABLE);
	CHECK_ERR(fr_init(&f), PG_ERR_BAD_ARG);
	fr_down(&f);
}

/* A usable region at physical 0, one ending at the very top of the address space, and
 * pieces smaller than a page are all handled. */
TEST(contract_frame_region_at_zero)
{
	fr f;
	fr_up(&f, 0, 8 * MIB);
	fr_add(&f, 0, 4 * MIB, MEM_USABLE);
	CHECK_ERR(fr_init(&f), PG_OK);
	CHECK_EQ(f.fa.total_frames, 1024 - 1);
	CHECK_EQ(drain_and_refill(&f), 1023);
	fr_down(&f);
}

TEST(contract_frame_region_at_the_top_of_memory)
{
	fr f;
	uint64_t base = 0ull - 4 * MIB;
	fr_up(&f, base, 4 * MIB);
	fr_add(&f, base, 4 * MIB - 1, MEM_USABLE); /* ends at 2^64 - 1 */
	CHECK_ERR(fr_init(&f), PG_OK);
	CHECK_EQ(f.fa.total_frames, 1024 - 1 - 1);
	CHECK_EQ(f.fa.block_count, 2);
	CHECK_EQ(drain_and_refill(&f), 1022);
	fr_down(&f);
}

TEST(contract_frame_sub_page_and_unaligned_regions)
{
	fr f;
	fr_up(&f, 0x200000, 16 * MIB);
	fr_add(&f, 0x200000, 2 * MIB, MEM_USABLE);
	fr_add(&f, 0x400000, 0, MEM_USABLE);              /* empty */
	fr_add(&f, 0x401800, 0x100, MEM_USABLE);          /* inside one page */
	fr_add(&f, 0x402010, 0x1000 - 0x20, MEM_USABLE);  /* rounds to nothing */
	fr_add(&f, 0x404000, 0x801, MEM_USABLE);          /* aligned, odd end: nothing */
	fr_add(&f, 0x600001, 0x3000, MEM_USABLE);         /* [0x601000, 0x603000) */
	fr_add(&f, 0x800000, 0x3800, MEM_USABLE);         /* [0x800000, 0x803000) */
	CHECK_ERR(fr_init(&f), PG_OK);
	CHECK_EQ(f.fa.region_count, 3);
	CHECK_EQ(f.fa.regions[1].base, 0x601000);
	CHECK_EQ(f.fa.regions[1].frames, 2);
	CHECK_EQ(f.fa.regions[2].frames, 3);
	CHECK_EQ(f.fa.total_frames, 511 + 2 + 3);
	CHECK_EQ(drain_and_refill(&f), 516);
	fr_down(&f);
}

/* Order is checked strictly: adjacent regions are fine, a zero-length region inside
 * another is ignored, a one-byte region overlapped by the next is not. */
TEST(contract_frame_region_order)
{
	fr f;
	fr_up(&f, 0x200000, 16 * MIB);
	fr_add(&f, 0x200000, 2 * MIB, MEM_USABLE);
	fr_add(&f, 0x400000, 2 * MIB, MEM_USABLE);
	fr_add(&f, 0x500000, 0, MEM_USABLE);
	CHECK_ERR(fr_init(&f), PG_OK);
	CHECK_EQ(f.fa.total_frames, 1023);
	fr_down(&f);

	fr_up(&f, 0x200000, 16 * MIB);
	fr_add(&f, 0x200000, 1, MEM_USABLE);
	fr_add(&f, 0x200000, 4 * MIB, MEM_USABLE);
	CHECK_ERR(fr_init(&f), PG_ERR_BAD_ARG);
	fr_down(&f);
}

/* A first region exactly the size of the metadata is used up and dropped; the regions
 * after it move down in order. */
TEST(contract_frame_metadata_uses_up_a_region)
{
	fr f;
	fr_up(&f, 0x200000, 32 * MIB);
	fr_add(&f, 0x200000, K4, MEM_USABLE);
	fr_add(&f, 0x400000, 8 * MIB, MEM_USABLE);
	fr_add(&f, 0x1000000, 2 * MIB, MEM_USABLE);
	fr_add(&f, 0x1400000, 2 * MIB, MEM_USABLE);
	CHECK_ERR(fr_init(&f), PG_OK);
	CHECK_EQ(f.meta.start, 0x200000);
	CHECK_EQ(f.fa.region_count, 3);
	CHECK_EQ(f.fa.regions[0].base, 0x400000);
	CHECK_EQ(f.fa.regions[1].base, 0x1000000);
	CHECK_EQ(f.fa.regions[2].base, 0x1400000);
	CHECK_EQ(f.fa.total_frames, 2048 + 512 + 512);
	fr_down(&f);
}

/* Regions far apart (gaps of many blocks): every frame of every region is found again
 * on free, 2 MiB blocks come back as blocks, foreign frames in the gaps are refused. */
TEST(contract_frame_regions_far_apart)
{
	fr f;
	fr_up(&f, 0x200000, 64 * MIB);
	fr_add(&f, 0x200000, 2 * MIB + 0x5000, MEM_USABLE);
	fr_add(&f, 0x1000000, 4 * MIB, MEM_USABLE);
	fr_add(&f, 0x3000000, 0x7000, MEM_USABLE);
	CHECK_ERR(fr_init(&f), PG_OK);
	CHECK_ERR(frame_free_4k(&f.fa, pg_pa(0x800000)), PG_ERR_NOT_OWNED);
	CHECK_ERR(frame_free_4k(&f.fa, pg_pa(0x3007000)), PG_ERR_NOT_OWNED);
	CHECK_ERR(frame_free_4k(&f.fa, pg_pa(0x100000)), PG_ERR_NOT_OWNED);
	pg_paddr b1, b2;
	CHECK_ERR(frame_alloc_2m(&f.fa, &b1), PG_OK);
	CHECK_ERR(frame_alloc_2m(&f.fa, &b2), PG_OK);
	CHECK_ERR(frame_free_2m(&f.fa, b2), PG_OK);
	CHECK_ERR(frame_free_2m(&f.fa, b1), PG_OK);
	CHECK_ERR(frame_free_2m(&f.fa, b1), PG_ERR_DOUBLE_FREE);
	uint64_t total = f.fa.total_frames;
	CHECK_EQ(drain_and_refill(&f), total);
	fr_down(&f);
}

/* With FRAME_MAX_REGIONS regions, the first used up by the metadata, the others move
 * down without reading past the last one (UBSan checks the index). 256 one-page
 * regions touch 256 blocks: 256 * 72 bytes of records fill 5 pages exactly. */
TEST(contract_frame_metadata_uses_up_the_first_of_max_regions)
{
	static mem_region st[FRAME_MAX_REGIONS];
	fr f;
	fr_up(&f, 0x200000, 4 * MIB);
	mem_list_init(&f.list, st, FRAME_MAX_REGIONS);
	st[0] = (mem_region){ 0x200000, 5 * K4, MEM_USABLE, 0 };
	for (unsigned i = 1; i < FRAME_MAX_REGIONS; i++)
		st[i] = (mem_region){ 0x400000 + i * 2 * K4, K4, MEM_USABLE, 0 };
	f.list.count = FRAME_MAX_REGIONS;
	CHECK_ERR(fr_init(&f), PG_OK);
	CHECK_EQ(f.fa.meta_bytes, 5 * K4);
	CHECK_EQ(f.fa.region_count, FRAME_MAX_REGIONS - 1);
	CHECK_EQ(f.fa.regions[0].base, 0x400000 + 2 * K4);
	CHECK_EQ(f.fa.regions[FRAME_MAX_REGIONS - 2].base, 0x400000 + 255 * 2 * K4);
	CHECK_EQ(f.fa.total_frames, FRAME_MAX_REGIONS - 1);
	fr_down(&f);
}
