/* fb.h - the GOP framebuffer as the kernel sees it: mapped write-combining through the PAT
 * in a window of its own, pixels encoded for RGB, BGR or bitmask formats, and drawing
 * primitives that only ever store to video memory (never load from it). */
#ifndef KERNEL_FB_H
#define KERNEL_FB_H

#include <stdbool.h>
#include <stdint.h>

#include "boot_info.h"
#include "paging.h"

/* The framebuffer's window: PML4 slot 508, far above where example mappings and a heap
 * start (0xFFFF800000000000). The window keeps the framebuffer's offset inside 1 GiB so
 * that 2 MiB pages fit wherever the physical range allows them. */
#define FB_WINDOW 0xFFFFFE0000000000ull

typedef struct {
	volatile uint8_t *base; /* first pixel, in the window */
	uint32_t width, height; /* visible pixels */
	uint32_t pitch;         /* bytes from one scan line to the next */
	uint32_t bytes_pp;      /* 2, 3 or 4 */
	uint32_t format;        /* BOOT_FB_RGB, BOOT_FB_BGR or BOOT_FB_BITMASK */
	uint32_t shift[3], bits[3]; /* red, green, blue: position and width in a pixel */
	bool wc;                /* mapped write-combining (false: the CPU has no PAT, UC) */
	uint64_t window_va;     /* start of the mapping (page aligned) */
	uint64_t window_bytes;
} fb_device;

/* Checks the firmware's description and fills *fb's geometry and pixel layout (not base).
 * Returns NULL, or why the framebuffer cannot be used. */
const char *fb_layout(fb_device *fb, const boot_framebuffer *bfb);

/* fb_layout, then maps the framebuffer into FB_WINDOW (WC when pat_wc,
 * else UC) with table frames from the kernel's own small pool, and fills *fb. Returns NULL
 * on success, else why there is no usable framebuffer. The physmap does not map the
 * framebuffer, so this window (and the tour's example page, same type) are its only mappings. */
const char *fb_init(fb_device *fb, const boot_framebuffer *bfb, const pg_space *ks,
		    bool pat_wc);

/* The pixel value for an 8-bit-per-channel colour in the framebuffer's format. */
uint32_t fb_color(const fb_device *fb, uint8_t r, uint8_t g, uint8_t b);

/* Fills a rectangle, clipped to the screen. */
void fb_fill(const fb_device *fb, uint32_t x, uint32_t y, uint32_t w, uint32_t h,
	     uint32_t pixel);

/* Draws a 1-bit bitmap of w x h (row_bytes per row, most significant bit leftmost) at
 * (x, y) with fg for set bits and bg for clear ones; clipped to the screen. */
void fb_bitmap(const fb_device *fb, uint32_t x, uint32_t y, const uint8_t *bits, uint32_t w,
	       uint32_t h, uint32_t row_bytes, uint32_t fg, uint32_t bg);

#endif
