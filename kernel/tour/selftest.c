/* selftest.c - in-kernel tests on the live tables and the CPU, run when the command line
 * says `test`. Each test states what it proves, prints one result line, and may fail:
 * faults are provoked through the probes of fault.h, never assumed. */
#include "selftest.h"

#include <stdarg.h>

#include "cpu.h"
#include "cpu_prot.h"
#include "fault.h"
#include "fbcon.h"
#include "kmem.h"
#include "kprintf.h"
#include "memtype.h"
#include "reclaim.h"
#include "smp.h"
#include "user.h"

extern char __kernel_start[], __rodata_start[];

/* Scratch pages in the higher half's free area; the tests leave nothing mapped there. */
#define TEST_VA     0xFFFF800000000000ull
#define FRESH_SLOT  0xFFFFC00000000000ull /* a PML4 slot no one uses: maps need 3 tables */

static unsigned n_pass, n_fail, n_skip;

/* Prints `selftest: test=NAME result=pass|fail|skip DETAILS` and counts it.
 * outcome: 1 pass, 0 fail, -1 skip. */
static void result(const char *name, int outcome, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void result(const char *name, int outcome, const char *fmt, ...)
{
	char detail[200];
	va_list ap;
	va_start(ap, fmt);
	kvsnprintf(detail, sizeof detail, fmt, ap);
	va_end(ap);
	if (outcome > 0)
		n_pass++;
	else if (outcome == 0)
		n_fail++;
	else
		n_skip++;
	kprintf("selftest: test=%s result=%s %s\n", name,
		outcome > 0 ? "pass" : outcome == 0 ? "fail" : "skip", detail);
}

void selftest_record(int outcome)
{
	if (outcome > 0)
		n_pass++;
	else if (outcome == 0)
		n_fail++;
	else
		n_skip++;
}

/* The error code as the five bits the report decodes. */
static const char *err_bits(uint64_t e, char *buf, size_t n)
{
	ksnprintf(buf, n, "P%u,W%u,U%u,R%u,I%u", !!(e & PF_ERR_P), !!(e & PF_ERR_W),
		  !!(e & PF_ERR_U), !!(e & PF_ERR_RSVD), !!(e & PF_ERR_I));
	return buf;
}

static bool streq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

/* True when rec is a #PF at cr2 with exactly the error code want and, when cause is not
 * NULL, the report named that cause. */
static bool pf_is(const fault_record *rec, uint64_t cr2, uint64_t want, const char *cause)
{
	return rec->hit && rec->vector == 14 && rec->cr2 == cr2 && rec->error == want &&
	       (!cause || streq(rec->cause, cause));
}

static void test_tour(tour_result t)
{
	result("tour", t.failed == 0 && t.passed > 0, "checks=%u failed=%u", t.passed + t.failed,
	       t.failed);
}

/* Map, write, unmap, read: the read must fault, which it only does if the unmap's
 * invalidation reached this CPU's TLB (the write loaded the entry). */
static void test_tlb(pg_space *s)
{
	frame_alloc *fa = kmem_frames();
	pg_paddr f, back;
	pg_size size;
	fault_record rec;
	uint64_t v;
	char eb[32];
	if (frame_alloc_4k(fa, &f) != PG_OK) {
		result("tlb-invalidate", 0, "no frame");
		return;
	}
	pg_err e1 = pg_map(s, pg_va(TEST_VA), f, PG_4K, PG_W, NULL);
	bool wrote = false;
	if (e1 == PG_OK) {
		*tour_ptr(TEST_VA) = 0x746c62746c62ull;
		wrote = *tour_ptr(TEST_VA) == 0x746c62746c62ull;
	}
	pg_err e2 = pg_unmap(s, pg_va(TEST_VA), &back, &size);
	bool done = fault_probe_read(TEST_VA, &v, &rec);
	frame_free_4k(fa, f);
	result("tlb-invalidate", e1 == PG_OK && wrote && e2 == PG_OK && !done &&
				 pf_is(&rec, TEST_VA, 0, "not-mapped"),
	       "map=%s write_read=%u unmap=%s faulted=%u cr2=%p error=%s cause=%s", pg_strerror(e1),
	       wrote, pg_strerror(e2), !done, (void *)rec.cr2, err_bits(rec.error, eb, sizeof eb),
	       rec.cause);
}

/* pg_protect to read-only: a write faults with present+write, a read still works. */
static void test_protect(pg_space *s)
{
	frame_alloc *fa = kmem_frames();
	pg_paddr f, back;
	pg_size size;
	fault_record rec, rrec;
	uint64_t v = 0;
	char eb[32];
	const uint64_t va = TEST_VA + 0x1000, a = 0x726561646f6e6c79ull;
	if (frame_alloc_4k(fa, &f) != PG_OK) {
		result("protect-read-only", 0, "no frame");
		return;
	}
	pg_err e1 = pg_map(s, pg_va(va), f, PG_4K, PG_W, NULL);
	if (e1 == PG_OK)
		*tour_ptr(va) = a;
	pg_err e2 = pg_protect(s, pg_va(va), 4096, 0);
	bool wrote = fault_probe_write(va, ~a, &rec);
	bool read = fault_probe_read(va, &v, &rrec);
	pg_unmap(s, pg_va(va), &back, &size);
	frame_free_4k(fa, f);
	result("protect-read-only", e1 == PG_OK && e2 == PG_OK && !wrote &&
				    pf_is(&rec, va, PF_ERR_P | PF_ERR_W, "write-to-read-only") &&
				    read && v == a,
	       "protect=%s write_faulted=%u error=%s cause=%s read_ok=%u value_kept=%u",
	       pg_strerror(e2), !wrote, err_bits(rec.error, eb, sizeof eb),
	       rec.cause, read, v == a);
}

/* RAM by the boot info's list: safe to read (a hole may be MMIO with side effects). */
static bool is_ram(uint64_t pa)
{
	int k = mem_list_kind_at(kmem_regions(), pa);
	return k >= 0 && k <= MEM_BOOT_INFO;
}

/* Splitting the physmap huge page around a frame keeps every sampled address at the same
 * physical address and readable; the frame's own contents are unchanged. The frame is the
 * first of a 2 MiB block: the physmap maps low memory with 4 KiB pages around the legacy
 * hole, so a single frame from the allocator may not lie under a huge page. */
static void test_split(pg_space *s)
{
	frame_alloc *fa = kmem_frames();
	pg_paddr f;
	pg_translation t0, t;
	uint64_t samples[12], phys[12], v;
	fault_record rec;
	if (frame_alloc_2m(fa, &f) != PG_OK) {
		result("split-physmap", 0, "no frame");
		return;
	}
	uint64_t fva = phys_to_virt(f.pa);
	volatile uint64_t *w = tour_ptr(fva);
	w[0] = 0x73706c6974303030ull;
	w[511] = 0x73706c6974353131ull;
	if (pg_translate(s, pg_va(fva), &t0) != PG_OK || t0.size == PG_4K) {
		frame_free_2m(fa, f);
		result("split-physmap", -1, "frame %p is not under a huge page", (void *)f.pa);
		return;
	}
	uint64_t span = pg_size_bytes(t0.size), hb = fva & ~(span - 1);
	unsigned n = 0;
	samples[n++] = hb;                /* both ends of the huge page */
	samples[n++] = hb + span - 8;
	samples[n++] = fva;               /* the frame's first and last word */
	samples[n++] = fva + 4088;
	for (unsigned k = 1; n < 12; k++) /* spread inside, off page boundaries */
		samples[n++] = hb + k * (span / 9) + k * 0x1238;
	for (unsigned i = 0; i < n; i++)
		phys[i] = pg_translate(s, pg_va(samples[i]), &t) == PG_OK ? t.phys.pa : ~0ull;
	pg_err e = pg_split(s, pg_va(hb));
	unsigned moved = 0, unreachable = 0, read = 0, smaller = 0;
	for (unsigned i = 0; i < n; i++) {
		pg_err te = pg_translate(s, pg_va(samples[i]), &t);
		moved += te != PG_OK || t.phys.pa != phys[i];
		smaller += te == PG_OK && t.size < t0.size;
		if (te == PG_OK && is_ram(t.phys.pa)) {
			read++;
			unreachable += !fault_probe_read(samples[i], &v, &rec);
		}
	}
	bool kept = w[0] == 0x73706c6974303030ull && w[511] == 0x73706c6974353131ull;
	frame_free_2m(fa, f);
	result("split-physmap", e == PG_OK && moved == 0 && smaller == n && unreachable == 0 &&
				read >= 4 && kept,
	       "page=%p size=%s split=%s samples=%u moved=%u now_smaller=%u read=%u unreachable=%u "
	       "contents_kept=%u", (void *)hb, pg_size_name(t0.size), pg_strerror(e), n, moved,
	       smaller, read, unreachable, kept);
}

static frame_alloc small;
static pg_paddr small_frames[512];

/* An allocator over one 2 MiB block: drained, it says NO_FRAMES and a map that needs
 * tables fails and leaves nothing; after frees both work again; a double free is refused. */
static void test_exhaustion(pg_space *s)
{
	frame_alloc *fa = kmem_frames();
	pg_paddr blk, back;
	pg_size size;
	mem_region r;
	if (frame_alloc_2m(fa, &blk) != PG_OK) {
		result("allocator-exhaustion", 0, "no 2 MiB block");
		return;
	}
	mem_region one = { blk.pa, 2u << 20, MEM_USABLE, 0 };
	mem_list l = { &one, 1, 1 };
	pg_err ei = frame_init(&small, &l, s->phys_offset, &r);
	unsigned n = 0;
	pg_err last = PG_OK;
	while (ei == PG_OK && n < 512 && (last = frame_alloc_4k(&small, &small_frames[n])) == PG_OK)
		n++;
	bool drained = ei == PG_OK && last == PG_ERR_NO_FRAMES && n == small.total_frames &&
		       frame_free_count(&small) == 0;
	pg_frames src = frame_source(&small), *real = s->frames;
	uint64_t before = tour_table_count(s);
	s->frames = &src;
	pg_err em1 = pg_map(s, pg_va(FRESH_SLOT), blk, PG_4K, 0, NULL);
	bool clean = tour_table_count(s) == before;
	unsigned freed = 0;
	for (unsigned i = 0; i < 3 && i < n; i++)
		freed += frame_free_4k(&small, small_frames[--n]) == PG_OK;
	pg_err em2 = pg_map(s, pg_va(FRESH_SLOT), blk, PG_4K, 0, NULL);
	pg_err eu = pg_unmap(s, pg_va(FRESH_SLOT), &back, &size);
	s->frames = real;
	pg_err ea = frame_alloc_4k(&small, &small_frames[n]);
	pg_err ed = ea == PG_OK ? frame_free_4k(&small, small_frames[n]) : ea;
	pg_err ed2 = frame_free_4k(&small, small_frames[n]);
	bool back_whole = frame_free_2m(fa, blk) == PG_OK;
	result("allocator-exhaustion", drained && em1 == PG_ERR_NO_FRAMES && clean && freed == 3 &&
				       em2 == PG_OK && eu == PG_OK && ea == PG_OK && ed == PG_OK &&
				       ed2 == PG_ERR_DOUBLE_FREE && back_whole,
	       "frames=%lu drained=%u map_when_empty=%s tables_unchanged=%u freed=%u "
	       "map_after_free=%s realloc=%s double_free=%s", (unsigned long)small.total_frames,
	       drained, pg_strerror(em1), clean, freed, pg_strerror(em2), pg_strerror(ea),
	       pg_strerror(ed2));
}

typedef struct {
	const boot_info *bi;
	bool nx;
	uint64_t runs, bytes, wx, user, below_10t, stray_low, exec_outside_text, example;
} audit;

static void audit_flag(const char *what, const pg_range *r)
{
	kprintf("selftest: audit %s virt=%p phys=%p bytes=%lu w=%u x=%u u=%u\n", what,
		(void *)r->virt.va, (void *)r->phys.pa, (unsigned long)r->length,
		!!(r->flags & PG_W), !!(r->flags & PG_X), !!(r->flags & PG_U));
}

/* pg_walk callback: counts every run that breaks a rule and names the first few. */
static bool audit_run(void *ctx, const pg_range *r)
{
	audit *a = ctx;
	uint64_t va = r->virt.va, end = va + r->length;
	a->runs++;
	a->bytes += r->length;
	if ((r->flags & PG_W) && (r->flags & PG_X) && a->wx++ < 4)
		audit_flag("writable+executable", r);
	if ((r->flags & PG_U) && a->user++ < 4)
		audit_flag("user", r);
	/* The example page first: with `boot --offset` above 14 TiB it lies below the physmap. */
	if (va == TOUR_EXAMPLE_PAGE && r->length == 4096)
		a->example++;
	else if (va < physmap_base && a->below_10t++ < 4)
		audit_flag("below-the-physmap", r);
	else if (va >= physmap_base && va < 0x0000800000000000ull &&
		 end > a->bi->physmap_end && a->stray_low++ < 4)
		audit_flag("lower-half-outside-physmap", r);
	if (a->nx && (r->flags & PG_X) &&
	    (va < (uint64_t)__kernel_start || end > (uint64_t)__rodata_start) &&
	    a->exec_outside_text++ < 4)
		audit_flag("executable-outside-text", r);
	return true;
}

/* The whole active address space: no W+X leaf, no user page, nothing below 10 TiB, only
 * the physmap and the tour's example page in the lower half, X only on kernel text. */
static void test_audit(const boot_info *bi, pg_space *s)
{
	audit a = { bi, s->has_nx, 0, 0, 0, 0, 0, 0, 0, 0 };
	pg_err e = pg_walk(s, pg_va(0), 0, audit_run, &a);
	result("audit", e == PG_OK && a.runs > 0 && !a.wx && !a.user && !a.below_10t &&
				!a.stray_low && !a.exec_outside_text && a.example == 1,
	       "walk=%s runs=%lu bytes=%lu wx=%lu user=%lu below_10t=%lu stray_low=%lu "
	       "exec_outside_text=%lu example_page=%lu", pg_strerror(e), (unsigned long)a.runs,
	       (unsigned long)a.bytes, (unsigned long)a.wx, (unsigned long)a.user,
	       (unsigned long)a.below_10t, (unsigned long)a.stray_low,
	       (unsigned long)a.exec_outside_text, (unsigned long)a.example);
}

/* The stack's guard page is unmapped and the stack itself is. */
static void test_guard(const boot_info *bi, const pg_space *s)
{
	pg_translation t;
	pg_err g = pg_translate(s, pg_va(bi->stack.virt - 4096), &t);
	pg_err top = pg_translate(s, pg_va(bi->stack.virt + bi->stack.length - 8), &t);
	pg_err low = pg_translate(s, pg_va(bi->stack.virt), &t);
	result("guard-page", g == PG_ERR_NOT_MAPPED && top == PG_OK && low == PG_OK,
	       "guard=%p guard_result=%s stack_low=%s stack_top=%s",
	       (void *)(bi->stack.virt - 4096), pg_strerror(g), pg_strerror(low), pg_strerror(top));
}

/* CR0.WP on the CPU: a supervisor write to kernel text faults (present+write). */
static void test_text_write(cpu_prot p)
{
	fault_record rec;
	char eb[32];
	uint64_t va = (uint64_t)(uintptr_t)&selftest_main, before = *tour_ptr(va);
	bool done = fault_probe_write(va, 0xcccccccccccccccc, &rec);
	bool kept = *tour_ptr(va) == before;
	const char *cause = rec.cause;
	result("cpu-text-write", p.wp && !done && kept &&
				 pf_is(&rec, va, PF_ERR_P | PF_ERR_W, "write-to-kernel-text"),
	       "wp=%u faulted=%u cr2=%p error=%s cause=%s text_unchanged=%u", p.wp, !done,
	       (void *)rec.cr2, err_bits(rec.error, eb, sizeof eb), cause, kept);
}

/* EFER.NXE on the CPU: a fetch from the physmap faults (present+fetch) though the byte
 * there is a `ret`, while calling a `ret` in kernel text returns. */
static void test_nx_fetch(const boot_info *bi, cpu_prot p)
{
	extern char probe_ret[];
	frame_alloc *fa = kmem_frames();
	fault_record rec, crec;
	pg_paddr f;
	char eb[32];
	if (!p.nxe || !(bi->cpu_features & BOOT_CPU_NX)) {
		result("cpu-nx-fetch", -1, "nxe=%u: this CPU has no NX", p.nxe);
		return;
	}
	if (frame_alloc_4k(fa, &f) != PG_OK) {
		result("cpu-nx-fetch", 0, "no frame");
		return;
	}
	uint64_t va = phys_to_virt(f.pa);
	*(volatile uint8_t *)tour_ptr(va) = 0xc3; /* ret */
	bool control = fault_probe_exec((uint64_t)(uintptr_t)probe_ret, &crec);
	bool done = fault_probe_exec(va, &rec);
	frame_free_4k(fa, f);
	result("cpu-nx-fetch",
	       control && !done && pf_is(&rec, va, PF_ERR_P | PF_ERR_I, "no-execute"),
	       "nxe=%u control_ret=%u faulted=%u cr2=%p error=%s cause=%s", p.nxe, control, !done,
	       (void *)rec.cr2, err_bits(rec.error, eb, sizeof eb), rec.cause);
}

/* The null page is unmapped: a read of 0 and a write near it fault as not-present. */
static void test_null(void)
{
	fault_record r, w;
	uint64_t v;
	char eb[32];
	bool read = fault_probe_read(0, &v, &r);
	bool wrote = fault_probe_write(8, 0, &w);
	result("cpu-null-read", !read && pf_is(&r, 0, 0, "null-dereference") && !wrote &&
				pf_is(&w, 8, PF_ERR_W, "null-dereference"),
	       "read_faulted=%u cr2=%p error=%s cause=%s write_faulted=%u write_error=0x%lx",
	       !read, (void *)r.cr2, err_bits(r.error, eb, sizeof eb),
	       r.cause, !wrote, (unsigned long)w.error);
}

/* SMEP and SMAP on the CPU, when on: a temporary user page (executable, holding `ret`)
 * can be neither fetched nor read by the kernel. */
static void test_smep_smap(pg_space *s, cpu_prot p)
{
	frame_alloc *fa = kmem_frames();
	pg_paddr f, back;
	pg_size size;
	fault_record x, r;
	uint64_t v;
	const uint64_t va = TEST_VA + 0x2000;
	if (!p.smep && !p.smap) {
		result("cpu-smep", -1, "smep=0: not offered by this CPU");
		result("cpu-smap", -1, "smap=0: not offered by this CPU");
		return;
	}
	if (frame_alloc_4k(fa, &f) != PG_OK) {
		result("cpu-smep-smap", 0, "no frame");
		return;
	}
	*(volatile uint8_t *)tour_ptr(phys_to_virt(f.pa)) = 0xc3;
	pg_err e = pg_map(s, pg_va(va), f, PG_4K, PG_U | PG_X, NULL);
	bool fetched = fault_probe_exec(va, &x);
	bool read = fault_probe_read(va, &v, &r);
	pg_err eu = pg_unmap(s, pg_va(va), &back, &size);
	frame_free_4k(fa, f);
	if (p.smep)
		result("cpu-smep", e == PG_OK && eu == PG_OK && !fetched &&
					   pf_is(&x, va, PF_ERR_P | PF_ERR_I, "smep"),
		       "faulted=%u error=0x%lx cause=%s", !fetched, (unsigned long)x.error, x.cause);
	else
		result("cpu-smep", -1, "smep=0: not offered by this CPU");
	if (p.smap)
		result("cpu-smap",
		       e == PG_OK && eu == PG_OK && !read && pf_is(&r, va, PF_ERR_P, "smap"),
		       "faulted=%u error=0x%lx cause=%s", !read, (unsigned long)r.error, r.cause);
	else
		result("cpu-smap", -1, "smap=0: not offered by this CPU");
}

/* Issue 7: every boot-reclaimable frame (boot services and loader memory, where the
 * firmware's GDT, IDT and tables lived) reused and overwritten; the kernel runs on. Last,
 * because it leaves the stage's check frames overwritten. */
static void test_reclaim(const boot_info *bi, pg_space *s)
{
	reclaim_result r = reclaim_run(bi, s);
	result("reclaim", reclaim_passed(&r),
	       "init=%s own_tables=%u frames=%lu drained=%u stray=%lu fault=%u paging=%u "
	       "mismatches=%lu all_free=%u", pg_strerror(r.init), r.own_tables,
	       (unsigned long)r.frames, r.drained, (unsigned long)r.stray, r.fault_ok,
	       r.paging_ok, (unsigned long)r.mismatches, r.all_free);
}

static void run_tests(const boot_info *bi, pg_space *s, tour_result tour)
{
	cpu_prot p = cpu_prot_read();
	kprintf("selftest: start cpu wp=%u nxe=%u smep=%u smap=%u umip=%u\n", p.wp, p.nxe, p.smep,
		p.smap, p.umip);
	fault_set_mode(FAULT_EXIT_FAIL);
	test_tour(tour);
	if (s->frames != kmem_source()) {
		result("frame-allocator", 0, "not attached; the paging tests cannot run");
	} else {
		test_tlb(s);
		test_protect(s);
		test_split(s);
		test_exhaustion(s);
		test_smep_smap(s, p);
	}
	test_guard(bi, s);
	test_text_write(p);
	test_nx_fetch(bi, p);
	test_null();
	test_audit(bi, s);
	result("memtype", memtype_audit(bi, NULL), "the memtype: line above");
	if (s->frames == kmem_source()) {
		result("smp", smp_selftest(), "the smp: lines above (stress, stale-read, latency)");
		user_selftest(); /* issue 14: heap, address spaces, user mode, recursive tables */
	}
	if (s->frames == kmem_source())
		test_reclaim(bi, s);
	kprintf("selftest: skipped=%u\n", n_skip);
	kprintf("selftest: %u passed, %u failed\n", n_pass, n_fail);
	uint8_t code = n_fail ? DEBUG_EXIT_FAIL : DEBUG_EXIT_PASS;
	kprintf("selftest: exit=0x%02x (qemu status %u)\n", code, (code << 1) | 1);
	debug_exit(code);
	kprintf("selftest: no isa-debug-exit device; halting\n");
	kprintf("kernel: halted\n");
	fbcon_flush();
	cpu_halt_forever();
}

/* The length of the word at w (up to a space or the end). */
static size_t word_len(const char *w)
{
	size_t n = 0;
	while (w[n] && w[n] != ' ')
		n++;
	return n;
}

static bool word_eq(const char *w, size_t n, const char *s)
{
	size_t i = 0;
	while (i < n && s[i] && w[i] == s[i])
		i++;
	return i == n && s[i] == '\0';
}

void selftest_main(const boot_info *bi, pg_space *s, tour_result tour)
{
	char name[32];
	for (const char *w = bi->cmdline; *w;) {
		size_t n = word_len(w);
		if (word_eq(w, n, "test"))
			run_tests(bi, s, tour);
		if (n > 6 && n - 6 < sizeof name && word_eq(w, 6, "drill=")) {
			for (size_t i = 6; i < n; i++)
				name[i - 6] = w[i];
			name[n - 6] = '\0';
			drill_run(bi, name);
		}
		w += n;
		while (*w == ' ')
			w++;
	}
}
