/* smp.c - SMP bring-up and the TLB shootdown. The boot CPU reads the MADT, then starts the
 * APs one at a time: INIT, SIPI, SIPI to the trampoline page, each AP waiting to be named
 * in the trampoline's fields before it goes on. A started AP loads its own GDT and TSS and
 * the shared IDT, copies the boot CPU's protections and PAT, says it is online and idles
 * in hlt with interrupts on, waiting for shootdowns and jobs. */
#include "smp.h"
#include "percpu.h"

#include "acpi.h"
#include "cpu.h"
#include "cpu_prot.h"
#include "gdt.h"
#include "idt.h"
#include "kmem.h"
#include "kprintf.h"
#include "mtrr.h"
#include "pat.h"
#include "region.h"

#define APIC_BASE_EN    (1ull << 11)
#define APIC_BASE_EXTD  (1ull << 10)
#define CPUID1_X2APIC   (1u << 21)

/* Local APIC registers (xAPIC offsets; x2APIC MSR = 0x800 + offset / 16). */
#define LAPIC_ID    0x020
#define LAPIC_EOI   0x0B0
#define LAPIC_SVR   0x0F0
#define LAPIC_ICRLO 0x300
#define LAPIC_ICRHI 0x310
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_LVT_ERROR 0x370
#define ICR_PENDING (1u << 12)
#define ICR_ASSERT  (1u << 14)
#define ICR_INIT    (5u << 8)
#define ICR_SIPI    (6u << 8)


/* Per CPU. It opens with the block percpu.h describes (its self at %gs:0), so the syscall
 * path and smp_me() share one GS base; smp_me() is one load. */
typedef struct smp_cpu {
	cpu_local local;
	unsigned index;
	uint32_t apic_id;
	volatile uint32_t state;          /* 0 absent, 1 in C, 2 online */
	uint64_t stack_top, guard;
	uint64_t gdt[GDT_ENTRIES];
	tss64 tss;
	cpu_prot prot;
	uint64_t pat, cr4;
	bool mtrr_copied, mtrr_same;
	void (*volatile job)(unsigned cpu);
} smp_cpu;

static smp_cpu cpus[SMP_MAX_CPUS];
static uint8_t ist_stacks[SMP_MAX_CPUS][2][8192] __attribute__((aligned(16)));
static unsigned ncpus = 1, nonline = 1;
static volatile uint64_t online_mask = 1;
static bool gs_ready, x2apic;
static volatile uint32_t *lapic;
static uint64_t tsc_per_us = 1000;
static struct __attribute__((packed)) { uint16_t limit; uint64_t base; } shared_idtr;
static uint64_t bsp_cr0, bsp_cr4, bsp_efer, bsp_pat;
static mtrr_state bsp_mtrr;
static unsigned phys_bits;

/* The posted shootdown: one at a time, under sd_lock. */
static struct {
	volatile uint32_t lock;
	smp_range r[SMP_BATCH_RANGES];
	unsigned n;
	bool full;
	volatile uint64_t pending; /* CPUs yet to acknowledge */
	volatile int sleeper;      /* the initiator, halted until the last ack wakes it; -1 */
} sd = { .sleeper = -1 };
static smp_stats stats;

unsigned smp_me(void)
{
	unsigned v;
	if (!gs_ready)
		return 0;
	__asm__ volatile("movl %%gs:%c1, %0" : "=r"(v) : "i"(__builtin_offsetof(smp_cpu, index)));
	return v;
}

unsigned smp_online(void) { return nonline; }
uint64_t smp_online_mask(void) { return online_mask; }
uint64_t smp_tsc_per_us(void) { return tsc_per_us; }
smp_stats smp_stats_read(void) { return stats; }

_Static_assert(__builtin_offsetof(smp_cpu, local) == 0, "GS base is the cpu_local block");

/* ---- local APIC */

static uint32_t lapic_read(unsigned reg)
{
	return x2apic ? (uint32_t)rdmsr(0x800u + (reg >> 4)) : lapic[reg / 4];
}

static void lapic_write(unsigned reg, uint32_t v)
{
	if (x2apic)
		wrmsr(0x800u + (reg >> 4), v);
	else
		lapic[reg / 4] = v;
}

