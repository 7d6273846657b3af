/* paging.h - the public interface of the freestanding x86_64 page-table library.
 * The same sources build for the EFI stage, the kernel and the host tests; the only
 * difference between them is pg_space.phys_offset, the one door to physical memory. */
#ifndef PAGING_PAGING_H
#define PAGING_PAGING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Errors. Every call returns one; a call that fails changes nothing. */
typedef enum {
	PG_OK = 0,
	PG_ERR_NOT_CANONICAL,   /* virtual address not sign-extended from bit 47 (57 in 5 levels) */
	PG_ERR_NOT_ALIGNED,     /* address or length not a multiple of the page size */
	PG_ERR_ALREADY_MAPPED,  /* a leaf already maps (part of) the range */
	PG_ERR_HUGE_PAGE,       /* a huge page is in the way of the operation */
	PG_ERR_NO_FRAMES,       /* the frame source ran dry */
	PG_ERR_NOT_MAPPED,      /* nothing maps the address */
	PG_ERR_BAD_FRAME,       /* physical address beyond the CPU's width or misaligned */
	PG_ERR_BAD_ARG,         /* zero length, overflow, unknown flag or size, NULL or empty handle */
	PG_ERR_UNSUPPORTED,     /* e.g. 1 GiB pages on a CPU without them */
	PG_ERR_DOUBLE_FREE,     /* frame allocator: the frame is already free */
	PG_ERR_NOT_OWNED,       /* frame allocator: the frame is not one it manages */
	PG_ERR__COUNT
} pg_err;

const char *pg_strerror(pg_err e);

/* Typed addresses: a physical and a virtual address cannot be swapped silently. */
typedef struct { uint64_t pa; } pg_paddr;
typedef struct { uint64_t va; } pg_vaddr;
static inline pg_paddr pg_pa(uint64_t a) { pg_paddr p = { a }; return p; }
static inline pg_vaddr pg_va(uint64_t a) { pg_vaddr v = { a }; return v; }

typedef enum { PG_4K = 0, PG_2M = 1, PG_1G = 2 } pg_size;
#define PG_SIZE_COUNT 3

/* Level numbering follows the hardware: 5 = PML5, 4 = PML4, 3 = PDPT, 2 = PD, 1 = PT.
 * Leaves exist at levels 1..3 only (no 512 GiB pages). */
static inline unsigned pg_size_shift(pg_size s) { return 12u + 9u * (unsigned)s; }
static inline uint64_t pg_size_bytes(pg_size s) { return 1ull << pg_size_shift(s); }
static inline unsigned pg_size_level(pg_size s) { return 1u + (unsigned)s; }
const char *pg_size_name(pg_size s); /* "4K", "2M", "1G" */

/* Canonical in 4-level paging (48 bits). pg_space_canonical() follows a handle's width. */
static inline bool pg_is_canonical(uint64_t va)
{
	uint64_t top = va >> 47;
	return top == 0 || top == 0x1ffff;
}

/* Generic mapping flags; the PTE bit layout stays inside paging/. Present is implied.
 * A mapping without PG_X is non-executable where the CPU has NX. */
#define PG_W        (1u << 0)  /* writable */
#define PG_X        (1u << 1)  /* executable */
#define PG_U        (1u << 2)  /* user accessible */
#define PG_G        (1u << 3)  /* global */
#define PG_CACHE_SHIFT 4       /* two bits: memory type through PWT/PCD/PAT */
#define PG_CACHE_WB (0u << PG_CACHE_SHIFT)
#define PG_CACHE_WT (1u << PG_CACHE_SHIFT)
#define PG_CACHE_UC (2u << PG_CACHE_SHIFT)
#define PG_CACHE_WC (3u << PG_CACHE_SHIFT) /* needs PAT entry 4 = WC: see pg_pat_value() */
#define PG_CACHE_MASK (3u << PG_CACHE_SHIFT)
#define PG_FLAGS_ALL (PG_W | PG_X | PG_U | PG_G | PG_CACHE_MASK)

/* The IA32_PAT value whose entries match the PG_CACHE_* encoding above
 * (the power-on default except entry 4, which becomes write-combining). */
