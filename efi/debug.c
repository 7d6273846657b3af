/* debug.c - the EFI stage's load address for gdb (make debug prints how to use it). The
 * image is linked at 0, so every symbol's run-time address is the image base plus its
 * link-time address. */
#include "debug.h"

#include <efilib.h>

extern char _text[]; /* gnu-efi's linker script: the start of .text */

void stage_print_image_base(EFI_HANDLE image)
{
	EFI_LOADED_IMAGE *li = NULL;
	if (EFI_ERROR(uefi_call_wrapper(BS->HandleProtocol, 3, image, &LoadedImageProtocol,
					(void **)&li)) || !li) {
		Print(L"efi: image base=unknown\n");
		return;
	}
	Print(L"efi: image base=0x%016lx text=0x%016lx\n", (uint64_t)(UINTN)li->ImageBase,
	      (uint64_t)(UINTN)_text);
}
