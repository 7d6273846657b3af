/* shell.c - the inspection commands on the gnu-efi side: the command line from the EFI
 * shell (or the load options, or a prompt at start-up when there is neither), CHAR16 to
 * ASCII, the pager of -b, and the commands themselves on the live firmware. What they
 * print is formatted by efi/pure/report.c; what they accept is efi/pure/args.c. */
#include "shell.h"

#include <efishellintf.h>

#include "addrs.h"
#include "args.h"
#include "loadopt.h"
#include "memmap.h"
#include "report.h"

#define MAX_ARGS    48          /* words on a command line (more is an error) */
#define ARG_BYTES   1024        /* their ASCII text, NULs included */
#define GIB         (1ull << 30)
#define TOUR_PAGE   0x00000deadbeaf000ull /* the tour's example page (kernel/tour/tour.h) */

/* ------------------------------------------------------------------ output */

/* Every line goes through here: Print, and with -b a pause at each full screen. */
typedef struct {
	bool paging, quit;
	UINTN rows, count;
} pager;

static EFI_INPUT_KEY wait_key(void)
{
	EFI_INPUT_KEY key = { 0, 0 };
	UINTN index;
	uefi_call_wrapper(BS->WaitForEvent, 3, 1, &ST->ConIn->WaitForKey, &index);
	uefi_call_wrapper(ST->ConIn->ReadKeyStroke, 2, ST->ConIn, &key);
	return key;
}

static void pager_init(pager *p, bool paging)
{
	UINTN cols = 80, rows = 25;
	*p = (pager){ .paging = paging };
	if (ST->ConOut->Mode &&
	    EFI_ERROR(uefi_call_wrapper(ST->ConOut->QueryMode, 4, ST->ConOut,
					(UINTN)ST->ConOut->Mode->Mode, &cols, &rows)))
		rows = 25;
	p->rows = rows > 2 ? rows : 25;
}

static void sink(void *ctx, const char *line)
{
	pager *p = ctx;
	if (p->quit)
		return;
	Print(L"%a\n", line);
	if (!p->paging || ++p->count < p->rows - 1)
		return;
	Print(L"-- more: any key, q stops --");
	EFI_INPUT_KEY k = wait_key();
	Print(L"\r                            \r");
	p->count = 0;
	p->quit = k.UnicodeChar == 'q' || k.UnicodeChar == 'Q' || k.ScanCode == SCAN_ESC;
}

/* One formatted line of this file's own (the reports build theirs). */
static fmt_line line_start(char *buf, size_t cap, const char *tag)
{
	fmt_line l;
	fmt_init(&l, buf, cap);
	fmt_str(&l, tag);
	fmt_str(&l, ": ");
	return l;
}

/* ------------------------------------------------------------------ the machine */

typedef struct {
	bool has_1g, has_nx, has_la57;
	unsigned phys_bits;
	unsigned firmware_levels;   /* 5 when the firmware runs with CR4.LA57 */
	uint64_t image_base, image_size, code;  /* this image, and an address in its code */
	EFI_LOADED_IMAGE *li;
} facts;

/* What the parser and `current` need; the full probe (stage_cpu_probe) runs when
 * tables are built. */
static void read_facts(EFI_HANDLE image, facts *f)
{
	uint32_t r[4];
	*f = (facts){ .phys_bits = 36 };
	cpuid(0x80000000u, r);
	if (r[0] >= 0x80000001u) {
		cpuid(0x80000001u, r);
		f->has_nx = (r[3] >> 20) & 1;
		f->has_1g = (r[3] >> 26) & 1;
	}
	cpuid(0x80000000u, r);
	if (r[0] >= 0x80000008u) {
		cpuid(0x80000008u, r);
		f->phys_bits = r[0] & 0xff;
	}
	if (!EFI_ERROR(uefi_call_wrapper(BS->HandleProtocol, 3, image, &LoadedImageProtocol,
					 (void **)&f->li)) && f->li) {
		f->image_base = (uint64_t)(UINTN)f->li->ImageBase;
		f->image_size = f->li->ImageSize;
	}
	f->code = (uint64_t)(UINTN)shell_main;
	f->has_la57 = cpu_has_la57();
	f->firmware_levels = (read_cr4() & CR4_LA57) ? 5 : 4;
}


