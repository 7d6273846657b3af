#!/bin/sh
# firmware_test.sh - issue 10, the firmware state taken as found, under OVMF (TCG):
#   late   `kernel.efi boot late-fail` stops right after ExitBootServices: the report is on
#          COM1 and, in a screendump, a full-width red band with the same text in the font;
#   panic  `kernel.efi boot drill=panic` panics before the kernel's console has started:
#          the panic still reaches the screen (kpanic starts the console);
#   gop1   started by the firmware on one screen: the GOP on the console-out handle is taken
#          (from the shell it is not: the shell's own console handle carries no GOP);
#   gop2   two screens: EDK2's console GOP has no linear framebuffer, so the stage falls
#          back to the first GOP and says so.
# Prints ok/FAIL per check and "N passed, N failed". A command line reaches kernel.efi only
# through OVMF's shell: those boots use a private ESP whose startup.nsh runs it.
# env: FIRMWARE_TIMEOUT (seconds per boot, 120), FONT_PSF (the Makefile's font)
set -u

here=$(cd "$(dirname "$0")/../.." && pwd)
out=$here/build/firmware-test
timeout_s=${FIRMWARE_TIMEOUT:-120}
font=${FONT_PSF:-/usr/share/consolefonts/Lat2-Terminus16.psf.gz}
py="python3 $here/tests/boot/screen.py"

. "$here/tests/boot/checks.sh"
has() { grep -Eq -- "$2" "$out/$1.txt"; }
hasnt() { ! grep -Eq -- "$2" "$out/$1.txt"; }
has_line() { grep -Fxq -- "$2" "$out/$1.txt"; } # the whole line, as a fixed string
finish() {
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit
}

# boot NAME ARGS UNTIL [QEMU ARGS...]: boots (ARGS: startup.nsh runs "kernel.efi boot ARGS";
# empty: the ESP as built) on an 800x600 screen until the serial log matches UNTIL, then
# takes a screendump (NAME.ppm); the log without CRs goes to NAME.txt.
boot() {
	name=$1 args=$2 until=$3
	shift 3
	esp=$out/$name.esp log=$out/$name.log sock=$out/$name.qmp
	rm -rf "$esp" "$log" "$sock" "$out/$name.txt" "$out/$name.ppm"
	mkdir -p "$esp"
	cp -r "$here/build/esp/." "$esp/"
	if [ -n "$args" ]; then
		rm -f "$esp/EFI/BOOT/BOOTX64.EFI"
		printf '@echo -off\r\nfs0:\r\nfs0:\\kernel.efi boot %s\r\n' "$args" >"$esp/startup.nsh"
	fi
	QEMU_NO_ESP=1 RUN_DIR=$out setsid "$here/scripts/qemu.sh" --log "$log" \
		--timeout "$((timeout_s + 10))" "$here/build/esp" -- \
		-drive "format=raw,file=fat:rw:$esp" -qmp "unix:$sock,server=on,wait=off" \
		-vga none -device VGA,xres=800,yres=600 "$@" </dev/null >"$out/$name.qemu" 2>&1 &
	qpid=$!
	t0=$(date +%s)
	while kill -0 "$qpid" 2>/dev/null && [ $(($(date +%s) - t0)) -lt "$timeout_s" ]; do
		grep -Eq "$until" "$log" 2>/dev/null && break
		sleep 0.5
	done
	took=$(($(date +%s) - t0))
	sleep 1 # the screen is drawn after the serial line
	$py dump "$sock" "$out/$name.ppm" 2>"$out/$name.dump.err"
	kill -TERM "-$qpid" 2>/dev/null
	wait "$qpid" 2>/dev/null
	tr -d '\r' <"$log" >"$out/$name.txt" 2>/dev/null || : >"$out/$name.txt"
	rm -rf "$esp"
	echo "boot $name: ${took}s"
}

# late_screen NAME LINE1 LINE2: late_screen.py's checks of NAME.ppm (ok/FAIL lines), counted.
late_screen() {
	python3 "$here/tests/boot/late_screen.py" "$out/$1.ppm" "$font" "$2" "$3" \
		>"$out/$1.screen" 2>&1
	cat "$out/$1.screen"
	passed=$((passed + $(grep -c '^ok ' "$out/$1.screen")))
	failed=$((failed + $(grep -c '^FAIL' "$out/$1.screen")))
	grep -q '^Traceback' "$out/$1.screen" && check "late screen check ran" false
}

mkdir -p "$out"
check "image built (build/esp/kernel.efi)" test -f "$here/build/esp/kernel.efi"
[ "$failed" -eq 0 ] || finish

late_msg="efi: fatal after ExitBootServices: test late-fail: stopped right after the exit, as asked"
boot late late-fail 'fatal after ExitBootServices'
check "late: started from the shell, whose console has no GOP: the first GOP" \
	has late '^efi: gop source=first conout=none mode='
check "late: the report on COM1" has_line late "$late_msg"
check "late: the kernel never ran" hasnt late '^kernel: entry='
check "late: screendump taken" test -s "$out/late.ppm"
late_screen late "$late_msg" "kernel.efi stopped here (the same text went to COM1)"

panic_msg="panic: drill: panic before the console started, as asked (drill=panic)"
boot panic drill=panic 'panic:'
check "panic: on COM1" has_line panic "$panic_msg"
check "panic: before the kernel's console would have started" hasnt panic '^frames: '
check "panic: kpanic started the console" has panic '^fbcon: cols=[0-9]+ rows=[0-9]+ '
check "panic: the screen shows it" $py find "$out/panic.ppm" "$font" "$panic_msg"
check "panic: the screen shows what came before it (kernel: entry=)" \
	$py find "$out/panic.ppm" "$font" "kernel: entry="

boot gop1 '' 'kernel: ready|panic:|fatal'
check "gop1: the console-out GOP is taken" has gop1 '^efi: gop source=conout mode='
check "gop1: kernel ready" has gop1 '^kernel: ready$'

boot gop2 '' 'kernel: ready|panic:|fatal' -device secondary-vga
check "gop2: console GOP not linear, the first GOP taken" \
	has gop2 '^efi: gop source=first conout=not-linear mode='
check "gop2: the kernel's console on it" has gop2 '^fbcon: cols=[0-9]+ rows=[0-9]+ '
check "gop2: kernel ready" has gop2 '^kernel: ready$'
finish
