/* fuzz_acpi.c - libFuzzer target for common/acpi.c. Byte 0 picks the memory the parser
 * reads: bit 0 set, the rest of the input is memory as it comes (RSDP at its start);
 * clear, the input is a list of 3-byte patches (offset low, offset high, xor) over good
 * tables from tests/host/acpi_build.h, and with bit 1 every checksum is fixed afterwards,
 * so the MADT's entries themselves are what gets mangled. Memory ends where the input says
 * (byte 1 in patch mode), so truncation is fuzzed too. Checked on every input: no read
 * outside that memory (ASan), and the result's own accounting: on success at least one CPU
 * and at most ACPI_MAX_CPUS, no ID twice, and every entry counted once as enabled,
 * duplicate, dropped or disabled; on an error, no CPU. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../host/acpi_build.h"

#define REQUIRE(cond)                                                        \
	do {                                                                 \
		if (!(cond)) {                                               \
			fprintf(stderr, "fuzz_acpi: %s failed\n", #cond);    \
			abort();                                             \
		}                                                            \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static acpi_build b;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	acpi_cpus c;
	if (size < 2)
		return 0;
	if (data[0] & 1) {
		size_t n = size - 1 < AB_SIZE ? size - 1 : AB_SIZE;
		memset(&b, 0, sizeof b);
		memcpy(b.buf, data + 1, n);
		b.limit = (uint32_t)n;
	} else {
		ab_init(&b, data[0] & 4 ? 0 : 2);
		unsigned cpus = (data[1] >> 4) + 1;
		for (unsigned i = 0; i < cpus; i++) {
			if (i & 1)
				ab_x2apic(&b, i * 3u, 1);
			else
				ab_lapic(&b, (uint8_t)i, 1);
		}
		ab_seal(&b);
		for (size_t i = 2; i + 3 <= size; i += 3) {
			uint32_t off = (data[i] | (uint32_t)data[i + 1] << 8) % AB_SIZE;
			b.buf[off] ^= data[i + 2];
		}
		if (data[0] & 2)
			ab_seal(&b);
		if (data[1] & 0xf)
			b.limit = AB_MADT + b.madt_len - (data[1] & 0xf);
	}
	acpi_err e = ab_parse(&b, &c);
	if (e != ACPI_OK) {
		REQUIRE(c.count == 0);
		REQUIRE(acpi_strerror(e)[0] != 'u');
		return 0;
	}
	REQUIRE(c.count >= 1 && c.count <= ACPI_MAX_CPUS);
	for (unsigned i = 0; i < c.count; i++)
		for (unsigned j = i + 1; j < c.count; j++)
			REQUIRE(c.apic_id[i] != c.apic_id[j]);
	REQUIRE(c.count + c.duplicates + c.dropped + c.disabled ==
		c.xapic_entries + c.x2apic_entries);
	REQUIRE(c.madt >= AB_BASE && c.madt - AB_BASE < b.limit);
	return 0;
}
