/* smp_test.c - the self-test mode's proof of the shootdown (issue 15): every CPU maps,
 * unmaps, protects and translates at once in shared and private ranges; a stale-read
 * checker in which one CPU remaps a page another CPU has just read through; and the
 * latency of one shootdown to 1, 2 and 4 CPUs. */
#include "smp.h"

#include "cpu.h"
#include "kmem.h"
#include "kprintf.h"

#define SHARED_VA   SMP_TEST_VA                   /* SHARED_PAGES pages all CPUs fight over */
#define SHARED_PAGES 128
#define PRIVATE_VA  (SMP_TEST_VA + 0x10000000ull) /* 2 MiB per CPU, PRIVATE_PAGES used */
#define PRIVATE_PAGES 64
#define CHECK_VA    (SMP_TEST_VA + 0x20000000ull) /* the stale-read checker's page P */
#define STRESS_MS   1500
#define CHECK_ROUNDS 100                           /* x3, shared among the pairs */

typedef struct {
	uint64_t ops, map, unmap, protect, translate, errors, first_error;
} stress_count;

static stress_count counts[SMP_MAX_CPUS];
static volatile uint64_t stress_end;

static uint64_t next_rand(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static volatile uint64_t *via_physmap(uint64_t pa)
{
	return (volatile uint64_t *)(uintptr_t)phys_to_virt(pa);
}

static void bad(stress_count *n, uint64_t what)
{
	if (!n->errors++)
		n->first_error = what;
}

/* One private page: map a fresh frame (the CPU must then read the frame's value through
 * it, not an old one), or make it read-only and back (translate must follow), or unmap it
 * (translate must then say not mapped). */
static void private_op(unsigned cpu, stress_count *n, uint64_t *frame, unsigned k, unsigned op)
{
	uint64_t va = PRIVATE_VA + cpu * 0x200000ull + k * 4096ull, tag;
	pg_mapping m;
	if (!frame[k]) {
		if (kmem_frame_alloc(&frame[k]) != PG_OK)
			return bad(n, 1);
		tag = frame[k] ^ va ^ n->ops;
		*via_physmap(frame[k]) = tag;
		if (kmem_map(va, frame[k], PG_W) != PG_OK)
			return bad(n, 2);
		n->map++;
		if (*(volatile uint64_t *)va != tag)
			return bad(n, 3);
		*(volatile uint64_t *)va = ~tag;
		if (*via_physmap(frame[k]) != ~tag)
			return bad(n, 4);
	} else if (op == 0) {
		if (kmem_protect(va, 4096, 0) != PG_OK || kmem_translate(va, &m) != PG_OK ||
		    (m.flags & PG_W) || m.phys.pa != frame[k])
			return bad(n, 5);
		if (*(volatile uint64_t *)va != *via_physmap(frame[k]))
			return bad(n, 6);
		if (kmem_protect(va, 4096, PG_W) != PG_OK)
			return bad(n, 7);
		n->protect += 2;
		n->translate++;
	} else {
		if (kmem_unmap_free(va) != PG_OK)
			return bad(n, 8);
		frame[k] = 0;
		n->unmap++;
		if (kmem_translate(va, &m) != PG_ERR_NOT_MAPPED)
			return bad(n, 9);
		n->translate++;
	}
}

/* One shared page: whoever wins maps it, anyone may unmap, protect or translate it; the
 * losers' answers (already mapped, not mapped) are the expected ones. */
static void shared_op(stress_count *n, unsigned k, unsigned op, bool w)
{
	uint64_t va = SHARED_VA + k * 4096ull, f;
	pg_mapping m;
	pg_err e;
	switch (op) {
	case 4:
		if (kmem_frame_alloc(&f) != PG_OK)
			return bad(n, 10);
		e = kmem_map(va, f, PG_W);
		if (e == PG_ERR_ALREADY_MAPPED)
			kmem_frame_free(f);
		else if (e != PG_OK)
			return bad(n, 11);
		n->map++;
		break;
	case 5:
		e = kmem_unmap_free(va);
		if (e != PG_OK && e != PG_ERR_NOT_MAPPED)
			return bad(n, 12);
		n->unmap++;
		break;
	case 6:
		e = kmem_protect(va, 4096, w ? PG_W : 0);
		if (e != PG_OK && e != PG_ERR_NOT_MAPPED)
			return bad(n, 13);
		n->protect++;
		break;
	default:
		e = kmem_translate(va, &m);
		if (e != PG_OK && e != PG_ERR_NOT_MAPPED)
			return bad(n, 14);
		n->translate++;
	}
}

static void stress(unsigned cpu)
{
	stress_count *n = &counts[cpu];
	uint64_t frame[PRIVATE_PAGES] = { 0 }, x = 0x9e3779b97f4a7c15ull * (cpu + 1);
	while (rdtsc() < stress_end) {
		uint64_t r = next_rand(&x);
		unsigned op = r & 7;
		if (op < 4)
			private_op(cpu, n, frame, (unsigned)(r >> 8) % PRIVATE_PAGES, op);
		else
			shared_op(n, (unsigned)(r >> 16) % SHARED_PAGES, op, (r >> 40) & 1);
		n->ops++;
	}
	for (unsigned k = 0; k < PRIVATE_PAGES; k++)
		if (frame[k] && kmem_unmap_free(PRIVATE_VA + cpu * 0x200000ull + k * 4096ull) != PG_OK)
			bad(n, 15);
}

static bool run_stress(void)
{
	uint64_t free_before = frame_free_count(kmem_frames());
	smp_stats s0 = smp_stats_read();
	uint64_t t0 = rdtsc();
	stress_end = t0 + STRESS_MS * 1000ull * smp_tsc_per_us();
	smp_run_all(stress, true);
	for (unsigned k = 0; k < SHARED_PAGES; k++)
		kmem_unmap_free(SHARED_VA + k * 4096ull);
	uint64_t ms = (rdtsc() - t0) / smp_tsc_per_us() / 1000;
	smp_stats s1 = smp_stats_read();
	stress_count t = { 0 };
	for (unsigned c = 0; c < SMP_MAX_CPUS; c++) {
		if (!counts[c].ops)
			continue;
		kprintf("smp: stress cpu=%u ops=%lu errors=%lu first_error=%lu\n", c,
			(unsigned long)counts[c].ops, (unsigned long)counts[c].errors,
			(unsigned long)counts[c].first_error);
		t.ops += counts[c].ops, t.map += counts[c].map, t.unmap += counts[c].unmap;
		t.protect += counts[c].protect, t.translate += counts[c].translate;
		t.errors += counts[c].errors;
	}
	int64_t leaked = (int64_t)(free_before - frame_free_count(kmem_frames()));
	bool ok = t.errors == 0 && leaked == 0 && t.ops > 0;
	kprintf("smp: stress cpus=%u ms=%lu ops=%lu map=%lu unmap=%lu protect=%lu translate=%lu "
		"shootdowns=%lu ipis=%lu full=%lu errors=%lu frames_leaked=%ld check=%s\n",
		smp_online(), (unsigned long)ms, (unsigned long)t.ops, (unsigned long)t.map,
		(unsigned long)t.unmap, (unsigned long)t.protect, (unsigned long)t.translate,
		(unsigned long)(s1.shootdowns - s0.shootdowns), (unsigned long)(s1.ipis - s0.ipis),
		(unsigned long)(s1.full - s0.full), (unsigned long)t.errors, (long)leaked,
		ok ? "pass" : "FAIL");
	return ok;
}

/* The stale-read checker, on every ordered pair of online CPUs (A writes, B reads). Per
 * round: A maps P to F1 holding v1; B reads v1 through P, which loads its TLB; A unmaps P,
 * puts v2 in F2 and maps P to F2; B reads through P again and must see v2. Seeing v1 means
 * B read F1 through a translation A's unmap should have shot down. */
static volatile uint64_t seq, seen;
static volatile bool aborted;
static uint64_t f1, f2, first_value;
static unsigned stale, rounds_done, rounds_full, pair_rounds, first_reader, first_writer;
static unsigned cur_reader;

/* Odd rounds unmap P in a batch that also names 64 neighbouring pages, as a range
 * operation would: past SMP_FULL_FLUSH_PAGES, so the targets flush everything. */
static pg_err unmap_p(unsigned r)
{
	if (!(r & 1))
		return kmem_unmap(CHECK_VA, NULL);
	pg_paddr f;
	pg_size size;
	kmem_lock();
	pg_err e = pg_unmap(kmem_space(), pg_va(CHECK_VA), &f, &size);
	kmem_flush(NULL, pg_va(CHECK_VA + 4096), 64 * 4096);
	kmem_unlock();
	rounds_full++;
	return e;
}

static uint64_t v1(unsigned r) { return 0xF1F1F1F100000000ull | r; }
static uint64_t v2(unsigned r) { return 0xF2F2F2F200000000ull | r; }

static bool wait_seq(uint64_t want)
{
	while (__atomic_load_n(&seq, __ATOMIC_ACQUIRE) != want)
		if (aborted)
			return false;
		else
			smp_relax();
	return true;
}

static void reader(unsigned cpu)
{
	(void)cpu;
	for (unsigned r = 0; r < pair_rounds; r++) {
		if (!wait_seq(4ull * r + 1))
			return;
		seen = *(volatile uint64_t *)CHECK_VA;
		__atomic_store_n(&seq, 4ull * r + 2, __ATOMIC_RELEASE);
		if (!wait_seq(4ull * r + 3))
			return;
		seen = *(volatile uint64_t *)CHECK_VA;
		__atomic_store_n(&seq, 4ull * r + 4, __ATOMIC_RELEASE);
	}
}

static bool writer_rounds(unsigned cpu)
{
	for (unsigned r = 0; r < pair_rounds; r++) {
		*via_physmap(f1) = v1(r);
		*via_physmap(f2) = 0;
		if (kmem_map(CHECK_VA, f1, PG_W) != PG_OK)
			return false;
		__atomic_store_n(&seq, 4ull * r + 1, __ATOMIC_RELEASE);
		wait_seq(4ull * r + 2);
		uint64_t first = seen;
		if (unmap_p(r) != PG_OK)
			return false;
		*via_physmap(f2) = v2(r);
		if (kmem_map(CHECK_VA, f2, PG_W) != PG_OK)
			return false;
		__atomic_store_n(&seq, 4ull * r + 3, __ATOMIC_RELEASE);
		wait_seq(4ull * r + 4);
		if ((first != v1(r) || seen != v2(r)) && !stale++) {
			first_writer = cpu;
			first_reader = cur_reader;
			first_value = first != v1(r) ? first : seen;
		}
		rounds_done++;
		if (kmem_unmap(CHECK_VA, NULL) != PG_OK)
			return false;
	}
	return true;
}

static void writer(unsigned cpu)
{
	if (!writer_rounds(cpu))
		aborted = true;
}

/* One pair: each side runs on its CPU, the boot CPU's side (if any) right here. */
static void run_pair(unsigned a, unsigned b)
{
	unsigned me = smp_me();
	seq = 0;
	cur_reader = b;
	if (b != me)
		smp_post(b, reader);
	if (a != me)
		smp_post(a, writer);
	if (a == me)
		writer(a);
	if (b == me)
		reader(b);
	smp_wait(a);
	smp_wait(b);
}

static bool run_checker(void)
{
	unsigned n = smp_online(), pairs = n * (n - 1), cpu[SMP_MAX_CPUS], k = 0;
	for (unsigned c = 0; c < SMP_MAX_CPUS; c++)
		if (smp_online_mask() & (1ull << c))
			cpu[k++] = c;
	pair_rounds = (3 * CHECK_ROUNDS + pairs - 1) / pairs;
	bool ok = kmem_frame_alloc(&f1) == PG_OK && kmem_frame_alloc(&f2) == PG_OK;
	uint64_t f = irq_save();
	__asm__ volatile("sti" ::: "memory");
	for (unsigned i = 0; ok && i < k; i++)
		for (unsigned j = 0; !aborted && j < k; j++)
			if (i != j)
				run_pair(cpu[i], cpu[j]);
	irq_restore(f);
	kmem_frame_free(f1);
	kmem_frame_free(f2);
	ok &= !aborted;
	if (stale)
		kprintf("smp: stale-read first writer=%u reader=%u read=0x%016lx (F1 holds "
			"0xf1f1f1f1...)\n", first_writer, first_reader, (unsigned long)first_value);
	bool pass = ok && stale == 0 && rounds_done > 0;
	kprintf("smp: stale-read pairs=%u rounds_per_pair=%u rounds_full_flush=%u aborted=%u\n",
		pairs, pair_rounds, rounds_full, aborted);
	kprintf("smp: stale-read checker rounds=%u stale=%u check=%s\n", rounds_done, stale,
		pass ? "pass" : "FAIL");
	return pass;
}

/* The median TSC time of one single-page shootdown to the first k online CPUs. */
static void latency(unsigned k)
{
	enum { N = 31 };
	uint64_t t[N], mask = 0;
	unsigned have = 0;
	for (unsigned c = 0; c < SMP_MAX_CPUS && have < k; c++)
		if (smp_online_mask() & (1ull << c))
			mask |= 1ull << c, have++;
	smp_range r = { CHECK_VA, 4096 };
	for (int i = 0; i < N; i++) {
		uint64_t t0 = rdtsc();
		smp_shootdown(&r, 1, false, mask);
		t[i] = rdtsc() - t0;
	}
	for (int i = 1; i < N; i++) /* insertion sort: 31 samples */
		for (int j = i; j > 0 && t[j - 1] > t[j]; j--) {
			uint64_t tmp = t[j];
			t[j] = t[j - 1];
			t[j - 1] = tmp;
		}
	uint64_t ns = t[N / 2] * 1000 / smp_tsc_per_us();
	kprintf("smp: shootdown_us cpus=%u median=%lu.%03lu samples=%d\n", k,
		(unsigned long)(ns / 1000), (unsigned long)(ns % 1000), N);
}

int smp_selftest(void)
{
	unsigned n = smp_online();
	bool ok = run_stress();
	if (n > 1)
		ok &= run_checker();
	else
		kprintf("smp: stale-read checker rounds=0 stale=0 check=skip (one CPU)\n");
	for (unsigned k = 1; k <= n && k <= 4; k *= 2)
		latency(k);
	if (n > 4)
		latency(n);
	return ok ? 1 : 0;
}