static uint32_t lapic_id(void)
{
	uint32_t id = lapic_read(LAPIC_ID);
	return x2apic ? id : id >> 24;
}

static void lapic_icr(uint32_t dest, uint32_t cmd)
{
	if (x2apic) {
		/* WRMSR to the x2APIC is not serializing: earlier stores (the posted
		 * shootdown) must be visible before the IPI lands. */
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		wrmsr(0x830u, (uint64_t)dest << 32 | cmd);
		return;
	}
	uint64_t f = irq_save(); /* the two halves must not be split by a handler */
	lapic[LAPIC_ICRHI / 4] = dest << 24;
	lapic[LAPIC_ICRLO / 4] = cmd;
	while (lapic[LAPIC_ICRLO / 4] & ICR_PENDING)
		__asm__ volatile("pause");
	irq_restore(f);
}

/* x2APIC mode when the CPU has it (same choice on every CPU), software enabled, the
 * timer and error LVTs masked: nothing but IPIs arrives. */
static void lapic_enable(void)
{
	uint64_t base = rdmsr(MSR_APIC_BASE);
	if (x2apic && !(base & APIC_BASE_EXTD)) {
		if (!(base & APIC_BASE_EN))
			wrmsr(MSR_APIC_BASE, base |= APIC_BASE_EN);
		wrmsr(MSR_APIC_BASE, base | APIC_BASE_EXTD);
	}
	lapic_write(LAPIC_LVT_TIMER, lapic_read(LAPIC_LVT_TIMER) | (1u << 16));
	lapic_write(LAPIC_LVT_ERROR, lapic_read(LAPIC_LVT_ERROR) | (1u << 16));
	lapic_write(LAPIC_SVR, 0x100u | SMP_VEC_SPURIOUS);
}

static void delay_us(uint64_t us)
{
	uint64_t end = rdtsc() + us * tsc_per_us;
	while (rdtsc() < end)
		__asm__ volatile("pause");
}

/* ---- shootdown */

static void flush_local(const smp_range *r, unsigned n, bool full)
{
	/* With PCIDs on, invlpg drops the entries of the current PCID only (SDM vol. 3A,
	 * 4.10.4.1), and kernel translations are cached under every user space's PCID too:
	 * then every shootdown flushes everything, every PCID. */
	if (full || (read_cr4() & CR4_PCIDE)) {
		tlb_flush_all();
		return;
	}
	for (unsigned i = 0; i < n; i++)
		for (uint64_t off = 0; off < r[i].length; off += 4096)
			invlpg(r[i].start + off);
}

static void ack(uint64_t bit)
{
	flush_local(sd.r, sd.n, sd.full);
	/* The sleeper is read after the acknowledgement: either the initiator sees pending
	 * clear before it halts, or this load sees it halting (both are sequentially
	 * consistent). A stale or early wake-up costs one spurious IPI, nothing else. */
	if (__atomic_and_fetch(&sd.pending, ~bit, __ATOMIC_SEQ_CST) == 0) {
		int sleeper = __atomic_load_n(&sd.sleeper, __ATOMIC_SEQ_CST);
		if (sleeper >= 0)
			lapic_icr(cpus[sleeper].apic_id, ICR_ASSERT | SMP_VEC_WAKE);
	}
}

/* Interrupts stay off from the test to the acknowledgement: an IPI arriving in between
 * would acknowledge first, and this acknowledgement could then clear the bit of the next
 * request, which nobody would have flushed for. */
void smp_poll(void)
{
	uint64_t bit = 1ull << smp_me();
	if (!(__atomic_load_n(&sd.pending, __ATOMIC_ACQUIRE) & bit))
		return;
	uint64_t f = irq_save();
	if (__atomic_load_n(&sd.pending, __ATOMIC_ACQUIRE) & bit)
		ack(bit);
	irq_restore(f);
}


/* Waits for every acknowledgement. With interrupts on, the initiator halts after a short
 * spin and the last CPU to acknowledge wakes it: under TCG a spinning vCPU takes a host
 * core from the CPUs it waits for. */
