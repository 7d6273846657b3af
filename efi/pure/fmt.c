/* fmt.c - the line formatter of fmt.h: the one place where numbers become text in the
 * pure EFI-stage code, so every report spells addresses the same way. */
#include "fmt.h"

void fmt_init(fmt_line *l, char *buf, size_t cap)
{
	l->buf = buf;
	l->cap = cap;
	l->len = 0;
	l->truncated = false;
	if (cap)
		buf[0] = '\0';
}

void fmt_char(fmt_line *l, char c)
{
	if (l->len + 1 >= l->cap) {
		l->truncated = true;
		return;
	}
	l->buf[l->len++] = c;
	l->buf[l->len] = '\0';
}

void fmt_str(fmt_line *l, const char *s)
{
	while (s && *s)
		fmt_char(l, *s++);
}

/* Appends the low `digits` hex digits of v, most significant first. */
static void hex_digits(fmt_line *l, uint64_t v, unsigned digits)
{
	static const char hex[] = "0123456789abcdef";
	while (digits--)
		fmt_char(l, hex[(v >> (4 * digits)) & 0xf]);
}

void fmt_word(fmt_line *l, const char *s)
{
	for (; s && *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch >= 0x20 && ch < 0x7f) {
			fmt_char(l, (char)ch);
		} else {
			fmt_str(l, "\\x");
			hex_digits(l, ch, 2);
		}
	}
}

void fmt_hex16(fmt_line *l, uint64_t v)
{
	fmt_str(l, "0x");
	hex_digits(l, v, 16);
}

void fmt_hex(fmt_line *l, uint64_t v)
{
	unsigned digits = 1;
	while (digits < 16 && (v >> (4 * digits)))
		digits++;
	fmt_str(l, "0x");
	hex_digits(l, v, digits);
}

void fmt_dec(fmt_line *l, uint64_t v)
{
	char tmp[20]; /* 2^64 - 1 has 20 digits */
	unsigned n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		fmt_char(l, tmp[--n]);
}

void fmt_pad(fmt_line *l, size_t column)
{
	while (l->len < column && !l->truncated)
		fmt_char(l, ' ');
}

void fmt_size(fmt_line *l, uint64_t bytes)
{
	static const struct { unsigned shift; const char *unit; } units[] = {
		{ 40, "TiB" }, { 30, "GiB" }, { 20, "MiB" }, { 10, "KiB" },
	};
	for (unsigned i = 0; bytes && i < sizeof(units) / sizeof(units[0]); i++) {
		if (bytes & ((1ull << units[i].shift) - 1))
			continue;
		fmt_dec(l, bytes >> units[i].shift);
		fmt_str(l, units[i].unit);
		return;
	}
	fmt_dec(l, bytes);
	fmt_char(l, 'B');
}

bool fmt_streq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

bool fmt_streq_nocase(const char *a, const char *b)
{
	while (*a && lower(*a) == lower(*b))
		a++, b++;
	return lower(*a) == lower(*b);
}
