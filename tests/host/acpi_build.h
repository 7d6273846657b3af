/* acpi_build.h - synthetic ACPI tables for the tests of common/acpi.c: an RSDP, an XSDT
 * or RSDT and a MADT laid out in one buffer standing for physical memory at a non-zero
 * base, with correct checksums unless a test breaks them on purpose. */
#ifndef TESTS_HOST_ACPI_BUILD_H
#define TESTS_HOST_ACPI_BUILD_H

#include <stdint.h>
#include <string.h>

#include "acpi.h"

#define AB_BASE 0x000e0000ull /* fake physical address of buf[0] */
#define AB_SIZE 8192u
#define AB_RSDP 0x0000u
#define AB_ROOT 0x0100u
#define AB_FACP 0x0400u       /* a table before the MADT that is not ours */
#define AB_MADT 0x0800u

typedef struct {
	uint8_t buf[AB_SIZE];
	uint32_t limit;       /* readable bytes of buf: a truncated memory */
	uint32_t madt_len;
	uint32_t root_len;
	unsigned rev;
} acpi_build;

static inline void ab_put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline void ab_put64(uint8_t *p, uint64_t v)
{
	ab_put32(p, (uint32_t)v);
	ab_put32(p + 4, (uint32_t)(v >> 32));
}

/* Sets the byte at off so that n bytes from start sum to zero. */
static inline void ab_fix(uint8_t *start, uint32_t n, uint32_t off)
{
	uint8_t s = 0;
	start[off] = 0;
	for (uint32_t i = 0; i < n; i++)
		s = (uint8_t)(s + start[i]);
	start[off] = (uint8_t)-s;
}

static inline void ab_header(uint8_t *t, const char *sig, uint32_t len)
{
	memcpy(t, sig, 4);
	ab_put32(t + 4, len);
	t[8] = 1;
	memcpy(t + 10, "TESTID", 6);
}

/* RSDP revision rev (0: ACPI 1.0 and an RSDT; 2: XSDP and an XSDT), a FACP and an empty
 * MADT (LAPIC at 0xfee00000): entries come from ab_lapic / ab_x2apic, then ab_seal. */
static inline void ab_init(acpi_build *b, unsigned rev)
{
	memset(b, 0, sizeof *b);
	b->limit = AB_SIZE;
	b->rev = rev;
	b->root_len = rev >= 2 ? 36 + 16 : 36 + 8;
	uint8_t *r = b->buf + AB_RSDP;
	memcpy(r, "RSD PTR ", 8);
	memcpy(r + 9, "TESTID", 6);
	r[15] = (uint8_t)rev;
	uint8_t *root = b->buf + AB_ROOT;
	if (rev >= 2) {
		ab_put32(r + 20, 36);
		ab_put64(r + 24, AB_BASE + AB_ROOT);
		ab_header(root, "XSDT", 36 + 16);
		ab_put64(root + 36, AB_BASE + AB_FACP);
		ab_put64(root + 44, AB_BASE + AB_MADT);
	} else {
		ab_put32(r + 16, (uint32_t)(AB_BASE + AB_ROOT));
		ab_header(root, "RSDT", 36 + 8);
		ab_put32(root + 36, (uint32_t)(AB_BASE + AB_FACP));
		ab_put32(root + 40, (uint32_t)(AB_BASE + AB_MADT));
	}
	ab_header(b->buf + AB_FACP, "FACP", 36);
	ab_fix(b->buf + AB_FACP, 36, 9);
	b->madt_len = 44;
	ab_put32(b->buf + AB_MADT + 36, 0xfee00000u);
	ab_put32(b->buf + AB_MADT + 40, 1);
}

static inline uint8_t *ab_entry(acpi_build *b, uint8_t type, uint8_t len)
{
	uint8_t *e = b->buf + AB_MADT + b->madt_len;
	e[0] = type;
	e[1] = len;
	b->madt_len += len;
	return e;
}

static inline void ab_lapic(acpi_build *b, uint8_t id, uint32_t flags)
{
	uint8_t *e = ab_entry(b, 0, 8);
	e[2] = id; /* processor UID */
	e[3] = id;
	ab_put32(e + 4, flags);
}

static inline void ab_x2apic(acpi_build *b, uint32_t id, uint32_t flags)
{
	uint8_t *e = ab_entry(b, 9, 16);
	ab_put32(e + 4, id);
	ab_put32(e + 8, flags);
	ab_put32(e + 12, id);
}

/* Writes the lengths and every checksum. */
static inline void ab_seal(acpi_build *b)
{
	uint8_t *r = b->buf + AB_RSDP, *root = b->buf + AB_ROOT, *madt = b->buf + AB_MADT;
	ab_header(madt, "APIC", b->madt_len);
	ab_fix(madt, b->madt_len, 9);
	ab_fix(root, b->root_len, 9);
	ab_fix(r, 20, 8);
	if (b->rev >= 2)
		ab_fix(r, 36, 32);
}

static inline const void *ab_map(void *ctx, uint64_t phys, uint64_t len)
{
	acpi_build *b = ctx;
	if (phys < AB_BASE || phys - AB_BASE > b->limit || len > b->limit - (phys - AB_BASE))
		return NULL;
	return b->buf + (phys - AB_BASE);
}

static inline acpi_err ab_parse(acpi_build *b, acpi_cpus *out)
{
	acpi_mem m = { ab_map, b };
	return acpi_find_cpus(&m, AB_BASE + AB_RSDP, out);
}

#endif
