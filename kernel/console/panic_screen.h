/* panic_screen.h - a panic (or a fatal fault) before the framebuffer console has started
 * still reaches the screen: the console is started on the spot, on the live tables, and
 * replays everything printed before it. */
#ifndef KERNEL_PANIC_SCREEN_H
#define KERNEL_PANIC_SCREEN_H

#include "boot_info.h"

/* Gives the validated boot info to the panic path (kernel_main, right after checking it).
 * The test `drill=panic` on the command line panics here, before the console starts. */
void panic_screen_arm(const boot_info *bi);

/* Starts the framebuffer console if it has not been and the boot info is known; at most
 * once. For kpanic and the fatal-fault path, which print after it returns. */
void panic_screen_start(void);

#endif
