#!/usr/bin/env bash
# learner_test.sh - make learner-test: the commands a new user types first (issue 13).
#  1. make shell: OVMF's shell comes up on fs0: = the ESP without booting anything;
#     kernel.efi memmap runs; kernel.efi inspect opens the kernel.efi> prompt, exit returns
#     to the shell; reset -s ends QEMU and make exits 0. Keys go in on the serial console.
#  2. make selftest: the kernel's self-tests in a boot; make exits 0 (isa-debug-exit 33).
#  3. QEMU_MEM below the minimum: make run refuses with the reason before QEMU starts.
# One line per check, then "N passed, N failed". LEARNER_TIMEOUT (180 s) bounds each boot.
set -u
here=$(cd "$(dirname "$0")/../.." && pwd)
cd "$here"
out=build/test/learner
t=${LEARNER_TIMEOUT:-180}
. tests/boot/checks.sh
mkdir -p "$out"

clean() { tr -d '\r' <"$1" | sed 's/\x1b\[[0-9;=?]*[A-Za-z]//g'; }
waitfor() { # waitfor REGEX SECONDS [COUNT]: until the shell log shows REGEX COUNT times
	local i
	for i in $(seq $(($2 * 5))); do
		[ "$(clean "$out/shell.log" | grep -Ec -- "$1")" -ge "${3:-1}" ] && return 0
		sleep 0.2
	done
	return 1
}

echo "=== make shell, driven through the serial console; log $out/shell.txt"
rm -f "$out/shell.in" "$out/shell.log"
mkfifo "$out/shell.in"
setsid make --no-print-directory shell <"$out/shell.in" >"$out/shell.log" 2>&1 &
mpid=$!
exec 3>"$out/shell.in"
waitfor 'FS0:\\> ' "$t" &&
	printf 'kernel.efi memmap\r' >&3 && waitfor '^memmap: this image holds' 60 &&
	printf 'kernel.efi inspect\r' >&3 && waitfor '^kernel.efi> ' 60 &&
	printf 'translate 0xdeadbeaf000\r' >&3 && waitfor 'the kernel maps it after boot' 60 &&
	printf 'exit\r' >&3 && waitfor '^efi: inspect: exit, back to the shell' 30 &&
	waitfor 'FS0:\\> ' 30 3 && printf 'reset -s\r' >&3
for _ in $(seq 60); do kill -0 "$mpid" 2>/dev/null || break; sleep 0.5; done
kill -TERM "-$mpid" 2>/dev/null
wait "$mpid"
rc=$?
exec 3>&-
rm -f "$out/shell.in"
clean "$out/shell.log" >"$out/shell.txt"
s=$out/shell.txt
check "make shell: the shell's script says fs0: is the ESP and what to type" \
	grep -q '^make shell: fs0: is the ESP. Next: kernel.efi memmap' "$s"
check "make shell: nothing booted on its own (no kernel report)" eval "! grep -Eq '^(kernel: entry|efi: kernel.efi .UEFI stage. starting)' '$s'"
check "make shell: kernel.efi memmap at FS0:\\> prints the map" eval "
	grep -q '^memmap: total EfiConventionalMemory' '$s' && grep -q '^memmap: this image holds' '$s'"
check "kernel.efi inspect: the prompt, a command there, and exit back to the shell" eval "
	grep -q '^kernel.efi> ' '$s' && grep -q 'is the post.s example page: the kernel maps it after boot' '$s' &&
	grep -q '^efi: inspect: exit, back to the shell$' '$s'"
check "the shell prompt returns after exit; reset -s ends QEMU and make exits 0 (exit $rc)" \
	eval "[ \$(grep -c 'FS0:\\\\> ' '$s') -ge 3 ] && [ $rc -eq 0 ]"

echo "=== make selftest; log $out/selftest.txt"
timeout $((t + 30)) make --no-print-directory selftest SELFTEST_TIMEOUT="$t" </dev/null \
	>"$out/selftest.log" 2>&1
rc=$?
clean "$out/selftest.log" >"$out/selftest.txt"
check "make selftest: the self-tests ran and passed" grep -Eq '^selftest: [0-9]+ passed, 0 failed$' "$out/selftest.txt"
check "make selftest exits 0 on pass (exit $rc; QEMU's status named)" eval "
	[ $rc -eq 0 ] && grep -q 'qemu.sh: status 33: self-tests passed' '$out/selftest.txt'"

echo "=== QEMU_MEM below the minimum"
QEMU_MEM=32M timeout 60 make --no-print-directory run </dev/null >"$out/mem.log" 2>&1
rc=$?
check "QEMU_MEM=32M: make run refuses before QEMU starts, saying the minimum (exit $rc)" eval "
	[ $rc -ne 0 ] && grep -q 'QEMU_MEM=32M is below the minimum of 48M' '$out/mem.log' &&
	! grep -q 'BdsDxe' '$out/mem.log'"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