static void wait_acks(void)
{
	bool can_sleep = irq_enabled();
	for (unsigned spins = 0; __atomic_load_n(&sd.pending, __ATOMIC_ACQUIRE); spins++) {
		__asm__ volatile("pause" ::: "memory");
		if (!can_sleep || spins < 4)
			continue;
		__asm__ volatile("cli" ::: "memory");
		__atomic_store_n(&sd.sleeper, (int)smp_me(), __ATOMIC_SEQ_CST);
		if (__atomic_load_n(&sd.pending, __ATOMIC_SEQ_CST))
			__asm__ volatile("sti; hlt" ::: "memory");
		else
			__asm__ volatile("sti" ::: "memory");
		__atomic_store_n(&sd.sleeper, -1, __ATOMIC_SEQ_CST);
	}
}

void smp_shootdown(const smp_range *r, unsigned n, bool full, uint64_t targets)
{
	uint64_t pages = 0;
	for (unsigned i = 0; i < n; i++)
		pages += (r[i].length + 4095) / 4096;
	if (n > SMP_BATCH_RANGES || pages > SMP_FULL_FLUSH_PAGES)
		full = true;
	flush_local(r, n, full);
	uint64_t others = targets & online_mask & ~(1ull << smp_me());
	if (!others)
		return;
	while (__atomic_exchange_n(&sd.lock, 1, __ATOMIC_ACQUIRE))
		smp_relax();
	for (unsigned i = 0; i < n && i < SMP_BATCH_RANGES; i++)
		sd.r[i] = r[i];
	sd.n = n < SMP_BATCH_RANGES ? n : SMP_BATCH_RANGES;
	sd.full = full;
	stats.shootdowns++;
	stats.full += full;
	stats.ranges += n;
#ifdef SMP_MUTANT_noipi
	/* The mutant the self-test must catch: other CPUs are never told. */
	(void)wait_acks;
#else
	__atomic_store_n(&sd.pending, others, __ATOMIC_RELEASE);
	for (unsigned c = 0; c < ncpus; c++)
		if (others & (1ull << c)) {
			lapic_icr(cpus[c].apic_id, ICR_ASSERT | SMP_VEC_SHOOTDOWN);
			stats.ipis++;
		}
	wait_acks();
#endif
	__atomic_store_n(&sd.lock, 0, __ATOMIC_RELEASE);
}

/* Every vector from 32 on: a posted shootdown, a wake-up, or a stray interrupt. */
void smp_irq(void);
void smp_irq(void)
{
	smp_poll();
	lapic_write(LAPIC_EOI, 0);
}

extern char smp_irq_stub[], smp_spurious_stub[];

/* ---- per-CPU state */

/* c's own GDT and TSS, in the layout gdt.c gives the boot CPU. */
static void load_gdt(smp_cpu *c)
{
	c->tss.ist[IST_DOUBLE_FAULT - 1] = (uint64_t)(uintptr_t)(ist_stacks[c->index][0] + 8192);
	c->tss.ist[IST_PAGE_FAULT - 1] = (uint64_t)(uintptr_t)(ist_stacks[c->index][1] + 8192);
	c->tss.iomap_base = sizeof c->tss;
	gdt_load(c->gdt, &c->tss);
}

static void set_gs(smp_cpu *c)
{
	c->local.self = (uint64_t)(uintptr_t)c;
	wrmsr(MSR_GS_BASE, (uint64_t)(uintptr_t)c);
}

static bool mtrr_eq(const mtrr_state *a, const mtrr_state *b)
{
	if (a->present != b->present || a->def_type != b->def_type || a->var_count != b->var_count)
		return false;
	for (unsigned i = 0; i < MTRR_FIXED_MSRS; i++)
		if (a->fixed[i] != b->fixed[i])
			return false;
	for (unsigned n = 0; n < a->var_count; n++)
		if (a->var_base[n] != b->var_base[n] || a->var_mask[n] != b->var_mask[n])
			return false;
	return true;
}


/* The boot CPU's MTRRs on this one, by the SDM's procedure for MP systems (Vol. 3A,
 * "MTRR Considerations in MP Systems"): caches off and flushed, MTRRs disabled while they
 * change. INIT keeps MTRRs on hardware, but QEMU resets them, and the firmware's values
 * are the ones the physmap was built for. Interrupts are off here. */
