#!/usr/bin/env bash
# la57_test.sh - 5-level paging end to end (issue 11), under OVMF (TCG), two boots at a time:
#   fw5-default  la57on.efi puts the firmware into 5-level paging, then kernel.efi with no
#                options: the kernel must get the default 4 levels (the trampoline leaves
#                long mode to clear CR4.LA57)
#   fw5-levels5  la57on.efi, then `boot --levels 5`: 5 levels, CR3 switched in 64-bit mode
#   shell-l5     `kernel.efi boot --levels 5` from the shell, firmware in 4-level paging
#   selftest-l5  `kernel.efi test --levels 5`: the self-tests pass in 5-level mode
#   drill-l5     `boot --levels 5 drill=null`: the fault report walks all 5 levels
#   no-la57      `-cpu max,-la57` and `boot --levels 5`: one refusal line, nothing booted
#   nmi-l5       `boot --levels 5 nmi-window`: the trampoline waits in its paging-off window;
#                an NMI from the monitor must end in its halt (its own IDT), not a triple fault
#   shell-cmds   translate and map --levels 5 (the tables boot would build), then la57on and
#                `current translate` / `current map` on the firmware's own 5-level tables
# Each boot runs under -cpu max,+la57 (unless said) with QEMU's monitor on a socket; once the
# kernel is up, `info registers` there must show CR4.LA57 (bit 12) as the mode asks.
# Prints ok/FAIL per check and ends with "N passed, N failed"; exits non-zero on failure.
# env: LA57_TIMEOUT (seconds per boot, 150), LA57_JOBS (2), BUILD (build)
set -u

