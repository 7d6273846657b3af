/* memtype.h - the memory-type audit run at every boot: from the MTRRs and IA32_PAT as the
 * kernel reads them and a walk of the live tables, independent of the code that built them,
 * it checks that no huge page spans two MTRR types, that nothing outside RAM is mapped
 * write-back and that no physical page is mapped with two different memory types. */
#ifndef KERNEL_MEMTYPE_H
#define KERNEL_MEMTYPE_H

#include <stdbool.h>
#include <stdint.h>

#include "boot_info.h"

typedef struct {
	uint64_t leaves;      /* present leaf entries walked */
	uint64_t mixed_large; /* huge leaves over a range whose MTRR type is not uniform */
	uint64_t wb_non_ram;  /* WB-effective leaves over memory boot_info does not call RAM-like */
	uint64_t type_aliases;/* 4 KiB pages mapped with two different effective types */
	uint64_t undefined;   /* pieces whose MTRR type the SDM leaves undefined (typed UC) */
	bool overflow;        /* more typed pieces than the audit can hold: not checked */
} memtype_result;

/* Prints the MTRRs and IA32_PAT once, one fact a line (mtrr: ..., pat: value=...). */
void memtype_print_mtrr(const boot_info *bi);

/* Walks the live tables (CR3, 4 or 5 levels by CR4.LA57) and prints
 * memtype: leaves=N mixed_large=N wb_non_ram=N type_aliases=N check=pass|FAIL, with the
 * first few offenders named above it. Returns whether the check passed. */
bool memtype_audit(const boot_info *bi, memtype_result *out);

#endif
