/* trampoline.S - where an application processor starts: real mode at the reserved page
 * below 1 MiB (CS = page >> 4, IP = 0), then protected mode, then long mode on a copy of
 * the kernel's top table that lies below 4 GiB (32-bit code can only load such a CR3),
 * then the kernel's own CR3, stack and entry. smp.c copies tramp_start..tramp_end to the
 * page and fills the fields at the end; the code only uses addresses relative to the page
 * (EBX/RSI hold its physical address), so it runs wherever the firmware gave the page. */
#define T(x) ((x) - tramp_start)

	.section .rodata.trampoline, "a"
	.balign 16
	.globl tramp_start, tramp_end, tramp_gdt, tramp_gdtr, tramp_jmp32, tramp_jmp64
	.globl tramp_cr4, tramp_cr3_low, tramp_efer, tramp_apic, tramp_cr3, tramp_stack
	.globl tramp_arg, tramp_entry, tramp_pm32, tramp_lm64
	.code16
tramp_start:
	cli
	cld
	movw %cs, %ax
	movw %ax, %ds
	xorl %ebx, %ebx
	movw %ax, %bx
	shll $4, %ebx              /* the page's physical address */
	lgdtl T(tramp_gdtr)
	movl %cr0, %eax
	orl $1, %eax               /* PE */
	movl %eax, %cr0
	ljmpl *T(tramp_jmp32)

	.code32
tramp_pm32:
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movl T(tramp_cr4)(%ebx), %eax   /* PAE, and LA57 when the kernel runs 5 levels */
	movl %eax, %cr4
	movl T(tramp_cr3_low)(%ebx), %eax
	movl %eax, %cr3
	movl $0xC0000080, %ecx          /* EFER: LME, and NXE (XD bits are in the tables) */
	rdmsr
	orl T(tramp_efer)(%ebx), %eax
	wrmsr
	movl %cr0, %eax
	orl $0x80010001, %eax           /* PG, WP, PE */
	movl %eax, %cr0
	ljmpl *T(tramp_jmp64)(%ebx)

	.code64
tramp_lm64:
	movl %ebx, %esi                 /* zero-extended: upper halves are undefined here */
	/* A CPU that comes up after its timeout must not take the next CPU's slot: only the
	 * CPU whose initial APIC ID (CPUID 1, EBX[31:24]) the slot names goes on. */
	movl $1, %eax
	cpuid
	shrl $24, %ebx
	cmpb T(tramp_apic)(%rsi), %bl
	jne 9f
	movq T(tramp_cr3)(%rsi), %rax
	movq %rax, %cr3
	movq T(tramp_stack)(%rsi), %rsp
	movq T(tramp_arg)(%rsi), %rdi
	movq T(tramp_entry)(%rsi), %rax
	xorl %ebp, %ebp
	jmpq *%rax
9:	cli
	hlt
	jmp 9b

	.balign 8
tramp_gdt:
	.quad 0
	.quad 0x00cf9a000000ffff        /* 0x08: 32-bit code, flat */
	.quad 0x00cf92000000ffff        /* 0x10: data, flat */
	.quad 0x00209a0000000000        /* 0x18: 64-bit code */
tramp_gdtr:
	.word 31
	.long 0                         /* filled: page + T(tramp_gdt) */
	.balign 4
tramp_jmp32:
	.long 0                         /* filled: page + T(tramp_pm32) */
	.word 0x08
	.balign 4
tramp_jmp64:
	.long 0                         /* filled: page + T(tramp_lm64) */
	.word 0x18
	.balign 4
tramp_cr4:     .long 0
tramp_cr3_low: .long 0
tramp_efer:    .long 0
tramp_apic:    .long 0
	.balign 8
tramp_cr3:     .quad 0
tramp_stack:   .quad 0
tramp_arg:     .quad 0
tramp_entry:   .quad 0
tramp_end:

	.section .note.GNU-stack, "", @progbits
