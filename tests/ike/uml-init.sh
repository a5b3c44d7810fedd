#!/bin/sh
# PID 1 of a user-mode-linux guest booted by tests/ike/run.sh with the host's
# root as hostfs.  The kernel passes IKE_OUT (a host directory, also visible
# here) in our environment.  Runs one scenario (tests/ike/scenario.sh), writes
# its exit status to $IKE_OUT/scenario.rc and powers the guest off; with
# IKE_PROBE=1 it only writes $IKE_OUT/probe.ok and powers off.
# PID 1 must never exit (the guest kernel would panic), hence no `set -e`.
set -u
PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PATH

poweroff_now() {
	sync
	# sysrq works without any init system; the loop only covers its latency.
	echo o >/proc/sysrq-trigger
	while :; do sleep 1; done
}

mount -t proc proc /proc
mount -t sysfs sys /sys
# devtmpfs is normally mounted by the kernel already (DEVTMPFS_MOUNT).
mountpoint -q /dev || mount -t devtmpfs dev /dev
mkdir -p /dev/pts
mount -t devpts devpts /dev/pts
# Private /run: pid files and control sockets must not touch the host's.
mount -t tmpfs run /run

: "${IKE_OUT:?}"
exec >"$IKE_OUT/init.log" 2>&1

# The probe boot (IKE_PROBE=1 from tests/ike/run.sh): this line, written by
# the guest's first process on the host's disk, is what proves the guest boots.
if [ "${IKE_PROBE:-}" = 1 ]; then
	echo "probe: guest $(uname -r) booted, uptime $(cut -d' ' -f1 /proc/uptime) s" >"$IKE_OUT/probe.ok"
	poweroff_now
fi

# The guest's modules live in /usr/lib/uml/modules, not /lib/modules: the
# kernel's on-demand loads (crypto, xfrm) go through this helper.
mkdir -p /run/uml-mod/lib
ln -s /usr/lib/uml/modules /run/uml-mod/lib/modules
printf '#!/bin/sh\nexec /sbin/modprobe -d /run/uml-mod "$@"\n' >/run/modprobe
chmod 755 /run/modprobe
echo /run/modprobe >/proc/sys/kernel/modprobe
/run/modprobe -a ipv6 veth dummy esp4 esp6 xfrm_user xfrm_algo ||
	echo "uml-init: modprobe failed"

here=$(dirname "$0")
rc=0
sh "$here/scenario.sh" "$IKE_OUT" || rc=$?
echo "$rc" >"$IKE_OUT/scenario.rc"
echo "uml-init: scenario exit $rc, uptime $(cut -d' ' -f1 /proc/uptime) s"
poweroff_now
