/* fuzz_mtrr.c - libFuzzer target for common/mtrr.c, checked against the brute-force
 * reference of tests/host/mtrr_ref.h, which types every 4 KiB granule on its own.
 *
 * Input: a header, the variable ranges, then queries.
 *   byte 0  bit 0 MTRRs present, bit 1 E, bit 2 FE, bit 3 MTRRCAP.FIX, bit 4 TOM2 in force,
 *           bits 5-6 MAXPHYADDR 36/39/46/52, bit 7 allows the 1 GiB query
 *   byte 1  default type (any byte: reserved values are typed UC)
 *   byte 2  variable ranges (% 11), each: a control byte, then
 *           control bit 7 clear: shaped, 3 bytes (type, size 2^(12 + b % 28), base index):
 *             an aligned power-of-two range as firmware writes it (control bit 6: invalid)
 *           control bit 7 set: raw, 16 bytes: base and mask as they come (odd masks)
 *   byte    fixed-range pattern: 0 all WB, else 88 type bytes follow (one per sub-range)
 *   then 9-byte queries: a kind byte and an address (kept under 64 GiB, 4 KiB aligned):
 * The seeds in tests/fuzz/corpus/mtrr/ are three such inputs made by hand: OVMF on q35, the
 * desktop of test_mtrr.c, and odd masks with TOM2.
 *     kind % 4 == 0  mtrr_type_at equals the reference
 *     kind % 4 == 1  mtrr_range_type over 1..256 granules equals the reference
 *     kind % 4 == 2  mtrr_page_shift up to 2 MiB equals the reference
 *     kind % 4 == 3  mtrr_page_shift up to 1 GiB (with header bit 7, at most once per input:
 *                    the reference types 262144 granules) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../host/mtrr_ref.h"
#include "mtrr.h"

#define REQUIRE(cond)                                                              \
	do {                                                                       \
		if (!(cond)) {                                                     \
			fprintf(stderr, "fuzz_mtrr: %s:%d: invariant broken: %s\n",  \
				__FILE__, __LINE__, #cond);                       \
			abort();                                                   \
		}                                                                  \
	} while (0)

typedef struct {
	const uint8_t *p;
	size_t n;
} input;

static uint8_t byte(input *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

static uint64_t u64(input *in)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v |= (uint64_t)byte(in) << (8 * i);
	return v;
}

static void read_var(mtrr_state *m, unsigned n, input *in)
{
	uint8_t c = byte(in);
	if (c & 0x80) {
		m->var_base[n] = u64(in);
		m->var_mask[n] = u64(in);
		return;
	}
	unsigned type = byte(in), shift = 12 + byte(in) % 28;
	uint64_t size = 1ull << shift, base = ((uint64_t)byte(in) << shift) & mtrr_addr_bits(m);
	m->var_base[n] = base | type;
	m->var_mask[n] = (~(size - 1) & mtrr_addr_bits(m)) | (c & 0x40 ? 0 : MTRR_MASK_VALID);
}

static void read_state(mtrr_state *m, input *in)
{
	static const unsigned widths[4] = { 36, 39, 46, 52 };
	uint8_t h = byte(in);
	memset(m, 0, sizeof *m);
	m->present = h & 1;
	m->phys_bits = widths[(h >> 5) & 3];
	m->def_type = byte(in) | (h & 2 ? MTRR_DEF_E : 0) | (h & 4 ? MTRR_DEF_FE : 0);
	m->cap = (h & 8 ? MTRR_CAP_FIX : 0);
	m->var_count = byte(in) % 11;
	m->cap |= m->var_count;
	if (h & 16)
		m->tom2 = (4ull << 30) + ((uint64_t)byte(in) << 26);
	for (unsigned n = 0; n < m->var_count; n++)
		read_var(m, n, in);
	if (byte(in) == 0) {
		for (unsigned i = 0; i < MTRR_FIXED_MSRS; i++)
			m->fixed[i] = 0x0606060606060606ull;
	} else {
		for (unsigned i = 0; i < MTRR_FIXED_MSRS; i++)
			for (unsigned b = 0; b < 8; b++)
				m->fixed[i] |= (uint64_t)byte(in) << (8 * b);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	input in = { data, size };
	mtrr_state m;
	unsigned t, want, big = size && data[0] & 0x80 ? 0 : 1;
	read_state(&m, &in);
	while (in.n >= 9) {
		uint8_t kind = byte(&in);
		uint64_t pa = u64(&in) & ((64ull << 30) - 1) & ~0xfffull;
		switch (kind % 4) {
		case 0:
			REQUIRE(mtrr_type_at(&m, pa, NULL) == ref_type(&m, pa));
			break;
		case 1: {
			uint64_t len = ((uint64_t)(kind >> 2) % 256 + 1) * 4096;
			bool got = mtrr_range_type(&m, pa, len, &t, NULL);
			REQUIRE(got == ref_uniform(&m, pa, len, &want));
			REQUIRE(!got || t == want);
			break;
		}
		case 2: {
			uint64_t at = kind & 4 ? pa & ~((2ull << 20) - 1) : pa, limit = at + (kind >> 3) * (1ull << 18);
			REQUIRE(mtrr_page_shift(&m, at, limit, 21) == ref_page_shift(&m, at, limit, 21));
			break;
		}
		default:
			if (big++)
				break;
			pa &= ~((1ull << 30) - 1);
			REQUIRE(mtrr_page_shift(&m, pa, pa + (1ull << 31), 30) ==
				ref_page_shift(&m, pa, pa + (1ull << 31), 30));
		}
	}
	return 0;
}
