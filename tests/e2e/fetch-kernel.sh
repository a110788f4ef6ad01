#!/bin/bash
# Fetch Debian's linux-image-cloud-amd64 kernel with `apt-get download` and
# unpack it with `dpkg-deb -x` into DIR (never installed). The metapackage is
# followed to the real linux-image-<abi>-cloud-amd64 package. Cached: a second
# run with DIR/.done present does nothing.
# E2E_KERNEL_META names another metapackage, with :ARCH for a foreign
# architecture (multiarch), e.g. linux-image-cloud-arm64:arm64.
# Usage: fetch-kernel.sh DIR
set -euo pipefail
dir=${1:?usage: fetch-kernel.sh DIR}
[ -f "$dir/.done" ] && exit 0
meta=${E2E_KERNEL_META:-linux-image-cloud-amd64}

resolve() {
	apt-cache depends "$meta" 2>/dev/null |
		awk '/Depends: linux-image-[0-9]/ { print $2; exit }'
}
real=$(resolve || true)
if [ -z "$real" ]; then
	# A fresh machine may have no package lists yet.
	if [ "$(id -u)" = 0 ]; then apt-get update -qq; real=$(resolve || true); fi
fi
[ -n "$real" ] || { echo "fetch-kernel: cannot resolve $meta (run apt-get update)" >&2; exit 1; }

rm -rf "$dir" && mkdir -p "$dir/deb"
# As root apt warns that it cannot drop to _apt in this directory; harmless.
if ! (cd "$dir/deb" && apt-get download -q "$real" >download.log 2>&1); then
	cat "$dir/deb/download.log" >&2
fi
deb=$(find "$dir/deb" -name "${real%%:*}_*.deb" | head -n1)
[ -n "$deb" ] || { echo "fetch-kernel: apt-get download $real failed" >&2; exit 1; }
dpkg-deb -x "$deb" "$dir/root"
vmlinuz=$(find "$dir/root/boot" -name 'vmlinuz-*' | head -n1)
kver=${vmlinuz##*/vmlinuz-}
ln -sf "root/boot/vmlinuz-$kver" "$dir/vmlinuz"
echo "$kver" >"$dir/kver"
echo "$real $(dpkg-deb -f "$deb" Version)" >"$dir/package"
rm -f "$deb" "$dir/deb/download.log"
touch "$dir/.done"
echo "fetch-kernel: $(cat "$dir/package") unpacked in $dir (kernel $kver)"
