/* handoff.S - the page of code that switches from the firmware's tables to the kernel's.
 * It sits alone in its own 4 KiB page so the EFI stage can identity-map exactly this
 * page in the new tables: after mov to CR3 the next fetch comes from the same address.
 * SysV arguments: rdi = PML4, rsi = stack top, rdx = kernel entry, rcx = boot_info.
 * GDTR and IDTR still name the firmware's tables, which the new tables do not map, until
 * the kernel loads its own first thing; interrupts are off, so only an NMI in those few
 * instructions could fault, and nothing here can prevent that without mapping them. */
	.text
	.balign 4096
	.globl stage_handoff_page
	.globl stage_handoff
stage_handoff_page:
stage_handoff:
	cli
	movq %rdi, %cr3
	movq %rsi, %rsp
	movq %rcx, %rdi
	xorl %ebp, %ebp
	jmp *%rdx
	.balign 4096

	.section .note.GNU-stack, "", @progbits
