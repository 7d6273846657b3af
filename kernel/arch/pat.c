/* pat.c - IA32_PAT programmed the way the SDM asks for a memory-type change (Vol. 3A,
 * "Programming the PAT", which points to the MTRR change procedure): no cache line and no
 * TLB entry may hold a type from before the write. */
#include "pat.h"

#include "cpu.h"

#define PAT_POWER_ON 0x0007040600070406ull /* WB WT UC- UC, twice */

static bool has_pat(void)
{
	uint32_t r[4];
	cpuid(1, r);
	return (r[3] & (1u << 16)) != 0;
}

/* Every TLB entry, global ones too: toggling PGE flushes them all, a CR3 reload the rest. */
static void flush_tlb(uint64_t cr4)
{
	if (cr4 & CR4_PGE) {
		write_cr4(cr4 & ~CR4_PGE);
		write_cr4(cr4);
	} else {
		write_cr3(read_cr3());
	}
}

bool pat_init(uint64_t value)
{
	if (!has_pat())
		return false;
	uint64_t flags = irq_save();
	uint64_t cr0 = read_cr0(), cr4 = read_cr4();
	write_cr0((cr0 | CR0_CD) & ~CR0_NW); /* no-fill mode: no new lines while types change */
	wbinvd();
	flush_tlb(cr4);
	wrmsr(MSR_IA32_PAT, value);
	flush_tlb(cr4);
	wbinvd();
	write_cr0(cr0 & ~(CR0_CD | CR0_NW)); /* normal caching */
	irq_restore(flags);
	return rdmsr(MSR_IA32_PAT) == value;
}

uint64_t pat_read(void)
{
	return has_pat() ? rdmsr(MSR_IA32_PAT) : PAT_POWER_ON;
}
