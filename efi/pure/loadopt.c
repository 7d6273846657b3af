/* loadopt.c - the load-options decision and the bounded, escaped quote of ignored
 * options (see loadopt.h). Pure: the EFI side reads LoadOptions and prints the line. */
#include "loadopt.h"

loadopt_action loadopt_decide(bool from_shell, bool words_ok, int argc, bool parsed_ok)
{
	if (from_shell)
		return LOADOPT_RUN;
	if (!words_ok)
		return LOADOPT_IGNORE;
	if (argc == 0)
		return LOADOPT_NONE;
	return parsed_ok ? LOADOPT_RUN : LOADOPT_IGNORE;
}

/* One code unit, escaped so that the quote can be read back unambiguously. */
static void quote_unit(fmt_line *l, uint16_t c)
{
	static const char hex[] = "0123456789abcdef";
	if (c == '"' || c == '\\') {
		fmt_char(l, '\\');
		fmt_char(l, (char)c);
	} else if (c >= 0x20 && c < 0x7f) {
		fmt_char(l, (char)c);
	} else {
		fmt_str(l, "\\u");
		for (int shift = 12; shift >= 0; shift -= 4)
			fmt_char(l, hex[(c >> shift) & 0xf]);
	}
}

void loadopt_quote(fmt_line *l, const uint16_t *opt, size_t bytes)
{
	size_t units = opt ? bytes / 2 : 0, i;
	fmt_char(l, '"');
	for (i = 0; i < units && i < LOADOPT_SHOW_MAX && opt[i]; i++)
		quote_unit(l, opt[i]);
	fmt_char(l, '"');
	if (i < units && opt[i])
		fmt_str(l, "...");
	fmt_str(l, " bytes=");
	fmt_dec(l, bytes);
}
