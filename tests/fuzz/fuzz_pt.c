/* fuzz_pt.c - libFuzzer target: the input bytes become a sequence of page-table
 * operations run in lock step on paging/ and the reference model (tests/model).
 * Any disagreement, leak or sanitizer report aborts with the reason printed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define MIB (1ull << 20)
#define GIB (1ull << 30)
#define OP_BYTES 12
#define MAX_OPS 512

/* Small windows on the interesting edges: across PML4 entries 511|512 GiB (PML5 entries
 * in 5 levels), the top of the lower half, the bottom of the upper half, the top of the
 * address space. */
static const uint64_t bases4[4] = {
	0x0000007fc0000000ull, 0x00007fffc0000000ull, 0xffff800000000000ull, 0xffffffffc0000000ull,
};
static const uint64_t bases5[4] = {
	0x0000ffffc0000000ull, 0x00ffffffc0000000ull, 0xff00000000000000ull, 0xffffffffc0000000ull,
};
static const uint64_t sizes[4] = { 2 * GIB, GIB, GIB, GIB };

static void die(const rh *h, const rh_op *op, size_t i)
{
	char s[256];
	rh_op_str(op, s, sizeof(s));
	fprintf(stderr, "fuzz_pt: divergence at op %zu (%s): %s\n", i, s, h->err);
	abort();
}

static uint32_t le24(const uint8_t *p) { return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16; }

/* Byte layout of one operation:
 *  header byte: no NX (bit 0), no 1 GiB (bit 1), phys_bits (bits 2-3), no free (bit 4),
 *  5 levels (bit 5)
 *  0: kind (bits 0-2), reuse the previous op's va and len (bit 3), address form
 *     (bits 4-5), pa congruent (bit 6), edge case (bit 7)
 *  1: window (bits 0-1), size (bits 2-3), frame budget (bits 4-7)
 *  2-4: page in window   5-7: length (scale in bits 6-7 of byte 5)
 *  8-10: physical frame  11: flags (bit 6: an unknown flag bit; bit 7: translate is
 *  touch)  7 bit 7: the second handle */
static void decode(const rh *h, const uint8_t *p, const rh_op *prev, rh_op *op)
{
	unsigned w = p[1] & 3;
	uint64_t base = h->bases[w], wsize = sizes[w];
	memset(op, 0, sizeof(*op));
	op->kind = (rh_kind)(p[0] & 7);
	if (op->kind == OP_TRANSLATE && (p[11] & 0x80))
		op->kind = OP_TOUCH;
	op->handle = p[7] >> 7;
	op->size = (p[1] >> 2) & 3;
	op->avail = (p[1] >> 4) >= 12 ? (long)((p[1] >> 4) - 12) : -1;
	op->flags = (p[11] & 0x3f) | (p[11] & 0x40 ? 1u << (6 + (p[11] >> 7)) : 0);

	uint64_t va = base + (le24(p + 2) % (wsize >> 12)) * 4096;
	switch ((p[0] >> 4) & 3) {
	case 0: /* aligned to the op's page size (or 4 KiB) */
		if (op->size < PG_SIZE_COUNT)
			va &= ~(pg_size_bytes((pg_size)op->size) - 1);
		break;
	case 1:
		va &= ~(2 * MIB - 1);
		break;
	case 2:
		break;
	default:
		va += 1 + (p[7] & 0xfff); /* unaligned, still in the window */
		if (va - base >= wsize)
			va -= 8192;
		break;
	}
	uint64_t n = le24(p + 5) & 0x3fffff;
	switch (p[5] >> 6) {
	case 0:
		op->len = (1 + (n & 63)) * 4096;
		break;
	case 1:
		op->len = (1 + (n & 4095)) * 4096;
		break;
	case 2:
		op->len = (1 + (n & 511)) * 2 * MIB;
		break;
	default:
		op->len = n & 0xffff; /* raw bytes: zero or unaligned lengths */
		break;
	}
	uint64_t pa = (uint64_t)le24(p + 8) << 12;
	if (p[0] & 0x40)
		pa = (pa & ~(GIB - 1)) | (va & (GIB - 1));
	if (p[11] & 0x80 && !(p[11] & 0x40))
		pa |= 1ull << h->m.phys_bits; /* beyond the CPU */
	op->pa = pa;
	op->va = va;
	if (p[0] & 0x80) {
		/* edge cases that must be refused whatever the tables hold */
		uint64_t half = h->levels == 5 ? 1ull << 56 : 1ull << 47;
		const uint64_t edges[4] = { half, half - 0x2000, 0xfffffffffffff000ull,
					    -half - 0x1000 };
		op->va = edges[p[7] & 3];
		if (op->len < 8192)
			op->len = 8192;
		if (op->kind == OP_WALK || op->kind == OP_TRANSLATE)
			op->kind = OP_MAP_RANGE;
		return;
	}
	if (op->len > base + wsize - va)
		op->len = base + wsize - va; /* stays in the window (wraps right at the top) */
	if (p[0] & 8 && prev->len && rm_in_window(&h->m, prev->va) &&
	    rm_in_window(&h->m, prev->va + (prev->len - 1))) {
		/* the same range again: protect or unmap what was just mapped */
		op->va = prev->va;
		op->len = prev->len;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static rh h4, h5;
	static bool ready;
	static const unsigned pbits[4] = { 39, 40, 46, 52 };
	if (!ready) {
		rh_init(&h4, bases4, sizes, 4, 128 * MIB, 4);
		rh_init(&h5, bases5, sizes, 4, 128 * MIB, 5);
		ready = true;
	}
	if (size < 1)
		return 0;
	rh *hp = data[0] & 0x20 ? &h5 : &h4;
	if (!rh_reset(hp, !(data[0] & 1), !(data[0] & 2), pbits[(data[0] >> 2) & 3],
		      !(data[0] & 0x10))) {
		fprintf(stderr, "fuzz_pt: %s\n", hp->err);
		abort();
	}
	data++;
	size--;
	rh_op op, prev;
	size_t i;
	memset(&prev, 0, sizeof(prev));
	for (i = 0; i < size / OP_BYTES && i < MAX_OPS; i++) {
		decode(hp, data + i * OP_BYTES, &prev, &op);
		prev = op;
		if (!rh_step(hp, &op))
			die(hp, &op, i);
	}
	memset(&op, 0, sizeof(op));
	if (!rh_check_all(hp))
		die(hp, &op, i);
	return 0;
}
