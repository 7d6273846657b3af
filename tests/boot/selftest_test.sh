#!/bin/sh
# selftest_test.sh - boots the kernel under OVMF (TCG) four ways and checks its serial log:
# the normal image (every tour line passes), `boot test` (the in-kernel self-tests report
# 0 failed and leave QEMU with the pass code), and each fault drill (its report names the
# cause, CR2 and the decoded error code; QEMU leaves with the drill-done code).
# Prints ok/FAIL per check and ends with "N passed, N failed"; exits non-zero on failure.
#
# A command line reaches the kernel only through the EFI shell, so each boot gets its own
# copy of the ESP without EFI/BOOT/BOOTX64.EFI (OVMF then falls into its built-in shell)
# and with a startup.nsh that runs `kernel.efi boot ARGS`. isa-debug-exit codes (kernel/
# fault.h): QEMU exits (code << 1) | 1, i.e. 33 pass, 35 fail, 37 drill done.
# env: SELFTEST_TIMEOUT (seconds per boot, 120), SELFTEST_JOBS (parallel boots, 2), QEMU_CPU (max)
set -u

here=$(cd "$(dirname "$0")/../.." && pwd)
out=$here/build/selftest-test
timeout_s=${SELFTEST_TIMEOUT:-120}
jobs=${SELFTEST_JOBS:-2}
EXIT_PASS=33 EXIT_FAIL=35 EXIT_DRILL=37

. "$here/tests/boot/checks.sh"
has() { grep -Eq -- "$2" "$out/$1.txt"; }
hasnt() { ! grep -Eq -- "$2" "$out/$1.txt"; }
rc_is() { [ "$(cat "$out/$1.rc" 2>/dev/null)" = "$2" ]; }

# boot NAME ARGS [WATCH]: boots a private ESP whose startup.nsh runs "kernel.efi boot ARGS"
# (the ESP as built, BOOTX64.EFI and all, when ARGS is empty). QEMU's exit status goes to
# NAME.rc, the serial log to NAME.log and, without CRs, NAME.txt. With WATCH, QEMU is
# stopped once the log says the kernel is ready: a normal boot idles forever after it.
boot() {
	name=$1 args=$2 watch=${3:-} esp=$out/$1.esp
	rm -rf "$esp" "$out/$name.log" "$out/$name.txt" "$out/$name.rc"
	mkdir -p "$esp"
	cp -r "$here/build/esp/." "$esp/"
	if [ -n "$args" ]; then
		rm -f "$esp/EFI/BOOT/BOOTX64.EFI"
		printf '@echo -off\r\nfs0:\r\nfs0:\\kernel.efi boot %s\r\n' "$args" >"$esp/startup.nsh"
	fi
	vars=$out/$name.vars.fd
	cp "$OVMF_VARS" "$vars" && chmod u+w "$vars"
	: >"$out/$name.log"
	timeout "$timeout_s" "${QEMU:-qemu-system-x86_64}" -machine q35 -cpu "${QEMU_CPU:-max}" \
		-m "${QEMU_MEM:-1G}" -smp 1 -no-reboot -net none -display none -monitor none \
		-drive "if=pflash,format=raw,readonly=on,file=$OVMF_CODE" \
		-drive "if=pflash,format=raw,file=$vars" \
		-drive "format=raw,file=fat:rw:$esp" \
		-device isa-debug-exit,iobase=0xf4,iosize=0x04 \
		-serial "file:$out/$name.log" </dev/null >"$out/$name.qemu" 2>&1 &
	qpid=$!
	if [ -n "$watch" ]; then
		while kill -0 "$qpid" 2>/dev/null; do
			if grep -Eq 'kernel: (ready|halted)|panic:' "$out/$name.log"; then
				sleep 0.5 # let the last lines reach the file
				kill -TERM "$qpid" 2>/dev/null # timeout passes it on to QEMU
				break
			fi
			sleep 0.5
		done
	fi
	wait "$qpid"
	echo "$?" >"$out/$name.rc"
	tr -d '\r' <"$out/$name.log" >"$out/$name.txt" 2>/dev/null || : >"$out/$name.txt"
	rm -rf "$esp" "$vars"
}

