#!/bin/busybox sh
# /init of the multi-process e2e initramfs (tests/remote/e2e_remote.py). The
# same script runs against our daemon behind -device x-pci-proxy-dev and
# against QEMU's built-in -device i6300esb; only the kernel command line
# differs between the cases:
#   rt.mode=probe|ping|silent|magic|kill|virtio|virtio-read
#   rt.hb=N      i6300esb heartbeat (module parameter), seconds
#   rt.secs=N    how long ping/magic/kill keep going, seconds
#   rt.bytes=N   virtio-read: bytes to read from /dev/hwrng
# Every line the host parses starts with "RT:". The script ends with
# `reboot -f`; QEMU runs with -no-reboot, so that ends QEMU.
/bin/busybox mkdir -p /proc /sys /dev /tmp /bin /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

say() { echo "RT:$*"; }
finish() { say "END rc=$1"; sync; reboot -f; sleep 5; }

mode=probe; hb=5; secs=17; bytes=4096
read -r cmdline </proc/cmdline
for arg in $cmdline; do
	case "$arg" in
	rt.mode=*) mode=${arg#rt.mode=} ;;
	rt.hb=*) hb=${arg#rt.hb=} ;;
	rt.secs=*) secs=${arg#rt.secs=} ;;
	rt.bytes=*) bytes=${arg#rt.bytes=} ;;
	esac
done
say "BOOT mode=$mode hb=$hb secs=$secs kernel=$(uname -r)"

load() {
	for m in "$@"; do
		insmod /lib/modules/$m.ko $MODARGS 2>/tmp/insmod.err || say "INSMOD_FAIL $m $(cat /tmp/insmod.err)"
		MODARGS=
	done
}

# The PCI function of vendor:device $1:$2 under /sys/bus/pci/devices.
pcidev() {
	for d in /sys/bus/pci/devices/*; do
		if [ "$(cat "$d/vendor")" = "$1" ] && [ "$(cat "$d/device")" = "$2" ]; then echo "$d"; return; fi
	done
}

watchdog_probe() {
	load watchdog
	MODARGS="heartbeat=$hb nowayout=0" load i6300esb
	line=$(dmesg | grep 'i6300ESB timer' | grep initialized | tail -n1)
	say "PROBE ${line#*] }"
	w=/sys/class/watchdog/watchdog0
	say "SYSFS identity=$(tr ' ' _ <$w/identity 2>/dev/null) timeout=$(cat $w/timeout 2>/dev/null) dev=$(pcidev 0x8086 0x25ab)"
	[ -c /dev/watchdog ] || { say "NO_WATCHDOG"; finish 1; }
}

ping() { echo -n p >&3; }

case "$mode" in
probe)
	watchdog_probe
	finish 0
	;;
ping)
	watchdog_probe
	exec 3>/dev/watchdog
	i=0
	while [ $i -lt "$secs" ]; do ping; i=$((i+1)); say "PING $i"; sleep 1; done
	say "SURVIVED pings=$i"
	echo -n V >&3; exec 3>&-
	finish 0
	;;
silent)
	watchdog_probe
	exec 3>/dev/watchdog
	ping
	say "LASTPING"
	sleep 600
	say "ALIVE_AFTER_600"
	finish 1
	;;
magic)
	watchdog_probe
	exec 3>/dev/watchdog
	ping
	echo -n V >&3; exec 3>&-
	say "STOPPED"
	sleep "$secs"
	say "SURVIVED"
	finish 0
	;;
kill)
	watchdog_probe
	d=$(pcidev 0x8086 0x25ab)
	exec 3>/dev/watchdog
	i=0
	while [ $i -lt "$secs" ]; do ping; i=$((i+1)); say "PING $i"; sleep 1; done
	# What the guest sees of the device now: its configuration space and
	# the reload register's TIMEOUT bit through the driver's own view.
	say "AFTER vendor=$(od -An -tx2 -N2 "$d/config" 2>/dev/null | tr -d ' ') status=$(od -An -tx2 -j6 -N2 "$d/config" 2>/dev/null | tr -d ' ')"
	echo -n V >&3; exec 3>&-
	say "SURVIVED pings=$i"
	finish 0
	;;
virtio|virtio-read)
	load virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio-rng
	d=$(pcidev 0x1af4 0x1044)
	say "PCI dev=$d class=$(cat "$d/class" 2>/dev/null) irq=$(cat "$d/irq" 2>/dev/null) driver=$(basename "$(readlink "$d/driver")" 2>/dev/null)"
	v=$(ls -d "$d"/virtio* 2>/dev/null | head -n1)
	i=0
	while [ ! -e /sys/class/misc/hw_random/rng_current ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
	say "VIRTIO dev=${v##*/} status=$(cat "$v/status" 2>/dev/null) features=$(cat "$v/features" 2>/dev/null) device=$(cat "$v/device" 2>/dev/null) vendor=$(cat "$v/vendor" 2>/dev/null)"
	say "RNG available=$(cat /sys/class/misc/hw_random/rng_available 2>/dev/null) current=$(cat /sys/class/misc/hw_random/rng_current 2>/dev/null)"
	say "INTERRUPTS $(grep -i virtio /proc/interrupts | tr -s ' ' | tr '\n' ';')"
	if [ "$mode" = virtio-read ]; then
		got=$(head -c "$bytes" /dev/hwrng | wc -c)
		say "READ_DONE bytes=$got"
		[ "$got" -ge "$bytes" ] || finish 1
	fi
	finish 0
	;;
*)
	say "UNKNOWN_MODE $mode"
	finish 1
	;;
esac
