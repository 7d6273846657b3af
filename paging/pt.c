/* pt.c - the x86_64 4- and 5-level page-table engine: translate, map, map_range, unmap,
 * unmap_range, protect, split and the merging leaf walker. Freestanding; every table
 * is reached through pg_table(), and every operation that can fail checks first and
 * writes second, so a failure leaves the tables exactly as they were. */
#include "paging.h"
#include "pte.h"

/*
 * A 48-bit virtual address splits into four 9-bit table indices and a 12-bit offset;
 * with 5 levels (CR4.LA57) a fifth index sits above them and addresses have 57 bits:
 *
 *   56      48 47      39 38      30 29      21 20      12 11         0
 *   | L5 idx  | L4 idx  | L3 idx   | L2 idx   | L1 idx   |  offset    |
 *
 * Level L's index starts at bit 3 + 9L, and one entry of level L spans 2^(3+9L) bytes
 * (256 TiB, 512 GiB, 1 GiB, 2 MiB, 4 KiB). The bits above the width copy its top bit
 * (canonical form). Walks start at s->levels; the code below that only says "level"
 * works for either. Ranges are carried as inclusive [first, last] so that the top of
 * memory never overflows.
 */
#define NONE (~0ull)

static inline unsigned shift_of(unsigned level) { return 3 + 9 * level; }
static inline uint64_t span_of(unsigned level) { return 1ull << shift_of(level); }
static inline unsigned index_of(uint64_t va, unsigned level)
{
	return (unsigned)(va >> shift_of(level)) & 511;
}
/* va sign-extended from the top bit of the handle's width. */
static inline uint64_t canon(const pg_space *s, uint64_t va)
{
	unsigned sh = 64 - shift_of(s->levels + 1);
	return (uint64_t)((int64_t)(va << sh) >> sh);
}
static inline uint64_t entry_va(const pg_space *s, uint64_t base, unsigned i, unsigned level)
{
	return canon(s, base + ((uint64_t)i << shift_of(level)));
}
static inline uint64_t min_u64(uint64_t a, uint64_t b) { return a < b ? a : b; }
static inline uint64_t max_u64(uint64_t a, uint64_t b) { return a > b ? a : b; }

static inline uint64_t *tab(const pg_space *s, uint64_t phys) { return pg_table(s, pg_pa(phys)); }
/* The door of pg_table() for the hot walks: entry i of the table at phys is at
 * phys + bias, bias = phys_offset + 8i (pg_lookup's also takes away the bits the entry
 * that led there carries besides the address). The bias is formed apart (the empty asm
 * keeps the compiler from folding it back), so that of the walk only the entry load,
 * its mask and this add wait on each other. */
static inline uint64_t entry_bias(uint64_t base, uint64_t i)
{
	uint64_t bias = base + i * 8;
	__asm__("" : "+r"(bias));
	return bias;
}
static inline uint64_t *entry_at(uint64_t phys, uint64_t bias)
{
	return (uint64_t *)(uintptr_t)(phys + bias);
}
static inline bool present(uint64_t e) { return e & PTE_P; }
/* Levels 4 and 5 have no leaves: bit 7 is reserved there. */
static inline bool is_leaf(uint64_t e, unsigned level)
{
	return level == 1 || (level < 4 && (e & PTE_PS));
}
/* [va, last] lies in one half of the address space and both ends are canonical. */
static inline bool canonical_range(const pg_space *s, uint64_t va, uint64_t last)
{
	return pg_space_canonical(s, va) && pg_space_canonical(s, last) && (va >> 63) == (last >> 63);
}
/* va is canonical for a width whose top bit is bit: from it up, all 0 or all 1 (what
 * pg_space_canonical says, as one shift and one compare). */
static inline bool canonical_from(uint64_t va, unsigned bit)
{
	return (uint64_t)(((int64_t)va >> bit) + 1) <= 1;
}
static inline uint64_t leaf_addr(uint64_t e, unsigned level)
{
	return e & PTE_ADDR & ~(span_of(level) - 1);
}

/* ------------------------------------------------------------------ names */

const char *pg_strerror(pg_err e)
{
	static const char *const names[PG_ERR__COUNT] = {
		[PG_OK] = "ok",
		[PG_ERR_NOT_CANONICAL] = "address not canonical",
		[PG_ERR_NOT_ALIGNED] = "address not aligned",
		[PG_ERR_ALREADY_MAPPED] = "already mapped",
		[PG_ERR_HUGE_PAGE] = "a huge page is in the way",
		[PG_ERR_NO_FRAMES] = "out of frames",
		[PG_ERR_NOT_MAPPED] = "not mapped",
		[PG_ERR_BAD_FRAME] = "bad frame address",
		[PG_ERR_BAD_ARG] = "bad argument",
		[PG_ERR_UNSUPPORTED] = "not supported by this CPU",
		[PG_ERR_DOUBLE_FREE] = "frame already free",
		[PG_ERR_NOT_OWNED] = "frame not owned by the allocator",
	};
	return (unsigned)e < PG_ERR__COUNT ? names[e] : "unknown error";
}

const char *pg_size_name(pg_size s)
{
	static const char *const names[PG_SIZE_COUNT] = { "4K", "2M", "1G" };
	return (unsigned)s < PG_SIZE_COUNT ? names[s] : "?";
}

/* PAT entries 0..7: WB WT UC- UC WC WT UC- UC (entry 4 is WC instead of WB). */
uint64_t pg_pat_value(void) { return 0x0007040100070406ull; }

/* ------------------------------------------------------------------ entries */

/* The PG_CACHE_* value for each PAT index (PWT | PCD << 1 | PAT << 2): the entries of
 * pg_pat_value(). WB, WT, UC and WC are written as indices 0, 1, 3 and 4 (see CB). */
#define CACHE_OF(p) ((p) == 0 ? 0u : (p) == 1 || (p) == 5 ? 1u : (p) == 4 ? 3u : 2u)
static const uint8_t pat_to_cache[8] = { CACHE_OF(0), CACHE_OF(1), CACHE_OF(2), CACHE_OF(3),
					 CACHE_OF(4), CACHE_OF(5), CACHE_OF(6), CACHE_OF(7) };

/* Leaf bits (all but the address) for every PG_* combination, built at compile time:
 * [huge][nx][flags], huge = the leaf is 2 MiB or 1 GiB (PS set, PAT at bit 12 instead
 * of bit 7), nx = the handle's has_nx (XD set where PG_X is not). Every leaf the library
 * writes comes from here (one load where maps are hot). */
#define CB(c, pat) ((c) == 0 ? 0 : (c) == 1 ? PTE_PWT : (c) == 2 ? PTE_PWT | PTE_PCD : (pat))
#define LB(f, h, nx) (PTE_P | (((uint64_t)(f) & PG_W) << 1) | ((uint64_t)(f) & PG_U) |	\
		      (((uint64_t)(f) & PG_G) << 5) |						\
		      CB(((f) >> PG_CACHE_SHIFT) & 3, (h) ? PTE_PAT_HUGE : PTE_PAT_4K) |	\
		      ((h) ? PTE_PS : 0) | ((nx) && !((f) & PG_X) ? PTE_XD : 0))