static void mtrr_copy(void)
{
	static const uint32_t fixed_msr[MTRR_FIXED_MSRS] = {
		0x250, 0x258, 0x259, 0x268, 0x269, 0x26A, 0x26B, 0x26C, 0x26D, 0x26E, 0x26F,
	};
	uint64_t cr0 = read_cr0();
	write_cr0((cr0 | CR0_CD) & ~CR0_NW);
	wbinvd();
	tlb_flush_all();
	wrmsr(MSR_MTRR_DEF_TYPE, bsp_mtrr.def_type & ~(MTRR_DEF_E | MTRR_DEF_FE));
	if (bsp_mtrr.cap & MTRR_CAP_FIX)
		for (unsigned i = 0; i < MTRR_FIXED_MSRS; i++)
			wrmsr(fixed_msr[i], bsp_mtrr.fixed[i]);
	for (unsigned n = 0; n < bsp_mtrr.var_count; n++) {
		wrmsr(0x200 + 2 * n, bsp_mtrr.var_base[n]);
		wrmsr(0x201 + 2 * n, bsp_mtrr.var_mask[n]);
	}
	wrmsr(MSR_MTRR_DEF_TYPE, bsp_mtrr.def_type);
	wbinvd();
	tlb_flush_all();
	write_cr0(cr0);
}

static void mtrr_sync(smp_cpu *c)
{
	mtrr_state m;
	mtrr_read(&m, phys_bits);
	if (m.present && bsp_mtrr.present && !mtrr_eq(&m, &bsp_mtrr)) {
		mtrr_copy();
		c->mtrr_copied = true;
		mtrr_read(&m, phys_bits);
	}
	c->mtrr_same = mtrr_eq(&m, &bsp_mtrr);
}

/* The AP's first C: its own tables, then the boot CPU's protections, then online. */
void ap_main(uint64_t index);
void ap_main(uint64_t index)
{
	smp_cpu *c = &cpus[index];
	__asm__ volatile("lidt %0" : : "m"(shared_idtr));
	load_gdt(c);
	set_gs(c);
	c->state = 1;
	write_cr0(bsp_cr0);
	wrmsr(MSR_EFER, (rdmsr(MSR_EFER) & ~EFER_NXE) | (bsp_efer & EFER_NXE));
	write_cr4(bsp_cr4); /* PGE, SMEP, SMAP, UMIP, LA57 as on the boot CPU */
	mtrr_sync(c);
	pat_init(bsp_pat);
	lapic_enable();
	c->prot = cpu_prot_read();
	c->pat = rdmsr(MSR_IA32_PAT);
	c->cr4 = read_cr4();
	c->apic_id = lapic_id();
	__atomic_fetch_or(&online_mask, 1ull << index, __ATOMIC_SEQ_CST);
	__atomic_store_n(&c->state, 2, __ATOMIC_RELEASE);
	for (;;) {
		__asm__ volatile("cli" ::: "memory");
		void (*job)(unsigned) = c->job;
		if (job) {
			__asm__ volatile("sti" ::: "memory");
			job((unsigned)index);
			__atomic_store_n(&c->job, NULL, __ATOMIC_RELEASE);
			continue;
		}
		__asm__ volatile("sti; hlt" ::: "memory"); /* sti's shadow: no wake-up is lost */
	}
}

void smp_wake(uint64_t mask)
{
	mask &= online_mask & ~(1ull << smp_me());
	for (unsigned c = 0; c < ncpus; c++)
		if (mask & (1ull << c))
			lapic_icr(cpus[c].apic_id, ICR_ASSERT | SMP_VEC_WAKE);
}

bool smp_post(unsigned cpu, void (*fn)(unsigned cpu))
{
	if (cpu >= ncpus || cpu == smp_me() || cpus[cpu].state != 2)
		return false;
	__atomic_store_n(&cpus[cpu].job, fn, __ATOMIC_RELEASE);
	lapic_icr(cpus[cpu].apic_id, ICR_ASSERT | SMP_VEC_WAKE);
	return true;
}

