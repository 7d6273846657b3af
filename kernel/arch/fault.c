/* fault.c - exception reports and expected faults. A page fault is decoded (error bits,
 * the walk of CR2 through paging/, a named cause); a test may arm one expected #PF around
 * a probe from probe.S and get control back at the probe's recovery point. */
#include "fault.h"

#include "cpu.h"
#include "fbcon.h"
#include "kmem.h"
#include "kprintf.h"
#include "panic_screen.h"
#include "user.h"

extern char __kernel_start[], __rodata_start[], __data_start[], __kernel_end[];

/* probe.S */
bool probe_read64(uint64_t va, uint64_t *out);
bool probe_write64(uint64_t va, uint64_t v);
bool probe_exec(uint64_t va);
extern char probe_read64_end[], probe_write64_end[], probe_recover[], probe_recover_exec[];

static const boot_info *kbi;
static const pg_space *kspace;
static fault_mode mode = FAULT_HALT;
static unsigned depth; /* > 0 while a report runs: a fault inside it is not resumable */

/* The one armed expectation: a #PF whose RIP lies in [rip_lo, rip_hi). */
static volatile struct {
	bool armed;
	unsigned vector;
	uint64_t rip_lo, rip_hi;
	uint64_t resume;
	fault_record *rec;
} expect;

void fault_init(const boot_info *bi, const pg_space *space)
{
	kbi = bi;
	kspace = space;
}

void fault_set_mode(fault_mode m)
{
	mode = m;
}

void debug_exit(uint8_t code)
{
	fbcon_flush(); /* the screen shows the last report before QEMU goes */
	outb(DEBUG_EXIT_PORT, code);
}

static bool in_range(uint64_t va, uint64_t lo, uint64_t hi)
{
	return va >= lo && va < hi;
}

static bool in_guard(uint64_t va)
{
	return kbi && in_range(va, kbi->stack.virt - 4096, kbi->stack.virt);
}

const char *fault_where(uint64_t va)
{
	if (va < 4096)
		return "null-page";
	if (in_guard(va))
		return "guard-page";
	if (kbi && in_range(va, kbi->stack.virt, kbi->stack.virt + kbi->stack.length))
		return "kernel-stack";
	if (in_range(va, (uint64_t)__kernel_start, (uint64_t)__rodata_start))
		return "kernel-text";
	if (in_range(va, (uint64_t)__rodata_start, (uint64_t)__data_start))
		return "kernel-rodata";
	if (in_range(va, (uint64_t)__data_start, (uint64_t)__kernel_end))
		return "kernel-data";
	if (kbi && in_range(va, physmap_base, kbi->physmap_end))
		return "physmap";
	return va < 0x0000800000000000ull ? "lower-half" : "higher-half";
}

/* True when the leaf that maps va is user accessible (SMEP and SMAP faults). */
static bool user_leaf(uint64_t va)
{
	pg_translation t;
	return kspace && pg_translate(kspace, pg_va(va), &t) == PG_OK && (t.flags & PG_U);
}

/* Most specific first: a guard-page or null access says more than "not mapped". */
const char *fault_cause(uint64_t error, uint64_t cr2)
{
	if (error & PF_ERR_RSVD)
		return "reserved-bit";
	if (in_guard(cr2))
		return "stack-overflow";
	if (cr2 < 4096 && !(error & PF_ERR_P))
		return "null-dereference";
	if (!(error & PF_ERR_P))
		return error & PF_ERR_I ? "fetch-not-mapped" : "not-mapped";
	if (error & PF_ERR_I)
		return user_leaf(cr2) ? "smep" : "no-execute";
	if (!(error & PF_ERR_U) && user_leaf(cr2))
		return "smap";
	if (error & PF_ERR_W)
		return in_range(cr2, (uint64_t)__kernel_start, (uint64_t)__rodata_start) ?
			       "write-to-kernel-text" : "write-to-read-only";
	return "protection";
}

/* Prints what each level of the tables says about va. */
static void report_walk(uint64_t va)
{
	pg_translation t;
	if (!kspace) {
		kprintf("fault: walk unavailable (no address space yet)\n");
		return;
	}
	pg_err e = pg_translate(kspace, pg_va(va), &t);
	for (unsigned i = 0; i < t.levels && i < 5; i++)
		kprintf("fault: walk level=%u index=%u entry=0x%016lx\n", kspace->levels - i,
			t.walk[i].index,
			(unsigned long)t.walk[i].entry);
	if (e == PG_OK)
		kprintf("fault: walk result=mapped phys=%p size=%s w=%u x=%u u=%u\n",
			(void *)t.phys.pa, pg_size_name(t.size), !!(t.flags & PG_W),
			!!(t.flags & PG_X), !!(t.flags & PG_U));
	else if (e == PG_ERR_NOT_MAPPED)
		kprintf("fault: walk result=not-mapped stop_level=%u\n", t.stop_level);
	else
		kprintf("fault: walk result=%s\n", pg_strerror(e));
}

