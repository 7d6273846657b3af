/* gdt.h - the kernel's own GDT and TSS. The firmware's tables live in memory the
 * kernel may reuse, so these are loaded before anything else runs. */
#ifndef KERNEL_GDT_H
#define KERNEL_GDT_H

#include <stdint.h>

#define GDT_KERNEL_CODE 0x08
#define GDT_KERNEL_DATA 0x10
#define GDT_TSS         0x18
/* syscall/sysret (issue 14): STAR's user base is 0x28, so sysret loads SS = 0x30 | 3 and
 * CS = 0x38 | 3; the slot at 0x28 (a 32-bit code segment for compatibility sysret) stays null. */
#define GDT_USER_BASE   0x28
#define GDT_USER_DATA   0x30
#define GDT_USER_CODE   0x38

#define IST_DOUBLE_FAULT 1 /* IST slot whose stack #DF runs on */
#define IST_PAGE_FAULT   2 /* #PF's own stack: an overflow into the guard page is reported */

/* A 64-bit TSS (Intel SDM vol. 3A, 8.7). */
typedef struct __attribute__((packed)) {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} tss64;

/* Null, kernel code and data, the two slots of the 16-byte TSS descriptor, then the user
 * segments in sysret's order. */
#define GDT_ENTRIES 8

/* The boot CPU's: loads its GDT, reloads every segment register and loads the task
 * register. */
void gdt_init(void);

/* Fills gdt with this layout, its TSS descriptor naming tss, and loads it on this CPU:
 * CS by a far return, DS/ES/SS, FS and GS null (GS base zeroed), TR. Each CPU has its own
 * (the TSS's busy bit forbids sharing). */
void gdt_load(uint64_t gdt[GDT_ENTRIES], tss64 *tss);

/* The stack the CPU switches to on an interrupt or exception from ring 3 (TSS.RSP0). */
void gdt_set_rsp0(uint64_t rsp0);

#endif
