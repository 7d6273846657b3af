/* gdt.c - flat 64-bit segments plus one TSS whose IST slots give the double-fault and
 * page-fault handlers known-good stacks, so a kernel stack overflow is reported as a
 * guard-page hit instead of escalating to #DF or a triple fault. */
#include "gdt.h"

#include <stdint.h>

_Static_assert(sizeof(tss64) == 104, "TSS layout (Intel SDM vol. 3, 8.7)");

static tss64 tss;
static uint8_t df_stack[16384] __attribute__((aligned(16)));
/* #PF reports walk the tables and print: 16 KiB is ample. Not reentrant: a fault inside
 * the #PF handler would reuse it, which fault.c refuses to resume from. */
static uint8_t pf_stack[16384] __attribute__((aligned(16)));

static uint64_t gdt[GDT_ENTRIES];

/* Code: present, DPL 0, type execute/read, L (64-bit). Data: present, read/write. */
#define SEG_CODE64 0x00209a0000000000ull
#define SEG_DATA   0x0000920000000000ull
#define SEG_UDATA  0x0000f20000000000ull /* DPL 3 */
#define SEG_UCODE64 0x0020fa0000000000ull

static void set_tss_descriptor(uint64_t *slot, uint64_t base, uint32_t limit)
{
	slot[0] = (limit & 0xffffull) | ((base & 0xffffffull) << 16) |
		  (0x89ull << 40) /* present, type 9: available 64-bit TSS */ |
		  ((uint64_t)(limit >> 16 & 0xf) << 48) | ((base >> 24 & 0xffull) << 56);
	slot[1] = base >> 32;
}

void gdt_load(uint64_t g[GDT_ENTRIES], tss64 *t)
{
	struct __attribute__((packed)) { uint16_t limit; uint64_t base; } gdtr;

	g[0] = 0;
	g[1] = SEG_CODE64;
	g[2] = SEG_DATA;
	set_tss_descriptor(&g[3], (uint64_t)(uintptr_t)t, sizeof *t - 1);
	g[5] = 0;
	g[GDT_USER_DATA / 8] = SEG_UDATA;
	g[GDT_USER_CODE / 8] = SEG_UCODE64;

	gdtr.limit = GDT_ENTRIES * sizeof g[0] - 1;
	gdtr.base = (uint64_t)(uintptr_t)g;
	/* CS can only be reloaded by a far transfer: push the selector and a return
	 * address, then lretq. */
	__asm__ volatile(
		"lgdt %0\n\t"
		"pushq %1\n\t"
		"leaq 1f(%%rip), %%rax\n\t"
		"pushq %%rax\n\t"
		"lretq\n"
		"1:\n\t"
		"movw %w2, %%ax\n\t"
		"movw %%ax, %%ds\n\t"
		"movw %%ax, %%es\n\t"
		"movw %%ax, %%ss\n\t"
		"xorl %%eax, %%eax\n\t"
		"movw %%ax, %%fs\n\t"
		"movw %%ax, %%gs\n\t"
		"ltr %w3\n\t"
		:
		: "m"(gdtr), "i"(GDT_KERNEL_CODE), "r"((uint16_t)GDT_KERNEL_DATA),
		  "r"((uint16_t)GDT_TSS)
		: "rax", "memory");
}

void gdt_init(void)
{
	tss.ist[IST_DOUBLE_FAULT - 1] = (uint64_t)(uintptr_t)(df_stack + sizeof df_stack);
	tss.ist[IST_PAGE_FAULT - 1] = (uint64_t)(uintptr_t)(pf_stack + sizeof pf_stack);
	tss.iomap_base = sizeof tss; /* no I/O permission bitmap */
	gdt_load(gdt, &tss);
}

void gdt_set_rsp0(uint64_t rsp0)
{
	tss.rsp[0] = rsp0;
}