static UINTN memmap_alloc; /* bytes of the pool buffer get_memmap allocated last */

/* The live memory map in a pool buffer the caller frees. */
static EFI_STATUS get_memmap(void **map, UINTN *size, UINTN *desc_size)
{
	UINTN key;
	UINT32 version;
	EFI_STATUS st;
	*size = 0;
	*map = NULL;
	st = uefi_call_wrapper(BS->GetMemoryMap, 5, size, NULL, &key, desc_size, &version);
	if (st != EFI_BUFFER_TOO_SMALL)
		return EFI_ERROR(st) ? st : EFI_DEVICE_ERROR;
	*size += 8 * *desc_size; /* the pool allocation itself may split a descriptor */
	memmap_alloc = *size;
	if (!(*map = AllocatePool(*size)))
		return EFI_OUT_OF_RESOURCES;
	st = uefi_call_wrapper(BS->GetMemoryMap, 5, size, *map, &key, desc_size, &version);
	if (EFI_ERROR(st)) {
		FreePool(*map);
		*map = NULL;
	}
	return st;
}

/* The room the physmap must leave below the non-canonical hole: every address the CPU
 * can produce (1 << MAXPHYADDR), so later RAM or high MMIO fits too, capped at the 64 TiB
 * the parser assumes anyway (a 52-bit CPU would otherwise leave no lower-half offset). */
static uint64_t phys_top(const facts *f)
{
	return f->phys_bits >= 46 ? ARGS_DEFAULT_PHYS_TOP : 1ull << f->phys_bits;
}

/* What the parser checks against. */
static args_env env_of(const facts *f)
{
	return (args_env){ f->has_1g, phys_top(f), f->has_la57, f->firmware_levels };
}

/* ------------------------------------------------------------------ command line */

static char arg_text[ARG_BYTES];
static const char *arg_v[MAX_ARGS];
/* Why the line did not become words: the shell's and the prompt's lines refuse with it,
 * firmware load options are ignored with it. */
static char word_error[ARGS_ERROR_MAX];

static EFI_STATUS word_fail(const char *why, int which)
{
	fmt_line l;
	fmt_init(&l, word_error, sizeof(word_error));
	if (which > 0) {
		fmt_str(&l, "argument ");
		fmt_dec(&l, (uint64_t)which);
		fmt_char(&l, ' ');
	}
	fmt_str(&l, why);
	return EFI_INVALID_PARAMETER;
}
static bool shell_started; /* the EFI shell started this image (it gave us argv) */

/* Appends one CHAR16 word as ASCII. Printable ASCII only: anything else could not be
 * typed back and is refused with its position (in word_error). */
static EFI_STATUS add_word(const CHAR16 *w, UINTN len, int *argc, UINTN *used, int which)
{
	if (*argc == MAX_ARGS || *used + len + 1 > ARG_BYTES)
		return word_fail("makes the command line too long (at most 48 words, 976 bytes)",
				 which);
	_Static_assert(MAX_ARGS == 48 && ARG_BYTES - MAX_ARGS == 976, "the text above");
	arg_v[(*argc)++] = &arg_text[*used];
	for (UINTN i = 0; i < len; i++) {
		if (w[i] < 0x20 || w[i] > 0x7e)
			return word_fail("is not printable ASCII", which);
		arg_text[(*used)++] = (char)w[i];
	}
	arg_text[(*used)++] = '\0';
	return EFI_SUCCESS;
}

static bool is_space(CHAR16 c)
{
	return c == ' ' || c == '\t';
}