#define LB_4(f, h, nx) LB(f, h, nx), LB((f) + 1, h, nx), LB((f) + 2, h, nx), LB((f) + 3, h, nx)
#define LB_16(f, h, nx) LB_4(f, h, nx), LB_4((f) + 4, h, nx), LB_4((f) + 8, h, nx), \
			LB_4((f) + 12, h, nx)
#define LB_64(h, nx) { LB_16(0, h, nx), LB_16(16, h, nx), LB_16(32, h, nx), LB_16(48, h, nx) }
static const uint64_t leaf_bits[2][2][64] = { { LB_64(0, 0), LB_64(0, 1) },
					      { LB_64(1, 0), LB_64(1, 1) } };
_Static_assert(PG_FLAGS_ALL == 63, "leaf_bits covers every flag combination");

/* The leaf entry that maps phys at this level with the generic flags (already checked
 * against PG_FLAGS_ALL). */
static inline uint64_t leaf_entry(const pg_space *s, uint64_t phys, unsigned flags,
				  unsigned level)
{
	_Static_assert(PG_W << 1 == PTE_W && PG_U == PTE_U && PG_G << 5 == PTE_G,
		       "generic flag bits line up with the PTE bits they become");
	return phys | leaf_bits[level > 1][s->has_nx][flags];
}

/* The generic flags a leaf carries by itself (G and cache type are leaf-only). */
static unsigned leaf_flags(const pg_space *s, uint64_t e, unsigned level)
{
	unsigned f = 0;
	unsigned pat = (e & PTE_PWT ? 1u : 0u) | (e & PTE_PCD ? 2u : 0u) |
		       (e & (level == 1 ? PTE_PAT_4K : PTE_PAT_HUGE) ? 4u : 0u);
	if (e & PTE_W)
		f |= PG_W;
	if (e & PTE_U)
		f |= PG_U;
	if (e & PTE_G)
		f |= PG_G;
	if (!s->has_nx || !(e & PTE_XD))
		f |= PG_X;
	return f | (unsigned)pat_to_cache[pat] << PG_CACHE_SHIFT;
}

/* Rights inherited from the levels above a leaf: the CPU ANDs W and U, ORs XD. */
typedef struct { bool w, u, xd; } rights;
static const rights all_rights = { true, true, false };

static rights narrow(rights r, uint64_t e)
{
	r.w = r.w && (e & PTE_W);
	r.u = r.u && (e & PTE_U);
	r.xd = r.xd || (e & PTE_XD);
	return r;
}

/* Effective flags of a leaf reached with the rights r of the levels above it. */
static unsigned effective(const pg_space *s, uint64_t e, unsigned level, rights r)
{
	unsigned f = leaf_flags(s, e, level);
	if (!r.w)
		f &= ~PG_W;
	if (!r.u)
		f &= ~PG_U;
	if (r.xd && s->has_nx)
		f &= ~PG_X;
	return f;
}

/* ------------------------------------------------------------------ frames */

/* Counts every unlinking of table frames (given back or abandoned) by any handle in
 * this program. A walk cache entry is good only while the count it saw is current, so
 * tables unlinked through another handle on the same tables - whose frames may come
 * back in the same roles, with the same entry values - can never be written through a
 * stale cache. Plain, not atomic: like the tables, one CPU at a time. */
static uint64_t unlink_count = 1;

static void release(pg_space *s, uint64_t list);

/* Takes n frames from the source, all or none, chained through their first word.
 * A frame the source gets wrong (misaligned, beyond phys_bits) is refused, not used,
 * and handed back to the source as it came, with the others: no frame is kept. */
static pg_err reserve(pg_space *s, uint64_t n, uint64_t *list)
{
	*list = NONE;
	for (uint64_t i = 0; i < n; i++) {
		pg_paddr f;
		pg_err err = PG_OK;
		if (!s->frames || !s->frames->alloc(s->frames->ctx, &f)) {
			err = PG_ERR_NO_FRAMES;
		} else if ((f.pa & 4095) || (f.pa >> s->phys_bits)) {
			err = PG_ERR_BAD_FRAME;
			if (s->frames->free)
				s->frames->free(s->frames->ctx, f);
		}
		if (err != PG_OK) {
			release(s, *list);
			*list = NONE;
			return err;
		}
		*tab(s, f.pa) = *list;
		*list = f.pa;
	}
	return PG_OK;
}

/* Gives every frame of a chain back to the source (kept when it has no free). The
 * chain holds unlinked tables, so the walk cache may point into one: empty it. */
static void release(pg_space *s, uint64_t list)
{
	if (list != NONE) {
		s->walk_key = 0;
		unlink_count++;
	}
	while (list != NONE) {
		uint64_t next = *tab(s, list);
		if (s->frames && s->frames->free)
			s->frames->free(s->frames->ctx, pg_pa(list));
		list = next;
	}
}

static uint64_t take(const pg_space *s, uint64_t *list)
{
	uint64_t f = *list;
	*list = *tab(s, f);
	return f;
}

/* Zeroes the entries of a fresh table outside [lo, hi], which the caller fills. */
static void zero_outside(uint64_t *t, unsigned lo, unsigned hi)
{
	for (unsigned i = 0; i < lo; i++)
		t[i] = 0;
	for (unsigned i = hi + 1; i < 512; i++)
		t[i] = 0;
}

static void zero_table(uint64_t *t) { zero_outside(t, 512, 511); }

/*
 * Present-entry counts. Bits 52-61 of an entry that points at a table (ignored by the
 * CPU in such entries) hold how many entries of that table are present, so that
 * unmapping a page knows at once whether its table became empty. 1..512 is exact;
 * 0 or anything above 512 means "not counted" (tables built elsewhere carry 0): such a
 * table is counted by one scan the first time a count is needed, and exactly from then
 * on. The top table has no parent entry, and is never given back.
 */
#define COUNT_SHIFT 52
#define COUNT_MASK  (0x3ffull << COUNT_SHIFT)

static inline uint64_t count_of(uint64_t e) { return (e & COUNT_MASK) >> COUNT_SHIFT; }
static inline bool counted(uint64_t c) { return c - 1 < 512; }
static inline uint64_t with_count(uint64_t e, uint64_t c)
{
	return (e & ~COUNT_MASK) | c << COUNT_SHIFT;
}

static uint64_t scan_count(const uint64_t *t)
{
	uint64_t n = 0;
	for (unsigned i = 0; i < 512; i++)
		n += present(t[i]);
	return n;
}

/* The table *pe points at gained n present entries (call after writing them). */
static void count_add(const pg_space *s, uint64_t *pe, uint64_t n)
{
	uint64_t c = count_of(*pe);
	if (counted(c) && c + n <= 512)
		*pe += n << COUNT_SHIFT;
	else
		*pe = with_count(*pe, scan_count(tab(s, *pe & PTE_ADDR)));
}

/* The table *pe points at lost n present entries (call after clearing them); returns
 * how many are left. */
