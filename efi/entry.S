/* entry.S - the image's first instruction (the linker's entry, `ld -e stage_entry`): makes
 * SSE usable before gnu-efi's _start, its relocator or any compiled code runs, because
 * gcc -O2 and Debian's libefi.a use SSE and some firmware (U-Boot) leaves it off. */
	.text
	.globl stage_entry
	.type stage_entry, @function
/* Called by the firmware with the MS x64 convention (rcx = image handle, rdx = system
 * table). Changes CR0 and CR4 only: every register but RFLAGS and the stack are as the
 * firmware left them when _start begins. CR4.OSFXSR (bit 9) enables SSE instructions,
 * CR4.OSXMMEXCPT (bit 10) reports SIMD exceptions as #XM instead of #UD; CR0.EM (bit 2)
 * clear and CR0.MP (bit 1) set is what the SDM asks for SSE; CR0.TS (bit 3) clear so the
 * first SSE instruction does not raise #NM. The UEFI spec requires this state of x64
 * firmware; this stub only stops relying on it. */
stage_entry:
	pushq %rax
	movq %cr0, %rax
	movq %rax, stage_entry_cr0(%rip)       /* as found, for the report (efi/main.c) */
	andq $~0xc, %rax                /* EM and TS clear */
	orq $0x2, %rax                  /* MP set */
	movq %rax, %cr0
	movq %cr4, %rax
	movq %rax, stage_entry_cr4(%rip)
	orq $0x600, %rax                /* OSFXSR and OSXMMEXCPT set */
	movq %rax, %cr4
	popq %rax
	jmp _start
	.size stage_entry, . - stage_entry

	.data
	.balign 8
	.globl stage_entry_cr0, stage_entry_cr4
	.hidden stage_entry_cr0, stage_entry_cr4
stage_entry_cr0:
	.quad 0
stage_entry_cr4:
	.quad 0

	.section .note.GNU-stack, "", @progbits
