/* fmt.h - a tiny line formatter for the pure EFI-stage code (no libc): text, 0x + 16
 * hex digits, decimal and byte sizes appended to a caller's fixed buffer, and the line
 * sink through which reports and the usage text reach whatever console there is. */
#ifndef EFI_PURE_FMT_H
#define EFI_PURE_FMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Receives one complete line of ASCII, without a newline. */
typedef void (*fmt_sink)(void *ctx, const char *line);

/* A line under construction in buf[cap]; always NUL terminated. Text that does not fit
 * is dropped and `truncated` set, so a too-long line is visibly cut, never overrun. */
typedef struct {
	char *buf;
	size_t cap;
	size_t len;
	bool truncated;
} fmt_line;

void fmt_init(fmt_line *l, char *buf, size_t cap);
void fmt_char(fmt_line *l, char c);
void fmt_str(fmt_line *l, const char *s);
/* Text that came from outside (a user's word): printable ASCII as is, anything else
 * (a newline, an escape, a byte above 0x7e) as \xNN, so one line stays one line. */
void fmt_word(fmt_line *l, const char *s);
void fmt_hex16(fmt_line *l, uint64_t v);     /* "0x" and exactly 16 lower-case digits */
void fmt_hex(fmt_line *l, uint64_t v);       /* "0x" and as few digits as needed */
void fmt_dec(fmt_line *l, uint64_t v);
void fmt_pad(fmt_line *l, size_t column);    /* spaces up to column (none if past it) */
/* bytes as the largest of TiB, GiB, MiB, KiB that divides it exactly ("4GiB",
 * "12KiB"), else plain bytes ("4097B"). */
void fmt_size(fmt_line *l, uint64_t bytes);

/* ASCII helpers the parsers need. */
bool fmt_streq(const char *a, const char *b);         /* exact */
bool fmt_streq_nocase(const char *a, const char *b);  /* ASCII letters folded */

#endif
