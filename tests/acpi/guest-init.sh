#!/bin/busybox sh
# /init of the ACPI check's initramfs (tests/acpi/check_acpi.py). Runs inside
# the Linux guest: loads the virtio modules, then reports what the kernel made
# of the firmware's ACPI tables: every table (hex), the LNRO0005 devices under
# /sys/bus/acpi/devices with their status and the platform device and driver
# bound to them, /proc/iomem, and the virtio-mmio driver's messages. Every line
# the host parses starts with "ACPI:". Then it resets the machine (QEMU runs
# with -no-reboot).
/bin/busybox mkdir -p /proc /sys /dev /tmp
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
say() { echo "ACPI:$*"; }
for m in virtio_ring virtio virtio_mmio virtio-rng; do
	insmod /lib/modules/$m.ko 2>/dev/null || say "INSMOD_FAIL $m"
done
sleep 0.5
for t in /sys/firmware/acpi/tables/DSDT /sys/firmware/acpi/tables/SSDT*; do
	[ -f "$t" ] && say "TABLE ${t##*/} $(od -An -v -tx1 "$t" | tr -d ' \n')"
done
for d in /sys/bus/acpi/devices/LNRO0005:*; do
	[ -d "$d" ] || continue
	n=${d##*/}
	say "DEV $n path=$(cat "$d/path" 2>/dev/null) uid=$(cat "$d/uid" 2>/dev/null) status=$(cat "$d/status" 2>/dev/null)"
	p=$(readlink -f "$d/physical_node" 2>/dev/null)
	drv=none
	[ -L "$p/driver" ] && drv=$(basename "$(readlink -f "$p/driver")")
	[ -n "$p" ] && say "PHYS $n ${p#/sys/devices/} driver=$drv"
	for v in "$p"/virtio*; do
		[ -d "$v" ] && say "VIRTIO $n ${v##*/} device=$(cat "$v/device") vendor=$(cat "$v/vendor")"
	done
done
grep -i "virtio\|LNRO" /proc/iomem | while read -r l; do say "IOMEM $l"; done
dmesg | grep -i "virtio.mmio\|virtio_mmio\|LNRO" | while read -r l; do say "DMESG $l"; done
say "END"
sync
reboot -f
sleep 5
