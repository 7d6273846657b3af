#!/usr/bin/env bash
# Boots build/usb.img under OVMF (TCG) the two ways a real machine would see a stick: as a USB
# mass-storage device on an xHCI controller, and as a SATA disk on q35's AHCI. Each boot uses a
# private copy of the image and of the OVMF variable store. Prints ok/FAIL and `N passed, N failed`.
# env: IMG (build/usb.img), USB_BOOT_TIMEOUT (150), QEMU_MEM (1G)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
# shellcheck source=tests/usb/lib_boot.sh
. "$ROOT/tests/usb/lib_boot.sh"

BUILD=${BUILD:-build}
IMG=${IMG:-$BUILD/usb.img}
W=$BUILD/usb-boot-test
TIMEOUT=${USB_BOOT_TIMEOUT:-150}

if [ ! -f "$IMG" ]; then
    fail "image" "$IMG missing (run make image)"
    summary || exit 1
fi
if ! fw=$(ovmf/find-ovmf.sh 2>&1); then
    fail "firmware" "$fw"
    summary || exit 1
fi
eval "$fw"     # OVMF_CODE=..., OVMF_VARS=...

rm -rf "$W"
mkdir -p "$W"

# Sanity of the image itself, before any boot: GPT with one ESP, FAT32, the three files.
PATH=$PATH:/usr/sbin:/sbin
esp_line=$(sfdisk -d "$IMG" 2>/dev/null | grep -i 'type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B' || true)
check "image: GPT label" bash -c "sfdisk -d '$IMG' | grep -q '^label: gpt'"
check "image: one partition, an EFI System Partition" \
    test "$(sfdisk -d "$IMG" | grep -c '^[^ ]* : start=')" = 1 -a -n "$esp_line"
start=$(printf '%s\n' "$esp_line" | sed -n 's/.*start= *\([0-9]*\).*/\1/p')
start=${start:-0}
export MTOOLS_SKIP_CHECK=1
# A FAT32 boot sector names its type at byte 82.
check "image: ESP is FAT32" bash -c "dd if='$IMG' bs=1 skip=$((start * 512 + 82)) count=8 2>/dev/null | grep -q '^FAT32'"
for f in EFI/BOOT/BOOTX64.EFI kernel.efi startup.nsh; do
    check "image: ESP holds $f" mtype -i "$IMG@@$((start * 512))" "::/$f"
done

# usb_boot NAME BOOTOPTION-REGEX QEMU-DEVICE-ARGS...
usb_boot() {
    local name=$1 started=$2; shift 2
    cp "$OVMF_VARS" "$W/$name.vars.fd"
    chmod u+w "$W/$name.vars.fd"
    cp "$IMG" "$W/$name.img"
    boot_qemu "$W/$name.log" "$TIMEOUT" \
        -machine q35 -cpu max -m "${QEMU_MEM:-1G}" -smp 1 -net none -nodefaults -vga std \
        -drive "if=pflash,format=raw,unit=0,readonly=on,file=$OVMF_CODE" \
        -drive "if=pflash,format=raw,unit=1,file=$W/$name.vars.fd" \
        -device isa-debug-exit,iobase=0xf4,iosize=0x04 "$@"
    rm -f "$W/$name.img" "$W/$name.vars.fd"
    local L=$W/$name.log
    check "$name: boot finished within ${TIMEOUT}s (took ${BOOT_SECS}s)" test -n "$BOOT_FINISHED"
    check "$name: firmware started the stick's BOOTX64.EFI" in_log "$L" "BdsDxe: starting Boot[0-9A-F]{4} \"$started"
    check "$name: kernel: ready" in_log "$L" '^kernel: ready'
}

usb_boot usb  'UEFI QEMU QEMU USB HARDDRIVE' \
    -device qemu-xhci,id=xhci -drive "if=none,id=stick,format=raw,file=$W/usb.img" \
    -device usb-storage,bus=xhci.0,drive=stick,removable=on
usb_boot sata 'UEFI QEMU HARDDISK' \
    -drive "if=none,id=disk,format=raw,file=$W/sata.img" -device ide-hd,drive=disk,bus=ide.0

echo "logs: $W/*.log.txt"
summary
