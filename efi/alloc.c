/* alloc.c - the EFI stage's record of its own allocations. Everything is EfiLoaderData
 * to the firmware; this record is what later tells the kernel which frames hold page
 * tables, the kernel, its stack and the boot info, so they are never handed out. */
#include "stage.h"

#define MAX_RECORDS 128
#define TABLE_BATCH 64 /* page-table frames per allocation */

typedef struct {
	uint64_t base;
	uint64_t pages;
	mem_kind kind;
	const CHAR16 *what;
} record;

static record records[MAX_RECORDS];
static unsigned record_count;

static EFI_STATUS remember(uint64_t base, UINT64 pages, mem_kind kind, const CHAR16 *what)
{
	if (record_count == MAX_RECORDS) {
		Print(L"efi: error: allocation record full (%d entries)\n", MAX_RECORDS);
		uefi_call_wrapper(BS->FreePages, 2, base, pages);
		return EFI_OUT_OF_RESOURCES;
	}
	records[record_count++] = (record){ base, pages, kind, what };
	return EFI_SUCCESS;
}

EFI_STATUS stage_alloc(UINT64 pages, mem_kind kind, const CHAR16 *what, uint64_t *pa)
{
	EFI_PHYSICAL_ADDRESS addr = 0;
	EFI_STATUS st = uefi_call_wrapper(BS->AllocatePages, 4, AllocateAnyPages, EfiLoaderData,
					  pages, &addr);
	if (EFI_ERROR(st)) {
		Print(L"efi: error: cannot allocate %ld pages for %s: %r\n", pages, what, st);
		return st;
	}
	*pa = addr;
	return remember(addr, pages, kind, what);
}

EFI_STATUS stage_alloc_below(uint64_t max, EFI_MEMORY_TYPE type, UINT64 pages, mem_kind kind,
			     const CHAR16 *what, uint64_t *pa)
{
	EFI_PHYSICAL_ADDRESS addr = max;
	EFI_STATUS st = uefi_call_wrapper(BS->AllocatePages, 4, AllocateMaxAddress, type, pages,
					  &addr);
	if (EFI_ERROR(st))
		return st; /* the caller decides whether that matters; it reports */
	*pa = addr;
	return remember(addr, pages, kind, what);
}

EFI_STATUS stage_alloc_low(UINT64 pages, EFI_MEMORY_TYPE type, mem_kind kind, const CHAR16 *what,
			   uint64_t *pa)
{
	EFI_STATUS st = stage_alloc_below(0xfffff000ull /* the last page below 4 GiB */, type,
					  pages, kind, what, pa);
	if (EFI_ERROR(st))
		Print(L"efi: error: cannot allocate %ld pages below 4 GiB for %s: %r\n", pages, what,
		      st);
	return st;
}

EFI_STATUS stage_alloc_at(uint64_t pa, UINT64 pages, mem_kind kind, const CHAR16 *what)
{
	EFI_PHYSICAL_ADDRESS addr = pa;
	EFI_STATUS st = uefi_call_wrapper(BS->AllocatePages, 4, AllocateAddress, EfiLoaderData,
					  pages, &addr);
	if (EFI_ERROR(st))
		return st; /* the caller may try another address; it reports */
	return remember(addr, pages, kind, what);
}

/* Page-table frames: a batch is allocated and recorded whole, then handed out a frame
 * at a time, so a few dozen records cover any table count. Unused frames of the last
 * batch stay marked as page tables: the kernel may grow its tables into them later. */
static struct {
	uint64_t base;
	unsigned used, count;
	uint64_t reserved;
	bool sealed; /* boot services are (about to be) gone: no new batch */
} batch;

static bool table_alloc(void *ctx, pg_paddr *frame)
{
	(void)ctx;
	if (batch.used == batch.count) {
		if (batch.sealed)
			return false;
		uint64_t base;
		if (EFI_ERROR(stage_alloc(TABLE_BATCH, MEM_PAGE_TABLES, L"page tables", &base)))
			return false;
		batch.base = base;
		batch.used = 0;
		batch.count = TABLE_BATCH;
		batch.reserved += TABLE_BATCH;
	}
	*frame = pg_pa(batch.base + 4096ull * batch.used++);
	return true;
}

static pg_frames table_frames = { table_alloc, NULL, NULL };

pg_frames *stage_table_frames(void) { return &table_frames; }

EFI_STATUS stage_table_frames_seal(unsigned spare)
{
	if (batch.count - batch.used < spare) {
		batch.used = batch.count; /* the rest of the old batch stays recorded as tables */
		pg_paddr f;
		if (!table_alloc(NULL, &f))
			return EFI_OUT_OF_RESOURCES;
		batch.used = 0; /* table_alloc took one; give it back to the batch */
	}
	batch.sealed = true;
	return EFI_SUCCESS;
}
uint64_t stage_table_frames_reserved(void) { return batch.reserved; }

pg_err stage_apply_allocs(mem_list *l)
{
	for (unsigned i = 0; i < record_count; i++) {
		pg_err e = mem_list_set(l, records[i].base, records[i].pages * 4096,
					records[i].kind);
		if (e != PG_OK)
			return e;
	}
	return PG_OK;
}

void stage_free_allocs(void)
{
	for (unsigned i = 0; i < record_count; i++)
		uefi_call_wrapper(BS->FreePages, 2, records[i].base, records[i].pages);
	record_count = 0;
	batch.base = 0;
	batch.used = batch.count = 0;
	batch.reserved = 0;
	batch.sealed = false;
}

void stage_print_allocs(void)
{
	for (unsigned i = 0; i < record_count; i++)
		Print(L"efi: alloc base=0x%016lx pages=%ld kind=%a what=%s\n", records[i].base,
		      records[i].pages, mem_kind_name(records[i].kind), records[i].what);
}
