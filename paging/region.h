/* region.h - the kernel's list of physical memory regions: (start, length, kind),
 * kept sorted, non-overlapping and merged. Storage is the caller's array; running out
 * of it is an error, never a silent truncation. */
#ifndef PAGING_REGION_H
#define PAGING_REGION_H

#include "paging.h"

/* Memory kinds, in rising order of restriction: where two claims on the same byte
 * disagree, the kind with the larger value wins. */
typedef enum {
	MEM_USABLE = 0,
	MEM_BOOT_RECLAIMABLE,  /* loader code and data the kernel may free later */
	MEM_ACPI_RECLAIMABLE,
	MEM_KERNEL,            /* kernel image frames */
	MEM_KERNEL_STACK,
	MEM_AP_TRAMPOLINE,     /* the page below 1 MiB the other CPUs start in (SMP) */
	MEM_PAGE_TABLES,
	MEM_BOOT_INFO,
	MEM_ACPI_NVS,
	MEM_FIRMWARE_RUNTIME,  /* never touched */
	MEM_MMIO,
	MEM_RESERVED,
	MEM_BAD,
	MEM_KIND_COUNT
} mem_kind;

const char *mem_kind_name(mem_kind k); /* "usable", "boot-reclaimable", ... */

/* Memory, as opposed to MMIO, reserved or bad ranges: what the physmap must cover. */
static inline bool mem_kind_ram_like(uint32_t kind) { return kind < MEM_MMIO; }

typedef struct {
	uint64_t start;
	uint64_t length;
	uint32_t kind;      /* mem_kind */
	uint32_t reserved;  /* zero */
} mem_region;

typedef struct {
	mem_region *r;
	size_t count;
	size_t capacity;
} mem_list;

static inline void mem_list_init(mem_list *l, mem_region *storage, size_t capacity)
{
	l->r = storage;
	l->count = 0;
	l->capacity = capacity;
}

/* Sets [start, start+length) to kind, whatever it was (splitting, trimming and merging
 * neighbours as needed). PG_ERR_BAD_ARG on zero length, overflow or bad kind;
 * PG_ERR_NO_FRAMES when the storage would overflow (the list is then unchanged). */
pg_err mem_list_set(mem_list *l, uint64_t start, uint64_t length, mem_kind kind);

/* Adds [start, start+length) as kind where the present kind is less restrictive
 * (or absent): the conservative union used when converting a firmware map. */
pg_err mem_list_add(mem_list *l, uint64_t start, uint64_t length, mem_kind kind);

/* Sorts by start and merges adjacent regions of the same kind. mem_list_set/add keep
 * the list normalized; this is for lists filled by hand. Overlaps are resolved as in
 * mem_list_add. Succeeds whenever the normalized result fits the capacity; otherwise
 * PG_ERR_NO_FRAMES (or BAD_ARG for a wrapping entry or unknown kind) and the list is
 * exactly as it was. Quadratic in the number of regions. */
pg_err mem_list_normalize(mem_list *l);

/* Bytes of the given kind. */
uint64_t mem_list_total(const mem_list *l, mem_kind kind);

/* The kind of the byte at addr, or -1 when no region covers it. */
int mem_list_kind_at(const mem_list *l, uint64_t addr);

/* True when some region covers a byte of [start, start+length). */
bool mem_list_intersects(const mem_list *l, uint64_t start, uint64_t length);

#endif
