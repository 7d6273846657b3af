/* kmem.c - the kernel's memory core: the address space, the frame allocator over the
 * boot-info regions and the TLB flush. Page tables the library frees go back through a
 * wrapper that counts what the allocator refuses, so frames of the EFI stage's tables are
 * reported rather than silently dropped. */
#include "kmem.h"

#include "cpu.h"
#include "kprintf.h"
#include "smp.h"

uint64_t physmap_base = BOOT_PHYSMAP_OFFSET;

static pg_space kspace;
static pg_err status = PG_ERR_BAD_ARG;
static frame_alloc fa;
static mem_region region_store[BOOT_INFO_MAX_REGIONS + 4];
static mem_list regions;
static mem_region meta;
static pg_frames source;
static uint64_t foreign_frees;

/* The lock rule (issue 15). kspace - its tables and the walk cache inside the handle - and
 * the frame allocator are one lock's: kmem_lock. Every CPU but the boot CPU changes or
 * walks them only through the kmem_* wrappers below, which take it; the boot CPU may still
 * call pg_* on kspace directly while the other CPUs only idle (boot, tour, self-tests).
 * Under the lock, flushes the library reports are batched and deferred frees (table frames
 * the library gives back, leaf frames of kmem_unmap_free) wait; kmem_unlock runs one
 * shootdown for the batch and only then frees them, so no CPU can still reach a frame
 * through a stale TLB or paging-structure entry when it is handed out again. Outside the
 * lock every flush is a shootdown of its own, done before the call returns. The spin
 * loops answer shootdowns (smp_relax), so a waiter never blocks the holder. */
static struct {
	volatile uint32_t next, serving;
	volatile int holder;      /* CPU index, -1 when free */
	volatile uint64_t sleepers; /* CPUs halted until their turn */
	volatile uint32_t ticket[SMP_MAX_CPUS]; /* each sleeper's ticket */
} klock = { 0, 0, -1, 0, { 0 } };

#define DEFER_MAX 64
static struct {
	smp_range r[SMP_BATCH_RANGES];
	unsigned n;
	bool full;
	uint64_t defer[DEFER_MAX];
	unsigned ndefer;
} batch;

static bool held(void) { return klock.holder == (int)smp_me(); }

/* The batch's shootdown, then the frames that waited for it. */
static void batch_complete(void)
{
	/* invlpg also drops the paging-structure entries of every address (and with PCIDs on
	 * every shootdown is a full flush, smp.c), so deferred table frames need a full flush
	 * only when no range came with them. */
	if (batch.n || batch.full || batch.ndefer)
		smp_shootdown(batch.r, batch.n, batch.full || batch.n == 0, ~0ull);
	for (unsigned i = 0; i < batch.ndefer; i++)
		if (frame_free_4k(&fa, pg_pa(batch.defer[i])) == PG_ERR_NOT_OWNED)
			foreign_frees++;
	batch.n = batch.ndefer = 0;
	batch.full = false;
}

/* A waiter with interrupts on halts after a short spin and is woken by the unlock (or by
 * a shootdown, which it answers): under TCG, vCPUs that spin take the host cores the
 * holder needs. The bit is set with interrupts off and the lock checked again before
 * sti;hlt, so a wake-up between the two stays pending and ends the hlt. */
void kmem_lock(void)
{
	uint32_t t = __atomic_fetch_add(&klock.next, 1, __ATOMIC_RELAXED);
	uint64_t bit = 1ull << smp_me();
	bool can_sleep = irq_enabled(); /* a wake-up can reach us */
	for (unsigned spins = 0; __atomic_load_n(&klock.serving, __ATOMIC_ACQUIRE) != t; spins++) {
		smp_relax();
		if (!can_sleep || spins < 4)
			continue;
		__asm__ volatile("cli" ::: "memory");
		klock.ticket[smp_me()] = t;
		__atomic_fetch_or(&klock.sleepers, bit, __ATOMIC_SEQ_CST);
		if (__atomic_load_n(&klock.serving, __ATOMIC_ACQUIRE) != t)
			__asm__ volatile("sti; hlt" ::: "memory");
		else
			__asm__ volatile("sti" ::: "memory");
		__atomic_fetch_and(&klock.sleepers, ~bit, __ATOMIC_SEQ_CST);
	}
	klock.holder = (int)smp_me();
}

/* Wakes only the sleeper whose turn it is: the others would find the lock taken again. */
void kmem_unlock(void)
{
	batch_complete();
	klock.holder = -1;
	uint32_t next = klock.serving + 1;
	__atomic_store_n(&klock.serving, next, __ATOMIC_SEQ_CST);
	uint64_t s = __atomic_load_n(&klock.sleepers, __ATOMIC_SEQ_CST);
	for (unsigned c = 0; s && c < SMP_MAX_CPUS; c++)
		if ((s & (1ull << c)) && klock.ticket[c] == next) {
			smp_wake(1ull << c);
			break;
		}
}

static bool src_alloc(void *ctx, pg_paddr *frame)
{
	return frame_alloc_4k(ctx, frame) == PG_OK;
}

/* A full list is emptied at once: mid-operation, the range that goes with these frames may
 * not be in the batch yet, so that shootdown flushes everything. */
static void defer_free(uint64_t pa)
{
	if (batch.ndefer == DEFER_MAX) {
		batch.full = true;
		batch_complete();
	}
	batch.defer[batch.ndefer++] = pa;
}

