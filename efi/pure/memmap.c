/* memmap.c - turns the raw buffer from GetMemoryMap into the kernel's region list.
 * Firmware maps may be unsorted, overlapping and use descriptors larger than version 1,
 * so every entry is read by stride and merged conservatively with mem_list_add. */
#include "memmap.h"

#define EFI_PAGE_SHIFT 12
#define EFI_OEM_FIRST 0x70000000u
#define EFI_OS_FIRST 0x80000000u

/* Indexed by EFI memory type (UEFI spec, EFI_MEMORY_TYPE). */
static const struct {
	const char *name;
	mem_kind kind;
} types[EFI_TYPE_COUNT] = {
	{ "EfiReservedMemoryType", MEM_RESERVED },
	{ "EfiLoaderCode", MEM_BOOT_RECLAIMABLE },
	{ "EfiLoaderData", MEM_BOOT_RECLAIMABLE },
	{ "EfiBootServicesCode", MEM_BOOT_RECLAIMABLE },
	{ "EfiBootServicesData", MEM_BOOT_RECLAIMABLE },
	{ "EfiRuntimeServicesCode", MEM_FIRMWARE_RUNTIME },
	{ "EfiRuntimeServicesData", MEM_FIRMWARE_RUNTIME },
	{ "EfiConventionalMemory", MEM_USABLE },
	{ "EfiUnusableMemory", MEM_BAD },
	{ "EfiACPIReclaimMemory", MEM_ACPI_RECLAIMABLE },
	{ "EfiACPIMemoryNVS", MEM_ACPI_NVS },
	{ "EfiMemoryMappedIO", MEM_MMIO },
	{ "EfiMemoryMappedIOPortSpace", MEM_MMIO },
	{ "EfiPalCode", MEM_RESERVED },
	/* Persistent memory holds data that must survive: never hand it out as RAM. */
	{ "EfiPersistentMemory", MEM_RESERVED },
	/* Unaccepted memory faults until accepted, which this kernel does not do. */
	{ "EfiUnacceptedMemoryType", MEM_RESERVED },
};

const char *memmap_type_name(uint32_t type)
{
	if (type < EFI_TYPE_COUNT)
		return types[type].name;
	if (type >= EFI_OS_FIRST)
		return "OS";
	if (type >= EFI_OEM_FIRST)
		return "OEM";
	return "Unknown";
}

mem_kind memmap_kind_of(uint32_t type)
{
	return type < EFI_TYPE_COUNT ? types[type].kind : MEM_RESERVED;
}

/* Little-endian loads by bytes: the buffer may come from a fuzzer at any alignment. */
static uint32_t load32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t load64(const uint8_t *p)
{
	return (uint64_t)load32(p) | (uint64_t)load32(p + 4) << 32;
}

/* Reads the fields this module needs from the descriptor at p. */
static efi_desc read_desc(const uint8_t *p)
{
	efi_desc d;
	d.type = load32(p + offsetof(efi_desc, type));
	d.pad = 0;
	d.phys_start = load64(p + offsetof(efi_desc, phys_start));
	d.virt_start = load64(p + offsetof(efi_desc, virt_start));
	d.pages = load64(p + offsetof(efi_desc, pages));
	d.attribute = load64(p + offsetof(efi_desc, attribute));
	return d;
}

/* PG_OK when the (non-empty) entry is page aligned and ends below 2^64: an entry that
 * reaches 2^64 exactly cannot be a region either, since region ends must not wrap. */
static pg_err check_desc(const efi_desc *d)
{
	if (d->phys_start & ((1ull << EFI_PAGE_SHIFT) - 1))
		return PG_ERR_BAD_ARG;
	uint64_t room = (UINT64_MAX - d->phys_start) >> EFI_PAGE_SHIFT;
	if (d->pages > room)
		return PG_ERR_BAD_ARG;
	return PG_OK;
}

/* Checks the geometry of the buffer before any entry is read. */
static pg_err check_geometry(const void *map, uint64_t map_size, uint64_t desc_size,
			     const mem_list *out)
{
	if (!out || (!map && map_size))
		return PG_ERR_BAD_ARG;
	if (desc_size < sizeof(efi_desc) || desc_size % 8 || map_size % desc_size)
		return PG_ERR_BAD_ARG;
	return PG_OK;
}

pg_err memmap_convert(const void *map, uint64_t map_size, uint64_t desc_size,
		      mem_list *out, memmap_stats *stats)
{
	memmap_stats st = { 0, 0, 0 };
	pg_err e = check_geometry(map, map_size, desc_size, out);
	if (out)
		out->count = 0; /* "on error out is left empty" holds for bad geometry too */
	if (e != PG_OK)
		return e;
	const uint8_t *p = map;
	for (uint64_t off = 0; off < map_size && e == PG_OK; off += desc_size) {
		efi_desc d = read_desc(p + off);
		st.descriptors++;
		if (d.pages == 0) {
			st.empty++;
			continue;
		}
		e = check_desc(&d);
		if (e != PG_OK)
			break;
		uint64_t length = d.pages << EFI_PAGE_SHIFT;
		if (mem_list_intersects(out, d.phys_start, length))
			st.overlaps++;
		e = mem_list_add(out, d.phys_start, length, memmap_kind_of(d.type));
	}
	if (e != PG_OK)
		out->count = 0;
	if (stats)
		*stats = st;
	return e;
}
