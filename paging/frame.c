/* frame.c - the physical frame allocator: 4 KiB frames and 2 MiB blocks over the usable
 * regions, O(1) amortized alloc and free, exact double/foreign-free detection. Its
 * metadata (one 72-byte record per 2 MiB block) is carved out of the memory it manages. */
#include "frame.h"

#define FRAME_SHIFT 12
#define FRAME_BYTES (1ull << FRAME_SHIFT)
#define BLOCK_SHIFT 21
#define BLOCK_BYTES (1ull << BLOCK_SHIFT)
#define BLOCK_FRAMES 512u
#define NONE UINT64_MAX
#define NO_BLOCK UINT32_MAX

/* Block flags. A FULL block lies wholly inside its region and can be handed out as
 * 2 MiB; the others (region edges) only ever serve 4 KiB frames. */
#define B_FULL 1u    /* all 512 frames are in the region */
#define B_WHOLE 2u   /* on the list of whole free blocks, none of its frames on the 4K list */
#define B_ALLOC2M 4u /* handed out as one 2 MiB block */

/* Per 2 MiB block: the free bitmap of its 512 frames (1 = free) and its state. Blocks
 * are numbered region by region, each region from the 2 MiB boundary at or below its base,
 * so a block's bits never straddle words and bits of frames outside the region stay 0. */
struct block {
	uint64_t bits[BLOCK_FRAMES / 64];
	uint32_t next;   /* next whole free block, or NO_BLOCK */
	uint16_t free;   /* free frames, counting untouched ones of the bump block */
	uint8_t flags;
	uint8_t region;  /* index into frame_alloc.regions */
};

/* Stored inside each free frame on the 4K list: the list costs no metadata. */
struct link {
	uint64_t prev, next;
};

static void *ptr(const frame_alloc *fa, uint64_t pa)
{
	return (void *)(uintptr_t)(pa + fa->phys_offset);
}

static struct block *blk(const frame_alloc *fa, uint64_t b)
{
	return (struct block *)ptr(fa, fa->meta.pa) + b;
}

static struct link *link_of(const frame_alloc *fa, uint64_t pa)
{
	return ptr(fa, pa);
}

static uint64_t region_end(const struct frame_region *r)
{
	return r->base + (r->frames << FRAME_SHIFT);
}

/* Number of 2 MiB blocks touched by the region (base and frames must be non-zero). */
static uint64_t region_blocks(uint64_t base, uint64_t frames)
{
	uint64_t last = base + (frames << FRAME_SHIFT) - 1;
	return (last >> BLOCK_SHIFT) - (base >> BLOCK_SHIFT) + 1;
}

/* Physical address of block b. */
static uint64_t block_addr(const frame_alloc *fa, uint64_t b)
{
	const struct frame_region *r = &fa->regions[blk(fa, b)->region];
	return (r->base & ~(BLOCK_BYTES - 1)) + ((b - r->first_block) << BLOCK_SHIFT);
}

/* Index of the region holding frame pa, or -1: binary search over the sorted regions. */
static long find_region(const frame_alloc *fa, uint64_t pa)
{
	size_t lo = 0, hi = fa->region_count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (fa->regions[mid].base <= pa)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || pa >= region_end(&fa->regions[lo - 1]))
		return -1;
	return (long)(lo - 1);
}

/* The block and the frame index inside it for pa, which lies in region k. */
static uint64_t locate(const frame_alloc *fa, long k, uint64_t pa, unsigned *bit)
{
	const struct frame_region *r = &fa->regions[k];
	uint64_t off = pa - (r->base & ~(BLOCK_BYTES - 1));
	*bit = (unsigned)(off >> FRAME_SHIFT) % BLOCK_FRAMES;
	return r->first_block + (off >> BLOCK_SHIFT);
}

static bool bit_get(const struct block *b, unsigned i)
{
	return b->bits[i / 64] >> (i % 64) & 1;
}

static void bit_put(struct block *b, unsigned i, bool v)
{
	uint64_t m = 1ull << (i % 64);
	b->bits[i / 64] = v ? b->bits[i / 64] | m : b->bits[i / 64] & ~m;
}

