/* pte.h - the x86_64 page-table entry layout (Intel SDM vol. 3, 4.5). Private to
 * paging/: the public interface speaks in PG_* flags and pg_size only. */
#ifndef PAGING_PTE_H
#define PAGING_PTE_H

#include <stdint.h>

#define PTE_P        (1ull << 0)
#define PTE_W        (1ull << 1)
#define PTE_U        (1ull << 2)
#define PTE_PWT      (1ull << 3)
#define PTE_PCD      (1ull << 4)
#define PTE_A        (1ull << 5)
#define PTE_D        (1ull << 6)
#define PTE_PS       (1ull << 7)  /* in L3 and L2 entries: this entry is a leaf */
#define PTE_PAT_4K   (1ull << 7)  /* in L1 entries the same bit selects PAT */
#define PTE_G        (1ull << 8)
#define PTE_PAT_HUGE (1ull << 12) /* in huge leaves PAT moves to bit 12 */
#define PTE_XD       (1ull << 63)
#define PTE_ADDR     0x000ffffffffff000ull
#define PTE_SOFT_LO  (7ull << 9)     /* bits 9-11: ignored by the CPU, software's */
#define PTE_SOFT_HI  (0x7full << 52) /* bits 52-58: ignored by the CPU, software's */
#define PTE_PKEY     (0xfull << 59)  /* bits 59-62 of a leaf: protection key (CR4.PKE) */

/* What a new intermediate entry carries: present, writable, user, so that the leaf
 * alone decides the access rights (the CPU ANDs W and U over the levels). */
#define PTE_TABLE    (PTE_P | PTE_W | PTE_U)

#endif
