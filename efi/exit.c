/* exit.c - leaving the firmware: the final memory map and ExitBootServices with the
 * standard retry, the kernel's region list built from that map, and the jump. After the
 * first ExitBootServices call nothing but GetMemoryMap and ExitBootServices may touch the
 * firmware, so errors from then on go straight to COM1. */
#include "stage.h"

#include "fmt.h"
#include "memmap.h"

#define EXIT_SLACK_DESCRIPTORS 128
#define EXIT_MAX_ATTEMPTS 8
/* Table frames kept for physmap ranges that only the final map shows: one table maps
 * 1 GiB of 2 MiB pages or 512 GiB of 1 GiB pages, so 16 cover any plausible late range. */
#define EXIT_SPARE_TABLES 16

_Static_assert(sizeof(boot_region) == sizeof(mem_region), "boot_region mirrors mem_region");

static void *exit_map;
static UINTN exit_cap;
static const boot_framebuffer *late_fb; /* where late_fail shows itself besides COM1 */
bool stage_test_late_fail;
bool stage_test_nmi_window;

EFI_STATUS stage_prepare_exit(EFI_HANDLE image)
{
	UINTN size = 0, key, desc_size;
	UINT32 desc_version;
	uint64_t pa;
	(void)image;
	EFI_STATUS st = uefi_call_wrapper(BS->GetMemoryMap, 5, &size, NULL, &key, &desc_size,
					  &desc_version);
	if (st != EFI_BUFFER_TOO_SMALL) {
		Print(L"efi: error: GetMemoryMap size query: %r\n", st);
		return EFI_ERROR(st) ? st : EFI_DEVICE_ERROR;
	}
	/* Slack: this allocation and whatever the firmware does during the exit split
	 * descriptors, and no allocation is allowed once the exit has begun. */
	exit_cap = size + EXIT_SLACK_DESCRIPTORS * desc_size;
	exit_cap = (exit_cap + 4095) & ~(UINTN)4095;
	st = stage_alloc(exit_cap / 4096, MEM_BOOT_RECLAIMABLE, L"exit memory map", &pa);
	if (EFI_ERROR(st))
		return st;
	exit_map = (void *)(UINTN)pa;
	st = stage_table_frames_seal(EXIT_SPARE_TABLES);
	if (EFI_ERROR(st))
		Print(L"efi: error: no spare page-table frames for the final map: %r\n", st);
	return st;
}

/* Boot services are gone: report on the screen and on COM1 by hand, and stop. */
static void late_fail(const char *msg) __attribute__((noreturn));
static void late_fail(const char *msg)
{
	static char line[192];
	fmt_line l;
	fmt_init(&l, line, sizeof line);
	fmt_str(&l, "efi: fatal after ExitBootServices: ");
	fmt_str(&l, msg);
	for (const char *p = line; *p; p++) {
		for (int spin = 0; spin < 100000 && !(inb(0x3fd) & 0x20); spin++)
			;
		outb(0x3f8, (uint8_t)*p);
	}
	outb(0x3f8, '\n');
	const char *screen[] = { line, "kernel.efi stopped here (the same text went to COM1)" };
	stage_late_screen(late_fb, screen, 2);
	cpu_halt_forever();
}

/* The stale-key test: one page allocated and given back changes the map (and so its key)
 * after GetMemoryMap read it. Runs before the first ExitBootServices, where the firmware
 * may still be called; returns whether the firmware did both. */
static bool make_key_stale(void)
{
	EFI_PHYSICAL_ADDRESS pa = 0;
	if (EFI_ERROR(uefi_call_wrapper(BS->AllocatePages, 4, AllocateAnyPages, EfiLoaderData, 1,
					&pa)))
		return false;
	return !EFI_ERROR(uefi_call_wrapper(BS->FreePages, 2, pa, 1));
}

/* The physmap was built from the map read before the tables; memory that is RAM only in
 * the final map is mapped now, from the spare table frames, or the boot stops here. */
