#!/bin/sh
# deps.sh - checks that the tools for building and booting the image are present and,
# on Debian or Ubuntu, installs what is missing with apt-get (through sudo when not
# root), saying what it installs. Cheap when everything is there: a few file tests.
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
missing=

need() { # need PACKAGE TEST...: adds PACKAGE when the test fails
	pkg=$1
	shift
	if ! "$@" >/dev/null 2>&1; then
		case " $missing " in *" $pkg "*) ;; *) missing="$missing $pkg" ;; esac
	fi
}
have() { command -v "$1"; }

need build-essential have gcc
need build-essential have make
need binutils have ld
need binutils have objcopy
need gnu-efi test -r /usr/include/efi/efi.h
need gnu-efi test -r /usr/lib/crt0-efi-x86_64.o
need qemu-system-x86 have qemu-system-x86_64
need ovmf "$here/ovmf/find-ovmf.sh"
need mtools have mcopy
need fdisk sh -c "command -v sfdisk || test -x /usr/sbin/sfdisk || test -x /sbin/sfdisk"
need sbsigntool have sbsign
need openssl have openssl
need clang have clang
need python3 have python3
need console-setup-linux test -r /usr/share/consolefonts/Lat2-Terminus16.psf.gz
# U-Boot's UEFI, the second firmware make uboot-test boots the image on.
need u-boot-qemu test -r /usr/lib/u-boot/qemu-x86_64/u-boot.rom

# clang's libFuzzer and sanitizer runtimes come in a package of their own on Debian 12
# and later (libclang-rt-N-dev), which clang does not pull in.
fuzzer_runtime() {
	res=$(clang -print-resource-dir 2>/dev/null) || return 1
	test -r "$res/lib/linux/libclang_rt.fuzzer-x86_64.a" ||
		test -r "$res/lib/x86_64-pc-linux-gnu/libclang_rt.fuzzer.a" ||
		test -r "$res/lib/x86_64-unknown-linux-gnu/libclang_rt.fuzzer.a"
}
if have clang >/dev/null 2>&1; then
	need "libclang-rt-$(clang -dumpversion | cut -d. -f1)-dev" fuzzer_runtime
fi

install_missing() {
	[ -z "$missing" ] && return 0
	install_with_apt
}

install_with_apt() {
if ! have apt-get >/dev/null 2>&1; then
	echo "deps: missing:$missing" >&2
	echo "deps: this is not a Debian/Ubuntu system; install the equivalents by hand" >&2
	echo "      (Fedora: gcc make binutils gnu-efi-devel qemu-system-x86 edk2-ovmf mtools clang;" >&2
	echo "       Arch: base-devel gnu-efi qemu-system-x86 edk2-ovmf mtools clang)" >&2
	exit 1
fi
sudo=
if [ "$(id -u)" != 0 ]; then
	if ! have sudo >/dev/null 2>&1; then
		echo "deps: missing:$missing; not root and no sudo: run as root:" >&2
		echo "      apt-get update && apt-get install -y$missing" >&2
		exit 1
	fi
	sudo=sudo
fi
echo "deps: installing:$missing"
$sudo apt-get update -q
# shellcheck disable=SC2086
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
echo "deps: installed:$missing"
}

install_missing
# A clang installed just now may still lack its runtime package: look again.
if ! fuzzer_runtime >/dev/null 2>&1 && have clang >/dev/null 2>&1; then
	missing=
	need "libclang-rt-$(clang -dumpversion | cut -d. -f1)-dev" fuzzer_runtime
	install_missing
fi
