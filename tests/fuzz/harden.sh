#!/usr/bin/env bash
# harden.sh SECONDS WORKDIR TARGET... - runs the hardening fuzzers (issue 7) one after the
# other, each for SECONDS, single process. WORKDIR/fuzz_TARGET is the binary, the committed
# seeds in tests/fuzz/corpus/TARGET/ are read only, new inputs go to WORKDIR/corpus/TARGET/
# and failing inputs to WORKDIR/artifacts/TARGET-{crash,timeout,oom,leak}-*. When
# KERNEL_ELF names a file, a stripped copy of it seeds the elf target. Prints one line per
# target and ends with "fuzz-harden: N passed, N failed" (a target passes when it ran clean).
set -u
cd "$(dirname "$0")/../.."
if [ $# -lt 3 ]; then
	echo "usage: $0 SECONDS WORKDIR TARGET..." >&2
	exit 2
fi
secs=$1 work=$2
shift 2

max_len() {
	case $1 in
	memmap) echo 8192 ;;  # up to ~200 descriptors: the reference check is quadratic
	elf) echo 65536 ;;    # room for the stripped real kernel
	*) echo 1024 ;;
	esac
}

passed=0 failed=0
for t in "$@"; do
	bin=$work/fuzz_$t seeds=tests/fuzz/corpus/$t corpus=$work/corpus/$t
	log=$work/fuzz_$t.log
	mkdir -p "$corpus" "$work/artifacts"
	if [ "$t" = elf ] && [ -n "${KERNEL_ELF:-}" ] && [ -f "$KERNEL_ELF" ]; then
		${OBJCOPY:-objcopy} --strip-all "$KERNEL_ELF" "$corpus/kernel_stripped.elf" 2>/dev/null ||
			cp "$KERNEL_ELF" "$corpus/kernel.elf"
	fi
	before=$(ls "$work/artifacts" | grep -c "^$t-")
	start=$(date +%s)
	"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len="$(max_len "$t")" \
		-print_final_stats=1 -artifact_prefix="$work/artifacts/$t-" "$corpus" "$seeds" \
		>"$log" 2>&1
	rc=$?
	elapsed=$(($(date +%s) - start))
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	crashes=$(($(ls "$work/artifacts" | grep -c "^$t-") - before))
	if [ "$rc" -eq 0 ] && [ "$crashes" -eq 0 ]; then
		verdict=ok
		passed=$((passed + 1))
	else
		verdict=FAIL
		failed=$((failed + 1))
		grep -m 5 -E 'invariant broken|ERROR: |SUMMARY: ' "$log" | sed 's/^/    /'
		ls "$work/artifacts" | grep "^$t-" | sed "s|^|    artifact: $work/artifacts/|"
	fi
	echo "fuzz-harden: $t: $verdict execs=${execs:-0} seconds=$elapsed crashes=$crashes" \
		"corpus=$(ls "$corpus" | wc -l) (log $log)"
done
echo "fuzz-harden: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
