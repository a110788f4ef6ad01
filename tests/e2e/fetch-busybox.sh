#!/bin/bash
# Fetch Debian's busybox-static for ARCH (a foreign architecture: multiarch
# must know it) with `apt-get download` and unpack it with `dpkg-deb -x` into
# DIR (never installed: it would replace the host's /bin/busybox). The binary
# is DIR/root/bin/busybox. Cached: a second run with DIR/.done present does
# nothing.
# Usage: fetch-busybox.sh ARCH DIR
set -euo pipefail
arch=${1:?usage: fetch-busybox.sh ARCH DIR}
dir=${2:?usage: fetch-busybox.sh ARCH DIR}
[ -f "$dir/.done" ] && exit 0
pkg=busybox-static:$arch
if ! apt-cache show "$pkg" >/dev/null 2>&1; then
	# A fresh machine may have no package lists for $arch yet.
	if [ "$(id -u)" = 0 ]; then apt-get update -qq; fi
fi
rm -rf "$dir" && mkdir -p "$dir/deb"
# As root apt warns that it cannot drop to _apt in this directory; harmless.
if ! (cd "$dir/deb" && apt-get download -q "$pkg" >download.log 2>&1); then
	cat "$dir/deb/download.log" >&2
fi
deb=$(find "$dir/deb" -name "busybox-static_*_$arch.deb" | head -n1)
[ -n "$deb" ] || { echo "fetch-busybox: apt-get download $pkg failed" >&2; exit 1; }
dpkg-deb -x "$deb" "$dir/root"
[ -x "$dir/root/bin/busybox" ] || { echo "fetch-busybox: no bin/busybox in $deb" >&2; exit 1; }
echo "$pkg $(dpkg-deb -f "$deb" Version)" >"$dir/package"
rm -f "$deb" "$dir/deb/download.log"
touch "$dir/.done"
echo "fetch-busybox: $(cat "$dir/package") unpacked in $dir"
