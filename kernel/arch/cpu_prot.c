/* cpu_prot.c - turns on the protections the CPU offers. SMAP is safe to enable here
 * because the kernel never touches user pages (there are none); UMIP only matters once
 * something runs at CPL 3, but costs nothing now. */
#include "cpu_prot.h"

#include <stdint.h>

#include "cpu.h"
#include "kprintf.h"

/* CPUID feature bits (Intel SDM vol. 2, CPUID): leaf 7.0 EBX[7] SMEP, EBX[20] SMAP,
 * ECX[2] UMIP; leaf 8000_0001h EDX[20] NX. */
#define ID7_EBX_SMEP (1u << 7)
#define ID7_EBX_SMAP (1u << 20)
#define ID7_ECX_UMIP (1u << 2)
#define IDX_EDX_NX   (1u << 20)

cpu_prot cpu_prot_read(void)
{
	uint64_t cr4 = read_cr4();
	cpu_prot p = { (read_cr0() & CR0_WP) != 0, (rdmsr(MSR_EFER) & EFER_NXE) != 0,
		       (cr4 & CR4_SMEP) != 0, (cr4 & CR4_SMAP) != 0, (cr4 & CR4_UMIP) != 0 };
	return p;
}

cpu_prot cpu_prot_init(void)
{
	uint32_t r[4];
	uint64_t cr4 = read_cr4();

	write_cr0(read_cr0() | CR0_WP);
	cpuid(0x80000000u, r);
	if (r[0] >= 0x80000001u) {
		cpuid(0x80000001u, r);
		if (r[3] & IDX_EDX_NX)
			wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
	}
	cpuid(0, r);
	if (r[0] >= 7) {
		cpuid(7, r);
		cr4 |= (r[1] & ID7_EBX_SMEP ? CR4_SMEP : 0) | (r[1] & ID7_EBX_SMAP ? CR4_SMAP : 0) |
		       (r[2] & ID7_ECX_UMIP ? CR4_UMIP : 0);
	}
	write_cr4(cr4);
	cpu_prot p = cpu_prot_read();
	kprintf("cpu: wp=%u nxe=%u smep=%u smap=%u umip=%u\n", p.wp, p.nxe, p.smep, p.smap, p.umip);
	return p;
}