static void bits_fill(struct block *b, uint64_t v)
{
	for (unsigned w = 0; w < BLOCK_FRAMES / 64; w++)
		b->bits[w] = v;
}

static void push4k(frame_alloc *fa, uint64_t pa)
{
	struct link *l = link_of(fa, pa);
	l->prev = NONE;
	l->next = fa->list4k;
	if (fa->list4k != NONE)
		link_of(fa, fa->list4k)->prev = pa;
	fa->list4k = pa;
}

static void unlink4k(frame_alloc *fa, uint64_t pa)
{
	struct link *l = link_of(fa, pa);
	if (l->prev != NONE)
		link_of(fa, l->prev)->next = l->next;
	else
		fa->list4k = l->next;
	if (l->next != NONE)
		link_of(fa, l->next)->prev = l->prev;
}

static void push2m(frame_alloc *fa, uint64_t b)
{
	struct block *x = blk(fa, b);
	x->next = fa->list2m == NONE ? NO_BLOCK : (uint32_t)fa->list2m;
	x->flags |= B_WHOLE;
	fa->list2m = b;
}

/* Takes the first whole free block off its list; the caller checked there is one. */
static uint64_t pop2m(frame_alloc *fa)
{
	uint64_t b = fa->list2m;
	struct block *x = blk(fa, b);
	fa->list2m = x->next == NO_BLOCK ? NONE : x->next;
	x->flags &= (uint8_t)~B_WHOLE;
	return b;
}

/* Collects the page-rounded usable regions of list into fa. PG_ERR_BAD_ARG when they
 * are unsorted or overlap (binary search needs order) or there are too many. */
static pg_err collect(frame_alloc *fa, const mem_list *list)
{
	fa->region_count = 0;
	uint64_t prev_end = 0;
	for (size_t i = 0; i < list->count; i++) {
		const mem_region *m = &list->r[i];
		if (m->kind != MEM_USABLE || m->length == 0)
			continue;
		if (m->length > UINT64_MAX - m->start || m->start < prev_end)
			return PG_ERR_BAD_ARG;
		prev_end = m->start + m->length;
		uint64_t s = (m->start + FRAME_BYTES - 1) & ~(FRAME_BYTES - 1);
		uint64_t e = prev_end & ~(FRAME_BYTES - 1);
		if (s < m->start || e <= s)
			continue;
		if (fa->region_count == FRAME_MAX_REGIONS)
			return PG_ERR_BAD_ARG;
		struct frame_region *r = &fa->regions[fa->region_count++];
		r->base = s;
		r->frames = (e - s) >> FRAME_SHIFT;
	}
	return PG_OK;
}

/* Total block records the regions need. */
static uint64_t count_blocks(const frame_alloc *fa)
{
	uint64_t n = 0;
	for (size_t k = 0; k < fa->region_count; k++)
		n += region_blocks(fa->regions[k].base, fa->regions[k].frames);
	return n;
}

/* Removes pages frames from the start of the first region that has that many, for the
 * metadata; drops the region if nothing is left of it. False when none is large enough. */
static bool carve(frame_alloc *fa, uint64_t pages)
{
	for (size_t k = 0; k < fa->region_count; k++) {
		struct frame_region *r = &fa->regions[k];
		if (r->frames < pages)
			continue;
		fa->meta = pg_pa(r->base);
		r->base += pages << FRAME_SHIFT;
		r->frames -= pages;
		if (r->frames == 0) {
			for (size_t j = k; j + 1 < fa->region_count; j++)
				fa->regions[j] = fa->regions[j + 1];
			fa->region_count--;
		}
		return true;
	}
	return false;
}

/* Fills block b of region k: whole blocks go on the 2M list, the in-region frames of
 * edge blocks straight on the 4K list. Called from the last block down, so both lists
 * come out in ascending address order. */
