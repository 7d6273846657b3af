/* loadopt.h - what kernel.efi does with its command line when the firmware, not the EFI
 * shell, started it: firmware load options (U-Boot's bootargs, a boot entry's
 * OptionalData) that are not kernel.efi commands are reported and ignored, not refused. */
#ifndef EFI_PURE_LOADOPT_H
#define EFI_PURE_LOADOPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fmt.h"

#define LOADOPT_SHOW_MAX 64 /* characters of ignored options quoted in the report line */

typedef enum {
	LOADOPT_NONE,   /* nothing to act on: boot with the defaults (the prompt is offered) */
	LOADOPT_RUN,    /* a command line to obey; if it did not parse, refuse it */
	LOADOPT_IGNORE, /* firmware options that are no command: report them, then as NONE */
} loadopt_action;

/* from_shell: the EFI shell gave argv (it wins over load options); words_ok: the line
 * became ASCII words (argc of them); parsed_ok: args_parse accepted them. The shell's
 * wrong words are refused; the firmware's are ignored, since it passes whatever its
 * boot entry or environment holds, which the user of kernel.efi may not control. */
loadopt_action loadopt_decide(bool from_shell, bool words_ok, int argc, bool parsed_ok);

/* Appends the raw load options (UTF-16, bytes long, possibly binary, possibly odd-sized)
 * to l as a quoted string: up to the first NUL, printable ASCII as is, `"` and `\`
 * escaped, other code units as \uXXXX, at most LOADOPT_SHOW_MAX of them (then ...),
 * followed by bytes=N. One line stays one line whatever the firmware passed. */
void loadopt_quote(fmt_line *l, const uint16_t *opt, size_t bytes);

#endif
