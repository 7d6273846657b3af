#!/usr/bin/env bash
# Tests of scripts/mkimage.sh without QEMU: the image it builds from a scratch ESP has a GPT
# with one EFI System Partition holding a FAT32 filesystem with the ESP's files byte for byte,
# and missing inputs or tools give a one-line error. Prints ok/FAIL and `N passed, N failed`.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MK=$ROOT/scripts/mkimage.sh
T=$(mktemp -d "${TMPDIR:-/tmp}/mkimage-test.XXXXXX")
trap 'rm -rf "$T"' EXIT
PATH=$PATH:/usr/sbin:/sbin
export MTOOLS_SKIP_CHECK=1

passed=0 failed=0
ok()   { echo "ok   $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1${2:+ ($2)}"; failed=$((failed + 1)); }
check() { local n=$1; shift; if "$@" >/dev/null 2>&1; then ok "$n"; else fail "$n"; fi; }

# A scratch ESP: random bytes stand in for the EFI binaries.
E=$T/esp
mkdir -p "$E/EFI/BOOT"
head -c 300000 /dev/urandom > "$E/EFI/BOOT/BOOTX64.EFI"
head -c 200000 /dev/urandom > "$E/kernel.efi"
printf 'fs0:\\kernel.efi boot\r\n' > "$E/startup.nsh"

if "$MK" "$E" "$T/usb.img" > "$T/out" 2>&1; then ok "builds an image"; else fail "builds an image" "$(tail -n 1 "$T/out")"; fi
IMG=$T/usb.img
check "image is 64 MiB" test "$(stat -c %s "$IMG")" = $((64 * 1024 * 1024))
dump=$(sfdisk -d "$IMG" 2>/dev/null || true)
check "GPT label" grep -q '^label: gpt' <<< "$dump"
check "exactly one partition" test "$(grep -c ' : start=' <<< "$dump")" = 1
check "partition type is the EFI System Partition GUID" grep -qi 'type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B' <<< "$dump"
check "partition starts at 1 MiB" grep -q 'start= *2048,' <<< "$dump"
check "FAT32 filesystem in the partition" bash -c "dd if='$IMG' bs=1 skip=$((2048 * 512 + 82)) count=8 2>/dev/null | grep -q '^FAT32'"
check "filesystem's hidden sectors = partition start" bash -c "minfo -i '$IMG@@1M' :: | grep -q 'hidden sectors: 2048'"
for f in EFI/BOOT/BOOTX64.EFI kernel.efi startup.nsh; do
    rm -f "$T/got"
    mcopy -i "$IMG@@1M" "::/$f" "$T/got" 2>/dev/null || true
    check "ESP holds $f, byte for byte" cmp -s "$E/$f" "$T/got"
done
check "IMG_MB=128 gives a 128 MiB image" bash -c "IMG_MB=128 '$MK' '$E' '$T/big.img' && test \$(stat -c %s '$T/big.img') = $((128 * 1024 * 1024))"

# Errors: one line each, non-zero exit, no image left behind.
err() {   # err NAME EXPECTED-SUBSTRING COMMAND...
    local n=$1 want=$2 rc=0; shift 2
    "$@" > "$T/eout" 2> "$T/eerr" || rc=$?
    if [ "$rc" = 0 ]; then fail "$n" "exit 0"
    elif ! grep -qF -- "$want" "$T/eerr"; then fail "$n" "stderr: $(head -c 200 "$T/eerr")"
    elif [ "$(wc -l < "$T/eerr")" != 1 ]; then fail "$n" "$(wc -l < "$T/eerr") lines of error"
    else ok "$n"; fi
}
err "missing ESP directory" "does not exist" "$MK" "$T/nope" "$T/x.img"
mkdir -p "$T/partial/EFI/BOOT" && cp "$E/EFI/BOOT/BOOTX64.EFI" "$T/partial/EFI/BOOT/"
err "ESP without kernel.efi" "kernel.efi' is missing" "$MK" "$T/partial" "$T/x.img"
err "IMG_MB too small for FAT32" "too small" env IMG_MB=16 "$MK" "$E" "$T/x.img"
err "IMG_MB not a number" "whole number" env IMG_MB=64M "$MK" "$E" "$T/x.img"
# A PATH with everything the script needs except mtools.
mkdir -p "$T/bin"
for t in bash env dirname truncate awk sed sort find mv rm mkdir sfdisk cat; do
    p=$(command -v "$t") && ln -sf "$p" "$T/bin/$t"
done
err "mtools missing" "mformat not found" env PATH="$T/bin" "$T/bin/bash" "$MK" "$E" "$T/x.img"
check "no image left behind by the failures" test ! -e "$T/x.img"

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
