#!/bin/sh
# boot_test.sh - boots build/esp under OVMF in QEMU (TCG) and checks the kernel's serial
# boot report. Prints one line per check and ends with "N passed, N failed"; exits
# non-zero on any failure or when the boot does not finish within BOOT_TIMEOUT seconds.
# Usage: boot_test.sh [NAME [QEMU ARGS...]]  (NAME names the log: build/test/NAME.log)
set -u

here=$(cd "$(dirname "$0")/../.." && pwd)
name=${1:-boot}
[ $# -gt 0 ] && shift
timeout_s=${BOOT_TIMEOUT:-90}
esp=$here/build/esp
log=$here/build/test/$name.log

. "$here/tests/boot/checks.sh"
has() { grep -Eq -- "$1" "$log.txt"; }
hasnt() { ! grep -Eq -- "$1" "$log.txt"; }

mkdir -p "$here/build/test"
rm -f "$log" "$log.txt"
if [ ! -f "$esp/EFI/BOOT/BOOTX64.EFI" ]; then
	echo "FAIL build: $esp/EFI/BOOT/BOOTX64.EFI missing (run make)"
	echo "0 passed, 1 failed"
	exit 1
fi

# QEMU runs in its own process group so that it and its wrapper stop together once the
# kernel has reported (it idles forever after "kernel: ready").
setsid "$here/scripts/qemu.sh" --log "$log" --timeout "$((timeout_s + 5))" "$esp" -- "$@" \
	</dev/null >"$log.qemu" 2>&1 &
qpid=$!
start=$(date +%s)
finished=
while kill -0 "$qpid" 2>/dev/null; do
	if [ -f "$log" ] && grep -Eq "kernel: ready|kernel: halted|panic:|fatal after|efi: boot failed" "$log"; then
		finished=1
		sleep 0.5 # let the last lines reach the file
		break
	fi
	if [ $(($(date +%s) - start)) -ge "$timeout_s" ]; then
		break
	fi
	sleep 0.5
done
kill -TERM "-$qpid" 2>/dev/null
wait "$qpid" 2>/dev/null
elapsed=$(($(date +%s) - start))
tr -d '\r' <"${log}" >"$log.txt" 2>/dev/null || : >"$log.txt"

check "boot finished within ${timeout_s}s (took ${elapsed}s)" test -n "$finished"
check "efi stage started" has '^efi: kernel.efi \(UEFI stage\) starting'
check "kernel entered" has '^kernel: entry=0xffffffff8[0-9a-f]{7} boot_info=0x00000a[0-9a-f]{10}$'
check "boot_info version" has '^kernel: boot_info_version=[0-9]+$'
check "handoff page unmapped" has '^paging: handoff_page=0x[0-9a-f]{16} unmapped=yes$'
check "CR4.PGE set" has '^paging: cr4_pge=1$'
check "physmap offset" has '^physmap: offset=0x00000a0000000000$'
check "physmap end" has '^physmap: end=0x00000a[0-9a-f]{10}$'
check "physmap page size" has '^physmap: page_size=(1G|2M)$'
check "physmap pages by size" has '^physmap: pages 1G=[0-9]+ 2M=[1-9][0-9]* 4K=[1-9][0-9]*$'
check "MTRRs and PAT printed" sh -c "grep -Eq '^mtrr: (cap=0x[0-9a-f]{16} def_type=|present=0)' '$log.txt' &&
	grep -Eq '^pat: value=0x[0-9a-f]{16}\$' '$log.txt'"
check "memtype audit" has '^memtype: leaves=[1-9][0-9]* mixed_large=0 wb_non_ram=0 type_aliases=0 check=pass$'
check "page tables per level" sh -c "grep -Eq '^paging: tables_l4=1\$' '$log.txt' &&
	grep -Eq '^paging: tables_l3=[1-9][0-9]*\$' '$log.txt' &&
	grep -Eq '^paging: tables_l2=[0-9]+\$' '$log.txt' && grep -Eq '^paging: tables_l1=[1-9][0-9]*\$' '$log.txt'"
check "memory usable" has '^memory: usable=[1-9][0-9]* KiB$'
check "memory page tables, kernel, stack, boot info" sh -c "
	grep -Eq '^memory: page-tables=[1-9][0-9]* KiB\$' '$log.txt' &&
	grep -Eq '^memory: kernel=[1-9][0-9]* KiB\$' '$log.txt' &&
	grep -Eq '^memory: kernel-stack=(6[4-9]|[7-9][0-9]|[1-9][0-9]{2,}) KiB\$' '$log.txt' &&
	grep -Eq '^memory: boot-info=[1-9][0-9]* KiB\$' '$log.txt'"
check "time in efi stage" has '^time: efi_stage_us=[0-9]+$'
check "time in exit of boot services" has '^time: exit_boot_services_us=[0-9]+$'
check "physmap check" has '^physmap: check=pass frames=3 '
check "no exception or panic" hasnt '^(exception:|panic:|efi: fatal|efi: error)'
check "kernel ready" has '^kernel: ready$'

if [ "$failed" -ne 0 ]; then
	echo "--- serial log ($log), last 30 lines:"
	tail -n 30 "$log.txt"
	[ -s "$log.qemu" ] && { echo "--- qemu:"; tail -n 10 "$log.qemu"; }
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
