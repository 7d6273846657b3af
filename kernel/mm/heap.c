/* heap.c - the kernel heap on top of the memory core: heap_core decides, this file maps.
 * Heap pages are global (G): they are shared by every address space, and invlpg drops a
 * global entry under every PCID, so an unmap reaches all of them. */
#include "heap.h"

#include "kmem.h"
#include "kprintf.h"

static hc_heap heap;
static bool ready;
static hc_err last;

/* heap_core's page source: one frame per page, mapped RW NX G; all or nothing. */
static bool map_pages(void *ctx, uintptr_t va, size_t n)
{
	pg_space *s = ctx;
	size_t done = 0;
	for (; done < n; done++) {
		pg_paddr f;
		if (frame_alloc_4k(kmem_frames(), &f) != PG_OK)
			break;
		if (pg_map(s, pg_va(va + done * HC_PAGE), f, PG_4K, PG_W | PG_G, NULL) != PG_OK) {
			frame_free_4k(kmem_frames(), f);
			break;
		}
	}
	if (done == n)
		return true;
	while (done--) {
		pg_paddr f;
		pg_size sz;
		if (pg_unmap(s, pg_va(va + done * HC_PAGE), &f, &sz) == PG_OK)
			frame_free_4k(kmem_frames(), f);
	}
	return false;
}

static void unmap_pages(void *ctx, uintptr_t va, size_t n)
{
	pg_space *s = ctx;
	for (size_t k = 0; k < n; k++) {
		pg_paddr f;
		pg_size sz;
		pg_err e = pg_unmap(s, pg_va(va + k * HC_PAGE), &f, &sz); /* flushes (kmem_flush) */
		if (e == PG_OK)
			frame_free_4k(kmem_frames(), f);
		else
			kprintf("heap: error op=unmap va=%p why=%s\n", (void *)(va + k * HC_PAGE),
				pg_strerror(e));
	}
}

bool heap_init(void)
{
	pg_space *s = kmem_space();
	pg_paddr blk;
	_Static_assert(HEAP_PAGES * sizeof(hc_page) <= (2u << 20), "descriptors fit 2 MiB");
	if (frame_alloc_2m(kmem_frames(), &blk) != PG_OK) {
		kprintf("heap: error op=init why=no 2 MiB block for the descriptors\n");
		return false;
	}
	pg_err e = pg_map_range(s, pg_va(HEAP_DESC_VA), blk, 2u << 20, PG_W | PG_G, PG_4K);
	if (e != PG_OK) {
		frame_free_2m(kmem_frames(), blk);
		kprintf("heap: error op=init why=%s\n", pg_strerror(e));
		return false;
	}
	hc_pages src = { map_pages, unmap_pages, s };
	hc_err he = hc_init(&heap, HEAP_BASE, HEAP_PAGES, (hc_page *)(uintptr_t)HEAP_DESC_VA, src);
	ready = he == HC_OK;
	pg_translation t;
	kprintf("heap: base=%p pages=%u bytes=%lu descriptors=%p guard=%p guard_mapped=%s "
		"classes=16..2048 init=%s\n", (void *)HEAP_BASE, HEAP_PAGES,
		(unsigned long)HEAP_PAGES * HC_PAGE, (void *)HEAP_DESC_VA, (void *)HEAP_GUARD,
		pg_translate(s, pg_va(HEAP_GUARD), &t) == PG_OK ? "yes" : "no", hc_strerror(he));
	return ready;
}

static void *note(const char *op, void *r, hc_err e, size_t a, size_t b)
{
	last = r ? HC_OK : e;
	if (!r)
		kprintf("heap: error op=%s size=%lu arg=%lu why=%s\n", op, (unsigned long)a,
			(unsigned long)b, hc_strerror(e));
	return r;
}

void *kmalloc_aligned(size_t size, size_t align)
{
	hc_err e = HC_ERR_NOMEM;
	void *r = ready ? hc_alloc(&heap, size, align, &e) : NULL;
	return note("kmalloc", r, e, size, align);
}

void *kmalloc(size_t size) { return kmalloc_aligned(size, 0); }

void *kcalloc(size_t n, size_t size)
{
	hc_err e = HC_ERR_NOMEM;
	void *r = ready ? hc_calloc(&heap, n, size, &e) : NULL;
	return note("kcalloc", r, e, n, size);
}

void *krealloc(void *p, size_t size)
{
	hc_err e = HC_ERR_NOMEM;
	void *r = ready ? hc_realloc(&heap, p, size, &e) : NULL;
	return note("krealloc", r, e, size, (size_t)(uintptr_t)p);
}

void kfree(void *p)
{
	last = ready ? hc_free(&heap, p) : HC_ERR_FOREIGN;
	if (last != HC_OK)
		kprintf("heap: error op=kfree ptr=%p why=%s (nothing changed)\n", p,
			hc_strerror(last));
}

hc_err heap_last_error(void) { return last; }
const hc_heap *heap_core(void) { return &heap; }
uint64_t heap_mapped_pages(void) { return heap.mapped_pages; }

void heap_report(void)
{
	kprintf("heap: mapped_pages=%lu slab_pages=%lu large_pages=%lu live=%lu live_bytes=%lu "
		"allocs=%lu frees=%lu errors=%lu\n", (unsigned long)heap.mapped_pages,
		(unsigned long)heap.slab_pages, (unsigned long)heap.large_pages,
		(unsigned long)heap.live_objects, (unsigned long)heap.live_bytes,
		(unsigned long)heap.allocs, (unsigned long)heap.frees, (unsigned long)heap.errors);
}
