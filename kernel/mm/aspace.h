/* aspace.h - address spaces for user programs, on paging/'s handle: a fresh top table that
 * shares the kernel's (the upper half and the physmap's slots), user pages mapped with the
 * U bit, a switch that loads CR3 with a PCID where the CPU has them, and a destroy that
 * gives every frame back. Nothing here knows about processes. */
#ifndef KERNEL_ASPACE_H
#define KERNEL_ASPACE_H

#include <stdbool.h>
#include <stdint.h>

#include "paging.h"

/* User addresses: [USER_BASE, USER_TOP), inside the first 512 GiB slot, which the physmap
 * (at 512 GiB or higher, boot_info checks) never uses. */
#define USER_BASE 0x0000000000400000ull
#define USER_TOP  0x0000008000000000ull

#define ASPACE_MAX_SHARED 64

typedef struct {
	pg_space s;            /* the handle; its frames are the kernel's allocator */
	uint16_t pcid;         /* 0 without PCIDs */
	uint64_t user_pages;   /* leaves mapped by aspace_map_user and not yet removed */
	unsigned nshared;      /* entries copied from the kernel's tables, cleared at destroy */
	uint64_t *shared[ASPACE_MAX_SHARED];
} aspace;

/* What the CPU offers and what aspace_init turned on. */
typedef struct {
	bool pcid, invpcid;    /* CPUID 1:ECX[17], 7:EBX[10] */
	bool pcide;            /* CR4.PCIDE on */
	unsigned levels;
	uint64_t created, destroyed, switches, flushes; /* flushes: a PCID reused, flushed */
} aspace_info;

/* Turns CR4.PCIDE on where the CPU has PCIDs; prints `aspace: ...`. */
void aspace_init(void);
const aspace_info *aspace_info_get(void);

/* A fresh top table sharing the kernel half and the physmap. PG_ERR_NO_FRAMES and nothing
 * kept when frames run out. */
pg_err aspace_create(aspace *a);

/* Maps a zeroed frame at va with PG_U and flags (PG_W, PG_X); va must lie in the user
 * range and be unmapped. *frame (if not NULL) gets the frame. */
pg_err aspace_map_user(aspace *a, uint64_t va, unsigned flags, pg_paddr *frame);

/* Loads a's tables (NULL: the kernel's). With PCIDs, a PCID whose entries may be stale
 * (its last space was destroyed) is flushed first: INVPCID single-context where the CPU
 * has it, else a CR3 load without the no-flush bit. */
void aspace_switch(aspace *a);
aspace *aspace_current(void);
/* The PCID the next aspace_create takes (a self-test reuses one on purpose). */
void aspace_set_next_pcid(uint16_t pcid);

/* Gives back every user frame and every table frame a owns (not the shared ones).
 * *user_frames and *table_frames (if not NULL) say how many. Switch away first. */
void aspace_destroy(aspace *a, uint64_t *user_frames, uint64_t *table_frames);

#endif
