/* user_test.c - the boot demo of the heap, address spaces and user mode (the `heap:`,
 * `aspace:` and `user:` report lines) and their self-tests: one `check=pass|FAIL` line
 * each (or `skipped: cpu lacks X`), counted in the self-test's total. */
#include <stdarg.h>

#include "cpu.h"
#include "cpu_prot.h"
#include "fault.h"
#include "heap.h"
#include "kmem.h"
#include "kprintf.h"
#include "recursive.h"
#include "selftest.h"
#include "user.h"

static uint64_t free_frames(void) { return frame_free_count(kmem_frames()); }

/* Prints `FAMILY: DETAILS check=pass|FAIL` and counts it. */
static void check(const char *family, bool pass, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void check(const char *family, bool pass, const char *fmt, ...)
{
	char d[240];
	va_list ap;
	va_start(ap, fmt);
	kvsnprintf(d, sizeof d, fmt, ap);
	va_end(ap);
	kprintf("%s: %s check=%s\n", family, d, pass ? "pass" : "FAIL");
	selftest_record(pass ? 1 : 0);
}

static void skip(const char *family, const char *what, const char *lack)
{
	kprintf("%s: %s skipped: cpu lacks %s\n", family, what, lack);
	selftest_record(-1);
}

/* ---------------------------------------------------------------- boot demo */

/* Two processes, one virtual address, two frames: A, B, then A again (B's run must not
 * have changed what A sees). Returns true when each read its own value. */
static bool two_processes(uint64_t *st)
{
	process a, b;
	bool ok = process_create(&a, "value-a", 0x1111) == PG_OK &&
		  process_create(&b, "value-b", 0x2222) == PG_OK;
	if (ok) {
		process_run(&a, user_value);
		st[0] = a.status;
		process_run(&b, user_value);
		st[1] = b.status;
		a.faulted = false;
		process_run(&a, user_value);
		st[2] = a.status;
	}
	bool differ = a.data_frame.pa != b.data_frame.pa;
	process_destroy(&a, NULL, NULL);
	process_destroy(&b, NULL, NULL);
	return ok && differ && st[0] == 0x1111 && st[1] == 0x2222 && st[2] == 0x1111;
}

/* The heap at work once: small objects and a page run mapped on demand, then freed. */
static void heap_demo(void)
{
	const hc_heap *hc = heap_core();
	uint64_t f0 = free_frames();
	void *small[100];
	for (unsigned i = 0; i < 100; i++)
		small[i] = kmalloc(64);
	void *run = kcalloc(5, 4096);
	uint64_t mapped = hc->mapped_pages, live = hc->live_objects;
	for (unsigned i = 0; i < 100; i++)
		kfree(small[i]);
	kfree(run);
	kprintf("heap: demo kmalloc=100x64B kcalloc=20KiB live=%lu mapped_pages=%lu after_free "
		"mapped_pages=%lu frames_held=%lu errors=%lu\n", (unsigned long)live,
		(unsigned long)mapped, (unsigned long)hc->mapped_pages,
		(unsigned long)(f0 - free_frames()), (unsigned long)hc->errors);
}

void user_boot(void)
{
	heap_demo();
	heap_report();
	aspace_init();
	user_init();
	uint64_t before = free_frames(), st[3] = { 0 }, uf = 0, tf = 0;
	bool two = two_processes(st);
	process h;
	pg_err e = process_create(&h, "hello", 0);
	if (e == PG_OK)
		process_run(&h, user_hello);
	process_destroy(&h, &uf, &tf);
	const aspace_info *ai = aspace_info_get();
	kprintf("user: processes=3 same_va=%p values=0x%lx,0x%lx,0x%lx own_values=%s "
		"hello_exit=0x%lx hello_lines=%u refused_pointers=%u\n", (void *)USER_DATA,
		(unsigned long)st[0], (unsigned long)st[1], (unsigned long)st[2], two ? "yes" : "no",
		(unsigned long)h.status, h.lines, h.bad_pointers);
	kprintf("aspace: created=%lu destroyed=%lu switches=%lu pcid_flushes=%lu "
		"last_user_frames=%lu last_table_frames=%lu frames_back=%s\n",
		(unsigned long)ai->created, (unsigned long)ai->destroyed,
		(unsigned long)ai->switches, (unsigned long)ai->flushes, (unsigned long)uf,
		(unsigned long)tf, free_frames() == before ? "all" : "MISSING");
}

/* ---------------------------------------------------------------- heap checks */

/* Table frames of the kernel's space. */
static uint64_t tables(void)
{
	uint64_t c[5];
	pg_count_tables(kmem_space(), c);
	return c[0] + c[1] + c[2] + c[3] + c[4];
}

static void heap_checks(void)
{
	const hc_heap *hc = heap_core();
	uint64_t f0 = free_frames(), m0 = hc->mapped_pages, t0 = tables();
	/* classes and alignment: every block aligned and writable, all back afterwards */
	void *p[48];
	unsigned n = 0, misaligned = 0;
	for (size_t size = 1; size <= 8192 && n < 48; size = size * 2 + 3) {
		size_t align = (size_t)1 << (n % 13);
		p[n] = kmalloc_aligned(size, align);
		if (!p[n] || ((uintptr_t)p[n] & (align - 1)))
			misaligned++;
		else
			for (size_t i = 0; i < size; i++)
				((volatile uint8_t *)p[n])[i] = (uint8_t)i;
		n++;
	}
	bool grew = hc->mapped_pages > m0 && free_frames() < f0;
	for (unsigned i = 0; i < n; i++)
		kfree(p[i]);
	check("heap", misaligned == 0 && grew && hc_check(hc),
	      "classes blocks=%u misaligned=%u grew=%u consistent=%u", n, misaligned, grew,
	      hc_check(hc));
	/* a large block maps its pages on demand and gives the frames back */
	uint64_t f1 = free_frames(), m1 = hc->mapped_pages;
	uint8_t *big = kmalloc(256 * 1024);
	uint64_t mapped_big = hc->mapped_pages - m1, taken = f1 - free_frames();
	if (big)
		big[0] = big[256 * 1024 - 1] = 0x5a;
	kfree(big);
	check("heap", big && mapped_big == 64 && taken >= 64 && free_frames() == f1 &&
			      hc->mapped_pages == m1,
	      "grow-shrink bytes=262144 pages_mapped=%lu frames_taken=%lu frames_back=%u",
	      (unsigned long)mapped_big, (unsigned long)taken, free_frames() == f1);
	/* bad requests: clear errors, nothing changed */
	uint64_t live = hc->live_objects, errs = hc->errors;
	bool z = !kmalloc(0) && heap_last_error() == HC_ERR_ZERO;
	bool ov = !kcalloc((size_t)1 << 62, 8) && heap_last_error() == HC_ERR_OVERFLOW;
	bool tb = !kmalloc((size_t)1 << 40) && heap_last_error() == HC_ERR_TOO_BIG;
	bool al = !kmalloc_aligned(64, 48) && heap_last_error() == HC_ERR_ALIGN;
	uint8_t *q = kmalloc(100);
	kfree(q);
	kfree(q);
	bool dbl = heap_last_error() == HC_ERR_DOUBLE_FREE;
	uint8_t *r = kmalloc(100);
	kfree(r + 8);
	bool foreign = heap_last_error() == HC_ERR_FOREIGN;
	int local;
	kfree(&local);
	foreign = foreign && heap_last_error() == HC_ERR_FOREIGN;
	bool still = hc_usable(hc, r) == 128;
	kfree(r);
	check("heap", z && ov && tb && al && dbl && foreign && still &&
			      hc->live_objects == live && hc->errors == errs + 7,
	      "errors zero=%u overflow=%u too_big=%u alignment=%u double_free=%u foreign=%u "
	      "block_kept=%u", z, ov, tb, al, dbl, foreign, still);
	/* the guard page after the region is never mapped: a touch faults */
	fault_record rec;
	uint64_t v;
	bool done = fault_probe_read(HEAP_GUARD, &v, &rec);
	check("heap", !done && rec.hit && rec.vector == 14 && rec.cr2 == HEAP_GUARD &&
			      !(rec.error & PF_ERR_P),
	      "guard page=%p faulted=%u error=0x%lx", (void *)HEAP_GUARD, !done,
	      (unsigned long)rec.error);
	uint64_t t1 = tables(), held = f0 - free_frames();
	check("heap", held == (hc->mapped_pages - m0) + (t1 - t0),
	      "frames accounted pages_kept=%lu new_tables=%lu frames_held=%lu",
	      (unsigned long)(hc->mapped_pages - m0), (unsigned long)(t1 - t0),
	      (unsigned long)held);
}

/* ---------------------------------------------------------------- address spaces */

static void aspace_checks(void)
{
	const pg_space *k = kmem_space();
	uint64_t f0 = free_frames(), uf = 0, tf = 0;
	process p;
	pg_err e = process_create(&p, "aspace", 0x77);
	const uint64_t *kr = pg_table(k, k->root), *ur = pg_table(&p.as.s, p.as.s.root);
	unsigned same = 0, present = 0;
	for (unsigned i = 256; i < 512; i++) {
		same += (kr[i] & ~(0x3ffull << 52)) == ur[i];
		present += (kr[i] & 1) != 0;
	}
	pg_translation t;
	bool user_u = pg_translate(&p.as.s, pg_va(USER_CODE), &t) == PG_OK && (t.flags & PG_U) &&
		      !(t.flags & PG_W);
	bool data_u = pg_translate(&p.as.s, pg_va(USER_DATA), &t) == PG_OK && (t.flags & PG_U) &&
		      (t.flags & PG_W) && (!k->has_nx || !(t.flags & PG_X));
	bool not_in_kernel = pg_translate(k, pg_va(USER_CODE), &t) == PG_ERR_NOT_MAPPED;
	bool physmap = pg_translate(&p.as.s, pg_va(phys_to_virt(p.data_frame.pa)), &t) == PG_OK &&
		       t.phys.pa == p.data_frame.pa && !(t.flags & PG_U);
	check("aspace", e == PG_OK && same == 256 && present > 0 && user_u && data_u &&
				not_in_kernel && physmap,
	      "create result=%s kernel_half_shared=%u/256 kernel_present=%u user_code_u=%u "
	      "user_data_u_nx=%u absent_from_kernel=%u physmap_shared=%u", pg_strerror(e), same,
	      present, user_u, data_u, not_in_kernel, physmap);
	/* the kernel runs on in the user space: switch, read the data page with stac, back */
	aspace_switch(&p.as);
	uint64_t cr3 = read_cr3();
	const aspace_info *ai = aspace_info_get();
	bool cr3_ok = (cr3 & 0x000ffffffffff000ull) == p.as.s.root.pa &&
		      (cr3 & 0xfff) == (ai->pcide ? p.as.pcid : 0);
	aspace_switch(NULL);
	check("aspace", cr3_ok && (read_cr3() & 0x000ffffffffff000ull) == k->root.pa,
	      "switch cr3=%p pcid=%u back_to_kernel=%u", (void *)cr3, p.as.pcid,
	      (read_cr3() & 0x000ffffffffff000ull) == k->root.pa);
	process_destroy(&p, &uf, &tf);
	check("aspace", uf == 3 && tf >= 4 && free_frames() == f0,
	      "destroy user_frames=%lu table_frames=%lu free_before=%lu free_after=%lu "
	      "every_frame_back=%s", (unsigned long)uf, (unsigned long)tf, (unsigned long)f0,
	      (unsigned long)free_frames(), free_frames() == f0 ? "yes" : "no");
	if (!ai->pcide) {
		skip("aspace", "pcid", "pcid");
		return;
	}
	/* A PCID reused after its space was destroyed is flushed before use. */
	uint64_t fl = ai->flushes;
	process x, y;
	process_create(&x, "pcid-x", 1);
	aspace_switch(&x.as);
	aspace_switch(NULL);
	uint16_t id = x.as.pcid;
	process_destroy(&x, NULL, NULL);
	aspace_set_next_pcid(id);
	process_create(&y, "pcid-y", 2);
	aspace_switch(&y.as);
	uint64_t got = 0;
	if (read_cr4() & CR4_SMAP)
		__asm__ volatile("stac" ::: "memory");
	got = *(volatile uint64_t *)USER_DATA;
	if (read_cr4() & CR4_SMAP)
		__asm__ volatile("clac" ::: "memory");
	aspace_switch(NULL);
	bool reused = y.as.pcid == id;
	process_destroy(&y, NULL, NULL);
	check("aspace", reused && ai->flushes == fl + 1 && got == 2,
	      "pcid reuse pcid=%u flushed=%lu via=%s value_seen=%lu", id,
	      (unsigned long)(ai->flushes - fl), ai->invpcid ? "invpcid" : "cr3-without-noflush",
	      (unsigned long)got);
}

/* ---------------------------------------------------------------- user mode */

/* Runs entry in a fresh process; true when it faulted with vector, error and cr2, and
 * every frame of its space came back. */
static void fault_case(const char *what, const void *entry, uint64_t vector, uint64_t error,
		       uint64_t cr2)
{
	uint64_t f0 = free_frames();
	process p;
	pg_err e = process_create(&p, what, 0);
	if (e == PG_OK)
		process_run(&p, entry);
	process_destroy(&p, NULL, NULL);
	check("user", e == PG_OK && p.faulted && p.vector == vector && p.error == error &&
			      p.cr2 == cr2 && free_frames() == f0,
	      "fault %s vector=%lu error=0x%lx cr2=%p ended=%u frames_back=%u", what,
	      (unsigned long)p.vector, (unsigned long)p.error, (void *)p.cr2, p.faulted,
	      free_frames() == f0);
}

static void user_checks(void)
{
	cpu_prot cp = cpu_prot_read();
	uint64_t st[3] = { 0 };
	bool two = two_processes(st);
	check("user", two, "two-processes va=%p values=0x%lx,0x%lx,0x%lx", (void *)USER_DATA,
	      (unsigned long)st[0], (unsigned long)st[1], (unsigned long)st[2]);
	process h;
	pg_err e = process_create(&h, "hello", 0);
	if (e == PG_OK)
		process_run(&h, user_hello);
	process_destroy(&h, NULL, NULL);
	check("user", e == PG_OK && !h.faulted && h.status == 0 && h.lines == 1 &&
			      h.bad_pointers == 4,
	      "syscalls write+map+exit exit=0x%lx lines=%u refused_pointers=%u",
	      (unsigned long)h.status, h.lines, h.bad_pointers);
	fault_case("read-kernel-page", user_read_kernel, 14, PF_ERR_P | PF_ERR_U,
		   0xffffffff80000000ull);
	if (kmem_space()->has_nx)
		fault_case("exec-user-data", user_exec_data, 14, PF_ERR_P | PF_ERR_U | PF_ERR_I,
			   USER_DATA);
	else
		skip("user", "fault exec-user-data", "nx");
	fault_case("write-read-only", user_write_ro, 14, PF_ERR_P | PF_ERR_W | PF_ERR_U,
		   USER_CODE);
	if (cp.umip)
		fault_case("sgdt-umip", user_sgdt, 13, 0, 0);
	else
		skip("user", "fault sgdt-umip", "umip");
	fault_case("outside-map", user_outside, 14, PF_ERR_U, 0x7f0000000ull);
	/* Ring 3 may set EFLAGS.AC and then fault; exception delivery does not clear AC, and
	 * with AC set SMAP lets the kernel read user pages (SDM vol. 3A, 4.6): the kernel must
	 * come back with AC clear (the SMAP probe below would not fault otherwise). */
	fault_case("ac-then-ud2", user_ac_ud2, 6, 0, 0);
	uint64_t rflags;
	__asm__ volatile("pushfq; popq %0" : "=r"(rflags));
	check("user", !(rflags & (1ull << 18)), "ring3-ac-does-not-reach-kernel ac=%u",
	      (unsigned)((rflags >> 18) & 1));

	/* From ring 0 in a user space: fetch from a user page (SMEP), read one (SMAP). */
	process p;
	fault_record x, r;
	uint64_t v = 0;
	e = process_create(&p, "smep-smap", 0x5a5a);
	aspace_switch(&p.as);
	bool fetched = cp.smep ? fault_probe_exec(USER_CODE, &x) : true;
	bool read = cp.smap ? fault_probe_read(USER_DATA, &v, &r) : true;
	aspace_switch(NULL);
	process_destroy(&p, NULL, NULL);
	if (cp.smep)
		check("user", e == PG_OK && !fetched && x.vector == 14 && x.cr2 == USER_CODE &&
				      x.error == (PF_ERR_P | PF_ERR_I),
		      "kernel-exec-user-page faulted=%u error=0x%lx (smep)", !fetched,
		      (unsigned long)x.error);
	else
		skip("user", "kernel-exec-user-page", "smep");
	if (cp.smap)
		check("user", e == PG_OK && !read && r.vector == 14 && r.cr2 == USER_DATA &&
				      r.error == PF_ERR_P,
		      "kernel-read-user-page-without-stac faulted=%u error=0x%lx (smap)", !read,
		      (unsigned long)r.error);
	else
		skip("user", "kernel-read-user-page-without-stac", "smap");
}

void user_selftest(void)
{
	heap_checks();
	uint64_t f0 = free_frames(); /* after the heap's checks: its spare pages stay mapped */
	aspace_checks();
	user_checks();
	recursive_run() ? selftest_record(1) : selftest_record(0);
	const hc_heap *hc = heap_core();
	const aspace_info *ai = aspace_info_get();
	check("aspace", ai->created == ai->destroyed && free_frames() == f0,
	      "all created=%lu destroyed=%lu frames_before=%lu frames_after=%lu "
	      "every_frame_back=%s (heap pages held=%lu)", (unsigned long)ai->created,
	      (unsigned long)ai->destroyed, (unsigned long)f0, (unsigned long)free_frames(),
	      free_frames() == f0 ? "yes" : "no", (unsigned long)hc->mapped_pages);
}
