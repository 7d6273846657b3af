/* main.c - the kernel proper: takes over the CPU from the EFI stage, drops the handoff
 * trampoline's identity pages, prints the boot report (one fact a line) and checks the physmap. */
#include <stddef.h>
#include <stdint.h>

#include "boot_info.h"
#include "cpu.h"
#include "cpu_prot.h"
#include "fault.h"
#include "fbcon.h"
#include "gdt.h"
#include "heap.h"
#include "idt.h"
#include "kmem.h"
#include "kprintf.h"
#include "memtype.h"
#include "paging.h"
#include "panic_screen.h"
#include "playground.h"
#include "region.h"
#include "selftest.h"
#include "serial.h"
#include "smp.h"
#include "xd_audit.h"
#include "tour.h"
#include "user.h"

void kernel_main(uint64_t boot_info_va);

_Static_assert(sizeof(boot_region) == sizeof(mem_region), "boot_region mirrors mem_region");
_Static_assert(offsetof(boot_region, kind) == offsetof(mem_region, kind), "same layout");

static pg_space *kspace; /* the memory core's, from kmem_init on */
static uint64_t tsc_kernel_entry;

/* Refuses a boot-info block this kernel does not understand. */
static const boot_info *check_boot_info(uint64_t va)
{
	const boot_info *bi = (const boot_info *)(uintptr_t)va;
	/* The EFI stage puts the physmap at 10 TiB unless `boot --offset` moved it: any
	 * 512 GiB-aligned place in the lower half, and boot info lies inside it. */
	if (va < BOOT_PHYSMAP_ALIGN || va >= 0x0000800000000000ull)
		kpanic("boot_info: address %p is not in a physmap", (void *)va);
	if (bi->magic != BOOT_INFO_MAGIC)
		kpanic("boot_info: bad magic 0x%016lx", (unsigned long)bi->magic);
	if (bi->version != BOOT_INFO_VERSION || bi->size != sizeof(boot_info))
		kpanic("boot_info: version %u size %u, this kernel wants version %u size %u",
		       bi->version, bi->size, BOOT_INFO_VERSION, (unsigned)sizeof(boot_info));
	if (bi->phys_offset == 0 || (bi->phys_offset & (BOOT_PHYSMAP_ALIGN - 1)) ||
	    va < bi->phys_offset || bi->region_count > BOOT_INFO_MAX_REGIONS)
		kpanic("boot_info: inconsistent (offset %p, %u regions)",
		       (void *)bi->phys_offset, bi->region_count);
	physmap_base = bi->phys_offset;
	return bi;
}

/* Unmaps one identity-mapped trampoline page and flushes it; true when it is gone. */
static bool drop_identity(uint64_t va)
{
	pg_paddr frame;
	pg_size size;
	pg_translation t;
	pg_err e = pg_unmap(kspace, pg_va(va), &frame, &size);
	if (e != PG_OK)
		kpanic("paging: unmap of handoff page %p failed: %s", (void *)va, pg_strerror(e));
	invlpg(va);
	return pg_translate(kspace, pg_va(va), &t) == PG_ERR_NOT_MAPPED;
}

/* Removes the trampoline's identity-mapped pages (its code, and its data page with the
 * GDT and IDT the kernel replaced first thing), then enables global pages: only now may G
 * entries outlive a CR3 switch, since no stale identity entry is left. The trampoline
 * turned PGE off before it loaded CR3, so no firmware global entry lived this long. */
static void drop_handoff_page(const boot_info *bi)
{
	bool code = drop_identity(bi->handoff_page), data = drop_identity(bi->handoff_data);
	kprintf("paging: handoff_page=%p unmapped=%s\n", (void *)bi->handoff_page,
		code && data ? "yes" : "no");
	kprintf("paging: handoff_data=%p unmapped=%s\n", (void *)bi->handoff_data,
		data ? "yes" : "no");
	write_cr4(read_cr4() | CR4_PGE);
	kprintf("paging: cr4_pge=%u\n", (unsigned)((read_cr4() & CR4_PGE) != 0));
}

static uint64_t tsc_us(const boot_info *bi, uint64_t ticks)
{
	uint64_t per_us = bi->tsc_hz / 1000000;
	return per_us ? ticks / per_us : 0;
}

static void report_paging(const boot_info *bi)
{
	uint64_t counts[5];
	kprintf("physmap: offset=%p\n", (void *)bi->phys_offset);
	kprintf("physmap: end=%p\n", (void *)bi->physmap_end);
	kprintf("physmap: page_size=%s\n", bi->physmap_page_shift == 30 ? "1G" :
					     bi->physmap_page_shift == 21 ? "2M" : "4K");
	kprintf("physmap: pages 1G=%lu 2M=%lu 4K=%lu\n", (unsigned long)bi->physmap_pages[2],
		(unsigned long)bi->physmap_pages[1], (unsigned long)bi->physmap_pages[0]);
	kprintf("physmap: ranges=%u\n", bi->physmap_ranges);
	kprintf("paging: pml4=%p\n", (void *)bi->pml4);
	pg_count_tables(kspace, counts);
	for (int level = (int)kspace->levels; level >= 1; level--)
		kprintf("paging: tables_l%d=%lu\n", level, (unsigned long)counts[level - 1]);
	kprintf("paging: table_frames_reserved=%lu\n", (unsigned long)bi->table_frames_reserved);
}

