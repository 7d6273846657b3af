/* user_prog.S - the ring-3 programs, built with the kernel and embedded in its rodata: the
 * kernel copies these bytes into a read-only, executable user page at USER_CODE and starts
 * one entry of it. Position-independent (RIP-relative); each ends in the exit call, with a
 * status that names the step that went wrong. ABI: RAX = call number, RDI, RSI, RDX. */
#define SYS_WRITE 0
#define SYS_EXIT  1
#define SYS_MAP   2
#define USER_CODE  0x400000
#define USER_DATA  0x500000
#define USER_ANON  0x600000
#define OUTSIDE    0x7f0000000
#define KERNEL_VA  0xffffffff80000000
#define EFAULT     -14

	.section .rodata.user_prog, "a"
	.balign 16
	.globl user_prog_start, user_prog_end
	.globl user_hello, user_value, user_read_kernel, user_exec_data, user_write_ro
	.globl user_sgdt, user_outside, user_ac_ud2
user_prog_start:

.macro sys nr
	movl $\nr, %eax
	syscall
.endm
.macro exit code
	movl $\code, %edi
	sys SYS_EXIT
.endm

/* hello: a line, an anonymous page mapped and used, then the kernel's pointer checks:
 * a kernel address, a length that wraps, a map outside the user range and an unmapped
 * user address all refused. */
user_hello:
	leaq hello_msg(%rip), %rdi
	movl $hello_len, %esi
	sys SYS_WRITE
	cmpq $hello_len, %rax
	jne 1f
	movl $USER_ANON, %edi
	sys SYS_MAP
	testq %rax, %rax
	jne 2f
	movq $0x616e6f6e, %rax
	movq %rax, USER_ANON
	cmpq USER_ANON, %rax
	jne 3f
	movabsq $KERNEL_VA, %rdi
	movl $8, %esi
	sys SYS_WRITE
	cmpq $EFAULT, %rax
	jne 4f
	leaq hello_msg(%rip), %rdi
	movq $-1, %rsi
	sys SYS_WRITE
	cmpq $EFAULT, %rax
	jne 5f
	movabsq $KERNEL_VA, %rdi
	sys SYS_MAP
	testq %rax, %rax
	jns 6f
	movabsq $OUTSIDE, %rdi      /* in the user range, but nothing maps it */
	movl $8, %esi
	sys SYS_WRITE
	cmpq $EFAULT, %rax
	jne 7f
	exit 0
1:	exit 1
2:	exit 2
3:	exit 3
4:	exit 4
5:	exit 5
6:	exit 6
7:	exit 7

/* value: the word at USER_DATA (each process has its own frame there) is its exit status. */
user_value:
	leaq value_msg(%rip), %rdi
	movl $value_len, %esi
	sys SYS_WRITE
	movq USER_DATA, %rdi
	sys SYS_EXIT

/* Each of these must fault; the kernel ends the program. Reaching exit is the failure. */
user_read_kernel:          /* a present kernel page without the U bit */
	movabsq $KERNEL_VA, %rax
	movq (%rax), %rax
	exit 100
user_exec_data:            /* USER_DATA is user, writable, NX */
	movl $USER_DATA, %eax
	jmp *%rax
user_write_ro:             /* USER_CODE is user, read-only */
	movq $1, USER_CODE
	exit 100
user_sgdt:                 /* UMIP: sgdt at CPL 3 is #GP */
	subq $16, %rsp
	sgdt (%rsp)
	exit 100
user_ac_ud2:               /* EFLAGS.AC set by POPF, then #UD: AC must not reach the kernel */
	pushfq
	orq $0x40000, (%rsp)
	popfq
	ud2
	exit 100
user_outside:              /* nothing maps it in this process */
	movabsq $OUTSIDE, %rax
	movq (%rax), %rax
	exit 100

hello_msg:
	.ascii "hello from ring 3"
	.set hello_len, . - hello_msg
value_msg:
	.ascii "reading my own USER_DATA"
	.set value_len, . - value_msg
user_prog_end:

	.section .note.GNU-stack, "", @progbits
