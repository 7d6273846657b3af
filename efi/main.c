/* main.c - entry of the UEFI application: takes the command (shell.c), reads the machine, builds
 * the kernel's page tables and boot info, and hands off. The steps live in the other
 * files of efi/; this one says in which order they run and why. */
#include "debug.h"
#include "shell.h"
#include "stage.h"

static mem_region map_storage[BOOT_INFO_MAX_REGIONS];

/* The nth free 4 KiB frame of the usable regions (counting from 0), or 0 if none. */
static uint64_t usable_frame(const mem_list *map, uint64_t nth)
{
	for (size_t i = 0; i < map->count; i++) {
		const mem_region *r = &map->r[i];
		if (r->kind != MEM_USABLE)
			continue;
		if (nth < r->length / 4096)
			return r->start + nth * 4096;
		nth -= r->length / 4096;
	}
	return 0;
}

/* Fills the frame at pa with the pattern the kernel reads back through the physmap. */
static void fill_check(uint64_t pa)
{
	volatile uint64_t *w = (volatile uint64_t *)(UINTN)pa;
	for (uint64_t i = 0; i < 512; i++)
		w[i] = boot_check_word(pa, i);
}

/* Claims a usable frame near the nth (stepping by dir when it is taken) and fills it
 * with the pattern the kernel will read back through the physmap. Frame 0 is skipped:
 * writing through a null pointer is nobody's friend. */
static void plant_check(const mem_list *map, uint64_t nth, int dir, boot_info *bi)
{
	for (int tries = 0; tries < 64; tries++, nth += (uint64_t)(int64_t)dir) {
		uint64_t pa = usable_frame(map, nth);
		if (pa == 0 || EFI_ERROR(stage_alloc_at(pa, 1, MEM_BOOT_RECLAIMABLE, L"physmap check")))
			continue;
		fill_check(pa);
		bi->check_frames[bi->check_count++] = pa;
		return;
	}
	Print(L"efi: warning: no physmap check frame near usable frame %ld\n", nth);
}

/* Low, middle and highest usable frames: before the page-table batches, which the
 * firmware tends to carve from the top of memory. */
static void plant_checks(const mem_list *map, boot_info *bi)
{
	uint64_t frames = mem_list_total(map, MEM_USABLE) / 4096;
	if (frames < 8) {
		Print(L"efi: warning: only %ld usable frames, no physmap check\n", frames);
		return;
	}
	plant_check(map, 0, 1, bi);
	plant_check(map, frames / 2, 1, bi);
	plant_check(map, frames - 1, -1, bi);
	Print(L"efi: physmap check frames=%d low=0x%016lx mid=0x%016lx high=0x%016lx\n",
	      bi->check_count, bi->check_frames[0], bi->check_frames[1], bi->check_frames[2]);
}

/* A frame taken after the tables and the exit buffer exist, wherever the firmware likes:
 * memory the physmap build never saw allocated, which it must still reach. */
static void plant_after_tables(boot_info *bi)
{
	uint64_t pa;
	if (EFI_ERROR(stage_alloc(1, MEM_BOOT_RECLAIMABLE, L"physmap check after tables", &pa)))
		return; /* stage_alloc said why; the kernel reports the missing frame */
	fill_check(pa);
	bi->check_after_tables = pa;
	Print(L"efi: physmap check after_tables=0x%016lx\n", pa);
}

EFI_STATUS stage_build(stage_space *sp, boot_info *bi)
{
	stage_cpu cpu;
	mem_list map;
	EFI_STATUS st;

	if (EFI_ERROR((st = stage_cpu_probe(&cpu))))
		return st;
	mem_list_init(&map, map_storage, BOOT_INFO_MAX_REGIONS);
	if (EFI_ERROR((st = stage_read_memmap(&map))))
		return st;
	plant_checks(&map, bi);
	stage_firmware_facts(bi);
	bi->cpu_features = (cpu.nx ? BOOT_CPU_NX : 0) | (cpu.gb_pages ? BOOT_CPU_1G : 0);
	bi->phys_bits = cpu.phys_bits;
	bi->tsc_hz = cpu.tsc_hz;
	return stage_build_space(sp, &cpu, &map, stage_kernel_elf,
				 (uint64_t)(stage_kernel_elf_end - stage_kernel_elf), bi);
}

