#!/usr/bin/env bash
# run_pt.sh BINARY SECONDS DIR - runs the page-table fuzz target for SECONDS over the
# corpus in DIR/corpus, prints executions and time, and ends with "N passed, N failed".
set -u
bin=$1 secs=$2 dir=$3
mkdir -p "$dir/corpus"
log="$dir/fuzz_pt.log"
start=$(date +%s.%N)
"$bin" -max_total_time="$secs" -print_final_stats=1 -artifact_prefix="$dir/" \
	"$dir/corpus" >"$log" 2>&1
rc=$?
end=$(date +%s.%N)
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
seed=$(sed -n 's/^INFO: Seed: *//p' "$log" | head -n 1)
printf 'fuzz: target=fuzz_pt execs=%s time=%.1fs seed=%s corpus=%s\n' "${execs:-?}" \
	"$(echo "$end - $start" | bc)" "${seed:-?}" "$(ls "$dir/corpus" | wc -l)"
if [ "$rc" -ne 0 ]; then
	grep -E 'fuzz_pt:|ERROR|SUMMARY|Test unit written' "$log" | head -n 20
	echo "fuzz: failed (exit $rc), full log in $log"
	echo "0 passed, 1 failed"
	exit 1
fi
echo "1 passed, 0 failed"
