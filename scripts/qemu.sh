#!/bin/sh
# qemu.sh - boots an ESP directory under OVMF in QEMU (TCG: KVM is not assumed), with a
# private copy of the OVMF variable store for this run. Used by make run/run-serial/debug
# and by the boot tests.
#   qemu.sh [--window|--serial] [--debug] [--log FILE] [--timeout SECONDS] [--expect-exit N]
#           ESP_DIR [-- QEMU ARGS]
# Environment: QEMU, QEMU_MEM, QEMU_CPU, QEMU_SMP, QEMU_MACHINE, OVMF_CODE, OVMF_VARS.
# On the terminal (no --log), QEMU's isa-debug-exit statuses are named and a pass (33) or a
# finished drill (37) exits 0, like quitting QEMU; --expect-exit N: 0 only for status N.
# QEMU_MEM below MIN_MEM_MIB (48 MiB: OVMF needs it) is refused before QEMU starts.
# With --log: QEMU_SERIAL=none boots without a serial port (the log stays empty), and
# QEMU_NO_ESP=1 leaves out the ESP directory's drive (the caller passes its own disk).
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
mode=serial debug= log= timeout_s= esp= expect=
MIN_MEM_MIB=48
while [ $# -gt 0 ]; do
	case $1 in
	--window) mode=window ;;
	--serial) mode=serial ;;
	--debug) debug=1 ;;
	--log) log=${2:?"--log needs a file"}; shift ;;
	--timeout) timeout_s=${2:?"--timeout needs seconds"}; shift ;;
	--expect-exit) expect=${2:?"--expect-exit needs a status"}; shift ;;
	--) shift; break ;;
	-*) echo "qemu.sh: unknown option $1" >&2; exit 2 ;;
	*) esp=$1 ;;
	esac
	shift
done
if [ -z "$esp" ] || { [ ! -f "$esp/EFI/BOOT/BOOTX64.EFI" ] && [ ! -f "$esp/kernel.efi" ]; }; then
	echo "qemu.sh: '${esp:-}' is not an ESP directory with EFI/BOOT/BOOTX64.EFI or kernel.efi (run make)" >&2
	exit 2
fi

# mem_mib SIZE: QEMU's -m value (a number of MiB, or with a suffix M, G or T) in MiB.
mem_mib() {
	case $1 in
	*[0-9][Mm]) echo "${1%?}" ;;
	*[0-9][Gg]) echo "$(( ${1%?} * 1024 ))" ;;
	*[0-9][Tt]) echo "$(( ${1%?} * 1024 * 1024 ))" ;;
	*[0-9]) echo "$1" ;;
	*) echo "" ;;
	esac
}
mem=${QEMU_MEM:-1G}
mib=$(mem_mib "$mem")
case $mib in *[!0-9]*|'') mib= ;; esac
if [ -z "$mib" ]; then
	echo "qemu.sh: QEMU_MEM=$mem: give MiB as a number, or with M, G or T (e.g. 512M, 2G)" >&2
	exit 2
fi
if [ "$mib" -lt "$MIN_MEM_MIB" ]; then
	echo "qemu.sh: QEMU_MEM=$mem is below the minimum of ${MIN_MEM_MIB}M: OVMF itself needs" \
		"that much (32M crashes it, 40M stops in its boot manager); try QEMU_MEM=${MIN_MEM_MIB}M or more" >&2
	exit 2
fi

run_dir=${RUN_DIR:-$here/build/run}
eval "$("$here/ovmf/find-ovmf.sh" --copy-vars "$run_dir")"
trap 'rm -f "$OVMF_VARS_COPY"' EXIT INT TERM

set -- -machine "${QEMU_MACHINE:-q35}" -cpu "${QEMU_CPU:-max}" -m "$mem" \
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
[ -n "$log" ] && [ -z "$expect" ] && exit "$rc" # the tests read the raw status

# isa-debug-exit: QEMU exits (code << 1) | 1 (kernel/arch/fault.h)
case $rc in
0) why="QEMU quit" ;;
33) why="self-tests passed (isa-debug-exit)" ;;
35) why="a self-test failed (isa-debug-exit)" ;;
37) why="fault drill done (isa-debug-exit)" ;;
124) why="timed out after ${timeout_s}s" ;;
*) why="QEMU failed" ;;
esac
if [ -n "$expect" ]; then
	[ "$rc" = "$expect" ] && { echo "qemu.sh: status $rc: $why" >&2; exit 0; }
	echo "qemu.sh: status $rc: $why (wanted $expect)" >&2
	exit 1
fi
[ "$rc" != 0 ] && echo "qemu.sh: status $rc: $why" >&2
case $rc in 0|33|37) exit 0 ;; esac
exit "$rc"
