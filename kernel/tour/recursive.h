/* recursive.h - the post's recursive page table, cross-checked against the physmap. */
#ifndef KERNEL_RECURSIVE_H
#define KERNEL_RECURSIVE_H

/* Installs a recursive entry in an unused top-level slot of the upper half (never 511),
 * reads every table the walks of a few addresses visit through it and through the physmap,
 * compares them word for word, removes the entry and prints `recursive: ... check=pass|FAIL`.
 * Returns 1 pass, 0 fail. */
int recursive_run(void);

#endif
