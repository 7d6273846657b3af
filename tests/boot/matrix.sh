#!/usr/bin/env bash
# matrix.sh - the hardware matrix: boots build/usb.img under OVMF (TCG) on differing machines
# (stick on xHCI or SATA, 128 MiB to 6 GiB, CPUs without 1 GiB pages or NX, -cpu max, 4 CPUs,
# q35 and pc, pc 3200M and q35 5000M whose MTRRs and RAM end split large pages). Every boot
# must reach kernel: ready with the physmap check and the memtype audit passing, plus the
# facts its configuration implies. Two boots run at a time.
# Usage: matrix.sh [full|lean] [NAME...]   (names pick configurations from the full list)
# Prints "ok   NAME (Ns)" or "FAIL NAME: why" per boot and ends with "N passed, N failed".
# env: IMG (build/usb.img), BOOT_TIMEOUT (120), MATRIX_JOBS (2)
set -u

here=$(cd "$(dirname "$0")/../.." && pwd)
img=${IMG:-$here/build/usb.img}
timeout_s=${BOOT_TIMEOUT:-120}
jobs=${MATRIX_JOBS:-2}
dir=$here/build/test/matrix
case $img in /*) ;; *) img=$PWD/$img ;; esac # QEMU may not share our idea of "."

# The EFI stage's highest check frame lies in RAM above 4 GiB (past the PCI hole) and the
# kernel reads it back through the physmap.
above_4g='^physmap: check=pass .* high=0x00000001[0-9a-f]{8}$'
# name | machine | cpu | memory | cpus | disk | extra checks (ERE that must match, ';'-separated)
# disk: usb = stick on qemu-xhci, sata = AHCI disk (q35), ide = the machine's default disk
configs=(
	"usb-stick|q35|max|1G|1|usb|BdsDxe: starting Boot[0-9A-F]{4} \"UEFI QEMU QEMU USB HARDDRIVE"
	"sata-disk|q35|max|1G|1|sata|BdsDxe: starting Boot[0-9A-F]{4} \"UEFI QEMU HARDDISK"
	"mem-128M|q35|max|128M|1|ide|^memory: usable=([0-9]{1,5}|1[0-2][0-9]{4}|130[0-9]{3}) KiB$"
	"mem-2G|q35|max|2G|1|ide|^memory: usable=(19|20)[0-9]{5} KiB$"
	"mem-6G|q35|max|6G|1|ide|^memory: usable=[56][0-9]{6} KiB$;$above_4g"
	"cpu-no-1g|q35|qemu64,-pdpe1gb|1G|1|ide|^cpu: nx=1 pdpe1gb=0 ;^physmap: page_size=2M$"
	"cpu-no-nx|q35|qemu64,-nx|1G|1|ide|^cpu: nx=0 ;^paging: xd_entries=0$"
	"cpu-max|q35|max|1G|1|ide|^cpu: nx=1 pdpe1gb=1 ;^physmap: page_size=1G$"
	"smp-4|q35|max|1G|4|ide|^smp: cpus=4 online=4$"
	"machine-pc|pc|max|1G|1|ide|"
	"pc-6G-4cpu-qemu64|pc|qemu64|6G|4|ide|^memory: usable=[56][0-9]{6} KiB$;$above_4g;^physmap: page_size=2M$"
	# OVMF's MTRRs make [3.5 GiB, 4 GiB) UC here: no large page may cross that edge
	"pc-3200M|pc|max|3200M|1|ide|^mtrr: variable n=[0-9]+ base=0x00000000e0000000 .*type=UC "
	# RAM ends at 0x1b8800000, inside a 1 GiB page: mapped exactly, not rounded out
	"q35-5000M|q35|max|5000M|1|ide|$above_4g;^physmap: end=0x00000a01b8800000$"
)
lean=(usb-stick mem-6G cpu-no-nx pc-3200M q35-5000M)

# boot CONFIG: one boot; writes its verdict line to $dir/NAME.result
boot() {
	local name machine cpu mem smp disk extra
	IFS='|' read -r name machine cpu mem smp disk extra <<<"$1"
	local log=$dir/$name.log disk_args
	case $disk in
	usb) disk_args=(-device "qemu-xhci,id=xhci" -drive "if=none,id=stick,format=raw,snapshot=on,file=$img"
		-device "usb-storage,bus=xhci.0,drive=stick,removable=on") ;;
	sata) disk_args=(-drive "if=none,id=disk,format=raw,snapshot=on,file=$img"
		-device "ide-hd,drive=disk,bus=ide.0") ;;
	*) disk_args=(-drive "format=raw,snapshot=on,file=$img") ;;
	esac
	rm -f "$log" "$log.txt"
	QEMU_NO_ESP=1 QEMU_MACHINE=$machine QEMU_CPU=$cpu QEMU_MEM=$mem QEMU_SMP=$smp \
		RUN_DIR=$dir setsid "$here/scripts/qemu.sh" --log "$log" --timeout "$((timeout_s + 5))" \
		"$here/build/esp" -- "${disk_args[@]}" </dev/null >"$log.qemu" 2>&1 &
	local qpid=$! start=$SECONDS finished=
	while kill -0 "$qpid" 2>/dev/null && [ $((SECONDS - start)) -lt "$timeout_s" ]; do
		if grep -Eq 'kernel: ready|kernel: halted|panic:|fatal after|efi: boot failed|No bootable' "$log" 2>/dev/null; then
			finished=1
			sleep 0.5
			break
		fi
		sleep 0.5
	done
	local secs=$((SECONDS - start))
	kill -TERM "-$qpid" 2>/dev/null
	wait "$qpid" 2>/dev/null
	tr -d '\r' <"$log" 2>/dev/null | sed 's/\x1b\[[0-9;=?]*[A-Za-z]//g' >"$log.txt"
	verdict "$name" "$secs" "$finished" "$log.txt" "$extra" >"$dir/$name.result"
}

# verdict NAME SECONDS FINISHED LOG EXTRA: the one result line of a boot
verdict() {
	local name=$1 secs=$2 finished=$3 log=$4 extra=$5 why='' re
	local -a want=('^kernel: ready$' '^physmap: check=pass '
		'^memtype: leaves=[1-9][0-9]* mixed_large=0 wb_non_ram=0 type_aliases=0 check=pass$')
	IFS=';' read -ra more <<<"$extra"
	want+=("${more[@]}")
	[ -n "$finished" ] || why="no final line within ${timeout_s}s"
	if [ -z "$why" ] && grep -Eq '^(exception:|panic:|efi: fatal|efi: error)' "$log"; then
		why="$(grep -Em1 '^(exception:|panic:|efi: fatal|efi: error)' "$log")"
	fi
	for re in "${want[@]}"; do
		[ -n "$why" ] && break
		[ -z "$re" ] || grep -Eq -- "$re" "$log" || why="log lacks /$re/"
	done
	if [ -z "$why" ]; then
		printf 'ok   %-18s (%ss)\n' "$name" "$secs"
	else
		printf 'FAIL %-18s (%ss): %s (log: %s)\n' "$name" "$secs" "$why" "$log"
	fi
}

mode=${1:-full}
[ $# -gt 0 ] && shift
case $mode in
full) pick=("$@") ;;
lean) pick=("${lean[@]}") ;;
*) echo "usage: matrix.sh [full|lean] [NAME...]" >&2; exit 2 ;;
esac
run=()
for c in "${configs[@]}"; do
	n=${c%%|*}
	if [ ${#pick[@]} -eq 0 ] || [[ " ${pick[*]} " == *" $n "* ]]; then run+=("$c"); fi
done

mkdir -p "$dir"
passed=0 failed=0
if [ ! -f "$img" ]; then
	echo "FAIL image: $img missing (make image)"
	echo "0 passed, 1 failed"
	exit 1
fi
# Batches of $jobs boots; results print in the order of the list.
for ((i = 0; i < ${#run[@]}; i += jobs)); do
	batch=("${run[@]:i:jobs}")
	for c in "${batch[@]}"; do
		rm -f "$dir/${c%%|*}.result"
		boot "$c" &
	done
	wait
	for c in "${batch[@]}"; do
		r=$dir/${c%%|*}.result
		[ -s "$r" ] || echo "FAIL ${c%%|*}: no result" >"$r"
		cat "$r"
		if grep -q '^ok ' "$r"; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
	done
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
