/* fbcon.c - the framebuffer text console. The characters and colours live in a shadow
 * buffer in RAM beside a copy of what the screen shows; once text scrolls, the screen is
 * brought up to date in batches (a screenful of lines, or fbcon_flush), redrawing only the
 * cells that differ, so video memory is written, never read. The first text row is left
 * alone: it holds the framebuffer's first page, where the tour draws through its mapping. */
#include "fbcon.h"

#include <stddef.h>
#include <stdint.h>

#include "fb.h"
#include "pat.h"
#include "font_data.h" /* generated from a packaged PSF console font: scripts/psf2c.py */
#include "kprintf.h"

#define MAX_COLS 256
#define MAX_ROWS 160
#define LINE_KEEP 256 /* characters of the current line kept to choose its colour */
#define EARLY_BYTES 4096
#define FALLBACK_GLYPH (FONT_LAST - FONT_FIRST + 1)

enum colour { C_TEXT, C_KEY, C_ERROR, C_READY, C_NOTE, C_COUNT };
enum style { S_PLAIN, S_ERROR, S_READY, S_NOTE };
static const uint8_t rgb[C_COUNT][3] = {
	[C_TEXT] = { 0xd0, 0xd0, 0xd0 },
	[C_KEY] = { 0x70, 0xb0, 0xf0 },
	[C_ERROR] = { 0xff, 0x50, 0x50 },
	[C_READY] = { 0x50, 0xf0, 0x50 },
	[C_NOTE] = { 0xf0, 0xc0, 0x40 },
};

/* A cell is character | colour << 8; every blank is BLANK, whatever its colour, so that
 * scrolling can skip cells that stay blank. */
#define CELL(ch, colour) ((uint16_t)((uint8_t)(ch) | (colour) << 8))
#define BLANK CELL(' ', C_TEXT)

static fb_device fb;
static bool started, on;
static uint32_t fg[C_COUNT], bg;
static uint16_t cells[MAX_ROWS][MAX_COLS]; /* what the screen should show */
static uint16_t shown[MAX_ROWS][MAX_COLS]; /* what it shows */
static unsigned lag; /* scrolls since the screen was last brought up to date */
static unsigned cols, rows, top; /* text area: rows x cols cells from pixel row top */
static unsigned col, row;        /* cursor */

/* The current logical line: where it began (negative once scrolled off), how many cells
 * it has, its first characters and the colouring they chose. */
static int line_row;
static unsigned line_len, key_len;
static char line[LINE_KEEP];
static enum style style;
static bool expected_fault; /* between "fault: expected" and "fault: resumed" */

static char early[EARLY_BYTES];
static unsigned early_len;

static void draw_cell(unsigned r, unsigned c)
{
	uint16_t v = cells[r][c];
	shown[r][c] = v;
	uint32_t x = c * FONT_WIDTH, y = top + r * FONT_HEIGHT;
	if (v == BLANK) {
		fb_fill(&fb, x, y, FONT_WIDTH, FONT_HEIGHT, bg);
		return;
	}
	unsigned ch = v & 0xff, glyph = ch >= FONT_FIRST && ch <= FONT_LAST ? ch - FONT_FIRST
									  : FALLBACK_GLYPH;
	fb_bitmap(&fb, x, y, font_glyphs[glyph], FONT_WIDTH, FONT_HEIGHT, FONT_ROW_BYTES,
		  fg[v >> 8], bg);
}

/* Stores a cell; draws it at once while no scroll is pending (text on a screen that is up
 * to date costs only its own cells), else leaves it to the next flush. */
static void set_cell(unsigned r, unsigned c, uint16_t v)
{
	cells[r][c] = v;
	if (!lag && shown[r][c] != v)
		draw_cell(r, c);
}

void fbcon_flush(void)
{
	if (!on || !lag)
		return;
	for (unsigned r = 0; r < rows; r++)
		for (unsigned c = 0; c < cols; c++)
			if (shown[r][c] != cells[r][c])
				draw_cell(r, c);
	lag = 0;
}

/* Moves every row of the shadow buffer up by one. The screen follows a screenful of
 * lines later (or at a flush): per line, a full redraw cost milliseconds. */
