/* handoff.S - the trampoline that switches from the firmware's tables to the kernel's (or,
 * for the test program la57on, from the firmware's 4-level tables to 5-level ones and
 * back to the caller). The code below is copied into a page below 4 GiB that both sets of
 * tables identity-map (trampoline.c), so after each write to CR3 or CR0 the next fetch comes
 * from the same address. It is position independent: 64-bit parts use RIP-relative
 * addresses, the 32-bit part uses the code page's address from the data page.
 * Argument (SysV): rdi = data page (handoff.h: GDT, IDT, stack, parameters), below 4 GiB.
 *
 * Order, and why:
 *  1. cli, then the trampoline's own GDT and IDT are loaded before anything else: from
 *     here to the kernel's lidt, GDTR and IDTR name memory the new tables map (the data
 *     page), so an NMI is delivered to a halt instead of through firmware tables that
 *     the new CR3 may not map (a triple fault). The stack is the data page's too.
 *  2. CR4.PGE off: clearing it flushes every TLB entry, global ones included (SDM Vol. 3A
 *     4.10.4.1), so no firmware translation survives into the kernel's address space.
 *     CR4.PCIDE off as well: CR0.PG cannot be cleared while it is set (SDM Vol. 3A 2.5).
 *  3. Same paging mode (CR4.LA57 as asked): mov CR3 in 64-bit mode, nothing else.
 *     Other mode: CR4.LA57 cannot change in IA-32e mode (MOV to CR4 #GP, SDM Vol. 3A 2.5,
 *     4.1.2), so: far return to a 32-bit code segment (compatibility mode); clear CR0.PG,
 *     which clears EFER.LMA (paging off, legacy protected mode; this code is identity
 *     mapped, SDM Vol. 3A 9.8.5 - 10.8.5 in later editions - "Switching out of IA-32e
 *     mode"); set or clear CR4.LA57; load CR3 (32 bits: the root is below 4 GiB); set
 *     CR0.PG with EFER.LME still set, which activates IA-32e mode again with 4- or 5-level
 *     paging as CR4.LA57 says (SDM Vol. 3A 4.1.2, 9.8.5 "Initializing IA-32e mode");
 *     far return to the 64-bit code segment.
 *  4. Kernel: stack, rdi = boot_info, jump. Test program: the caller's GDT, IDT, segments,
 *     stack, callee-saved registers, CR4.PGE/PCIDE and RFLAGS back, ret.
 * After compatibility mode the upper halves of the registers are undefined (SDM Vol. 1
 * 3.4.1.1), so every 64-bit value is read from the data page again. */
#define __ASSEMBLER__ 1
#include "handoff.h"

#ifndef HANDOFF_MUTANT
#define HANDOFF_MUTANT 0
#endif
#define CR0_PG    0x80000000
#define CR4_PGE   0x80
#define CR4_LA57  0x1000
#define CR4_PCIDE 0x20000

	.text
	.code64
	.balign 16
	.globl handoff_code, handoff_halt, handoff_code_end
handoff_code:
	pushfq
	popq %rax
	cli
	movq %rax, H_FLAGS(%rdi)
	movq %rsp, H_RSP(%rdi)
	movq %rbx, H_RBX(%rdi)
	movq %rbp, H_RBP(%rdi)
	movq %r12, H_R12(%rdi)
	movq %r13, H_R13(%rdi)
	movq %r14, H_R14(%rdi)
	movq %r15, H_R15(%rdi)
	movq %cr4, %rax
	movq %rax, H_CR4(%rdi)
	sgdt H_SGDTR(%rdi)
	sidt H_SIDTR(%rdi)
	movw %cs, H_CS(%rdi)
	movw %ss, H_SS(%rdi)
	movw %ds, H_DS(%rdi)
	movw %es, H_ES(%rdi)
	movq %rdi, %rbx
	movq $0, H_CHANGED(%rbx)

	/* 1. Our descriptor tables first, then our stack and segments. */
	lgdt H_GDTR(%rbx)
#if HANDOFF_MUTANT != 2                  /* broken on purpose: the firmware's IDT stays */
	lidt H_IDTR(%rbx)
#endif
	leaq H_STACK_TOP(%rbx), %rsp
	pushq $SEL_CODE64
	leaq 1f(%rip), %rax
	pushq %rax
	lretq