static void report_page_fault(const exc_frame *f, uint64_t cr2)
{
	uint64_t e = f->error;
	kprintf("fault: error present=%u write=%u user=%u reserved=%u fetch=%u\n",
		!!(e & PF_ERR_P), !!(e & PF_ERR_W), !!(e & PF_ERR_U), !!(e & PF_ERR_RSVD),
		!!(e & PF_ERR_I));
	report_walk(cr2);
	kprintf("fault: cause=%s where=%s addr=%p rip_where=%s\n", fault_cause(e, cr2),
		fault_where(cr2), (void *)cr2, fault_where(f->rip));
	if (in_guard(cr2))
		kprintf("fault: stack-overflow guard=%p stack=%p..%p rsp=%p\n",
			(void *)(kbi->stack.virt - 4096), (void *)kbi->stack.virt,
			(void *)(kbi->stack.virt + kbi->stack.length), (void *)f->rsp);
}

static bool expected(const exc_frame *f)
{
	return expect.armed && f->vector == expect.vector && depth == 1 &&
	       in_range(f->rip, expect.rip_lo, expect.rip_hi);
}

/* After an unexpected fault: the mode decides between halting and leaving QEMU. */
__attribute__((noreturn)) static void finish(void)
{
	if (mode == FAULT_EXIT_DRILL) {
		kprintf("drill: done exit=0x%02x\n", DEBUG_EXIT_DRILL);
		debug_exit(DEBUG_EXIT_DRILL);
	} else if (mode == FAULT_EXIT_FAIL) {
		kprintf("selftest: unexpected fault, exit=0x%02x\n", DEBUG_EXIT_FAIL);
		debug_exit(DEBUG_EXIT_FAIL);
	}
	panic_screen_start(); /* before the console: start it, it replays the report */
	kprintf("kernel: halted\n");
	fbcon_flush();
	cpu_halt_forever();
}

void fault_dispatch(exc_frame *f)
{
	uint64_t cr2 = read_cr2();
	/* ring 3: reported, that program ends, the kernel goes on - but not after an NMI, a
	 * double fault (its saved CS:RIP is undefined, SDM vol. 3A 6.15) or a machine check */
	if ((f->cs & 3) == 3 && f->vector != 2 && f->vector != 8 && f->vector != 18)
		user_fault(f, cr2);
	if (++depth > 1) {
		kprintf("exception: nested vector=%lu name=%s rip=%p cr2=%p (inside a report)\n",
			(unsigned long)f->vector, exc_name((unsigned)f->vector), (void *)f->rip,
			(void *)cr2);
		finish();
	}
	bool ok = expected(f);
	kprintf("%s vector=%lu name=%s error=0x%016lx rip=%p cr2=%p rsp=%p\n",
		ok ? "fault: expected" : "exception:", (unsigned long)f->vector,
		exc_name((unsigned)f->vector), (unsigned long)f->error, (void *)f->rip,
		(void *)cr2, (void *)f->rsp);
	if (f->vector == 14)
		report_page_fault(f, cr2);
	else if (f->vector == 8 && in_guard(cr2))
		kprintf("fault: cause=stack-overflow (double fault, cr2 in the guard page)\n");
	if (!ok)
		finish();
	*expect.rec = (fault_record){ true, (unsigned)f->vector, f->error, cr2, f->rip,
				      f->vector == 14 ? fault_cause(f->error, cr2) : "none" };
	f->rip = expect.resume;
	expect.armed = false;
	kprintf("fault: resumed rip=%p\n", (void *)f->rip);
	depth--;
}

static void arm(uint64_t lo, uint64_t hi, uint64_t resume, fault_record *rec)
{
	*rec = (fault_record){ false, 0, 0, 0, 0, "none" };
	expect.vector = 14;
	expect.rip_lo = lo;
	expect.rip_hi = hi;
	expect.resume = resume;
	expect.rec = rec;
	expect.armed = true;
}

bool fault_probe_read(uint64_t va, uint64_t *value, fault_record *rec)
{
	uint64_t v = 0;
	arm((uint64_t)probe_read64, (uint64_t)probe_read64_end, (uint64_t)probe_recover, rec);
	bool done = probe_read64(va, &v);
	expect.armed = false;
	if (value)
		*value = v;
	return done;
}

bool fault_probe_write(uint64_t va, uint64_t value, fault_record *rec)
{
	arm((uint64_t)probe_write64, (uint64_t)probe_write64_end, (uint64_t)probe_recover, rec);
	bool done = probe_write64(va, value);
	expect.armed = false;
	return done;
}

bool fault_probe_exec(uint64_t va, fault_record *rec)
{
	arm(va, va + 1, (uint64_t)probe_recover_exec, rec);
	bool done = probe_exec(va);
	expect.armed = false;
	return done;
}
