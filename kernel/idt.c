/* idt.c - interrupt descriptor table: 32 exception gates that report and halt.
 * Issue 4 extends exc_dispatch with a full page-fault report and expected faults. */
#include "idt.h"

#include "cpu.h"
#include "gdt.h"
#include "kprintf.h"

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
		set_gate(v, isr_table[v], v == 8 ? IST_DOUBLE_FAULT : 0);
	idtr.limit = sizeof idt - 1;
	idtr.base = (uint64_t)(uintptr_t)idt;
	__asm__ volatile("lidt %0" : : "m"(idtr) : "memory");
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
	kprintf("exception: vector=%lu name=%s error=0x%016lx rip=%p cr2=%p rsp=%p\n",
		(unsigned long)f->vector, exc_name((unsigned)f->vector),
		(unsigned long)f->error, (void *)f->rip, (void *)read_cr2(), (void *)f->rsp);
	kprintf("kernel: halted\n");
	cpu_halt_forever();
}
