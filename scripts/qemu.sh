#!/bin/sh
# qemu.sh - boots an ESP directory under OVMF in QEMU (TCG: KVM is not assumed), with a
# private copy of the OVMF variable store for this run. Used by make run/run-serial/debug
# and by the boot tests.
#   qemu.sh [--window|--serial] [--debug] [--log FILE] [--timeout SECONDS] ESP_DIR [-- QEMU ARGS]
# Environment: QEMU, QEMU_MEM, QEMU_CPU, QEMU_SMP, QEMU_MACHINE, OVMF_CODE, OVMF_VARS.
# With --log: QEMU_SERIAL=none boots without a serial port (the log stays empty), and
# QEMU_NO_ESP=1 leaves out the ESP directory's drive (the caller passes its own disk).
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
mode=serial debug= log= timeout_s= esp=
while [ $# -gt 0 ]; do
	case $1 in
	--window) mode=window ;;
	--serial) mode=serial ;;
	--debug) debug=1 ;;
	--log) log=${2:?"--log needs a file"}; shift ;;
	--timeout) timeout_s=${2:?"--timeout needs seconds"}; shift ;;
	--) shift; break ;;
	-*) echo "qemu.sh: unknown option $1" >&2; exit 2 ;;
	*) esp=$1 ;;
	esac
	shift
done
if [ -z "$esp" ] || [ ! -f "$esp/EFI/BOOT/BOOTX64.EFI" ]; then
	echo "qemu.sh: '${esp:-}' is not an ESP directory with EFI/BOOT/BOOTX64.EFI (run make)" >&2
	exit 2
fi

run_dir=${RUN_DIR:-$here/build/run}
eval "$("$here/ovmf/find-ovmf.sh" --copy-vars "$run_dir")"
trap 'rm -f "$OVMF_VARS_COPY"' EXIT INT TERM

set -- -machine "${QEMU_MACHINE:-q35}" -cpu "${QEMU_CPU:-max}" -m "${QEMU_MEM:-1G}" \
	-smp "${QEMU_SMP:-1}" -no-reboot -net none \
	-drive "if=pflash,format=raw,readonly=on,file=$OVMF_CODE" \
	-drive "if=pflash,format=raw,file=$OVMF_VARS_COPY" \
	-device isa-debug-exit,iobase=0xf4,iosize=0x04 "$@"
[ -n "${QEMU_NO_ESP:-}" ] || set -- "$@" -drive "format=raw,file=fat:rw:$esp"
if [ "$mode" = window ]; then
	set -- "$@" -serial stdio
elif [ -n "$log" ]; then
	: >"$log"
	serial="file:$log"
	[ "${QEMU_SERIAL:-}" = none ] && serial=none
	set -- "$@" -display none -serial "$serial" -monitor none
else
	echo "qemu.sh: serial console on this terminal; quit with Ctrl-A X" >&2
	set -- "$@" -display none -serial mon:stdio
fi
[ -n "$debug" ] && set -- "$@" -s -S

qemu=${QEMU:-qemu-system-x86_64}
if [ -n "$timeout_s" ]; then
	# `timeout` in the foreground so the terminal's Ctrl-C still reaches QEMU
	timeout --foreground "$timeout_s" "$qemu" "$@" && rc=0 || rc=$?
else
	"$qemu" "$@" && rc=0 || rc=$?
fi
exit "$rc"
