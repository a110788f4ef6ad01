#!/bin/bash
# Build the e2e initramfs (newc cpio, gzip): busybox-static as the only
# binary, guest-init.sh as /init, and the virtio modules from the unpacked
# kernel flattened into /lib/modules (decompressed on the host if the package
# ships them compressed, since busybox insmod takes plain .ko files).
# Usage: mkinitramfs.sh KERNEL_DIR OUT.cpio.gz
# Environment (the multi-process tests, tests/remote/): E2E_MODULES, the
# modules in load order (default: the virtio list below); E2E_INIT, the /init
# script (default: guest-init.sh beside this file).
set -euo pipefail
kdir=${1:?usage: mkinitramfs.sh KERNEL_DIR OUT}
out=${2:?usage: mkinitramfs.sh KERNEL_DIR OUT}
here=$(cd "$(dirname "$0")" && pwd)
kver=$(cat "$kdir/kver")
mods="$kdir/root/lib/modules/$kver"
# E2E_BUSYBOX: a static busybox for the guest's CPU (default: the host's busybox-static).
bb=${E2E_BUSYBOX:-/bin/busybox}

[ -x "$bb" ] || { echo "mkinitramfs: $bb missing (busybox-static)" >&2; exit 1; }

stage=$(mktemp -d "${out%/*}/initramfs.XXXXXX")
trap 'rm -rf "$stage"' EXIT
chmod 755 "$stage" # the guest's / (mktemp makes it 0700)
mkdir -p "$stage"/{bin,dev,proc,sys,tmp,lib/modules}
cp "$bb" "$stage/bin/busybox"
cp "${E2E_INIT:-$here/guest-init.sh}" "$stage/init"
chmod 755 "$stage/init" "$stage/bin/busybox"
for m in ${E2E_MODULES:-virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev \
	virtio_pci virtio_mmio virtio-rng virtio_blk}; do
	f=$(find "$mods/kernel" -name "$m.ko*" | head -n1)
	[ -n "$f" ] || { echo "mkinitramfs: module $m missing from $mods" >&2; exit 1; }
	case "$f" in
	*.ko) cp "$f" "$stage/lib/modules/$m.ko" ;;
	*.ko.xz) xz -dc "$f" >"$stage/lib/modules/$m.ko" ;;
	*.ko.zst) zstd -qdc "$f" >"$stage/lib/modules/$m.ko" ;;
	*.ko.gz) gzip -dc "$f" >"$stage/lib/modules/$m.ko" ;;
	*) echo "mkinitramfs: unknown module format $f" >&2; exit 1 ;;
	esac
done
# rng-core must be built in: there is no module for it in the list above.
grep -q '^CONFIG_HW_RANDOM=y' "$kdir/root/boot/config-$kver" ||
	{ echo "mkinitramfs: kernel $kver lacks built-in CONFIG_HW_RANDOM" >&2; exit 1; }
mknod -m 600 "$stage/dev/console" c 5 1 2>/dev/null || true
(cd "$stage" && find . -print0 | sort -z | cpio --null -o -H newc --quiet -R 0:0) | gzip -9n >"$out.tmp"
mv "$out.tmp" "$out"
echo "mkinitramfs: $out ($(stat -c %s "$out") bytes, kernel $kver modules)"