uint64_t pg_pat_value(void);

/* Where page-table frames come from. alloc returns false when none is left; the
 * frame need not be zeroed (the library zeroes what it uses). A frame alloc gets wrong
 * (misaligned, beyond phys_bits) fails the call with PG_ERR_BAD_FRAME and goes back
 * through free exactly as it came, with the frames taken before it. free may be NULL:
 * then tables that become empty stay linked, except where a huge leaf replaces a
 * subtree of empty tables: those frames are then abandoned, since nothing can take
 * them back. */
typedef struct {
	bool (*alloc)(void *ctx, pg_paddr *frame);
	void (*free)(void *ctx, pg_paddr frame);
	void *ctx;
} pg_frames;

/* Called once per operation that removed or changed present leaves, with the
 * virtual range to invalidate. The library never runs invlpg itself. */
typedef void (*pg_flush_fn)(void *ctx, pg_vaddr start, uint64_t length);

/* The address-space handle. Every table access goes through pg_table(). */
typedef struct {
	pg_paddr root;          /* the top table: PML4 (levels 4) or PML5 (levels 5) */
	unsigned levels;        /* 4 (48-bit addresses) or 5 (57-bit, CR4.LA57) */
	uint64_t phys_offset;   /* pointer = phys + phys_offset (mod 2^64) */
	bool has_nx;            /* EFER.NXE usable: set XD on non-executable leaves */
	bool has_1g;            /* CPUID 8000_0001h:EDX[26] */
	unsigned phys_bits;     /* MAXPHYADDR, 36..52; frames above it are PG_ERR_BAD_FRAME */
	pg_frames *frames;      /* may be NULL for read-only use (translate, walk) */
	pg_flush_fn flush;      /* may be NULL */
	void *flush_ctx;
	/* Private: the level-1 table pg_map last walked to, a software copy of the CPU's
	 * paging-structure caches so that mapping page after page skips the walk. A hit
	 * needs the level-2 entry it came from unchanged and no table unlinked since by any
	 * handle in the program (a count pt.c keeps, so that a second handle, a copy or a
	 * re-attach on the same tables cannot leave it stale). root, levels and phys_offset
	 * are set by pg_space_init/attach only (which empty the cache and set lookup_*):
	 * treat them as read-only (a copy may be changed: it is a handle written by hand). */
	uint64_t walk_key;      /* (va >> 21) + 1 of the cached 2 MiB region, 0 = empty */
	uint64_t walk_gen;      /* the unlink count when cached */
	uint64_t *walk_l2e;     /* the level-2 entry that points at the table */
	uint64_t walk_l2v;      /* that entry's value when cached */
	uint64_t *walk_table;   /* the table itself, through phys_offset */
	/* Private: pg_translate_fast's way in, worked out by pg_space_init/attach for a
	 * 4-level handle: the handle's own address (a copy, a handle written by hand or one
	 * destroyed does not match it, and takes the walk that reads root and phys_offset),
	 * the top table through phys_offset, and phys_offset less the flag bits of the
	 * table entries its straight path follows. */
	const void *lookup_self;
	const uint64_t *lookup_root;
	uint64_t lookup_bias;
} pg_space;

static inline uint64_t *pg_table(const pg_space *s, pg_paddr table)
{
	return (uint64_t *)(uintptr_t)(table.pa + s->phys_offset);
}

/* Whether va is sign-extended from the top bit of the handle's width (47 or 56). */
static inline bool pg_space_canonical(const pg_space *s, uint64_t va)
{
	unsigned sh = 64 - (12 + 9 * s->levels);
	return (uint64_t)((int64_t)(va << sh) >> sh) == va;
}

/* Sets up a handle over a fresh, zeroed top table taken from frames. levels is 4 or 5
 * (anything else: PG_ERR_BAD_ARG). */
pg_err pg_space_init(pg_space *s, pg_frames *frames, uint64_t phys_offset,
		     bool has_nx, bool has_1g, unsigned phys_bits, unsigned levels);

/* Sets up a handle over tables that already exist (the kernel adopting what the EFI
 * stage built, or the firmware's tables for reading); root is their PML4 or PML5 as
 * levels says. frames may be NULL. */