/* Splits a CHAR16 line (len characters, or up to a NUL) at blanks into arg_v. */
static EFI_STATUS split_line(const CHAR16 *s, UINTN len, int *argc, UINTN *used)
{
	UINTN i = 0;
	EFI_STATUS st = EFI_SUCCESS;
	while (!EFI_ERROR(st)) {
		while (i < len && s[i] && is_space(s[i]))
			i++;
		if (i == len || !s[i])
			break;
		UINTN start = i;
		while (i < len && s[i] && !is_space(s[i]))
			i++;
		st = add_word(&s[start], i - start, argc, used, *argc + 1);
	}
	return st;
}

/* Load options count only when they are CHAR16 text: firmware boot entries often carry
 * binary data there (EDK2 puts a GUID in the options of the entries it creates). */
static bool options_are_text(const CHAR16 *s, UINTN bytes)
{
	UINTN n = bytes / sizeof(CHAR16);
	if (!s || bytes < sizeof(CHAR16) || bytes % sizeof(CHAR16))
		return false;
	for (UINTN i = 0; i < n && s[i]; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			if (!is_space(s[i]))
				return false;
	return true;
}

static bool ends_with_efi(const char *w)
{
	UINTN n = 0;
	while (w[n])
		n++;
	return n >= 4 && fmt_streq_nocase(w + n - 4, ".efi");
}

/* Whether an EFI shell started this image: it puts its parameters protocol (UEFI Shell 2)
 * or its older interface protocol on the image handle. gnu-efi's GetShellArgcArgv cannot
 * say: without either it splits the load options itself. */
static bool started_by_shell(EFI_HANDLE image)
{
	EFI_GUID old_shell = SHELL_INTERFACE_PROTOCOL_GUID;
	void *p = NULL;
	return !EFI_ERROR(uefi_call_wrapper(BS->HandleProtocol, 3, image,
					    &ShellParametersProtocolGuid, &p)) ||
	       !EFI_ERROR(uefi_call_wrapper(BS->HandleProtocol, 3, image, &old_shell, &p));
}

/* Fills arg_v from the shell (argv[1..]; *from_shell) or else the load options (where
 * a leading word ending in .efi is the program's own path). An error (reason in
 * word_error) means the line did not become words. */
static EFI_STATUS read_command_line(EFI_HANDLE image, const facts *f, int *argc,
				    bool *from_shell)
{
	CHAR16 **argv = NULL;
	INTN n = 0;
	UINTN used = 0;
	EFI_STATUS st = EFI_SUCCESS;

	*argc = 0;
	*from_shell = shell_started = started_by_shell(image);
	if (*from_shell)
		n = GetShellArgcArgv(image, &argv);
	for (INTN i = 1; i < n && !EFI_ERROR(st); i++)
		st = add_word(argv[i], StrLen(argv[i]), argc, &used, (int)i);
	if (*from_shell || !f->li || !f->li->LoadOptions || f->li->LoadOptionsSize == 0)
		return st;
	const CHAR16 *opt = f->li->LoadOptions;
	if (!options_are_text(opt, f->li->LoadOptionsSize))
		return word_fail("load options are not UTF-16 text", 0);
	st = split_line(opt, f->li->LoadOptionsSize / sizeof(CHAR16), argc, &used);
	if (!EFI_ERROR(st) && *argc > 0 && ends_with_efi(arg_v[0])) {
		for (int i = 1; i < *argc; i++)
			arg_v[i - 1] = arg_v[i];
		(*argc)--;
	}
	return st;
}

/* The one line a firmware-started boot prints for load options it does not obey. */
static void report_ignored(const facts *f, const char *why)
{
	char buf[REPORT_LINE_MAX];
	fmt_line l = line_start(buf, sizeof(buf), "efi");
	fmt_str(&l, "load options ignored: ");
	loadopt_quote(&l, (const uint16_t *)f->li->LoadOptions, f->li->LoadOptionsSize);
	fmt_str(&l, " why=");
	fmt_word(&l, why);
	Print(L"%a\n", buf);
}

/* ------------------------------------------------------------------ commands */

static void self_line(pager *p, const facts *f)
{
	char buf[REPORT_LINE_MAX];
	fmt_line l = line_start(buf, sizeof(buf), "image");
	fmt_str(&l, "base=");
	fmt_hex16(&l, f->image_base);
	fmt_str(&l, " size=");
	fmt_size(&l, f->image_size);
	fmt_str(&l, " code=");
	fmt_hex16(&l, f->code);
	fmt_str(&l, " (try: current translate ");
	fmt_hex(&l, f->code);
	fmt_char(&l, ')');
	sink(p, buf);
}

static EFI_STATUS cmd_help(pager *p, const facts *f)
{
	args_usage(sink, p);
	self_line(p, f);
	return EFI_SUCCESS;
}

/* The firmware map as it is now, and what this image holds of it, so that a comparison
 * with the shell's own memmap knows how far the two may differ. */
static EFI_STATUS cmd_memmap(pager *p, const facts *f)
{
	void *map;
	UINTN size, ds;
	char buf[REPORT_LINE_MAX];
	EFI_STATUS st = get_memmap(&map, &size, &ds);
	if (EFI_ERROR(st)) {
		Print(L"kernel.efi: error: GetMemoryMap: %r\n", st);
		return st;
	}
	report_memmap(sink, p, map, size, ds);
	fmt_line l = line_start(buf, sizeof(buf), "memmap");
	fmt_str(&l, "this image holds loader-code pages=");
	fmt_dec(&l, (f->image_size + 4095) / 4096);
	fmt_str(&l, " loader-data pages=");
	/* The pages the map's own buffer lies in: loader data in the map just read, so this
	 * count and the EfiLoaderData total above agree (it was an estimate that did not). */
	uint64_t a = (uint64_t)(UINTN)map;
	fmt_dec(&l, (a + memmap_alloc + 4095) / 4096 - a / 4096);
	sink(p, buf);
	FreePool(map);
	return EFI_SUCCESS;
}

/* Builds the tables `boot` would build, hands them to `show`, then gives back every page
 * the build allocated: nothing of it outlives the command. */
typedef EFI_STATUS (*show_fn)(pager *p, stage_space *sp, const args_result *a);

static EFI_STATUS with_tables(pager *p, const args_result *a, const facts *f, show_fn show)
{
	static stage_space sp;
	static boot_info bi;
	EFI_STATUS st;

	ZeroMem(&sp, sizeof(sp));
	ZeroMem(&bi, sizeof(bi));
	sp.physmap.offset = a->offset_set ? a->offset : BOOT_PHYSMAP_OFFSET;
	sp.physmap.page = a->page_set ? a->page : f->has_1g ? PG_1G : PG_2M;
	sp.levels = a->levels;
	st = stage_build(&sp, &bi);
	if (!EFI_ERROR(st))
		st = show(p, &sp, a);
	stage_free_allocs();
	return st;
}

static EFI_STATUS show_map(pager *p, stage_space *sp, const args_result *a)
{
	(void)a;
	pg_err e = report_map(sink, p, &sp->space);
	if (e != PG_OK)
		Print(L"kernel.efi: error: walk: %a\n", pg_strerror(e));
	return e == PG_OK ? EFI_SUCCESS : EFI_LOAD_ERROR;
}

/* The post's example page is not in the tables before boot: the tour maps it later. */
static void tour_page_note(pager *p, stage_space *sp, uint64_t va)
{
	pg_translation t;
	char buf[REPORT_LINE_MAX];
	if ((va & ~0xfffull) != TOUR_PAGE || pg_translate(&sp->space, pg_va(va), &t) == PG_OK)
		return;
	fmt_line l = line_start(buf, sizeof(buf), "translate");
	fmt_hex16(&l, va);
	fmt_str(&l, " is the post's example page: the kernel maps it after boot (tour: example)");
	sink(p, buf);
}

static EFI_STATUS show_translate(pager *p, stage_space *sp, const args_result *a)
{
	for (unsigned i = 0; i < a->addr_count && !p->quit; i++) {
		report_translate(sink, p, &sp->space, a->addrs[i]);
		tour_page_note(p, sp, a->addrs[i]);
	}
	return EFI_SUCCESS;
}

/* The region list the kernel would receive: the map as it stands after the build,
 * with the build's own allocations marked by kind. */
static EFI_STATUS show_kinds(pager *p, stage_space *sp, const args_result *a)
{
	static mem_region storage[BOOT_INFO_MAX_REGIONS];
	mem_list l;
	(void)sp;
	(void)a;
	mem_list_init(&l, storage, BOOT_INFO_MAX_REGIONS);
	EFI_STATUS st = stage_read_memmap(&l);
	if (EFI_ERROR(st))
		return st;
	pg_err e = stage_apply_allocs(&l);
	if (e != PG_OK) {
		Print(L"kernel.efi: error: region list: %a\n", pg_strerror(e));
		return EFI_LOAD_ERROR;
	}
	report_kinds(sink, p, &l);
	return EFI_SUCCESS;
}

/* ------------------------------------------------------------------ current */

/* The firmware's live tables, read through its identity map: phys_offset 0 and no frame
 * source, so nothing can be changed through this handle. */
static EFI_STATUS cmd_current(pager *p, const args_result *a, const facts *f)
{
	uint64_t cr3 = read_cr3(), cr4 = read_cr4(), efer = f->has_nx ? rdmsr(MSR_EFER) : 0;
	char buf[REPORT_LINE_MAX];
	/* The parser made a->levels the firmware's mode (CR4.LA57) or refused the line. */
	pg_space s = {
		.root = pg_pa(cr3 & 0x000ffffffffff000ull),
		.levels = (cr4 & CR4_LA57) ? 5 : 4,
		.phys_offset = 0,
		.has_nx = (efer & EFER_NXE) != 0,
		.has_1g = f->has_1g,
		.phys_bits = f->phys_bits,
	};
	fmt_line l = line_start(buf, sizeof(buf), "current");
	fmt_str(&l, "cr3=");
	fmt_hex16(&l, cr3);
	fmt_str(&l, " efer.nxe=");
	fmt_dec(&l, s.has_nx);
	fmt_str(&l, " (the firmware's tables, read-only)");
	sink(p, buf);
	l = line_start(buf, sizeof(buf), "current");
	fmt_str(&l, "levels=");
	fmt_dec(&l, s.levels);
	fmt_str(&l, s.levels == 5 ? " (CR4.LA57 set: the root is a PML5)" : " (CR4.LA57 clear)");
	sink(p, buf);
	self_line(p, f);
	if (a->cmd == ARGS_CURRENT_MAP) {
		pg_err e = report_map(sink, p, &s);
		if (e != PG_OK) {
			Print(L"kernel.efi: error: walk: %a\n", pg_strerror(e));
			return EFI_LOAD_ERROR;
		}
		/* Where this very code runs, as the post's opening shows for its bootloader. */
		l = line_start(buf, sizeof(buf), "current");
		fmt_str(&l, "this image's code:");
		sink(p, buf);
		report_translate(sink, p, &s, f->code);
		return EFI_SUCCESS;
	}
	for (unsigned i = 0; i < a->addr_count && !p->quit; i++) {
		uint64_t va = a->addrs[i];
		report_translate(sink, p, &s, va);
		if (va >= f->image_base && va - f->image_base < f->image_size) {
			l = line_start(buf, sizeof(buf), "current");
			fmt_hex16(&l, va);
			fmt_str(&l, " is in this image at base+");
			fmt_hex(&l, va - f->image_base);
			sink(p, buf);
		}
	}
	return EFI_SUCCESS;
}

/* ------------------------------------------------------------------ dispatch */

/* Runs one parsed inspection command (anything but boot). */
static EFI_STATUS run(const args_result *a, const facts *f)
{
	pager p;
	pager_init(&p, a->paging);
	switch (a->cmd) {
	case ARGS_HELP:
		return cmd_help(&p, f);
	case ARGS_MEMMAP:
		return a->kinds ? with_tables(&p, a, f, show_kinds) : cmd_memmap(&p, f);
	case ARGS_MAP:
		return with_tables(&p, a, f, show_map);
	case ARGS_TRANSLATE:
		return with_tables(&p, a, f, show_translate);
	case ARGS_CURRENT_MAP:
	case ARGS_CURRENT_TRANSLATE:
		return cmd_current(&p, a, f);
	case ARGS_BOOT:
		break;
	}
	return EFI_SUCCESS;
}

static void usage_to_console(void *ctx, const char *line)
{
	(void)ctx;
	Print(L"%a\n", line);
}

static void boot_settings(const args_result *a, const facts *f, shell_boot *opt)
{
	opt->physmap.offset = a->offset_set ? a->offset : BOOT_PHYSMAP_OFFSET;
	opt->physmap.page = a->page_set ? a->page : f->has_1g ? PG_1G : PG_2M;
	opt->levels = a->levels ? a->levels : 4;
	opt->test = a->test;
	CopyMem(opt->drill, a->drill, sizeof opt->drill);
	opt->stale_key = a->stale_key;
	opt->late_fail = a->late_fail;
	opt->nmi_window = a->nmi_window;
}

/* ------------------------------------------------------------------ start-up prompt */

/* How long a firmware-started boot lets the console deliver a key, in 100 ns units. Serial
 * terminals are not interrupt driven: EDK2's terminal driver moves bytes from the UART into
 * the key buffer on a 20 ms timer, and OVMF flushes the buffer when it starts the boot
 * option. Without a tick of that timer between the flush and the look, a key held down all
 * along is not seen (seen under load: the first look empty, the key there 10 ms later). A
 * key already waiting ends the wait at once; a boot without one pays 50 ms. */
#define KEY_POLL_WINDOW 500000

/* True when a key waits in the firmware's input buffer, or arrives within KEY_POLL_WINDOW:
 * one typed since the firmware last flushed its input. The buffer is emptied so that those
 * keys do not land in the prompt. */
static bool key_pressed(void)
{
	EFI_INPUT_KEY key;
	EFI_EVENT ev[2] = { ST->ConIn->WaitForKey, NULL };
	UINTN index;
	bool any = false;

	if (!EFI_ERROR(uefi_call_wrapper(BS->CreateEvent, 5, EVT_TIMER, 0, NULL, NULL, &ev[1]))) {
		if (!EFI_ERROR(uefi_call_wrapper(BS->SetTimer, 3, ev[1], TimerRelative,
						  KEY_POLL_WINDOW)))
			uefi_call_wrapper(BS->WaitForEvent, 3, 2, ev, &index);
		uefi_call_wrapper(BS->CloseEvent, 1, ev[1]);
	}
	for (int i = 0; i < 64; i++) {
		if (EFI_ERROR(uefi_call_wrapper(ST->ConIn->ReadKeyStroke, 2, ST->ConIn, &key)))
			break;
		any = true;
	}
	return any;
}

/* Reads one line with echo and backspace into line[cap]. */
static UINTN read_line(CHAR16 *line, UINTN cap)
{
	UINTN n = 0;
	for (;;) {
		EFI_INPUT_KEY k = wait_key();
		CHAR16 c = k.UnicodeChar;
		if (c == CHAR_CARRIAGE_RETURN || c == CHAR_LINEFEED) {
			Print(L"\n");
			line[n] = 0;
			return n;
		}
		if ((c == CHAR_BACKSPACE || c == 0x7f) && n > 0) {
			n--;
			Print(L"\b \b");
		} else if (c >= 0x20 && c <= 0x7e && n + 1 < cap) {
			CHAR16 echo[2] = { c, 0 };
			line[n++] = c;
			Print(L"%s", echo);
		}
	}
}

static bool is_exit(int argc)
{
	return argc == 1 && (fmt_streq_nocase(arg_v[0], "exit") || fmt_streq_nocase(arg_v[0], "quit"));
}

/* The commands at a prompt, one line at a time, until boot (or test): EFI_SUCCESS with
 * *boot set. `exit` returns EFI_SUCCESS with *boot clear: to the shell when one started
 * the image, else to the firmware, which tries its next boot option. A wrong line gets
 * one line of reason and a hint, not the whole usage. */
static EFI_STATUS prompt_loop(const facts *f, shell_boot *opt, bool *boot, bool from_shell)
{
	static CHAR16 line[256];
	Print(L"efi: inspect: the commands of `kernel.efi help`; boot (or test) continues, "
	      L"exit returns to the %s\n", from_shell ? L"shell" : L"firmware");
	*boot = false;
	for (;;) {
		int argc = 0;
		UINTN used = 0;
		args_result a;
		Print(L"kernel.efi> ");
		UINTN n = read_line(line, sizeof(line) / sizeof(line[0]));
		if (n == 0)
			continue;
		if (EFI_ERROR(split_line(line, n, &argc, &used))) {
			Print(L"kernel.efi: error: %a (help lists the commands)\n", word_error);
			continue;
		}
		addrs_drop_bad_levels(&argc, arg_v, f->firmware_levels, usage_to_console, NULL);
		if (is_exit(argc)) {
			Print(L"efi: inspect: exit, back to the %s\n", from_shell ? L"shell" : L"firmware");
			return EFI_SUCCESS;
		}
		args_env env = env_of(f);
		if (!args_parse(argc, arg_v, &env, &a)) {
			Print(L"kernel.efi: error: %a (help lists the commands)\n", a.error);
			continue;
		}
		if (argc > 0 && a.cmd == ARGS_BOOT) {
			boot_settings(&a, f, opt);
			*boot = true;
			return EFI_SUCCESS;
		}
		run(&a, f);
	}
}

/* ------------------------------------------------------------------ entry */

EFI_STATUS shell_main(EFI_HANDLE image, shell_boot *opt, bool *boot)
{
	facts f;
	args_result a;
	int argc;
	bool from_shell;
	EFI_STATUS st;

	*boot = false;
	read_facts(image, &f);
	st = read_command_line(image, &f, &argc, &from_shell);
	/* `inspect` (typed in the shell or a boot option's load options): the prompt now. */
	if (!EFI_ERROR(st) && argc == 1 && fmt_streq_nocase(arg_v[0], "inspect")) {
		boot_settings(&(args_result){ .cmd = ARGS_BOOT }, &f, opt);
		return prompt_loop(&f, opt, boot, from_shell);
	}
	/* A translate list keeps its good addresses; the bad ones are reported and dropped. */
	int dropped = EFI_ERROR(st) ? 0 : addrs_drop_bad_levels(&argc, arg_v, f.firmware_levels,
								  usage_to_console, NULL);
	args_env env = env_of(&f);
	bool parsed = !EFI_ERROR(st) && args_parse(argc, arg_v, &env, &a);
	const char *why = EFI_ERROR(st) ? word_error : a.error;
	switch (loadopt_decide(from_shell, !EFI_ERROR(st), argc, parsed)) {
	case LOADOPT_IGNORE:
		report_ignored(&f, why);
		/* fall through - the boot goes on as if there were no options */
	case LOADOPT_NONE:
		boot_settings(&(args_result){ .cmd = ARGS_BOOT }, &f, opt);
		*boot = true;
		if (!key_pressed())
			return EFI_SUCCESS;
		Print(L"efi: a key was pressed: inspect before boot\n");
		return prompt_loop(&f, opt, boot, false);
	case LOADOPT_RUN:
		break;
	}
	if (!parsed) {
		Print(L"kernel.efi: error: %a\n", why);
		args_usage(usage_to_console, NULL);
		return EFI_INVALID_PARAMETER;
	}
	if (a.cmd != ARGS_BOOT) {
		st = run(&a, &f);
		return dropped && !EFI_ERROR(st) ? EFI_INVALID_PARAMETER : st; /* scripts see it */
	}
	boot_settings(&a, &f, opt);
	*boot = true;
	return EFI_SUCCESS;
}
