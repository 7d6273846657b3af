/* percpu.h - the block each CPU's GS base points at while it runs kernel code. It opens
 * every CPU's own state (kernel/smp/smp.c: smp_cpu), so one GS base serves the SMP code
 * (smp_me) and the syscall path (kernel/user/user_entry.S reads the offsets below). */
#ifndef KERNEL_PERCPU_H
#define KERNEL_PERCPU_H

#include <stdint.h>

struct process;

typedef struct cpu_local {
	uint64_t self;        /* 0: the block's own address */
	uint64_t kstack_top;  /* 8: syscall stack, also TSS.RSP0 */
	uint64_t user_rsp;    /* 16: RSP of ring 3 during a syscall */
	uint64_t kernel_rsp;  /* 24: user_enter's saved stack */
	struct process *proc; /* 32: what runs on this CPU */
} cpu_local;

#endif
