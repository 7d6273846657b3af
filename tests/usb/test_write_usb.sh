#!/usr/bin/env bash
# Tests of scripts/write-usb.sh against fake sysfs trees, mount tables and device files in a
# scratch directory: every unsafe target must be refused (and left untouched), a good stick written.
# No real device is opened. Prints `ok   name` / `FAIL name` lines and `N passed, N failed`.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WRITER=$ROOT/scripts/write-usb.sh
[ -x "$WRITER" ] || { echo "test_write_usb: $WRITER missing or not executable" >&2; exit 1; }

T=$(mktemp -d "${TMPDIR:-/tmp}/write-usb-test.XXXXXX")
trap 'rm -rf "$T"' EXIT
S=$T/sys
mkdir -p "$S/block" "$S/class/block" "$T/dev"
: > "$T/mounts"
: > "$T/swaps.body"

passed=0 failed=0
ok()   { echo "ok   $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1${2:+: $2}"; failed=$((failed + 1)); }

# mkdisk NAME usb|sata REMOVABLE SECTORS [PARTITION...]: a disk as the kernel shows it in sysfs,
# with the same shape as the real tree (devices/.../block/NAME, /sys/block and /sys/class/block
# links, device -> the SCSI device), plus a fake device node (a regular file) in $T/dev.
hctl=0
mkdisk() {
    local name=$1 bus=$2 removable=$3 sectors=$4; shift 4
    local dev
    hctl=$((hctl + 1))
    if [ "$bus" = usb ]; then
        dev=$S/devices/pci0000:00/0000:00:14.0/usb2/2-$hctl/2-$hctl:1.0/host$hctl/target$hctl:0:0/$hctl:0:0:0
    else
        dev=$S/devices/pci0000:00/0000:00:17.0/ata$hctl/host$hctl/target$hctl:0:0/$hctl:0:0:0
    fi
    local blk=$dev/block/$name
    mkdir -p "$blk/holders" "$blk/slaves"
    echo "$removable" > "$blk/removable"
    echo "$sectors" > "$blk/size"
    ln -s ../.. "$blk/device"
    if [ "$bus" = usb ]; then printf 'SanDisk \n' > "$dev/vendor"; printf 'Cruzer Blade    \n' > "$dev/model"
    else printf 'ATA     \n' > "$dev/vendor"; printf 'Samsung SSD 870 \n' > "$dev/model"; fi
    ln -s "$blk" "$S/block/$name"
    ln -s "$blk" "$S/class/block/$name"
    head -c 2097152 /dev/zero > "$T/dev/$name"
    local p
    for p in "$@"; do
        mkdir -p "$blk/$p/holders"
        echo 1 > "$blk/$p/partition"
        echo 2048 > "$blk/$p/size"
        ln -s "$blk/$p" "$S/class/block/$p"
        : > "$T/dev/$p"
    done
}
# mkdm [-n] NAME SLAVE...: a device-mapper device (LUKS, LVM) on top of SLAVEs;
# -n leaves out the holders links, to exercise the root-disk walk on its own.
mkdm() {
    local hold=1
    if [ "$1" = -n ]; then hold=0; shift; fi
    local name=$1; shift
    local blk=$S/devices/virtual/block/$name s
    mkdir -p "$blk/slaves" "$blk/holders"
    echo 0 > "$blk/removable"
    ln -s "$blk" "$S/block/$name"
    ln -s "$blk" "$S/class/block/$name"
    for s in "$@"; do
        ln -s "$(readlink -f "$S/class/block/$s")" "$blk/slaves/$s"
        if [ "$hold" = 1 ]; then ln -s "$blk" "$(readlink -f "$S/class/block/$s")/holders/$name"; fi
    done
}

