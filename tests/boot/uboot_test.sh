#!/bin/sh
# uboot_test.sh - the second UEFI implementation: boots build/usb.img on U-Boot's UEFI
# (Debian u-boot-qemu, qemu-x86_64) with its default environment and autoboot. U-Boot's
# distro boot finds EFI/BOOT/BOOTX64.EFI on the AHCI disk and passes its bootargs as load
# options; U-Boot starts applications with SSE off (CR4.OSFXSR clear). Checks the boot
# report to kernel: ready. Prints ok/FAIL lines, ends with "N passed, N failed".
# env: UBOOT_TIMEOUT (240 s: U-Boot under TCG can be slow), IMG (build/usb.img), UBOOT_ROM
set -u

here=$(cd "$(dirname "$0")/../.." && pwd)
timeout_s=${UBOOT_TIMEOUT:-240}
img=${IMG:-$here/build/usb.img}
log=$here/build/test/uboot.log
kernel_elf=$here/build/kernel/kernel.elf

. "$here/tests/boot/checks.sh"
has() { grep -Eq -- "$1" "$log.txt"; }
hasnt() { ! grep -Eq -- "$1" "$log.txt"; }
finish() {
	if [ "$failed" -ne 0 ]; then
		echo "--- serial log ($log.txt), last 30 lines:"
		tail -n 30 "$log.txt" 2>/dev/null
		[ -s "$log.qemu" ] && { echo "--- qemu:"; tail -n 10 "$log.qemu"; }
	fi
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit
}

mkdir -p "$here/build/test"
rm -f "$log" "$log.txt"
rom=${UBOOT_ROM:-/usr/lib/u-boot/qemu-x86_64/u-boot.rom}
check "U-Boot ROM present ($rom; scripts/deps.sh installs u-boot-qemu)" test -f "$rom"
check "disk image present ($img; make image)" test -f "$img"
[ "$failed" -eq 0 ] || finish

setsid "$here/scripts/qemu-uboot.sh" --log "$log" --timeout "$((timeout_s + 5))" "$img" \
	</dev/null >"$log.qemu" 2>&1 &
qpid=$!
start=$(date +%s)
finished=
while kill -0 "$qpid" 2>/dev/null; do
	if [ -f "$log" ] && grep -Eq "kernel: ready|kernel: halted|panic:|fatal after|efi: boot failed|Application failed|EFI LOAD FAILED" "$log"; then
		finished=1
		sleep 0.5 # let the last lines reach the file
		break
	fi
	[ $(($(date +%s) - start)) -ge "$timeout_s" ] && break
	sleep 0.5
done
kill -TERM "-$qpid" 2>/dev/null
wait "$qpid" 2>/dev/null
elapsed=$(($(date +%s) - start))
tr -d '\r' <"$log" >"$log.txt" 2>/dev/null || : >"$log.txt"

check "boot finished within ${timeout_s}s (took ${elapsed}s)" test -n "$finished"
check "U-Boot's autoboot found the removable-media path" \
	has '^Found EFI removable media binary efi/boot/bootx64.efi$'
check "U-Boot started it" has '^Booting /efi\\boot\\bootx64.efi$'
check "U-Boot's bootargs reported as ignored load options" \
	has '^efi: load options ignored: "[^"]+" bytes=[1-9][0-9]* why=unknown command'
check "efi stage started" has '^efi: kernel.efi \(UEFI stage\) starting'
check "U-Boot left CR4.OSFXSR clear, entry.S set it" \
	has '^efi: entry cr0=0x[0-9A-Fa-f]{16} cr4=0x[0-9A-Fa-f]{16} osfxsr_found=0 '
check "kernel entered" has '^kernel: entry=0xffffffff8[0-9a-f]{7} boot_info=0x00000a[0-9a-f]{10}$'
check "physmap check" has '^physmap: check=pass frames=3 '
check "physmap after-tables frame" has '^physmap: after_tables frame=0x[0-9a-f]{16} check=pass$'
check "physmap covers the final map" has '^physmap: covers_final_map=yes '
check "tour checks all pass" has '^tour: checks passed=[1-9][0-9]* failed=0$'
check "no check=FAIL anywhere" hasnt 'check=FAIL'
# The memory-type audit is checked once the kernel has it (issue 10, helper memtype).
if grep -aq 'memtype: ' "$kernel_elf" 2>/dev/null; then
	check "memtype audit" has '^memtype: .*check=pass$'
fi
check "no exception or panic" hasnt '^(exception:|panic:|efi: fatal|efi: error|kernel.efi: error)'
check "kernel ready" has '^kernel: ready$'
finish
