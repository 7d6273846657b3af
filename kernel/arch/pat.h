/* pat.h - programming IA32_PAT, the page attribute table that the PWT/PCD/PAT bits of an
 * entry index, by the Intel SDM's sequence for changing memory types. */
#ifndef KERNEL_PAT_H
#define KERNEL_PAT_H

#include <stdbool.h>
#include <stdint.h>

/* Writes value to IA32_PAT with caches in no-fill mode and flushed and the TLBs flushed on
 * both sides of the write (SDM Vol. 3A, "Programming the PAT"). Returns false, changing
 * nothing, when the CPU has no PAT (CPUID.1:EDX[16]); else whether the MSR reads back. */
bool pat_init(uint64_t value);

/* IA32_PAT as it is now, or the power-on value when the CPU has no PAT. */
uint64_t pat_read(void);

#endif
