#!/bin/sh
# find-ovmf.sh - locates OVMF's CODE and VARS images on Debian, Ubuntu, Fedora and Arch
# layouts and prints them as two shell assignments (OVMF_CODE=... and OVMF_VARS=...).
# Set OVMF_CODE and/or OVMF_VARS in the environment to override the search.
#   --copy-vars DIR  also copies VARS to a fresh file in DIR (each run gets its own
#                    writable variable store) and prints OVMF_VARS_COPY=...
set -eu

# Pairs of CODE and VARS that belong together (a VARS image must match its CODE's size).
# Secure Boot variants are left out on purpose: they refuse an unsigned image.
pairs="
/usr/share/OVMF/OVMF_CODE_4M.fd /usr/share/OVMF/OVMF_VARS_4M.fd
/usr/share/OVMF/OVMF_CODE.fd /usr/share/OVMF/OVMF_VARS.fd
/usr/share/ovmf/OVMF_CODE.fd /usr/share/ovmf/OVMF_VARS.fd
/usr/share/edk2/ovmf/OVMF_CODE.fd /usr/share/edk2/ovmf/OVMF_VARS.fd
/usr/share/edk2/x64/OVMF_CODE.4m.fd /usr/share/edk2/x64/OVMF_VARS.4m.fd
/usr/share/edk2/x64/OVMF_CODE.fd /usr/share/edk2/x64/OVMF_VARS.fd
/usr/share/edk2-ovmf/x64/OVMF_CODE.fd /usr/share/edk2-ovmf/x64/OVMF_VARS.fd
/usr/share/ovmf/x64/OVMF_CODE.fd /usr/share/ovmf/x64/OVMF_VARS.fd
/usr/share/qemu/edk2-x86_64-code.fd /usr/share/qemu/edk2-i386-vars.fd
"

copy_dir=
if [ "${1:-}" = "--copy-vars" ]; then
	copy_dir=${2:?"--copy-vars needs a directory"}
elif [ $# -gt 0 ]; then
	echo "usage: $0 [--copy-vars DIR]" >&2
	exit 2
fi

code=${OVMF_CODE:-}
vars=${OVMF_VARS:-}
if [ -z "$code" ] || [ -z "$vars" ]; then
	found=
	# shellcheck disable=SC2086
	set -- $pairs
	while [ $# -ge 2 ]; do
		if [ -r "$1" ] && [ -r "$2" ]; then
			code=${code:-$1}
			vars=${vars:-$2}
			found=1
			break
		fi
		shift 2
	done
	if [ -z "$found" ]; then
		echo "find-ovmf: no OVMF firmware found (looked in /usr/share/OVMF, /usr/share/edk2," >&2
		echo "  /usr/share/edk2-ovmf, /usr/share/ovmf, /usr/share/qemu); install the 'ovmf'" >&2
		echo "  package (Fedora: edk2-ovmf, Arch: edk2-ovmf) or set OVMF_CODE= and OVMF_VARS=" >&2
		exit 1
	fi
fi
for f in "$code" "$vars"; do
	if [ ! -r "$f" ]; then
		echo "find-ovmf: cannot read $f" >&2
		exit 1
	fi
done
echo "OVMF_CODE=$code"
echo "OVMF_VARS=$vars"
if [ -n "$copy_dir" ]; then
	mkdir -p "$copy_dir"
	copy=$(mktemp "$copy_dir/vars.XXXXXX.fd")
	cp "$vars" "$copy"
	chmod u+w "$copy"
	echo "OVMF_VARS_COPY=$copy"
fi
