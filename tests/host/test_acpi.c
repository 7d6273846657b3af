/* test_acpi.c - common/acpi.c over synthetic tables: the CPUs of a good MADT through the
 * XSDT and the RSDT, x2APIC entries and duplicates, and every kind of bad or truncated
 * table named by its own error (the kernel then runs on one CPU). */
#include "acpi_build.h"
#include "test.h"

/* CHECK_ERR names pg_err values; these are acpi_err. */
#define CHECK_AERR(expr, want)                                                     \
	do {                                                                       \
		acpi_err got_ = (expr), want_ = (want);                            \
		if (got_ != want_)                                                 \
			test_fail(__FILE__, __LINE__, "%s: got %s, want %s", #expr,\
				  acpi_strerror(got_), acpi_strerror(want_));      \
	} while (0)

/* Four xAPIC CPUs, one of them disabled: three IDs, in MADT order. */
TEST(acpi_xsdt_three_enabled_cpus)
{
	acpi_build b;
	acpi_cpus c;
	ab_init(&b, 2);
	ab_lapic(&b, 0, 1);
	ab_lapic(&b, 1, 1);
	ab_lapic(&b, 2, 0);
	ab_lapic(&b, 3, 1);
	ab_seal(&b);
	CHECK_EQ(ab_parse(&b, &c), ACPI_OK);
	CHECK_EQ(c.count, 3);
	CHECK_EQ(c.apic_id[0], 0);
	CHECK_EQ(c.apic_id[1], 1);
	CHECK_EQ(c.apic_id[2], 3);
	CHECK_EQ(c.disabled, 1);
	CHECK_EQ(c.xapic_entries, 4);
	CHECK(c.xsdt);
	CHECK_EQ(c.lapic_base, 0xfee00000u);
	CHECK_EQ(c.madt, AB_BASE + AB_MADT);
}

/* ACPI 1.0: the RSDT's 32-bit entries lead to the same MADT. */
TEST(acpi_rsdt_revision0)
{
	acpi_build b;
	acpi_cpus c;
	ab_init(&b, 0);
	ab_lapic(&b, 5, 1);
	ab_lapic(&b, 7, 1);
	ab_seal(&b);
	CHECK_EQ(ab_parse(&b, &c), ACPI_OK);
	CHECK(!c.xsdt);
	CHECK_EQ(c.count, 2);
	CHECK_EQ(c.apic_id[1], 7);
}

/* x2APIC entries count; an ID listed as xAPIC and x2APIC is one CPU; 0xff and ~0 are not
 * IDs; the type 5 override replaces the LAPIC address. */
TEST(acpi_x2apic_duplicates_override)
{
	acpi_build b;
	acpi_cpus c;
	ab_init(&b, 2);
	ab_lapic(&b, 0, 1);
	ab_lapic(&b, 0xff, 1);
	ab_x2apic(&b, 0, 1);
	ab_x2apic(&b, 300, 1);
	ab_x2apic(&b, 0xffffffffu, 1);
	ab_x2apic(&b, 301, 2); /* online capable, not enabled */
	uint8_t *o = ab_entry(&b, 5, 12);
	ab_put64(o + 4, 0xfed00000ull);
	ab_seal(&b);
	CHECK_EQ(ab_parse(&b, &c), ACPI_OK);
	CHECK_EQ(c.count, 2);
	CHECK_EQ(c.apic_id[0], 0);
	CHECK_EQ(c.apic_id[1], 300);
	CHECK_EQ(c.duplicates, 1);
	CHECK_EQ(c.disabled, 3);
	CHECK_EQ(c.x2apic_entries, 4);
	CHECK_EQ(c.lapic_base, 0xfed00000ull);
}

/* More enabled CPUs than the list holds: the first ACPI_MAX_CPUS, the rest counted. */
TEST(acpi_too_many_cpus_dropped)
{
	acpi_build b;
	acpi_cpus c;
	ab_init(&b, 2);
	for (uint32_t i = 0; i < ACPI_MAX_CPUS + 3; i++)
		ab_x2apic(&b, i, 1);
	ab_seal(&b);
	CHECK_EQ(ab_parse(&b, &c), ACPI_OK);
	CHECK_EQ(c.count, ACPI_MAX_CPUS);
	CHECK_EQ(c.dropped, 3);
}

static acpi_err parse_broken(void (*breakit)(acpi_build *), unsigned rev)
{
	acpi_build b;
	acpi_cpus c;
	ab_init(&b, rev);
	ab_lapic(&b, 0, 1);
	ab_lapic(&b, 1, 1);
	ab_seal(&b);
	breakit(&b);
	acpi_err e = ab_parse(&b, &c);
	if (e != ACPI_OK && c.count != 0)
		return ACPI_ERR__COUNT; /* an error must leave no CPUs behind */
	return e;
}

