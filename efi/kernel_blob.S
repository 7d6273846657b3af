/* kernel_blob.S - embeds the kernel ELF (path in KERNEL_ELF, set by the Makefile) into
 * the EFI image's read-only data, where the stage validates it before loading it. */
	.section .rodata
	.balign 16
	.globl stage_kernel_elf
	.globl stage_kernel_elf_end
stage_kernel_elf:
	.incbin KERNEL_ELF
stage_kernel_elf_end:

	.section .note.GNU-stack, "", @progbits
