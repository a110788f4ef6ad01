#!/bin/bash
# An initramfs overlay (newc cpio, gzip) to append to the e2e initramfs: the
# kernel unpacks archives in order, so its /init (guest-run.sh) replaces
# guest-init.sh. It holds the PROGRAMs under /run/bin, every shared library
# they need (found with TRIPLE-readelf in the multiarch and cross library
# directories, followed transitively), the program interpreter, and an
# /etc/passwd and /etc/group with root and nobody/nogroup.
# Usage: mkoverlay.sh TRIPLE OUT.cpio.gz PROGRAM...
set -euo pipefail
triple=${1:?usage: mkoverlay.sh TRIPLE OUT PROGRAM...}
out=${2:?usage: mkoverlay.sh TRIPLE OUT PROGRAM...}
shift 2
here=$(cd "$(dirname "$0")" && pwd)
readelf=$triple-readelf
libdirs="/usr/lib/$triple /lib/$triple /usr/$triple/lib"

stage=$(mktemp -d "${out%/*}/overlay.XXXXXX")
trap 'rm -rf "$stage"' EXIT
# The archive's "." is the guest's /: mktemp's 0700 would lock every other
# user out of the whole tree.
chmod 755 "$stage"
mkdir -p "$stage"/{run/bin,etc,lib,tmp}
cp "$here/guest-run.sh" "$stage/init"
chmod 755 "$stage/init"
printf 'root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$stage/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$stage/etc/group"

find_lib() {
	for d in $libdirs; do
		[ -e "$d/$1" ] && { readlink -f "$d/$1"; return 0; }
	done
	return 1
}
todo=()
for p in "$@"; do
	cp "$p" "$stage/run/bin/"
	# Scripts need nothing beyond busybox; ELF programs their libraries.
	[ "$(head -c4 "$p" | od -An -tx1 | tr -d ' ')" = 7f454c46 ] && todo+=("$p")
done
seen=" "
while [ ${#todo[@]} -gt 0 ]; do
	f=${todo[0]}
	todo=("${todo[@]:1}")
	interp=$("$readelf" -lW "$f" | sed -n 's/.*Requesting program interpreter: \(.*\)\]/\1/p')
	if [ -n "$interp" ] && [ ! -e "$stage$interp" ]; then
		src=$(find_lib "${interp##*/}") || { echo "mkoverlay: interpreter $interp not found" >&2; exit 1; }
		mkdir -p "$stage${interp%/*}" && cp "$src" "$stage$interp"
	fi
	for n in $("$readelf" -dW "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
		case "$seen" in *" $n "*) continue ;; esac
		seen="$seen$n "
		src=$(find_lib "$n") || { echo "mkoverlay: $n (needed by $f) not found in $libdirs" >&2; exit 1; }
		mkdir -p "$stage/lib/$triple"
		cp "$src" "$stage/lib/$triple/$n"
		todo+=("$src")
	done
done
(cd "$stage" && find . -print0 | sort -z | cpio --null -o -H newc --quiet -R 0:0) | gzip -9n >"$out.tmp"
mv "$out.tmp" "$out"
echo "mkoverlay: $out ($(stat -c %s "$out") bytes: $* and$seen)"
