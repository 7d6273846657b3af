/* report.h - what the inspection commands print, formatted without firmware or libc
 * into a line sink (fmt.h), so the host tests read exactly what the shell shows.
 *
 * Formats (one fact a line, addresses 0x + 16 hex digits, end addresses exclusive):
 *   memmap: <EFI type name, padded> start=0x.. end=0x.. pages=<dec> attr=0x..
 *   memmap: total <EFI type name, padded> pages=<dec>     (types present, in type order;
 *                                                         OEM, OS, Unknown pooled)
 *   memmap: descriptors=<dec> pages=<dec> size=<bytes>
 *   kinds: start=0x.. end=0x.. size=<bytes> kind=<mem_kind name>
 *   kinds: total <kind, padded> pages=<dec>
 *   kinds: regions=<dec>
 *   map: virt=0x..-0x.. phys=0x.. size=<bytes> page=4K|2M|1G <flags>
 *   map: ranges=<dec> mapped=<bytes>
 *   map: tables pml4=0x.. l4=<dec> l3=<dec> l2=<dec> l1=<dec> total=<dec>
 *   translate: 0x.. walk from pml4=0x..
 *   translate:   L<n> index=<dec> entry=0x.. <raw bits> table=0x..|page=0x..|not present
 *   translate: 0x.. -> 0x.. page=4K|2M|1G <flags>
 *   translate: 0x.. -> not mapped (level <n>)
 *   translate: 0x.. -> invalid: <reason>
 * <bytes> is fmt_size ("4GiB", "64KiB", "4097B"). <flags> are the effective rights:
 * W or RO, X or NX, U if user, G if global, then the cache type WB|WT|UC|WC. <raw bits>
 * name the set hardware bits: P W U PWT PCD A D PS|PAT G NX. */
#ifndef EFI_PURE_REPORT_H
#define EFI_PURE_REPORT_H

#include "fmt.h"
#include "paging.h"
#include "region.h"

#define REPORT_LINE_MAX 160 /* longest line a report builds, NUL included */

/* The firmware map as GetMemoryMap returned it (map_size bytes, entries desc_size apart,
 * any alignment). A buffer whose geometry is wrong gets one line saying so. */
void report_memmap(fmt_sink sink, void *ctx, const void *map, uint64_t map_size,
		   uint64_t desc_size);

/* The kernel's region list (memmap --kinds). */
void report_kinds(fmt_sink sink, void *ctx, const mem_list *l);

/* Every mapped range of s (pg_walk over the whole address space), then the totals and
 * the table frames per level. Returns pg_walk's error (nothing is printed after it). */
pg_err report_map(fmt_sink sink, void *ctx, const pg_space *s);

/* The walk of va through s, level by level, and its outcome. Returns pg_translate's
 * result (PG_ERR_NOT_CANONICAL for an invalid address). */
pg_err report_translate(fmt_sink sink, void *ctx, const pg_space *s, uint64_t va);

/* The effective-flags words of the formats above ("W NX G WB"), for callers that
 * print a mapping themselves. */
void report_flags(fmt_line *l, unsigned pg_flags);

#endif
