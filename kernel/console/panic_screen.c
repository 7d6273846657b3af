/* panic_screen.c - the screen for panics that come before fbcon_start (see
 * panic_screen.h): a laptop without COM1 would otherwise show nothing at all. */
#include "panic_screen.h"

#include <stddef.h>

#include "cpu.h"
#include "fbcon.h"
#include "kprintf.h"
#include "paging.h"

static const boot_info *armed;

/* True when the space-separated command line holds word exactly. */
static bool has_word(const char *line, const char *word)
{
	while (*line) {
		size_t n = 0;
		while (line[n] && line[n] != ' ')
			n++;
		size_t i = 0;
		while (i < n && word[i] == line[i])
			i++;
		if (i == n && word[i] == '\0')
			return true;
		line += n;
		while (*line == ' ')
			line++;
	}
	return false;
}

void panic_screen_arm(const boot_info *bi)
{
	armed = bi;
	if (has_word(bi->cmdline, "drill=panic"))
		kpanic("drill: panic before the console started, as asked (drill=panic)");
}

/* The console maps its window into the tables the CPU runs on (CR3 and CR4.LA57, not
 * boot_info's PML4, which a panic may be about), through a read-only handle: fb.c brings its own
 * table frames, and the memory core may not be up yet. */
void panic_screen_start(void)
{
	static bool tried;
	static pg_space live;
	if (!armed || tried || fbcon_started())
		return;
	tried = true;
	if (pg_space_attach(&live, pg_pa(read_cr3() & 0x000ffffffffff000ull), NULL,
			    armed->phys_offset, (armed->cpu_features & BOOT_CPU_NX) != 0,
			    (armed->cpu_features & BOOT_CPU_1G) != 0, armed->phys_bits,
			    (read_cr4() & CR4_LA57) ? 5 : 4) != PG_OK)
		return;
	fbcon_start(armed, &live);
}
