/* stage.h - what the files of the EFI stage share: the allocation record, the CPU
 * probe, firmware facts and the steps of building and entering the kernel's world.
 * Only efi/ includes this (it pulls in gnu-efi). */
#ifndef EFI_STAGE_H
#define EFI_STAGE_H

#include <efi.h>
#include <efilib.h>

#include "boot_info.h"
#include "handoff.h"
#include "cpu.h"
#include "elf.h"
#include "mtrr.h"
#include "paging.h"
#include "physplan.h"
#include "region.h"

/* ---- alloc.c: every page the stage allocates, and what it is for */

/* Allocates pages as EfiLoaderData anywhere and records them as kind. OS-defined memory
 * types would say the same thing but hang ExitBootServices on some firmware. */
EFI_STATUS stage_alloc(UINT64 pages, mem_kind kind, const CHAR16 *what, uint64_t *pa);

/* The same wholly below max (AllocateMaxAddress), with the firmware memory type given;
 * silent on failure. */
EFI_STATUS stage_alloc_below(uint64_t max, EFI_MEMORY_TYPE type, UINT64 pages, mem_kind kind,
			     const CHAR16 *what, uint64_t *pa);
/* The same below 4 GiB (AllocateMaxAddress) with the firmware memory type given: the
 * handoff trampoline's pages (EfiLoaderCode for its code, so firmware that keeps loader
 * data non-executable still runs it). */
EFI_STATUS stage_alloc_low(UINT64 pages, EFI_MEMORY_TYPE type, mem_kind kind, const CHAR16 *what,
			   uint64_t *pa);

/* The same at a fixed physical address (AllocateAddress). */
EFI_STATUS stage_alloc_at(uint64_t pa, UINT64 pages, mem_kind kind, const CHAR16 *what);

/* A pg_frames drawing page-table frames from batches of stage_alloc(MEM_PAGE_TABLES). */
pg_frames *stage_table_frames(void);
uint64_t stage_table_frames_reserved(void);

/* Makes sure spare frames are left in the current batch (allocating a new one if not),
 * then seals the source: from then on it hands out only what is left and never calls
 * the firmware, so tables can still grow after ExitBootServices. */
EFI_STATUS stage_table_frames_seal(unsigned spare);

/* Marks every recorded allocation with its kind in l (runs after the exit of boot
 * services, so it calls no firmware). */
pg_err stage_apply_allocs(mem_list *l);

/* Prints the record, one allocation a line. */
void stage_print_allocs(void);

/* Gives every recorded allocation back to the firmware and empties the record: the
 * inspection commands build the kernel's tables and then leave nothing behind. */
void stage_free_allocs(void);

/* ---- cpu.c */

typedef struct {
	bool nx, gb_pages, la57;
	unsigned phys_bits;
	uint64_t tsc_hz;
} stage_cpu;

/* Reads CPUID, turns on EFER.NXE where the CPU has NX, and measures the TSC against
 * the firmware's Stall. Refuses a CPU without long-mode essentials. */
EFI_STATUS stage_cpu_probe(stage_cpu *cpu);


/* ---- firmware.c */

/* Reads the memory map into a fresh pool buffer and converts it into l. */
EFI_STATUS stage_read_memmap(mem_list *l);

/* Fills the framebuffer (from GOP) and ACPI RSDP fields of bi; absence is not an error. */
void stage_firmware_facts(boot_info *bi);

/* ---- space.c: the kernel's address space */

/* Where the physmap goes and its page size: BOOT_PHYSMAP_OFFSET and 1 GiB (2 MiB
 * without CPU support) unless the command line asks otherwise (shell.c). */
typedef struct {
	uint64_t offset;
	pg_size page;
} stage_physmap;

typedef struct {
	stage_physmap physmap;  /* set by the caller before stage_build_space */
	unsigned levels;        /* 4 or 5 (boot --levels); set by the caller, 0 means 4 */
	pg_space space;
	elf_image img;
	uint64_t stack_phys;
	uint64_t handoff_page;  /* trampoline code, identity mapped (handoff.h) */
	uint64_t handoff_data;  /* its GDT, IDT, stack and parameters, identity mapped */
	uint64_t handoff_root;  /* the top table copied below 4 GiB just before the jump */
} stage_space;

/* Builds a fresh PML4 with the physmap, kernel segments, stack and handoff page, and
 * records the results in bi. Prints what fails and why. */
EFI_STATUS stage_build_space(stage_space *st, const stage_cpu *cpu, const mem_list *map,
			     const void *kernel, uint64_t kernel_size, boot_info *bi);

/* After the exit of boot services (it calls no firmware): maps into the physmap every
 * RAM-like part of the final region list it does not cover yet, with table frames set
 * aside beforehand (stage_table_frames_seal), and counts them in bi. On an error *gap is
 * the range that could not be mapped. */
pg_err stage_physmap_cover(stage_space *st, const mem_list *final, boot_info *bi,
			   mem_region *gap);

/* ---- main.c */

/* Reads the machine and builds the kernel's tables and boot info into st and bi, the
 * way boot does before it exits boot services (the inspection commands call it too). */
EFI_STATUS stage_build(stage_space *st, boot_info *bi);

/* ---- exit.c */

/* Allocates the final memory-map buffer with slack; must run before stage_exit. */
EFI_STATUS stage_prepare_exit(EFI_HANDLE image);

/* Exits boot services with the standard retry, builds bi's region list from the final
 * map and the allocation record, and jumps into the kernel. Returns only when the
 * exit could not even start (firmware still usable). stale_key (a test) changes the
 * memory map between the first GetMemoryMap and ExitBootServices, so the first call
 * must fail and the retry path must carry the boot. */
EFI_STATUS stage_exit_and_enter(EFI_HANDLE image, stage_space *st, boot_info *bi,
				uint64_t bi_phys, bool stale_key);

/* Test (boot late-fail): stage_exit_and_enter fails on purpose right after a successful
 * ExitBootServices, so the late-failure report (screen and COM1) can be checked. */
extern bool stage_test_late_fail;

/* Test (boot nmi-window): the trampoline spins where an NMI would find the firmware's
 * tables gone (with paging off when the mode changes), until an NMI halts it. */
extern bool stage_test_nmi_window;

/* ---- latefb.c */

/* After ExitBootServices: a full-width red band at the top of the framebuffer fb with the
 * n lines in white, wrapped at the screen's width, so a failure with no console and no
 * COM1 is still seen. Does nothing without a linear framebuffer. Calls no firmware. */
void stage_late_screen(const boot_framebuffer *fb, const char *const lines[], unsigned n);

/* ---- handoff.S + handoff.c: the trampoline (handoff.h) */

/* ---- entry.S: the image's entry, SSE on before anything compiled runs */
extern uint64_t stage_entry_cr0, stage_entry_cr4;   /* as the firmware left them */

/* ---- kernel_blob.S: the kernel ELF, embedded at build time */
extern const uint8_t stage_kernel_elf[];
extern const uint8_t stage_kernel_elf_end[];

#endif
