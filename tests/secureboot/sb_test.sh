#!/usr/bin/env bash
# Secure Boot test: signs the ESP with Debian's snakeoil key (shipped with the ovmf package and
# enrolled in OVMF_VARS_4M.snakeoil.fd), boots it under OVMF's Secure Boot firmware (TCG) and
# expects `kernel: ready`; the unsigned image and one signed with a key not in db must be refused.
# Prints `ok`/`FAIL` lines and `N passed, N failed`.
# env: ESP (build/esp), EFI (build/kernel.efi), SB_CODE, SB_VARS, SB_KEY, SB_CERT, SB_TIMEOUT (150)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
# shellcheck source=tests/usb/lib_boot.sh
. "$ROOT/tests/usb/lib_boot.sh"

BUILD=${BUILD:-build}
W=$BUILD/sb-test
ESP=${ESP:-$BUILD/esp}
EFI=${EFI:-$BUILD/kernel.efi}
TIMEOUT=${SB_TIMEOUT:-150}

first() { local f; for f in "$@"; do if [ -r "$f" ]; then echo "$f"; return 0; fi; done; return 1; }
# The Secure Boot CODE image refuses to run without SMM; the snakeoil VARS has PK, KEK and db
# set to the snakeoil certificate and Secure Boot enabled.
CODE=${SB_CODE:-$(first /usr/share/OVMF/OVMF_CODE_4M.secboot.fd /usr/share/OVMF/OVMF_CODE_4M.snakeoil.fd \
                        /usr/share/OVMF/OVMF_CODE_4M.ms.fd || true)}
VARS=${SB_VARS:-$(first /usr/share/OVMF/OVMF_VARS_4M.snakeoil.fd || true)}
KEY=${SB_KEY:-$(first /usr/share/ovmf/PkKek-1-snakeoil.key /usr/share/OVMF/PkKek-1-snakeoil.key || true)}
CERT=${SB_CERT:-$(first /usr/share/ovmf/PkKek-1-snakeoil.pem /usr/share/OVMF/PkKek-1-snakeoil.pem || true)}

missing=""
[ -n "$CODE" ] || missing="$missing OVMF_CODE_4M.secboot.fd"
[ -n "$VARS" ] || missing="$missing OVMF_VARS_4M.snakeoil.fd"
[ -n "$KEY" ]  || missing="$missing PkKek-1-snakeoil.key"
[ -n "$CERT" ] || missing="$missing PkKek-1-snakeoil.pem"
[ -f "$ESP/EFI/BOOT/BOOTX64.EFI" ] || missing="$missing $ESP/EFI/BOOT/BOOTX64.EFI(run make)"
[ -f "$EFI" ] || missing="$missing $EFI(run make)"
for t in sbsign sbverify openssl timeout setsid qemu-system-x86_64; do
    command -v "$t" >/dev/null 2>&1 || missing="$missing $t"
done
if [ -n "$missing" ]; then
    fail "prerequisites" "missing:$missing; the ovmf, sbsigntool and qemu-system-x86 packages provide them"
    summary || exit 1
fi

rm -rf "$W"
mkdir -p "$W"

# --- signing --------------------------------------------------------------------------
if KEY_PASS=snakeoil ESP="$ESP" EFI="$EFI" OUT="$W/snakeoil" scripts/sign.sh "$KEY" "$CERT" > "$W/sign.out" 2>&1; then
    ok "make sign with the snakeoil key"
else
    fail "make sign with the snakeoil key" "$(tail -n 1 "$W/sign.out")"
fi
check "signed BOOTX64.EFI verifies against the snakeoil cert" \
    sbverify --cert "$CERT" "$W/snakeoil/esp-signed/EFI/BOOT/BOOTX64.EFI"
check "signed kernel.efi verifies against the snakeoil cert" sbverify --cert "$CERT" "$W/snakeoil/kernel-signed.efi"
check "unsigned BOOTX64.EFI does not verify" bash -c "! sbverify --cert '$CERT' '$ESP/EFI/BOOT/BOOTX64.EFI'"
check "sign refuses a missing KEY" bash -c "! scripts/sign.sh '' '$CERT'"

