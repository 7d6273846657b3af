/* memmap.h - conversion of the firmware memory map into the kernel's region list.
 * Pure code with no gnu-efi dependency, so the host tests and fuzzers can call it;
 * efi/ hands it the raw buffer from GetMemoryMap. EFI types end here. */
#ifndef EFI_PURE_MEMMAP_H
#define EFI_PURE_MEMMAP_H

#include "region.h"

/* The layout of EFI_MEMORY_DESCRIPTOR (UEFI spec 7.2), version 1. Firmware may use a
 * larger descriptor size: always step by the size GetMemoryMap reports. */
typedef struct {
	uint32_t type;
	uint32_t pad;
	uint64_t phys_start;
	uint64_t virt_start;
	uint64_t pages;
	uint64_t attribute;
} efi_desc;

#define EFI_TYPE_COUNT 16 /* EfiReservedMemoryType .. EfiUnacceptedMemoryType */

/* The spec's name for an EFI memory type ("EfiConventionalMemory" ...), "OEM", "OS" or
 * "Unknown" for values outside the defined set. */
const char *memmap_type_name(uint32_t type);

/* The kernel kind an EFI type becomes. Boot-services code/data and loader code become
 * MEM_BOOT_RECLAIMABLE... see memmap.c for the table; unknown and OEM types are
 * MEM_RESERVED. */
mem_kind memmap_kind_of(uint32_t type);

typedef struct {
	uint64_t descriptors;   /* entries read */
	uint64_t empty;         /* zero-page entries skipped */
	uint64_t overlaps;      /* entries that overlapped an earlier one */
} memmap_stats;

/* Converts map (map_size bytes, entries desc_size apart, any alignment) into out
 * (emptied first). Zero-page entries are skipped; overlaps resolve to the more
 * restrictive kind. Errors: PG_ERR_BAD_ARG when out is NULL, desc_size < sizeof(efi_desc),
 * desc_size is not a multiple of 8, map_size is not a multiple of desc_size, or an entry
 * is not page aligned or reaches 2^64; PG_ERR_NO_FRAMES when out's storage is too small.
 * On error out is left empty. stats may be NULL; it counts what was read. */
pg_err memmap_convert(const void *map, uint64_t map_size, uint64_t desc_size,
		      mem_list *out, memmap_stats *stats);

#endif
