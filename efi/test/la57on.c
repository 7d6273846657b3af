/* la57on.c - a test-only EFI program (never on the stick or the README's ESP): puts the
 * running firmware into 5-level paging the way firmware built with 5-level support leaves
 * it, then starts kernel.efi from the same volume. Debian's OVMF never turns LA57 on, so
 * this is how make la57-test creates the state issue 11 is about.
 *
 * The new PML5's entry 0 points at the firmware's PML4, so every address the firmware maps
 * (all in the lower 256 TiB) stays where it was. CR4.LA57 can only change with paging off,
 * so the switch goes through the same trampoline as kernel.efi's handoff (handoff.S), in
 * its return-to-caller form. Then LoadImage + StartImage run \kernel.efi with this
 * program's load options, its own name replaced by kernel.efi's: `la57on.efi boot --levels
 * 5` boots as `kernel.efi boot --levels 5` would, but with the firmware in 5-level mode. */
#include <efi.h>
#include <efilib.h>
#include <stdbool.h>

#include "cpu.h"
#include "handoff.h"

#define ADDR_MASK 0x000ffffffffff000ull

static EFI_STATUS alloc_low(EFI_MEMORY_TYPE type, uint64_t *pa)
{
	EFI_PHYSICAL_ADDRESS a = 0xfffff000ull;
	EFI_STATUS st = uefi_call_wrapper(BS->AllocatePages, 4, AllocateMaxAddress, type, 1, &a);
	*pa = a;
	if (EFI_ERROR(st))
		Print(L"la57on: error: no page below 4 GiB: %r\n", st);
	return st;
}

/* Builds the PML5 over the firmware's PML4 and switches to it; the firmware's own
 * services keep working afterwards (the caller prints through them). */
static EFI_STATUS go_5_level(void)
{
	uint64_t code, data, pml5, cr3 = read_cr3();
	EFI_STATUS st;
	/* The PML5 stays for as long as the firmware runs: boot-services memory, as the
	 * firmware's own tables are. The trampoline's pages are given back afterwards. */
	if (EFI_ERROR((st = alloc_low(EfiBootServicesData, &pml5))) ||
	    EFI_ERROR((st = alloc_low(EfiLoaderCode, &code))) ||
	    EFI_ERROR((st = alloc_low(EfiLoaderData, &data))))
		return st;
	ZeroMem((void *)(UINTN)pml5, 4096);
	((uint64_t *)(UINTN)pml5)[0] = (cr3 & ADDR_MASK) | 0x3; /* present, writable */
	handoff_plan plan = { code, data, pml5, 5, 0, 0, 0, 0 }; /* the new root, without PWT/PCD */
	if (!handoff_prepare(&plan)) {
		Print(L"la57on: error: trampoline pages not below 4 GiB\n");
		return EFI_LOAD_ERROR;
	}
	bool changed = handoff_run(&plan);
	uefi_call_wrapper(BS->FreePages, 2, code, 1);
	uefi_call_wrapper(BS->FreePages, 2, data, 1);
	Print(L"la57on: firmware now in 5-level paging: cr4.la57=%d cr3=0x%016lx "
	      L"pml5[0]=0x%016lx (the firmware's pml4) via_32bit=%d\n",
	      (int)((read_cr4() & CR4_LA57) != 0), read_cr3(), ((uint64_t *)(UINTN)pml5)[0],
	      (int)changed);
	return (read_cr4() & CR4_LA57) ? EFI_SUCCESS : EFI_DEVICE_ERROR;
}

/* Our load options after the first word (our own name), or NULL when there are none. */
static const CHAR16 *rest_of_options(const EFI_LOADED_IMAGE *li)
{
	const CHAR16 *s = li->LoadOptions;
	UINTN n = li->LoadOptionsSize / sizeof(CHAR16), i = 0;
	if (!s || n == 0)
		return NULL;
	while (i < n && s[i] && s[i] == ' ')
		i++;
	while (i < n && s[i] && s[i] != ' ')
		i++;
	while (i < n && s[i] == ' ')
		i++;
	return i < n && s[i] ? &s[i] : NULL;
}

static EFI_STATUS start_kernel(EFI_HANDLE image)
{
	static CHAR16 opts[512];
	EFI_LOADED_IMAGE *li = NULL, *kli = NULL;
	EFI_HANDLE child = NULL;
	EFI_STATUS st = uefi_call_wrapper(BS->HandleProtocol, 3, image, &LoadedImageProtocol,
					  (void **)&li);
	if (EFI_ERROR(st))
		return st;
	EFI_DEVICE_PATH *path = FileDevicePath(li->DeviceHandle, L"\\kernel.efi");
	if (!path)
		return EFI_OUT_OF_RESOURCES;
	st = uefi_call_wrapper(BS->LoadImage, 6, FALSE, image, path, NULL, 0, &child);
	if (EFI_ERROR(st)) {
		Print(L"la57on: error: LoadImage \\kernel.efi: %r\n", st);
		return st;
	}
	const CHAR16 *rest = rest_of_options(li);
	if (rest) {
		StrCpy(opts, L"kernel.efi ");
		UINTN have = StrLen(opts), i = 0;
		while (rest[i] && have + 1 < sizeof(opts) / sizeof(opts[0]) &&
		       (UINTN)(&rest[i] - (const CHAR16 *)li->LoadOptions) <
			       li->LoadOptionsSize / sizeof(CHAR16))
			opts[have++] = rest[i++];
		opts[have] = 0;
		uefi_call_wrapper(BS->HandleProtocol, 3, child, &LoadedImageProtocol, (void **)&kli);
		if (kli) {
			kli->LoadOptions = opts;
			kli->LoadOptionsSize = (UINT32)((have + 1) * sizeof(CHAR16));
		}
	}
	Print(L"la57on: starting \\kernel.efi options=\"%s\"\n", rest ? opts : L"");
	st = uefi_call_wrapper(BS->StartImage, 3, child, NULL, NULL);
	Print(L"la57on: kernel.efi returned %r (cr4.la57=%d)\n", st,
	      (int)((read_cr4() & CR4_LA57) != 0));
	return st;
}

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab);
EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab)
{
	InitializeLib(image, systab);
	Print(L"la57on: cpu la57=%d firmware cr4.la57=%d\n", cpu_has_la57(),
	      (int)((read_cr4() & CR4_LA57) != 0));
	if (!cpu_has_la57()) {
		Print(L"la57on: error: this CPU has no 5-level paging (CPUID.7.0:ECX[16])\n");
		return EFI_UNSUPPORTED;
	}
	if (!(read_cr4() & CR4_LA57)) {
		EFI_STATUS st = go_5_level();
		if (EFI_ERROR(st))
			return st;
	}
	return start_kernel(image);
}