static uint64_t count_sub(const pg_space *s, uint64_t *pe, uint64_t n)
{
	uint64_t c = count_of(*pe);
	if (counted(c) && c >= n)
		c -= n;
	else
		c = scan_count(tab(s, *pe & PTE_ADDR));
	*pe = with_count(*pe, c);
	return c;
}

/* Chains the table at phys and every table below it onto *doomed (children first,
 * since the chain link overwrites word 0). Leaves are not looked at. */
static void doom_subtree(pg_space *s, uint64_t phys, unsigned level, uint64_t *doomed)
{
	uint64_t *t = tab(s, phys);
	if (level > 1)
		for (unsigned i = 0; i < 512; i++)
			if (present(t[i]) && !is_leaf(t[i], level))
				doom_subtree(s, t[i] & PTE_ADDR, level - 1, doomed);
	t[0] = *doomed;
	*doomed = phys;
}

static void flush(const pg_space *s, uint64_t va, uint64_t length)
{
	if (s->flush)
		s->flush(s->flush_ctx, pg_va(va), length);
}

/* ------------------------------------------------------------------ walk cache */

/* Remembers t, the level-1 table of va's 2 MiB region, reached through the level-2
 * entry *l2e (its value l2v), whose count the caller has made exact (1..512); the fast
 * paths of pg_map and pg_unmap keep it so, in the entry and in walk_l2v. */
static inline void cache_set(pg_space *s, uint64_t va, uint64_t *l2e, uint64_t l2v, uint64_t *t)
{
	s->walk_key = (va >> 21) + 1;
	s->walk_gen = unlink_count;
	s->walk_l2e = l2e;
	s->walk_l2v = l2v; /* = *l2e */
	s->walk_table = t;
}

/* Whether va's level-1 table is the cached one and still linked where it was: the same
 * 2 MiB region (every bit of va above 21, so va is canonical), no table unlinked
 * anywhere since (unlink_count) and the level-2 entry unchanged. (The top table is
 * the handle's for life: only pg_space_init/attach set it, and they empty the cache.) */
static inline bool cache_hit(const pg_space *s, uint64_t va)
{
	return s->walk_key == (va >> 21) + 1 && s->walk_gen == unlink_count &&
	       *s->walk_l2e == s->walk_l2v;
}

/* ------------------------------------------------------------------ space */

/* pg_lookup's way in for the handle that will live at s (see pg_lookup). */
static void lookup_setup(pg_space *n, const pg_space *s)
{
	n->lookup_self = n->levels == 4 ? s : NULL;
	n->lookup_root = tab(n, n->root.pa);
	n->lookup_bias = n->phys_offset - PTE_TABLE;
}

pg_err pg_space_attach(pg_space *s, pg_paddr root, pg_frames *frames, uint64_t phys_offset,
		       bool has_nx, bool has_1g, unsigned phys_bits, unsigned levels)
{
	if (!s || (root.pa & 4095) || phys_bits < 32 || phys_bits > 52 ||
	    (root.pa >> phys_bits) || (frames && !frames->alloc) || (levels != 4 && levels != 5))
		return PG_ERR_BAD_ARG;
	pg_space n = { .root = root, .levels = levels, .phys_offset = phys_offset,
		       .has_nx = has_nx, .has_1g = has_1g, .phys_bits = phys_bits,
		       .frames = frames };
	lookup_setup(&n, s);
	*s = n;
	return PG_OK;
}

pg_err pg_space_init(pg_space *s, pg_frames *frames, uint64_t phys_offset,
		     bool has_nx, bool has_1g, unsigned phys_bits, unsigned levels)
{
	uint64_t list;
	if (!s || !frames || !frames->alloc || phys_bits < 32 || phys_bits > 52 ||
	    (levels != 4 && levels != 5))
		return PG_ERR_BAD_ARG;
	pg_space n = { .levels = levels, .phys_offset = phys_offset, .has_nx = has_nx,
		       .has_1g = has_1g, .phys_bits = phys_bits, .frames = frames };
	pg_err e = reserve(&n, 1, &list);
	if (e != PG_OK)
		return e;
	n.root = pg_pa(list);
	lookup_setup(&n, s);
	zero_table(tab(&n, list));
	*s = n;
	return PG_OK;
}

static void destroy_tables(pg_space *s, uint64_t phys, unsigned level)
{
	uint64_t *t = tab(s, phys);
	if (level > 1)
		for (unsigned i = 0; i < 512; i++)
			if (present(t[i]) && !is_leaf(t[i], level))
				destroy_tables(s, t[i] & PTE_ADDR, level - 1);
	if (s->frames && s->frames->free)
		s->frames->free(s->frames->ctx, pg_pa(phys));
}

/* levels == 0 marks a handle without tables (zeroed, or destroyed): physical page 0
 * is a valid table frame, so the root address cannot say it. */
void pg_space_destroy(pg_space *s)
{
	if (!s || s->levels == 0)
		return;
	destroy_tables(s, s->root.pa, s->levels);
	s->root = pg_pa(0);
	s->levels = 0;
	s->walk_key = 0;
	s->lookup_self = NULL;
	unlink_count++;
}

static void count_tables(const pg_space *s, uint64_t phys, unsigned level, uint64_t counts[5])
{
	const uint64_t *t = tab(s, phys);
	counts[level - 1]++;
	if (level > 1)
		for (unsigned i = 0; i < 512; i++)
			if (present(t[i]) && !is_leaf(t[i], level))
				count_tables(s, t[i] & PTE_ADDR, level - 1, counts);
}

void pg_count_tables(const pg_space *s, uint64_t counts[5])
{
	for (unsigned i = 0; i < 5; i++)
		counts[i] = 0;
	if (s && s->levels) /* a destroyed or zeroed handle has no tables */
		count_tables(s, s->root.pa, s->levels, counts);
}

/* ------------------------------------------------------------------ translate */

/* pg_translate's walk with the top level known at compile time, so that it unrolls:
 * a 4-level walk costs what it did before 5 levels existed. */
static inline __attribute__((always_inline)) pg_err translate_from(const pg_space *s,
								   uint64_t va,
								   pg_translation *out,
								   const unsigned top)
{
	uint64_t table = s->root.pa;
	uint64_t all = ~0ull, any = 0; /* AND and OR of the entries above the leaf */
	unsigned sh = 64 - shift_of(top + 1);
	if ((uint64_t)((int64_t)(va << sh) >> sh) != va)
		return PG_ERR_NOT_CANONICAL;
	/* Only load -> mask -> add is on the dependent path; the rest runs beside it. */
#pragma GCC unroll 5
	for (unsigned level = top; level >= 1; level--) {
		unsigned i = index_of(va, level);
		uint64_t e = tab(s, table)[i];
		out->walk[top - level].index = i;
		out->walk[top - level].entry = e;
		if (!present(e)) {
			out->levels = top + 1 - level;
			out->stop_level = level;
			return PG_ERR_NOT_MAPPED;
		}
		if (is_leaf(e, level)) {
			rights r = { (all & PTE_W) != 0, (all & PTE_U) != 0, (any & PTE_XD) != 0 };
			out->levels = top + 1 - level;
			out->phys = pg_pa(leaf_addr(e, level) | (va & (span_of(level) - 1)));
			out->size = (pg_size)(level - 1);
			out->flags = effective(s, e, level, r);
			out->stop_level = 0;
			return PG_OK;
		}
		all &= e;
		any |= e;
		table = e & PTE_ADDR;
	}
	return PG_ERR_NOT_MAPPED; /* not reached: level 1 entries are leaves */
}