/* A table frame the library gives back: paging-structure caches may still point at it. */
static void src_free(void *ctx, pg_paddr frame)
{
	if (held()) {
		defer_free(frame.pa);
		return;
	}
	smp_shootdown(NULL, 0, true, ~0ull);
	if (frame_free_4k(ctx, frame) == PG_ERR_NOT_OWNED)
		foreign_frees++;
}

void kmem_flush(void *ctx, pg_vaddr start, uint64_t length)
{
	(void)ctx;
	smp_range r = { start.va, length };
	if (!held()) {
		smp_shootdown(&r, 1, false, ~0ull);
		return;
	}
	if (batch.n == SMP_BATCH_RANGES)
		batch.full = true;
	else
		batch.r[batch.n++] = r;
}

pg_err kmem_map(uint64_t va, uint64_t pa, unsigned flags)
{
	kmem_lock();
	pg_err e = pg_map(&kspace, pg_va(va), pg_pa(pa), PG_4K, flags, NULL);
	kmem_unlock();
	return e;
}

pg_err kmem_unmap(uint64_t va, uint64_t *pa)
{
	pg_paddr f = { 0 };
	pg_size size;
	kmem_lock();
	pg_err e = pg_unmap(&kspace, pg_va(va), &f, &size);
	kmem_unlock(); /* the shootdown is complete: the caller may reuse the frame */
	if (pa)
		*pa = f.pa;
	return e;
}

pg_err kmem_unmap_free(uint64_t va)
{
	pg_paddr f;
	pg_size size;
	pg_mapping m;
	kmem_lock();
	/* 4 KiB pages only (the allocator's frames): a huge leaf is refused, unchanged. */
	pg_err e = pg_translate_fast(&kspace, pg_va(va), &m);
	if (e == PG_OK && m.size != PG_4K)
		e = PG_ERR_HUGE_PAGE;
	if (e == PG_OK)
		e = pg_unmap(&kspace, pg_va(va), &f, &size);
	if (e == PG_OK)
		defer_free(f.pa);
	kmem_unlock();
	return e;
}

pg_err kmem_protect(uint64_t va, uint64_t length, unsigned flags)
{
	kmem_lock();
	pg_err e = pg_protect(&kspace, pg_va(va), length, flags);
	kmem_unlock();
	return e;
}

pg_err kmem_translate(uint64_t va, pg_mapping *m)
{
	kmem_lock();
	pg_err e = pg_translate_fast(&kspace, pg_va(va), m);
	kmem_unlock();
	return e;
}

pg_err kmem_frame_alloc(uint64_t *pa)
{
	pg_paddr f;
	kmem_lock();
	pg_err e = frame_alloc_4k(&fa, &f);
	kmem_unlock();
	*pa = e == PG_OK ? f.pa : 0;
	return e;
}

void kmem_frame_free(uint64_t pa)
{
	kmem_lock();
	frame_free_4k(&fa, pg_pa(pa));
	kmem_unlock();
}

/* Builds the allocator and makes it s's frame source. */
static pg_err frames_init(const boot_info *bi, pg_space *s)
{
	mem_list_init(&regions, region_store, sizeof region_store / sizeof region_store[0]);
	for (uint32_t i = 0; i < bi->region_count; i++) {
		const boot_region *r = &bi->regions[i];
		region_store[i] = (mem_region){ r->start, r->length, r->kind, 0 };
	}
	regions.count = bi->region_count;
	pg_err e = frame_init(&fa, &regions, s->phys_offset, &meta);
	if (e != PG_OK)
		return e;
	e = mem_list_set(&regions, meta.start, meta.length, MEM_KERNEL);
	if (e != PG_OK)
		return e;
	source = (pg_frames){ src_alloc, src_free, &fa };
	s->frames = &source;
	return PG_OK;
}

pg_err kmem_init(const boot_info *bi)
{
	pg_err e = pg_space_attach(&kspace, pg_pa(bi->pml4), NULL, bi->phys_offset,
				   (bi->cpu_features & BOOT_CPU_NX) != 0,
				   (bi->cpu_features & BOOT_CPU_1G) != 0, bi->phys_bits,
				   bi->paging_levels);
	if (e == PG_OK) {
		kspace.flush = kmem_flush;
		kspace.flush_ctx = NULL;
		e = frames_init(bi, &kspace);
	}
	return status = e;
}

pg_err kmem_status(void) { return status; }
pg_space *kmem_space(void) { return &kspace; }

void kmem_report(void)
{
	kprintf("frames: total=%lu free=%lu used=%lu\n", (unsigned long)fa.total_frames,
		(unsigned long)frame_free_count(&fa), (unsigned long)frame_used_count(&fa));
}

frame_alloc *kmem_frames(void) { return &fa; }
pg_frames *kmem_source(void) { return &source; }
const mem_list *kmem_regions(void) { return &regions; }
mem_region kmem_meta(void) { return meta; }
uint64_t kmem_foreign_frees(void) { return foreign_frees; }

bool kmem_owns(const frame_alloc *a, uint64_t pa)
{
	for (size_t k = 0; k < a->region_count; k++) {
		const struct frame_region *r = &a->regions[k];
		if (pa >= r->base && pa - r->base < r->frames * 4096)
			return true;
	}
	return false;
}