mkdisk sda  sata 0 1000215216 sda1 sda2       # internal SSD holding /
mkdisk sdb  usb  1 31266816   sdb1            # the good stick
mkdisk sde  sata 0 1953525168 sde1            # second internal disk, unused
mkdisk sdf  usb  1 15633408   sdf1            # stick with a mounted partition
mkdisk sdg  usb  1 15633408                   # stick mounted as a whole (superfloppy)
mkdisk sdh  usb  1 0                          # card reader without a card
mkdisk sdi  usb  0 976773168  sdi1            # USB hard disk: not removable, but on USB
mkdisk sdj  sata 1 7864320    sdj1            # removable, not USB (an SD slot on SATA/SDHCI)
mkdisk sdk  usb  1 15633408   sdk1            # stick used as swap
mkdisk sdl  usb  1 15633408   sdl1            # stick under LVM / dm-crypt
mkdisk sdm  usb  1 1024                       # tiny: 512 KiB, smaller than the image
mkdisk sdc  usb  1 60062500   sdc1 sdc2       # a system running from a USB stick (root on sdc2)
mkdisk sdd  usb  1 60062500   sdd1 sdd2       # root on LUKS (dm-0) on sdd2
mkdisk sdn  usb  1 60062500   sdn1 sdn2       # root on dm-2 on sdn2, holders link missing
mkdm dm-0 sdd2
mkdm -n dm-2 sdn2
mkdm dm-1 sdl1

# As in /proc/mounts, a space in a mount point is written \040.
cat > "$T/mounts" <<'EOF'
/dev/sda2 / ext4 rw,relatime 0 0
/dev/sda1 /boot/efi vfat rw 0 0
/dev/sdf1 /media/me/My\040Stick vfat rw,nosuid 0 0
/dev/sdg /media/me/FLOPPY vfat rw 0 0
EOF
printf 'Filename\tType\tSize\tUsed\tPriority\n/dev/sdk1 partition 1048572 0 -2\n' > "$T/swaps"

IMG=$T/usb.img
head -c 1048576 /dev/urandom > "$IMG"
cp "$T/dev/sdb" "$T/zeros"

# run NAME EXPECT_RC STDIN EXPECT_MESSAGE [ENV=VAL...] -- ARGS...
# EXPECT_MESSAGE is looked for on stderr for a refusal, on stdout for a success.
# Runs the writer with the fake tree; checks exit status, the reason, and (for refusals)
# that every fake device file is still untouched.
run() {
    local name=$1 want_rc=$2 input=$3 want_msg=$4; shift 4
    local envs=() rc=0
    while [ "$1" != -- ]; do envs+=("$1"); shift; done
    shift
    local before
    before=$(cd "$T/dev" && md5sum -- * | md5sum)
    printf '%b' "$input" | env SYSFS="$S" MOUNTS="$T/mounts" SWAPS="$T/swaps" ROOTDEV=/dev/sda2 \
        WRITE_USB_ALLOW_FILE=1 "${envs[@]}" "$WRITER" "$@" > "$T/out" 2> "$T/err" || rc=$?
    if [ "$rc" != "$want_rc" ]; then
        fail "$name" "exit $rc, expected $want_rc; stderr: $(head -c 300 "$T/err" | tr '\n' ' ')"; return
    fi
    local where=$T/err
    if [ "$want_rc" = 0 ]; then where=$T/out; fi
    if ! grep -qF -- "$want_msg" "$where"; then
        fail "$name" "$(basename "$where") lacks '$want_msg': $(tail -c 300 "$where" | tr '\n' ' ')"; return
    fi
    if [ "$want_rc" != 0 ]; then
        local lines
        lines=$(grep -c 'refused' "$T/err" || true)
        if [ "$want_rc" = 1 ] && [ "$lines" != 1 ]; then fail "$name" "expected one refusal line, got $lines"; return; fi
        if [ "$(cd "$T/dev" && md5sum -- * | md5sum)" != "$before" ]; then fail "$name" "a device file was modified"; return; fi
    fi
    ok "$name"
}

