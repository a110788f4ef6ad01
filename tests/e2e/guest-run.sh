#!/bin/busybox sh
# /init of the aarch64 "run a test program in the guest" initramfs (an overlay
# on the e2e initramfs, see mkoverlay.sh): runs e2e.run=PROGRAM (with
# e2e.env=NAME=VALUE,... in its environment) on the guest's own kernel, then
# prints its output line by line as "E2E:OUT <line>", then "E2E:END rc=<status>"
# and resets the machine (QEMU runs with -no-reboot).
/bin/busybox mkdir -p /proc /sys /dev /tmp /bin /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs -o size=96m tmpfs /tmp

prog=; env=
read -r cmdline </proc/cmdline
for arg in $cmdline; do
	case "$arg" in
	e2e.run=*) prog=${arg#e2e.run=} ;;
	e2e.env=*) env=${arg#e2e.env=} ;;
	esac
done
echo "E2E:BOOT kernel=$(uname -r) machine=$(uname -m) run=$prog"
rc=127
if [ -x "$prog" ]; then
	# e2e.env is a comma-separated list of assignments (no spaces in them).
	env $(echo "$env" | tr ',' ' ') "$prog" >/tmp/run.out 2>&1
	rc=$?
fi
while IFS= read -r line; do echo "E2E:OUT $line"; done </tmp/run.out
echo "E2E:END rc=$rc"
sync
reboot -f
sleep 5
