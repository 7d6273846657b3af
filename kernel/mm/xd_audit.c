/* xd_audit.c - counts the page-table entries that have the execute-disable bit set, over
 * the whole active hierarchy. On a CPU without NX that bit is reserved, so the count
 * must be 0 there: the hardware matrix checks it (paging: xd_entries=N). */
#include "xd_audit.h"

/* Entry bits from the Intel SDM, vol. 3, 4.5: the audit reads raw entries on purpose,
 * since paging/'s walk reports effective permissions, not the bits as stored. */
#define E_PRESENT (1ull << 0)
#define E_LEAF    (1ull << 7) /* PS in levels 3 and 2 */
#define E_XD      (1ull << 63)
#define E_ADDR    0x000ffffffffff000ull

/* Counts XD entries in the table at phys (level 5..1) and every table below it. */
static uint64_t count_table(const pg_space *s, uint64_t phys, unsigned level)
{
	const uint64_t *t = pg_table(s, pg_pa(phys));
	uint64_t n = 0;
	for (unsigned i = 0; i < 512; i++) {
		uint64_t e = t[i];
		if (!(e & E_PRESENT))
			continue;
		if (e & E_XD)
			n++;
		if (level > 1 && !(level < 4 && (e & E_LEAF)))
			n += count_table(s, e & E_ADDR, level - 1);
	}
	return n;
}

uint64_t xd_audit(const pg_space *s)
{
	return count_table(s, s->root.pa, s->levels);
}
