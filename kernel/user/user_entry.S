/* user_entry.S - the doors between ring 0 and ring 3: user_enter (an iretq into a user
 * program, the kernel's context kept), syscall_entry (SWAPGS, the per-CPU kernel stack,
 * syscall_dispatch, SYSRET) and user_leave (back into user_enter's caller, from an exit
 * call or a fault that ended the program). The per-CPU block (percpu.h: cpu_local) is
 * reached through GS only, and each CPU brings its own (smp_cpu opens with it). */
#define CPU_KSTACK  8
#define CPU_USER_RSP 16
#define CPU_KERNEL_RSP 24
#define USER_CS 0x3b   /* GDT_USER_CODE | 3 */
#define USER_SS 0x33   /* GDT_USER_DATA | 3 */

	.text

/* uint64_t user_enter(uint64_t rip, uint64_t rsp, uint64_t arg): runs ring 3 at rip with
 * rsp and rdi = arg; returns the status user_leave passes. GS base must be the per-CPU
 * block on entry; the swapgs below leaves it in KERNEL_GS_BASE for syscall_entry. */
	.globl user_enter
user_enter:
	pushq %rbx
	pushq %rbp
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	pushfq                /* user_leave puts the kernel's RFLAGS back: AC clear, IF as it was */
	movq %rsp, %gs:CPU_KERNEL_RSP
	pushq $USER_SS
	pushq %rsi
	pushq $0x2            /* RFLAGS: IF off (the IPI stubs do not SWAPGS), IOPL 0 */
	pushq $USER_CS
	pushq %rdi
	movq %rdx, %rdi
	xorl %eax, %eax       /* no kernel value reaches ring 3 */
	xorl %ebx, %ebx
	xorl %ecx, %ecx
	xorl %edx, %edx
	xorl %esi, %esi
	xorl %ebp, %ebp
	xorl %r8d, %r8d
	xorl %r9d, %r9d
	xorl %r10d, %r10d
	xorl %r11d, %r11d
	xorl %r12d, %r12d
	xorl %r13d, %r13d
	xorl %r14d, %r14d
	xorl %r15d, %r15d
	swapgs
	iretq

/* void user_leave(uint64_t status): GS base is the per-CPU block (the caller made sure);
 * drops whatever stack it runs on and returns status from user_enter. */
	.globl user_leave
user_leave:
	movq %rdi, %rax
	movq %gs:CPU_KERNEL_RSP, %rsp
	popfq                 /* ring 3 may have set AC (POPF), and a fault does not clear it */
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbp
	popq %rbx
	ret

/* SYSCALL: RCX = user RIP, R11 = user RFLAGS, IF/TF/DF/AC cleared by IA32_FMASK, RSP
 * still the user's. Arguments: RAX = number, RDI, RSI, RDX; the result in RAX. */
	.globl syscall_entry
syscall_entry:
	swapgs
	movq %rsp, %gs:CPU_USER_RSP
	movq %gs:CPU_KSTACK, %rsp
	pushq %gs:CPU_USER_RSP
	pushq %rcx
	pushq %r11
	pushq %rbx            /* keeps the stack 16-byte aligned at the call */
	movq %rdx, %rcx
	movq %rsi, %rdx
	movq %rdi, %rsi
	movq %rax, %rdi
	call syscall_dispatch
	popq %rbx
	popq %r11
	popq %rcx
	popq %rsi             /* user RSP, loaded last */
	xorl %edi, %edi       /* caller-saved registers carry no kernel values back */
	xorl %edx, %edx
	xorl %r8d, %r8d
	xorl %r9d, %r9d
	xorl %r10d, %r10d
	movq %rsi, %rsp
	xorl %esi, %esi
	swapgs
	/* RCX came from SYSCALL itself, so it is canonical: SYSRET cannot fault in ring 0. */
	sysretq

	.section .note.GNU-stack, "", @progbits
