/* cpu_prot.h - the CPU's own protections: supervisor write protection, no-execute, and
 * SMEP, SMAP and UMIP where CPUID reports them. */
#ifndef KERNEL_CPU_PROT_H
#define KERNEL_CPU_PROT_H

#include <stdbool.h>

/* What is on after cpu_prot_init, read back from CR0, CR4 and EFER. */
typedef struct {
	bool wp, nxe, smep, smap, umip;
} cpu_prot;

/* Sets CR0.WP, EFER.NXE when the CPU has NX, and CR4.SMEP/SMAP/UMIP when CPUID has
 * them; prints one line `cpu: wp=.. nxe=.. smep=.. smap=.. umip=..`. */
cpu_prot cpu_prot_init(void);

/* The state as the registers say now. */
cpu_prot cpu_prot_read(void);

#endif
