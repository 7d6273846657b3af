/* kprintf.c - a small printf for the kernel: integers, strings and addresses only,
 * since the kernel is built without floating point. */
#include "kprintf.h"

#include <stdbool.h>
#include <stdint.h>

#include "cpu.h"
#include "fbcon.h"
#include "serial.h"

typedef struct {
	char *buf;
	size_t size;
	size_t len; /* characters produced, even past size */
} sink;

static void put(sink *s, char c)
{
	if (s->len + 1 < s->size)
		s->buf[s->len] = c;
	s->len++;
}

/* Writes v in the given base, at least width digits wide, padded with pad. */
static void put_uint(sink *s, uint64_t v, unsigned base, bool upper, int width, char pad)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int n = 0;
	do {
		tmp[n++] = digits[v % base];
		v /= base;
	} while (v);
	while (width-- > n)
		put(s, pad);
	while (n)
		put(s, tmp[--n]);
}

static void put_str(sink *s, const char *str, int width)
{
	int n = 0;
	if (!str)
		str = "(null)";
	while (str[n])
		n++;
	while (width-- > n)
		put(s, ' ');
	while (*str)
		put(s, *str++);
}

/* Reads an integer argument of the given length (0 int, 1 long, 2 long long, 3 size_t). */
static uint64_t arg_uint(va_list *ap, int length, bool is_signed, bool *negative)
{
	int64_t sv;
	*negative = false;
	if (!is_signed) {
		if (length == 0)
			return va_arg(*ap, unsigned);
		if (length == 3)
			return va_arg(*ap, size_t);
		return length == 1 ? va_arg(*ap, unsigned long) : va_arg(*ap, unsigned long long);
	}
	if (length == 0)
		sv = va_arg(*ap, int);
	else if (length == 3)
		sv = (int64_t)va_arg(*ap, size_t);
	else
		sv = length == 1 ? va_arg(*ap, long) : va_arg(*ap, long long);
	*negative = sv < 0;
	return *negative ? (uint64_t)0 - (uint64_t)sv : (uint64_t)sv;
}

int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	sink s = { buf, size, 0 };
	va_list args;
	va_copy(args, ap);
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			put(&s, *fmt);
			continue;
		}
		fmt++;
		char pad = ' ';
		int width = 0, length = 0;
		if (*fmt == '0') {
			pad = '0';
			fmt++;
		}
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		for (; *fmt == 'l' || *fmt == 'z'; fmt++)
			length = *fmt == 'z' ? 3 : length + 1;
		bool neg;
		uint64_t v;
		switch (*fmt) {
		case 'd':
		case 'i':
			v = arg_uint(&args, length, true, &neg);
			if (neg)
				put(&s, '-');
			put_uint(&s, v, 10, false, width - neg, pad);
			break;
		case 'u':
			put_uint(&s, arg_uint(&args, length, false, &neg), 10, false, width, pad);
			break;
		case 'x':
		case 'X':
			put_uint(&s, arg_uint(&args, length, false, &neg), 16, *fmt == 'X', width, pad);
			break;
		case 'p':
			put(&s, '0');
			put(&s, 'x');
			put_uint(&s, (uint64_t)(uintptr_t)va_arg(args, void *), 16, false, 16, '0');
			break;
		case 's':
			put_str(&s, va_arg(args, const char *), width);
			break;
		case 'c':
			put(&s, (char)va_arg(args, int));
			break;
		case '%':
			put(&s, '%');
			break;
		case '\0':
			fmt--;
			break;
		default: /* unknown conversion: show it rather than guess */
			put(&s, '%');
			put(&s, *fmt);
		}
	}
	va_end(args);
	if (size)
		buf[s.len < size ? s.len : size - 1] = '\0';
	return (int)s.len;
}

int ksnprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = kvsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

/* Formats into a line buffer first so that one call is one write to the console. */
int kprintf(const char *fmt, ...)
{
	char line[256];
	va_list ap;
	va_start(ap, fmt);
	int n = kvsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	serial_write(line);
	fbcon_write(line);
	return n;
}

void kpanic(const char *fmt, ...)
{
	char line[256];
	va_list ap;
	va_start(ap, fmt);
	kvsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	serial_write("panic: ");
	serial_write(line);
	serial_write("\n");
	fbcon_write("panic: ");
	fbcon_write(line);
	fbcon_write("\n");
	cpu_halt_forever();
}
