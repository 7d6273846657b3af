/* elf.c - ELF64 header and program-header checks (field offsets from the System V
 * gABI and the x86_64 psABI). Every read is bounds-checked and byte-wise, so a hostile
 * or misaligned buffer cannot make the check itself fault. */
#include "elf.h"

#include <stddef.h>

#define PAGE 4096ull
#define EHDR_SIZE 64u
#define PHDR_SIZE 56u
#define PT_LOAD 1u
#define ET_EXEC 2u
#define EM_X86_64 62u

const char *elf_strerror(elf_err e)
{
	static const char *const msg[ELF_ERR__COUNT] = {
		[ELF_OK] = "ok",
		[ELF_ERR_TRUNCATED] = "file shorter than an ELF header",
		[ELF_ERR_MAGIC] = "bad magic (not an ELF file)",
		[ELF_ERR_CLASS] = "not a 64-bit ELF",
		[ELF_ERR_ENCODING] = "not little-endian ELF version 1",
		[ELF_ERR_TYPE] = "not an executable (ET_EXEC)",
		[ELF_ERR_MACHINE] = "not an x86_64 ELF",
		[ELF_ERR_PHDRS] = "program headers malformed or outside the file",
		[ELF_ERR_NO_SEGMENTS] = "no loadable segment, or too many",
		[ELF_ERR_SEGMENT_FILE] = "segment file bytes outside the file or larger than memory size",
		[ELF_ERR_LOW_HALF] = "segment outside the higher half (or wraps past 2^64)",
		[ELF_ERR_OVERLAP] = "segments overlap (share a page)",
		[ELF_ERR_WX] = "segment both writable and executable",
		[ELF_ERR_ENTRY] = "entry point outside every executable segment",
	};
	return (unsigned)e < ELF_ERR__COUNT ? msg[e] : "unknown ELF error";
}

static uint64_t rd(const uint8_t *p, unsigned bytes)
{
	uint64_t v = 0;
	while (bytes--)
		v = v << 8 | p[bytes];
	return v;
}

static elf_err check_ident(const uint8_t *f, uint64_t size)
{
	if (size < EHDR_SIZE)
		return ELF_ERR_TRUNCATED;
	if (f[0] != 0x7f || f[1] != 'E' || f[2] != 'L' || f[3] != 'F')
		return ELF_ERR_MAGIC;
	if (f[4] != 2)
		return ELF_ERR_CLASS;
	if (f[5] != 1 || f[6] != 1 || rd(f + 20, 4) != 1)
		return ELF_ERR_ENCODING;
	if (rd(f + 16, 2) != ET_EXEC)
		return ELF_ERR_TYPE;
	if (rd(f + 18, 2) != EM_X86_64)
		return ELF_ERR_MACHINE;
	return ELF_OK;
}

/* Reads and checks one PT_LOAD header into *s. */
static elf_err read_segment(const uint8_t *ph, uint64_t size, uint64_t min_vaddr, elf_segment *s)
{
	s->flags = (uint32_t)rd(ph + 4, 4);
	s->offset = rd(ph + 8, 8);
	s->vaddr = rd(ph + 16, 8);
	s->filesz = rd(ph + 32, 8);
	s->memsz = rd(ph + 40, 8);
	if (s->filesz > s->memsz || s->offset > size || s->filesz > size - s->offset)
		return ELF_ERR_SEGMENT_FILE;
	/* The page-rounded end must not wrap either: the loader maps whole pages. */
	if (s->vaddr < min_vaddr || s->memsz > ~0ull - s->vaddr ||
	    ((s->vaddr + s->memsz + PAGE - 1) & ~(PAGE - 1)) == 0)
		return ELF_ERR_LOW_HALF;
	if ((s->flags & ELF_PF_W) && (s->flags & ELF_PF_X))
		return ELF_ERR_WX;
	return ELF_OK;
}

static uint64_t page_lo(const elf_segment *s) { return s->vaddr & ~(PAGE - 1); }
static uint64_t page_hi(const elf_segment *s)
{
	return (s->vaddr + s->memsz + PAGE - 1) & ~(PAGE - 1); /* 0 means 2^64, excluded above */
}

/* Segments are mapped page by page with their own permissions, so sharing a page is
 * an overlap even when the bytes do not collide. */
static bool overlaps_earlier(const elf_image *img, unsigned i)
{
	for (unsigned j = 0; j < i; j++)
		if (page_lo(&img->seg[i]) < page_hi(&img->seg[j]) &&
		    page_lo(&img->seg[j]) < page_hi(&img->seg[i]))
			return true;
	return false;
}

static bool entry_is_executable(const elf_image *img)
{
	for (unsigned i = 0; i < img->count; i++) {
		const elf_segment *s = &img->seg[i];
		if ((s->flags & ELF_PF_X) && img->entry >= s->vaddr && img->entry - s->vaddr < s->memsz)
			return true;
	}
	return false;
}

elf_err elf_validate(const void *file, uint64_t size, uint64_t min_vaddr, elf_image *out)
{
	const uint8_t *f = file;
	elf_err e;
	if (!file || !out)
		return ELF_ERR_TRUNCATED;
	*out = (elf_image){ 0 };
	if ((e = check_ident(f, size)) != ELF_OK)
		return e;
	uint64_t phoff = rd(f + 32, 8), phentsize = rd(f + 54, 2), phnum = rd(f + 56, 2);
	if (phentsize != PHDR_SIZE || phnum == 0 || phoff > size ||
	    phnum * PHDR_SIZE > size - phoff)
		return ELF_ERR_PHDRS;
	out->entry = rd(f + 24, 8);
	out->lo = ~0ull;
	for (uint64_t i = 0; i < phnum; i++) {
		const uint8_t *ph = f + phoff + i * PHDR_SIZE;
		if (rd(ph, 4) != PT_LOAD || rd(ph + 40, 8) == 0)
			continue;
		out->bad_index = (unsigned)i;
		if (out->count == ELF_MAX_SEGMENTS)
			return ELF_ERR_NO_SEGMENTS;
		elf_segment *s = &out->seg[out->count];
		if ((e = read_segment(ph, size, min_vaddr, s)) != ELF_OK)
			return e;
		out->count++;
		if (overlaps_earlier(out, out->count - 1))
			return ELF_ERR_OVERLAP;
		out->lo = page_lo(s) < out->lo ? page_lo(s) : out->lo;
		out->hi = page_hi(s) > out->hi ? page_hi(s) : out->hi;
	}
	out->bad_index = 0;
	if (out->count == 0)
		return ELF_ERR_NO_SEGMENTS;
	return entry_is_executable(out) ? ELF_OK : ELF_ERR_ENTRY;
}
