/* debug.h - what a debugger needs from the EFI stage: where the firmware loaded it. */
#ifndef EFI_DEBUG_H
#define EFI_DEBUG_H

#include <efi.h>

/* Prints "efi: image base=0x... text=0x..." (the load address and where .text landed), so
 * that gdb can take the stage's symbols: add-symbol-file kernel.so -o BASE. */
void stage_print_image_base(EFI_HANDLE image);

#endif
