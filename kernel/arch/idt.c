/* idt.c - interrupt descriptor table: 32 exception gates; fault.c reports each and
 * halts, or resumes a fault a test expected. */
#include "idt.h"

#include "fault.h"
#include "gdt.h"

typedef struct __attribute__((packed)) {
	uint16_t offset_low;
	uint16_t selector;
	uint8_t ist;
	uint8_t type_attr;
	uint16_t offset_mid;
	uint32_t offset_high;
	uint32_t reserved;
} idt_gate;

_Static_assert(sizeof(idt_gate) == 16, "64-bit IDT gate");

extern const uint64_t isr_table[32];
static idt_gate idt[256];

#define GATE_INTERRUPT 0x8e /* present, DPL 0, 64-bit interrupt gate: IF cleared on entry */

static void set_gate(unsigned vec, uint64_t handler, unsigned ist)
{
	idt_gate *g = &idt[vec];
	g->offset_low = (uint16_t)handler;
	g->selector = GDT_KERNEL_CODE;
	g->ist = (uint8_t)ist;
	g->type_attr = GATE_INTERRUPT;
	g->offset_mid = (uint16_t)(handler >> 16);
	g->offset_high = (uint32_t)(handler >> 32);
	g->reserved = 0;
}

void idt_init(void)
{
	struct __attribute__((packed)) { uint16_t limit; uint64_t base; } idtr;

	for (unsigned v = 0; v < 32; v++)
		set_gate(v, isr_table[v],
			 v == 8 ? IST_DOUBLE_FAULT : v == 14 ? IST_PAGE_FAULT : 0);
	idtr.limit = sizeof idt - 1;
	idtr.base = (uint64_t)(uintptr_t)idt;
	__asm__ volatile("lidt %0" : : "m"(idtr) : "memory");
}

void idt_set_irq(unsigned vec, void (*handler)(void))
{
	if (vec >= 32 && vec < 256)
		set_gate(vec, (uint64_t)(uintptr_t)handler, 0);
}

const char *exc_name(unsigned vector)
{
	static const char *const names[32] = {
		"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM",
		"#DF", "CSO", "#TS", "#NP", "#SS", "#GP", "#PF", "res15",
		"#MF", "#AC", "#MC", "#XM", "#VE", "#CP", "res22", "res23",
		"res24", "res25", "res26", "res27", "#HV", "#VC", "#SX", "res31",
	};
	return vector < 32 ? names[vector] : "irq";
}

void exc_dispatch(exc_frame *f)
{
	fault_dispatch(f);
}