static void report_memory(const boot_info *bi)
{
	mem_list l = { (mem_region *)(uintptr_t)bi->regions, bi->region_count,
		       BOOT_INFO_MAX_REGIONS };
	kprintf("memory: regions=%u\n", bi->region_count);
	for (int k = 0; k < MEM_KIND_COUNT; k++) {
		uint64_t bytes = mem_list_total(&l, (mem_kind)k);
		if (bytes)
			kprintf("memory: %s=%lu KiB\n", mem_kind_name((mem_kind)k),
				(unsigned long)(bytes >> 10));
	}
}

static void report_image(const boot_info *bi)
{
	kprintf("kernel: image_virt=%p image_phys=%p image_bytes=%lu\n", (void *)bi->kernel.virt,
		(void *)bi->kernel.phys, (unsigned long)bi->kernel.length);
	kprintf("kernel: stack_virt=%p stack_bytes=%lu guard=%p\n", (void *)bi->stack.virt,
		(unsigned long)bi->stack.length, (void *)(bi->stack.virt - 4096));
	kprintf("cpu: nx=%u pdpe1gb=%u phys_bits=%u\n", (unsigned)!!(bi->cpu_features & BOOT_CPU_NX),
		(unsigned)!!(bi->cpu_features & BOOT_CPU_1G), bi->phys_bits);
	if (bi->fb.base)
		kprintf("fb: base=%p width=%u height=%u stride=%u format=%u\n", (void *)bi->fb.base,
			bi->fb.width, bi->fb.height, bi->fb.stride, bi->fb.format);
	else
		kprintf("fb: none\n");
	kprintf("acpi: rsdp=%p revision=%u\n", (void *)bi->acpi_rsdp, bi->acpi_revision);
	kprintf("cmdline: \"%s\"\n", bi->cmdline);
}

static void report_time(const boot_info *bi)
{
	uint64_t stage = bi->tsc_exit_done - bi->tsc_efi_entry;
	uint64_t exitbs = bi->tsc_exit_done - bi->tsc_exit_start;
	kprintf("time: tsc_hz=%lu\n", (unsigned long)bi->tsc_hz);
	kprintf("time: efi_stage_tsc=%lu\n", (unsigned long)stage);
	kprintf("time: efi_stage_us=%lu\n", (unsigned long)tsc_us(bi, stage));
	kprintf("time: exit_boot_services_tsc=%lu\n", (unsigned long)exitbs);
	kprintf("time: exit_boot_services_us=%lu\n", (unsigned long)tsc_us(bi, exitbs));
	kprintf("time: exit_boot_services_attempts=%u\n", bi->exit_attempts);
	if (bi->exit_stale_forced)
		kprintf("time: exit_stale_key_forced=1\n");
	kprintf("time: handoff_to_kernel_us=%lu\n",
		(unsigned long)tsc_us(bi, tsc_kernel_entry - bi->tsc_exit_done));
}

/* Reads each check frame back through the physmap; every word must hold the pattern
 * the EFI stage wrote through the identity map. */
static void check_physmap(const boot_info *bi)
{
	const char *names[BOOT_INFO_CHECKS] = { "low", "mid", "high", "extra" };
	char where[160];
	int len = 0;
	unsigned bad = 0;
	for (unsigned c = 0; c < bi->check_count && c < BOOT_INFO_CHECKS; c++) {
		uint64_t pa = bi->check_frames[c];
		const volatile uint64_t *w =
			(const volatile uint64_t *)(uintptr_t)phys_to_virt(pa);
		for (uint64_t i = 0; i < 512; i++) {
			if (w[i] != boot_check_word(pa, i)) {
				kprintf("physmap: mismatch frame=%p word=%lu got=0x%016lx\n",
					(void *)pa, (unsigned long)i, (unsigned long)w[i]);
				bad++;
				break;
			}
		}
		len += ksnprintf(where + len, sizeof where - (size_t)len, " %s=%p", names[c],
				 (void *)pa);
	}
	kprintf("physmap: check=%s frames=%u%s\n",
		bad || bi->check_count == 0 ? "FAIL" : "pass", bi->check_count, where);
}

/* The frame the EFI stage allocated after building the tables: allocations the physmap
 * build never saw must still be reachable through it. */
static void check_after_tables(const boot_info *bi)
{
	uint64_t pa = bi->check_after_tables, i = 512;
	if (pa) {
		const volatile uint64_t *w =
			(const volatile uint64_t *)(uintptr_t)phys_to_virt(pa);
		for (i = 0; i < 512 && w[i] == boot_check_word(pa, i); i++)
			;
	}
	kprintf("physmap: after_tables frame=%p check=%s\n", (void *)pa,
		pa && i == 512 ? "pass" : "FAIL");
}

