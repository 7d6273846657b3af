#!/usr/bin/env bash
# Sign the image for Secure Boot with sbsigntool: build/kernel.efi -> build/kernel-signed.efi,
# build/esp -> build/esp-signed (every .efi in it signed) -> build/usb-signed.img.
# An encrypted key is decrypted into a private temporary file that is removed on exit.
#
# usage: scripts/sign.sh KEY CERT          (or: make sign KEY=db.key CERT=db.crt)
# env:   KEY_PASS  passphrase of an encrypted KEY (else openssl asks on the terminal)
#        ESP (build/esp), EFI (build/kernel.efi), OUT (build): inputs and output directory
set -euo pipefail

die() { echo "sign: $*" >&2; exit 1; }

KEY=${1:-}
CERT=${2:-}
[ -n "$KEY" ] || die "KEY is missing: make sign KEY=path/to/db.key CERT=path/to/db.crt"
[ -n "$CERT" ] || die "CERT is missing: make sign KEY=path/to/db.key CERT=path/to/db.crt"
[ -r "$KEY" ] || die "cannot read key '$KEY'"
[ -r "$CERT" ] || die "cannot read certificate '$CERT'"

ESP=${ESP:-build/esp}
EFI=${EFI:-build/kernel.efi}
OUT=${OUT:-build}
HERE=$(cd "$(dirname "$0")" && pwd)

for tool in sbsign sbverify openssl; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool not found (install sbsigntool and openssl, or run 'make deps')"
done
[ -f "$EFI" ] || die "'$EFI' does not exist (run make)"
[ -f "$ESP/EFI/BOOT/BOOTX64.EFI" ] || die "'$ESP/EFI/BOOT/BOOTX64.EFI' does not exist (run make)"

openssl x509 -in "$CERT" -noout 2>/dev/null ||
    die "'$CERT' is not a PEM X.509 certificate (convert a DER one: openssl x509 -inform der -in C.cer -out C.pem)"

mkdir -p "$OUT"
work=$(umask 077 && mktemp -d "$OUT/.sign.XXXXXX")
trap 'rm -rf "$work"' EXIT

# sbsign cannot be given a passphrase; hand it an unencrypted copy that only we can read.
plainkey=$work/key.pem
if [ -n "${KEY_PASS:-}" ]; then
    KEY_PASS=$KEY_PASS openssl pkey -in "$KEY" -passin env:KEY_PASS -out "$plainkey" 2>/dev/null ||
        die "cannot read key '$KEY' with the given KEY_PASS"
else
    openssl pkey -in "$KEY" -out "$plainkey" ||
        die "cannot read key '$KEY' (encrypted? set KEY_PASS)"
fi
[ "$(openssl pkey -in "$plainkey" -pubout 2>/dev/null)" = "$(openssl x509 -in "$CERT" -noout -pubkey)" ] ||
    die "key '$KEY' does not belong to certificate '$CERT'"

sign_one() {   # sign_one IN OUT
    sbsign --key "$plainkey" --cert "$CERT" --output "$2" "$1" 2>"$work/sbsign.err" ||
        die "sbsign failed on $1: $(grep -v -i 'warning' "$work/sbsign.err" | head -n 1)"
    sbverify --cert "$CERT" "$2" >/dev/null 2>&1 || die "sbverify does not accept the signed $2"
}

sign_one "$EFI" "$OUT/kernel-signed.efi"
echo "sign: $OUT/kernel-signed.efi"

rm -rf "$OUT/esp-signed"
cp -r "$ESP" "$OUT/esp-signed"
count=0
while IFS= read -r -d '' f; do
    sign_one "$ESP/${f#"$OUT/esp-signed/"}" "$f"
    count=$((count + 1))
done < <(find "$OUT/esp-signed" -type f -iname '*.efi' -print0)
echo "sign: $OUT/esp-signed/ ($count EFI binaries signed)"

"$HERE/mkimage.sh" "$OUT/esp-signed" "$OUT/usb-signed.img" >/dev/null
echo "sign: $OUT/usb-signed.img (write it like usb.img: scripts/write-usb.sh DEV $OUT/usb-signed.img)"