static void scroll(void)
{
	for (unsigned r = 0; r + 1 < rows; r++)
		for (unsigned c = 0; c < cols; c++)
			cells[r][c] = cells[r + 1][c];
	for (unsigned c = 0; c < cols; c++)
		cells[rows - 1][c] = BLANK;
	line_row--;
	if (++lag >= rows)
		fbcon_flush();
}

static void next_row(void)
{
	col = 0;
	if (++row == rows) {
		scroll();
		row = rows - 1;
	}
}

/* Where word first occurs in the n characters at s, or -1. */
static int find(const char *s, unsigned n, const char *word)
{
	for (unsigned i = 0; i < n; i++) {
		unsigned k = 0;
		while (word[k] && i + k < n && s[i + k] == word[k])
			k++;
		if (!word[k])
			return (int)i;
	}
	return -1;
}

/* A line reports a failure: a failed check or count, a panic, an unexpected exception.
 * A fault report is one too, unless it follows "fault: expected" (a test's probe). */
static bool is_error(const char *s, unsigned n)
{
	static const char *const words[] = { "FAIL", "=fail", "panic", "exception",
					     "error:", "unexpected", "halted", "mismatch " };
	static const char *const counts[] = { "failed=", "mismatches=" }; /* bad if not 0 */
	for (unsigned i = 0; i < sizeof words / sizeof words[0]; i++)
		if (find(s, n, words[i]) >= 0)
			return true;
	for (unsigned i = 0; i < sizeof counts / sizeof counts[0]; i++) {
		int at = find(s, n, counts[i]);
		if (at < 0)
			continue;
		unsigned d = (unsigned)at, k = 0;
		while (counts[i][k])
			d++, k++;
		if (d < n && s[d] >= '1' && s[d] <= '9')
			return true;
	}
	return find(s, n < 6 ? n : 6, "fault:") == 0 && !expected_fault;
}

/* Errors in red, an expected fault's report in amber, the ready line in green, else the
 * "subsystem:" prefix stands out. */
static void classify(void)
{
	unsigned n = line_len < LINE_KEEP ? line_len : LINE_KEEP;
	bool note = expected_fault || (n >= 15 && find(line, 15, "fault: expected") == 0);
	style = S_PLAIN;
	if (note && n >= 6 && find(line, 6, "fault:") == 0)
		style = S_NOTE;
	else if (is_error(line, n))
		style = S_ERROR;
	else if (n >= 12 && find(line, 12, "kernel: read") == 0)
		style = S_READY;
	key_len = 0;
	for (unsigned i = 0; i < n && i < 24 && line[i] != ' '; i++)
		if (line[i] == ':') {
			key_len = i + 1;
			break;
		}
}

static enum colour colour_at(unsigned pos)
{
	if (style == S_ERROR)
		return C_ERROR;
	if (style == S_READY)
		return C_READY;
	if (style == S_NOTE)
		return C_NOTE;
	return pos < key_len ? C_KEY : C_TEXT;
}

/* Gives the cells of the current line that are still on screen the colours of its
 * current classification. */
static void restyle(void)
{
	for (unsigned p = 0; p < line_len; p++) {
		int r = line_row + (int)(p / cols);
		if (r < 0)
			continue;
		uint16_t v = cells[r][p % cols];
		if (v != BLANK)
			set_cell((unsigned)r, p % cols, CELL(v & 0xff, colour_at(p)));
	}
}

static void put_char(char ch)
{
	if (col == cols)
		next_row();
	if ((uint8_t)ch < 0x20 || (uint8_t)ch > 0x7e)
		ch = '?';
	if (line_len < LINE_KEEP)
		line[line_len] = ch;
	set_cell(row, col, ch == ' ' ? BLANK : CELL(ch, colour_at(line_len)));
	col++;
	line_len++;
}

/* Adds n characters (no newline among them) to the current line: first recolours the
 * line if they change its classification, then draws them. */
