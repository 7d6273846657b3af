/* mtrr.h - the memory-type range registers as data: a snapshot of the MSRs and the rules of
 * the Intel SDM (Vol. 3A, "Memory Type Range Registers") that turn it into the memory type of
 * a physical address, of a range, and the largest page over which that type is uniform.
 * Freestanding (<stdint.h>, <stdbool.h>); built into the EFI stage, the kernel and the host
 * tests. Only mtrr_read touches the CPU. */
#ifndef COMMON_MTRR_H
#define COMMON_MTRR_H

#include <stdbool.h>
#include <stdint.h>

/* Memory types as the MTRRs and the PAT encode them. MTRR_UC_MINUS exists only in the PAT. */
enum {
	MTRR_UC = 0,
	MTRR_WC = 1,
	MTRR_WT = 4,
	MTRR_WP = 5,
	MTRR_WB = 6,
	MTRR_UC_MINUS = 7,
};

#define MTRR_MAX_VAR   32 /* IA32_MTRRCAP.VCNT is 8 bits; real parts have 8 to 10 */
#define MTRR_FIXED_MSRS 11
#define MTRR_FIXED_END 0x100000ull /* the fixed ranges cover [0, 1 MiB) */

/* IA32_MTRRCAP and IA32_MTRR_DEF_TYPE bits. */
#define MTRR_CAP_VCNT  0xffull
#define MTRR_CAP_FIX   (1ull << 8)
#define MTRR_CAP_WC    (1ull << 10)
#define MTRR_DEF_FE    (1ull << 10) /* fixed ranges enabled */
#define MTRR_DEF_E     (1ull << 11) /* MTRRs enabled; clear: all memory UC */
#define MTRR_MASK_VALID (1ull << 11)

/* Notes a lookup may raise: the SDM leaves these cases undefined; they are typed UC. */
#define MTRR_NOTE_OVERLAP  (1u << 0) /* variable ranges of types other than UC/WT+WB overlap */
#define MTRR_NOTE_BAD_TYPE (1u << 1) /* a reserved type value in an MSR */

/* The MSRs as read (or as a test makes them up). present false: the CPU has no MTRRs
 * (CPUID.1:EDX[12] clear) and every address is WB as far as the MTRRs go. */
typedef struct {
	bool present;
	unsigned phys_bits;     /* MAXPHYADDR: the width of the variable masks */
	uint64_t cap;           /* IA32_MTRRCAP */
	uint64_t def_type;      /* IA32_MTRR_DEF_TYPE */
	uint64_t fixed[MTRR_FIXED_MSRS]; /* 64K_00000, 16K_80000, 16K_A0000, 4K_C0000..4K_F8000 */
	unsigned var_count;     /* VCNT, at most MTRR_MAX_VAR */
	uint64_t var_base[MTRR_MAX_VAR], var_mask[MTRR_MAX_VAR]; /* IA32_MTRR_PHYSBASEn/MASKn */
	/* AMD (APM Vol. 2, "Top of Memory"): with SYSCFG.MtrrTom2En and Tom2ForceMemTypeWB,
	 * [4 GiB, tom2) defaults to WB instead of the default type. 0: not in force. */
	uint64_t tom2;
} mtrr_state;

/* Fills *m from the CPU: CPUID.1:EDX[12] first, then the MSRs that CPUID and MTRRCAP say
 * exist; on AMD family 0Fh and later (not under a hypervisor, where SYSCFG may fault)
 * SYSCFG and TOM2. Ring 0 only. */
void mtrr_read(mtrr_state *m, unsigned phys_bits);

/* The memory type the MTRRs give the 4 KiB granule at pa. *notes (may be NULL) gains
 * MTRR_NOTE_* for undefined cases, which are typed UC. */
unsigned mtrr_type_at(const mtrr_state *m, uint64_t pa, unsigned *notes);

/* True when every granule of [start, start+len) has the same MTRR type, stored in *type;
 * start and len 4 KiB aligned, len > 0. False (type untouched) when it is mixed or the
 * arguments are bad. notes as mtrr_type_at, for the granules looked at. */
bool mtrr_range_type(const mtrr_state *m, uint64_t start, uint64_t len, unsigned *type,
		     unsigned *notes);

/* The largest page shift (30, 21 or 12) up to max_shift whose aligned page at pa has one
 * MTRR type and fits in [pa, limit): what a mapping may use at pa. 0 when pa is not 4 KiB
 * aligned or no 4 KiB page fits. */
unsigned mtrr_page_shift(const mtrr_state *m, uint64_t pa, uint64_t limit, unsigned max_shift);

/* The effective type of an access through a PAT entry of type pat to memory of MTRR type
 * mtrr (SDM Vol. 3A, table "Effective Page-Level Memory Types"). */
unsigned mtrr_effective(unsigned mtrr, unsigned pat);

/* "UC", "WC", "WT", "WP", "WB", "UC-" or "??" for a reserved value. */
const char *mtrr_type_name(unsigned type);

/* The fields of the snapshot, decoded. */
static inline bool mtrr_enabled(const mtrr_state *m) { return (m->def_type & MTRR_DEF_E) != 0; }
static inline bool mtrr_fixed_enabled(const mtrr_state *m)
{
	return mtrr_enabled(m) && (m->def_type & MTRR_DEF_FE) && (m->cap & MTRR_CAP_FIX);
}
static inline unsigned mtrr_default(const mtrr_state *m) { return (unsigned)(m->def_type & 0xff); }

/* The mask bits that take part in a variable-range match: [12, phys_bits). */
static inline uint64_t mtrr_addr_bits(const mtrr_state *m)
{
	unsigned w = m->phys_bits < 12 ? 12 : m->phys_bits > 52 ? 52 : m->phys_bits;
	return ((1ull << w) - 1) & ~0xfffull;
}

/* The start and first byte of fixed-range MSR i's byte b, for printing and tests. */
uint64_t mtrr_fixed_start(unsigned i, unsigned b);
uint64_t mtrr_fixed_size(unsigned i);

#endif