/* The generic flags of a leaf in pg_lookup's info encoding, indexed by info bits 1-8
 * (W U PWT PCD A D PAT G, W and U already ANDed over the levels), X included: the
 * caller's XD bit clears it. A 4 KiB leaf has these bits where the CPU has them, and
 * lookup_slow gives every other answer in that form. */
#define PAT4K(i) (((i) >> 2 & 1) | ((i) >> 3 & 1) << 1 | ((i) >> 6 & 1) << 2)
#define LF4K(i) (uint8_t)(((i) & 1 ? PG_W : 0) | ((i) & 2 ? PG_U : 0) | \
			  ((i) & 128 ? PG_G : 0) | PG_X | CACHE_OF(PAT4K(i)) << PG_CACHE_SHIFT)
#define LF4K_4(i) LF4K(i), LF4K((i) + 1), LF4K((i) + 2), LF4K((i) + 3)
#define LF4K_16(i) LF4K_4(i), LF4K_4((i) + 4), LF4K_4((i) + 8), LF4K_4((i) + 12)
#define LF4K_64(i) LF4K_16(i), LF4K_16((i) + 16), LF4K_16((i) + 32), LF4K_16((i) + 48)
const uint8_t pg_lookup_flags[256] = { LF4K_64(0), LF4K_64(64), LF4K_64(128), LF4K_64(192) };

static inline pg_lookup_result lookup_err(pg_err e)
{
	return (pg_lookup_result){ 0, (uint64_t)e << 12 };
}
_Static_assert(PG_ERR__COUNT <= 16 && PG_SIZE_COUNT <= 16, "pg_lookup codes fit entry ^ frame bits 12-15");

/* pg_lookup off the way to a 4 KiB leaf (an entry above level 1 that is not present,
 * is a huge leaf or narrows the rights), or on an empty handle: pg_translate's walk,
 * its answer put in pg_lookup's form, which is a 4 KiB leaf with the effective flags
 * (leaf_bits, XD as with NX) and the size. Kept out of line, so that the hot walk
 * holds few values. */
static __attribute__((noinline)) pg_lookup_result lookup_slow(const pg_space *s, uint64_t va)
{
	pg_translation t;
	pg_err err = pg_translate(s, pg_va(va), &t);
	if (err != PG_OK)
		return lookup_err(err);
	uint64_t frame = (t.phys.pa & PTE_ADDR) | PTE_P;
	return (pg_lookup_result){ frame, (frame ^ (uint64_t)t.size << 12) | leaf_bits[0][1][t.flags] };
}

/* pg_lookup's walk for a top level known at compile time, from the top table (through
 * phys_offset) and bias = phys_offset - PTE_TABLE. The way to a 4 KiB leaf is
 * straight-line code for tables whose entries take nothing away: present, writable,
 * user, no XD and no PS (what this library writes, PTE_TABLE). At each level one AND
 * keeps those bits and the address, x = table | PTE_TABLE, and two tests that need no
 * more arithmetic read it: its low byte is PTE_TABLE, its sign (XD) is clear. The next
 * entry is at x + bias + 8i, so the dependent path is only load -> AND -> load.
 * Anything else, a hole or a huge leaf or an entry that narrows the rights, goes to
 * lookup_slow. The leaf leaves as it is, its frame and present bit masked out; a leaf
 * that is not present is answered by pg_translate_fast. */
static inline __attribute__((always_inline)) pg_lookup_result lookup_from(const pg_space *s,
									  uint64_t va,
									  const unsigned top,
									  const uint64_t *root,
									  uint64_t bias)
{
	const uint64_t keep = PTE_ADDR | PTE_XD | PTE_PS | PTE_U | PTE_W | PTE_P;
	/* va from the top index up, sign and all: va is canonical when that fits in 9
	 * signed bits, and its low 9 bits are the top index. Two compares rather than
	 * one on hi + 256 (the empty asm keeps the compiler from merging them), which
	 * the branch units take without an add. */
	int64_t hi = (int64_t)va >> shift_of(top);
	if (__builtin_expect(hi > 255, 0))
		return lookup_err(PG_ERR_NOT_CANONICAL);
	__asm__("" : "+r"(hi));
	if (__builtin_expect(hi < -256, 0))
		return lookup_err(PG_ERR_NOT_CANONICAL);
	uint64_t e = root[(uint64_t)hi & 511], x;
#pragma GCC unroll 5
	for (unsigned level = top; level >= 2; level--) {
		if (level != top)
			e = *entry_at(x, entry_bias(bias, index_of(va, level)));
		x = e & keep;
		if (__builtin_expect((uint8_t)x != PTE_TABLE || (int64_t)x < 0, 0))
			return lookup_slow(s, va);
	}
	e = *entry_at(x, entry_bias(bias, index_of(va, 1)));
	return (pg_lookup_result){ e & (PTE_ADDR | PTE_P), e };
}

/* pg_lookup off its way in: the 5-level walk, in a function of its own so that the
 * 4-level one holds few values, and a 4-level handle that is a copy or was written by
 * hand, both from the handle's fields as they are now; the empty handle, which
 * pg_translate answers. */
static __attribute__((noinline)) pg_lookup_result lookup_other(const pg_space *s, uint64_t va)
{
	if (s->levels == 5)
		return lookup_from(s, va, 5, tab(s, s->root.pa), s->phys_offset - PTE_TABLE);
	if (s->levels == 4)
		return lookup_from(s, va, 4, tab(s, s->root.pa), s->phys_offset - PTE_TABLE);
	return lookup_slow(s, va);
}

/* A 4-level handle set up where it lives takes the way in pg_space_init/attach worked
 * out; lookup_self tells a copy or a handle written by hand, whose fields may have
 * been changed since. */
pg_lookup_result pg_lookup(const pg_space *s, pg_vaddr va)
{
	if (__builtin_expect(s->lookup_self == s, 1))
		return lookup_from(s, va.va, 4, s->lookup_root, s->lookup_bias);
	return lookup_other(s, va.va);
}

pg_err pg_translate(const pg_space *s, pg_vaddr vaddr, pg_translation *out)
{
	if (s->levels == 4)
		return translate_from(s, vaddr.va, out, 4);
	if (s->levels == 5)
		return translate_from(s, vaddr.va, out, 5);
	return PG_ERR_BAD_ARG; /* a destroyed or zeroed handle */
}

/* ------------------------------------------------------------------ map */