static EFI_STATUS boot(EFI_HANDLE image, stage_space *sp, boot_info *bi, uint64_t bi_phys,
		       bool stale_key)
{
	EFI_STATUS st;

	if (EFI_ERROR((st = stage_build(sp, bi))))
		return st;
	/* The other CPUs start in real mode: their first page must lie below 1 MiB, and only
	 * now can the firmware still give one. Without it the kernel runs on one CPU. */
	if (EFI_ERROR(stage_alloc_below(0x9ffff, EfiLoaderData, BOOT_AP_TRAMPOLINE_PAGES,
					MEM_AP_TRAMPOLINE, L"ap trampoline",
					&bi->ap_trampoline)))
		Print(L"efi: warning: no page below 1 MiB for the AP trampoline: one CPU only\n");
	if (EFI_ERROR((st = stage_prepare_exit(image))))
		return st;
	plant_after_tables(bi);
	stage_print_allocs();
	Print(L"efi: boot_info=0x%016lx entry=0x%016lx cmdline=\"%a\"\n", bi_phys, bi->kernel_entry,
	      bi->cmdline);
	if (stale_key)
		Print(L"efi: test stale-key: the map changes before the first ExitBootServices\n");
	if (stage_test_nmi_window)
		Print(L"efi: test nmi-window: the handoff waits %s for an NMI; halt=0x%016lx\n",
		      sp->levels == 5 || (read_cr4() & CR4_LA57) ? L"with paging off" : L"in 64-bit mode",
		      sp->handoff_page + (uint64_t)(handoff_halt - handoff_code));
	Print(L"efi: exiting boot services; the kernel continues on COM1\n");
	return stage_exit_and_enter(image, sp, bi, bi_phys, stale_key);
}

/* The kernel's command line from the parsed words: "test", "drill=D", or both. The
 * parser admits only these, so they always fit BOOT_INFO_CMDLINE. */
static void kernel_cmdline(const shell_boot *opt, char *out)
{
	UINTN n = 0;
	if (opt->test)
		for (const char *w = "test "; *w; w++)
			out[n++] = *w;
	if (opt->drill[0]) {
		for (const char *w = "drill="; *w; w++)
			out[n++] = *w;
		for (const char *w = opt->drill; *w; w++)
			out[n++] = *w;
		out[n++] = ' ';
	}
	out[n ? n - 1 : 0] = '\0';
}

/* gnu-efi's crt0 calls this with the System V convention, so it is not EFIAPI. */
EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab);
EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab)
{
	static stage_space sp;
	uint64_t tsc_entry = rdtsc(), bi_phys;
	shell_boot opt;
	bool do_boot;
	boot_info *bi;
	EFI_STATUS st;

	InitializeLib(image, systab);
	uefi_call_wrapper(BS->SetWatchdogTimer, 4, 0, 0, 0, NULL);
	if (EFI_ERROR((st = shell_main(image, &opt, &do_boot))) || !do_boot)
		return st;
	sp.physmap = opt.physmap;
	sp.levels = opt.levels;
	Print(L"efi: kernel.efi (UEFI stage) starting\n");
	Print(L"efi: entry cr0=0x%016lx cr4=0x%016lx osfxsr_found=%d (SSE on since entry.S)\n",
	      stage_entry_cr0, stage_entry_cr4, (int)((stage_entry_cr4 & CR4_OSFXSR) != 0));
	stage_print_image_base(image); /* for gdb: make debug says how to use it */
	st = stage_alloc((sizeof(boot_info) + 4095) / 4096, MEM_BOOT_INFO, L"boot info", &bi_phys);
	if (EFI_ERROR(st))
		return st;
	bi = (boot_info *)(UINTN)bi_phys;
	ZeroMem(bi, sizeof *bi);
	bi->magic = BOOT_INFO_MAGIC;
	bi->version = BOOT_INFO_VERSION;
	bi->size = sizeof *bi;
	bi->phys_offset = opt.physmap.offset;
	bi->tsc_efi_entry = tsc_entry;
	kernel_cmdline(&opt, bi->cmdline);
	stage_test_late_fail = opt.late_fail;
	stage_test_nmi_window = opt.nmi_window;
	st = boot(image, &sp, bi, bi_phys, opt.stale_key);
	Print(L"efi: boot failed: %r\n", st);
	return st;
}
