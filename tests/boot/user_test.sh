#!/bin/sh
# user_test.sh - make user-test (issue 14): the kernel heap, address spaces, user mode and the
# recursive page table, booted under OVMF (TCG) on the lean CPUs, two boots at a time:
#   normal      -cpu max, a normal boot: the heap:, aspace: and user: report lines
#   test-max    -cpu max, `boot test`: every check passes (PCID: TCG has none, so skipped)
#   test-qemu64 -cpu qemu64 (no PCID, SMEP, SMAP, UMIP) with the physmap moved to 16 TiB:
#               those checks say "skipped: cpu lacks X", the rest pass
#   test-nonx   -cpu qemu64,-nx: executing a user data page is skipped (no NX)
# Prints ok/FAIL per check and ends with "N passed, N failed"; exits non-zero on failure.
# env: USER_TIMEOUT (seconds per boot, 120), USER_JOBS (parallel boots, 2)
set -u

here=$(cd "$(dirname "$0")/../.." && pwd)
out=$here/build/user-test
timeout_s=${USER_TIMEOUT:-120}
jobs=${USER_JOBS:-2}
EXIT_PASS=33

. "$here/tests/boot/checks.sh"
has() { grep -Eq -- "$2" "$out/$1.txt"; }
hasnt() { ! grep -Eq -- "$2" "$out/$1.txt"; }
rc_is() { [ "$(cat "$out/$1.rc" 2>/dev/null)" = "$2" ]; }

# boot NAME CPU ARGS: a private ESP whose startup.nsh runs "kernel.efi boot ARGS" (the ESP as
# built when ARGS is empty, stopped at kernel: ready). Serial log in NAME.txt, status NAME.rc.
boot() {
	name=$1 cpu=$2 args=$3 esp=$out/$1.esp
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
	timeout "$timeout_s" nice -n 10 "${QEMU:-qemu-system-x86_64}" -machine q35 -cpu "$cpu" \
		-m 1G -smp 1 -no-reboot -net none -display none -monitor none \
		-drive "if=pflash,format=raw,readonly=on,file=$OVMF_CODE" \
		-drive "if=pflash,format=raw,file=$vars" \
		-drive "format=raw,file=fat:rw:$esp" \
		-device isa-debug-exit,iobase=0xf4,iosize=0x04 \
		-serial "file:$out/$name.log" </dev/null >"$out/$name.qemu" 2>&1 &
	qpid=$!
	if [ -z "$args" ]; then
		while kill -0 "$qpid" 2>/dev/null; do
			if grep -Eq 'kernel: (ready|halted)|panic:' "$out/$name.log"; then
				sleep 0.5
				kill -TERM "$qpid" 2>/dev/null
				break
			fi
			sleep 0.5
		done
	fi
	wait "$qpid"
	echo "$?" >"$out/$name.rc"
	tr -d '\r' <"$out/$name.log" | sed 's/\x1b\[[0-9;=?]*[A-Za-z]//g' >"$out/$name.txt" 2>/dev/null
	rm -rf "$esp" "$vars"
}

mkdir -p "$out"
need_built "run make" "$here/build/esp/kernel.efi"
need_ovmf

start=$(date +%s)
set -- "normal|max|" "test-max|max|test" "test-qemu64|qemu64|--offset 0x100000000000 test" \
	"test-nonx|qemu64,-nx|test"
running=0
for spec in "$@"; do
	IFS='|' read -r name cpu args <<EOS
$spec
EOS
	boot "$name" "$cpu" "$args" &
	running=$((running + 1))
	if [ "$running" -ge "$jobs" ]; then
		wait
		running=0
	fi
done
wait
echo "boots took $(($(date +%s) - start))s (logs in $out/)"

# The boot report.
check "normal: kernel ready, no exception" sh -c "
	grep -Eq '^kernel: ready\$' '$out/normal.txt' && ! grep -Eq '^(exception:|panic:)' '$out/normal.txt'"
check "normal: heap: line (region, guard unmapped)" has normal \
	'^heap: base=0xffff900000200000 pages=32768 .* guard=0xffff900008200000 guard_mapped=no .*init=ok$'
check "normal: aspace: line (levels, PCID facts)" has normal \
	'^aspace: levels=4 pcid=[01] invpcid=[01] pcide=[01] user=0x0000000000400000\.\.0x0000008000000000 '
check "normal: user: syscall line (ring-3 segments, rsp0, GS)" has normal \
	'^user: syscall=on cs=0x3b ss=0x33 rsp0=0xffffffff8[0-9a-f]{7} gs_base=0xffffffff8[0-9a-f]{7} '
check "normal: two processes, one address, own values; hello exits 0" has normal \
	'^user: processes=3 same_va=0x0000000000500000 values=0x1111,0x2222,0x1111 own_values=yes hello_exit=0x0 hello_lines=1 refused_pointers=4$'
check "normal: ring 3 printed through the write call" has normal \
	'^user: pid=3 name=hello says "hello from ring 3"$'
