/* latefb.c - the EFI stage's last words on the screen. After ExitBootServices there is
 * no ConOut, and laptops have no COM1: a failure there draws a full-width red band at
 * the top of the GOP framebuffer with its text in white, in the kernel's console font. */
#include "stage.h"

#include "font_data.h"

#define MARGIN 8 /* pixels around the text inside the band */

typedef struct {
	volatile uint8_t *base;
	uint32_t width, height, pitch, bytes_pp;
	uint32_t mask[3]; /* red, green, blue */
} screen;

static unsigned low_bit(uint32_t m)
{
	unsigned n = 0;
	while (m && !(m & 1)) {
		m >>= 1;
		n++;
	}
	return n;
}

static unsigned bit_count(uint32_t m)
{
	unsigned n = 0;
	for (; m; m &= m - 1)
		n++;
	return n;
}

/* Geometry and channel masks from the boot info's framebuffer; false when there is no
 * linear framebuffer this writer understands. The firmware's tables still map it 1:1. */
static bool screen_open(screen *s, const boot_framebuffer *fb)
{
	uint32_t all;
	if (!fb || !fb->base || fb->format == BOOT_FB_NONE || !fb->width || !fb->height)
		return false;
	if (fb->format == BOOT_FB_RGB || fb->format == BOOT_FB_BGR) {
		bool rgb = fb->format == BOOT_FB_RGB;
		s->mask[0] = rgb ? 0x0000ff : 0xff0000;
		s->mask[1] = 0x00ff00;
		s->mask[2] = rgb ? 0xff0000 : 0x0000ff;
		all = 0xffffffff;
	} else {
		s->mask[0] = fb->red_mask;
		s->mask[1] = fb->green_mask;
		s->mask[2] = fb->blue_mask;
		all = fb->red_mask | fb->green_mask | fb->blue_mask | fb->reserved_mask;
		if (!fb->red_mask || !fb->green_mask || !fb->blue_mask)
			return false;
	}
	s->bytes_pp = all > 0xffffff ? 4 : all > 0xffff ? 3 : 2;
	s->base = (volatile uint8_t *)(UINTN)fb->base;
	s->width = fb->width;
	s->height = fb->height;
	s->pitch = fb->stride * s->bytes_pp;
	return fb->stride >= fb->width;
}

/* An 8-bit-per-channel colour in the screen's pixel layout. */
static uint32_t colour(const screen *s, uint8_t r, uint8_t g, uint8_t b)
{
	const uint8_t v[3] = { r, g, b };
	uint32_t px = 0;
	for (int c = 0; c < 3; c++) {
		unsigned bits = bit_count(s->mask[c]);
		uint32_t x = bits >= 8 ? (uint32_t)v[c] << (bits - 8) : (uint32_t)v[c] >> (8 - bits);
		px |= (x << low_bit(s->mask[c])) & s->mask[c];
	}
	return px;
}

static void put_pixel(const screen *s, uint32_t x, uint32_t y, uint32_t px)
{
	volatile uint8_t *p = s->base + (UINTN)y * s->pitch + (UINTN)x * s->bytes_pp;
	for (uint32_t i = 0; i < s->bytes_pp; i++)
		p[i] = (uint8_t)(px >> (8 * i));
}

/* One character cell at (x, y); characters outside the font draw as its fallback. */
static void draw_char(const screen *s, uint32_t x, uint32_t y, char ch, uint32_t fg, uint32_t bg)
{
	unsigned idx = (unsigned char)ch >= FONT_FIRST && (unsigned char)ch <= FONT_LAST
			       ? (unsigned char)ch - FONT_FIRST
			       : FONT_LAST - FONT_FIRST + 1;
	for (uint32_t row = 0; row < FONT_HEIGHT && y + row < s->height; row++) {
		const unsigned char *bits = &font_glyphs[idx][row * FONT_ROW_BYTES];
		for (uint32_t col = 0; col < FONT_WIDTH && x + col < s->width; col++) {
			bool on = bits[col / 8] & (0x80 >> (col % 8));
			put_pixel(s, x + col, y + row, on ? fg : bg);
		}
	}
}

/* Text rows the lines take when wrapped at cols characters. */
static uint32_t wrapped_rows(const char *const lines[], unsigned n, uint32_t cols)
{
	uint32_t rows = 0;
	for (unsigned i = 0; i < n; i++) {
		uint32_t len = 0;
		while (lines[i][len])
			len++;
		rows += len ? (len + cols - 1) / cols : 1;
	}
	return rows;
}

void stage_late_screen(const boot_framebuffer *fb, const char *const lines[], unsigned n)
{
	screen s;
	if (!screen_open(&s, fb) || s.width < 2 * MARGIN + FONT_WIDTH)
		return;
	uint32_t cols = (s.width - 2 * MARGIN) / FONT_WIDTH;
	uint32_t band = wrapped_rows(lines, n, cols) * FONT_HEIGHT + 2 * MARGIN;
	uint32_t red = colour(&s, 0xc0, 0x00, 0x00), white = colour(&s, 0xff, 0xff, 0xff);
	for (uint32_t y = 0; y < band && y < s.height; y++)
		for (uint32_t x = 0; x < s.width; x++)
			put_pixel(&s, x, y, red);
	uint32_t y = MARGIN;
	for (unsigned i = 0; i < n; i++) {
		const char *p = lines[i];
		do {
			for (uint32_t c = 0; c < cols && *p; c++, p++)
				draw_char(&s, MARGIN + c * FONT_WIDTH, y, *p, white, red);
			y += FONT_HEIGHT;
		} while (*p);
	}
}
