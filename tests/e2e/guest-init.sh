#!/bin/busybox sh
# /init of the e2e initramfs. Runs inside the Linux guest: loads the virtio
# modules, reports what the kernel's hw_random core sees (and the transport
# and device-tree node of the device), reads e2e.bytes from
# /dev/hwrng in e2e.chunk pieces (timed with /proc/uptime), copies the bytes to
# the first virtio-blk disk if there is one, and resets the machine (QEMU runs
# with -no-reboot, so a reset ends it). Every line the host parses starts with
# "E2E:".
/bin/busybox mkdir -p /proc /sys /dev /tmp /bin /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs -o size=96m tmpfs /tmp

say() { echo "E2E:$*"; }
finish() { say "END rc=$1"; sync; reboot -f; sleep 5; }

bytes=1048576; chunk=65536; label=none; wait=0
read -r cmdline </proc/cmdline
for arg in $cmdline; do
	case "$arg" in
	e2e.bytes=*) bytes=${arg#e2e.bytes=} ;;
	e2e.chunk=*) chunk=${arg#e2e.chunk=} ;;
	e2e.label=*) label=${arg#e2e.label=} ;;
	e2e.wait=*) wait=${arg#e2e.wait=} ;;
	esac
done
say "BOOT label=$label bytes=$bytes chunk=$chunk kernel=$(uname -r)"

for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev \
	virtio_pci virtio_mmio virtio-rng virtio_blk; do
	insmod /lib/modules/$m.ko 2>/tmp/insmod.err || say "INSMOD_FAIL $m $(cat /tmp/insmod.err)"
done

# The hw_random core binds the device asynchronously after probe.
i=0
while [ ! -e /sys/class/misc/hw_random/rng_current ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
say "RNG_AVAILABLE=$(cat /sys/class/misc/hw_random/rng_available 2>/dev/null)"
say "RNG_CURRENT=$(cat /sys/class/misc/hw_random/rng_current 2>/dev/null)"
# The transport the virtio-rng device sits on and, on a device-tree platform,
# the node the kernel probed that transport from, property by property.
dev=$(readlink -f /sys/bus/virtio/drivers/virtio_rng/virtio* 2>/dev/null | head -n1)
say "RNG_DEV=${dev#/sys/devices/}"
if [ -n "$dev" ] && [ -d "$dev/../of_node" ]; then
	node=$(readlink -f "$dev/../of_node")
	say "OF_NODE=${node#/sys/firmware/devicetree/base}"
	for p in "$node"/*; do
		[ -f "$p" ] && say "OF_PROP name=${p##*/} hex=$(od -An -v -tx1 "$p" | tr -d ' \n')"
	done
fi
[ -c /dev/hwrng ] || { say "NO_HWRNG"; finish 1; }

# Uptime in centiseconds (busybox date has no %N; 10 ms resolution suffices
# for reads that last seconds).
cs() { read -r up _ </proc/uptime; echo $(( ${up%.*} * 100 + 1${up#*.} - 100 )); }

# e2e.wait=1: hold the read until the host sends a line on the console, so
# that several guests can be started reading at the same moment.
if [ "$wait" = 1 ]; then
	say "READY"
	read -r _go </dev/console
fi

out=/tmp/rng.bin
: >"$out"
got=0
say "READ_START"
t0=$(cs)
while [ "$got" -lt "$bytes" ]; do
	n=$((bytes - got)); [ "$n" -gt "$chunk" ] && n=$chunk
	head -c "$n" /dev/hwrng >>"$out" || { say "READ_ERROR at=$got"; break; }
	got=$(stat -c %s "$out")
	say "PROGRESS bytes=$got cs=$(( $(cs) - t0 ))"
done
t1=$(cs)
say "READ_DONE bytes=$got cs=$((t1 - t0))"

if [ -b /dev/vda ]; then
	if dd if="$out" of=/dev/vda bs=65536 conv=fsync 2>/dev/null; then
		say "DISK_WRITTEN bytes=$got"
	else
		say "DISK_ERROR"
	fi
fi
[ "$got" -ge "$bytes" ] && finish 0
finish 1