static void put_text(const char *s, unsigned n)
{
	enum style old_style = style;
	unsigned old_key = key_len, len = line_len;
	for (unsigned i = 0; i < n && len + i < LINE_KEEP; i++)
		line[len + i] = s[i] == '\t' ? ' ' : s[i];
	line_len = len + n;
	classify();
	line_len = len;
	if (style != old_style || key_len != old_key)
		restyle();
	for (unsigned i = 0; i < n; i++) {
		if (s[i] == '\t')
			do
				put_char(' ');
			while (col % 8 && col < cols);
		else if (s[i] != '\r')
			put_char(s[i]);
	}
}

/* Ends the current line; it may open or close an expected fault's report. */
static void new_line(void)
{
	unsigned n = line_len < LINE_KEEP ? line_len : LINE_KEEP;
	if (n >= 15 && find(line, 15, "fault: expected") == 0)
		expected_fault = true;
	else if (n >= 14 && find(line, 14, "fault: resumed") == 0)
		expected_fault = false;
	next_row();
	line_row = (int)row;
	line_len = key_len = 0;
	style = S_PLAIN;
}

static void keep_early(const char *s)
{
	while (*s && early_len < EARLY_BYTES)
		early[early_len++] = *s++;
}

void fbcon_write(const char *s)
{
	if (!started) {
		keep_early(s);
		return;
	}
	if (!on)
		return;
	while (*s) {
		unsigned n = 0;
		while (s[n] && s[n] != '\n')
			n++;
		put_text(s, n);
		s += n;
		if (*s == '\n') {
			new_line();
			s++;
		}
	}
}

/* Lays out the text grid below the band that holds the framebuffer's first page. */
static void layout(void)
{
	unsigned band = (4096 + fb.pitch - 1) / fb.pitch;
	top = (band + FONT_HEIGHT - 1) / FONT_HEIGHT * FONT_HEIGHT;
	cols = fb.width / FONT_WIDTH;
	rows = fb.height > top ? (fb.height - top) / FONT_HEIGHT : 0;
	if (cols > MAX_COLS)
		cols = MAX_COLS;
	if (rows > MAX_ROWS)
		rows = MAX_ROWS;
	for (unsigned r = 0; r < MAX_ROWS; r++)
		for (unsigned c = 0; c < MAX_COLS; c++)
			cells[r][c] = shown[r][c] = BLANK;
	bg = fb_color(&fb, 0, 0, 0);
	for (int c = 0; c < C_COUNT; c++)
		fg[c] = fb_color(&fb, rgb[c][0], rgb[c][1], rgb[c][2]);
}

static const char *format_name(uint32_t f)
{
	return f == BOOT_FB_RGB ? "rgb" : f == BOOT_FB_BGR ? "bgr" : "bitmask";
}

bool fbcon_start(const boot_info *bi, const pg_space *ks)
{
	bool wc = pat_init(pg_pat_value()); /* PG_CACHE_WC means write-combining from here */
	const char *why = fb_init(&fb, &bi->fb, ks, wc);
	started = true;
	if (!why) {
		layout();
		if (rows < 2 || cols < 16)
			why = "screen too small for the font";
	}
	if (why) {
		kprintf("fbcon: off reason=\"%s\"\n", why);
		return false;
	}
	fb_fill(&fb, 0, 0, fb.width, fb.height, bg);
	on = true;
	early[early_len < EARLY_BYTES ? early_len : EARLY_BYTES - 1] = '\0';
	fbcon_write(early);
	kprintf("fb: pat=0x%016lx wc=%u\n", (unsigned long)pg_pat_value(), (unsigned)wc);
	kprintf("fb: window=%p bytes=%lu cache=%s\n", (void *)fb.window_va,
		(unsigned long)fb.window_bytes, wc ? "wc" : "uc");
	kprintf("fbcon: cols=%u rows=%u font=%ux%u top=%u format=%s bytes_pp=%u\n", cols, rows,
		FONT_WIDTH, FONT_HEIGHT, top, format_name(fb.format), fb.bytes_pp);
	return true;
}

bool fbcon_started(void)
{
	return started;
}

const fb_device *fbcon_device(void)
{
	return fb.window_va ? &fb : NULL;
}
