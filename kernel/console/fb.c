/* fb.c - the GOP framebuffer: PAT setup, the write-combining window, pixel encoding and
 * the two drawing primitives the console needs. Video memory is only ever stored to:
 * loads from it are uncached even through a WC mapping and take seconds a screen. */
#include "fb.h"

#include <stddef.h>

#include "cpu.h"

#define PAGE 4096ull
#define GIB (1ull << 30)
#define POOL_FRAMES 8 /* L3 + up to two L2 + two L1 (the ends) with 2 MiB pages inside */

/* Page-table frames for the window, taken from the kernel's own .bss: the kernel has no
 * frame allocator of its own yet when the console starts. */
static uint8_t pool[POOL_FRAMES][PAGE] __attribute__((aligned(4096)));
static unsigned pool_used;

/* pg_frames.alloc over the pool. ctx is the kernel's address space, which translates a
 * pool frame's virtual address (kernel image, 4 KiB pages) to its physical one. */
static bool pool_alloc(void *ctx, pg_paddr *frame)
{
	pg_translation t;
	if (pool_used == POOL_FRAMES)
		return false;
	if (pg_translate(ctx, pg_va((uint64_t)(uintptr_t)pool[pool_used]), &t) != PG_OK)
		return false;
	pool_used++;
	*frame = t.phys;
	return true;
}

bool fb_pat_init(void)
{
	uint32_t r[4];
	cpuid(1, r);
	if (!(r[3] & (1u << 16)))
		return false;
	/* Only entry 4 changes and no mapping selects it yet, so no TLB entry or cache line
	 * can hold a stale memory type; the write-back is the SDM's belt and braces. */
	wbinvd();
	wrmsr(MSR_IA32_PAT, pg_pat_value());
	return rdmsr(MSR_IA32_PAT) == pg_pat_value();
}

static unsigned low_bit(uint32_t m)
{
	unsigned n = 0;
	while (!(m & 1)) {
		m >>= 1;
		n++;
	}
	return n;
}

static unsigned high_bit(uint32_t m)
{
	unsigned n = 31;
	while (!(m & (1u << n)))
		n--;
	return n;
}

/* Fills shift/bits/bytes_pp from the pixel format. Bitmask channels must be non-empty,
 * contiguous and disjoint; the pixel is as many bytes as the highest mask bit needs. */
static const char *pixel_layout(fb_device *fb, const boot_framebuffer *bfb)
{
	if (bfb->format == BOOT_FB_RGB || bfb->format == BOOT_FB_BGR) {
		unsigned red = bfb->format == BOOT_FB_RGB ? 0 : 16;
		fb->shift[0] = red;
		fb->shift[1] = 8;
		fb->shift[2] = 16 - red;
		fb->bits[0] = fb->bits[1] = fb->bits[2] = 8;
		fb->bytes_pp = 4;
		return NULL;
	}
	if (bfb->format != BOOT_FB_BITMASK)
		return "no linear framebuffer format";
	const uint32_t masks[3] = { bfb->red_mask, bfb->green_mask, bfb->blue_mask };
	uint32_t all = bfb->reserved_mask;
	for (int c = 0; c < 3; c++) {
		uint32_t m = masks[c];
		if (!m || (m & all))
			return "bitmask channels empty or overlapping";
		unsigned lo = low_bit(m), hi = high_bit(m);
		if ((m >> lo) != (hi - lo == 31 ? ~0u : (1u << (hi - lo + 1)) - 1))
			return "bitmask channel not contiguous";
		fb->shift[c] = lo;
		fb->bits[c] = hi - lo + 1 > 8 ? 8 : hi - lo + 1;
		fb->shift[c] += hi - lo + 1 - fb->bits[c]; /* wider than 8 bits: use the top 8 */
		all |= m;
	}
	fb->bytes_pp = high_bit(all) / 8 + 1;
	return fb->bytes_pp < 2 ? "pixels narrower than 2 bytes" : NULL;
}

/* Maps [base, base+bytes) into FB_WINDOW at the same offset inside 1 GiB. */
static const char *map_window(fb_device *fb, uint64_t base, uint64_t bytes,
			      const pg_space *ks, bool pat_wc)
{
	pg_frames src = { pool_alloc, NULL, (void *)ks };
	pg_space s; /* same tables, the pool as frame source; a fresh handle, not a copy */
	uint64_t lo = base & ~(PAGE - 1), hi = (base + bytes + PAGE - 1) & ~(PAGE - 1);
	uint64_t va = FB_WINDOW + (lo & (GIB - 1));
	pg_err e = pg_space_attach(&s, ks->root, &src, ks->phys_offset, ks->has_nx, ks->has_1g,
				   ks->phys_bits, ks->levels);
	if (e != PG_OK)
		return pg_strerror(e);
	s.flush = ks->flush;
	s.flush_ctx = ks->flush_ctx;
	e = pg_map_range(&s, pg_va(va), pg_pa(lo), hi - lo,
				PG_W | PG_G | (pat_wc ? PG_CACHE_WC : PG_CACHE_UC), PG_2M);
	if (e != PG_OK)
		return pg_strerror(e);
	fb->window_va = va;
	fb->window_bytes = hi - lo;
	fb->base = (volatile uint8_t *)(uintptr_t)(va + (base - lo));
	fb->wc = pat_wc;
	return NULL;
}

