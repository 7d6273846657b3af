/* args.h - the command language of kernel.efi (issue 5), parsed from ASCII arguments
 * into one struct. Pure: the EFI side converts the shell's CHAR16 argv to ASCII first
 * (refusing anything else) and hands in the CPU facts the checks depend on. */
#ifndef EFI_PURE_ARGS_H
#define EFI_PURE_ARGS_H

#include "fmt.h"
#include "paging.h"

#define ARGS_MAX_ADDRS 32   /* translate: more addresses are an error, never truncated */
#define ARGS_ERROR_MAX 128  /* one line of reason, NUL included */
#define ARGS_GIB512    (1ull << 39)  /* --offset granularity: one PML4 entry */
#define ARGS_LOWER_END (1ull << 47)  /* first non-canonical address above the lower half */
#define ARGS_DEFAULT_PHYS_TOP (1ull << 46) /* physical room assumed when none is given */

typedef enum {
	ARGS_BOOT = 0,              /* boot [--offset X] [--page S] [--levels 4|5] [test] [drill=D]
				       [stale-key]; also none */
	ARGS_HELP,                  /* help | -h | --help */
	ARGS_MEMMAP,                /* memmap [--kinds] */
	ARGS_MAP,                   /* map [--offset X] [--page S] */
	ARGS_TRANSLATE,             /* translate [--offset X] [--page S] VADDR... */
	ARGS_CURRENT_MAP,           /* current map */
	ARGS_CURRENT_TRANSLATE,     /* current translate VADDR... */
} args_cmd;

/* What the checks need to know about the machine. */
typedef struct {
	bool has_1g;        /* CPUID 8000_0001h:EDX[26]: --page 1g is allowed */
	/* First physical address past what the physmap must cover (e.g. 1 << MAXPHYADDR, or
	 * the top of the memory map). --offset + phys_top must not pass 2^47, where the
	 * non-canonical hole starts. 0 means "assume 2^46" (64 TiB of room). */
	uint64_t phys_top;
	bool has_la57;      /* CPUID.(EAX=7,ECX=0):ECX[16]: --levels 5 is allowed */
	unsigned firmware_levels; /* 5 when the firmware runs with CR4.LA57 (current's
				     default); 0 or 4 otherwise */
} args_env;

typedef struct {
	args_cmd cmd;
	bool paging;        /* -b, anywhere: page the output */
	bool kinds;         /* memmap --kinds */
	bool test;          /* boot test, or the test command: the kernel's self-test mode */
	char drill[8];      /* boot drill=D: the kernel's fault drill (null, text, stack, nx);
			       "" for none. The kernel reads it from its command line. */
	bool stale_key;     /* boot stale-key: a test of the firmware quirk path; the stage
			       changes the memory map between its first GetMemoryMap and
			       ExitBootServices, so the exit must take its retry path */
	bool nmi_window;    /* boot nmi-window: a test of the handoff trampoline's IDT; it
			       waits in its paging-off window until an NMI arrives (QEMU's
			       monitor: nmi), which must end in its halt, not a triple fault */
	bool late_fail;     /* boot late-fail: a test of the report of a failure after
			       ExitBootServices (screen and COM1); the stage stops there */
	bool offset_set;    /* --offset given (else the caller's default, 10 TiB) */
	uint64_t offset;
	bool page_set;      /* --page given (else the caller's default: 1g, or 2m without it) */
	pg_size page;
	bool levels_set;    /* --levels given */
	unsigned levels;    /* 4 or 5 after a successful parse: --levels, else 4 (current:
			       the firmware's, env->firmware_levels) */
	unsigned addr_count;
	uint64_t addrs[ARGS_MAX_ADDRS];
	char error[ARGS_ERROR_MAX]; /* the reason, when args_parse returns false */
} args_result;

/* Parses argv[0..argc) - the arguments after the program name - into *out. Returns true
 * on success; false with a one-line reason in out->error (no newline), after which the
 * caller prints the reason and the usage and changes nothing. env may be NULL (no 1 GiB
 * pages, default physical room). */
bool args_parse(int argc, const char *const argv[], const args_env *env, args_result *out);

/* Parses one number: decimal, or hex with 0x/0X. false (and a reason in why[why_cap])
 * for empty, negative, malformed, trailing junk or more than 64 bits. */
bool args_number(const char *s, uint64_t *value, char *why, size_t why_cap);

/* The usage text, one line at a time. */
void args_usage(fmt_sink sink, void *ctx);

#endif
