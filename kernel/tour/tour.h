/* tour.h - the paging tour printed on every boot: the post's steps on the live tables,
 * each result checked against an independent fact from the boot info. */
#ifndef KERNEL_TOUR_H
#define KERNEL_TOUR_H

#include "boot_info.h"
#include "paging.h"

/* The page the post maps as its example; the tour leaves it mapped on purpose. */
#define TOUR_EXAMPLE_PAGE 0x00000deadbeaf000ull

typedef struct {
	unsigned passed, failed;
} tour_result;

/* Runs the tour. Builds the frame allocator (kmem_init) and attaches it to s on the way;
 * on return s->frames is the allocator's source. Never halts: failures are counted. */
tour_result tour_run(const boot_info *bi, pg_space *s);

/* Sums pg_count_tables over the four levels. */
uint64_t tour_table_count(const pg_space *s);

/* A pointer the compiler cannot prove null: the tour and the tests mean it. */
static inline volatile uint64_t *tour_ptr(uint64_t va)
{
	__asm__("" : "+r"(va));
	return (volatile uint64_t *)(uintptr_t)va;
}

#endif