# A second key that is in no firmware database: its signature must not be good enough.
openssl req -x509 -newkey rsa:2048 -nodes -subj "/CN=not enrolled test key/" -days 1 \
    -keyout "$W/other.key" -out "$W/other.pem" > /dev/null 2>&1
check "sign refuses a key that is not the cert's" bash -c \
    "! KEY_PASS=snakeoil OUT='$W/mismatch' ESP='$ESP' EFI='$EFI' scripts/sign.sh '$KEY' '$W/other.pem'"
if ESP="$ESP" EFI="$EFI" OUT="$W/other" scripts/sign.sh "$W/other.key" "$W/other.pem" > "$W/sign-other.out" 2>&1; then
    ok "sign with a key that is not enrolled"
else
    fail "sign with a key that is not enrolled" "$(tail -n 1 "$W/sign-other.out")"
fi
scripts/mkimage.sh "$ESP" "$W/usb-unsigned.img" > /dev/null

# --- boots ------------------------------------------------------------------------------
# sb_boot NAME IMAGE: boots a private copy of IMAGE as a SATA disk on q35 with SMM, the
# Secure Boot CODE and a private copy of the snakeoil VARS.
sb_boot() {
    local name=$1 img=$2
    cp "$VARS" "$W/$name.vars.fd"
    chmod u+w "$W/$name.vars.fd"
    cp "$img" "$W/$name.img"
    boot_qemu "$W/$name.log" "$TIMEOUT" \
        -machine q35,smm=on -global driver=cfi.pflash01,property=secure,value=on \
        -cpu max -m 1G -smp 1 -net none -nodefaults -vga std \
        -drive "if=pflash,format=raw,unit=0,readonly=on,file=$CODE" \
        -drive "if=pflash,format=raw,unit=1,file=$W/$name.vars.fd" \
        -drive "if=none,id=disk,format=raw,file=$W/$name.img" -device ide-hd,drive=disk,bus=ide.0 \
        -device isa-debug-exit,iobase=0xf4,iosize=0x04
    rm -f "$W/$name.img"
}
# The firmware's own words when it will not run an image: BdsDxe reports the load failing
# with Access Denied (image not allowed by db) or Security Violation.
REFUSED='BdsDxe: failed to (load|start) Boot[0-9A-F]{4} "UEFI QEMU HARDDISK[^"]*" .*: (Access Denied|Security Violation)'
STARTED='BdsDxe: starting Boot[0-9A-F]{4} "UEFI QEMU HARDDISK'

if [ -f "$W/snakeoil/usb-signed.img" ]; then
    sb_boot signed "$W/snakeoil/usb-signed.img"
    L=$W/signed.log
    check "signed: boot finished within ${TIMEOUT}s (took ${BOOT_SECS}s)" test -n "$BOOT_FINISHED"
    check "signed: firmware started BOOTX64.EFI from the disk" in_log "$L" "$STARTED"
    check "signed: firmware did not refuse it" not_in_log "$L" "$REFUSED"
    check "signed: kernel: ready" in_log "$L" '^kernel: ready'
else
    fail "signed: boot" "no signed image"
fi

sb_boot unsigned "$W/usb-unsigned.img"
L=$W/unsigned.log
check "unsigned: firmware gave up within ${TIMEOUT}s (took ${BOOT_SECS}s)" test -n "$BOOT_FINISHED"
check "unsigned: firmware refused it (Access Denied / Security Violation)" in_log "$L" "$REFUSED"
check "unsigned: never started" not_in_log "$L" "$STARTED"
check "unsigned: no kernel: ready" not_in_log "$L" 'kernel: ready'

if [ -f "$W/other/usb-signed.img" ]; then
    sb_boot other-key "$W/other/usb-signed.img"
    L=$W/other-key.log
    check "key not in db: firmware refused it" in_log "$L" "$REFUSED"
    check "key not in db: no kernel: ready" not_in_log "$L" 'kernel: ready'
else
    fail "key not in db: boot" "no image signed with the other key"
fi

echo "logs: $W/*.log.txt"
summary