const char *fb_layout(fb_device *fb, const boot_framebuffer *bfb)
{
	if (!bfb->base || bfb->format == BOOT_FB_NONE)
		return "no framebuffer";
	const char *why = pixel_layout(fb, bfb);
	if (why)
		return why;
	if (!bfb->width || !bfb->height || bfb->stride < bfb->width || bfb->stride > 65536)
		return "bad geometry";
	fb->width = bfb->width;
	fb->height = bfb->height;
	fb->pitch = bfb->stride * fb->bytes_pp;
	fb->format = bfb->format;
	if ((uint64_t)fb->pitch * fb->height > bfb->size)
		return "framebuffer smaller than its geometry";
	return NULL;
}

const char *fb_init(fb_device *fb, const boot_framebuffer *bfb, const pg_space *ks,
		    bool pat_wc)
{
	const char *why = fb_layout(fb, bfb);
	if (why)
		return why;
	return map_window(fb, bfb->base, (uint64_t)fb->pitch * fb->height, ks, pat_wc);
}

uint32_t fb_color(const fb_device *fb, uint8_t r, uint8_t g, uint8_t b)
{
	const uint8_t v[3] = { r, g, b };
	uint32_t px = 0;
	for (int c = 0; c < 3; c++)
		px |= (uint32_t)(v[c] >> (8 - fb->bits[c])) << fb->shift[c];
	return px;
}

/* Stores one pixel; the only place that writes video memory. */
static inline void put_pixel(const fb_device *fb, volatile uint8_t *p, uint32_t px)
{
	switch (fb->bytes_pp) {
	case 4:
		*(volatile uint32_t *)p = px;
		break;
	case 3:
		p[0] = (uint8_t)px;
		p[1] = (uint8_t)(px >> 8);
		p[2] = (uint8_t)(px >> 16);
		break;
	default:
		*(volatile uint16_t *)p = (uint16_t)px;
	}
}

/* w pixels of 4 bytes from p, two per 8-byte store where aligned: under QEMU's TCG every
 * store to video memory is a slow path, so half the stores is half the time of a clear. */
static void fill_row32(volatile uint8_t *p, uint32_t w, uint32_t px)
{
	uint32_t i = 0;
	if (((uintptr_t)p & 7) && w) {
		*(volatile uint32_t *)p = px;
		i = 1;
	}
	volatile uint64_t *q = (volatile uint64_t *)(p + 4 * i);
	uint64_t two = (uint64_t)px << 32 | px;
	for (; i + 1 < w; i += 2)
		*q++ = two;
	if (i < w)
		*(volatile uint32_t *)(p + 4 * i) = px;
}

void fb_fill(const fb_device *fb, uint32_t x, uint32_t y, uint32_t w, uint32_t h,
	     uint32_t pixel)
{
	if (x >= fb->width || y >= fb->height)
		return;
	if (w > fb->width - x)
		w = fb->width - x;
	if (h > fb->height - y)
		h = fb->height - y;
	for (uint32_t row = y; row < y + h; row++) {
		volatile uint8_t *p = fb->base + (uint64_t)row * fb->pitch + x * fb->bytes_pp;
		if (fb->bytes_pp == 4) {
			fill_row32(p, w, pixel);
			continue;
		}
		for (uint32_t i = 0; i < w; i++, p += fb->bytes_pp)
			put_pixel(fb, p, pixel);
	}
}

/* An even number w of 4-byte pixels at 8-aligned p from the bits, two per store. */
static void bitmap_row32(volatile uint8_t *p, const uint8_t *bits, uint32_t w, uint32_t fg,
			 uint32_t bg)
{
	volatile uint64_t *q = (volatile uint64_t *)p;
	for (uint32_t i = 0; i < w; i += 2) {
		uint32_t a = bits[i / 8] & (0x80u >> (i % 8)) ? fg : bg;
		uint32_t b = bits[(i + 1) / 8] & (0x80u >> ((i + 1) % 8)) ? fg : bg;
		*q++ = (uint64_t)b << 32 | a;
	}
}

void fb_bitmap(const fb_device *fb, uint32_t x, uint32_t y, const uint8_t *bits, uint32_t w,
	       uint32_t h, uint32_t row_bytes, uint32_t fg, uint32_t bg)
{
	if (x >= fb->width || y >= fb->height)
		return;
	uint32_t vis_w = w > fb->width - x ? fb->width - x : w;
	uint32_t vis_h = h > fb->height - y ? fb->height - y : h;
	for (uint32_t row = 0; row < vis_h; row++, bits += row_bytes) {
		volatile uint8_t *p =
			fb->base + (uint64_t)(y + row) * fb->pitch + x * fb->bytes_pp;
		if (fb->bytes_pp == 4 && !((uintptr_t)p & 7) && !(vis_w & 1)) {
			bitmap_row32(p, bits, vis_w, fg, bg); /* every glyph of a console */
			continue;
		}
		for (uint32_t i = 0; i < vis_w; i++, p += fb->bytes_pp)
			put_pixel(fb, p, bits[i / 8] & (0x80u >> (i % 8)) ? fg : bg);
	}
}
