/* isr.S - entry stubs for exception vectors 0..31. Each pushes a dummy error code
 * where the CPU pushes none, then its vector, so exc_dispatch sees one frame layout. */

/* Vectors with a CPU-pushed error code: 8, 10-14, 17, 21, 29, 30 (Intel SDM vol. 3, 6.3.1). */
.macro stub vec
	.balign 16
isr_\vec:
	.if (\vec == 8) || (\vec >= 10 && \vec <= 14) || (\vec == 17) || (\vec == 21) || (\vec == 29) || (\vec == 30)
	.else
	pushq $0
	.endif
	pushq $\vec
	jmp isr_common
.endm

	.text
	.altmacro
.set v, 0
.rept 32
	stub %v
	.set v, v + 1
.endr

isr_common:
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	cld
	movq %rsp, %rdi
	movq %rsp, %rbx     /* callee-saved: the frame, to undo the alignment below */
	andq $-16, %rsp     /* the C ABI wants a 16-byte aligned stack at the call */
	call exc_dispatch
	movq %rbx, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
	addq $16, %rsp      /* vector and error code */
	iretq

/* The stubs' addresses, for idt_init. */
	.section .rodata
	.balign 8
	.globl isr_table
isr_table:
.macro table_entry vec
	.quad isr_\vec
.endm
.set v, 0
.rept 32
	table_entry %v
	.set v, v + 1
.endr

	.section .note.GNU-stack, "", @progbits
