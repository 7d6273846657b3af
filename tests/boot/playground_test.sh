#!/usr/bin/env bash
# playground_test.sh - make playground-test: the guide's exercise ("Your own mapping" in
# docs/from-the-post.md) is taken out of the guide, compiled into the kernel playground in
# its own build directory (build-playground/, -DPLAYGROUND_EXERCISE: the normal build is
# untouched), and booted; its lines must say the page was mapped where asked, translates to
# the frame it was given, and reads back through the physmap what was written through it;
# and they must be the lines the guide shows (addresses aside).
# One line per check, then "N passed, N failed". PLAYGROUND_TIMEOUT (120 s) bounds the boot.
set -u
here=$(cd "$(dirname "$0")/../.." && pwd)
cd "$here"
b=build-playground
doc=docs/from-the-post.md
log=$b/test/playground.log
. tests/boot/checks.sh
mkdir -p "$b/gen" "$b/test"

python3 tests/guide/guide.py playground "$doc" "$b/gen/exercise.c.new" &&
	{ cmp -s "$b/gen/exercise.c.new" "$b/gen/exercise.c" || mv "$b/gen/exercise.c.new" "$b/gen/exercise.c"; }
if ! make --no-print-directory BUILD="$b" KERNEL_EXTRA_SRC="$b/gen/exercise.c" \
	KERNEL_EXTRA_CFLAGS=-DPLAYGROUND_EXERCISE all >"$b/test/build.log" 2>&1; then
	tail -n 20 "$b/test/build.log"
	check "the guide's exercise builds into the kernel" false
	echo "$passed passed, $failed failed"
	exit 1
fi
check "the guide's exercise builds into the kernel" true

rm -f "$log" # a log from the last run must not end the wait below
RUN_DIR=$b/run setsid scripts/qemu.sh --log "$log" --timeout "${PLAYGROUND_TIMEOUT:-120}" \
	"$b/esp" </dev/null >"$b/test/qemu.out" 2>&1 &
qpid=$!
for _ in $(seq $(( ${PLAYGROUND_TIMEOUT:-120} * 2 ))); do
	grep -Eq 'kernel: (ready|halted)|panic:' "$log" 2>/dev/null && break
	kill -0 "$qpid" 2>/dev/null || break
	sleep 0.5
done
sleep 0.5
kill -TERM "-$qpid" 2>/dev/null
wait "$qpid" 2>/dev/null
tr -d '\r' <"$log" >"$log.txt"

# field LINE-PREFIX KEY: the value of KEY= on the first line starting with LINE-PREFIX
field() { grep -m1 "^$1" "$log.txt" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
frame=$(field 'playground: map ' frame)
check "kernel: ready after the playground ran" grep -q '^kernel: ready$' "$log.txt"
check "the page is mapped where the exercise asked (result=ok)" \
	grep -q '^playground: map page=0xffffa00000000000 frame=0x[0-9a-f]\{16\} result=ok$' "$log.txt"
check "the heap still comes up beside the exercise's page (no heap: error)" eval '
	grep -q "^heap: .* init=ok$" "$log.txt" && ! grep -q "^heap: error" "$log.txt"'
check "it translates to the frame it was given (${frame:-?}), 4K, writable, not executable" \
	test -n "$frame" -a "$(field 'playground: translate' phys)" = "$frame" -a \
	"$(field 'playground: translate' size)$(field 'playground: translate' w)$(field 'playground: translate' x)" = 4K10
check "what was written through it reads back through the physmap" eval '
	w=$(field "playground: wrote" wrote); p=$(field "playground: wrote" physmap)
	[ -n "$w" ] && [ "$w" = "$p" ] && [ "$w" = 0x216567617020796d ] &&
	[ "$(field "playground: wrote" same)" = yes ]'
check "the memory core came up before the playground (frames: line first)" eval '
	f=$(grep -n "^frames: total=" "$log.txt" | head -1 | cut -d: -f1)
	p=$(grep -n "^playground: " "$log.txt" | head -1 | cut -d: -f1)
	[ -n "$f" ] && [ -n "$p" ] && [ "$f" -lt "$p" ]'
python3 tests/guide/guide.py check-playground "$doc" "$log.txt" >"$b/test/doc.out" 2>&1
cat "$b/test/doc.out"
if grep -q '^ok ' "$b/test/doc.out"; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
check "the normal kernel leaves the exercise out (playground_run does nothing by default)" eval '
	nm build/kernel/kernel.elf | grep -q " T playground_run$" &&
	! nm build/kernel/kernel.elf | grep -q playground_exercise'
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
