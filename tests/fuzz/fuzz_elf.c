/* fuzz_elf.c - libFuzzer target for elf_validate (efi/pure/elf.c).
 *
 * The input is the ELF file, copied to a buffer of exactly its size so that any read
 * past the end is an ASan report. A reference validator written here from the ELF64
 * layout decides independently whether the file keeps every promise of elf.h; the two
 * must agree, and on ELF_OK the image handed back must be exactly what the file says. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elf.h"

#define KBASE 0xFFFFFFFF80000000ull /* the EFI stage's min_vaddr (BOOT_KERNEL_BASE) */
#define PAGE 4096ull

typedef unsigned __int128 u128;

#define REQUIRE(cond)                                                              \
	do {                                                                       \
		if (!(cond)) {                                                     \
			fprintf(stderr, "fuzz_elf: %s:%d: invariant broken: %s\n",  \
				__FILE__, __LINE__, #cond);                        \
			abort();                                                   \
		}                                                                  \
	} while (0)

static uint64_t le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* Page-rounded span of a segment as 128-bit numbers, so 2^64 is representable. */
static u128 span_lo(const elf_segment *s) { return s->vaddr / PAGE * PAGE; }
static u128 span_hi(const elf_segment *s)
{
	return ((u128)s->vaddr + s->memsz + PAGE - 1) / PAGE * PAGE;
}

typedef struct {
	uint64_t entry;
	unsigned count;
	elf_segment seg[ELF_MAX_SEGMENTS];
} ref_image;

/* 1 when the file is one elf.h promises to accept, filling *img with its segments.
 * Program headers of other types and PT_LOAD with memsz 0 load nothing and are skipped,
 * as elf.c documents by behaviour: they put no byte in memory. */
static int ref_valid(const uint8_t *f, uint64_t size, ref_image *img)
{
	memset(img, 0, sizeof *img);
	if (size < 64 || memcmp(f, "\x7f" "ELF", 4) != 0)
		return 0;
	if (f[4] != 2 || f[5] != 1 || f[6] != 1 || le(f + 20, 4) != 1)
		return 0; /* ELFCLASS64, ELFDATA2LSB, EV_CURRENT twice */
	if (le(f + 16, 2) != 2 || le(f + 18, 2) != 62)
		return 0; /* ET_EXEC, EM_X86_64 */
	uint64_t phoff = le(f + 32, 8), phentsize = le(f + 54, 2), phnum = le(f + 56, 2);
	if (phentsize != 56 || phnum == 0 || (u128)phoff + phnum * 56 > size)
		return 0;
	img->entry = le(f + 24, 8);
	for (uint64_t i = 0; i < phnum; i++) {
		const uint8_t *ph = f + phoff + 56 * i;
		if (le(ph, 4) != 1)
			continue;
		elf_segment s = { le(ph + 16, 8), le(ph + 8, 8), le(ph + 32, 8), le(ph + 40, 8),
				  (uint32_t)le(ph + 4, 4) };
		if (s.memsz == 0)
			continue;
		if (img->count == ELF_MAX_SEGMENTS)
			return 0;
		if (s.filesz > s.memsz || (u128)s.offset + s.filesz > size)
			return 0; /* file bytes must exist and fit the memory image */
		if (s.vaddr < KBASE || span_hi(&s) >= ((u128)1 << 64))
			return 0; /* higher half, and the mapped pages end below 2^64 */
		if ((s.flags & ELF_PF_W) && (s.flags & ELF_PF_X))
			return 0;
		for (unsigned j = 0; j < img->count; j++)
			if (span_lo(&s) < span_hi(&img->seg[j]) && span_lo(&img->seg[j]) < span_hi(&s))
				return 0; /* sharing a page */
		img->seg[img->count++] = s;
	}
	if (img->count == 0)
		return 0;
	for (unsigned j = 0; j < img->count; j++) {
		const elf_segment *s = &img->seg[j];
		if ((s->flags & ELF_PF_X) && (u128)img->entry >= s->vaddr &&
		    (u128)img->entry < (u128)s->vaddr + s->memsz)
			return 1;
	}
	return 0;
}

/* On ELF_OK: the image is the reference's, and each promise holds for each segment. */
static void check_image(const elf_image *out, const ref_image *ref, uint64_t size)
{
	REQUIRE(out->count == ref->count && out->count >= 1 && out->count <= ELF_MAX_SEGMENTS);
	REQUIRE(out->entry == ref->entry);
	REQUIRE(out->bad_index == 0);
	u128 lo = ~(u128)0, hi = 0;
	int entry_in_text = 0;
	for (unsigned i = 0; i < out->count; i++) {
		const elf_segment *s = &out->seg[i], *r = &ref->seg[i];
		REQUIRE(s->vaddr == r->vaddr && s->offset == r->offset && s->filesz == r->filesz &&
			s->memsz == r->memsz && s->flags == r->flags);
		REQUIRE(s->memsz != 0 && s->filesz <= s->memsz);
		REQUIRE((u128)s->offset + s->filesz <= size);
		REQUIRE(s->vaddr >= KBASE && span_hi(s) < ((u128)1 << 64));
		REQUIRE(!((s->flags & ELF_PF_W) && (s->flags & ELF_PF_X)));
		for (unsigned j = 0; j < i; j++)
			REQUIRE(span_hi(s) <= span_lo(&out->seg[j]) ||
				span_hi(&out->seg[j]) <= span_lo(s));
		if ((s->flags & ELF_PF_X) && out->entry >= s->vaddr && out->entry - s->vaddr < s->memsz)
			entry_in_text = 1;
		lo = span_lo(s) < lo ? span_lo(s) : lo;
		hi = span_hi(s) > hi ? span_hi(s) : hi;
	}
	REQUIRE(entry_in_text);
	REQUIRE(out->lo == lo && out->hi == hi);
	REQUIRE(out->lo < out->hi && out->lo % PAGE == 0 && out->hi % PAGE == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *f = malloc(size ? size : 1);
	REQUIRE(f != NULL);
	memcpy(f, data, size);
	elf_image out;
	memset(&out, 0xa5, sizeof out);
	elf_err e = elf_validate(f, size, KBASE, &out);
	REQUIRE((unsigned)e < ELF_ERR__COUNT);
	const char *why = elf_strerror(e);
	REQUIRE(why != NULL && why[0] != '\0');

	ref_image ref;
	int valid = ref_valid(f, size, &ref);
	REQUIRE(valid == (e == ELF_OK));
	if (e == ELF_OK) {
		check_image(&out, &ref, size);
	} else if (e >= ELF_ERR_SEGMENT_FILE && e <= ELF_ERR_WX) {
		/* A segment error names a PT_LOAD header that exists in the file. */
		uint64_t phoff = le(f + 32, 8), phnum = le(f + 56, 2);
		REQUIRE(out.bad_index < phnum);
		REQUIRE(le(f + phoff + 56 * (uint64_t)out.bad_index, 4) == 1);
	}
	free(f);
	return 0;
}
