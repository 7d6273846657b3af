/* serial.h - COM1 (16550 UART) console: polled output only. */
#ifndef KERNEL_SERIAL_H
#define KERNEL_SERIAL_H

#include <stdbool.h>

/* Programs COM1 for 115200 8N1. Returns false (and keeps output off) when no UART
 * answers at the port, so a machine without one does not hang. */
bool serial_init(void);
void serial_putc(char c);
void serial_write(const char *s);

#endif
