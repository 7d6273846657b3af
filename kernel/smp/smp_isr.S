/* smp_isr.S - the AP's first kernel instruction, and the stubs for vectors 32..255: the
 * shootdown and wake-up IPIs and anything else (serviced the same way, then EOI), and the
 * spurious vector, which takes no EOI. */
	.text
	.globl ap_entry64
ap_entry64:                     /* from the trampoline: RSP = own stack, RDI = cpu index */
	andq $-16, %rsp
	call ap_main
1:	cli
	hlt
	jmp 1b

	.globl smp_irq_stub
	.balign 16
smp_irq_stub:                   /* RSP = 8 mod 16 after the CPU's five words */
	pushq %rax
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11                  /* nine words: 0 mod 16 at the call */
	cld
	call smp_irq
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rax
	iretq

	.globl smp_spurious_stub
	.balign 16
smp_spurious_stub:
	iretq

	.section .note.GNU-stack, "", @progbits
