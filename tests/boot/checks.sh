# checks.sh - sourced by the QEMU boot tests: the counters and the check helper they share,
# so every suite prints its checks the same way for tests/run_all.sh to add up, and the
# two preconditions a boot suite ends on at once (a missing build, no firmware). Callers
# set $here to the project root.
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

need_built() { # need_built HINT FILE...: every file is there, else one failure and exit
	local hint=$1 f
	shift
	for f in "$@"; do
		if [ ! -f "$f" ]; then
			echo "FAIL build: $f missing ($hint)"
			echo "0 passed, 1 failed"
			exit 1
		fi
	done
}

need_ovmf() { # need_ovmf: OVMF_CODE/OVMF_VARS from ovmf/find-ovmf.sh, else one failure and exit
	local fw
	if ! fw=$("$here/ovmf/find-ovmf.sh" 2>&1); then
		echo "FAIL firmware: $fw"
		echo "0 passed, 1 failed"
		exit 1
	fi
	eval "$fw"
}
