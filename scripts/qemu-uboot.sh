#!/bin/sh
# qemu-uboot.sh - boots a disk image (build/usb.img) on U-Boot's UEFI in QEMU (TCG), the
# second UEFI implementation the image is proven on: U-Boot's default autoboot finds
# EFI/BOOT/BOOTX64.EFI by itself. The disk is an AHCI disk; writes go to a snapshot.
#   qemu-uboot.sh [--serial] [--log FILE] [--timeout SECONDS] IMAGE [-- QEMU ARGS]
# Environment: QEMU, QEMU_MEM (1G), QEMU_CPU (max), QEMU_MACHINE (pc: the i440fx board
# U-Boot's qemu-x86_64 device tree describes), UBOOT_ROM.
set -eu

log= timeout_s= img=
while [ $# -gt 0 ]; do
	case $1 in
	--serial) ;;
	--log) log=${2:?"--log needs a file"}; shift ;;
	--timeout) timeout_s=${2:?"--timeout needs seconds"}; shift ;;
	--) shift; break ;;
	-*) echo "qemu-uboot.sh: unknown option $1" >&2; exit 2 ;;
	*) img=$1 ;;
	esac
	shift
done
rom=${UBOOT_ROM:-/usr/lib/u-boot/qemu-x86_64/u-boot.rom}
if [ ! -f "$rom" ]; then
	echo "qemu-uboot.sh: no U-Boot ROM at $rom (Debian/Ubuntu: apt-get install u-boot-qemu;" \
		"or set UBOOT_ROM=)" >&2
	exit 2
fi
if [ -z "$img" ] || [ ! -f "$img" ]; then
	echo "qemu-uboot.sh: '${img:-}' is not a disk image (run make image)" >&2
	exit 2
fi

set -- -machine "${QEMU_MACHINE:-pc}" -cpu "${QEMU_CPU:-max}" -m "${QEMU_MEM:-1G}" \
	-no-reboot -net none -bios "$rom" \
	-device isa-debug-exit,iobase=0xf4,iosize=0x04 \
	-device ahci,id=ahci -drive "if=none,id=stick,format=raw,snapshot=on,file=$img" \
	-device ide-hd,drive=stick,bus=ahci.0 "$@"
if [ -n "$log" ]; then
	: >"$log"
	set -- "$@" -display none -serial "file:$log" -monitor none
else
	echo "qemu-uboot.sh: serial console on this terminal; quit with Ctrl-A X" >&2
	set -- "$@" -display none -serial mon:stdio
fi

qemu=${QEMU:-qemu-system-x86_64}
if [ -n "$timeout_s" ]; then
	timeout --foreground "$timeout_s" "$qemu" "$@" && rc=0 || rc=$?
else
	"$qemu" "$@" && rc=0 || rc=$?
fi
exit "$rc"
