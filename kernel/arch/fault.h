/* fault.h - what the kernel does with an exception: a report (for #PF the decoded error
 * code and the walk of CR2), then a halt, an isa-debug-exit, or - when a test declared
 * that it expects the fault - a resume at the probe's recovery point. */
#ifndef KERNEL_FAULT_H
#define KERNEL_FAULT_H

#include <stdbool.h>
#include <stdint.h>

#include "boot_info.h"
#include "idt.h"
#include "paging.h"

/* Page-fault error code bits (Intel SDM vol. 3, 4.7). */
#define PF_ERR_P    (1u << 0) /* the page was present: a protection violation */
#define PF_ERR_W    (1u << 1) /* the access was a write */
#define PF_ERR_U    (1u << 2) /* the access came from CPL 3 */
#define PF_ERR_RSVD (1u << 3) /* a reserved bit was set in some entry */
#define PF_ERR_I    (1u << 4) /* instruction fetch */

/* What to do after reporting a fault nobody expected. */
typedef enum {
	FAULT_HALT,        /* normal boot: "kernel: halted", halt */
	FAULT_EXIT_FAIL,   /* self-test mode: leave QEMU with the fail code */
	FAULT_EXIT_DRILL,  /* a drill: leave QEMU with the drill-done code */
} fault_mode;

/* What an expected fault left behind. */
typedef struct {
	bool hit;
	unsigned vector;
	uint64_t error;
	uint64_t cr2;
	uint64_t rip;
	const char *cause; /* fault_cause() as the tables stood at the fault (#PF only) */
} fault_record;

/* Gives the reports the facts they name: the tables to walk, the kernel image, stack and
 * guard page. Call once the boot info is checked; faults before it print less. */
void fault_init(const boot_info *bi, const pg_space *space);
void fault_set_mode(fault_mode m);

/* Called by exc_dispatch for every exception. Returns only for an expected fault, with
 * f->rip moved to the recovery point; otherwise reports and never returns. */
void fault_dispatch(exc_frame *f);

/* One access that may fault, with the expectation armed around it. Each returns true
 * when the access completed, false when it faulted (then rec says how). */
bool fault_probe_read(uint64_t va, uint64_t *value, fault_record *rec);
bool fault_probe_write(uint64_t va, uint64_t value, fault_record *rec);
/* Calls va as a function that takes nothing and returns (a lone `ret` will do). */
bool fault_probe_exec(uint64_t va, fault_record *rec);

/* A short name for why a page fault happened, from its error code and CR2. */
const char *fault_cause(uint64_t error, uint64_t cr2);
/* The part of the address space va lies in: null-page, guard-page, kernel-text, ... */
const char *fault_where(uint64_t va);

/* Leaves QEMU through isa-debug-exit (port 0xf4): QEMU's exit status is (code << 1) | 1.
 * Returns when the device is absent, so the caller must halt after it. */
#define DEBUG_EXIT_PORT 0xf4
enum {
	DEBUG_EXIT_PASS = 0x10, /* self-tests all passed: QEMU exits 33 */
	DEBUG_EXIT_FAIL = 0x11, /* some self-test failed: QEMU exits 35 */
	DEBUG_EXIT_DRILL = 0x12 /* a fault drill printed its report: QEMU exits 37 */
};
void debug_exit(uint8_t code);

#endif
