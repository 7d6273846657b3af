#!/usr/bin/env bash
# shell_test.sh - issue 5: the inspection commands in OVMF's own EFI shell. Boots OVMF
# (TCG) with no bootable disk, only a FAT drive holding kernel.efi and a generated
# startup.nsh (no EFI/BOOT/BOOTX64.EFI, so the firmware falls back to its internal shell,
# which runs startup.nsh after its 5 s countdown). The script runs every command and
# every wrong input, then `reset -s`. Two boots: the CPU as is (-cpu max: 1 GiB pages)
# and without 1 GiB pages; then a third boot without a shell, where the image starts as
# \EFI\BOOT\BOOTX64.EFI and its start-up prompt is driven through the serial console.
# One line per check, then "N passed, N failed".
# Usage: shell_test.sh   (needs build/kernel.efi: make)
# Environment: SHELL_TIMEOUT (seconds per boot, default 240), QEMU, QEMU_MEM.
set -u

here=$(cd "$(dirname "$0")/../.." && pwd)
efi=$here/build/kernel.efi
out=$here/build/test/shell
timeout_s=${SHELL_TIMEOUT:-240}
passed=0 failed=0

check() { # check NAME CONDITION...: runs the condition, prints ok/FAIL
	local n=$1
	shift
	if "$@" >/dev/null 2>&1; then
		echo "ok   $n"
		passed=$((passed + 1))
	else
		echo "FAIL $n"
		failed=$((failed + 1))
	fi
}

# ---------------------------------------------------------------- the shell scripts

steps=() # "NAME|ARGUMENTS" (ARGUMENTS empty: the line is a shell command of its own)

# step NAME ARGS...: one kernel.efi call between markers; its status is echoed after it.
step() { local n=$1; shift; steps+=("$n|$*"); }

