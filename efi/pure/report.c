/* report.c - the formats of report.h. Raw page-table entries are decoded with the bit
 * names of paging/pte.h: a raw-entry dump is the one place outside paging/ that must
 * speak hardware bits, and it reuses that single definition rather than copying it. */
#include "report.h"

#include "memmap.h"
#include "pte.h"

#define PAGE_SHIFT 12
#define TYPE_COLUMN 26 /* strlen("EfiMemoryMappedIOPortSpace"), the longest type name */
#define KIND_COLUMN 16 /* strlen("firmware-runtime") */

typedef struct {
	fmt_sink sink;
	void *ctx;
	fmt_line l;
	char buf[REPORT_LINE_MAX];
} out;

/* Starts a line with "tag: ". */
static fmt_line *begin(out *o, const char *tag)
{
	fmt_init(&o->l, o->buf, sizeof(o->buf));
	fmt_str(&o->l, tag);
	fmt_str(&o->l, ": ");
	return &o->l;
}

static void end(out *o)
{
	o->sink(o->ctx, o->buf);
}

static void key_hex16(fmt_line *l, const char *key, uint64_t v)
{
	fmt_char(l, ' ');
	fmt_str(l, key);
	fmt_char(l, '=');
	fmt_hex16(l, v);
}

static void key_dec(fmt_line *l, const char *key, uint64_t v)
{
	fmt_char(l, ' ');
	fmt_str(l, key);
	fmt_char(l, '=');
	fmt_dec(l, v);
}

static void key_size(fmt_line *l, const char *key, uint64_t v)
{
	fmt_char(l, ' ');
	fmt_str(l, key);
	fmt_char(l, '=');
	fmt_size(l, v);
}

/* ------------------------------------------------------------------ memmap */

static uint64_t load_le(const uint8_t *p, unsigned bytes)
{
	uint64_t v = 0;
	while (bytes--)
		v = v << 8 | p[bytes];
	return v;
}

/* Totals are kept per defined type, then pooled for OEM, OS and unknown values. */
#define POOLS (EFI_TYPE_COUNT + 3)

static unsigned pool_of(uint32_t type)
{
	if (type < EFI_TYPE_COUNT)
		return type;
	if (type >= 0x80000000u)
		return EFI_TYPE_COUNT + 1;      /* OS */
	if (type >= 0x70000000u)
		return EFI_TYPE_COUNT;          /* OEM */
	return EFI_TYPE_COUNT + 2;              /* Unknown */
}

static const char *pool_name(unsigned pool)
{
	static const uint32_t sample[3] = { 0x70000000u, 0x80000000u, EFI_TYPE_COUNT };
	return memmap_type_name(pool < EFI_TYPE_COUNT ? pool : sample[pool - EFI_TYPE_COUNT]);
}

void report_memmap(fmt_sink sink, void *ctx, const void *map, uint64_t map_size,
		   uint64_t desc_size)
{
	out o = { .sink = sink, .ctx = ctx };
	uint64_t totals[POOLS] = { 0 }, count = 0, pages_all = 0;
	const uint8_t *p = map;

	if ((!map && map_size) || desc_size < sizeof(efi_desc) || map_size % desc_size) {
		fmt_line *l = begin(&o, "memmap");
		fmt_str(l, "bad map geometry");
		key_dec(l, "size", map_size);
		key_dec(l, "desc_size", desc_size);
		end(&o);
		return;
	}
	for (uint64_t off = 0; off < map_size; off += desc_size, count++) {
		uint32_t type = (uint32_t)load_le(p + off, 4);
		uint64_t start = load_le(p + off + 8, 8), pages = load_le(p + off + 24, 8);
		uint64_t attr = load_le(p + off + 32, 8);
		fmt_line *l = begin(&o, "memmap");
		fmt_str(l, memmap_type_name(type));
		fmt_pad(l, sizeof("memmap: ") - 1 + TYPE_COLUMN);
		key_hex16(l, "start", start);
		if (pages > (UINT64_MAX - start) >> PAGE_SHIFT)
			fmt_str(l, " end=past-2^64");
		else
			key_hex16(l, "end", start + (pages << PAGE_SHIFT));
		key_dec(l, "pages", pages);
		key_hex16(l, "attr", attr);
		end(&o);
		totals[pool_of(type)] += pages;
		pages_all += pages;
	}
	for (unsigned i = 0; i < POOLS; i++) {
		if (!totals[i])
			continue;
		fmt_line *l = begin(&o, "memmap");
		fmt_str(l, "total ");
		fmt_str(l, pool_name(i));
		fmt_pad(l, sizeof("memmap: total ") - 1 + TYPE_COLUMN);
		key_dec(l, "pages", totals[i]);
		end(&o);
	}
	fmt_line *l = begin(&o, "memmap");
	fmt_str(l, "descriptors=");
	fmt_dec(l, count);
	key_dec(l, "pages", pages_all);
	end(&o);
}