1:	movl $SEL_DATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss

	/* 2. No global (or PCID-tagged) translation survives the switch. */
	movq %cr4, %rax
	andq $~(CR4_PGE | CR4_PCIDE), %rax
	movq %rax, %cr4

	/* 3. Does the paging mode change? */
	movq %rax, %rcx
	shrq $12, %rcx
	andl $1, %ecx
	cmpq H_LA57(%rbx), %rcx
	jne 2f
	testl $1, H_SPIN(%rbx)           /* test (boot nmi-window), no mode change */
	jz 8f
9:	pause
	jmp 9b
8:	movq H_ROOT(%rbx), %rax
	movq %rax, %cr3
	jmp 4f

2:	movq $1, H_CHANGED(%rbx)
	pushq $SEL_CODE32                /* to compatibility mode */
	leaq 3f(%rip), %rax
	pushq %rax
	lretq
	.code32
3:	movl %cr0, %eax
	andl $~CR0_PG, %eax
	movl %eax, %cr0                  /* paging off: EFER.LMA = 0 */
	testl $1, H_SPIN(%ebx)           /* test (boot nmi-window): wait here for an NMI */
	jz 8f
9:	pause
	jmp 9b
8:
	movl %cr4, %eax
	andl $~CR4_LA57, %eax
	testl $1, H_LA57(%ebx)
	jz 5f
#if HANDOFF_MUTANT != 1                  /* broken on purpose: make la57-test must fail */
	orl $CR4_LA57, %eax
#endif
5:	movl %eax, %cr4                  /* LA57 as asked, PAE still set */
	movl H_ROOT(%ebx), %eax
	movl %eax, %cr3
	movl %cr0, %eax
	orl $CR0_PG, %eax
	movl %eax, %cr0                  /* paging on, EFER.LMA = 1: compatibility mode */
	pushl $SEL_CODE64
	movl H_CODE(%ebx), %eax
	addl $(4f - handoff_code), %eax
	pushl %eax
	lretl                            /* to 64-bit mode */
	.code64

	/* 4. Onwards. */
4:	movl %ebx, %ebx                  /* upper half undefined after compatibility mode */
	movq H_ENTRY(%rbx), %rax
	testq %rax, %rax
	jz 6f
	movq H_STACK(%rbx), %rsp
	movq H_ARG(%rbx), %rdi
	xorl %ebp, %ebp
	jmp *%rax

6:	lgdt H_SGDTR(%rbx)               /* the caller's world again */
	lidt H_SIDTR(%rbx)
	movq H_RSP(%rbx), %rsp
	movw H_SS(%rbx), %ax
	movw %ax, %ss
	movw H_DS(%rbx), %ax
	movw %ax, %ds
	movw H_ES(%rbx), %ax
	movw %ax, %es
	movzwq H_CS(%rbx), %rax
	pushq %rax
	leaq 7f(%rip), %rax
	pushq %rax
	lretq
7:	movq %cr4, %rcx                  /* PGE and PCIDE as the caller had them */
	andq $~(CR4_PGE | CR4_PCIDE), %rcx
	movq H_CR4(%rbx), %rax
	andq $(CR4_PGE | CR4_PCIDE), %rax
	orq %rcx, %rax
	movq %rax, %cr4
	movq H_RBP(%rbx), %rbp
	movq H_R12(%rbx), %r12
	movq H_R13(%rbx), %r13
	movq H_R14(%rbx), %r14
	movq H_R15(%rbx), %r15
	pushq H_FLAGS(%rbx)
	popfq
	movq H_CHANGED(%rbx), %rax
	movq H_RBX(%rbx), %rbx
	ret

/* Every vector of the trampoline's IDT lands here. The bytes (cli; hlt; jmp back) mean
 * the same in 64-, 32- and 16-bit code: in the paging-off window the CPU reads the IDT as
 * 8-byte gates, and the even ones are the first halves of 16-byte gates, which name this
 * address with the 64-bit selector (a 16-bit segment outside IA-32e mode); the odd ones
 * are not present, which ends in #NP and then #DF (vector 8, even): a halt either way. */
	.balign 16
handoff_halt:
	cli
	hlt
	jmp handoff_halt
handoff_code_end:

	.section .note.GNU-stack, "", @progbits