pg_err pg_space_attach(pg_space *s, pg_paddr root, pg_frames *frames, uint64_t phys_offset,
		       bool has_nx, bool has_1g, unsigned phys_bits, unsigned levels);

/* Gives back every table frame of the lower and upper halves that the handle owns,
 * including the top table (wherever it is, physical page 0 too). Leaves' frames are the
 * caller's and are not touched. The handle is left empty (levels 0): destroying it
 * again, or a zeroed handle, does nothing. */
void pg_space_destroy(pg_space *s);

/* The result of a walk: what translate saw at each level it visited. */
typedef struct {
	pg_paddr phys;          /* translated address (valid when PG_OK) */
	pg_size size;           /* page size of the leaf */
	unsigned flags;         /* effective PG_* flags: W and U only if every level allows,
				   X unless some level sets XD (always X without NX) */
	unsigned levels;        /* how many levels were read: 1..5 */
	unsigned stop_level;    /* PG_ERR_NOT_MAPPED: the level (5..1) whose entry is empty */
	struct { unsigned index; uint64_t entry; } walk[5]; /* walk[0] = the top level, ... */
} pg_translation;

/* Walks the tables for va. PG_ERR_NOT_CANONICAL, PG_ERR_NOT_MAPPED (stop_level and the
 * walk so far filled in), PG_ERR_BAD_ARG (empty handle) or PG_OK. For the shell and
 * fault reports; kernels translating addresses use pg_translate_fast. */
pg_err pg_translate(const pg_space *s, pg_vaddr va, pg_translation *out);

/* What translating an address gives, without the record of the walk. */
typedef struct {
	pg_paddr phys;          /* translated address */
	pg_size size;           /* page size of the leaf */
	unsigned flags;         /* effective PG_* flags, as pg_translation.flags */
} pg_mapping;

/* pg_translate_fast's out-of-line half, which returns in two registers instead of
 * through memory. frame bit 0 says whether va is mapped; if so, frame - 1 is the page's
 * address and entry a 4 KiB leaf: its PTE bits 1-8 (W and U where every level allows; a
 * huge leaf's PAT bit moved to bit 7) and bit 63 = XD set at some level (which takes X
 * away only with has_nx). Bits 12-15 of entry ^ frame hold the pg_size, or when va is
 * not mapped the pg_err (0 meaning PG_ERR_NOT_MAPPED). The other bits mean nothing
 * here. pg_lookup_flags turns bits 1-8 into PG_* flags with X. Call pg_translate_fast. */
typedef struct {
	uint64_t frame;
	uint64_t entry;
} pg_lookup_result;
pg_lookup_result pg_lookup(const pg_space *s, pg_vaddr va);
extern const uint8_t pg_lookup_flags[256];

/* pg_translate without the walk record: the same checks and results. On an error *out
 * is cleared (phys 0, PG_4K, no flags), so that it never holds what it held before. The
 * decoding is inline, so that a caller pays only for what it reads (the flags, the
 * offset in the page). */
static inline pg_err pg_translate_fast(const pg_space *s, pg_vaddr va, pg_mapping *out)
{
	pg_lookup_result r = pg_lookup(s, va);
	bool ok = r.frame & 1;
	unsigned code = (unsigned)((r.entry ^ r.frame) >> 12 & 15);
	out->phys = pg_pa(ok ? r.frame - 1 + (va.va & 4095) : 0);
	out->size = ok ? (pg_size)code : PG_4K;
	out->flags = ok ? pg_lookup_flags[r.entry >> 1 & 255] ^
				  ((unsigned)(r.entry >> 63) & s->has_nx) << 1 : 0;
	return ok ? PG_OK : code ? (pg_err)code : PG_ERR_NOT_MAPPED;
}

