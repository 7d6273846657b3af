/* firmware.c - facts read from the firmware while boot services run: the memory map
 * (converted at once into the kernel's region list), the GOP framebuffer, the ACPI RSDP. */
#include "stage.h"

#include "memmap.h"

EFI_STATUS stage_read_memmap(mem_list *l)
{
	UINTN size = 0, key, desc_size;
	UINT32 desc_version;
	EFI_STATUS st = uefi_call_wrapper(BS->GetMemoryMap, 5, &size, NULL, &key, &desc_size,
					  &desc_version);
	if (st != EFI_BUFFER_TOO_SMALL) {
		Print(L"efi: error: GetMemoryMap size query: %r\n", st);
		return EFI_ERROR(st) ? st : EFI_DEVICE_ERROR;
	}
	size += 16 * desc_size; /* the pool allocation below adds descriptors */
	void *buf = AllocatePool(size);
	if (!buf) {
		Print(L"efi: error: no pool memory for the memory map (%ld bytes)\n", size);
		return EFI_OUT_OF_RESOURCES;
	}
	st = uefi_call_wrapper(BS->GetMemoryMap, 5, &size, buf, &key, &desc_size, &desc_version);
	if (EFI_ERROR(st)) {
		Print(L"efi: error: GetMemoryMap: %r\n", st);
		FreePool(buf);
		return st;
	}
	memmap_stats stats;
	pg_err e = memmap_convert(buf, size, desc_size, l, &stats);
	FreePool(buf);
	if (e != PG_OK) {
		Print(L"efi: error: memory map conversion: %a\n", pg_strerror(e));
		return EFI_LOAD_ERROR;
	}
	Print(L"efi: memmap descriptors=%ld desc_size=%ld regions=%ld overlaps=%ld\n",
	      stats.descriptors, desc_size, l->count, stats.overlaps);
	return EFI_SUCCESS;
}

/* A GOP the kernel can draw on: a current mode with a linear framebuffer. */
static bool gop_linear(const EFI_GRAPHICS_OUTPUT_PROTOCOL *gop)
{
	return gop && gop->Mode && gop->Mode->Info && gop->Mode->FrameBufferBase &&
	       gop->Mode->Info->PixelFormat != PixelBltOnly;
}

/* The GOP on the console-out handle, which is the screen the firmware shows its console
 * on (on a hybrid-graphics laptop the first GOP may drive a screen nobody looks at);
 * else the first GOP in the handle database. *source says which, and *conout why the
 * console's was not taken (EDK2's console splitter over two screens has no linear one). */
static EFI_GRAPHICS_OUTPUT_PROTOCOL *find_gop(const char **source, const char **conout,
					      EFI_STATUS *st)
{
	EFI_GUID gop_guid = EFI_GRAPHICS_OUTPUT_PROTOCOL_GUID;
	EFI_GRAPHICS_OUTPUT_PROTOCOL *gop = NULL;
	*conout = "none";
	if (ST->ConsoleOutHandle &&
	    !EFI_ERROR(uefi_call_wrapper(BS->HandleProtocol, 3, ST->ConsoleOutHandle, &gop_guid,
					 (void **)&gop)) && gop) {
		*source = "conout";
		if (gop_linear(gop))
			return gop;
		*conout = "not-linear";
	}
	gop = NULL;
	*source = "first";
	*st = uefi_call_wrapper(BS->LocateProtocol, 3, &gop_guid, NULL, (void **)&gop);
	return EFI_ERROR(*st) ? NULL : gop;
}

static void framebuffer_facts(boot_framebuffer *fb)
{
	const char *source, *conout;
	EFI_STATUS st = EFI_SUCCESS;
	EFI_GRAPHICS_OUTPUT_PROTOCOL *gop = find_gop(&source, &conout, &st);
	fb->format = BOOT_FB_NONE;
	if (EFI_ERROR(st) || !gop || !gop->Mode || !gop->Mode->Info) {
		Print(L"efi: gop source=none conout=%a (%r)\n", conout, st);
		Print(L"efi: fb none (%r)\n", st);
		return;
	}
	if (source[0] == 'c')
		Print(L"efi: gop source=conout mode=%d modes=%d %dx%d\n", gop->Mode->Mode,
		      gop->Mode->MaxMode, gop->Mode->Info->HorizontalResolution,
		      gop->Mode->Info->VerticalResolution);
	else
		Print(L"efi: gop source=first conout=%a mode=%d modes=%d %dx%d\n", conout,
		      gop->Mode->Mode, gop->Mode->MaxMode, gop->Mode->Info->HorizontalResolution,
		      gop->Mode->Info->VerticalResolution);
	EFI_GRAPHICS_OUTPUT_MODE_INFORMATION *info = gop->Mode->Info;
	if (info->PixelFormat == PixelBltOnly) {
		Print(L"efi: fb blt-only, no linear framebuffer\n");
		return;
	}
	fb->base = gop->Mode->FrameBufferBase;
	fb->size = gop->Mode->FrameBufferSize;
	fb->width = info->HorizontalResolution;
	fb->height = info->VerticalResolution;
	fb->stride = info->PixelsPerScanLine;
	fb->format = info->PixelFormat == PixelRedGreenBlueReserved8BitPerColor ? BOOT_FB_RGB
		   : info->PixelFormat == PixelBlueGreenRedReserved8BitPerColor ? BOOT_FB_BGR
		   : BOOT_FB_BITMASK;
	fb->red_mask = info->PixelInformation.RedMask;
	fb->green_mask = info->PixelInformation.GreenMask;
	fb->blue_mask = info->PixelInformation.BlueMask;
	fb->reserved_mask = info->PixelInformation.ReservedMask;
	Print(L"efi: fb base=0x%016lx size=%ld %dx%d stride=%d format=%d\n", fb->base, fb->size,
	      fb->width, fb->height, fb->stride, fb->format);
}

/* The RSDP from the configuration table: the ACPI 2.0 entry when present. */
static void acpi_facts(boot_info *bi)
{
	EFI_GUID acpi20 = ACPI_20_TABLE_GUID, acpi10 = ACPI_TABLE_GUID;
	for (UINTN i = 0; i < ST->NumberOfTableEntries; i++) {
		EFI_CONFIGURATION_TABLE *t = &ST->ConfigurationTable[i];
		if (CompareGuid(&t->VendorGuid, &acpi20) == 0) {
			bi->acpi_rsdp = (uint64_t)(UINTN)t->VendorTable;
			bi->acpi_revision = 2;
		} else if (CompareGuid(&t->VendorGuid, &acpi10) == 0 && bi->acpi_revision < 2) {
			bi->acpi_rsdp = (uint64_t)(UINTN)t->VendorTable;
			bi->acpi_revision = 1;
		}
	}
	Print(L"efi: acpi rsdp=0x%016lx revision=%d\n", bi->acpi_rsdp, bi->acpi_revision);
}

void stage_firmware_facts(boot_info *bi)
{
	framebuffer_facts(&bi->fb);
	acpi_facts(bi);
}
