/* cpu.h - the privileged x86_64 instructions and architectural bits that both stages use,
 * owned by both: the EFI stage (gnu-efi) and the kernel include this one header, so no C
 * file needs asm of its own for CPUID, MSRs, control registers or port I/O.
 * Freestanding: <stdint.h> only. */
#ifndef COMMON_CPU_H
#define COMMON_CPU_H

#include <stdbool.h>
#include <stdint.h>

/* Control-register bits (SDM Vol. 3A, 2.5). */
#define CR0_WP   (1ull << 16) /* supervisor writes honour read-only pages */
#define CR0_NW   (1ull << 29) /* not write-through (with CD: no-fill mode is CD=1, NW=0) */
#define CR0_CD   (1ull << 30) /* cache disable */
#define CR0_PG   (1ull << 31)
#define CR4_PSE  (1ull << 4)
#define CR4_PAE  (1ull << 5)
#define CR4_PGE  (1ull << 7)  /* global pages survive CR3 writes */
#define CR4_OSFXSR     (1ull << 9)  /* SSE instructions enabled */
#define CR4_OSXMMEXCPT (1ull << 10) /* SIMD exceptions reported as #XM */
#define CR4_UMIP (1ull << 11) /* sgdt, sidt, sldt, smsw, str fault in user mode */
#define CR4_LA57 (1ull << 12) /* 5-level paging */
#define CR4_PCIDE (1ull << 17)
#define CR4_SMEP (1ull << 20)
#define CR4_SMAP (1ull << 21)

/* Model-specific registers. */
#define MSR_EFER          0xC0000080u
#define EFER_SCE          (1ull << 0)  /* syscall/sysret */
#define EFER_LME          (1ull << 8)
#define EFER_NXE          (1ull << 11) /* XD bit honoured in page-table entries */
#define MSR_IA32_PAT      0x277u
#define MSR_MTRR_CAP      0xFEu
#define MSR_MTRR_DEF_TYPE 0x2FFu
#define MSR_APIC_BASE     0x1Bu
#define MSR_STAR          0xC0000081u  /* syscall/sysret selectors */
#define MSR_LSTAR         0xC0000082u  /* syscall entry */
#define MSR_FMASK         0xC0000084u  /* RFLAGS bits syscall clears */
#define MSR_GS_BASE       0xC0000101u
#define MSR_KERNEL_GS_BASE 0xC0000102u /* swapped with GS base by swapgs */

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static inline uint64_t read_cr0(void) { uint64_t v; __asm__ volatile("mov %%cr0, %0" : "=r"(v)); return v; }
static inline uint64_t read_cr2(void) { uint64_t v; __asm__ volatile("mov %%cr2, %0" : "=r"(v)); return v; }
static inline uint64_t read_cr3(void) { uint64_t v; __asm__ volatile("mov %%cr3, %0" : "=r"(v)); return v; }
static inline uint64_t read_cr4(void) { uint64_t v; __asm__ volatile("mov %%cr4, %0" : "=r"(v)); return v; }
static inline void write_cr0(uint64_t v) { __asm__ volatile("mov %0, %%cr0" : : "r"(v) : "memory"); }
static inline void write_cr3(uint64_t v) { __asm__ volatile("mov %0, %%cr3" : : "r"(v) : "memory"); }
static inline void write_cr4(uint64_t v) { __asm__ volatile("mov %0, %%cr4" : : "r"(v) : "memory"); }

/* Invalidates every TLB entry, global ones and those of every PCID included: a MOV to CR4
 * that changes PGE does that (Intel SDM vol. 3A, 4.10.4.1), so PGE is flipped and put back. */
/* RFLAGS.IF: whether an interrupt (an IPI that wakes a halted CPU) can reach this one. */
static inline bool irq_enabled(void)
{
	uint64_t f;
	__asm__ volatile("pushfq; popq %0" : "=r"(f));
	return (f & (1u << 9)) != 0;
}

static inline void tlb_flush_all(void)
{
	uint64_t cr4 = read_cr4();
	write_cr4(cr4 ^ CR4_PGE);
	write_cr4(cr4);
}

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

/* CPUID leaf and subleaf: r[0..3] = EAX, EBX, ECX, EDX. */
static inline void cpuid_count(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub));
}

static inline void cpuid(uint32_t leaf, uint32_t r[4]) { cpuid_count(leaf, 0, r); }

/* The highest leaf of leaf's range (0 or 0x80000000), so callers can test before asking. */
static inline uint32_t cpuid_max(uint32_t base)
{
	uint32_t r[4];
	cpuid(base, r);
	return r[0];
}

/* 5-level paging (CR4.LA57) exists: CPUID.(EAX=7,ECX=0):ECX[16]. */
static inline int cpu_has_la57(void)
{
	uint32_t r[4];
	if (cpuid_max(0) < 7)
		return 0;
	cpuid_count(7, 0, r);
	return (r[2] >> 16) & 1;
}

/* Writes back and invalidates every cache line. */
static inline void wbinvd(void)
{
	__asm__ volatile("wbinvd" : : : "memory");
}

/* Saves RFLAGS and clears IF; irq_restore puts IF back as it was. */
static inline uint64_t irq_save(void)
{
	uint64_t f;
	__asm__ volatile("pushfq; popq %0; cli" : "=r"(f) : : "memory");
	return f;
}

static inline void irq_restore(uint64_t f)
{
	__asm__ volatile("pushq %0; popfq" : : "r"(f) : "memory", "cc");
}

static inline void invlpg(uint64_t va)
{
	__asm__ volatile("invlpg (%0)" : : "r"(va) : "memory");
}

__attribute__((noreturn)) static inline void cpu_halt_forever(void)
{
	for (;;)
		__asm__ volatile("cli; hlt");
}

#endif
