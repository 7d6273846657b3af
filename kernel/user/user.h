/* user.h - user mode: ring-3 programs in their own address spaces, entered with iretq and
 * calling the kernel through syscall/sysret (SWAPGS, the TSS's RSP0 for exceptions). Calls:
 * write a line, exit, map an anonymous page. A fault in ring 3 is reported and ends only
 * that program. */
#ifndef KERNEL_USER_H
#define KERNEL_USER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aspace.h"
#include "percpu.h"
#include "idt.h"

#define USER_CODE  0x400000ull  /* the program page: user, read-only, executable */
#define USER_DATA  0x500000ull  /* one data page: user, writable, NX */
#define USER_ANON  0x600000ull  /* where the hello program maps its anonymous page */
#define USER_STACK 0x7ff000ull  /* one stack page; RSP starts at its top */

enum { SYS_WRITE = 0, SYS_EXIT = 1, SYS_MAP = 2 };
#define USER_EFAULT 14
#define USER_EINVAL 22
#define USER_ENOMEM 12
#define USER_EEXIST 17
#define USER_ENOSYS 38
#define USER_WRITE_MAX 200

/* The per-CPU block GS points at in the kernel (swapped out while ring 3 runs) is
 * percpu.h's cpu_local, the head of each CPU's smp_cpu: every CPU brings its own, and the
 * entry code reads it at fixed offsets. */

/* A program that ran, and how it ended. */
typedef struct process {
	aspace as;
	unsigned pid;
	const char *name;
	bool faulted;         /* ended by a fault (else by the exit call) */
	uint64_t status;      /* exit status */
	uint64_t vector, error, cr2, rip;
	unsigned lines;       /* write calls that printed */
	unsigned bad_pointers;/* write/map calls refused for a pointer */
	pg_paddr data_frame;
} process;

/* GDT user segments are in gdt.c; this sets the syscall MSRs, TSS.RSP0 and GS, and prints
 * `user: ...`. Needs the heap and aspace_init. */
void user_init(void);

/* A process with the program page, a stack page and a data page whose first word is
 * data_word. PG_ERR_* from the address space. */
pg_err process_create(process *p, const char *name, uint64_t data_word);
/* Runs the entry (one of the labels of user_prog.S) until it exits or faults; the kernel's
 * tables are loaded again afterwards. */
void process_run(process *p, const void *entry);
/* Destroys the address space: every frame back. */
void process_destroy(process *p, uint64_t *user_frames, uint64_t *table_frames);

/* fault.c's hook: an exception from ring 3 (f->cs & 3). Never returns. */
__attribute__((noreturn)) void user_fault(exc_frame *f, uint64_t cr2);

/* The boot demo (`user:` lines), and the self-tests (one check= line each, counted through
 * selftest_record). */
void user_boot(void);
void user_selftest(void);

/* Entry points of user_prog.S. */
extern const char user_prog_start[], user_prog_end[];
extern const char user_hello[], user_value[], user_read_kernel[], user_exec_data[],
	user_write_ro[], user_sgdt[], user_outside[], user_ac_ud2[];

#endif
