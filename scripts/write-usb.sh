#!/usr/bin/env bash
# Write build/usb.img to a USB stick, guarded: DEV must be a whole, removable or USB disk,
# with nothing on it mounted or in use, not the disk holding /, and the person must type `yes`.
# Every refusal is one line on stderr and a non-zero exit; nothing is written before all checks pass.
#
# usage: scripts/write-usb.sh DEV [IMAGE]          e.g. scripts/write-usb.sh /dev/sdb
# env (defaults in brackets; the first four exist so tests can use fake trees):
#   SYSFS    sysfs root                  [/sys]
#   MOUNTS   mounts table                [/proc/mounts]
#   SWAPS    active swap table           [/proc/swaps]
#   ROOTDEV  device holding / (e.g. sda2, /dev/mapper/root, nvme0n1p2)   [from findmnt]
#   WRITE_USB_ALLOW_FILE=1   accept a regular file as DEV (tests only; real DEVs are block devices)
#   DRYRUN=1 do every check and ask, then stop before writing
set -euo pipefail

SYSFS=${SYSFS:-/sys}
MOUNTS=${MOUNTS:-/proc/mounts}
SWAPS=${SWAPS:-/proc/swaps}

refuse() { echo "write-usb: refused: $*" >&2; exit 1; }
usage() {
    echo "usage: $0 DEV [IMAGE]   (or: make usb DEV=/dev/sdX)" >&2
    echo "  writes IMAGE (default build/usb.img) to the whole removable disk DEV, after checks and a typed 'yes'" >&2
    echo "  find DEV with: lsblk -d -o NAME,TRAN,RM,SIZE,MODEL" >&2
    exit 2
}

if [ $# -lt 1 ] || [ $# -gt 2 ] || [ -z "$1" ]; then usage; fi
DEV=$1
IMG=${2:-build/usb.img}

[ -f "$IMG" ] || refuse "image '$IMG' does not exist (run: make image)"

# --- the device node ---------------------------------------------------------
[ -e "$DEV" ] || refuse "$DEV does not exist"
if [ ! -b "$DEV" ]; then
    if [ "${WRITE_USB_ALLOW_FILE:-0}" != 1 ] || [ ! -f "$DEV" ]; then refuse "$DEV is not a block device"; fi
fi
# /dev/disk/by-id/usb-... links are fine: work with the kernel name behind them.
name=$(basename "$(readlink -f "$DEV")")
case $name in ''|.|..|*[!A-Za-z0-9_.:!-]*) refuse "cannot make sense of device name '$name'";; esac

# --- whole disk, not a partition -------------------------------------------------
if [ -e "$SYSFS/class/block/$name/partition" ]; then
    parent=$(basename "$(dirname "$(readlink -f "$SYSFS/class/block/$name")")")
    refuse "$DEV is a partition; give the whole disk (/dev/$parent)"
fi
disk="$SYSFS/block/$name"
[ -d "$disk" ] || refuse "$DEV is not a disk the kernel knows ($disk missing)"

# --- removable, or on a USB bus ----------------------------------------------------
removable=$(cat "$disk/removable" 2>/dev/null || echo 0)
devpath=$(readlink -f "$disk/device" 2>/dev/null || true)
on_usb=0
if printf '%s\n' "$devpath" | grep -Eq '/usb[0-9]+(/|$)'; then on_usb=1; fi
if [ "$removable" != 1 ] && [ "$on_usb" != 1 ]; then
    refuse "$DEV is neither removable nor on a USB bus (an internal disk?)"
fi

# --- size: a medium is present and the image fits -----------------------------------
sectors=$(cat "$disk/size" 2>/dev/null || echo 0)
case $sectors in ''|*[!0-9]*) sectors=0;; esac
bytes=$((sectors * 512))            # sysfs counts 512-byte units whatever the sector size
[ "$bytes" -gt 0 ] || refuse "$DEV has no medium (size 0)"
img_bytes=$(stat -c %s "$IMG")
[ "$bytes" -ge "$img_bytes" ] || refuse "$DEV ($bytes bytes) is smaller than the image ($img_bytes bytes)"