D=$T/dev
# Refusals.
run "missing DEV prints usage"              2 ""      "usage:"                        -- 
run "empty DEV prints usage"                2 ""      "usage:"                        -- ""
run "nonexistent device"                    1 "yes\n" "does not exist"                -- "$D/sdz" "$IMG"
run "missing image"                         1 "yes\n" "image"                         -- "$D/sdb" "$T/nope.img"
run "regular file without the test switch"  1 "yes\n" "not a block device"  WRITE_USB_ALLOW_FILE=0 -- "$D/sdb" "$IMG"
run "partition of a good stick"             1 "yes\n" "is a partition; give the whole disk ($(printf /dev/sdb))" -- "$D/sdb1" "$IMG"
run "non-removable internal disk"           1 "yes\n" "neither removable nor on a USB bus" -- "$D/sde" "$IMG"
run "internal disk holding / (sda)"         1 "yes\n" "neither removable nor on a USB bus" -- "$D/sda" "$IMG"
run "removable disk, partition mounted"     1 "yes\n" "/dev/sdf1 is mounted on /media/me/My Stick" -- "$D/sdf" "$IMG"
run "removable disk, whole disk mounted"    1 "yes\n" "/dev/sdg is mounted"           -- "$D/sdg" "$IMG"
run "partition used as swap"                1 "yes\n" "in use as swap"                -- "$D/sdk" "$IMG"
run "partition held by device-mapper"       1 "yes\n" "in use by /dev/dm-1"           -- "$D/sdl" "$IMG"
run "no medium"                             1 "yes\n" "no medium"                     -- "$D/sdh" "$IMG"
run "device smaller than the image"         1 "yes\n" "smaller than the image"        -- "$D/sdm" "$IMG"
run "root disk (USB stick, root on sdc2)"   1 "yes\n" "holds the root filesystem"  ROOTDEV=/dev/sdc2 -- "$D/sdc" "$IMG"
run "root disk given as a bare name"        1 "yes\n" "holds the root filesystem"  ROOTDEV=sdc2 -- "$D/sdc" "$IMG"
run "root disk through dm-crypt (dm-0)"     1 "yes\n" "/dev/sdd2 is in use by /dev/dm-0" ROOTDEV=/dev/dm-0 -- "$D/sdd" "$IMG"
run "root walk follows dm slaves to the disk" 1 "yes\n" "holds the root filesystem" ROOTDEV=/dev/dm-2 -- "$D/sdn" "$IMG"
run "root device unknown (overlay)"         1 "yes\n" "cannot tell which disk holds /" ROOTDEV=overlay -- "$D/sdb" "$IMG"
run "answer 'y' is not yes"                 1 "y\n"   "not confirmed"                 -- "$D/sdb" "$IMG"
run "answer 'YES' is not yes"               1 "YES\n" "not confirmed"                 -- "$D/sdb" "$IMG"
run "answer 'yes please' is not yes"        1 "yes please\n" "not confirmed"          -- "$D/sdb" "$IMG"
run "no answer (stdin at EOF)"              1 ""      "not confirmed"                 -- "$D/sdb" "$IMG"
run "DRYRUN=1 checks, asks, writes nothing" 0 "yes\n" "all checks passed, not writing"          DRYRUN=1      -- "$D/sdb" "$IMG"
if cmp -s "$D/sdb" "$T/zeros"; then ok "DRYRUN=1 left the device untouched"; else fail "DRYRUN=1 left the device untouched"; fi

# The prompt shows the model and the size before asking.
if grep -q 'SanDisk Cruzer Blade' "$T/out" && grep -q '16.0 GB' "$T/out"; then ok "prompt shows model and size"
else fail "prompt shows model and size" "$(tr '\n' ' ' < "$T/out")"; fi

# Accepted: a good removable USB stick, and a non-removable USB disk and a removable non-USB disk.
run "good stick: written"                   0 "yes\n" "wrote and verified 1048576 bytes"                       -- "$D/sdb" "$IMG"
if cmp -s -n "$(stat -c %s "$IMG")" "$IMG" "$D/sdb"; then ok "good stick: bytes equal the image"
else fail "good stick: bytes equal the image"; fi
if cmp -s -i 1048576 "$D/sdb" "$T/zeros" 2>/dev/null && [ "$(stat -c %s "$D/sdb")" = 2097152 ]; then
    ok "good stick: bytes after the image untouched"
else fail "good stick: bytes after the image untouched"; fi
run "USB disk that is not removable: accepted" 0 "yes\n" "all checks passed"     DRYRUN=1      -- "$D/sdi" "$IMG"
run "removable disk not on USB: accepted"      0 "yes\n" "all checks passed"     DRYRUN=1      -- "$D/sdj" "$IMG"

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
