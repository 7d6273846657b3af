/* trampoline.c - fills the trampoline's two pages (handoff.h): a copy of handoff.S's code, and
 * a data page with a GDT (64-bit code, 32-bit code, data), an IDT whose every vector halts,
 * a stack and the parameters. Shared by kernel.efi and the test program la57on.efi; calls
 * no firmware, so it is also safe after ExitBootServices. */
#include "handoff.h"

#include <stddef.h>

#define LOW_LIMIT (1ull << 32)

/* Flat 4 GiB descriptors, accessed bit already set so the CPU never writes the GDT. */
#define DESC_CODE64 0x00AF9B000000FFFFull /* G, L, P, DPL 0, execute/read */
#define DESC_CODE32 0x00CF9B000000FFFFull /* G, D (32-bit), P, DPL 0, execute/read */
#define DESC_DATA   0x00CF93000000FFFFull /* G, B, P, DPL 0, read/write */

static void put64(uint64_t page, unsigned off, uint64_t v)
{
	*(volatile uint64_t *)(uintptr_t)(page + off) = v;
}

/* A descriptor-table register image: 2-byte limit, 8-byte base. */
static void put_dtr(uint64_t page, unsigned off, uint16_t limit, uint64_t base)
{
	volatile uint8_t *p = (volatile uint8_t *)(uintptr_t)(page + off);
	p[0] = (uint8_t)limit;
	p[1] = (uint8_t)(limit >> 8);
	for (int i = 0; i < 8; i++)
		p[2 + i] = (uint8_t)(base >> (8 * i));
}

/* A 64-bit interrupt gate (type 0xE, present, DPL 0, IST 0) to target through sel. */
static void put_gate(uint64_t page, unsigned vector, uint64_t target, uint16_t sel)
{
	uint64_t lo = (target & 0xffff) | ((uint64_t)sel << 16) | (0x8eull << 40) |
		      ((target >> 16 & 0xffff) << 48);
	put64(page, H_IDT + 16 * vector, lo);
	put64(page, H_IDT + 16 * vector + 8, target >> 32);
}

_Bool handoff_prepare(const handoff_plan *p)
{
	size_t n = (size_t)(handoff_code_end - handoff_code);
	if (p->code >= LOW_LIMIT || p->data >= LOW_LIMIT || p->root >= LOW_LIMIT ||
	    (p->code | p->data | p->root) & 0xfff || n > 4096 ||
	    (p->levels != 4 && p->levels != 5))
		return 0;
	for (size_t i = 0; i < n; i++)
		((volatile char *)(uintptr_t)p->code)[i] = handoff_code[i];
	for (unsigned off = 0; off < 4096; off += 8)
		put64(p->data, off, 0);
	put64(p->data, H_GDT + SEL_CODE64, DESC_CODE64);
	put64(p->data, H_GDT + SEL_CODE32, DESC_CODE32);
	put64(p->data, H_GDT + SEL_DATA, DESC_DATA);
	put_dtr(p->data, H_GDTR, 4 * 8 - 1, p->data + H_GDT);
	uint64_t halt = p->code + (uint64_t)(handoff_halt - handoff_code);
	for (unsigned v = 0; v < HANDOFF_VECTORS; v++)
		put_gate(p->data, v, halt, SEL_CODE64);
	put_dtr(p->data, H_IDTR, HANDOFF_VECTORS * 16 - 1, p->data + H_IDT);
	put64(p->data, H_ROOT, p->root);
	put64(p->data, H_LA57, p->levels == 5);
	put64(p->data, H_STACK, p->stack);
	put64(p->data, H_ENTRY, p->entry);
	put64(p->data, H_ARG, p->arg);
	put64(p->data, H_CODE, p->code);
	put64(p->data, H_SPIN, p->spin);
	return 1;
}

_Bool handoff_run(const handoff_plan *p)
{
	uint64_t (*fn)(uint64_t) = (uint64_t (*)(uint64_t))(uintptr_t)p->code;
	return fn(p->data) != 0;
}
