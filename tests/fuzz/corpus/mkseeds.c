/* mkseeds.c - writes the seed inputs of the hardening fuzzers into DIR/memmap/, DIR/elf/
 * and DIR/args/ (`make fuzz-harden-seeds` regenerates tests/fuzz/corpus/ with it). Seeds
 * are small well-formed inputs the fuzzers mutate from, in each target's input format:
 * firmware-like memory maps, kernel-like ELF files and shell command lines. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint8_t buf[8192];
static size_t len;
static const char *outdir;

static void put(size_t at, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		buf[at + i] = (uint8_t)(v >> (8 * i));
	if (at + n > len)
		len = at + n;
}

static void emit(const char *sub, const char *name)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s/%s", outdir, sub, name);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
	memset(buf, 0, sizeof buf);
	len = 0;
}

/* ---- memory maps: byte 0 mode, byte 1 parameter, then descriptors */

struct ent {
	uint32_t type;
	uint64_t start, pages, attr;
};

#define RAM 0xFull                 /* UC WC WT WB */
#define RT (0x8000000000000000ull | 0xF)
#define IO (0x8000000000000000ull | 1)

/* Roughly what OVMF on q35 with 512 MiB reports: sorted, adjacent entries of many
 * types, MMIO windows and a reserved range above 4 GiB. */
static const struct ent ovmf[] = {
	{ 3, 0x0, 0x1, RAM },                 { 7, 0x1000, 0x9f, RAM },
	{ 4, 0x100000, 0x700, RAM },          { 10, 0x800000, 0x8, RAM },
	{ 7, 0x808000, 0x3, RAM },            { 10, 0x80b000, 0x1, RAM },
	{ 7, 0x80c000, 0x4, RAM },            { 10, 0x810000, 0xf0, RAM },
	{ 4, 0x900000, 0xb00, RAM },          { 7, 0x1400000, 0x1b5b5, RAM },
	{ 1, 0x1cfb5000, 0x2c, RAM },         { 2, 0x1cfe1000, 0x20, RAM },
	{ 4, 0x1d001000, 0x15fe, RAM },       { 3, 0x1e5ff000, 0x1b8, RAM },
	{ 6, 0x1e7b7000, 0x100, RT },         { 5, 0x1e8b7000, 0x100, RT },
	{ 0, 0x1e9b7000, 0x80, RAM },         { 9, 0x1ea37000, 0xb, RAM },
	{ 10, 0x1ea42000, 0x80, RAM },        { 4, 0x1eac2000, 0x1c0, RAM },
	{ 7, 0x1ec82000, 0x2e5, RAM },        { 4, 0x1ef67000, 0x20, RAM },
	{ 6, 0x1ef87000, 0x9, RT },           { 10, 0x1ef90000, 0x70, RAM },
	{ 0, 0x1f000000, 0x1000, RAM },       { 11, 0xb0000000, 0x10000, IO },
	{ 11, 0xffc00000, 0x400, IO },        { 0, 0xfd00000000, 0x300000, 0 },
};

static void memmap_seed(const char *name, uint8_t mode, uint8_t param, unsigned ds,
			const struct ent *e, size_t n)
{
	put(0, mode, 1);
	put(1, param, 1);
	for (size_t i = 0; i < n; i++) {
		size_t at = 2 + i * ds;
		memset(buf + at, 0, ds);
		put(at, e[i].type, 4);
		put(at + 8, e[i].start, 8);
		put(at + 16, 0, 8);
		put(at + 24, e[i].pages, 8);
		put(at + 32, e[i].attr, 8);
	}
	len = 2 + n * ds; /* the bytes past the version-1 fields count too */
	emit("memmap", name);
}

static void memmap_seeds(void)
{
	size_t n = sizeof ovmf / sizeof ovmf[0];
	memmap_seed("ovmf_q35_ds48", 1, 0, 48, ovmf, n);
	memmap_seed("ovmf_q35_capacity8", 0x41, 8, 48, ovmf, n);
	static const struct ent odd[] = {
		{ 7, 0x0, 0x10, RAM },                   /* overlaps the next two */
		{ 10, 0x8000, 0x10, RAM },
		{ 0x70000001, 0xc000, 0x2, 0 },          /* OEM */
		{ 7, 0x20000, 0x0, RAM },                /* zero pages */
		{ 42, 0x30000, 0x1, 0 },                 /* unknown */
		{ 7, 1ull << 52, 0x100, RAM },           /* beyond 2^52 */
		{ 11, 0xfffffffffff00000ull, 0xff, IO }, /* ends one page below 2^64 */
	};
	memmap_seed("odd_entries_ds56", 2, 0, 56, odd, sizeof odd / sizeof odd[0]);
	memmap_seed("odd_entries_ds128", 11, 0, 128, odd, sizeof odd / sizeof odd[0]);
	/* Shaped mode: raw fields are rewritten to small overlapping entries. */
	static const struct ent shaped[] = {
		{ 7, 0x0, 0x20, 0 }, { 3, 0x4, 0x8, 0 }, { 10, 0x6, 0x10, 0 },
		{ 7, 0x10, 0x4, 0 }, { 11, 0x1f, 0x3, 0 },
	};
	memmap_seed("shaped_overlaps", 0x80, 0, 40, shaped, sizeof shaped / sizeof shaped[0]);
	memmap_seed("bad_desc_size_44", 0x10, 44, 48, ovmf, 2);
}

