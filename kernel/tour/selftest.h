/* selftest.h - boot modes chosen on the kernel command line: `test` runs the in-kernel
 * self-tests on the live tables and CPU, `drill=NAME` provokes one fault on purpose.
 * Both end by leaving QEMU through isa-debug-exit (codes in fault.h). */
#ifndef KERNEL_SELFTEST_H
#define KERNEL_SELFTEST_H

#include "boot_info.h"
#include "paging.h"
#include "tour.h"

/* Looks at bi->cmdline: returns at once on a normal boot; runs the self-tests (counting the
 * tour's checks as theirs) or a drill otherwise, and then never returns. */
void selftest_main(const boot_info *bi, pg_space *s, tour_result tour);

/* Runs the named drill (null, text, stack, nx): reports the fault and leaves QEMU with the
 * drill-done code. Returns only for an unknown name. */
void drill_run(const boot_info *bi, const char *name);

/* Counts one result of a check printed elsewhere (1 pass, 0 fail, -1 skip) in the
 * self-test's total (kernel/user/user_test.c's checks). */
void selftest_record(int outcome);

#endif