# nsh FILE: writes startup.nsh from steps (CRLF), ending with `reset -s`.
nsh() {
	{
		printf '@echo -off\r\n'
		printf 'fs0:\r\n'
		local s n a
		for s in "${steps[@]}"; do
			n=${s%%|*}
			a=${s#*|}
			printf 'echo "@@@ begin %s"\r\n' "$n"
			printf '%s\r\n' "$a"
			printf 'echo "@@@ end %s status %%lasterror%%"\r\n' "$n"
		done
		printf 'echo "@@@ done"\r\n'
		printf 'reset -s\r\n'
	} >"$1"
}

# boot NAME CPU: runs QEMU on the FAT directory out/NAME with the script, the serial log
# cleaned of CRs and escape sequences into out/NAME.txt.
boot() {
	local name=$1 cpu=$2 dir=$out/$1
	rm -rf "$dir" "$out/$name.log" "$out/$name.txt"
	mkdir -p "$dir"
	cp "$efi" "$dir/kernel.efi"
	nsh "$dir/startup.nsh"
	(
		eval "$("$here/ovmf/find-ovmf.sh" --copy-vars "$out/run")" || exit 1
		trap 'rm -f "$OVMF_VARS_COPY"' EXIT
		timeout "$timeout_s" "${QEMU:-qemu-system-x86_64}" -machine q35 -cpu "$cpu" \
			-m "${QEMU_MEM:-1G}" -smp 1 -no-reboot -net none \
			-drive "if=pflash,format=raw,readonly=on,file=$OVMF_CODE" \
			-drive "if=pflash,format=raw,file=$OVMF_VARS_COPY" \
			-drive "format=raw,file=fat:rw:$dir" \
			-display none -monitor none -serial "file:$out/$name.log"
	) </dev/null >"$out/$name.qemu" 2>&1
	tr -d '\r' <"$out/$name.log" 2>/dev/null | sed 's/\x1b\[[0-9;=?]*[A-Za-z]//g' \
		>"$out/$name.txt" || : >"$out/$name.txt"
}

log= # the cleaned log the helpers below read
# sec NAME: the output of step NAME (between its markers, markers excluded).
sec() { awk -v b="@@@ begin $1" -v e="@@@ end $1 status" \
	'$0 == b { on = 1; next } index($0, e) == 1 { on = 0 } on' "$log"; }
# status NAME: the shell's %lasterror% after step NAME.
status() { grep -m1 "^@@@ end $1 status " "$log" | awk '{ print $5 }'; }
has() { sec "$1" | grep -Eq -- "$2"; }   # has NAME REGEX
ok_status() { [ "$(status "$1")" = 0x0 ]; }
bad_status() { local s; s=$(status "$1"); [ -n "$s" ] && [ "$s" != 0x0 ]; }

# refused NAME REASON-REGEX ARGS...: a wrong input: its reason, the usage, an error status.
refused_steps=()
# refused_ok NAME REASON-REGEX: the reason and the usage printed, an error status returned,
# and nothing built (no efi: line from the table builder).
refused_ok() {
	has "$1" "^kernel.efi: error: $2" && has "$1" '^usage: kernel.efi' && bad_status "$1" &&
		! has "$1" '^efi: '
}
refused() { local n=$1 r=$2; shift 2; step "$n" "kernel.efi $*"; refused_steps+=("$n|$r"); }

# memmap_totals NAME: "EfiType pages" lines from kernel.efi memmap's totals.
memmap_totals() { sec "$1" | sed -nE 's/^memmap: total (\S+) +pages=([0-9]+)$/\1 \2/p'; }
# shell_totals NAME: the same from the shell's memmap summary, spec names, commas gone.
shell_totals() {
	sec "$1" | sed -nE 's/^ *([A-Za-z_]+) *: *([0-9,]+) Pages.*/\1 \2/p' | tr -d , | awk '
	BEGIN { n["Reserved"] = "EfiReservedMemoryType"; n["LoaderCode"] = "EfiLoaderCode";
		n["LoaderData"] = "EfiLoaderData"; n["BS_Code"] = "EfiBootServicesCode";
		n["BS_Data"] = "EfiBootServicesData"; n["RT_Code"] = "EfiRuntimeServicesCode";
		n["RT_Data"] = "EfiRuntimeServicesData"; n["Available"] = "EfiConventionalMemory";
		n["ACPI_Recl"] = "EfiACPIReclaimMemory"; n["ACPI_NVS"] = "EfiACPIMemoryNVS";
		n["MMIO"] = "EfiMemoryMappedIO"; n["MMIO_Port"] = "EfiMemoryMappedIOPortSpace";
		n["PalCode"] = "EfiPalCode"; n["Persistent"] = "EfiPersistentMemory";
		n["Unaccepted"] = "EfiUnacceptedMemoryType" }
	$1 in n { print n[$1], $2 }'
}
# totals_agree MINE SHELL TOLERANCE: every type of either list within TOLERANCE pages
# (a type missing from one side counts as 0); at least 8 types compared.
totals_agree() {
	awk -v tol="$3" 'FNR == NR { a[$1] = $2; k[$1] = 1; next } { b[$1] = $2; k[$1] = 1 }
	END { for (t in k) { d = a[t] - b[t]; if (d < 0) d = -d; n++
		if (d > tol) { print "differ:", t, a[t] + 0, b[t] + 0; bad = 1 } }
		exit bad || n < 8 }' <(echo "$1") <(echo "$2")
}

# ---------------------------------------------------------------- boot 1: 1 GiB pages

mkdir -p "$out"
if [ ! -f "$efi" ]; then
	echo "FAIL build: $efi missing (run make)"
	echo "0 passed, 1 failed"
	exit 1
fi

many=$(for i in $(seq 33); do printf ' 0x1000'; done)
steps=()
step help kernel.efi help
step paged-help kernel.efi -b help
step memmap kernel.efi memmap
step shell-memmap memmap
step kinds kernel.efi memmap --kinds
step map kernel.efi map
step map-2m kernel.efi map --page 2m
step translate kernel.efi translate 0xA0000001000 0xffffffff80000000 0x1000
step translate-2m kernel.efi translate --page 2m 0xA0000001000 0xA0000200000
step translate-offset kernel.efi translate --offset 0x10000000000 0x10000001000
step translate-bad kernel.efi translate 0xA0000001000 0xzz 0x800000000000 0x1000
step translate-tour kernel.efi translate 0xdeadbeaf000
step current-map kernel.efi current map
step current-translate kernel.efi current translate 0x100000 0xA0000001000
refused bad-command "unknown command 'bogus'" bogus
refused bad-option "unknown option '--bogus' for memmap" memmap --bogus
refused no-value "option --offset needs a value" map --offset
refused unaligned "--offset 0x0000000000001000 is not 512 GiB aligned" map --offset 0x1000
refused no-room "--offset 0x00007f8000000000 leaves no room for physical memory up to 0x0000010000000000" \
	map --offset 0x7f8000000000
refused upper-half "--offset 0xffff800000000000 is in the upper half" map --offset 0xffff800000000000
refused offset-noncanonical "--offset 0x0000800000000000 is not canonical" map --offset 0x800000000000
refused zero-offset "--offset 0x0000000000000000 would put physical memory over the null page" \
	boot --offset 0
refused junk "--offset: trailing junk in number '12abc'" map --offset 12abc
refused negative "--offset: negative number '-1'" map --offset -1
refused malformed "--offset: malformed number '0x' \\(no digits after 0x\\)" map --offset 0x
refused overflow "--offset: number '99999999999999999999' does not fit in 64 bits" \
	map --offset 99999999999999999999
refused bad-page "--page must be 4k, 2m or 1g, not '8k'" map --page 8k
refused no-address "translate needs at least one address" translate
refused addr-noncanonical "address 0x0000800000000000 is not canonical" translate 0x800000000000
refused addr-overflow "address: number '0x1ffffffffffffffff' does not fit in 64 bits" \
	translate 0x1ffffffffffffffff
refused too-many "too many addresses \\(at most 32\\)" translate"$many"
refused current-alone "current needs 'map' or 'translate'" current
refused current-noncanonical "address 0xffff000000000000 is not canonical" current translate 0xffff000000000000
refused current-no-address "current translate needs at least one address" current translate
refused boot-word "unexpected argument 'quiet' for boot" boot quiet
refused help-word "unexpected argument 'extra' for help" help extra
step memmap-after kernel.efi memmap

echo "=== boot 1: OVMF shell, -cpu max (1 GiB pages), ${#steps[@]} steps; log $out/max.txt"
start=$(date +%s)
boot max max
log=$out/max.txt
echo "    took $(($(date +%s) - start))s"

check "script ran to the end" grep -q '^@@@ done$' "$log"

# help, and -b on output shorter than a screen
check "help: usage and status 0" eval 'has help "^usage: kernel.efi" && ok_status help'
check "help: image base, size and code address" has help '^image: base=0x[0-9a-f]{16} size=[0-9]+KiB code=0x[0-9a-f]{16} '
check "-b help: same usage, status 0" eval 'has paged-help "^usage: kernel.efi" && ok_status paged-help'

# memmap against the shell's own
mine=$(memmap_totals memmap)
theirs=$(shell_totals shell-memmap)
tol=$(sec memmap | sed -nE 's/^memmap: this image holds loader-code pages=([0-9]+) loader-data pages=([0-9]+)$/\1 \2/p' |
	awk '{ print $1 + $2 }')
memmap_lines() {
	local n
	n=$(sec memmap | grep -cE '^memmap: Efi[A-Za-z]+ +start=0x[0-9a-f]{16} end=0x[0-9a-f]{16} pages=[0-9]+ attr=0x[0-9a-f]{16}$')
	has memmap "^memmap: descriptors=$n pages=" && [ "$n" -gt 20 ]
}
check "memmap: one line per descriptor" memmap_lines
check "memmap: per-type totals agree with the shell's memmap within ${tol:-?} pages" \
	totals_agree "$mine" "$theirs" "${tol:-0}"
totals_agree "$mine" "$theirs" "${tol:-0}" | sed 's/^/    /'

# --kinds: the list the kernel would get, with the build's own allocations marked
kinds_ok() {
	local k
	for k in page-tables kernel kernel-stack usable boot-reclaimable; do
		has kinds "^kinds: start=0x[0-9a-f]{16} end=0x[0-9a-f]{16} size=[0-9]+[KMGT]?i?B kind=$k\$" || return 1
	done
	has kinds '^kinds: regions=[0-9]+$'
}
check "memmap --kinds: page tables, kernel, stack, usable, boot-reclaimable" kinds_ok

# map
# The physmap maps RAM exactly: the legacy hole at 640 KiB stays out, the first 2 MiB (MTRR
# types mixed by the fixed ranges) on 4 KiB pages, 2 MiB pages after it (1 GiB of RAM under
# q35 holds no 1 GiB page that is all RAM).
physmap_exact() {
	has map '^map: virt=0x00000a0000000000-0x00000a00000a0000 phys=0x0000000000000000 size=640KiB page=4K W NX G WB$' &&
	has map '^map: virt=0x00000a0000100000-0x00000a0000200000 phys=0x0000000000100000 size=1MiB page=4K W NX G WB$' &&
	has map '^map: virt=0x00000a0000200000-0x00000a00[0-9a-f]{8} phys=0x0000000000200000 size=[0-9]+MiB page=2M W NX G WB$'
}
check "map: physmap at 10 TiB, RAM only, largest page of one MTRR type, W NX G" physmap_exact
kernel_ranges() {
	has map '^map: virt=0xffffffff80000000-0xffffffff8[0-9a-f]{7} phys=0x[0-9a-f]{16} size=[0-9]+KiB page=4K RO X G WB$' &&
	has map '^map: virt=0xffffffff8[0-9a-f]{7}-0xffffffff8[0-9a-f]{7} phys=0x[0-9a-f]{16} size=[0-9]+KiB page=4K W NX G WB$' &&
	has map '^map: virt=0xffffffff7ffe0000-0xffffffff7fff0000 phys=0x[0-9a-f]{16} size=64KiB page=4K W NX WB$'
}
check "map: kernel text RO X G, data W NX G, stack W NX, 4K" kernel_ranges
check "map: table frames per level" has map '^map: tables pml4=0x[0-9a-f]{16} l4=1 l3=[1-9][0-9]* l2=[1-9][0-9]* l1=[1-9][0-9]* total=[0-9]+$'
check "map --page 2m: physmap capped at 2M pages" \
	has map-2m '^efi: physmap ranges=[1-9][0-9]* end=0x00000A[0-9A-F]{10} page=2M pages 1G=0 2M=[1-9][0-9]* 4K=[1-9][0-9]*$'

# translate
check "translate 0xA0000001000 -> 0x1000 on a 4K page (the first 2 MiB has mixed MTRR types)" \
	has translate '^translate: 0x00000a0000001000 -> 0x0000000000001000 page=4K W NX G WB$'
check "translate: the walk shows PML4 index 20 and the 4K leaf" eval '
	has translate "^translate:   L4 index=20 entry=0x[0-9a-f]{16} P W U table=0x[0-9a-f]{16}\$" &&
	has translate "^translate:   L1 index=1 entry=0x8000000000001103 P W G NX page=0x0000000000001000\$"'
ktext=$(sec translate | sed -nE 's/^efi: kernel segment virt=0xFFFFFFFF80000000 phys=(0x[0-9A-F]{16}) .*/\1/p' | tr A-F a-f)
check "translate: the kernel's first page is the kernel text frame (${ktext:-?})" \
	has translate "^translate: 0xffffffff80000000 -> ${ktext:-none} page=4K RO X G WB\$"
check "translate: an unmapped low address says where the walk stopped" \
	has translate '^translate: 0x0000000000001000 -> not mapped \(level [1-4]\)$'
check "translate with bad addresses in the list: each reported, the rest translated, status error" eval '
	has translate-bad "^translate: error: malformed number .0xzz. .* \(skipped; the rest are translated\)\$" &&
	has translate-bad "^translate: error: address 0x0000800000000000 is not canonical .*\(skipped; the rest are translated\)\$" &&
	has translate-bad "^translate: 0x00000a0000001000 -> 0x0000000000001000 page=4K " &&
	has translate-bad "^translate: 0x0000000000001000 -> not mapped" && bad_status translate-bad'
check "translate 0xdeadbeaf000 before boot: not mapped, and the kernel maps it later" eval '
	has translate-tour "^translate: 0x00000deadbeaf000 -> not mapped" &&
	has translate-tour "^translate: 0x00000deadbeaf000 is the post.s example page: the kernel maps it after boot \(tour: example\)\$"'
check "translate --page 2m: 0x1000 on a 4K page, 0x200000 on a 2M page" eval '
	has translate-2m "^translate: 0x00000a0000001000 -> 0x0000000000001000 page=4K W NX G WB\$" &&
	has translate-2m "^translate: 0x00000a0000200000 -> 0x0000000000200000 page=2M W NX G WB\$"'
check "translate --offset 1 TiB: 0x10000001000 -> 0x1000" \
	has translate-offset '^translate: 0x0000010000001000 -> 0x0000000000001000 page=4K W NX G WB$'

# current: the firmware's own tables
check "current map: the firmware's ranges and tables" eval '
	has current-map "^current: cr3=0x[0-9a-f]{16} " &&
	has current-map "^map: ranges=[1-9][0-9]* mapped=" &&
	has current-map "^map: tables pml4=0x[0-9a-f]{16} l4=1 "'
img=$(sec current-map | sed -nE 's/^image: base=(0x[0-9a-f]{16}) size=([0-9]+)KiB code=(0x[0-9a-f]{16}) .*/\1 \2 \3/p')
read -r base kib code <<<"${img:-0 0 0}"
check "current: the image's code address lies in the image (code=$code)" \
	eval "[ $((code)) -ne 0 ] && [ $((code)) -ge $((base)) ] && [ $((code)) -lt $((base + kib * 1024)) ]"
check "current translate of the running image's code gives itself" \
	has current-map "^translate: $code -> $code page=(4K|2M|1G) "
check "current translate 0x100000 gives itself (firmware maps 1:1)" \
	has current-translate '^translate: 0x0000000000100000 -> 0x0000000000100000 page=(4K|2M|1G) '
check "current translate 0xA0000001000: the firmware has nothing at 10 TiB" \
	has current-translate '^translate: 0x00000a0000001000 -> not mapped \(level [1-4]\)$'
for s in help memmap kinds map map-2m translate translate-2m translate-offset current-map current-translate; do
	check "status 0: $s" ok_status "$s"
done

# wrong input: the reason, the usage, an error status, and the script goes on
for r in "${refused_steps[@]}"; do
	n=${r%%|*}
	why=${r#*|}
	check "refused: $n" refused_ok "$n" "$why"
done
# nothing the commands built outlived them
loader_data() { memmap_totals "$1" | awk '$1 == "EfiLoaderData" { print $2 }'; }
check "no pages left behind: loader data the same before and after ($(loader_data memmap) and $(loader_data memmap-after) pages)" \
	eval '[ -n "$(loader_data memmap)" ] && [ "$(loader_data memmap)" = "$(loader_data memmap-after)" ]'

# ---------------------------------------------------------------- boot 2: no 1 GiB pages

steps=() refused_steps=()
refused no-1g "--page 1g: this CPU has no 1 GiB pages" map --page 1g
step translate kernel.efi translate 0xA0000001000
step map kernel.efi map

echo "=== boot 2: OVMF shell, -cpu max,pdpe1gb=off; log $out/no1g.txt"
start=$(date +%s)
boot no1g max,pdpe1gb=off
log=$out/no1g.txt
echo "    took $(($(date +%s) - start))s"
check "no 1G: script ran to the end" grep -q '^@@@ done$' "$log"
check "no 1G: --page 1g refused" refused_ok no-1g "--page 1g: this CPU has no 1 GiB pages"
check "no 1G: translate 0xA0000001000 -> 0x1000 on a 4K page" \
	has translate '^translate: 0x00000a0000001000 -> 0x0000000000001000 page=4K W NX G WB$'
check "no 1G: physmap capped at 2M pages by default" \
	has map '^efi: physmap ranges=[1-9][0-9]* end=0x00000A[0-9A-F]{10} page=2M pages 1G=0 2M=[1-9][0-9]* 4K=[1-9][0-9]*$'

# ---------------------------------------------------------------- boot 3: the prompt

# Without a shell the firmware starts \EFI\BOOT\BOOTX64.EFI with no command line; the
# image opens its prompt when a key waits in the firmware's input buffer (no fixed wait).
# Keys go in through the serial console (a pipe), as a held key repeats, from power-on until
# the image decides (OVMF drops the keys typed before it starts the boot option; the ones
# typed while it loads the image must open the prompt).
waitfor() { # waitfor REGEX SECONDS: until the cleaned prompt log shows REGEX
	local i
	for i in $(seq $(($2 * 5))); do
		tr -d '\r' <"$out/prompt.log" | sed 's/\x1b\[[0-9;=?]*[A-Za-z]//g' >"$out/prompt.txt"
		grep -Eq -- "$1" "$out/prompt.txt" && return 0
		sleep 0.2
	done
	return 1
}
keys_until() { # keys_until REGEX SECONDS: an i every 20 ms (a held key's repeat) until REGEX
	local kpid rc
	(while :; do printf i; sleep 0.02; done) >&3 &
	kpid=$!
	waitfor "$1" "$2"
	rc=$?
	kill "$kpid" 2>/dev/null
	wait "$kpid" 2>/dev/null
	return "$rc"
}
prompt_boot() {
	local dir=$out/prompt pipe=$out/prompt.pipe qpid cpid
	rm -rf "$dir" "$pipe.in" "$pipe.out"
	mkdir -p "$dir/EFI/BOOT"
	cp "$efi" "$dir/EFI/BOOT/BOOTX64.EFI"
	mkfifo "$pipe.in" "$pipe.out"
	: >"$out/prompt.log"
	(
		eval "$("$here/ovmf/find-ovmf.sh" --copy-vars "$out/run")" || exit 1
		exec timeout "$timeout_s" "${QEMU:-qemu-system-x86_64}" -machine q35 -cpu max \
			-m "${QEMU_MEM:-1G}" -smp 1 -no-reboot -net none \
			-drive "if=pflash,format=raw,readonly=on,file=$OVMF_CODE" \
			-drive "if=pflash,format=raw,file=$OVMF_VARS_COPY" \
			-drive "format=raw,file=fat:rw:$dir" -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
			-display none -monitor none -serial "pipe:$pipe"
	) </dev/null >"$out/prompt.qemu" 2>&1 &
	qpid=$!
	exec 3<>"$pipe.in"
	cat "$pipe.out" >"$out/prompt.log" &
	cpid=$!
	keys_until '^kernel.efi> |^efi: exiting boot services' 90 &&
		waitfor '^kernel.efi> ' 1 && printf '\r' >&3 && sleep 1 &&
		printf 'translate 0xA0000001000\r' >&3 &&
		waitfor '^translate: 0x00000a0000001000 -> ' 60 && printf 'map --page 1t\r' >&3 &&
		waitfor '^kernel.efi: error: ' 10 && printf 'mpa\r' >&3 &&
		waitfor 'unknown command' 10 && printf 'boot --page 2m\r' >&3 &&
		waitfor '^kernel: ready' 90
	kill -TERM "$qpid" 2>/dev/null
	wait "$qpid" 2>/dev/null
	kill "$cpid" 2>/dev/null
	wait "$cpid" 2>/dev/null
	exec 3>&-
	rm -f "$pipe.in" "$pipe.out"
	rm -f "$out"/run/vars.*.fd 2>/dev/null
}

echo "=== boot 3: BOOTX64.EFI without a shell, keys through the serial console; log $out/prompt.txt"
start=$(date +%s)
prompt_boot
log=$out/prompt.txt
echo "    took $(($(date +%s) - start))s"
check "prompt: a key pressed during the firmware's boot opens it" \
	grep -q '^efi: a key was pressed: inspect before boot$' "$log"
check "prompt: the kernel.efi> prompt comes up" grep -q '^kernel.efi> ' "$log"
check "prompt: translate works there" \
	grep -q '^translate: 0x00000a0000001000 -> 0x0000000000001000 page=4K W NX G WB$' "$log"
check "prompt: wrong input gives its reason and the prompt comes back" \
	grep -q "^kernel.efi: error: --page must be 4k, 2m or 1g, not '1t' (help lists the commands)$" "$log"
check "prompt: a typo gets one line and a hint, not the usage" eval '
	grep -q "^kernel.efi: error: unknown command .mpa. (help lists the commands)$" "$log" &&
	! grep -q "^usage: kernel.efi" "$log"'
check "prompt: boot --page 2m boots the kernel on a 2M physmap" eval '
	grep -q "^physmap: page_size=2M$" "$log" && grep -q "^kernel: ready$" "$log"'

if [ "$failed" -ne 0 ]; then
	echo "--- logs: $out/max.txt $out/no1g.txt $out/prompt.txt"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
