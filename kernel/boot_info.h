/* boot_info.h - the one contract between the EFI stage and the kernel: a versioned block
 * in its own frames, filled before the exit of boot services and read by the kernel
 * through the physmap. Fixed-width types only; no pointers (addresses are numbers). */
#ifndef KERNEL_BOOT_INFO_H
#define KERNEL_BOOT_INFO_H

#include <stdint.h>

#define BOOT_INFO_MAGIC   0x4f464e49544f4f42ull /* "BOOTINFO" little endian */
#define BOOT_INFO_VERSION 4u /* 2: check_after_tables, exit_stale_forced; 3: physmap_pages;
			      * 4: paging_levels, handoff_data, table_count_l5, ap_trampoline */

/* Where things live after the handoff (DESIGN.md, "Address space after handoff"). */
#define BOOT_PHYSMAP_OFFSET 0x00000A0000000000ull /* the default; boot_info.phys_offset rules */
#define BOOT_PHYSMAP_ALIGN  0x0000008000000000ull /* 512 GiB: one PML4 entry */
#define BOOT_KERNEL_BASE    0xFFFFFFFF80000000ull
#define BOOT_STACK_SIZE     0x10000ull            /* 64 KiB */
#define BOOT_STACK_TOP      0xFFFFFFFF7FFF0000ull /* a 64 KiB gap below the image */

#define BOOT_INFO_MAX_REGIONS 512
#define BOOT_INFO_CMDLINE     256
#define BOOT_INFO_CHECKS      4

/* Same layout as paging/region.h mem_region (kind is a mem_kind value). */
typedef struct {
	uint64_t start;
	uint64_t length;
	uint32_t kind;
	uint32_t reserved;
} boot_region;

/* GOP pixel formats, as the firmware reports them. */
enum { BOOT_FB_RGB = 0, BOOT_FB_BGR = 1, BOOT_FB_BITMASK = 2, BOOT_FB_NONE = 3 };

typedef struct {
	uint64_t base;          /* physical; 0 when there is no framebuffer */
	uint64_t size;
	uint32_t width, height;
	uint32_t stride;        /* pixels per scan line */
	uint32_t format;        /* BOOT_FB_* */
	uint32_t red_mask, green_mask, blue_mask, reserved_mask; /* BOOT_FB_BITMASK only */
} boot_framebuffer;

/* A physical range and, where it is mapped in the higher half, its virtual start. */
typedef struct {
	uint64_t phys;
	uint64_t virt;
	uint64_t length;
} boot_range;

#define BOOT_CPU_NX   (1u << 0) /* CPUID 8000_0001h:EDX[20], EFER.NXE set */
#define BOOT_CPU_1G   (1u << 1) /* CPUID 8000_0001h:EDX[26] */

typedef struct {
	uint64_t magic;             /* BOOT_INFO_MAGIC */
	uint32_t version;           /* BOOT_INFO_VERSION */
	uint32_t size;              /* sizeof(boot_info) as the EFI stage saw it */

	/* paging */
	uint64_t phys_offset;       /* BOOT_PHYSMAP_OFFSET */
	uint64_t physmap_end;       /* first virtual address past the physmap */
	uint32_t physmap_page_shift;/* the largest page the physmap may use: 30, 21 or 12 */
	uint32_t physmap_ranges;    /* mapped ranges (holes between them stay unmapped) */
	uint64_t pml4;              /* physical: the top table (a PML5 when paging_levels is 5) */
	uint64_t table_counts[4];   /* table frames per level at handoff: [0] = L1 .. [3] = L4 */
	uint64_t table_frames_reserved; /* frames set aside for tables, used or not */
	uint64_t handoff_page;      /* identity-mapped page of handoff code; kernel unmaps it */

	/* cpu */
	uint32_t cpu_features;      /* BOOT_CPU_* */
	uint32_t phys_bits;         /* MAXPHYADDR */

	/* kernel image and stack */
	boot_range kernel;          /* lowest to highest segment, page rounded */
	boot_range stack;           /* virt..virt+length is the stack; guard page below virt */
	uint64_t kernel_entry;

	/* firmware facts */
	boot_framebuffer fb;
	uint64_t acpi_rsdp;         /* physical, 0 when not found */
	uint32_t acpi_revision;     /* 2 for an XSDP (ACPI 2.0+), 1 for ACPI 1.0 */
	uint32_t pad0;

	/* time: TSC stamps */
	uint64_t tsc_hz;            /* measured against the firmware's Stall; 0 if unknown */
	uint64_t tsc_efi_entry;
	uint64_t tsc_exit_start;    /* just before the first GetMemoryMap of the exit */
	uint64_t tsc_exit_done;     /* after ExitBootServices succeeded */
	uint32_t exit_attempts;     /* ExitBootServices calls until success */
	uint32_t exit_stale_forced; /* 1: boot stale-key changed the map before the first call */

	/* physmap check: frames the EFI stage filled with boot_check_word() */
	uint32_t check_count;
	uint32_t physmap_late_ranges; /* ranges mapped after the final map (gaps it showed) */
	uint64_t check_frames[BOOT_INFO_CHECKS];
	uint64_t check_after_tables;  /* a check frame allocated after the tables were built */

	char cmdline[BOOT_INFO_CMDLINE]; /* NUL terminated ASCII */

	uint32_t region_count;
	uint32_t pad3;
	boot_region regions[BOOT_INFO_MAX_REGIONS];

	/* physmap pages by size ([0] 4 KiB, [1] 2 MiB, [2] 1 GiB): the largest page whose MTRR
	 * type is uniform and which lies wholly in RAM-like memory, so sizes are mixed */
	uint64_t physmap_pages[3];

	/* 5-level paging (version 4) */
	uint32_t paging_levels;     /* 4 or 5: what the kernel runs on (CR4.LA57) */
	uint32_t pad4;
	uint64_t table_count_l5;    /* PML5 frames at handoff (0 with 4 levels) */
	uint64_t handoff_data;      /* identity-mapped data page of the trampoline; kernel unmaps it */

	/* SMP: BOOT_AP_TRAMPOLINE_PAGES pages below 1 MiB, reserved before the exit of boot
	 * services for the other CPUs' real-mode start (MEM_AP_TRAMPOLINE in the region
	 * list: never usable nor reclaimable); 0 when the firmware had none to give. */
	uint64_t ap_trampoline;
} boot_info;

#define BOOT_AP_TRAMPOLINE_PAGES 2 /* code and data, and a copy of the top table below 4 GiB */

/* The pattern word i of a physmap check frame at physical address frame must hold. */
static inline uint64_t boot_check_word(uint64_t frame, uint64_t i)
{
	return 0x5048595341504d00ull ^ frame ^ (i * 0x9e3779b97f4a7c15ull);
}

#endif
