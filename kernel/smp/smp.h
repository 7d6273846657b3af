/* smp.h - the other CPUs: found in the ACPI MADT, started with INIT-SIPI-SIPI through the
 * trampoline page the EFI stage reserved, each on the kernel's tables with its own stack
 * (guard page below), GDT, TSS and IST stacks, the shared IDT and the boot CPU's
 * protections. And the TLB shootdown every change of the kernel's tables goes through. */
#ifndef KERNEL_SMP_H
#define KERNEL_SMP_H

#include <stdbool.h>
#include <stdint.h>

#include "boot_info.h"
#include "paging.h"

#define SMP_MAX_CPUS 16

/* Virtual layout (PML4 slot 509, unused by anyone else): the xAPIC page, AP stacks (a
 * 64 KiB slot each: guard page, then SMP_STACK_BYTES of stack), the self-test's ranges. */
#define SMP_AREA        0xFFFFFE8000000000ull
#define SMP_LAPIC_VA    SMP_AREA
#define SMP_STACKS_VA   (SMP_AREA + 0x00100000ull)
#define SMP_STACK_SLOT  0x10000ull
#define SMP_STACK_BYTES 0x4000ull
#define SMP_TEST_VA     (SMP_AREA + 0x40000000ull)

/* Interrupt vectors. */
#define SMP_VEC_SHOOTDOWN 0xF0
#define SMP_VEC_WAKE      0xF1
#define SMP_VEC_SPURIOUS  0xFF

/* More pages than this in one shootdown (or more ranges than a batch holds) and the
 * targets flush everything instead of page by page. */
#define SMP_FULL_FLUSH_PAGES 32
#define SMP_BATCH_RANGES     16

/* Brings up every enabled CPU of the MADT (bi->acpi_rsdp) and prints `smp: ...` lines,
 * ending with `smp: cpus=N online=N`. A bad ACPI table, no trampoline page or a CPU that
 * does not start in time is reported and leaves the kernel on the CPUs it has. */
void smp_init(const boot_info *bi, pg_space *s);

/* This CPU's index (0 = boot CPU) and the CPUs taking part in shootdowns. */
unsigned smp_me(void);
/* This CPU's per-CPU block (percpu.h), the one its GS base names in the kernel. */
struct cpu_local *smp_local(void);
unsigned smp_online(void);
uint64_t smp_online_mask(void);

/* A virtual range to invalidate. */
typedef struct {
	uint64_t start, length;
} smp_range;

/* Invalidates the n ranges (everything, global entries too, when full) on this CPU and on
 * every online CPU of targets, and returns when each has acknowledged. */
void smp_shootdown(const smp_range *r, unsigned n, bool full, uint64_t targets);

/* Services a shootdown posted to this CPU, if any: called in every spin loop, so a CPU
 * waiting with interrupts off still answers (no deadlock between two waiting CPUs). */
void smp_poll(void);

static inline void smp_relax(void)
{
	__asm__ volatile("pause" ::: "memory");
	smp_poll();
}

/* Hands fn to one online AP (false when cpu is not one), and waits for it to finish. */
bool smp_post(unsigned cpu, void (*fn)(unsigned cpu));
void smp_wait(unsigned cpu);

/* Runs fn(cpu) on every online AP (and on this CPU when with_self), interrupts on, and
 * returns when all have finished. */
void smp_run_all(void (*fn)(unsigned cpu), bool with_self);

/* Sends the wake-up IPI to every online CPU of mask but this one. */
void smp_wake(uint64_t mask);

/* Counters of the shootdown path, for reports. */
typedef struct {
	uint64_t shootdowns, ipis, full, ranges, polled;
} smp_stats;
smp_stats smp_stats_read(void);

uint64_t smp_tsc_per_us(void);

/* Self-test mode (`boot test`): stress, stale-read checker, shootdown latency. Prints the
 * smp: lines; returns 1 pass, 0 fail, -1 skipped (one CPU). */
int smp_selftest(void);

#endif
