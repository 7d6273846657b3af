/* user.c - user mode: the syscall MSRs and the per-CPU block, processes (an address space
 * with a program page, a stack page and a data page), the three calls and their pointer
 * checks, and the end of a program that faulted. */
#include "user.h"
#include "smp.h"

#include "cpu.h"
#include "gdt.h"
#include "kmem.h"
#include "kprintf.h"

/* IF, TF, DF and AC cleared on SYSCALL: no interrupts, no single step, and AC clear so
 * that SMAP holds in the kernel until a copy from the user says stac. */
#define FMASK_BITS ((1u << 9) | (1u << 8) | (1u << 10) | (1u << 18))
#define USER_ANON_MAX 16

_Static_assert(__builtin_offsetof(cpu_local, kstack_top) == 8, "user_entry.S CPU_KSTACK");
_Static_assert(__builtin_offsetof(cpu_local, user_rsp) == 16, "user_entry.S CPU_USER_RSP");
_Static_assert(__builtin_offsetof(cpu_local, kernel_rsp) == 24, "user_entry.S CPU_KERNEL_RSP");

void syscall_entry(void);
uint64_t user_enter(uint64_t rip, uint64_t rsp, uint64_t arg);
__attribute__((noreturn)) void user_leave(uint64_t status);
uint64_t syscall_dispatch(uint64_t nr, uint64_t a1, uint64_t a2, uint64_t a3);

static cpu_local *cpu0; /* this CPU's block (smp_local), GS base in the kernel */
static uint8_t kstack[16384] __attribute__((aligned(16)));
static bool smap_on;
static unsigned next_pid = 1;

static inline void stac(void) { if (smap_on) __asm__ volatile("stac" ::: "memory", "cc"); }
static inline void clac(void) { if (smap_on) __asm__ volatile("clac" ::: "memory", "cc"); }

void user_init(void)
{
	cpu0 = smp_local();
	cpu0->kstack_top = (uint64_t)(uintptr_t)(kstack + sizeof kstack);
	gdt_set_rsp0(cpu0->kstack_top);
	wrmsr(MSR_KERNEL_GS_BASE, 0);
	wrmsr(MSR_STAR, ((uint64_t)GDT_USER_BASE << 48) | ((uint64_t)GDT_KERNEL_CODE << 32));
	wrmsr(MSR_LSTAR, (uint64_t)(uintptr_t)syscall_entry);
	wrmsr(MSR_FMASK, FMASK_BITS);
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
	smap_on = (read_cr4() & CR4_SMAP) != 0;
	kprintf("user: syscall=on cs=0x%x ss=0x%x rsp0=%p gs_base=%p smap=%u umip=%u "
		"program_bytes=%lu\n", GDT_USER_CODE | 3, GDT_USER_DATA | 3,
		(void *)cpu0->kstack_top, (void *)cpu0, smap_on, (read_cr4() & CR4_UMIP) != 0,
		(unsigned long)(user_prog_end - user_prog_start));
}

/* ---------------------------------------------------------------- processes */

pg_err process_create(process *p, const char *name, uint64_t data_word)
{
	pg_paddr code, data;
	*p = (process){ 0 };
	p->pid = next_pid++;
	p->name = name;
	if ((uint64_t)(user_prog_end - user_prog_start) > 4096)
		return PG_ERR_BAD_ARG;
	pg_err e = aspace_create(&p->as);
	if (e != PG_OK)
		return e;
	e = aspace_map_user(&p->as, USER_CODE, PG_X, &code);
	if (e == PG_OK)
		e = aspace_map_user(&p->as, USER_STACK, PG_W, NULL);
	if (e == PG_OK)
		e = aspace_map_user(&p->as, USER_DATA, PG_W, &data);
	if (e != PG_OK) {
		aspace_destroy(&p->as, NULL, NULL);
		return e;
	}
	uint8_t *dst = (uint8_t *)(uintptr_t)phys_to_virt(code.pa); /* the page is read-only */
	for (const char *s = user_prog_start; s < user_prog_end; s++)
		*dst++ = (uint8_t)*s;
	*(uint64_t *)(uintptr_t)phys_to_virt(data.pa) = data_word;
	p->data_frame = data;
	return PG_OK;
}

void process_run(process *p, const void *entry)
{
	uint64_t rip = USER_CODE + (uint64_t)((const char *)entry - user_prog_start);
	/* Ring 3 runs on the boot CPU only: syscall MSRs, TSS.RSP0 and the user segments are
	 * set up there (user_init), not on the other CPUs. */
	if (smp_local() != cpu0)
		kpanic("user: process %u started on cpu %u; user mode runs on the boot CPU only",
		       p->pid, smp_me());
	cpu0->proc = p;
	aspace_switch(&p->as);
	uint64_t st = user_enter(rip, USER_STACK + 4096, 0);
	/* Both ways back (exit call, fault) left GS base on this CPU's block. */
	wrmsr(MSR_KERNEL_GS_BASE, 0);
	aspace_switch(NULL);
	cpu0->proc = NULL;
	if (!p->faulted)
		p->status = st;
}

