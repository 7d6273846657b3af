/* fbcon.h - the text console on the GOP framebuffer: everything the kernel prints, in a
 * packaged console font (converted at build time), scrolled from a shadow text buffer in
 * RAM, error lines in red. */
#ifndef KERNEL_FBCON_H
#define KERNEL_FBCON_H

#include <stdbool.h>

#include "boot_info.h"
#include "fb.h"
#include "paging.h"

/* Sets up the PAT, maps the framebuffer write-combining and clears the screen, then
 * replays what fbcon_write saw before it. Prints its own report lines (fbcon: ...).
 * Returns false, leaving the console off, when there is no usable framebuffer. */
bool fbcon_start(const boot_info *bi, const pg_space *ks);

/* The framebuffer as the console mapped it (its WC window, or UC without PAT), or NULL
 * when nothing is mapped: the one mapping through which the kernel reads it back. */
const fb_device *fbcon_device(void);

/* Appends text to the console. Before fbcon_start it is kept (up to a few KiB) for the
 * replay; without a framebuffer it is dropped. Never reads video memory. */
void fbcon_write(const char *s);

/* True once fbcon_start has run (whether or not it found a framebuffer). */
bool fbcon_started(void);

/* Brings the screen up to date with everything written so far. Writes batch the redraw
 * once text scrolls; call this before a halt, a panic, a fault report or leaving QEMU. */
void fbcon_flush(void);

#endif
