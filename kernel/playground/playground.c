/* playground.c - yours to change: kernel_main calls playground_run() once the kernel's
 * address space, frame allocator and TLB flush are up, before anything else maps pages.
 * docs/from-the-post.md walks through the exercise "add your own mapping". */
#include "playground.h"

#include "kmem.h"     /* kmem_space(), kmem_frames(), phys_to_virt(), kmem_flush() */
#include "kprintf.h"  /* kprintf(): one fact a line, "subsystem: key=value" */
#include "paging.h"   /* pg_map, pg_translate, pg_unmap, pg_strerror, PG_W, PG_4K, ... */

/* What is at hand here:
 *   pg_space *s = kmem_space();        the tables the CPU runs on (CR3); s->frames is the
 *                                      frame allocator, so pg_map can build new tables
 *   frame_alloc *fa = kmem_frames();   frame_alloc_4k(fa, &pa), frame_free_4k(fa, pa)
 *   phys_to_virt(pa)                   every physical address through the physmap (10 TiB)
 *   pg_map(s, pg_va(va), pa, PG_4K, PG_W, NULL)   map one page (NX unless PG_X is given)
 *   pg_translate(s, pg_va(va), &t)     the walk: t.phys, t.size, t.flags, t.walk[level]
 *   pg_unmap(s, pg_va(va), &pa, &size) then kmem_flush(NULL, pg_va(va), 4096)
 * Free virtual space: 0xffffa00000000000 up to 0xfffffe0000000000 (PML4 entries 320-507).
 * Taken: the heap at 0xffff900000000000 (entry 288), the framebuffer window (508), the
 * other CPUs' stacks and APIC page (509), the self-test's recursive entry (510), the kernel
 * and its stack (511); the tour uses 0x00000deadbeaf000 and page 0; the physmap starts at
 * 0x00000a0000000000. */
void playground_run(void)
{
#ifdef PLAYGROUND_EXERCISE
	playground_exercise();
#endif
}