void smp_wait(unsigned cpu)
{
	while (cpu < ncpus && cpus[cpu].state == 2 && __atomic_load_n(&cpus[cpu].job, __ATOMIC_ACQUIRE))
		smp_relax();
}

void smp_run_all(void (*fn)(unsigned cpu), bool with_self)
{
	unsigned me = smp_me();
	for (unsigned i = 0; i < ncpus; i++)
		smp_post(i, fn);
	if (with_self) {
		uint64_t f = irq_save();
		__asm__ volatile("sti" ::: "memory");
		fn(me);
		irq_restore(f);
	}
	for (unsigned i = 0; i < ncpus; i++)
		smp_wait(i);
}

/* ---- bring-up */

static pg_space *space;

/* acpi.c's door: a range is readable when every page of it is in the physmap. */
static const void *acpi_map(void *ctx, uint64_t phys, uint64_t len)
{
	(void)ctx;
	pg_mapping m;
	if (len == 0 || phys + len < phys)
		return NULL;
#ifdef SMP_MUTANT_acpicut
	/* The test's broken firmware: every table cut after 64 bytes. */
	if (len > 64)
		return NULL;
#endif
	for (uint64_t p = phys & ~0xfffull; p < phys + len; p += 4096)
		if (pg_translate_fast(space, pg_va(phys_to_virt(p)), &m) != PG_OK || m.phys.pa != p)
			return NULL;
	return (const void *)(uintptr_t)phys_to_virt(phys);
}

extern char tramp_start[], tramp_end[], tramp_gdt[], tramp_gdtr[], tramp_jmp32[], tramp_jmp64[];
extern char tramp_cr4[], tramp_cr3_low[], tramp_efer[], tramp_apic[], tramp_cr3[];
extern char tramp_stack[], tramp_arg[], tramp_entry[], tramp_pm32[], tramp_lm64[];
extern char ap_entry64[];

static uint64_t tramp; /* physical */

static void *tfield(const char *label)
{
	return (void *)(uintptr_t)phys_to_virt(tramp + (uint64_t)(label - tramp_start));
}

static uint32_t toff(const char *label) { return (uint32_t)(tramp + (uint64_t)(label - tramp_start)); }

/* Copies the trampoline, maps its page at its own address (the instruction after paging
 * goes on is fetched there), and copies the top table below 4 GiB into the second page. */
static bool tramp_setup(void)
{
	uint8_t *dst = tfield(tramp_start);
	for (const char *p = tramp_start; p < tramp_end; p++)
		*dst++ = (uint8_t)*p;
	pg_err e = pg_map(space, pg_va(tramp), pg_pa(tramp), PG_4K, PG_X, NULL);
	if (e != PG_OK) {
		kprintf("smp: trampoline identity map failed: %s\n", pg_strerror(e));
		return false;
	}
	const uint64_t *root = (const uint64_t *)(uintptr_t)phys_to_virt(read_cr3() & ~0xfffull);
	uint64_t *copy = (uint64_t *)(uintptr_t)phys_to_virt(tramp + 4096);
	for (int i = 0; i < 512; i++)
		copy[i] = root[i];
	*(uint32_t *)tfield(tramp_gdtr + 2) = toff(tramp_gdt);
	*(uint32_t *)tfield(tramp_jmp32) = toff(tramp_pm32);
	*(uint32_t *)tfield(tramp_jmp64) = toff(tramp_lm64);
	*(uint32_t *)tfield(tramp_cr4) = (uint32_t)(CR4_PAE | (bsp_cr4 & CR4_LA57));
	*(uint32_t *)tfield(tramp_cr3_low) = (uint32_t)(tramp + 4096);
	*(uint32_t *)tfield(tramp_efer) = (uint32_t)(EFER_LME | (bsp_efer & EFER_NXE));
	*(uint64_t *)tfield(tramp_cr3) = read_cr3();
	*(uint64_t *)tfield(tramp_entry) = (uint64_t)(uintptr_t)ap_entry64;
	return true;
}

