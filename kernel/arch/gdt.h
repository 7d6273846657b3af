/* gdt.h - the kernel's own GDT and TSS. The firmware's tables live in memory the
 * kernel may reuse, so these are loaded before anything else runs. */
#ifndef KERNEL_GDT_H
#define KERNEL_GDT_H

#define GDT_KERNEL_CODE 0x08
#define GDT_KERNEL_DATA 0x10
#define GDT_TSS         0x18

#define IST_DOUBLE_FAULT 1 /* IST slot whose stack #DF runs on */
#define IST_PAGE_FAULT   2 /* #PF's own stack: an overflow into the guard page is reported */

/* Loads the GDT, reloads every segment register and loads the task register. */
void gdt_init(void);

#endif