# --- nothing on it mounted, used as swap, or held by dm/md/LVM ------------------------
# Names of the disk and of each of its partitions.
names=("$name")
for p in "$disk"/*/; do
    p=${p%/}
    if [ -e "$p/partition" ]; then names+=("$(basename "$p")"); fi
done
is_ours() {   # is_ours SOURCE -> 0 if SOURCE is the disk or one of its partitions
    local src=$1 n
    case $src in /dev/*) ;; *) return 1;; esac
    if [ -e "$src" ]; then src=$(readlink -f "$src"); fi
    src=$(basename "$src")
    for n in "${names[@]}"; do [ "$src" = "$n" ] && return 0; done
    return 1
}
[ -r "$MOUNTS" ] || refuse "cannot read the mount table $MOUNTS"
while read -r src mnt _; do
    # /proc/mounts escapes spaces as \040; the mount point is only for the message.
    if is_ours "$src"; then refuse "$src is mounted on ${mnt//\\040/ } (unmount it first: umount $src)"; fi
done < "$MOUNTS"
if [ -r "$SWAPS" ]; then
    while read -r src _; do
        if is_ours "$src"; then refuse "$src is in use as swap (swapoff $src first)"; fi
    done < <(tail -n +2 "$SWAPS")
fi
for n in "${names[@]}"; do
    for h in "$SYSFS/class/block/$n/holders"/*; do
        if [ -e "$h" ]; then refuse "/dev/$n is in use by /dev/$(basename "$h") (device-mapper, RAID or LVM)"; fi
    done
done

# --- not the disk holding / ------------------------------------------------------------
# Follow the root device down to whole disks: a partition leads to its disk, a dm/md device
# to its slaves. Anything we cannot follow is refused rather than guessed.
root_disks=()
walk_to_disks() {   # walk_to_disks NAME DEPTH
    local n=$1 depth=$2 s
    [ "$depth" -lt 16 ] || return 0
    if [ -e "$SYSFS/class/block/$n/partition" ]; then
        walk_to_disks "$(basename "$(dirname "$(readlink -f "$SYSFS/class/block/$n")")")" $((depth + 1))
        return 0
    fi
    local found=0
    for s in "$SYSFS/class/block/$n/slaves"/*; do
        [ -e "$s" ] || continue
        found=1
        walk_to_disks "$(basename "$s")" $((depth + 1))
    done
    [ "$found" = 1 ] || root_disks+=("$n")
}
if [ -n "${ROOTDEV:-}" ]; then
    rootsrc=$ROOTDEV
else
    rootsrc=$(findmnt -n -e -o SOURCE / 2>/dev/null || true)
    [ -n "$rootsrc" ] || rootsrc=$(awk '$2 == "/" {s = $1} END {print s}' "$MOUNTS")
fi
rootsrc=${rootsrc%%\[*}                 # btrfs subvolumes: /dev/sda2[/@]
case $rootsrc in
    /dev/*) [ -e "$rootsrc" ] && rootname=$(basename "$(readlink -f "$rootsrc")") || rootname=$(basename "$rootsrc");;
    */*|'') rootname="";;
    *) rootname=$rootsrc;;              # a bare kernel name such as sda2
esac
if [ -z "$rootname" ] || [ ! -e "$SYSFS/class/block/$rootname" ]; then
    refuse "cannot tell which disk holds / (root is '${rootsrc:-?}'); set ROOTDEV=<device holding /> to say"
fi
walk_to_disks "$rootname" 0
for r in "${root_disks[@]}"; do
    if [ "$r" = "$name" ]; then refuse "$DEV holds the root filesystem / ($rootsrc)"; fi
done

# --- show it and ask ---------------------------------------------------------------------
trim() { tr -s ' \t\n' ' ' | sed 's/^ //; s/ $//'; }
vendor=$(trim < "$disk/device/vendor" 2>/dev/null || true)
model=$(trim < "$disk/device/model" 2>/dev/null || true)
label="${vendor:+$vendor }${model:-unknown model}"
size_h=$(awk -v b="$bytes" 'BEGIN { if (b >= 1e9) printf "%.1f GB", b / 1e9; else printf "%.0f MB", b / 1e6 }')
how=""
if [ "$on_usb" = 1 ]; then how="USB"; fi
if [ "$removable" = 1 ]; then how="${how:+$how, }removable"; fi

echo "Device:  $DEV  ($name)"
echo "Model:   $label"
echo "Size:    $size_h ($bytes bytes), $how"
echo "Image:   $IMG ($img_bytes bytes)"
echo "Everything on $DEV will be destroyed."
printf 'Type yes to write the image to %s: ' "$DEV"
answer=""
read -r answer || true
echo
[ "$answer" = yes ] || refuse "not confirmed (answer was '${answer}', not 'yes')"

if [ "${DRYRUN:-0}" = 1 ]; then
    echo "write-usb: DRYRUN=1: all checks passed, not writing $DEV"
    exit 0
fi

# --- write and verify ----------------------------------------------------------------------
sudo=()
if [ ! -w "$DEV" ]; then
    command -v sudo >/dev/null 2>&1 || refuse "no write permission on $DEV (run as root)"
    sudo=(sudo)
    echo "write-usb: no write permission on $DEV, using sudo"
fi
conv=fsync
[ -b "$DEV" ] || conv=fsync,notrunc
"${sudo[@]}" dd if="$IMG" of="$DEV" bs=4M conv="$conv" status=progress ||
    refuse "dd failed writing $DEV"
sync
"${sudo[@]}" cmp -n "$img_bytes" "$IMG" "$DEV" >/dev/null ||
    refuse "verification failed: $DEV does not read back as $IMG"
echo "write-usb: wrote and verified $img_bytes bytes on $DEV; you can remove it now"