/* A stack of SMP_STACK_BYTES in cpu's slot, the slot's first page left unmapped. */
static bool map_stack(smp_cpu *c)
{
	uint64_t slot = SMP_STACKS_VA + c->index * SMP_STACK_SLOT;
	for (uint64_t off = 0; off < SMP_STACK_BYTES; off += 4096) {
		pg_paddr f;
		if (frame_alloc_4k(kmem_frames(), &f) != PG_OK ||
		    pg_map(space, pg_va(slot + 4096 + off), f, PG_4K, PG_W, NULL) != PG_OK)
			return false;
	}
	c->guard = slot;
	c->stack_top = slot + 4096 + SMP_STACK_BYTES;
	return true;
}

static bool start_ap(smp_cpu *c, uint64_t timeout_us)
{
	*(uint32_t *)tfield(tramp_apic) = c->apic_id & 0xff;
	*(uint64_t *)tfield(tramp_stack) = c->stack_top;
	*(uint64_t *)tfield(tramp_arg) = c->index;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	lapic_icr(c->apic_id, ICR_INIT | ICR_ASSERT);
	delay_us(10000);
#ifdef SMP_MUTANT_apdead
	/* The test's dead CPU: the fourth is never sent its SIPIs, so it times out. */
	if (c->index == 3)
		goto wait;
#endif
	for (int sipi = 0; sipi < 2 && c->state == 0; sipi++) {
		lapic_icr(c->apic_id, ICR_SIPI | ICR_ASSERT | (uint32_t)(tramp >> 12));
		delay_us(200);
	}
#ifdef SMP_MUTANT_apdead
wait:
#endif
	uint64_t end = rdtsc() + timeout_us * tsc_per_us;
	while (__atomic_load_n(&c->state, __ATOMIC_ACQUIRE) != 2 && rdtsc() < end)
		__asm__ volatile("pause");
	return c->state == 2;
}

static bool prot_eq(cpu_prot a, cpu_prot b)
{
	return a.wp == b.wp && a.nxe == b.nxe && a.smep == b.smep && a.smap == b.smap &&
	       a.umip == b.umip;
}

static void install_vectors(void)
{
	for (unsigned v = 32; v < 255; v++)
		idt_set_irq(v, (void (*)(void))(uintptr_t)smp_irq_stub);
	idt_set_irq(SMP_VEC_SPURIOUS, (void (*)(void))(uintptr_t)smp_spurious_stub);
	outb(0x21, 0xff); /* the legacy PICs stay silent */
	outb(0xa1, 0xff);
}