/* Checks what map and map_range share, in the documented order. */
static pg_err check_map_args(const pg_space *s, uint64_t va, uint64_t pa, uint64_t length,
			     unsigned flags, pg_size size, uint64_t align)
{
	uint64_t last = va + length - 1;
	if (!s || !s->levels || (unsigned)size >= PG_SIZE_COUNT || (flags & ~PG_FLAGS_ALL) ||
	    length == 0 || last < va)
		return PG_ERR_BAD_ARG;
	if (size == PG_1G && !s->has_1g)
		return PG_ERR_UNSUPPORTED;
	if (!canonical_range(s, va, last))
		return PG_ERR_NOT_CANONICAL;
	if ((va | pa | length) & (align - 1))
		return PG_ERR_NOT_ALIGNED;
	if (pa + length - 1 < pa || (pa + length - 1) >> s->phys_bits)
		return PG_ERR_BAD_FRAME;
	return PG_OK;
}

/* First leaf below a table in address order, if any: its frame goes to *phys. */
static bool first_leaf(const pg_space *s, uint64_t table, unsigned level, uint64_t *phys)
{
	const uint64_t *t = tab(s, table);
	for (unsigned i = 0; i < 512; i++) {
		if (!present(t[i]))
			continue;
		if (is_leaf(t[i], level)) {
			*phys = leaf_addr(t[i], level);
			return true;
		}
		if (first_leaf(s, t[i] & PTE_ADDR, level - 1, phys))
			return true;
	}
	return false;
}

/* pg_map's rare paths, kept out of its hot path, which found no leaf above leaf's level
 * and none at it: walking again to the first empty slot or to leaf's level, the slot is
 * present but holds tables where the leaf goes, or is empty with tables still to be made
 * down to leaf. */
static __attribute__((noinline)) pg_err map_slow(pg_space *s, uint64_t va, uint64_t pa,
						 unsigned flags, unsigned leaf, pg_paddr *existing)
{
	uint64_t list, doomed = NONE, found;
	uint64_t *slot = tab(s, s->root.pa) + index_of(va, s->levels), *pe = 0;
	unsigned level = s->levels;
	pg_err err;
	for (; level > leaf && present(*slot); level--) {
		pe = slot; /* a table: the hot path returned on leaves above leaf's level */
		slot = tab(s, *slot & PTE_ADDR) + index_of(va, level - 1);
	}
	if (level == leaf) {
		if (first_leaf(s, *slot & PTE_ADDR, level - 1, &found)) {
			if (existing)
				*existing = pg_pa(found);
			return PG_ERR_ALREADY_MAPPED;
		}
		/* Only empty tables below: the leaf replaces them. */
		doom_subtree(s, *slot & PTE_ADDR, level - 1, &doomed);
		*slot = leaf_entry(s, pa, flags, leaf);
		flush(s, va, span_of(leaf));
		release(s, doomed);
		return PG_OK;
	}
	if ((err = reserve(s, level - leaf, &list)) != PG_OK)
		return err;
	for (; level > leaf; level--) {
		uint64_t f = take(s, &list);
		uint64_t *child = tab(s, f);
		zero_table(child);
		*slot = f | PTE_TABLE | 1ull << COUNT_SHIFT; /* the one entry written below */
		slot = &child[index_of(va, level - 1)];
	}
	*slot = leaf_entry(s, pa, flags, leaf);
	if (pe)
		count_add(s, pe, 1); /* the first new table's link */
	return PG_OK;
}

/* The walk and write of pg_map for a leaf level known at compile time, so that the
 * walk unrolls into straight-line code. Arguments are already checked (flags too: the
 * leaf bits come from a table indexed by them). Each level's entry is read through
 * entry_at, so that the dependent path is load -> mask -> load. */
static inline __attribute__((always_inline)) pg_err map_walk(pg_space *s, uint64_t va,
							     uint64_t pa, unsigned flags,
							     const unsigned leaf, const unsigned top,
							     pg_paddr *existing)
{
	unsigned level = top;
	uint64_t off = s->phys_offset, table = s->root.pa;
	uint64_t *pe = 0; /* the entry that points at the table */
	uint64_t *slot;
#pragma GCC unroll 5
	for (; level > leaf; level--) {
		uint64_t *ep = entry_at(table, entry_bias(off, index_of(va, level))), e = *ep;
		if (!present(e))
			break;
		if (level < 4 && (e & PTE_PS))
			return PG_ERR_HUGE_PAGE;
		pe = ep;
		table = e & PTE_ADDR;
	}
	slot = tab(s, table) + index_of(va, level);
	if (level == leaf && !present(*slot)) { /* every table is there */
		uint64_t up = *pe; /* read before the leaf is written: slot is not *pe */
		*slot = leaf_entry(s, pa, flags, leaf);
		if (count_of(up) - 1 < 511) { /* counted, and not full */
			uint64_t counted_up = up + (1ull << COUNT_SHIFT);
			*pe = counted_up;
			if (leaf == 1)
				cache_set(s, va, pe, counted_up, tab(s, table));
		} else {
			count_add(s, pe, 1);
		}
		return PG_OK;
	}
	if (level == leaf && is_leaf(*slot, level)) {
		if (existing)
			*existing = pg_pa(leaf_addr(*slot, level));
		return PG_ERR_ALREADY_MAPPED;
	}
	return map_slow(s, va, pa, flags, leaf, existing);
}

/* One walker per page size and width, each its own function, so that each holds only
 * its own values (map_checked reaches them by tail call). */
#define MAP_WALKER(name, leaf, top)							\
	static __attribute__((noinline)) pg_err name(pg_space *s, uint64_t va, uint64_t pa,	\
						     unsigned flags, pg_paddr *existing)	\
	{										\
		return map_walk(s, va, pa, flags, leaf, top, existing);			\
	}
MAP_WALKER(map_4k_l4, 1, 4)
MAP_WALKER(map_4k_l5, 1, 5)
MAP_WALKER(map_2m_l4, 2, 4)
MAP_WALKER(map_2m_l5, 2, 5)
MAP_WALKER(map_1g_l4, 3, 4)
MAP_WALKER(map_1g_l5, 3, 5)

/* pg_map for a page size known at compile time: the checks of check_map_args, cut down
 * for one aligned page (it cannot wrap, and if its first byte is canonical so is its
 * last); a 4 KiB page then goes into the level-1 table the last walk reached if that is
 * va's (cache_hit); else the walker, by tail call. */
static inline __attribute__((always_inline)) pg_err map_sized(pg_space *s, uint64_t va,
							      uint64_t pa, const pg_size size,
							      unsigned flags, pg_paddr *existing)
{
	if (!s || !s->levels || (flags & ~PG_FLAGS_ALL))
		return PG_ERR_BAD_ARG;
	if (size == PG_1G && !s->has_1g)
		return PG_ERR_UNSUPPORTED;
	bool five = s->levels == 5;
	if (!canonical_from(va, five ? 56 : 47))
		return PG_ERR_NOT_CANONICAL;
	if ((va | pa) & (pg_size_bytes(size) - 1))
		return PG_ERR_NOT_ALIGNED;
	if (pa >> s->phys_bits)
		return PG_ERR_BAD_FRAME;
	switch (size) {
	case PG_4K:
		if (cache_hit(s, va)) {
			uint64_t *slot = &s->walk_table[index_of(va, 1)];
			if (!present(*slot)) { /* so the exact count is below 512 */
				uint64_t l2v = s->walk_l2v + (1ull << COUNT_SHIFT);
				*slot = leaf_entry(s, pa, flags, 1);
				*s->walk_l2e = l2v;
				s->walk_l2v = l2v;
				return PG_OK;
			}
		}
		return five ? map_4k_l5(s, va, pa, flags, existing)
			    : map_4k_l4(s, va, pa, flags, existing);
	case PG_2M:
		return five ? map_2m_l5(s, va, pa, flags, existing)
			    : map_2m_l4(s, va, pa, flags, existing);
	default:
		return five ? map_1g_l5(s, va, pa, flags, existing)
			    : map_1g_l4(s, va, pa, flags, existing);
	}
}

