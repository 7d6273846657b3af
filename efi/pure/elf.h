/* elf.h - validation of the kernel ELF embedded in the EFI image, before the EFI stage
 * trusts a single field of it. Pure code with no gnu-efi dependency: host tests call it. */
#ifndef EFI_PURE_ELF_H
#define EFI_PURE_ELF_H

#include <stdbool.h>
#include <stdint.h>

#define ELF_MAX_SEGMENTS 16

typedef enum {
	ELF_OK = 0,
	ELF_ERR_TRUNCATED,      /* shorter than an ELF header */
	ELF_ERR_MAGIC,          /* not \x7fELF */
	ELF_ERR_CLASS,          /* not 64-bit */
	ELF_ERR_ENCODING,       /* not little endian, or not ELF version 1 */
	ELF_ERR_TYPE,           /* not an executable (ET_EXEC) */
	ELF_ERR_MACHINE,        /* not x86_64 */
	ELF_ERR_PHDRS,          /* program header table malformed or outside the file */
	ELF_ERR_NO_SEGMENTS,    /* no loadable segment, or more than ELF_MAX_SEGMENTS */
	ELF_ERR_SEGMENT_FILE,   /* file bytes outside the file, or more than the memory size */
	ELF_ERR_LOW_HALF,       /* segment below the allowed base, or running past 2^64 */
	ELF_ERR_OVERLAP,        /* two segments share a page */
	ELF_ERR_WX,             /* a segment both writable and executable */
	ELF_ERR_ENTRY,          /* entry point outside every executable segment */
	ELF_ERR__COUNT
} elf_err;

const char *elf_strerror(elf_err e);

#define ELF_PF_X 1u
#define ELF_PF_W 2u
#define ELF_PF_R 4u

/* One PT_LOAD segment, as trusted after validation. */
typedef struct {
	uint64_t vaddr;
	uint64_t offset;
	uint64_t filesz;
	uint64_t memsz;
	uint32_t flags;  /* ELF_PF_* */
} elf_segment;

typedef struct {
	uint64_t entry;
	unsigned count;
	elf_segment seg[ELF_MAX_SEGMENTS];
	uint64_t lo, hi;     /* page-rounded span of all segments */
	unsigned bad_index;  /* on a segment error: the program header index at fault */
} elf_image;

/* Checks file (size bytes, any alignment) is a little-endian x86_64 ET_EXEC whose program
 * headers lie inside the file and whose PT_LOAD segments all start at or above min_vaddr,
 * do not share a page, and are never both writable and executable. Fills *out on
 * ELF_OK; on a segment error out->bad_index names the culprit. */
elf_err elf_validate(const void *file, uint64_t size, uint64_t min_vaddr, elf_image *out);

#endif