void smp_init(const boot_info *bi, pg_space *s)
{
	acpi_cpus found;
	uint32_t r[4];
	space = s;
	if (bi->tsc_hz >= 1000000)
		tsc_per_us = bi->tsc_hz / 1000000;
	bsp_cr0 = read_cr0();
	bsp_cr4 = read_cr4();
	bsp_efer = rdmsr(MSR_EFER);
	bsp_pat = pat_read();
	cpus[0].index = 0;
	set_gs(&cpus[0]);
	gs_ready = true;
	__asm__ volatile("sidt %0" : "=m"(shared_idtr));
	install_vectors();

	cpuid(1, r);
	x2apic = (r[2] & CPUID1_X2APIC) != 0;
	uint64_t base = rdmsr(MSR_APIC_BASE) & ~0xfffull & ((1ull << bi->phys_bits) - 1);
	if (!x2apic) {
		pg_err e = pg_map(s, pg_va(SMP_LAPIC_VA), pg_pa(base), PG_4K, PG_W | PG_CACHE_UC, NULL);
		if (e != PG_OK) {
			kprintf("smp: lapic map failed: %s\n", pg_strerror(e));
			kprintf("smp: cpus=1 online=1\n");
			return;
		}
		lapic = (volatile uint32_t *)(uintptr_t)SMP_LAPIC_VA;
	}
	lapic_enable();
	cpus[0].apic_id = lapic_id();
	cpus[0].state = 2;
	cpus[0].prot = cpu_prot_read();
	cpus[0].pat = rdmsr(MSR_IA32_PAT);
	cpus[0].cr4 = bsp_cr4;
	phys_bits = bi->phys_bits;
	mtrr_read(&bsp_mtrr, phys_bits);
	kprintf("smp: lapic mode=%s base=%p bsp_apic=%u\n", x2apic ? "x2apic" : "xapic",
		(void *)base, cpus[0].apic_id);

	acpi_mem m = { acpi_map, NULL };
	acpi_err ae = acpi_find_cpus(&m, bi->acpi_rsdp, &found);
	if (ae != ACPI_OK) {
		kprintf("smp: acpi error=%s: one CPU only\n", acpi_strerror(ae));
		kprintf("smp: cpus=1 online=1\n");
		return;
	}
	kprintf("smp: madt=%p via=%s xapic_entries=%u x2apic_entries=%u enabled=%u disabled=%u\n",
		(void *)found.madt, found.xsdt ? "xsdt" : "rsdt", found.xapic_entries,
		found.x2apic_entries, found.count, found.disabled);
	unsigned want = found.count;
	if (bi->ap_trampoline == 0 || bi->ap_trampoline >= 0x100000 ||
	    mem_list_kind_at(kmem_regions(), bi->ap_trampoline) != MEM_AP_TRAMPOLINE) {
		kprintf("smp: no trampoline page below 1 MiB: one CPU only\n");
		kprintf("smp: cpus=%u online=1\n", want);
		return;
	}
	tramp = bi->ap_trampoline;
	if (!tramp_setup()) {
		kprintf("smp: cpus=%u online=1\n", want);
		return;
	}
	for (unsigned i = 0; i < found.count; i++) {
		uint32_t id = found.apic_id[i];
		if (id == cpus[0].apic_id)
			continue;
		if (ncpus == SMP_MAX_CPUS) {
			kprintf("smp: apic=%u left out: more than %u CPUs\n", id, SMP_MAX_CPUS);
			continue;
		}
		if (!x2apic && id > 0xfe) {
			kprintf("smp: apic=%u left out: needs x2apic\n", id);
			continue;
		}
		smp_cpu *c = &cpus[ncpus];
		c->index = ncpus;
		c->apic_id = id;
		if (!map_stack(c)) {
			kprintf("smp: cpu=%u apic=%u left out: no stack\n", c->index, id);
			continue;
		}
		ncpus++;
		if (!start_ap(c, 1000000)) {
			/* Parked by INIT (wait-for-SIPI), so a CPU that was only slow cannot run
			 * on later, join the shootdowns or walk a trampoline that is gone. */
			uint32_t st = c->state;
			lapic_icr(c->apic_id, ICR_INIT | ICR_ASSERT);
			delay_us(10000);
			__atomic_fetch_and(&online_mask, ~(1ull << c->index), __ATOMIC_SEQ_CST);
			kprintf("smp: cpu=%u apic=%u timeout state=%u: left out\n", c->index, id, st);
			continue;
		}
		nonline++;
		bool same = prot_eq(c->prot, cpus[0].prot) && c->pat == cpus[0].pat &&
			    c->cr4 == bsp_cr4 && c->mtrr_same;
		pg_mapping gm;
		bool guard_free = pg_translate_fast(s, pg_va(c->guard), &gm) == PG_ERR_NOT_MAPPED;
		kprintf("smp: cpu=%u apic=%u online stack=%p guard=%p guard_unmapped=%u wp=%u nxe=%u "
			"smep=%u smap=%u umip=%u pat=0x%016lx mtrr=%s prot=%s\n", c->index, c->apic_id,
			(void *)c->stack_top, (void *)c->guard, guard_free, c->prot.wp, c->prot.nxe,
			c->prot.smep, c->prot.smap,
			c->prot.umip, (unsigned long)c->pat,
			c->mtrr_same ? (c->mtrr_copied ? "copied" : "same") : "DIFFERENT",
			same ? "same" : "DIFFERENT");
	}
	/* The identity page is no longer needed; the shootdown takes it out of every TLB. */
	pg_paddr f;
	pg_size sz;
	pg_unmap(s, pg_va(tramp), &f, &sz);
	kprintf("smp: cpus=%u online=%u\n", want, nonline);
}

cpu_local *smp_local(void)
{
	return &cpus[smp_me()].local;
}