static void cover_final_map(stage_space *sp, const mem_list *l, boot_info *bi)
{
	static char msg[160];
	mem_region gap;
	pg_err e = stage_physmap_cover(sp, l, bi, &gap);
	if (e == PG_OK)
		return;
	fmt_line line;
	fmt_init(&line, msg, sizeof msg);
	fmt_str(&line, "physmap cannot cover the final map at ");
	fmt_hex16(&line, gap.start);
	fmt_str(&line, " bytes=");
	fmt_hex(&line, gap.length);
	fmt_str(&line, ": ");
	fmt_str(&line, pg_strerror(e));
	late_fail(msg);
}

/* The top table is final now: copy it below 4 GiB (the CR3 a mode change can load), fill
 * the trampoline and jump. The copy's entries point at the same lower tables. */
static void enter(stage_space *sp, const boot_info *bi, uint64_t bi_phys)
	__attribute__((noreturn));
static void enter(stage_space *sp, const boot_info *bi, uint64_t bi_phys)
{
	const volatile uint64_t *from = (const uint64_t *)(UINTN)sp->space.root.pa;
	volatile uint64_t *to = (uint64_t *)(UINTN)sp->handoff_root;
	for (unsigned i = 0; i < 512; i++)
		to[i] = from[i];
	handoff_plan plan = { sp->handoff_page, sp->handoff_data, sp->handoff_root,
			      bi->paging_levels, BOOT_STACK_TOP, bi->kernel_entry,
			      bi->phys_offset + bi_phys, stage_test_nmi_window };
	if (!handoff_prepare(&plan))
		late_fail("handoff trampoline pages are not below 4 GiB");
	handoff_run(&plan);
	late_fail("handoff returned");
}

EFI_STATUS stage_exit_and_enter(EFI_HANDLE image, stage_space *sp, boot_info *bi,
				uint64_t bi_phys, bool stale_key)
{
	UINTN size, key, desc_size;
	UINT32 desc_version;
	EFI_STATUS st;
	unsigned attempt;

	late_fb = &bi->fb;
	bi->tsc_exit_start = rdtsc();
	for (attempt = 1;; attempt++) {
		size = exit_cap;
		st = uefi_call_wrapper(BS->GetMemoryMap, 5, &size, exit_map, &key, &desc_size,
				       &desc_version);
		if (EFI_ERROR(st)) {
			if (attempt == 1) {
				Print(L"efi: error: final GetMemoryMap: %r\n", st);
				return st;
			}
			late_fail("GetMemoryMap failed on retry");
		}
		if (attempt == 1 && stale_key)
			bi->exit_stale_forced = make_key_stale();
		st = uefi_call_wrapper(BS->ExitBootServices, 2, image, key);
		if (!EFI_ERROR(st)) {
			/* No firmware is left to take an interrupt: keep them off from here to
			 * the kernel's own IDT, not only from the handoff on. */
			__asm__ volatile("cli" ::: "memory");
			break;
		}
		/* EFI_INVALID_PARAMETER: the map changed under us; fetch it again. */
		if (st != EFI_INVALID_PARAMETER || attempt == EXIT_MAX_ATTEMPTS)
			late_fail("ExitBootServices keeps failing");
	}
	bi->tsc_exit_done = rdtsc();
	bi->exit_attempts = attempt;
	if (stage_test_late_fail)
		late_fail("test late-fail: stopped right after the exit, as asked");

	mem_list l;
	mem_list_init(&l, (mem_region *)bi->regions, BOOT_INFO_MAX_REGIONS);
	if (memmap_convert(exit_map, size, desc_size, &l, NULL) != PG_OK)
		late_fail("final memory map does not convert");
	if (stage_apply_allocs(&l) != PG_OK)
		late_fail("region list overflows boot_info");
	bi->region_count = (uint32_t)l.count;
	cover_final_map(sp, &l, bi);

	enter(sp, bi, bi_phys);
}
