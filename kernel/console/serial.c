/* serial.c - COM1 driver. Polled, because the kernel prints little and must print
 * even from an exception handler with interrupts off. */
#include "serial.h"

#include "cpu.h"

#define COM1 0x3f8
enum { DATA = 0, IER = 1, FCR = 2, LCR = 3, MCR = 4, LSR = 5, SCR = 7 };
#define LSR_THR_EMPTY 0x20

static bool present;

/* A UART has a scratch register that keeps what is written to it; an empty port
 * reads back 0xff whatever was written. */
static bool uart_answers(void)
{
	outb(COM1 + SCR, 0x5a);
	if (inb(COM1 + SCR) != 0x5a)
		return false;
	outb(COM1 + SCR, 0xa5);
	return inb(COM1 + SCR) == 0xa5;
}

bool serial_init(void)
{
	if (!uart_answers())
		return present = false;
	outb(COM1 + IER, 0x00);   /* no interrupts */
	outb(COM1 + LCR, 0x80);   /* DLAB: divisor follows */
	outb(COM1 + DATA, 1);     /* 115200 baud */
	outb(COM1 + IER, 0);
	outb(COM1 + LCR, 0x03);   /* 8N1 */
	outb(COM1 + FCR, 0xc7);   /* FIFO on, cleared, 14-byte threshold */
	outb(COM1 + MCR, 0x03);   /* DTR, RTS */
	return present = true;
}

/* Bounded wait so a wedged UART slows output down but never hangs the kernel. */
void serial_putc(char c)
{
	if (!present)
		return;
	if (c == '\n')
		serial_putc('\r');
	for (unsigned spin = 0; spin < 100000; spin++)
		if (inb(COM1 + LSR) & LSR_THR_EMPTY)
			break;
	outb(COM1 + DATA, (uint8_t)c);
}

void serial_write(const char *s)
{
	while (*s)
		serial_putc(*s++);
}
