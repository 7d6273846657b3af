/* probe.S - single accesses that a test expects may fault. fault.c arms the expectation
 * with the range of RIPs that may fault and the recovery point; the #PF handler moves the
 * saved RIP there and iretq lands in it with RSP as it was at the access. */
	.text

/* bool probe_read64(uint64_t va, uint64_t *out) */
	.globl probe_read64, probe_read64_end
probe_read64:
	movq (%rdi), %rax
probe_read64_end:
	movq %rax, (%rsi)
	movl $1, %eax
	ret

/* bool probe_write64(uint64_t va, uint64_t v) */
	.globl probe_write64, probe_write64_end
probe_write64:
	movq %rsi, (%rdi)
probe_write64_end:
	movl $1, %eax
	ret

/* bool probe_exec(uint64_t va): calls va, which must return. The fault, if any, is the
 * fetch at va itself, so RIP there is the only one the expectation allows. */
	.globl probe_exec
probe_exec:
	call *%rdi
	movl $1, %eax
	ret

/* Recovery of read and write probes: nothing was pushed, so return false at once. */
	.globl probe_recover
probe_recover:
	xorl %eax, %eax
	ret

/* Recovery of probe_exec: drop the return address its call pushed, then return false
 * to probe_exec's caller. */
	.globl probe_recover_exec
probe_recover_exec:
	addq $8, %rsp
	xorl %eax, %eax
	ret

/* A function that only returns: the positive control for probe_exec. */
	.globl probe_ret
probe_ret:
	ret

	.section .note.GNU-stack, "", @progbits
