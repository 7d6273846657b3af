/* fb_format_test.c - host test of kernel/console/fb.c's pixel formats (QEMU's OVMF only ever offers
 * BGR): RGB, BGR and bitmask layouts of 2, 3 and 4 bytes, rejected masks, and glyph drawing
 * into a RAM "framebuffer". Prints ok/FAIL per check and "N passed, N failed". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fb.h"

static int passed, failed;

static void check(const char *name, int ok)
{
	printf("%s %s\n", ok ? "ok  " : "FAIL", name);
	if (ok)
		passed++;
	else
		failed++;
}

static boot_framebuffer desc(uint32_t format, uint32_t r, uint32_t g, uint32_t b, uint32_t x)
{
	boot_framebuffer d = { 0xc0000000, 1 << 20, 64, 32, 80, format, r, g, b, x };
	return d;
}

static void test_direct_formats(void)
{
	fb_device fb;
	boot_framebuffer rgb = desc(BOOT_FB_RGB, 0, 0, 0, 0), bgr = desc(BOOT_FB_BGR, 0, 0, 0, 0);
	check("RGB: layout accepted, 4 bytes a pixel, pitch from stride",
	      !fb_layout(&fb, &rgb) && fb.bytes_pp == 4 && fb.pitch == 320);
	check("RGB: red in byte 0, blue in byte 2", fb_color(&fb, 0x11, 0x22, 0x33) == 0x332211);
	check("BGR: layout accepted", !fb_layout(&fb, &bgr));
	check("BGR: blue in byte 0, red in byte 2", fb_color(&fb, 0x11, 0x22, 0x33) == 0x112233);
}

static void test_bitmask_formats(void)
{
	fb_device fb;
	boot_framebuffer m565 = desc(BOOT_FB_BITMASK, 0xf800, 0x07e0, 0x001f, 0);
	boot_framebuffer m888 = desc(BOOT_FB_BITMASK, 0xff0000, 0x00ff00, 0x0000ff, 0);
	boot_framebuffer m10 = desc(BOOT_FB_BITMASK, 0x3ff00000, 0x000ffc00, 0x000003ff, 0xc0000000);
	check("bitmask 5-6-5: 2 bytes a pixel", !fb_layout(&fb, &m565) && fb.bytes_pp == 2);
	check("bitmask 5-6-5: white is 0xffff, pure green 0x07e0",
	      fb_color(&fb, 255, 255, 255) == 0xffff && fb_color(&fb, 0, 255, 0) == 0x07e0);
	check("bitmask 8-8-8 without reserved bits: 3 bytes a pixel",
	      !fb_layout(&fb, &m888) && fb.bytes_pp == 3 && fb_color(&fb, 1, 2, 3) == 0x010203);
	check("bitmask 10-10-10-2: 4 bytes, top 8 bits of each channel used",
	      !fb_layout(&fb, &m10) && fb.bytes_pp == 4 &&
		      fb_color(&fb, 0xff, 0, 0) == 0x3fc00000 && fb_color(&fb, 0, 0, 0x80) == 0x200);
	boot_framebuffer overlap = desc(BOOT_FB_BITMASK, 0xff00, 0x0ff0, 0x000f, 0);
	boot_framebuffer holey = desc(BOOT_FB_BITMASK, 0xf0f000, 0x000f00, 0x0000ff, 0);
	boot_framebuffer empty = desc(BOOT_FB_BITMASK, 0xff0000, 0, 0xff, 0);
	check("bitmask: overlapping, non-contiguous and empty channels are refused",
	      fb_layout(&fb, &overlap) && fb_layout(&fb, &holey) && fb_layout(&fb, &empty));
	boot_framebuffer blt = desc(BOOT_FB_NONE, 0, 0, 0, 0), small = desc(BOOT_FB_RGB, 0, 0, 0, 0);
	small.size = 80 * 4 * 32 - 4;
	check("no linear framebuffer, or one smaller than its geometry, is refused",
	      fb_layout(&fb, &blt) && fb_layout(&fb, &small));
}

/* Draws an 8x2 bitmap at (1, 1) into RAM in a layout of bpp bytes and checks the bytes:
 * set bits get fg, clear bits bg, nothing outside the rectangle is touched. */
static int draw_ok(const boot_framebuffer *d)
{
	fb_device fb;
	if (fb_layout(&fb, d))
		return 0;
	size_t bytes = (size_t)fb.pitch * fb.height;
	uint8_t *mem = malloc(bytes);
	memset(mem, 0xee, bytes);
	fb.base = mem;
	const uint8_t bits[2] = { 0x81, 0x7e };
	uint32_t fg = fb_color(&fb, 255, 255, 255), bg = fb_color(&fb, 0, 0, 0);
	fb_bitmap(&fb, 1, 1, bits, 8, 2, 1, fg, bg);
	int ok = 1;
	for (uint32_t y = 0; y < 4; y++)
		for (uint32_t x = 0; x < 10; x++) {
			uint32_t px = 0;
			for (uint32_t k = 0; k < fb.bytes_pp; k++)
				px |= (uint32_t)mem[y * fb.pitch + x * fb.bytes_pp + k] << (8 * k);
			int inside = y >= 1 && y <= 2 && x >= 1 && x <= 8;
			uint32_t want = 0xeeeeeeeeu >> (32 - 8 * fb.bytes_pp);
			if (inside)
				want = bits[y - 1] & (0x80 >> (x - 1)) ? fg : bg;
			ok &= px == want;
		}
	free(mem);
	return ok;
}

static void test_drawing(void)
{
	boot_framebuffer bgr = desc(BOOT_FB_BGR, 0, 0, 0, 0);
	boot_framebuffer m888 = desc(BOOT_FB_BITMASK, 0xff0000, 0x00ff00, 0x0000ff, 0);
	boot_framebuffer m565 = desc(BOOT_FB_BITMASK, 0xf800, 0x07e0, 0x001f, 0);
	check("glyph drawn exactly, 4-byte pixels", draw_ok(&bgr));
	check("glyph drawn exactly, 3-byte pixels", draw_ok(&m888));
	check("glyph drawn exactly, 2-byte pixels", draw_ok(&m565));
}

int main(void)
{
	test_direct_formats();
	test_bitmask_formats();
	test_drawing();
	printf("%d passed, %d failed\n", passed, failed);
	return failed != 0;
}
