/* reclaim.h - the self-test of issue 7's third firmware quirk: the firmware's GDT, IDT,
 * page tables and whatever else it kept in boot-services and loader memory may be reused
 * by the kernel. The test hands every boot-reclaimable frame to a frame allocator of its
 * own, overwrites them all and shows the kernel still runs. */
#ifndef KERNEL_RECLAIM_H
#define KERNEL_RECLAIM_H

#include <stdbool.h>
#include <stdint.h>

#include "boot_info.h"
#include "paging.h"

typedef struct {
	pg_err init;          /* frame_init over the reclaimed regions */
	bool own_tables;      /* GDTR, IDTR, CR3, stack and boot_info lie outside them */
	uint64_t regions;     /* boot-reclaimable regions taken */
	uint64_t left_out;    /* regions beyond FRAME_MAX_REGIONS (not reclaimed) */
	uint64_t frames;      /* frames handed out (every one the allocator had) */
	uint64_t meta_bytes;  /* the allocator's metadata, itself in reclaimed memory */
	uint64_t stray;       /* frames handed out outside the regions or in the metadata */
	bool drained;         /* the allocator said "out of frames" with nothing free left */
	bool fault_ok;        /* an expected #PF was taken and resumed while they were full */
	bool paging_ok;       /* map, translate and unmap through paging/ meanwhile */
	uint64_t mismatches;  /* frames whose pattern did not survive */
	uint64_t freed;       /* frames given back */
	bool all_free;        /* the allocator is whole again */
} reclaim_result;

/* Runs the test over bi's regions as the kernel sees them (kmem_regions), using s for
 * the paging calls; prints `selftest: reclaim ...` lines and returns the counts. Test
 * mode only: afterwards the firmware's leftovers (check frames included) are garbage. */
reclaim_result reclaim_run(const boot_info *bi, pg_space *s);

/* True when every part of r says the test passed. */
bool reclaim_passed(const reclaim_result *r);

#endif
