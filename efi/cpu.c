/* cpu.c - what the EFI stage needs to know about the CPU before it builds tables:
 * NX, 1 GiB pages, the physical address width, and the TSC rate for the boot report. */
#include "stage.h"

#include "cpu.h"

/* TSC ticks across a 10 ms firmware Stall, scaled to a second. */
static uint64_t measure_tsc_hz(void)
{
	uint64_t t0 = rdtsc();
	uefi_call_wrapper(BS->Stall, 1, 10000);
	return (rdtsc() - t0) * 100;
}

EFI_STATUS stage_cpu_probe(stage_cpu *cpu)
{
	uint32_t r[4];
	cpuid(0x80000000u, r);
	if (r[0] < 0x80000008u) {
		Print(L"efi: error: CPU lacks CPUID leaf 0x80000008 (max 0x%x)\n", r[0]);
		return EFI_UNSUPPORTED;
	}
	cpuid(0x80000001u, r);
	cpu->nx = (r[3] >> 20) & 1;
	cpu->gb_pages = (r[3] >> 26) & 1;
	cpu->la57 = cpu_has_la57();
	cpuid(0x80000008u, r);
	cpu->phys_bits = r[0] & 0xff;
	if (cpu->phys_bits < 36 || cpu->phys_bits > 52) {
		Print(L"efi: error: CPU reports MAXPHYADDR %d, outside 36..52\n", cpu->phys_bits);
		return EFI_UNSUPPORTED;
	}
	/* XD bits are reserved (and fault) unless EFER.NXE is on; firmware usually sets it,
	 * and setting it under the firmware's own tables changes nothing for them. */
	if (cpu->nx && !(rdmsr(MSR_EFER) & EFER_NXE))
		wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
	cpu->tsc_hz = measure_tsc_hz();
	Print(L"efi: cpu nx=%d pdpe1gb=%d phys_bits=%d tsc_hz=%ld\n", cpu->nx, cpu->gb_pages,
	      cpu->phys_bits, cpu->tsc_hz);
	Print(L"efi: cpu la57=%d firmware_la57=%d\n", cpu->la57,
	      (int)((read_cr4() & CR4_LA57) != 0));
	return EFI_SUCCESS;
}