/* ---- ELF files */

#define KBASE 0xFFFFFFFF80000000ull

static void ehdr(uint64_t entry, unsigned phnum)
{
	memcpy(buf, "\x7f" "ELF", 4);
	put(4, 2, 1);   /* ELFCLASS64 */
	put(5, 1, 1);   /* little endian */
	put(6, 1, 1);   /* EV_CURRENT */
	put(16, 2, 2);  /* ET_EXEC */
	put(18, 62, 2); /* EM_X86_64 */
	put(20, 1, 4);
	put(24, entry, 8);
	put(32, 64, 8); /* phoff */
	put(52, 64, 2); /* ehsize */
	put(54, 56, 2);
	put(56, phnum, 2);
	put(58, 64, 2); /* shentsize, no sections */
}

static void phdr(unsigned i, uint32_t type, uint32_t flags, uint64_t off, uint64_t vaddr,
		 uint64_t filesz, uint64_t memsz)
{
	size_t at = 64 + 56 * (size_t)i;
	put(at, type, 4);
	put(at + 4, flags, 4);
	put(at + 8, off, 8);
	put(at + 16, vaddr, 8);
	put(at + 24, vaddr, 8);
	put(at + 32, filesz, 8);
	put(at + 40, memsz, 8);
	put(at + 48, 0x1000, 8);
	for (uint64_t k = 0; k < filesz; k++) /* some recognisable file bytes */
		put(off + k, 0x90, 1);
}

static void elf_seeds(void)
{
	ehdr(KBASE, 1);
	phdr(0, 1, 5, 0x100, KBASE, 0x20, 0x20);
	emit("elf", "one_text_segment");

	ehdr(KBASE + 0x10, 2);
	phdr(0, 1, 5, 0x100, KBASE, 0x40, 0x40);
	phdr(1, 1, 6, 0x140, KBASE + 0x1000, 0x10, 0x3000);
	emit("elf", "text_data_bss");

	/* Like the linked kernel: RX text, R rodata, RW data+bss, and a PT_GNU_STACK. */
	ehdr(KBASE, 4);
	phdr(0, 1, 5, 0x200, KBASE, 0x80, 0x55b6);
	phdr(1, 1, 4, 0x280, KBASE + 0x6000, 0x40, 0xba0);
	phdr(2, 1, 6, 0x2c0, KBASE + 0x7000, 0x18, 0x5131);
	phdr(3, 0x6474e551, 6, 0, 0, 0, 0);
	emit("elf", "kernel_like");
}

/* ---- shell arguments: byte 0 machine flags, byte 1 physical top, NUL-separated words */

static void args_seed(const char *name, uint8_t flags, uint8_t top, const char *const *w)
{
	put(0, flags, 1);
	put(1, top, 1);
	for (size_t at = 2; *w; w++) {
		size_t n = strlen(*w);
		memcpy(buf + at, *w, n);
		at += n + 1; /* the NUL separator stays 0 */
		len = at - 1;
	}
	emit("args", name);
}

static void args_seeds(void)
{
	static const char *const boot[] = { "boot", "--offset", "0xa0000000000", "--page",
					    "1g", "test", NULL };
	static const char *const tr[] = { "-b", "translate", "--page", "2m",
					  "0xffffffff80000000", "4096", "0X0", NULL };
	static const char *const cur[] = { "current", "translate", "0x1000", NULL };
	static const char *const mm[] = { "memmap", "--kinds", "-B", NULL };
	static const char *const map[] = { "map", "--offset", "1099511627776", NULL };
	static const char *const help[] = { "help", NULL };
	/* Numbers at the 64-bit edge, where an overflow check is off by one or not. */
	static const char *const edge[] = { "translate", "18446744073709551615",
					    "0xFFFFFFFFFFFFFFFF", "18446744073709551616",
					    "0x10000000000000000", "-1", "0x", NULL };
	args_seed("boot_offset_page_test", 1, 46, boot);
	args_seed("translate_paged", 0, 0, tr);
	args_seed("current_translate", 2, 0, cur);
	args_seed("memmap_kinds", 0, 0, mm);
	args_seed("map_offset_decimal", 0, 40, map);
	args_seed("help", 0, 0, help);
	args_seed("numbers_at_2_64", 0, 0, edge);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR  (writes DIR/{memmap,elf,args}/*; they must exist)\n",
			argv[0]);
		return 2;
	}
	outdir = argv[1];
	memmap_seeds();
	elf_seeds();
	args_seeds();
	return 0;
}