static void rsdp_sig(acpi_build *b) { b->buf[AB_RSDP] = 'X'; }
static void rsdp_sum(acpi_build *b) { b->buf[AB_RSDP + 8]++; }
static void xsdp_sum(acpi_build *b) { b->buf[AB_RSDP + 32]++; }
static void xsdp_len(acpi_build *b) { ab_put32(b->buf + AB_RSDP + 20, 20); ab_fix(b->buf, 36, 32); }
static void root_sig(acpi_build *b) { b->buf[AB_ROOT] = 'R'; }
static void root_sum(acpi_build *b) { b->buf[AB_ROOT + 40]++; }
static void root_len(acpi_build *b) { ab_put32(b->buf + AB_ROOT + 4, 0x7fffffff); }
static void root_gone(acpi_build *b) { ab_put64(b->buf + AB_RSDP + 24, 0x1000); ab_fix(b->buf, 36, 32); }
static void madt_sum(acpi_build *b) { b->buf[AB_MADT + 44 + 3] ^= 0x40; }
static void madt_sig(acpi_build *b) { b->buf[AB_MADT] = 'Q'; }
static void madt_short(acpi_build *b) { b->limit = AB_MADT + 40; }
static void madt_cut(acpi_build *b) { b->limit = AB_MADT + b->madt_len - 1; }
static void madt_len(acpi_build *b) { ab_put32(b->buf + AB_MADT + 4, 40); }
static void rsdp_gone(acpi_build *b) { b->limit = 10; }

/* An entry of length 0 (which would loop forever), one running past the end, and a
 * local APIC entry too short for its fields: each breaks the MADT, checksum intact. */
static void entry_zero(acpi_build *b)
{
	b->buf[AB_MADT + 44 + 8 + 1] = 0;
	ab_fix(b->buf + AB_MADT, b->madt_len, 9);
}
static void entry_past(acpi_build *b)
{
	b->buf[AB_MADT + 44 + 8 + 1] = 9;
	ab_fix(b->buf + AB_MADT, b->madt_len, 9);
}
static void entry_short(acpi_build *b)
{
	b->buf[AB_MADT + 44 + 1] = 6;
	b->buf[AB_MADT + 44 + 6] = 0;
	b->buf[AB_MADT + 44 + 7] = 2;
	ab_fix(b->buf + AB_MADT, b->madt_len, 9);
}
static void all_disabled(acpi_build *b)
{
	b->buf[AB_MADT + 44 + 4] = 0;
	b->buf[AB_MADT + 52 + 4] = 0;
	ab_fix(b->buf + AB_MADT, b->madt_len, 9);
}

TEST(acpi_bad_tables_named)
{
	CHECK_AERR(parse_broken(rsdp_gone, 2), ACPI_ERR_NO_RSDP);
	CHECK_AERR(parse_broken(rsdp_sig, 2), ACPI_ERR_RSDP_SIGNATURE);
	CHECK_AERR(parse_broken(rsdp_sum, 2), ACPI_ERR_RSDP_CHECKSUM);
	CHECK_AERR(parse_broken(xsdp_sum, 2), ACPI_ERR_XSDP_CHECKSUM);
	CHECK_AERR(parse_broken(xsdp_len, 2), ACPI_ERR_XSDP_LENGTH);
	CHECK_AERR(parse_broken(root_gone, 2), ACPI_ERR_ROOT_MISSING);
	CHECK_AERR(parse_broken(root_sig, 2), ACPI_ERR_ROOT_SIGNATURE);
	CHECK_AERR(parse_broken(root_sum, 2), ACPI_ERR_ROOT_CHECKSUM);
	CHECK_AERR(parse_broken(root_sum, 0), ACPI_ERR_ROOT_CHECKSUM);
	CHECK_AERR(parse_broken(root_len, 2), ACPI_ERR_ROOT_LENGTH);
	CHECK_AERR(parse_broken(madt_sig, 2), ACPI_ERR_NO_MADT);
	CHECK_AERR(parse_broken(madt_sum, 2), ACPI_ERR_MADT_CHECKSUM);
	CHECK_AERR(parse_broken(madt_short, 2), ACPI_ERR_MADT_LENGTH);
	CHECK_AERR(parse_broken(madt_cut, 2), ACPI_ERR_MADT_LENGTH);
	CHECK_AERR(parse_broken(madt_len, 2), ACPI_ERR_MADT_LENGTH);
	CHECK_AERR(parse_broken(entry_zero, 2), ACPI_ERR_MADT_ENTRY);
	CHECK_AERR(parse_broken(entry_past, 2), ACPI_ERR_MADT_ENTRY);
	CHECK_AERR(parse_broken(entry_short, 2), ACPI_ERR_MADT_ENTRY);
	CHECK_AERR(parse_broken(all_disabled, 2), ACPI_ERR_NO_CPUS);
	CHECK(acpi_strerror(ACPI_ERR_MADT_CHECKSUM)[0] == 'm');
	CHECK(acpi_strerror((acpi_err)99)[0] == 'u');
}

/* Memory cut at every length: never a read past it (ASan would see one), and nothing but
 * the whole tables parses. */
TEST(acpi_every_truncation)
{
	acpi_build b;
	acpi_cpus c;
	ab_init(&b, 2);
	ab_lapic(&b, 0, 1);
	ab_x2apic(&b, 1, 1);
	ab_seal(&b);
	uint32_t end = AB_MADT + b.madt_len;
	unsigned ok = 0;
	for (uint32_t lim = 0; lim <= end; lim++) {
		b.limit = lim;
		if (ab_parse(&b, &c) == ACPI_OK)
			ok++;
	}
	CHECK_EQ(ok, 1);
}
