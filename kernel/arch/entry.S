/* entry.S - the kernel's first instruction. The EFI stage's handoff code arrives here
 * with interrupts off, CR3 on the new tables, RSP at the top of the kernel stack and
 * RDI = boot_info (a physmap address). */
	.section .text.entry, "ax"
	.globl kernel_entry
kernel_entry:
	cli
	xorl %ebp, %ebp          /* ends frame-pointer backtraces here */
	andq $-16, %rsp
	call kernel_main         /* rdi passes straight through */
1:	cli
	hlt
	jmp 1b

	.section .note.GNU-stack, "", @progbits