/* ------------------------------------------------------------------ kinds */

void report_kinds(fmt_sink sink, void *ctx, const mem_list *list)
{
	out o = { .sink = sink, .ctx = ctx };
	uint64_t totals[MEM_KIND_COUNT] = { 0 };

	for (size_t i = 0; i < list->count; i++) {
		const mem_region *r = &list->r[i];
		fmt_line *l = begin(&o, "kinds");
		fmt_str(l, "start=");
		fmt_hex16(l, r->start);
		key_hex16(l, "end", r->start + r->length);
		key_size(l, "size", r->length);
		fmt_str(l, " kind=");
		fmt_str(l, mem_kind_name((mem_kind)r->kind));
		end(&o);
		if (r->kind < MEM_KIND_COUNT)
			totals[r->kind] += r->length;
	}
	for (unsigned k = 0; k < MEM_KIND_COUNT; k++) {
		if (!totals[k])
			continue;
		fmt_line *l = begin(&o, "kinds");
		fmt_str(l, "total ");
		fmt_str(l, mem_kind_name((mem_kind)k));
		fmt_pad(l, sizeof("kinds: total ") - 1 + KIND_COLUMN);
		key_dec(l, "pages", totals[k] >> PAGE_SHIFT);
		end(&o);
	}
	fmt_line *l = begin(&o, "kinds");
	fmt_str(l, "regions=");
	fmt_dec(l, list->count);
	end(&o);
}

/* ------------------------------------------------------------------ map */

void report_flags(fmt_line *l, unsigned f)
{
	static const char *const cache[4] = { "WB", "WT", "UC", "WC" };
	fmt_str(l, f & PG_W ? "W" : "RO");
	fmt_str(l, f & PG_X ? " X" : " NX");
	if (f & PG_U)
		fmt_str(l, " U");
	if (f & PG_G)
		fmt_str(l, " G");
	fmt_char(l, ' ');
	fmt_str(l, cache[(f & PG_CACHE_MASK) >> PG_CACHE_SHIFT]);
}

typedef struct {
	out o;
	uint64_t ranges, mapped;
} map_state;

static bool map_range(void *ctx, const pg_range *r)
{
	map_state *m = ctx;
	fmt_line *l = begin(&m->o, "map");
	fmt_str(l, "virt=");
	fmt_hex16(l, r->virt.va);
	fmt_char(l, '-');
	fmt_hex16(l, r->virt.va + r->length); /* wraps to 0 only for a leaf at the very top */
	key_hex16(l, "phys", r->phys.pa);
	key_size(l, "size", r->length);
	fmt_str(l, " page=");
	fmt_str(l, pg_size_name(r->size));
	fmt_char(l, ' ');
	report_flags(l, r->flags);
	end(&m->o);
	m->ranges++;
	m->mapped += r->length;
	return true;
}

pg_err report_map(fmt_sink sink, void *ctx, const pg_space *s)
{
	map_state m = { .o = { .sink = sink, .ctx = ctx } };
	uint64_t counts[5];
	pg_err e = pg_walk(s, pg_va(0), 0, map_range, &m);
	if (e != PG_OK)
		return e;
	fmt_line *l = begin(&m.o, "map");
	fmt_str(l, "ranges=");
	fmt_dec(l, m.ranges);
	key_size(l, "mapped", m.mapped);
	end(&m.o);
	pg_count_tables(s, counts);
	l = begin(&m.o, "map");
	fmt_str(l, "tables");
	key_hex16(l, s->levels == 5 ? "pml5" : "pml4", s->root.pa);
	if (s->levels == 5)
		key_dec(l, "l5", counts[4]);
	key_dec(l, "l4", counts[3]);
	key_dec(l, "l3", counts[2]);
	key_dec(l, "l2", counts[1]);
	key_dec(l, "l1", counts[0]);
	key_dec(l, "total", counts[0] + counts[1] + counts[2] + counts[3] + counts[4]);
	end(&m.o);
	return PG_OK;
}