/* pg_map of a huge page, kept out of the 4 KiB path. */
static __attribute__((noinline)) pg_err map_checked(pg_space *s, uint64_t va, uint64_t pa,
						    pg_size size, unsigned flags,
						    pg_paddr *existing)
{
	switch (size) {
	case PG_2M:
		return map_sized(s, va, pa, PG_2M, flags, existing);
	case PG_1G:
		return map_sized(s, va, pa, PG_1G, flags, existing);
	default:
		return PG_ERR_BAD_ARG;
	}
}

pg_err pg_map(pg_space *s, pg_vaddr page, pg_paddr frame, pg_size size, unsigned flags,
	      pg_paddr *existing)
{
	if (size == PG_4K)
		return map_sized(s, page.va, frame.pa, PG_4K, flags, existing);
	return map_checked(s, page.va, frame.pa, size, flags, existing);
}

/* map_range state: the range [first, last], phys = va + delta, and the leaf templates. */
typedef struct {
	pg_space *s;
	uint64_t first, last, delta;
	unsigned max_level;
	uint64_t bits[4];       /* leaf entry without address, per level 1..3 */
	uint64_t need;          /* check pass: new tables required */
	uint64_t existing;      /* check pass: frame in the way */
	uint64_t reserve;       /* commit pass: frames to build tables from */
	uint64_t doomed;        /* commit pass: empty tables replaced by leaves */
} mr_state;

/* The largest leaf level that alignment of va and its phys and the remaining length
 * allow, capped at cap. */
static unsigned choose(const mr_state *m, uint64_t va, unsigned cap)
{
	unsigned level = m->max_level < cap ? m->max_level : cap;
	for (; level > 1; level--) {
		uint64_t span = span_of(level);
		if (((va | (va + m->delta)) & (span - 1)) == 0 && m->last - va >= span - 1)
			break;
	}
	return level;
}

/* Check pass over [a, b] inside the table at phys (NONE: the table does not exist yet).
 * Counts new tables into m->need; returns the first conflict in address order. */
static pg_err mr_check(mr_state *m, uint64_t phys, unsigned level, uint64_t base,
		       uint64_t a, uint64_t b)
{
	const uint64_t *t = phys == NONE ? 0 : tab(m->s, phys);
	if (level == 1)
		return PG_OK; /* only reached for a table still to be made: nothing below it */
	for (unsigned i = index_of(a, level), end = index_of(b, level); i <= end; i++) {
		uint64_t ev = entry_va(m->s, base, i, level);
		uint64_t lo = max_u64(a, ev), hi = min_u64(b, ev + span_of(level) - 1);
		unsigned want = choose(m, lo, level);
		uint64_t e = t ? t[i] : 0;
		pg_err err;
		if (!present(e)) {
			if (want < level) {
				m->need++;
				if ((err = mr_check(m, NONE, level - 1, ev, lo, hi)) != PG_OK)
					return err;
			}
			continue;
		}
		if (is_leaf(e, level)) {
			m->existing = leaf_addr(e, level) + (lo - ev);
			return want < level ? PG_ERR_HUGE_PAGE : PG_ERR_ALREADY_MAPPED;
		}
		if (want == level) {
			if (first_leaf(m->s, e & PTE_ADDR, level - 1, &m->existing))
				return PG_ERR_ALREADY_MAPPED;
			continue;
		}
		if (level - 1 == 1) {
			const uint64_t *c = tab(m->s, e & PTE_ADDR);
			for (unsigned j = index_of(lo, 1), je = index_of(hi, 1); j <= je; j++)
				if (present(c[j])) {
					m->existing = leaf_addr(c[j], 1);
					return PG_ERR_ALREADY_MAPPED;
				}
			continue;
		}
		if ((err = mr_check(m, e & PTE_ADDR, level - 1, ev, lo, hi)) != PG_OK)
			return err;
	}
	return PG_OK;
}

/* Commit pass: cannot fail; every table it needs is in m->reserve. fresh says the table
 * came from the reserve just now and only [a, b] of it is to be written. Returns how
 * many entries of the table became present, for its count. */
static uint64_t mr_commit(mr_state *m, uint64_t phys, unsigned level, uint64_t base,
			  uint64_t a, uint64_t b, bool fresh)
{
	uint64_t *t = tab(m->s, phys), added = 0;
	unsigned i = index_of(a, level), end = index_of(b, level);
	if (fresh)
		zero_outside(t, i, end);
	if (level == 1) { /* the check pass proved [i, end] empty */
		uint64_t pa = a + m->delta, bits = m->bits[1];
		for (; i <= end; i++, pa += 4096)
			t[i] = pa | bits;
		return index_of(b, 1) - index_of(a, 1) + 1;
	}
	for (; i <= end; i++) {
		uint64_t ev = entry_va(m->s, base, i, level);
		uint64_t lo = max_u64(a, ev), hi = min_u64(b, ev + span_of(level) - 1);
		unsigned want = choose(m, lo, level);
		uint64_t e = fresh ? 0 : t[i];
		if (want == level) {
			if (present(e)) /* an empty subtree, as the check pass proved */
				doom_subtree(m->s, e & PTE_ADDR, level - 1, &m->doomed);
			else
				added++;
			t[i] = (lo + m->delta) | m->bits[level];
			continue;
		}
		if (present(e)) {
			uint64_t n = mr_commit(m, e & PTE_ADDR, level - 1, ev, lo, hi, false);
			if (n)
				count_add(m->s, &t[i], n);
		} else {
			uint64_t f = take(m->s, &m->reserve);
			uint64_t n = mr_commit(m, f, level - 1, ev, lo, hi, true);
			t[i] = f | PTE_TABLE | n << COUNT_SHIFT;
			added++;
		}
	}
	return added;
}

pg_err pg_map_range(pg_space *s, pg_vaddr virt, pg_paddr phys, uint64_t length,
		    unsigned flags, pg_size max_size)
{
	pg_err err = check_map_args(s, virt.va, phys.pa, length, flags, max_size, 4096);
	if (err != PG_OK)
		return err;
	mr_state m = { .s = s, .first = virt.va, .last = virt.va + length - 1,
		       .delta = phys.pa - virt.va, .max_level = pg_size_level(max_size),
		       .reserve = NONE, .doomed = NONE };
	for (unsigned level = 1; level <= 3; level++)
		m.bits[level] = leaf_entry(s, 0, flags, level);
	if ((err = mr_check(&m, s->root.pa, s->levels, 0, m.first, m.last)) != PG_OK)
		return err;
	if ((err = reserve(s, m.need, &m.reserve)) != PG_OK)
		return err;
	(void)mr_commit(&m, s->root.pa, s->levels, 0, m.first, m.last, false);
	if (m.doomed != NONE) {
		flush(s, m.first, length);
		release(s, m.doomed);
	}
	return PG_OK;
}

