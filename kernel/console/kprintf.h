/* kprintf.h - formatted output to the kernel consoles (COM1 and the framebuffer). */
#ifndef KERNEL_KPRINTF_H
#define KERNEL_KPRINTF_H

#include <stdarg.h>
#include <stddef.h>

/* Supports %s %c %d %u %x %X %p and %%, the l/ll/z length modifiers, a field width
 * and the 0 flag. %p prints 0x and 16 hex digits, the log format for addresses. */
int kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int ksnprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Prints a message and halts: the kernel's answer to a broken invariant. */
void kpanic(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