void process_destroy(process *p, uint64_t *user_frames, uint64_t *table_frames)
{
	if (aspace_current() == &p->as)
		aspace_switch(NULL);
	aspace_destroy(&p->as, user_frames, table_frames);
}

/* ---------------------------------------------------------------- calls */

/* True when [ptr, ptr + len) lies in the user range and every page of it is mapped with
 * U (and W when the kernel will write). */
static bool user_range_ok(const process *p, uint64_t ptr, uint64_t len, bool write)
{
	if (len == 0)
		return true;
	if (ptr < USER_BASE || len > USER_TOP || ptr > USER_TOP - len)
		return false;
	for (uint64_t page = ptr & ~0xfffull; page < ptr + len; page += 4096) {
		pg_mapping m;
		if (pg_translate_fast(&p->as.s, pg_va(page), &m) != PG_OK || !(m.flags & PG_U) ||
		    (write && !(m.flags & PG_W)))
			return false;
	}
	return true;
}

static uint64_t sys_write(process *p, uint64_t ptr, uint64_t len)
{
	char line[USER_WRITE_MAX + 1];
	if (!user_range_ok(p, ptr, len, false)) {
		p->bad_pointers++;
		kprintf("user: pid=%u name=%s write refused ptr=%p len=%lu why=bad-user-pointer\n",
			p->pid, p->name, (void *)ptr, (unsigned long)len);
		return (uint64_t)-USER_EFAULT;
	}
	if (len > USER_WRITE_MAX)
		return (uint64_t)-USER_EINVAL;
	stac(); /* the one place the kernel reads user memory */
	for (uint64_t i = 0; i < len; i++) {
		char c = ((const volatile char *)(uintptr_t)ptr)[i];
		line[i] = c >= 0x20 && c < 0x7f ? c : '.';
	}
	clac();
	line[len] = '\0';
	p->lines++;
	kprintf("user: pid=%u name=%s says \"%s\"\n", p->pid, p->name, line);
	return len;
}

static uint64_t sys_map(process *p, uint64_t va)
{
	pg_mapping m;
	if (va < USER_BASE || va >= USER_TOP || (va & 0xfff)) {
		p->bad_pointers++;
		kprintf("user: pid=%u name=%s map refused va=%p why=outside-user-range\n", p->pid,
			p->name, (void *)va);
		return (uint64_t)-USER_EFAULT;
	}
	if (pg_translate_fast(&p->as.s, pg_va(va), &m) == PG_OK)
		return (uint64_t)-USER_EEXIST;
	if (p->as.user_pages >= USER_ANON_MAX + 3)
		return (uint64_t)-USER_ENOMEM;
	/* A new leaf where nothing was: no TLB entry to invalidate. */
	pg_err e = aspace_map_user(&p->as, va, PG_W, NULL);
	kprintf("user: pid=%u name=%s map va=%p result=%s\n", p->pid, p->name, (void *)va,
		pg_strerror(e));
	return e == PG_OK ? 0 : (uint64_t)-USER_ENOMEM;
}

uint64_t syscall_dispatch(uint64_t nr, uint64_t a1, uint64_t a2, uint64_t a3)
{
	process *p = cpu0->proc;
	(void)a3;
	switch (nr) {
	case SYS_WRITE:
		return sys_write(p, a1, a2);
	case SYS_MAP:
		return sys_map(p, a1);
	case SYS_EXIT:
		p->status = a1;
		kprintf("user: pid=%u name=%s exit status=0x%lx\n", p->pid, p->name,
			(unsigned long)a1);
		user_leave(a1);
	default:
		return (uint64_t)-USER_ENOSYS;
	}
}

/* ---------------------------------------------------------------- faults */

static const char *user_cause(uint64_t vector, uint64_t error)
{
	if (vector == 13)
		return "general-protection";
	if (vector != 14)
		return "exception";
	if (!(error & 1))
		return "not-mapped";
	if (error & 0x10)
		return "no-execute";
	if (error & 2)
		return "write-to-read-only";
	return "kernel-page";
}

void user_fault(exc_frame *f, uint64_t cr2)
{
	if (rdmsr(MSR_GS_BASE) != (uint64_t)(uintptr_t)cpu0)
		__asm__ volatile("swapgs" ::: "memory"); /* the exception stubs do not swap */
	process *p = cpu0->proc;
	if (!p)
		kpanic("user: fault from ring 3 with no process (vector %lu)",
		       (unsigned long)f->vector);
	p->faulted = true;
	p->vector = f->vector;
	p->error = f->error;
	p->cr2 = f->vector == 14 ? cr2 : 0;
	p->rip = f->rip;
	kprintf("user: pid=%u name=%s fault vector=%lu name=%s error=0x%lx rip=%p cr2=%p "
		"cause=%s: process ended, kernel continues\n", p->pid, p->name,
		(unsigned long)f->vector, exc_name((unsigned)f->vector), (unsigned long)f->error,
		(void *)f->rip, (void *)p->cr2, user_cause(f->vector, f->error));
	user_leave(~0ull);
}