check "normal: every address space destroyed, every frame back" has normal \
	'^aspace: created=3 destroyed=3 .*frames_back=all$'

# The self-tests: per configuration, the lines that must pass and those that must skip.
must_pass() { # must_pass BOOT REGEX...: each regex names a line ending check=pass
	b=$1
	shift
	for re in "$@"; do
		grep -Eq "^($re) .*check=pass\$" "$out/$b.txt" || return 1
	done
}
common='heap: classes|heap: grow-shrink|heap: errors|heap: guard|heap: frames accounted'
common="$common|aspace: create|aspace: switch|aspace: destroy|aspace: all"
common="$common|user: two-processes|user: syscalls|user: fault read-kernel-page"
common="$common|user: fault write-read-only|user: fault outside-map|recursive: slot=[0-9]+"
for b in test-max test-qemu64 test-nonx; do
	check "$b: no check=FAIL, no unexpected fault" sh -c "
		! grep -Eq 'check=FAIL|^selftest: unexpected|^exception:' '$out/$b.txt'"
	check "$b: heap, aspace, user, recursive checks pass" sh -c "
		IFS='|'; for re in \$0; do grep -Eq \"^(\$re) .*check=pass\\\$\" '$out/$b.txt' || exit 1; done" "$common"
	check "$b: a destroyed space gives every frame back" has "$b" \
		'^aspace: destroy user_frames=3 table_frames=[1-9][0-9]* .*every_frame_back=yes check=pass$'
	check "$b: recursive entry compared word for word, removed" has "$b" \
		'^recursive: slot=(2[5-9][0-9]|30[0-9]|4[0-9][0-9]|50[0-9]|510) levels=4 .*tables=[1-9][0-9]* words=[1-9][0-9]* mismatches=0 self_entry=ok removed=yes check=pass$'
	[ "$b" = test-nonx ] && continue # see below
	check "$b: 'N passed, 0 failed', exit $EXIT_PASS" sh -c "
		grep -Eq '^selftest: [1-9][0-9]* passed, 0 failed\$' '$out/$b.txt' &&
		[ \"\$(cat '$out/$b.rc')\" = $EXIT_PASS ]"
done
# Without NX every writable page is also executable, so the older W+X audit (selftest.c)
# fails there whatever this issue does: the one failure allowed is that one.
check "test-nonx: the only failed self-test is the W+X audit (no NX: W implies X)" sh -c "
	[ \"\$(grep -Ec 'result=fail|check=FAIL' '$out/test-nonx.txt')\" = 1 ] &&
	grep -Eq '^selftest: test=audit result=fail .* wx=[1-9]' '$out/test-nonx.txt' &&
	grep -Eq '^selftest: [1-9][0-9]* passed, 1 failed\$' '$out/test-nonx.txt'"
check "test-max: SMEP, SMAP, UMIP and NX faults pass" sh -c "
	for re in 'user: fault exec-user-data' 'user: fault sgdt-umip' 'user: kernel-exec-user-page' \
		'user: kernel-read-user-page-without-stac'; do
		grep -Eq \"^\$re .*check=pass\\\$\" '$out/test-max.txt' || exit 1
	done"
check "test-max: PCID reuse passes or says the CPU lacks it" sh -c "
	grep -Eq '^aspace: pcid reuse .*check=pass\$|^aspace: pcid skipped: cpu lacks pcid\$' '$out/test-max.txt'"
check "test-qemu64: physmap at 16 TiB, shared into user spaces" sh -c "
	grep -Eq '^physmap: offset=0x0000100000000000\$' '$out/test-qemu64.txt' &&
	grep -Eq '^aspace: create .*physmap_shared=1 check=pass\$' '$out/test-qemu64.txt'"
check "test-qemu64: no SMEP/SMAP/UMIP/PCID: skipped, not passed" sh -c "
	grep -Eq '^user: kernel-exec-user-page skipped: cpu lacks smep\$' '$out/test-qemu64.txt' &&
	grep -Eq '^user: kernel-read-user-page-without-stac skipped: cpu lacks smap\$' '$out/test-qemu64.txt' &&
	grep -Eq '^user: fault sgdt-umip skipped: cpu lacks umip\$' '$out/test-qemu64.txt' &&
	grep -Eq '^aspace: pcid skipped: cpu lacks pcid\$' '$out/test-qemu64.txt'"
check "test-qemu64: NX fault still passes" sh -c "
	grep -Eq '^user: fault exec-user-data .*check=pass\$' '$out/test-qemu64.txt'"
check "test-nonx: executing a data page skipped: cpu lacks nx" has test-nonx \
	'^user: fault exec-user-data skipped: cpu lacks nx$'

if [ "$failed" -ne 0 ]; then
	for n in normal test-max test-qemu64 test-nonx; do
		echo "--- $n: exit $(cat "$out/$n.rc" 2>/dev/null), last 8 lines of $out/$n.txt"
		tail -n 8 "$out/$n.txt" 2>/dev/null
	done
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