/* Maps one page of the given size. On PG_ERR_ALREADY_MAPPED, *existing (if non-NULL)
 * receives the frame that maps va now. New intermediate tables are zeroed and carry
 * W and U so that the leaf alone decides.
 * Argument errors come in this order: BAD_ARG (size, unknown flags, NULL), UNSUPPORTED
 * (1 GiB without has_1g), NOT_CANONICAL, NOT_ALIGNED (page or frame), BAD_FRAME (beyond
 * phys_bits). Then the tables: a leaf larger than the page covering it is HUGE_PAGE; a
 * leaf of the page's size, or any leaf below it, is ALREADY_MAPPED. Tables below the
 * page that hold no leaf at all are replaced by the leaf and given back. */
pg_err pg_map(pg_space *s, pg_vaddr page, pg_paddr frame, pg_size size, unsigned flags,
	      pg_paddr *existing);

/* Maps [virt, virt+length) to [phys, ...) with the largest page size up to max_size that
 * alignment and the remaining length allow at each point. virt, phys and length must be
 * 4 KiB aligned. All or nothing: on any error nothing was mapped and no frame kept.
 * Errors as pg_map, checked piece by piece in address order; the first conflict wins. */
pg_err pg_map_range(pg_space *s, pg_vaddr virt, pg_paddr phys, uint64_t length,
		    unsigned flags, pg_size max_size);

/* Removes the leaf that maps page exactly. Returns its frame and size. Tables left
 * empty go back to the frame source. Errors: BAD_ARG, NOT_CANONICAL, NOT_ALIGNED (page
 * not 4 KiB aligned), NOT_MAPPED, HUGE_PAGE (page lies inside a huge leaf, not at its start). */
pg_err pg_unmap(pg_space *s, pg_vaddr page, pg_paddr *frame, pg_size *size);

/* Removes every leaf inside [virt, virt+length); holes are skipped. A huge page that
 * crosses either end is PG_ERR_HUGE_PAGE and nothing is removed. *pages (if non-NULL)
 * receives the number of leaves removed. Argument errors: BAD_ARG (zero length or
 * overflow), NOT_CANONICAL (either end, or the range spans the hole), NOT_ALIGNED. */
pg_err pg_unmap_range(pg_space *s, pg_vaddr virt, uint64_t length, uint64_t *pages);

/* Sets the flags of every leaf inside [virt, virt+length). Every page of the range must
 * be mapped (else PG_ERR_NOT_MAPPED) and no huge page may cross either end (HUGE_PAGE);
 * the first problem in address order wins. Argument errors as pg_unmap_range, then
 * BAD_ARG for unknown flags. It rewrites what PG_* flags express (W, U, G, the cache
 * type's PWT/PCD/PAT, XD) and keeps the rest of each leaf: its frame, accessed and dirty
 * (bits 5, 6), the software-available bits 9-11 and 52-58 and the protection key
 * (bits 59-62), as pg_split does. */
pg_err pg_protect(pg_space *s, pg_vaddr virt, uint64_t length, unsigned flags);

/* Replaces the huge leaf (2 MiB or 1 GiB) that starts at page with a table of 512 leaves
 * of the next smaller size that map the same memory with the same flags. Errors:
 * NOT_CANONICAL, NOT_ALIGNED (page not 4 KiB aligned), NOT_MAPPED, BAD_ARG (the leaf is
 * 4 KiB already), NOT_ALIGNED (page is inside the huge leaf, not at its start), NO_FRAMES. */
pg_err pg_split(pg_space *s, pg_vaddr page);

/* One run of leaves merged by pg_walk: contiguous virtual and physical addresses,
 * the same page size and the same effective flags. */
typedef struct {
	pg_vaddr virt;
	pg_paddr phys;
	uint64_t length;
	pg_size size;
	unsigned flags;
} pg_range;

/* Calls fn for every merged run of leaves inside [virt, virt+length) in address order.
 * fn returns false to stop early. length 0 means up to the end of the address space. */
typedef bool (*pg_walk_fn)(void *ctx, const pg_range *r);
pg_err pg_walk(const pg_space *s, pg_vaddr virt, uint64_t length, pg_walk_fn fn, void *ctx);

/* Counts table frames per level (index 0 = level 1 ... 4 = level 5) reachable from the
 * top table; counts[4] is 0 in 4-level mode. */
void pg_count_tables(const pg_space *s, uint64_t counts[5]);

#endif
