/* acpi.h - the freestanding ACPI reader the kernel uses to find its CPUs: RSDP (ACPI 1.0
 * and 2.0+ checksums) -> XSDT or RSDT -> MADT -> the enabled local APIC IDs, xAPIC and
 * x2APIC entries alike. Every table is checked before it is believed; a bad one is an
 * error with a name, never a crash. Memory is reached through a caller's accessor, so the
 * same code runs on the kernel's physmap, on host test buffers and under the fuzzer. */
#ifndef COMMON_ACPI_H
#define COMMON_ACPI_H

#include <stdbool.h>
#include <stdint.h>

#define ACPI_MAX_CPUS 64
#define ACPI_MAX_TABLE (1u << 20) /* larger SDTs are refused as corrupt */

typedef enum {
	ACPI_OK = 0,
	ACPI_ERR_NO_RSDP,        /* address 0, or its bytes are not readable */
	ACPI_ERR_RSDP_SIGNATURE, /* not "RSD PTR " */
	ACPI_ERR_RSDP_CHECKSUM,  /* first 20 bytes do not sum to 0 */
	ACPI_ERR_XSDP_LENGTH,    /* revision 2+ with a length under 36 or over 4 KiB */
	ACPI_ERR_XSDP_CHECKSUM,  /* the extended checksum over length bytes */
	ACPI_ERR_ROOT_MISSING,   /* no XSDT nor RSDT address, or it is unreadable */
	ACPI_ERR_ROOT_SIGNATURE, /* not "XSDT" / "RSDT" */
	ACPI_ERR_ROOT_LENGTH,    /* shorter than its header, over the limit, or truncated */
	ACPI_ERR_ROOT_CHECKSUM,
	ACPI_ERR_NO_MADT,        /* no entry of the root table leads to an "APIC" table */
	ACPI_ERR_MADT_LENGTH,    /* shorter than 44 bytes, over the limit, or truncated */
	ACPI_ERR_MADT_CHECKSUM,
	ACPI_ERR_MADT_ENTRY,     /* an entry shorter than 2 bytes, than its type needs, or
				    running past the table's end */
	ACPI_ERR_NO_CPUS,        /* a valid MADT without one enabled local APIC */
	ACPI_ERR__COUNT
} acpi_err;

const char *acpi_strerror(acpi_err e); /* "madt-checksum", ... (one word, for logs) */

/* The one door to physical memory: a pointer to [phys, phys+len) or NULL when that range
 * cannot be read (outside RAM, overflow). */
typedef struct {
	const void *(*map)(void *ctx, uint64_t phys, uint64_t len);
	void *ctx;
} acpi_mem;

typedef struct {
	unsigned count;                   /* enabled CPUs, each APIC ID once */
	uint32_t apic_id[ACPI_MAX_CPUS];  /* in MADT order */
	unsigned xapic_entries;           /* type 0 entries seen (enabled or not) */
	unsigned x2apic_entries;          /* type 9 entries seen */
	unsigned disabled;                /* entries neither enabled (nor counted) */
	unsigned duplicates;              /* an ID listed twice (xAPIC and x2APIC) */
	unsigned dropped;                 /* enabled CPUs beyond ACPI_MAX_CPUS */
	uint64_t lapic_base;              /* MADT's address, or the type 5 override */
	uint32_t rsdp_revision;           /* 0 for ACPI 1.0, 2+ otherwise */
	bool xsdt;                        /* reached through the XSDT (else the RSDT) */
	uint64_t madt;                    /* physical address of the MADT */
} acpi_cpus;

/* Walks RSDP -> XSDT (RSDT when revision < 2 or no XSDT) -> MADT and fills out. On an
 * error out is zeroed except what was learnt before it, and the caller runs on one CPU. */
acpi_err acpi_find_cpus(const acpi_mem *m, uint64_t rsdp, acpi_cpus *out);

#endif