/* ------------------------------------------------------------------ unmap */

/* The leaf that maps va: its level and the entries on the way (path[level] = the entry
 * of va at that level). */
static pg_err find_leaf(const pg_space *s, uint64_t va, unsigned *leaf, uint64_t *path[6])
{
	uint64_t table = s->root.pa;
	for (unsigned level = s->levels; level >= 1; level--) {
		uint64_t *ep = &tab(s, table)[index_of(va, level)], e = *ep;
		path[level] = ep;
		if (!present(e))
			return PG_ERR_NOT_MAPPED;
		if (is_leaf(e, level)) {
			*leaf = level;
			return PG_OK;
		}
		table = e & PTE_ADDR;
	}
	return PG_ERR_NOT_MAPPED;
}

/* find_leaf for a page argument: the checks pg_unmap and pg_split share, in their order. */
static pg_err leaf_of_page(const pg_space *s, uint64_t va, unsigned *leaf, uint64_t *path[6])
{
	if (!s || !s->levels)
		return PG_ERR_BAD_ARG;
	if (!pg_space_canonical(s, va))
		return PG_ERR_NOT_CANONICAL;
	if (va & 4095)
		return PG_ERR_NOT_ALIGNED;
	return find_leaf(s, va, leaf, path);
}

/* pg_unmap after its fast path. */
static __attribute__((noinline)) pg_err unmap_walk(pg_space *s, uint64_t va, pg_paddr *frame,
						   pg_size *size)
{
	uint64_t *path[6], doomed = NONE;
	unsigned leaf;
	pg_err err = leaf_of_page(s, va, &leaf, path);
	if (err != PG_OK)
		return err;
	if (va & (span_of(leaf) - 1))
		return PG_ERR_HUGE_PAGE;
	uint64_t *slot = path[leaf];
	if (frame)
		*frame = pg_pa(leaf_addr(*slot, leaf));
	if (size)
		*size = (pg_size)(leaf - 1);
	*slot = 0;
	/* Give back the tables this left empty, bottom up, as their counts say; never the
	 * top table. path[level + 1] is the entry that points at the table of path[level]. */
	bool reclaim = s->frames && s->frames->free;
	for (unsigned level = leaf; level < s->levels; level++) {
		uint64_t *pe = path[level + 1], t = *pe & PTE_ADDR;
		if (count_sub(s, pe, 1) != 0 || !reclaim) {
			if (level == 1 && count_of(*pe)) /* the next unmap nearby is fast */
				cache_set(s, va, pe, *pe, tab(s, t));
			break;
		}
		*pe = 0;
		tab(s, t)[0] = doomed;
		doomed = t;
	}
	flush(s, va, span_of(leaf));
	release(s, doomed);
	return PG_OK;
}

pg_err pg_unmap(pg_space *s, pg_vaddr page, pg_paddr *frame, pg_size *size)
{
	uint64_t va = page.va;
	/* Fast path: a 4 KiB leaf in the cached level-1 table that stays non-empty. A hit
	 * is canonical and aligned, a present level-1 entry is a 4 KiB leaf: no error of
	 * unmap_walk's can apply. */
	if (s && !(va & 4095) && cache_hit(s, va)) {
		uint64_t *slot = &s->walk_table[index_of(va, 1)], e = *slot, l2v = s->walk_l2v;
		if (present(e) && count_of(l2v) > 1) { /* more than this one */
			if (frame)
				*frame = pg_pa(e & PTE_ADDR);
			if (size)
				*size = PG_4K;
			*slot = 0;
			l2v -= 1ull << COUNT_SHIFT;
			*s->walk_l2e = l2v;
			s->walk_l2v = l2v;
			flush(s, va, 4096);
			return PG_OK;
		}
	}
	return unmap_walk(s, va, frame, size);
}

/* Checks a range argument for unmap_range and protect. */
static pg_err check_range(const pg_space *s, uint64_t va, uint64_t length)
{
	uint64_t last = va + length - 1;
	if (!s || !s->levels || length == 0 || last < va)
		return PG_ERR_BAD_ARG;
	if (!canonical_range(s, va, last))
		return PG_ERR_NOT_CANONICAL;
	if ((va | length) & 4095)
		return PG_ERR_NOT_ALIGNED;
	return PG_OK;
}

/* PG_ERR_HUGE_PAGE when a leaf maps va and runs over the boundary between va-1 and va. */
static pg_err crosses(const pg_space *s, uint64_t va)
{
	uint64_t *path[6];
	unsigned leaf;
	if (find_leaf(s, va, &leaf, path) == PG_OK && (va & (span_of(leaf) - 1)))
		return PG_ERR_HUGE_PAGE;
	return PG_OK;
}

/* Clears every leaf inside [a, b] (no leaf crosses an end), adding them to *leaves, and
 * unlinks tables left empty onto *doomed when the source takes frames back. Returns
 * how many entries of this table it cleared, for its count. */
static uint64_t clear(pg_space *s, uint64_t phys, unsigned level, uint64_t base,
		      uint64_t a, uint64_t b, uint64_t *doomed, uint64_t *leaves)
{
	uint64_t *t = tab(s, phys), n = 0;
	unsigned i = index_of(a, level), end = index_of(b, level);
	bool reclaim = s->frames && s->frames->free;
	if (level == 1) {
		for (; i <= end; i++)
			if (present(t[i])) {
				t[i] = 0;
				n++;
			}
		*leaves += n;
		return n;
	}
	for (; i <= end; i++) {
		uint64_t e = t[i];
		if (!present(e))
			continue;
		if (is_leaf(e, level)) {
			t[i] = 0;
			n++;
			++*leaves;
			continue;
		}
		uint64_t ev = entry_va(s, base, i, level), ev_last = ev + span_of(level) - 1;
		uint64_t lo = max_u64(a, ev), hi = min_u64(b, ev_last);
		uint64_t gone = clear(s, e & PTE_ADDR, level - 1, ev, lo, hi, doomed, leaves);
		bool whole = lo == ev && hi == ev_last;
		uint64_t left = whole ? 0 : count_sub(s, &t[i], gone);
		if (reclaim && left == 0) {
			t[i] = 0;
			n++;
			tab(s, e & PTE_ADDR)[0] = *doomed;
			*doomed = e & PTE_ADDR;
		} else if (whole) {
			t[i] = with_count(e, 0);
		}
	}
	return n;
}

pg_err pg_unmap_range(pg_space *s, pg_vaddr virt, uint64_t length, uint64_t *pages)
{
	uint64_t va = virt.va, doomed = NONE;
	pg_err err = check_range(s, va, length);
	if (err == PG_OK)
		err = crosses(s, va);
	if (err == PG_OK && va + length != 0 && pg_space_canonical(s, va + length))
		err = crosses(s, va + length);
	if (err != PG_OK)
		return err;
	uint64_t n = 0;
	(void)clear(s, s->root.pa, s->levels, 0, va, va + length - 1, &doomed, &n);
	if (pages)
		*pages = n;
	if (n || doomed != NONE)
		flush(s, va, length);
	release(s, doomed);
	return PG_OK;
}

