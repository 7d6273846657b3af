/* playground.h - a place to try things once the memory core is up (see
 * docs/from-the-post.md, "Your own mapping"). */
#ifndef KERNEL_PLAYGROUND_H
#define KERNEL_PLAYGROUND_H

/* Called once by kernel_main right after the memory core (kmem_init) and before the boot
 * report and the tour. Does nothing unless you add code, or the build adds the guide's
 * solution (make playground-test: -DPLAYGROUND_EXERCISE and the extracted code). */
void playground_run(void);

/* The guide's exercise, when the build provides it (PLAYGROUND_EXERCISE). */
void playground_exercise(void);

#endif
