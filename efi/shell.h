/* shell.h - the inspection commands of kernel.efi on the gnu-efi side (issue 5): where
 * the command line comes from (shell, load options, or a start-up prompt), and running
 * help, memmap, map, translate and current. Parsing and formatting are the pure code of
 * efi/pure/args.h and efi/pure/report.h. */
#ifndef EFI_SHELL_H
#define EFI_SHELL_H

#include "stage.h"

/* What `boot` was asked for. */
typedef struct {
	stage_physmap physmap;  /* offset and page size of the physical-memory map */
	unsigned levels;        /* paging levels for the kernel: 4 (default) or 5 */
	bool test;              /* the kernel's self-test mode: cmdline "test" */
	char drill[8];          /* a kernel fault drill: cmdline "drill=D"; "" for none */
	bool stale_key;         /* test: make the first ExitBootServices see a stale map key */
	bool late_fail;         /* test: fail on purpose right after ExitBootServices */
	bool nmi_window;        /* test: the trampoline waits for an NMI with paging off */
} shell_boot;

/* Reads the command and runs it unless it is boot. Returns EFI_SUCCESS with *boot set
 * and *opt filled when the caller should boot; EFI_SUCCESS with *boot clear when an
 * inspection command ran (and gave back everything it allocated); an error when the
 * input was wrong (the reason and the usage are printed, nothing changed) or the command
 * failed. Without any command line (started by the firmware) it opens the prompt when a
 * key is waiting in the firmware's input buffer, and boots at once otherwise; the command
 * `inspect` opens it always. */
EFI_STATUS shell_main(EFI_HANDLE image, shell_boot *opt, bool *boot);

#endif
