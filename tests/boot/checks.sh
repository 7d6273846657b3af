# checks.sh - sourced by the QEMU boot tests: the counters and the one check helper they
# share, so every suite prints its checks the same way for tests/run_all.sh to add up.
passed=0
failed=0

check() { # check NAME CONDITION...: runs the condition, prints ok/FAIL
	n=$1
	shift
	if "$@" >/dev/null 2>&1; then
		echo "ok   $n"
		passed=$((passed + 1))
	else
		echo "FAIL $n"
		failed=$((failed + 1))
	fi
}