static void init_block(frame_alloc *fa, size_t k, uint64_t b)
{
	const struct frame_region *r = &fa->regions[k];
	struct block *x = blk(fa, b);
	x->region = (uint8_t)k;
	x->next = NO_BLOCK;
	uint64_t start = block_addr(fa, b), end = start + BLOCK_BYTES;
	uint64_t lo = start < r->base ? r->base : start;
	uint64_t hi = end > region_end(r) || end == 0 ? region_end(r) : end;
	x->free = (uint16_t)((hi - lo) >> FRAME_SHIFT);
	if (x->free == BLOCK_FRAMES) {
		bits_fill(x, ~0ull);
		x->flags = B_FULL;
		push2m(fa, b);
		return;
	}
	bits_fill(x, 0);
	x->flags = 0;
	for (uint64_t pa = hi; pa > lo; pa -= FRAME_BYTES) {
		bit_put(x, (unsigned)((pa - FRAME_BYTES - start) >> FRAME_SHIFT), true);
		push4k(fa, pa - FRAME_BYTES);
	}
}

pg_err frame_init(frame_alloc *fa, const mem_list *list, uint64_t phys_offset,
		  mem_region *meta_out)
{
	if (!fa || !list)
		return PG_ERR_BAD_ARG;
	fa->phys_offset = phys_offset;
	pg_err e = collect(fa, list);
	if (e != PG_OK)
		return e;
	uint64_t blocks = count_blocks(fa);
	if (blocks >= NO_BLOCK)
		return PG_ERR_BAD_ARG;
	uint64_t pages = (blocks * sizeof(struct block) + FRAME_BYTES - 1) >> FRAME_SHIFT;
	if (blocks == 0 || !carve(fa, pages))
		return PG_ERR_NO_FRAMES;
	fa->meta_bytes = pages << FRAME_SHIFT;
	fa->list4k = NONE;
	fa->list2m = NONE;
	fa->bump_block = NONE;
	fa->bump_next = 0;
	fa->total_frames = 0;
	fa->block_count = 0;
	/* Carving can only shrink the regions, so the records still fit in the area. */
	for (size_t k = 0; k < fa->region_count; k++) {
		struct frame_region *r = &fa->regions[k];
		r->first_block = fa->block_count;
		r->bitmap_word = r->first_block * (BLOCK_FRAMES / 64);
		fa->block_count += region_blocks(r->base, r->frames);
		fa->total_frames += r->frames;
	}
	for (size_t k = fa->region_count; k > 0; k--) {
		const struct frame_region *r = &fa->regions[k - 1];
		for (uint64_t b = r->first_block + region_blocks(r->base, r->frames);
		     b > r->first_block; b--)
			init_block(fa, k - 1, b - 1);
	}
	fa->free_frames = fa->total_frames;
	if (meta_out)
		*meta_out = (mem_region){ fa->meta.pa, fa->meta_bytes, MEM_KERNEL, 0 };
	return PG_OK;
}

/* Marks frame bit of block b allocated. */
static void take(frame_alloc *fa, uint64_t b, unsigned bit)
{
	struct block *x = blk(fa, b);
	bit_put(x, bit, false);
	x->free--;
	fa->free_frames--;
}

pg_err frame_alloc_4k(frame_alloc *fa, pg_paddr *frame)
{
	if (!fa || !frame)
		return PG_ERR_BAD_ARG;
	uint64_t pa;
	if (fa->list4k != NONE) {
		/* Reuse freed frames first so that whole blocks stay whole for 2 MiB requests. */
		pa = fa->list4k;
		unlink4k(fa, pa);
		unsigned bit;
		uint64_t b = locate(fa, find_region(fa, pa), pa, &bit);
		take(fa, b, bit);
	} else {
		if (fa->bump_block == NONE || fa->bump_next == BLOCK_FRAMES) {
			if (fa->list2m == NONE)
				return PG_ERR_NO_FRAMES;
			fa->bump_block = pop2m(fa);
			fa->bump_next = 0;
		}
		/* Bump frames are handed out without being touched: no link to read. */
		unsigned bit = (unsigned)fa->bump_next++;
		pa = block_addr(fa, fa->bump_block) + ((uint64_t)bit << FRAME_SHIFT);
		take(fa, fa->bump_block, bit);
	}
	*frame = pg_pa(pa);
	return PG_OK;
}

