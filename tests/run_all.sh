#!/usr/bin/env bash
# run_all.sh - `make test`: runs every suite, each of which ends with "N passed, N failed",
# and sums them into one closing line. A suite that fails without such a line (a build
# error, a crash, a timeout) counts as one failure. Exits non-zero on any failure.
set -u
cd "$(dirname "$0")/.."
MAKE=${MAKE:-make}
LOGDIR=build/test
mkdir -p "$LOGDIR"

total_pass=0
total_fail=0
summary=()

# run_suite NAME COMMAND...: runs the command, shows its output, adds up its counts.
run_suite() {
	local name=$1; shift
	local log="$LOGDIR/suite-$name.log" # suites keep their own logs beside it
	echo "=== $name: $*"
	"$@" 2>&1 | tee "$log"
	local rc=${PIPESTATUS[0]}
	local line p f
	line=$(grep -E '^([A-Za-z-]+: )?[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
	if [ -n "$line" ]; then
		p=$(sed -E 's/^([A-Za-z-]+: )?([0-9]+) passed, ([0-9]+) failed.*/\2/' <<<"$line")
		f=$(sed -E 's/^([A-Za-z-]+: )?([0-9]+) passed, ([0-9]+) failed.*/\3/' <<<"$line")
	else
		p=0; f=0
	fi
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1 # failed without saying what: count the suite itself
	fi
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
	summary+=("$(printf '%-12s %5d passed, %d failed (exit %d)' "$name" "$p" "$f" "$rc")")
}

run_suite unit        $MAKE --no-print-directory test-host
run_suite model       $MAKE --no-print-directory test-model
run_suite model-l5    $MAKE --no-print-directory test-model LEVELS=5 OPS=300000
run_suite fuzz        $MAKE --no-print-directory fuzz-short
run_suite fuzz-harden $MAKE --no-print-directory fuzz-harden-short
run_suite mutate      $MAKE --no-print-directory mutate-sample
run_suite image       $MAKE --no-print-directory image-test
run_suite usb-write   $MAKE --no-print-directory usb-write-test
run_suite boot        $MAKE --no-print-directory boot-test
run_suite shell       $MAKE --no-print-directory shell-test
run_suite selftest    $MAKE --no-print-directory selftest-test
run_suite quirks      $MAKE --no-print-directory quirks-test
run_suite screen      $MAKE --no-print-directory screen-test
run_suite matrix      $MAKE --no-print-directory matrix-lean
run_suite usb-boot    $MAKE --no-print-directory usb-boot-test
run_suite uboot       $MAKE --no-print-directory uboot-test
run_suite firmware    $MAKE --no-print-directory firmware-test
run_suite secureboot  $MAKE --no-print-directory sb-test
run_suite guide       $MAKE --no-print-directory guide-test
run_suite playground  $MAKE --no-print-directory playground-test
run_suite learner     $MAKE --no-print-directory learner-test
run_suite smp         $MAKE --no-print-directory smp-test
run_suite heap-model  $MAKE --no-print-directory test-heap-model
run_suite user        $MAKE --no-print-directory user-test
run_suite la57        $MAKE --no-print-directory la57-test

echo "=== summary (logs in $LOGDIR/suite-*.log)"
printf '%s\n' "${summary[@]}"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
