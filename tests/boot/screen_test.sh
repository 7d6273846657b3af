#!/bin/sh
# screen_test.sh - proves that the framebuffer shows the kernel's boot report. Boot 1 runs
# with a serial log and a QMP socket on an 800x600 screen, so the report wraps and scrolls:
# after "kernel: ready" it takes a screendump and checks every text row against the log,
# rendered in the same PSF font. Boot 2 (the firmware's default mode) has no serial port at
# all and must still put "kernel: ready" on the screen, about as fast.
# Prints ok/FAIL lines and ends with "N passed, N failed".
# env: BOOT_TIMEOUT (90), FONT_PSF (the Makefile's font), SCREEN_DIR (build/test/screen),
#      FB_TEST (the host pixel-format test binary, run first when set)
set -u

here=$(cd "$(dirname "$0")/../.." && pwd)
timeout_s=${BOOT_TIMEOUT:-90}
font=${FONT_PSF:-/usr/share/consolefonts/Lat2-Terminus16.psf.gz}
dir=${SCREEN_DIR:-$here/build/test/screen}
esp=$here/build/esp
py="python3 $here/tests/boot/screen.py"
passed=0 failed=0

ok() { echo "ok   $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1"; failed=$((failed + 1)); }
finish() {
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit
}

# start NAME [QEMU ARGS]: boots in the background with a QMP socket; sets qpid, sock, log.
start() {
	log=$dir/$1.log
	sock=$dir/$1.qmp
	name=$1
	shift
	rm -f "$log" "$sock" "$dir/$name.ppm"
	setsid "$here/scripts/qemu.sh" --log "$log" --timeout "$((timeout_s + 10))" "$esp" -- \
		-qmp "unix:$sock,server=on,wait=off" "$@" </dev/null >"$log.qemu" 2>&1 &
	qpid=$!
	t0=$(date +%s)
}
stop() {
	kill -TERM "-$qpid" 2>/dev/null
	wait "$qpid" 2>/dev/null
}
elapsed() { echo $(($(date +%s) - t0)); }

mkdir -p "$dir"
# The pixel formats QEMU does not offer, on the host first (FB_TEST: make fb-test's binary).
if [ -n "${FB_TEST:-}" ]; then
	"$FB_TEST" >"$dir/fb_test.out" 2>&1
	grep -E '^(ok|FAIL)' "$dir/fb_test.out"
	passed=$((passed + $(grep -c '^ok ' "$dir/fb_test.out")))
	failed=$((failed + $(grep -c '^FAIL' "$dir/fb_test.out")))
	grep -Eq '^[0-9]+ passed, 0 failed$' "$dir/fb_test.out" || fail "fb format test did not finish"
fi
[ -f "$esp/EFI/BOOT/BOOTX64.EFI" ] || { fail "build: $esp missing (run make)"; finish; }

# Boot 1: serial log, then one screendump once the kernel is idle.
start serial -vga none -device VGA,xres=800,yres=600
ready=
while kill -0 "$qpid" 2>/dev/null && [ "$(elapsed)" -lt "$timeout_s" ]; do
	if grep -Eq 'kernel: ready|panic:|efi: boot failed' "$log" 2>/dev/null; then
		ready=$(elapsed)
		break
	fi
	sleep 0.5
done
sleep 1 # the last line's pixels, and a quiet console
if [ -n "$ready" ] && $py dump "$sock" "$dir/serial.ppm" 2>"$dir/serial.dump.err"; then
	ok "boot with serial: kernel: ready after ${ready}s, screendump taken"
else
	fail "boot with serial: no kernel: ready or no screendump within ${timeout_s}s"
fi
stop
if [ -f "$dir/serial.ppm" ]; then
	$py check "$log" "$dir/serial.ppm" "$font" >"$dir/check.out" 2>&1
	cat "$dir/check.out"
	passed=$((passed + $(grep -c '^ok ' "$dir/check.out")))
	failed=$((failed + $(grep -c '^FAIL' "$dir/check.out")))
	grep -q '^Traceback' "$dir/check.out" && fail "screen check crashed"
	$py png "$dir/serial.ppm" "$dir/screen.png" && echo "screenshot: $dir/screen.png"
fi

# Boot 2: no serial port. Only the screen can tell that the kernel got there.
QEMU_SERIAL=none start noserial
seen=
while kill -0 "$qpid" 2>/dev/null && [ "$(elapsed)" -lt "$timeout_s" ]; do
	sleep 2
	if $py dump "$sock" "$dir/noserial.ppm" 2>/dev/null &&
		$py find "$dir/noserial.ppm" "$font" "kernel: ready"; then
		seen=$(elapsed)
		break
	fi
done
stop
if [ -n "$seen" ]; then
	ok "boot without a serial port: screen shows kernel: ready after ${seen}s"
	if $py find "$dir/noserial.ppm" "$font" "serial: com1=absent"; then
		ok "the kernel found no UART and said so on screen"
	else
		fail "the screen does not say serial: com1=absent"
	fi
	# polled every 2 s plus a screendump: allow that much over the serial boot
	if [ "$seen" -le $((ready + 10)) ]; then
		ok "no serial port costs no time (${seen}s against ${ready}s with one)"
	else
		fail "no serial port slows the boot (${seen}s against ${ready}s with one)"
	fi
else
	fail "boot without a serial port: no kernel: ready on screen within ${timeout_s}s"
fi
finish
