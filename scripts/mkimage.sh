#!/usr/bin/env bash
# Build a bootable USB-stick image: a GPT disk with one FAT32 EFI System Partition
# holding the contents of an ESP directory (EFI/BOOT/BOOTX64.EFI, kernel.efi, startup.nsh).
# No root, loop devices or mounting: sfdisk writes the GPT, mtools formats and fills the FAT.
#
# usage: scripts/mkimage.sh [ESP_DIR [OUT_IMG]]     (defaults: build/esp build/usb.img)
# env:   IMG_MB  disk size in MiB (default 64, at least 40 so FAT32 has enough clusters)
set -euo pipefail

ESP_DIR=${1:-build/esp}
OUT=${2:-build/usb.img}
IMG_MB=${IMG_MB:-64}

die() { echo "mkimage: $*" >&2; exit 1; }

# sfdisk lives in /usr/sbin, which is not on every user's PATH.
PATH=$PATH:/usr/sbin:/sbin
for tool in sfdisk mformat mmd mcopy mdir; do
    command -v "$tool" >/dev/null 2>&1 ||
        die "$tool not found (install: fdisk for sfdisk, mtools for m*; or run 'make deps')"
done

[ -d "$ESP_DIR" ] || die "ESP directory '$ESP_DIR' does not exist (build it first: make esp / make all)"
for f in EFI/BOOT/BOOTX64.EFI kernel.efi startup.nsh; do
    [ -f "$ESP_DIR/$f" ] || die "'$ESP_DIR/$f' is missing"
done
case $IMG_MB in ''|*[!0-9]*) die "IMG_MB must be a whole number of MiB, not '$IMG_MB'";; esac
[ "$IMG_MB" -ge 40 ] || die "IMG_MB=$IMG_MB is too small for FAT32 (need at least 40)"

SECTOR=512
ESP_START=2048                       # 1 MiB alignment
ESP_TYPE=C12A7328-F81F-11D2-BA4B-00A0C93EC93B

mkdir -p "$(dirname "$OUT")"
tmp="$OUT.tmp"
rm -f "$tmp"
trap 'rm -f "$tmp"' EXIT
truncate -s "${IMG_MB}M" "$tmp"

# Fixed identifiers keep the image reproducible; they only need to be unique per machine,
# and a stick is the only disk with this image attached at a time.
sfdisk --quiet --no-reread --no-tell-kernel "$tmp" >/dev/null <<EOF ||
label: gpt
label-id: 6F5B2D61-3C1E-4A8B-9E0D-7A2C51B4E901
unit: sectors
first-lba: $ESP_START
start=$ESP_START, type=$ESP_TYPE, uuid=0B1E2C3D-4F50-4A61-8B72-93A4B5C6D7E8, name="EFI System Partition"
EOF
    die "sfdisk failed to write the partition table"

# Read back where sfdisk put the partition (it leaves room for the backup GPT at the end).
read -r start sectors < <(sfdisk --quiet -o Start,Sectors -l "$tmp" | awk 'NR>1 && $1 ~ /^[0-9]+$/ {print $1, $2; exit}') ||
    die "cannot read the partition back from the GPT"
[ "$start" = "$ESP_START" ] || die "ESP starts at sector $start, expected $ESP_START"

offset=$((start * SECTOR))
img="$tmp@@$offset"
export MTOOLS_SKIP_CHECK=1 MTOOLS_NO_VFAT=0

# -F: FAT32; -T: size of the filesystem in sectors (the partition, not the disk);
# -h/-s: a nominal geometry so mformat does not look for one; -H: hidden sectors before the
# filesystem (the partition start, which some firmware and OSes check); -N: fixed volume serial.
mformat -i "$img" -F -T "$sectors" -h 64 -s 32 -H "$start" -N 55534221 -v EFIBOOT :: ||
    die "mformat failed to create the FAT32 filesystem"

# Copy the ESP tree: directories first, then files, so every path exists before its contents.
(cd "$ESP_DIR" && find . -mindepth 1 -type d | sed 's|^\./||' | sort) | while IFS= read -r d; do
    mmd -i "$img" "::/$d" || die "mmd failed for $d"
done
(cd "$ESP_DIR" && find . -type f | sed 's|^\./||' | sort) | while IFS= read -r f; do
    mcopy -i "$img" -o "$ESP_DIR/$f" "::/$f" || die "mcopy failed for $f"
done

mv -f "$tmp" "$OUT"
trap - EXIT
echo "mkimage: $OUT: ${IMG_MB} MiB GPT, ESP at sector $start, $sectors sectors FAT32, from $ESP_DIR"
