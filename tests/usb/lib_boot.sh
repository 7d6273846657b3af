# Shared by the USB-image boot tests (tests/boot/usb_boot_test.sh, tests/secureboot/sb_test.sh):
# ok/FAIL bookkeeping and one bounded QEMU boot (TCG, under `timeout`, in its own process group)
# that stops as soon as the serial log shows a final line. Source it; it defines functions only.
# shellcheck shell=bash disable=SC2034  # BOOT_FINISHED and BOOT_SECS are read by the sourcing script

passed=0 failed=0
ok()   { echo "ok   $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1${2:+ ($2)}"; failed=$((failed + 1)); }
check() {   # check NAME COMMAND...: ok if COMMAND succeeds
    local n=$1; shift
    if "$@" >/dev/null 2>&1; then ok "$n"; else fail "$n"; fi
}
summary() { echo "$passed passed, $failed failed"; [ "$failed" = 0 ]; }

# Lines after which nothing more will happen: the kernel is idle or dead, or the firmware
# has run out of boot options.
BOOT_FINAL='kernel: ready|kernel: halted|panic:|fatal after|No bootable option or device was found'

# boot_qemu LOG SECONDS QEMU-ARGS...
# Boots, writing the serial console to LOG and a cleaned copy (no CR, no ANSI escapes) to
# LOG.txt. Sets BOOT_FINISHED (1 if a final line was seen) and BOOT_SECS.
boot_qemu() {
    local log=$1 secs=$2; shift 2
    local qemu=${QEMU:-qemu-system-x86_64}
    rm -f "$log" "$log.txt"
    : > "$log"
    # setsid: QEMU and its `timeout` form one process group, stopped together below.
    setsid timeout --kill-after=5 "$secs" "$qemu" -no-reboot -display none -monitor none \
        -serial "file:$log" "$@" </dev/null >"$log.qemu" 2>&1 &
    local pid=$! start=$SECONDS
    BOOT_FINISHED=""
    while kill -0 "$pid" 2>/dev/null; do
        if grep -Eq "$BOOT_FINAL" "$log"; then
            BOOT_FINISHED=1
            sleep 0.5            # let the last lines reach the file
            break
        fi
        sleep 0.5
    done
    kill -TERM -- "-$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    BOOT_SECS=$((SECONDS - start))
    tr -d '\r' < "$log" | sed 's/\x1b\[[0-9;=?]*[A-Za-z]//g' > "$log.txt"
}

# Helpers over the cleaned log of the last boot.
in_log()     { grep -Eq -- "$2" "$1.txt"; }
not_in_log() { ! grep -Eq -- "$2" "$1.txt"; }