here=$(cd "$(dirname "$0")/../.." && pwd)
build=$here/${BUILD:-build}
case ${BUILD:-build} in /*) build=$BUILD ;; esac
out=$build/la57-test
timeout_s=${LA57_TIMEOUT:-150}
jobs=${LA57_JOBS:-2}
EXIT_PASS=33 EXIT_DRILL=37

. "$here/tests/boot/checks.sh"
has() { grep -Eq -- "$2" "$out/$1.txt"; }
hasnt() { ! grep -Eq -- "$2" "$out/$1.txt"; }
rc_is() { [ "$(cat "$out/$1.rc" 2>/dev/null)" = "$2" ]; }
cr4_la57() { [ "$(cat "$out/$1.la57" 2>/dev/null)" = "$2" ]; }

# watch_cr4 SOCKET LOG REGEX TIMEOUT [nmi]: connects to QEMU's monitor at once, polls the
# serial log every 20 ms, and as soon as a line matches REGEX stops the VM, reads CR4 from
# `info registers`, and lets it go on (`cont`): a boot that ends by itself (the self-tests)
# is caught while it runs. Prints CR4 in hex (no 0x), or nothing. With nmi: 2 s after the
# match it injects an NMI (monitor `nmi`), waits 1 s and prints "CR4 RIP HLT" instead
# (nothing if QEMU is gone: a triple fault with -no-reboot ends it).
watch_cr4() {
	python3 - "$@" <<'PY'
import os, re, socket, sys, time
sock, log, pat, limit = sys.argv[1], sys.argv[2], re.compile(sys.argv[3], re.M), float(sys.argv[4])
nmi = len(sys.argv) > 5 and sys.argv[5] == 'nmi'
end = time.time() + limit
s = socket.socket(socket.AF_UNIX)
while True:
    try:
        s.connect(sock)
        break
    except OSError:
        if time.time() > end:
            sys.exit(0)
        time.sleep(0.05)
s.settimeout(10)
buf = b''
def until(tok):
    global buf
    stop = time.time() + 10
    while tok not in buf and time.time() < stop:
        d = s.recv(65536)
        if not d:
            break
        buf += d
def cmd(c, tok=b'(qemu)'):
    global buf
    buf = b''
    s.sendall(c + b'\n')
    until(tok)
    if tok != b'(qemu)':
        until(b'(qemu)')
    return buf
until(b'(qemu)')
while time.time() < end:
    try:
        text = open(log, 'rb').read().decode('latin-1').replace('\r', '')
    except OSError:
        text = ''
    if pat.search(text) and nmi:
        time.sleep(2)
        cmd(b'nmi')
        time.sleep(1)
        out = cmd(b'info registers', b'CR4=')
        m = re.search(rb'CR4=([0-9a-fA-F]+)', out)
        r = re.search(rb'[ER]IP=([0-9a-fA-F]+)', out)
        h = re.search(rb'HLT=([01])', out)
        if m and r and h:
            print(m.group(1).decode(), r.group(1).decode(), h.group(1).decode())
        break
    if pat.search(text):
        cmd(b'stop')
        out = cmd(b'info registers', b'CR4=')
        cmd(b'cont')
        m = re.search(rb'CR4=([0-9a-fA-F]+)', out)
        print(m.group(1).decode() if m else '')
        break
    time.sleep(0.02)
PY
}

# boot NAME CPU STARTUP-LINE WAIT-REGEX: a private ESP with kernel.efi and la57on.efi (no
# BOOTX64.EFI, so OVMF runs startup.nsh in its shell). When the log matches WAIT-REGEX,
# CR4 is read over the monitor (NAME.cr4, NAME.la57), then QEMU is stopped unless it
# already left (NAME.rc: its status; 124 for stopped or timed out).
boot() {
	name=$1 cpu=$2 line=$3 wait_re=$4 esp=$out/$1.esp sock=$out/$1.mon
	rm -rf "$esp" "$out/$name".*
	mkdir -p "$esp"
	cp "$build/kernel.efi" "$build/test/la57on.efi" "$esp/"
	# " ; " separates commands of the script
	printf '@echo -off\r\nfs0:\r\n%s\r\necho la57-test: back in the shell\r\n' \
		"$(printf '%s' "$line" | sed 's/ ; /\r\n/g')" >"$esp/startup.nsh"
	vars=$out/$name.vars.fd
	cp "$OVMF_VARS" "$vars" && chmod u+w "$vars"
	: >"$out/$name.log"
	timeout "$timeout_s" "${QEMU:-qemu-system-x86_64}" -machine q35 -cpu "$cpu" \
		-m "${QEMU_MEM:-1G}" -smp 1 -no-reboot -net none -display none \
		-monitor "unix:$sock,server,nowait" \
		-drive "if=pflash,format=raw,readonly=on,file=$OVMF_CODE" \
		-drive "if=pflash,format=raw,file=$vars" \
		-drive "format=raw,file=fat:rw:$esp" \
		-device isa-debug-exit,iobase=0xf4,iosize=0x04 \
		-serial "file:$out/$name.log" </dev/null >"$out/$name.qemu" 2>&1 &
	qpid=$!
	mode=
	case $name in nmi-*) mode=nmi ;; esac
	regs=$(watch_cr4 "$sock" "$out/$name.log" "$wait_re" "$timeout_s" $mode 2>"$out/$name.watch")
	cr4=${regs%% *}
	echo "$regs" >"$out/$name.regs"
	echo "$cr4" >"$out/$name.cr4"
	[ -n "$cr4" ] && echo $(( (0x$cr4 >> 12) & 1 )) >"$out/$name.la57"
	sleep 0.5 # the last lines reach the file
	# the self-test boot ends by itself (isa-debug-exit); the others idle and are stopped
	case $name in selftest-* | drill-*) ;; *) kill -TERM "$qpid" 2>/dev/null ;; esac
	wait "$qpid"
	echo "$?" >"$out/$name.rc"
	tr -d '\r' <"$out/$name.log" >"$out/$name.txt" 2>/dev/null || : >"$out/$name.txt"
	rm -rf "$esp" "$vars" "$sock"
}

mkdir -p "$out"
need_built "run make la57on all" "$build/kernel.efi" "$build/test/la57on.efi"
need_ovmf

READY='^kernel: ready'
start=$(date +%s)
set -- "fw5-default|max,+la57|fs0:\\la57on.efi|$READY" \
	"fw5-levels5|max,+la57|fs0:\\la57on.efi boot --levels 5|$READY" \
	"shell-l5|max,+la57|fs0:\\kernel.efi boot --levels 5|$READY" \
	"selftest-l5|max,+la57|fs0:\\kernel.efi test --levels 5|^paging: levels=" \
	"drill-l5|max,+la57|fs0:\\kernel.efi boot --levels 5 drill=null|^paging: levels=" \
	"no-la57|max,-la57|fs0:\\kernel.efi boot --levels 5|^la57-test: back in the shell" \
	"nmi-l5|max,+la57|fs0:\\kernel.efi boot --levels 5 nmi-window|^efi: exiting boot services" \
	"shell-cmds|max,+la57|fs0:\\kernel.efi translate --levels 5 0xa0000001000 0xffffffff80000000 ; fs0:\\kernel.efi map --levels 5 ; fs0:\\la57on.efi current translate 0x100000 ; fs0:\\kernel.efi current map|^la57-test: back in the shell"
running=0
for spec in "$@"; do
	IFS='|' read -r name cpu line wait_re <<EOF
$spec
EOF
	if [ "$running" -ge "$jobs" ]; then
		wait -n # a slot frees as soon as any boot ends
		running=$((running - 1))
	fi
	boot "$name" "$cpu" "$line" "$wait_re" &
	running=$((running + 1))
done
wait
echo "boots took $(($(date +%s) - start))s (logs in $out/)"

# Firmware in 5-level paging (la57on), then the image with no options: 4 levels.
check "fw5-default: la57on switched the firmware and it kept working" \
	has fw5-default '^la57on: firmware now in 5-level paging: cr4.la57=1 .* via_32bit=1$'
check "fw5-default: the stage saw the firmware in 5-level mode" has fw5-default '^efi: cpu la57=1 firmware_la57=1$'
check "fw5-default: handoff 5 -> 4 through 32-bit code" \
	has fw5-default '^efi: handoff firmware_levels=5 kernel_levels=4 switch=via-32-bit-code$'
check "fw5-default: kernel ready" has fw5-default "$READY"
check "fw5-default: paging: levels=4" has fw5-default '^paging: levels=4 cr4_la57=0$'
check "fw5-default: tour passes" has fw5-default '^tour: checks passed=[1-9][0-9]* failed=0$'
check "fw5-default: monitor CR4.LA57=0" cr4_la57 fw5-default 0

# la57on, then boot --levels 5: CR3 switched without leaving 64-bit mode.
check "fw5-levels5: options passed through la57on" \
	has fw5-levels5 '^la57on: starting \\kernel.efi options="kernel.efi boot --levels 5"$'
check "fw5-levels5: handoff 5 -> 5 by mov cr3" \
	has fw5-levels5 '^efi: handoff firmware_levels=5 kernel_levels=5 switch=mov-cr3$'
check "fw5-levels5: kernel ready" has fw5-levels5 "$READY"
check "fw5-levels5: paging: levels=5, tables_l5=1" sh -c "
	grep -Eq '^paging: levels=5 cr4_la57=1\$' '$out/fw5-levels5.txt' &&
	grep -Eq '^paging: tables_l5=1\$' '$out/fw5-levels5.txt'"
check "fw5-levels5: tour passes" has fw5-levels5 '^tour: checks passed=[1-9][0-9]* failed=0$'
check "fw5-levels5: monitor CR4.LA57=1" cr4_la57 fw5-levels5 1

# From the shell, firmware in 4-level paging: 4 -> 5 through 32-bit code.
check "shell-l5: handoff 4 -> 5 through 32-bit code" \
	has shell-l5 '^efi: handoff firmware_levels=4 kernel_levels=5 switch=via-32-bit-code$'
check "shell-l5: kernel ready" has shell-l5 "$READY"
check "shell-l5: paging: levels=5" has shell-l5 '^paging: levels=5 cr4_la57=1$'
check "shell-l5: tour walks the PML5 and passes" sh -c "
	grep -Eq '^tour: physmap l5 index=0 present=1 check=pass\$' '$out/shell-l5.txt' &&
	grep -Eq '^tour: translate name=non-canonical virt=0x0100000000000000 .*check=pass\$' '$out/shell-l5.txt' &&
	grep -Eq '^tour: checks passed=[1-9][0-9]* failed=0\$' '$out/shell-l5.txt'"
check "shell-l5: memtype audit passes" \
	has shell-l5 '^memtype: leaves=[1-9][0-9]* mixed_large=0 wb_non_ram=0 type_aliases=0 check=pass$'
check "shell-l5: monitor CR4.LA57=1" cr4_la57 shell-l5 1

# Self-tests in 5-level mode, including the fault drills' 5-level walks.
check "selftest-l5: paging: levels=5" has selftest-l5 '^paging: levels=5 cr4_la57=1$'
check "selftest-l5: no self-test fails" sh -c "
	grep -Eq '^selftest: test=' '$out/selftest-l5.txt' && ! grep -Eq '^selftest: test=[a-z-]+ result=fail' '$out/selftest-l5.txt'"
check "selftest-l5: 'N passed, 0 failed'" has selftest-l5 '^selftest: [1-9][0-9]* passed, 0 failed$'
check "selftest-l5: QEMU exit status is the pass code ($EXIT_PASS)" rc_is selftest-l5 "$EXIT_PASS"
check "selftest-l5: monitor CR4.LA57=1" cr4_la57 selftest-l5 1

# A fault drill in 5-level mode: the report's walk starts at level 5.
check "drill-l5: the null drill faults and is reported" \
	has drill-l5 '^exception: vector=14 name=#PF error=0x[0-9a-f]{16} rip=0x[0-9a-f]{16} cr2=0x0000000000000000 '
check "drill-l5: the fault walk shows levels 5 down to where it stops" sh -c "
	grep -Eq '^fault: walk level=5 index=0 entry=0x[0-9a-f]{16}\$' '$out/drill-l5.txt' &&
	grep -Eq '^fault: walk level=4 index=0 entry=0x[0-9a-f]{16}\$' '$out/drill-l5.txt'"
check "drill-l5: QEMU exit status is the drill-done code ($EXIT_DRILL)" rc_is drill-l5 "$EXIT_DRILL"
check "drill-l5: monitor CR4.LA57=1" cr4_la57 drill-l5 1

# No LA57 in the CPU: refused with one line, nothing booted, the shell carries on.
check "no-la57: refused with the CPUID reason" \
	has no-la57 '^kernel.efi: error: --levels 5: this CPU has no 5-level paging \(CPUID.\(EAX=7,ECX=0\):ECX\[16\] LA57 is clear\)$'
check "no-la57: nothing booted (no stage start, no kernel line)" sh -c "
	! grep -Eq '^(efi: kernel.efi \\(UEFI stage\\) starting|efi: exiting boot services|kernel: )' '$out/no-la57.txt'"
check "no-la57: back in the shell" has no-la57 '^la57-test: back in the shell'
check "no-la57: monitor CR4.LA57=0" cr4_la57 no-la57 0

# An NMI in the handoff window (paging off, 32-bit code): the trampoline's IDT takes it to
# its halt loop; QEMU still answers and the CPU halts there (RIP = halt + 2, past cli; hlt).
nmi_halted() {
	halt=$(sed -nE 's/^efi: test nmi-window: .* halt=0x([0-9A-Fa-f]{16})$/\1/p' "$out/nmi-l5.txt")
	set -- $(cat "$out/nmi-l5.regs" 2>/dev/null)
	[ -n "$halt" ] && [ "${3:-}" = 1 ] && [ $((0x$2 - 0x$halt)) -ge 0 ] && [ $((0x$2 - 0x$halt)) -le 4 ]
}
check "nmi-l5: the trampoline waited with paging off" \
	has nmi-l5 '^efi: test nmi-window: the handoff waits with paging off for an NMI; halt=0x[0-9A-F]{16}$'
check "nmi-l5: after the NMI the CPU halts in the trampoline's halt loop, QEMU alive" nmi_halted
check "nmi-l5: nothing ran past the window" hasnt nmi-l5 '^kernel: '

# The inspection commands on 5-level tables: the ones boot would build, then the firmware's.
check "shell-cmds: translate --levels 5 walks L5..L3 to the physmap's 1 GiB page" sh -c "
	grep -Eq '^translate: 0x00000a0000001000 walk from pml5=0x[0-9a-f]{16}\$' '$out/shell-cmds.txt' &&
	grep -Eq '^translate:   L5 index=0 entry=0x[0-9a-f]{16} P W ' '$out/shell-cmds.txt' &&
	grep -Eq '^translate:   L4 index=20 entry=' '$out/shell-cmds.txt' &&
	grep -Eq '^translate: 0x00000a0000001000 -> 0x0000000000001000 page=' '$out/shell-cmds.txt'"
check "shell-cmds: the kernel's page under PML5 index 511" \
	has shell-cmds '^translate:   L5 index=511 entry=0x[0-9a-f]{16} P W '
check "shell-cmds: map --levels 5 counts one PML5" has shell-cmds '^map: tables pml5=0x[0-9a-f]{16} l5=1 l4='
check "shell-cmds: current on the firmware's 5-level tables (after la57on)" sh -c "
	grep -Eq '^current: levels=5 \(CR4.LA57 set: the root is a PML5\)\$' '$out/shell-cmds.txt' &&
	grep -Eq '^translate: 0x0000000000100000 -> 0x0000000000100000 page=' '$out/shell-cmds.txt'"
check "shell-cmds: current map walks the firmware's PML5" has shell-cmds '^map: tables pml5=0x[0-9a-f]{16} l5=1 '
check "shell-cmds: firmware left in 5-level mode (monitor CR4.LA57=1)" cr4_la57 shell-cmds 1

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