/* The first byte of [start, end) the physmap does not map to itself, or end. Steps a
 * translation at a time, so huge pages cost one walk each. */
static uint64_t first_unmapped(uint64_t start, uint64_t end)
{
	pg_translation t;
	while (start < end) {
		if (pg_translate(kspace, pg_va(phys_to_virt(start)), &t) != PG_OK ||
		    t.phys.pa != start)
			return start;
		uint64_t span = pg_size_bytes(t.size);
		start = (start & ~(span - 1)) + span;
	}
	return end;
}

/* Every RAM-like region of the final map (boot_info's list, built after the exit of boot
 * services) must lie inside the physmap, whatever the firmware did after the tables were
 * built. Prints the first uncovered range when one is not. */
static void check_covers_final_map(const boot_info *bi)
{
	uint64_t bytes = 0;
	unsigned n = 0;
	for (uint32_t i = 0; i < bi->region_count; i++) {
		const boot_region *r = &bi->regions[i];
		if (!mem_kind_ram_like(r->kind))
			continue;
		uint64_t end = r->start + r->length, bad = first_unmapped(r->start, end);
		if (bad != end) {
			kprintf("physmap: covers_final_map=FAIL uncovered=%p region=%p+0x%lx kind=%s\n",
				(void *)bad, (void *)r->start, (unsigned long)r->length,
				mem_kind_name((mem_kind)r->kind));
			return;
		}
		n++;
		bytes += r->length;
	}
	kprintf("physmap: covers_final_map=yes ram_regions=%u bytes=%lu late_ranges=%u\n", n,
		(unsigned long)bytes, bi->physmap_late_ranges);
}

void kernel_main(uint64_t boot_info_va)
{
	tsc_kernel_entry = rdtsc();
	gdt_init();
	idt_init();
	bool com1 = serial_init(); /* probes first: no UART must not hang or slow the kernel */
	kprintf("\nkernel: entry=%p boot_info=%p\n", (void *)&kernel_main, (void *)boot_info_va);
	const boot_info *bi = check_boot_info(boot_info_va);
	panic_screen_arm(bi);
	kprintf("kernel: boot_info_version=%u\n", bi->version);
	write_cr0(read_cr0() | CR0_WP); /* supervisor writes honour read-only pages */
	if ((read_cr3() & ~0xfffull) != bi->pml4)
		kpanic("paging: CR3 %p is not the PML4 boot_info names (%p)", (void *)read_cr3(),
		       (void *)bi->pml4);
	unsigned la57 = (read_cr4() & CR4_LA57) ? 5 : 4;
	kprintf("paging: levels=%u cr4_la57=%u\n", bi->paging_levels, la57 == 5);
	if (bi->paging_levels != la57)
		kpanic("paging: boot_info says %u levels, CR4.LA57 says %u", bi->paging_levels, la57);

	/* The memory core: address space, frame allocator and TLB flush, in one place. From
	 * here on any code may map pages (this is where the post builds its mapper). */
	pg_err mem = kmem_init(bi);
	kspace = kmem_space();
	fbcon_start(bi, kspace); /* from here on the screen shows what serial does */
	if (mem != PG_OK)
		kpanic("frames: no frame allocator: %s", pg_strerror(mem));
	kmem_report();

	drop_handoff_page(bi);
	playground_run(); /* yours: kernel/playground/playground.c */
	report_paging(bi);
	report_memory(bi);
	report_image(bi);
	report_time(bi);
	check_covers_final_map(bi); /* first: it only walks tables, so a gap is named, not hit */
	check_physmap(bi);
	check_after_tables(bi);

	/* Protections, the paging tour, then the self-tests or a drill when the command line
	 * asks; those end in QEMU's exit. */
	cpu_prot_init();
	fault_init(bi, kspace);
	tour_result tour = tour_run(bi, kspace);
	smp_init(bi, kspace); /* the other CPUs, on these tables and protections (issue 15) */
	memtype_print_mtrr(bi);
	memtype_audit(bi, NULL); /* every boot: one type per page, no mixed large page */
	/* Issue 14: the heap (after the tour, whose table check is about the EFI stage's
	 * tables), address spaces and user mode; the heap:, aspace: and user: lines. */
	heap_init();
	user_boot();
	selftest_main(bi, kspace, tour);
	/* XD is reserved without NX: the hardware matrix checks this count is 0 there. */
	kprintf("paging: xd_entries=%lu\n", (unsigned long)xd_audit(kspace));
	kprintf("serial: com1=%s\n", com1 ? "present" : "absent"); /* last: stays on screen */
	fbcon_flush(); /* the screen catches up before the time is taken */
	kprintf("time: kernel_us=%lu\n", (unsigned long)tsc_us(bi, rdtsc() - tsc_kernel_entry));
	kprintf("kernel: ready\n");
	fbcon_flush();
	cpu_halt_forever();
}
