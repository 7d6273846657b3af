/* test_elf.c - elf_validate() against a small hand-built kernel ELF and one corruption
 * per test, each of which must be refused with its own error. */
#include <string.h>

#include "elf.h"
#include "test.h"

#define BASE 0xFFFFFFFF80000000ull

typedef struct { uint8_t b[4096]; } elf_buf;

static void put(uint8_t *p, uint64_t v, unsigned bytes)
{
	for (unsigned i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Writes program header i: type PT_LOAD, the given flags, vaddr and sizes. */
static void phdr(elf_buf *e, unsigned i, uint32_t flags, uint64_t vaddr, uint64_t filesz,
		 uint64_t memsz)
{
	uint8_t *ph = e->b + 64 + 56 * i;
	put(ph, 1, 4);
	put(ph + 4, flags, 4);
	put(ph + 8, 0x200, 8);
	put(ph + 16, vaddr, 8);
	put(ph + 24, vaddr, 8);
	put(ph + 32, filesz, 8);
	put(ph + 40, memsz, 8);
	put(ph + 48, 4096, 8);
}

/* A valid kernel: text RX at BASE, data RW one page above, entry in text. */
static void make_kernel(elf_buf *e)
{
	memset(e, 0, sizeof *e);
	memcpy(e->b, "\x7f" "ELF", 4);
	e->b[4] = 2;  /* ELFCLASS64 */
	e->b[5] = 1;  /* little endian */
	e->b[6] = 1;  /* EV_CURRENT */
	put(e->b + 16, 2, 2);     /* ET_EXEC */
	put(e->b + 18, 62, 2);    /* EM_X86_64 */
	put(e->b + 20, 1, 4);
	put(e->b + 24, BASE + 0x10, 8);
	put(e->b + 32, 64, 8);    /* phoff */
	put(e->b + 54, 56, 2);
	put(e->b + 56, 2, 2);
	phdr(e, 0, ELF_PF_R | ELF_PF_X, BASE, 0x100, 0x100);
	phdr(e, 1, ELF_PF_R | ELF_PF_W, BASE + 0x1000, 0x100, 0x3000);
}

static elf_err validate(elf_buf *e, uint64_t size, elf_image *img)
{
	return elf_validate(e->b, size, BASE, img);
}

/* The well-formed kernel passes and its segments come back as written. */
TEST(elf_valid_kernel_accepted)
{
	elf_buf e;
	elf_image img;
	make_kernel(&e);
	CHECK_EQ(validate(&e, sizeof e.b, &img), ELF_OK);
	CHECK_EQ(img.count, 2);
	CHECK_EQ(img.entry, BASE + 0x10);
	CHECK_EQ(img.seg[1].memsz, 0x3000);
	CHECK_EQ(img.lo, BASE);
	CHECK_EQ(img.hi, BASE + 0x4000);
}

/* Header corruptions are each named by their own error. */
TEST(elf_bad_headers_refused)
{
	elf_buf e;
	elf_image img;
	make_kernel(&e);
	CHECK_EQ(validate(&e, 63, &img), ELF_ERR_TRUNCATED);
	e.b[1] = 'X';
	CHECK_EQ(validate(&e, sizeof e.b, &img), ELF_ERR_MAGIC);
	make_kernel(&e);
	e.b[4] = 1;
	CHECK_EQ(validate(&e, sizeof e.b, &img), ELF_ERR_CLASS);
	make_kernel(&e);
	put(e.b + 18, 3, 2); /* EM_386 */
	CHECK_EQ(validate(&e, sizeof e.b, &img), ELF_ERR_MACHINE);
	make_kernel(&e);
	put(e.b + 16, 3, 2); /* ET_DYN */
	CHECK_EQ(validate(&e, sizeof e.b, &img), ELF_ERR_TYPE);
}

/* Program headers that run past the end of the file, even by overflow, are refused. */
TEST(elf_phdrs_outside_file_refused)
{
	elf_buf e;
	elf_image img;
	make_kernel(&e);
	CHECK_EQ(validate(&e, 64 + 56 + 10, &img), ELF_ERR_PHDRS);
	put(e.b + 32, ~0ull - 8, 8);
	CHECK_EQ(validate(&e, sizeof e.b, &img), ELF_ERR_PHDRS);
	make_kernel(&e);
	put(e.b + 54, 32, 2);
	CHECK_EQ(validate(&e, sizeof e.b, &img), ELF_ERR_PHDRS);
}

/* A segment below the higher-half base, or one wrapping past 2^64, is refused. */
TEST(elf_segment_outside_higher_half_refused)
{
	elf_buf e;
	elf_image img;
	make_kernel(&e);
	phdr(&e, 1, ELF_PF_R | ELF_PF_W, 0x400000, 0x100, 0x1000);
	CHECK_EQ(validate(&e, sizeof e.b, &img), ELF_ERR_LOW_HALF);
	CHECK_EQ(img.bad_index, 1);
	phdr(&e, 1, ELF_PF_R | ELF_PF_W, 0xFFFFFFFFFFFFF000ull, 0x100, 0x2000);
	CHECK_EQ(validate(&e, sizeof e.b, &img), ELF_ERR_LOW_HALF);
}

/* Two segments on the same page are refused even if their bytes do not collide. */
TEST(elf_overlapping_segments_refused)
{
	elf_buf e;
	elf_image img;
	make_kernel(&e);
	phdr(&e, 1, ELF_PF_R | ELF_PF_W, BASE + 0x800, 0x100, 0x100);
	CHECK_EQ(validate(&e, sizeof e.b, &img), ELF_ERR_OVERLAP);
	CHECK_EQ(img.bad_index, 1);
}

/* W+X is refused; so are file bytes past the end and filesz > memsz. */
TEST(elf_wx_and_bad_sizes_refused)
{
	elf_buf e;
	elf_image img;
	make_kernel(&e);
	phdr(&e, 1, ELF_PF_R | ELF_PF_W | ELF_PF_X, BASE + 0x1000, 0x100, 0x100);
	CHECK_EQ(validate(&e, sizeof e.b, &img), ELF_ERR_WX);
	make_kernel(&e);
	phdr(&e, 1, ELF_PF_R | ELF_PF_W, BASE + 0x1000, 0x10000, 0x10000);
	CHECK_EQ(validate(&e, sizeof e.b, &img), ELF_ERR_SEGMENT_FILE);
	make_kernel(&e);
	phdr(&e, 1, ELF_PF_R | ELF_PF_W, BASE + 0x1000, 0x200, 0x100);
	CHECK_EQ(validate(&e, sizeof e.b, &img), ELF_ERR_SEGMENT_FILE);
}

/* An entry point in a data segment is refused. */
TEST(elf_entry_outside_text_refused)
{
	elf_buf e;
	elf_image img;
	make_kernel(&e);
	put(e.b + 24, BASE + 0x1000, 8);
	CHECK_EQ(validate(&e, sizeof e.b, &img), ELF_ERR_ENTRY);
}
