/* xd_audit.h - an audit of the execute-disable bits of the live page tables. */
#ifndef KERNEL_XD_AUDIT_H
#define KERNEL_XD_AUDIT_H

#include <stdint.h>

#include "paging.h"

/* The number of present entries, at any level, with XD (bit 63) set in the hierarchy under
 * s->pml4. Every table is reached through s->phys_offset. Must be 0 on a CPU without NX. */
uint64_t xd_audit(const pg_space *s);

#endif
