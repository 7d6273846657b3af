#!/usr/bin/env bash
# figure.sh - make figure: boots OVMF's shell with an ESP whose startup.nsh runs
# `kernel.efi map` and then boots the kernel, and draws docs/address-space.svg from that
# log (scripts/figure.py). figure.sh LOG draws from an existing log instead.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
log=${1:-}
if [ -z "$log" ]; then
	out=build/figure
	log=$out/boot.log
	rm -f "$log"
	rm -rf "$out/esp" && mkdir -p "$out/esp"
	cp build/kernel.efi "$out/esp/kernel.efi"
	printf '@echo -off\r\nfs0:\r\nkernel.efi map\r\nkernel.efi boot\r\n' >"$out/esp/startup.nsh"
	setsid scripts/qemu.sh --log "$log" --timeout 240 "$out/esp" </dev/null >"$out/qemu.out" 2>&1 &
	qpid=$!
	for _ in $(seq 480); do
		grep -Eq 'kernel: (ready|halted)|panic:' "$log" 2>/dev/null && break
		kill -0 "$qpid" 2>/dev/null || break
		sleep 0.5
	done
	sleep 0.5
	kill -TERM "-$qpid" 2>/dev/null || :
	wait "$qpid" 2>/dev/null || :
	grep -q 'kernel: ready' "$log" || { echo "figure: the boot did not reach kernel: ready ($log)" >&2; exit 1; }
fi
python3 scripts/figure.py "$log" docs/address-space.svg
