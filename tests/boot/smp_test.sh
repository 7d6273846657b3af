#!/bin/sh
# smp_test.sh - `make smp-test` (issue 15): the kernel's self-test mode under OVMF (TCG) with
# -smp 4 (every CPU online with the boot CPU's protections, the stress, the stale-read
# checker passing, shootdown latency for 1, 2 and 4 CPUs, every self-test passing with the
# APs running, the reclaim test included), the same with the SMP_MUTANT=noipi kernel (no
# shootdown IPI: the checker must see stale reads and fail the run), and -smp 1 (online=1,
# still passing), and the SMP_MUTANT=acpicut kernel with -smp 4 (ACPI tables read as cut:
# the error is named and the kernel runs on one CPU, self-tests passing), and the
# SMP_MUTANT=apdead kernel with -smp 4 (the fourth CPU never gets its SIPIs: its timeout is
# reported and the self-tests pass on three). Boots two, then three at a time (the last
# three are light); then a short run of the ACPI fuzzer.
# Prints ok/FAIL per check and ends with "N passed, N failed"; exits non-zero on failure.
# env: SMP_TIMEOUT (seconds per boot, 240), SMP_JOBS (parallel boots, 2), MUTANT_BUILD
set -u

here=$(cd "$(dirname "$0")/../.." && pwd)
out=$here/build/smp-test
timeout_s=${SMP_TIMEOUT:-240}
jobs=${SMP_JOBS:-2}
mutant=${MUTANT_BUILD:-$here/build/smp-mutant}
acpicut=${ACPICUT_BUILD:-$here/build/smp-acpicut}
apdead=${APDEAD_BUILD:-$here/build/smp-apdead}
EXIT_PASS=33 EXIT_FAIL=35

. "$here/tests/boot/checks.sh"
has() { grep -Eq -- "$2" "$out/$1.txt"; }
hasnt() { ! grep -Eq -- "$2" "$out/$1.txt"; }
rc_is() { [ "$(cat "$out/$1.rc" 2>/dev/null)" = "$2" ]; }
count_is() { [ "$(grep -Ec -- "$2" "$out/$1.txt")" -eq "$3" ]; }

# boot NAME BUILD_DIR SMP: `kernel.efi boot test` from BUILD_DIR's image with -smp SMP.
boot() {
	name=$1 build=$2 smp=$3 args=${4:-test} cpu=${5:-${QEMU_CPU:-max}} esp=$out/$1.esp
	rm -rf "$esp" "$out/$name.log" "$out/$name.txt" "$out/$name.rc"
	mkdir -p "$esp"
	cp "$build/kernel.efi" "$esp/kernel.efi"
	printf '@echo -off\r\nfs0:\r\nfs0:\\kernel.efi boot %s\r\n' "$args" >"$esp/startup.nsh"
	vars=$out/$name.vars.fd
	cp "$OVMF_VARS" "$vars" && chmod u+w "$vars"
	timeout "$timeout_s" "${QEMU:-qemu-system-x86_64}" -machine q35 -cpu "$cpu" \
		-m "${QEMU_MEM:-1G}" -smp "$smp" -no-reboot -net none -display none -monitor none \
		-drive "if=pflash,format=raw,readonly=on,file=$OVMF_CODE" \
		-drive "if=pflash,format=raw,file=$vars" \
		-drive "format=raw,file=fat:rw:$esp" \
		-device isa-debug-exit,iobase=0xf4,iosize=0x04 \
		-serial "file:$out/$name.log" </dev/null >"$out/$name.qemu" 2>&1
	echo "$?" >"$out/$name.rc"
	tr -d '\r' <"$out/$name.log" >"$out/$name.txt" 2>/dev/null || : >"$out/$name.txt"
	rm -rf "$esp" "$vars"
}

mkdir -p "$out"
need_built "make smp-test builds them" "$here/build/kernel.efi" "$mutant/kernel.efi" \
	"$acpicut/kernel.efi" "$apdead/kernel.efi"
need_ovmf

start=$(date +%s)
boot smp4 "$here/build" 4 &
boot mutant "$mutant" 4 &
wait
boot smp1 "$here/build" 1 &
boot acpicut "$acpicut" 4 &
boot apdead "$apdead" 4 &
wait
boot smp4l5 "$here/build" 4 "test --levels 5" "max,+la57" # APs enter 5-level paging
echo "boots took $(($(date +%s) - start))s (logs in $out/)"

# -smp 4: every CPU up, each with the boot CPU's protections.
check "smp4: MADT read, four enabled CPUs" has smp4 '^smp: madt=0x[0-9a-f]{16} via=(xsdt|rsdt) .* enabled=4 '
check "smp4: smp: cpus=4 online=4" has smp4 '^smp: cpus=4 online=4$'
check "smp4: three APs online with own stack and guard, the BSP's protections, PAT and MTRRs" \
	count_is smp4 '^smp: cpu=[1-3] apic=[0-9]+ online stack=0x[0-9a-f]{16} guard=0x[0-9a-f]{16} guard_unmapped=1 wp=1 nxe=1 .* mtrr=(same|copied) prot=same$' 3
check "smp4: stress on 4 CPUs, no error, no frame leaked" \
	has smp4 '^smp: stress cpus=4 ms=[0-9]+ ops=[1-9][0-9]* .* ipis=[1-9][0-9]* .* errors=0 frames_leaked=0 check=pass$'