/* ------------------------------------------------------------------ translate */

/* Whether entry e of the given level maps a page rather than a table. */
static bool leaf(uint64_t e, unsigned level)
{
	return level == 1 || ((level == 2 || level == 3) && (e & PTE_PS));
}

/* The set hardware bits of a raw entry, then where it points. */
static void raw_bits(fmt_line *l, uint64_t e, unsigned level)
{
	static const struct { uint64_t bit; const char *name; } bits[] = {
		{ PTE_P, "P" }, { PTE_W, "W" }, { PTE_U, "U" }, { PTE_PWT, "PWT" },
		{ PTE_PCD, "PCD" }, { PTE_A, "A" }, { PTE_D, "D" },
	};
	if (!(e & PTE_P)) {
		fmt_str(l, "not present");
		return;
	}
	for (unsigned i = 0; i < sizeof(bits) / sizeof(bits[0]); i++)
		if (e & bits[i].bit)
			fmt_str(l, bits[i].name), fmt_char(l, ' ');
	if (e & PTE_PS) /* bit 7: PAT in a 4 KiB leaf, PS above it */
		fmt_str(l, level == 1 ? "PAT " : "PS ");
	if (e & PTE_G)
		fmt_str(l, "G ");
	if (leaf(e, level) && level > 1 && (e & PTE_PAT_HUGE))
		fmt_str(l, "PAT ");
	if (e & PTE_XD)
		fmt_str(l, "NX ");
	if (leaf(e, level)) {
		uint64_t span_mask = (1ull << (PAGE_SHIFT + 9 * (level - 1))) - 1;
		fmt_str(l, "page=");
		fmt_hex16(l, e & PTE_ADDR & ~span_mask);
	} else {
		fmt_str(l, "table=");
		fmt_hex16(l, e & PTE_ADDR);
	}
}

pg_err report_translate(fmt_sink sink, void *ctx, const pg_space *s, uint64_t va)
{
	out o = { .sink = sink, .ctx = ctx };
	pg_translation t;
	pg_err e = pg_translate(s, pg_va(va), &t);
	fmt_line *l;

	if (e == PG_ERR_NOT_CANONICAL) {
		l = begin(&o, "translate");
		fmt_hex16(l, va);
		fmt_str(l, s->levels == 5 ? " -> invalid: not canonical (bits 63:56 must all be equal)"
					  : " -> invalid: not canonical (bits 63:47 must all be equal)");
		end(&o);
		return e;
	}
	l = begin(&o, "translate");
	fmt_hex16(l, va);
	fmt_str(l, " walk from");
	key_hex16(l, s->levels == 5 ? "pml5" : "pml4", s->root.pa);
	end(&o);
	for (unsigned i = 0; i < t.levels; i++) {
		unsigned level = s->levels - i;
		l = begin(&o, "translate");
		fmt_str(l, "  L");
		fmt_dec(l, level);
		key_dec(l, "index", t.walk[i].index);
		key_hex16(l, "entry", t.walk[i].entry);
		fmt_char(l, ' ');
		raw_bits(l, t.walk[i].entry, level);
		end(&o);
	}
	l = begin(&o, "translate");
	fmt_hex16(l, va);
	if (e == PG_OK) {
		fmt_str(l, " -> ");
		fmt_hex16(l, t.phys.pa);
		fmt_str(l, " page=");
		fmt_str(l, pg_size_name(t.size));
		fmt_char(l, ' ');
		report_flags(l, t.flags);
	} else if (e == PG_ERR_NOT_MAPPED) {
		fmt_str(l, " -> not mapped (level ");
		fmt_dec(l, t.stop_level);
		fmt_char(l, ')');
	} else {
		fmt_str(l, " -> invalid: ");
		fmt_str(l, pg_strerror(e));
	}
	end(&o);
	return e;
}
