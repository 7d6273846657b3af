#!/usr/bin/env bash
# guide_test.sh - make guide-test: docs/from-the-post.md and the README cannot rot.
#  1. every host C block of the guide, compiled into one program with paging/ and the
#     simulated RAM (ASan + UBSan), run; each block's output compared with the guide's;
#  2. one boot of OVMF's shell runs every `FS0:\> kernel.efi ...` line of the transcripts
#     of the guide and the README; each transcript's lines must appear in that command's
#     output, in order, with addresses and times masked ("..." skips lines); then it
#     boots the kernel, and every bootlog block must appear in that report the same way.
# One line per check, then "N passed, N failed". GUIDE_TIMEOUT (240 s) bounds the boot.
set -u
here=$(cd "$(dirname "$0")/../.." && pwd)
cd "$here"
out=build/guide
docs=(docs/from-the-post.md README.md)
guide=tests/guide/guide.py
passed=0 failed=0
. tests/boot/checks.sh
mkdir -p "$out"

# tally OUTPUT: adds a "name: N passed, N failed" line's counts, shows the other lines
tally() {
	local line p f
	grep -v ' passed, .* failed$' "$1"
	line=$(grep -E '[0-9]+ passed, [0-9]+ failed$' "$1" | tail -n 1)
	p=$(sed -E 's/.* ([0-9]+) passed, ([0-9]+) failed$/\1/' <<<"$line")
	f=$(sed -E 's/.* ([0-9]+) passed, ([0-9]+) failed$/\2/' <<<"$line")
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-1}))
}

echo "=== the guide's host code blocks"
if python3 "$guide" host docs/from-the-post.md "$out/guide_host.c" &&
	${HOST_CC:-cc} -std=c11 -D_DEFAULT_SOURCE -g -O1 -Wall -Wextra -Werror -Wshadow \
		-fsanitize=address,undefined -fno-sanitize-recover=all -Ipaging -Itests/host \
		"$out/guide_host.c" paging/*.c tests/host/simram.c -o "$out/guide_host" 2>"$out/cc.log"; then
	python3 "$guide" check-host docs/from-the-post.md "$out/guide_host" >"$out/host.out" 2>&1
	tally "$out/host.out"
else
	cat "$out/cc.log"
	check "the guide's host blocks compile" false
fi

echo "=== transcripts of ${docs[*]} against a boot of OVMF's shell"
esp=$out/esp
rm -rf "$esp" && mkdir -p "$esp"
cp build/kernel.efi "$esp/kernel.efi"
mapfile -t cmds < <(python3 "$guide" commands "${docs[@]}")
{
	printf '@echo -off\r\nfs0:\r\n'
	for c in "${cmds[@]}"; do
		printf 'echo "@@@ begin %s"\r\n%s\r\necho "@@@ end"\r\n' "$c" "$c"
	done
	printf 'echo "@@@ done"\r\nkernel.efi boot\r\n' # then the boot report
} >"$esp/startup.nsh"
log=$out/transcripts.log
rm -f "$log" # a log from the last run must not end the wait below
setsid scripts/qemu.sh --log "$log" --timeout "${GUIDE_TIMEOUT:-240}" "$esp" </dev/null >"$out/qemu.out" 2>&1 &
qpid=$!
for _ in $(seq $(( ${GUIDE_TIMEOUT:-240} * 2 ))); do
	grep -Eq 'kernel: (ready|halted)|panic:' "$log" 2>/dev/null && break
	kill -0 "$qpid" 2>/dev/null || break
	sleep 0.5
done
sleep 1
kill -TERM "-$qpid" 2>/dev/null
wait "$qpid" 2>/dev/null
check "the boot ran every transcript command (${#cmds[@]}), then the kernel" \
	grep -q 'kernel: ready' "$log"
python3 "$guide" check-transcripts "$log" "${docs[@]}" >"$out/transcripts.out" 2>&1
tally "$out/transcripts.out"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