check "smp4: smp: stale-read checker rounds=N stale=0 check=pass" \
	has smp4 '^smp: stale-read checker rounds=[1-9][0-9]* stale=0 check=pass$'
check "smp4: checker on all 12 ordered CPU pairs, some rounds with a full flush" \
	has smp4 '^smp: stale-read pairs=12 rounds_per_pair=[1-9][0-9]* rounds_full_flush=[1-9][0-9]* aborted=0$'
check "smp4: shootdown latency for 1, 2 and 4 CPUs" sh -c "
	for n in 1 2 4; do
		grep -Eq \"^smp: shootdown_us cpus=\$n median=[0-9]+\\.[0-9]{3} \" '$out/smp4.txt' || exit 1
	done"
check "smp4: reclaim self-test passes with the APs running" has smp4 '^selftest: test=reclaim result=pass '
check "smp4: every self-test passes, exit status $EXIT_PASS" sh -c "
	grep -Eq '^selftest: [1-9][0-9]* passed, 0 failed$' '$out/smp4.txt' &&
	[ \"\$(cat '$out/smp4.rc')\" = $EXIT_PASS ]"
check "smp4: no unexpected exception" hasnt smp4 '^(exception:|panic:)|fault: unexpected'

# The mutant: the same boot without the shootdown IPI must be caught by the checker.
check "smp4l5: 5-level paging, four CPUs online" sh -c "
	grep -Eq '^paging: levels=5 ' '$out/smp4l5.txt' && grep -Eq '^smp: cpus=4 online=4$' '$out/smp4l5.txt'"
check "smp4l5: stale-read checker passes on 5-level tables" \
	has smp4l5 '^smp: stale-read checker rounds=[1-9][0-9]* stale=0 check=pass$'
check "smp4l5: every self-test passes, exit status $EXIT_PASS" sh -c "
	grep -Eq '^selftest: [1-9][0-9]* passed, 0 failed$' '$out/smp4l5.txt' &&
	[ \"\$(cat '$out/smp4l5.rc')\" = $EXIT_PASS ]"

check "mutant: four CPUs online" has mutant '^smp: cpus=4 online=4$'
check "mutant: checker sees stale reads (stale>0 check=FAIL)" \
	has mutant '^smp: stale-read checker rounds=[1-9][0-9]* stale=[1-9][0-9]* check=FAIL$'
check "mutant: the smp self-test fails, exit status $EXIT_FAIL" sh -c "
	grep -Eq '^selftest: test=smp result=fail ' '$out/mutant.txt' &&
	[ \"\$(cat '$out/mutant.rc')\" = $EXIT_FAIL ]"

# -smp 1: one CPU, still passing.
check "smp1: smp: cpus=1 online=1" has smp1 '^smp: cpus=1 online=1$'
check "smp1: shootdown latency for 1 CPU only" sh -c "
	grep -Eq '^smp: shootdown_us cpus=1 ' '$out/smp1.txt' && ! grep -Eq '^smp: shootdown_us cpus=2 ' '$out/smp1.txt'"
check "smp1: every self-test passes, exit status $EXIT_PASS" sh -c "
	grep -Eq '^selftest: [1-9][0-9]* passed, 0 failed$' '$out/smp1.txt' &&
	[ \"\$(cat '$out/smp1.rc')\" = $EXIT_PASS ]"

# Cut ACPI tables: named, one CPU, and nothing else breaks.
check "acpicut: the ACPI error is named, one CPU only" \
	has acpicut '^smp: acpi error=[a-z-]+-length: one CPU only$'
check "acpicut: smp: cpus=1 online=1 with -smp 4" has acpicut '^smp: cpus=1 online=1$'
check "acpicut: every self-test passes, exit status $EXIT_PASS" sh -c "
	grep -Eq '^selftest: [1-9][0-9]* passed, 0 failed$' '$out/acpicut.txt' &&
	[ \"\$(cat '$out/acpicut.rc')\" = $EXIT_PASS ]"

# A CPU that never starts: reported, left out, the rest carries on.
check "apdead: the fourth CPU's timeout is reported and it is left out" \
	has apdead '^smp: cpu=3 apic=[0-9]+ timeout state=0: left out$'
check "apdead: smp: cpus=4 online=3" has apdead '^smp: cpus=4 online=3$'
check "apdead: stale-read checker on the 6 pairs of three CPUs passes" sh -c "
	grep -Eq '^smp: stale-read pairs=6 ' '$out/apdead.txt' &&
	grep -Eq '^smp: stale-read checker rounds=[1-9][0-9]* stale=0 check=pass$' '$out/apdead.txt'"
check "apdead: every self-test passes, exit status $EXIT_PASS" sh -c "
	grep -Eq '^selftest: [1-9][0-9]* passed, 0 failed$' '$out/apdead.txt' &&
	[ \"\$(cat '$out/apdead.rc')\" = $EXIT_PASS ]"

# The MADT parser under the fuzzer, briefly.
if make -s --no-print-directory -C "$here" fuzz-acpi FUZZ_ACPI_SECONDS="${FUZZ_ACPI_SECONDS:-5}" >"$out/fuzz.txt" 2>&1; then
	echo "ok   fuzz-acpi: $(grep -E '^ok' "$out/fuzz.txt" | head -n1 | cut -c6-)"
	passed=$((passed + 1))
else
	echo "FAIL fuzz-acpi (see $out/fuzz.txt)"
	failed=$((failed + 1))
fi

echo "smp: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
