/* acpi.c - RSDP, root table and MADT, each checked (signature, length, checksum, entry
 * bounds) before a field of it is used. Multi-byte fields are read byte by byte: ACPI
 * tables are packed and their entries unaligned. */
#include "acpi.h"

#include <stddef.h>

#define SDT_HEADER 36u
#define MADT_ENTRIES 44u /* header, local APIC address, flags */

static const char *const names[ACPI_ERR__COUNT] = {
	"ok", "no-rsdp", "rsdp-signature", "rsdp-checksum", "xsdp-length", "xsdp-checksum",
	"root-missing", "root-signature", "root-length", "root-checksum", "no-madt",
	"madt-length", "madt-checksum", "madt-entry", "no-cpus",
};

const char *acpi_strerror(acpi_err e)
{
	return (unsigned)e < ACPI_ERR__COUNT ? names[e] : "unknown";
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p) { return le32(p) | (uint64_t)le32(p + 4) << 32; }

static bool sum_zero(const uint8_t *p, uint32_t n)
{
	uint8_t s = 0;
	for (uint32_t i = 0; i < n; i++)
		s = (uint8_t)(s + p[i]);
	return s == 0;
}

static bool sig_is(const uint8_t *p, const char *sig, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (p[i] != (uint8_t)sig[i])
			return false;
	return true;
}

static const uint8_t *map(const acpi_mem *m, uint64_t phys, uint64_t len)
{
	if (phys == 0 || phys + len < phys)
		return NULL;
	return m->map(m->ctx, phys, len);
}

/* Maps a whole SDT at phys after reading its header into *t: missing when the header is
 * unreadable, len_err when the length is under min bytes, over the limit or the table is
 * truncated. The checksum and signature are the caller's, which knows what to name. */
static acpi_err map_sdt(const acpi_mem *m, uint64_t phys, uint32_t min, acpi_err missing,
			acpi_err len_err, const uint8_t **t, uint32_t *len)
{
	const uint8_t *h = map(m, phys, SDT_HEADER);
	if (!h)
		return missing;
	*len = le32(h + 4);
	if (*len < min || *len > ACPI_MAX_TABLE || !(*t = map(m, phys, *len)))
		return len_err;
	return ACPI_OK;
}

static acpi_err check_rsdp(const acpi_mem *m, uint64_t rsdp, acpi_cpus *out, uint64_t *root)
{
	const uint8_t *r = map(m, rsdp, 20);
	if (!r)
		return ACPI_ERR_NO_RSDP;
	if (!sig_is(r, "RSD PTR ", 8))
		return ACPI_ERR_RSDP_SIGNATURE;
	if (!sum_zero(r, 20))
		return ACPI_ERR_RSDP_CHECKSUM;
	out->rsdp_revision = r[15];
	*root = le32(r + 16);
	out->xsdt = false;
	if (r[15] >= 2) {
		const uint8_t *x = map(m, rsdp, 36);
		if (!x)
			return ACPI_ERR_XSDP_LENGTH;
		uint32_t len = le32(x + 20);
		if (len < 36 || len > 4096)
			return ACPI_ERR_XSDP_LENGTH;
		if (!(x = map(m, rsdp, len)))
			return ACPI_ERR_XSDP_LENGTH;
		if (!sum_zero(x, len))
			return ACPI_ERR_XSDP_CHECKSUM;
		uint64_t xsdt = le64(x + 24);
		if (xsdt) {
			*root = xsdt;
			out->xsdt = true;
		}
	}
	return *root ? ACPI_OK : ACPI_ERR_ROOT_MISSING;
}

/* Adds one enabled APIC ID, once. */
static void add_cpu(acpi_cpus *out, uint32_t id)
{
	for (unsigned i = 0; i < out->count; i++)
		if (out->apic_id[i] == id) {
			out->duplicates++;
			return;
		}
	if (out->count == ACPI_MAX_CPUS)
		out->dropped++;
	else
		out->apic_id[out->count++] = id;
}

static acpi_err parse_madt(const uint8_t *t, uint32_t len, acpi_cpus *out)
{
	out->lapic_base = le32(t + 36);
	for (uint32_t off = MADT_ENTRIES; off < len;) {
		if (len - off < 2 || t[off + 1] < 2 || t[off + 1] > len - off)
			return ACPI_ERR_MADT_ENTRY;
		const uint8_t *e = t + off;
		uint8_t type = e[0], elen = e[1];
		if (type == 0) { /* processor local APIC */
			if (elen < 8)
				return ACPI_ERR_MADT_ENTRY;
			out->xapic_entries++;
			if ((le32(e + 4) & 1) && e[3] != 0xff)
				add_cpu(out, e[3]);
			else
				out->disabled++;
		} else if (type == 9) { /* processor local x2APIC */
			if (elen < 16)
				return ACPI_ERR_MADT_ENTRY;
			out->x2apic_entries++;
			if ((le32(e + 8) & 1) && le32(e + 4) != 0xffffffffu)
				add_cpu(out, le32(e + 4));
			else
				out->disabled++;
		} else if (type == 5) { /* local APIC address override */
			if (elen < 12)
				return ACPI_ERR_MADT_ENTRY;
			out->lapic_base = le64(e + 4);
		}
		off += elen;
	}
	return out->count ? ACPI_OK : ACPI_ERR_NO_CPUS;
}

acpi_err acpi_find_cpus(const acpi_mem *m, uint64_t rsdp, acpi_cpus *out)
{
	uint64_t root_pa;
	uint32_t len;
	*out = (acpi_cpus){ 0 };
	acpi_err e = check_rsdp(m, rsdp, out, &root_pa);
	if (e != ACPI_OK)
		return e;
	const uint8_t *root, *t;
	e = map_sdt(m, root_pa, SDT_HEADER, ACPI_ERR_ROOT_MISSING, ACPI_ERR_ROOT_LENGTH, &root, &len);
	if (e != ACPI_OK)
		return e;
	if (!sig_is(root, out->xsdt ? "XSDT" : "RSDT", 4))
		return ACPI_ERR_ROOT_SIGNATURE;
	if (!sum_zero(root, len))
		return ACPI_ERR_ROOT_CHECKSUM;
	unsigned step = out->xsdt ? 8 : 4;
	acpi_err madt_err = ACPI_ERR_NO_MADT;
	for (uint32_t off = SDT_HEADER; off + step <= len; off += step) {
		uint64_t pa = out->xsdt ? le64(root + off) : le32(root + off);
		const uint8_t *h = map(m, pa, SDT_HEADER);
		if (!h || !sig_is(h, "APIC", 4))
			continue; /* other tables are not ours to judge */
		e = map_sdt(m, pa, MADT_ENTRIES, ACPI_ERR_MADT_LENGTH, ACPI_ERR_MADT_LENGTH, &t, &len);
		if (e != ACPI_OK)
			return e;
		if (!sum_zero(t, len)) {
			out->madt = pa;
			return ACPI_ERR_MADT_CHECKSUM;
		}
		out->madt = pa;
		madt_err = parse_madt(t, len, out);
		break;
	}
	if (madt_err != ACPI_OK) {
		uint64_t madt = out->madt;
		uint32_t rev = out->rsdp_revision;
		bool x = out->xsdt;
		*out = (acpi_cpus){ 0 };
		out->madt = madt, out->rsdp_revision = rev, out->xsdt = x;
	}
	return madt_err;
}