mkdir -p "$out"
need_built "run make" "$here/build/esp/kernel.efi"
need_ovmf

start=$(date +%s)
# At most $jobs boots at a time: others share the machine.
set -- "normal:" "test:test" "offset:--offset 0x100000000000 test" \
	"null:drill=null" "text:drill=text" "stack:drill=stack" "nx:drill=nx"
running=0
for spec in "$@"; do
	name=${spec%%:*} args=${spec#*:}
	boot "$name" "$args" "$([ "$name" = normal ] && echo watch)" &
	running=$((running + 1))
	if [ "$running" -ge "$jobs" ]; then
		wait
		running=0
	fi
done
wait
echo "boots took $(($(date +%s) - start))s (logs in $out/)"

# Normal boot: the tour, every check passing, and the protections line.
check "normal: kernel ready" has normal '^kernel: ready$'
check "normal: cpu protections line" has normal '^cpu: wp=1 nxe=[01] smep=[01] smap=[01] umip=[01]$'
check "normal: tour ran (checks line)" has normal '^tour: checks passed=[1-9][0-9]* failed=0$'
check "normal: no tour or frames line fails" hasnt normal '^(tour|frames): .*check=fail'
check "normal: translate fb, kernel text/data, stack, physmap 0" sh -c "
	for n in fb kernel-text kernel-data stack physmap-zero example; do
		grep -Eq \"^tour: translate name=\$n virt=0x[0-9a-f]{16} phys=0x[0-9a-f]{16} .*check=pass\$\" '$out/normal.txt' || exit 1
	done"
check "normal: unmapped and non-canonical translations" sh -c "
	grep -Eq '^tour: translate name=guard-page .*stop_level=1 expect_level=1 check=pass\$' '$out/normal.txt' &&
	grep -Eq '^tour: translate name=nothing .*stop_level=4 expect_level=4 check=pass\$' '$out/normal.txt' &&
	grep -Eq '^tour: translate name=non-canonical .*check=pass\$' '$out/normal.txt'"
check "normal: example map fails with no frames, leaves no tables" \
	has normal '^tour: example page=0x00000deadbeaf000 source=empty result=out of frames tables_before=([0-9]+) tables_after=\1 mapped=0 check=pass$'
check "normal: example mapped with the allocator, mark read back" sh -c "
	grep -Eq '^tour: example page=0x00000deadbeaf000 frame=0x[0-9a-f]{16} source=frame-allocator result=ok new_tables=[1-9] .*check=pass\$' '$out/normal.txt' &&
	grep -Eq '^tour: example mark pixels=1024 .*mismatches=0 check=pass\$' '$out/normal.txt'"
check "normal: page 0 read after unmap faults, resumed" sh -c "
	grep -Eq '^tour: page0 read-after-unmap faulted=1 cr2=0x0000000000000000 .*cause=null-dereference check=pass\$' '$out/normal.txt' &&
	grep -Eq '^fault: resumed rip=0xffffffff8[0-9a-f]{7}\$' '$out/normal.txt'"
check "normal: allocator frames overlap nothing in use" sh -c "
	[ \$(grep -Ec '^frames: overlap name=[a-z-]+ frames=[1-9][0-9]* owned=0 check=pass\$' '$out/normal.txt') -eq 5 ]"
check "normal: no unexpected exception" hasnt normal '^(exception:|panic:)'
check "normal: memtype audit passes (one type per page, no mixed large page, no WB non-RAM)" \
	has normal '^memtype: leaves=[1-9][0-9]* mixed_large=0 wb_non_ram=0 type_aliases=0 check=pass$'

# Self-test mode.
check "test: cmdline reached the kernel" has test '^cmdline: "test"$'
check "test: every self-test line passes or skips" sh -c "
	grep -Eq '^selftest: test=' '$out/test.txt' && ! grep -Eq '^selftest: test=[a-z-]+ result=fail' '$out/test.txt'"
check "test: TLB, protect, split, exhaustion, audit, memtype passed" sh -c "
	for t in tour tlb-invalidate protect-read-only split-physmap allocator-exhaustion audit memtype guard-page; do
		grep -Eq \"^selftest: test=\$t result=pass \" '$out/test.txt' || exit 1
	done"
check "test: CPU protection proofs passed" sh -c "
	for t in cpu-text-write cpu-nx-fetch cpu-null-read; do
		grep -Eq \"^selftest: test=\$t result=pass \" '$out/test.txt' || exit 1
	done
	grep -Eq '^selftest: test=cpu-smep result=(pass|skip) ' '$out/test.txt' &&
	grep -Eq '^selftest: test=cpu-smap result=(pass|skip) ' '$out/test.txt'"
check "test: 'N passed, 0 failed'" has test '^selftest: [1-9][0-9]* passed, 0 failed$'
check "test: QEMU exit status is the pass code ($EXIT_PASS)" rc_is test "$EXIT_PASS"

# The self-tests again with the physmap moved to 16 TiB by `boot --offset`: the kernel
# takes the offset from boot info, not from its default.
check "offset: physmap at 16 TiB" has offset '^physmap: offset=0x0000100000000000$'
check "offset: physmap check passes there" has offset '^physmap: check=pass '
check "offset: 'N passed, 0 failed'" has offset '^selftest: [1-9][0-9]* passed, 0 failed$'
check "offset: QEMU exit status is the pass code ($EXIT_PASS)" rc_is offset "$EXIT_PASS"

# Drills: name=cause where=... and the error bits each must show.
drill() { # drill NAME CAUSE WHERE CR2-REGEX ERROR-BITS-REGEX
	check "drill $1: started" has "$1" "^drill: name=$1 start\$"
	check "drill $1: unexpected #PF reported with CR2" has "$1" \
		"^exception: vector=14 name=#PF error=0x[0-9a-f]{16} rip=0x[0-9a-f]{16} cr2=$4 "
	check "drill $1: error decoded ($5)" has "$1" "^fault: error $5\$"
	check "drill $1: walk of CR2 printed" has "$1" '^fault: walk level=4 index=[0-9]+ entry=0x[0-9a-f]{16}$'
	check "drill $1: cause=$2 where=$3" has "$1" "^fault: cause=$2 where=$3 addr=$4 "
	check "drill $1: QEMU exit status is drill done ($EXIT_DRILL)" rc_is "$1" "$EXIT_DRILL"
}
drill null null-dereference null-page 0x0000000000000000 \
	'present=0 write=0 user=0 reserved=0 fetch=0'
drill text write-to-kernel-text kernel-text '0xffffffff8[0-9a-f]{7}' \
	'present=1 write=1 user=0 reserved=0 fetch=0'
# The guard page as the kernel's own report names it (kernel: stack_virt=... guard=...).
guard=$(sed -n 's/^kernel: stack_virt=.* guard=0x\([0-9a-f]*\)$/\1/p' "$out/stack.txt" | head -n 1)
guard=${guard:-unknown000}
drill stack stack-overflow guard-page "0x${guard%???}[0-9a-f]{3}" \
	'present=0 write=1 user=0 reserved=0 fetch=0'
check "drill stack: guard page named, no double fault" sh -c "
	grep -Eq '^fault: stack-overflow guard=0x[0-9a-f]{16} stack=' '$out/stack.txt' &&
	! grep -Eq 'name=#DF' '$out/stack.txt'"
drill nx no-execute physmap '0x00000a[0-9a-f]{10}' \
	'present=1 write=0 user=0 reserved=0 fetch=1'

if [ "$failed" -ne 0 ]; then
	for n in normal test offset null text stack nx; do
		echo "--- $n: exit $(cat "$out/$n.rc" 2>/dev/null) (pass $EXIT_PASS, fail $EXIT_FAIL," \
			"drill done $EXIT_DRILL, timeout 124), last 12 lines of $out/$n.txt"
		tail -n 12 "$out/$n.txt" 2>/dev/null
	done
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
