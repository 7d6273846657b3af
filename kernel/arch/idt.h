/* idt.h - the kernel's IDT and its exception handlers for vectors 0..31. */
#ifndef KERNEL_IDT_H
#define KERNEL_IDT_H

#include <stdint.h>

/* What the entry stubs in isr.S push, lowest address first. */
typedef struct {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss; /* pushed by the CPU */
} exc_frame;

/* Loads an IDT with a gate for each of the 32 exception vectors (#DF and #PF on their
 * own IST stacks). */
void idt_init(void);

/* Called by the stubs; hands the frame to fault_dispatch (fault.h), which reports and
 * halts, or moves f->rip to a recovery point that the stubs' iretq resumes at. */
void exc_dispatch(exc_frame *f);

/* An interrupt gate (no IST) for vector vec, 32..255 (others are ignored): smp.c's IPIs.
 * The IDT is shared by every CPU, so a gate set once serves them all. */
void idt_set_irq(unsigned vec, void (*handler)(void));

const char *exc_name(unsigned vector);

#endif