pg_err frame_alloc_2m(frame_alloc *fa, pg_paddr *block)
{
	if (!fa || !block)
		return PG_ERR_BAD_ARG;
	if (fa->list2m == NONE)
		return PG_ERR_NO_FRAMES;
	uint64_t b = pop2m(fa);
	struct block *x = blk(fa, b);
	bits_fill(x, 0);
	x->free = 0;
	x->flags |= B_ALLOC2M;
	fa->free_frames -= BLOCK_FRAMES;
	*block = pg_pa(block_addr(fa, b));
	return PG_OK;
}

/* Block b just became entirely free: pull its frames off the 4K list (those below the
 * bump index if it is the bump block; the rest were never on it) and make it whole. */
static void coalesce(frame_alloc *fa, uint64_t b)
{
	uint64_t n = b == fa->bump_block ? fa->bump_next : BLOCK_FRAMES;
	uint64_t base = block_addr(fa, b);
	for (uint64_t i = 0; i < n; i++)
		unlink4k(fa, base + (i << FRAME_SHIFT));
	if (b == fa->bump_block)
		fa->bump_block = NONE;
	push2m(fa, b);
}

/* The checks both frees start with: pa aligned to align and inside a managed region.
 * Returns the block that holds it and the frame's bit in that block. */
static pg_err owning_block(const frame_alloc *fa, uint64_t pa, uint64_t align, uint64_t *b,
			   unsigned *bit)
{
	if (!fa)
		return PG_ERR_BAD_ARG;
	if (pa & (align - 1))
		return PG_ERR_NOT_ALIGNED;
	long k = find_region(fa, pa);
	if (k < 0)
		return PG_ERR_NOT_OWNED;
	*b = locate(fa, k, pa, bit);
	return PG_OK;
}

pg_err frame_free_4k(frame_alloc *fa, pg_paddr frame)
{
	uint64_t b;
	unsigned bit;
	pg_err e = owning_block(fa, frame.pa, FRAME_BYTES, &b, &bit);
	if (e != PG_OK)
		return e;
	struct block *x = blk(fa, b);
	if (x->flags & B_ALLOC2M)
		return PG_ERR_NOT_OWNED;
	if (bit_get(x, bit))
		return PG_ERR_DOUBLE_FREE;
	bit_put(x, bit, true);
	x->free++;
	fa->free_frames++;
	push4k(fa, frame.pa);
	if ((x->flags & B_FULL) && x->free == BLOCK_FRAMES)
		coalesce(fa, b);
	return PG_OK;
}

pg_err frame_free_2m(frame_alloc *fa, pg_paddr block)
{
	uint64_t b;
	unsigned bit;
	pg_err e = owning_block(fa, block.pa, BLOCK_BYTES, &b, &bit);
	if (e != PG_OK)
		return e;
	struct block *x = blk(fa, b);
	if (x->flags & B_WHOLE)
		return PG_ERR_DOUBLE_FREE;
	if (!(x->flags & B_ALLOC2M))
		return PG_ERR_NOT_OWNED; /* an edge block, or one split into 4 KiB frames */
	bits_fill(x, ~0ull);
	x->free = BLOCK_FRAMES;
	x->flags &= (uint8_t)~B_ALLOC2M;
	fa->free_frames += BLOCK_FRAMES;
	push2m(fa, b);
	return PG_OK;
}

static bool source_alloc(void *ctx, pg_paddr *frame)
{
	return frame_alloc_4k(ctx, frame) == PG_OK;
}

/* pg_frames.free cannot report: a bad free is refused by frame_free_4k without harm. */
static void source_free(void *ctx, pg_paddr frame)
{
	(void)frame_free_4k(ctx, frame);
}

pg_frames frame_source(frame_alloc *fa)
{
	pg_frames f = { source_alloc, source_free, fa };
	return f;
}
