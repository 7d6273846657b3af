/* handoff.h - the trampoline of handoff.S and trampoline.c: the layout of its data page (shared by the
 * assembly and C), and the C side that fills it. The trampoline is two pages below 4 GiB,
 * identity-mapped in both the old and the new tables: a code page (a copy of handoff.S's
 * code) and a data page with its own GDT, IDT, stack and parameters. It is used by
 * kernel.efi (jump to the kernel) and by the test program efi/test/la57on.c (switch the
 * firmware's own paging mode and return). No firmware calls here. */
#ifndef EFI_HANDOFF_H
#define EFI_HANDOFF_H

/* Data page offsets. */
#define H_GDT       0x000 /* 4 descriptors: null, code64, code32, data */
#define H_GDTR      0x020 /* limit (2 bytes) + base (8) */
#define H_IDTR      0x030
#define H_ROOT      0x040 /* CR3 to load (below 4 GiB when the mode changes) */
#define H_LA57      0x048 /* 1: 5-level paging after the switch, 0: 4-level */
#define H_STACK     0x050 /* RSP for the kernel */
#define H_ENTRY     0x058 /* kernel entry; 0: return to the caller instead */
#define H_ARG       0x060 /* RDI for the kernel */
#define H_CODE      0x068 /* address of the code page */
#define H_RSP       0x070 /* the caller's state, for the return path */
#define H_RBX       0x078
#define H_RBP       0x080
#define H_R12       0x088
#define H_R13       0x090
#define H_R14       0x098
#define H_R15       0x0a0
#define H_FLAGS     0x0a8
#define H_CR4       0x0b0
#define H_CS        0x0b8
#define H_SS        0x0c0
#define H_DS        0x0c8
#define H_ES        0x0d0
#define H_SGDTR     0x0e0 /* the caller's GDTR and IDTR (sgdt/sidt) */
#define H_SIDTR     0x0f0
#define H_CHANGED   0x100 /* set by the trampoline: 1 when it went through 32-bit code */
#define H_SPIN      0x108 /* test: 1 makes it spin in the window until an NMI halts it */
#define H_IDT       0x200 /* HANDOFF_VECTORS 16-byte gates */
#define H_STACK_TOP 0x1000

#define HANDOFF_VECTORS 32
#define SEL_CODE64 0x08
#define SEL_CODE32 0x10
#define SEL_DATA   0x18

#ifndef __ASSEMBLER__
#include <stdint.h>

/* In handoff.S: the code to copy (position independent), and its halt loop. */
extern const char handoff_code[], handoff_halt[], handoff_code_end[];

typedef struct {
	uint64_t code;  /* page that receives the code (below 4 GiB) */
	uint64_t data;  /* data page (below 4 GiB) */
	uint64_t root;  /* top table to load; below 4 GiB */
	unsigned levels;/* 4 or 5 */
	uint64_t stack, entry, arg; /* entry 0: the call returns (la57on) */
	_Bool spin;     /* test: wait in the window for an NMI (boot nmi-window) */
} handoff_plan;

/* Copies the code into p->code and builds the data page: GDT, IDT whose every vector
 * halts, parameters. Returns false when a page is not below 4 GiB or the code does not
 * fit. */
_Bool handoff_prepare(const handoff_plan *p);

/* Runs the copied trampoline (p->code) on the data page p->data. Returns only when
 * the plan's entry was 0, with the paging mode switched; true when it had to leave long
 * mode to do so. */
_Bool handoff_run(const handoff_plan *p);
#endif

#endif