/* ------------------------------------------------------------------ protect */

/* Check pass of protect: every page of [a, b] mapped, no leaf crossing first or last.
 * The first problem in address order wins. */
static pg_err protect_check(const pg_space *s, uint64_t phys, unsigned level, uint64_t base,
			    uint64_t a, uint64_t b, uint64_t first, uint64_t last)
{
	const uint64_t *t = tab(s, phys);
	for (unsigned i = index_of(a, level), end = index_of(b, level); i <= end; i++) {
		uint64_t e = t[i], ev = entry_va(s, base, i, level);
		uint64_t ev_last = ev + span_of(level) - 1;
		if (!present(e))
			return PG_ERR_NOT_MAPPED;
		if (is_leaf(e, level)) {
			if (ev < first || ev_last > last)
				return PG_ERR_HUGE_PAGE;
			continue;
		}
		pg_err err = protect_check(s, e & PTE_ADDR, level - 1, ev, max_u64(a, ev),
					   min_u64(b, ev_last), first, last);
		if (err != PG_OK)
			return err;
	}
	return PG_OK;
}

/* What pg_protect keeps of a leaf besides its frame: accessed and dirty (the CPU's
 * record), the software-available bits and the protection key. */
#define PROTECT_KEEPS (PTE_A | PTE_D | PTE_SOFT_LO | PTE_SOFT_HI | PTE_PKEY)

/* Rewrites every leaf inside [a, b] with flags, keeping its frame and PROTECT_KEEPS. */
static void protect_commit(pg_space *s, uint64_t phys, unsigned level, uint64_t base,
			   uint64_t a, uint64_t b, unsigned flags)
{
	uint64_t *t = tab(s, phys);
	for (unsigned i = index_of(a, level), end = index_of(b, level); i <= end; i++) {
		uint64_t e = t[i], ev = entry_va(s, base, i, level);
		if (is_leaf(e, level)) {
			t[i] = leaf_entry(s, leaf_addr(e, level), flags, level) |
			       (e & PROTECT_KEEPS);
			continue;
		}
		protect_commit(s, e & PTE_ADDR, level - 1, ev, max_u64(a, ev),
			       min_u64(b, ev + span_of(level) - 1), flags);
	}
}

pg_err pg_protect(pg_space *s, pg_vaddr virt, uint64_t length, unsigned flags)
{
	uint64_t va = virt.va;
	pg_err err = check_range(s, va, length);
	if (err == PG_OK && (flags & ~PG_FLAGS_ALL))
		err = PG_ERR_BAD_ARG;
	if (err == PG_OK)
		err = protect_check(s, s->root.pa, s->levels, 0, va, va + length - 1, va,
				    va + length - 1);
	if (err != PG_OK)
		return err;
	protect_commit(s, s->root.pa, s->levels, 0, va, va + length - 1, flags);
	flush(s, va, length);
	return PG_OK;
}

/* ------------------------------------------------------------------ split */

pg_err pg_split(pg_space *s, pg_vaddr page)
{
	uint64_t va = page.va, *path[6], list;
	unsigned leaf;
	pg_err err = leaf_of_page(s, va, &leaf, path);
	if (err != PG_OK)
		return err;
	if (leaf == 1)
		return PG_ERR_BAD_ARG; /* a 4 KiB page has nothing to split into */
	if (va & (span_of(leaf) - 1))
		return PG_ERR_NOT_ALIGNED;
	if ((err = reserve(s, 1, &list)) != PG_OK)
		return err;
	uint64_t *slot = path[leaf];
	uint64_t e = *slot, base = leaf_addr(e, leaf), step = span_of(leaf - 1);
	/* The small leaves keep every attribute bit (PTE_ADDR includes the huge PAT bit 12).
	 * On 4 KiB leaves bit 7 is PAT instead of PS, so it takes the huge PAT bit's value. */
	uint64_t bits = e & ~PTE_ADDR;
	if (leaf - 1 == 1)
		bits = (bits & ~PTE_PS) | (e & PTE_PAT_HUGE ? PTE_PAT_4K : 0);
	else
		bits |= e & PTE_PAT_HUGE;
	uint64_t *t = tab(s, list);
	for (unsigned i = 0; i < 512; i++)
		t[i] = (base + i * step) | bits;
	*slot = list | PTE_TABLE | 512ull << COUNT_SHIFT;
	flush(s, va, span_of(leaf));
	return PG_OK;
}

/* ------------------------------------------------------------------ walk */

typedef struct {
	const pg_space *s;
	pg_walk_fn fn;
	void *ctx;
	pg_range run;
	bool have, stopped;
} walk_state;

/* Adds one leaf piece to the current run, emitting the run when it cannot grow. */
static void walk_emit(walk_state *w, uint64_t va, uint64_t pa, uint64_t len, pg_size size,
		      unsigned flags)
{
	pg_range *r = &w->run;
	if (w->have && r->size == size && r->flags == flags && r->virt.va + r->length == va &&
	    r->phys.pa + r->length == pa) {
		r->length += len;
		return;
	}
	if (w->have && !w->fn(w->ctx, r)) {
		w->stopped = true;
		return;
	}
	r->virt = pg_va(va);
	r->phys = pg_pa(pa);
	r->length = len;
	r->size = size;
	r->flags = flags;
	w->have = true;
}

static void walk_table(walk_state *w, uint64_t phys, unsigned level, uint64_t base,
		       uint64_t a, uint64_t b, rights r)
{
	const uint64_t *t = tab(w->s, phys);
	for (unsigned i = index_of(a, level), end = index_of(b, level);
	     i <= end && !w->stopped; i++) {
		uint64_t e = t[i], ev = entry_va(w->s, base, i, level);
		uint64_t lo = max_u64(a, ev), hi = min_u64(b, ev + span_of(level) - 1);
		if (!present(e))
			continue;
		if (is_leaf(e, level))
			walk_emit(w, lo, leaf_addr(e, level) + (lo - ev), hi - lo + 1,
				  (pg_size)(level - 1), effective(w->s, e, level, r));
		else
			walk_table(w, e & PTE_ADDR, level - 1, ev, lo, hi, narrow(r, e));
	}
}

pg_err pg_walk(const pg_space *s, pg_vaddr virt, uint64_t length, pg_walk_fn fn, void *ctx)
{
	uint64_t va = virt.va, last = length ? va + length - 1 : ~0ull;
	if (!s || !s->levels || !fn || last < va)
		return PG_ERR_BAD_ARG;
	if (!pg_space_canonical(s, va) || !pg_space_canonical(s, last))
		return PG_ERR_NOT_CANONICAL;
	walk_state w = { .s = s, .fn = fn, .ctx = ctx };
	walk_table(&w, s->root.pa, s->levels, 0, va, last, all_rights);
	if (w.have && !w.stopped)
		fn(ctx, &w.run);
	return PG_OK;
}
