/* drill.c - fault drills booted with `drill=NAME`: each provokes one fault nobody
 * expects, so what shows is the report a real bug would get; fault.c then leaves QEMU
 * with the drill-done code. A drill that does not fault is itself a failure. */
#include "selftest.h"

#include "cpu.h"
#include "fault.h"
#include "kmem.h"
#include "kprintf.h"

static bool streq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

/* Recurses until the stack runs into its guard page; the size check is never reached
 * and only keeps the compiler from calling the recursion infinite. */
static unsigned __attribute__((noinline)) recurse(unsigned depth)
{
	volatile uint8_t pad[512];
	pad[0] = (uint8_t)depth;
	if (depth > (1u << 30))
		return pad[0];
	return recurse(depth + 1) + pad[0];
}

/* A `ret` in a physmap frame, called: the fetch must fault on the NX physmap. */
static void call_physmap(void)
{
	pg_paddr f;
	if (frame_alloc_4k(kmem_frames(), &f) != PG_OK) {
		kprintf("drill: no frame for the nx drill\n");
		return;
	}
	uint64_t va = phys_to_virt(f.pa);
	*(volatile uint8_t *)tour_ptr(va) = 0xc3;
	kprintf("drill: calling physmap address %p (holds ret)\n", (void *)va);
	((void (*)(void))(uintptr_t)va)();
}

void drill_run(const boot_info *bi, const char *name)
{
	uint64_t text = (uint64_t)(uintptr_t)&drill_run;
	fault_set_mode(FAULT_EXIT_DRILL);
	kprintf("drill: name=%s start\n", name);
	if (streq(name, "null")) {
		kprintf("drill: reading address 0x0000000000000000\n");
		(void)*tour_ptr(0);
	} else if (streq(name, "text")) {
		kprintf("drill: writing kernel text at %p\n", (void *)text);
		*tour_ptr(text) = 0;
	} else if (streq(name, "stack")) {
		kprintf("drill: recursing into the guard page at %p\n",
			(void *)(bi->stack.virt - 4096));
		recurse(0);
	} else if (streq(name, "nx")) {
		call_physmap();
	} else {
		kprintf("drill: unknown name=%s (null, text, stack, nx); booting normally\n", name);
		fault_set_mode(FAULT_HALT);
		return;
	}
	kprintf("drill: name=%s did not fault: the protection is missing\n", name);
	debug_exit(DEBUG_EXIT_FAIL);
	kprintf("kernel: halted\n");
	cpu_halt_forever();
}
