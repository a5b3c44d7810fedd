#!/bin/sh
# tests/arch/run.sh ARCH: make check-arch.  The library and the test
# programs, cross-built for ARCH with Debian's cross toolchain, run on
# Debian's own kernel for ARCH, booted in qemu-system under TCG (no KVM):
# the guest's kernel, not qemu-user's translation of netlink, is the judge.
#
#   build/arch/ARCH/tree/     a copy of the tree, built by ARCH's compiler
#   build/arch/ARCH/root/     a bookworm root for ARCH (debootstrap --foreign,
#                             its packages unpacked; cached)
#   build/arch/ARCH/kernel/   vmlinuz and the modules of Debian's linux-image
#                             for ARCH (cached)
#   build/arch/ARCH/initrd    root + tree + /dadshim-init, as the guest's
#                             initramfs: the guest needs no disk and no network
#
# The guest runs the suites named in SUITES (default: unit netns badinput) with
# tests/run-all.sh, as on the host, prints its uname -m first, and powers
# off; this script passes its TAP through and closes with "N passed, N
# failed".  Needs root (debootstrap) and Debian's packages (scripts/deps.sh).
set -eu
cd "$(dirname "$0")/../.."
# shellcheck source=tests/lib/mirror.sh
. tests/lib/mirror.sh
# Output as tests/run-all.sh's: the guest's suites in TAP, "# " notes, and
# the closing "N passed, N failed"; a step on the host that fails is one
# "not ok - STEP: why" and ends the run.
note() { echo "# $*"; }
refuse() { # STEP WHY
	echo "not ok - $1: $2"
	echo "0 passed, 1 failed"
	exit 1
}

ARCH=${1:-armhf}
SUITES=${SUITES:-unit netns badinput}
SUITE=bookworm
# Seconds the guest may take, whatever happens (a bound, never asserted).
LIFE=${DADSHIM_ARCH_LIFE:-1800}
case $ARCH in
armhf) QEMU=qemu-system-arm MACHINE='-M virt -cpu cortex-a15' FLAVOUR=armmp CONSOLE=ttyAMA0 ;;
arm64) QEMU=qemu-system-aarch64 MACHINE='-M virt -cpu cortex-a57' FLAVOUR=arm64 CONSOLE=ttyAMA0 ;;
i386) QEMU=qemu-system-i386 MACHINE='-M pc -cpu pentium3' FLAVOUR=686 CONSOLE=ttyS0 ;;
*) refuse check-arch "architecture '$ARCH' is not one of armhf, arm64, i386" ;;
esac
[ "$(id -u)" = 0 ] || { refuse check-arch "needs root: debootstrap of the guest's root"; }
sh scripts/deps.sh --arch "$ARCH" --vm
TRIPLET=$(dpkg-architecture -a "$ARCH" -qDEB_HOST_GNU_TYPE 2>/dev/null)
W=$PWD/build/arch/$ARCH
mkdir -p "$W"
T0=$(date +%s)

# ---- the tree, cross-built: the library and the suites' programs
rm -rf "$W/tree"
mkdir -p "$W/tree"
git ls-files | tar -c --no-recursion --verbatim-files-from -T - -f - | tar -x -C "$W/tree"
if ! make -s -C "$W/tree" CC="$TRIPLET-gcc" PKGCONFIG="$TRIPLET-pkg-config" arch-programs \
	>"$W/build.log" 2>&1; then
	refuse "arch-build" "make arch-programs with $TRIPLET-gcc: $(tail -n 3 "$W/build.log" | tr '\n' ' ')"
fi
machine=$(readelf -h "$W/tree/shim/libdadshim.so" | sed -n 's/^ *Machine: *//p')
note "arch-build ($TRIPLET-gcc: shim/libdadshim.so for $machine, and the programs of: $SUITES)"

# ---- the root: bookworm for ARCH, unpacked (cached)
INCLUDE=iproute2,strace,iputils-ping,procps,kmod,psmisc,libmnl0,mawk,python3-minimal
ROOT_KEY="$INCLUDE|v1" # a change here builds the root anew
if [ "$(cat "$W/root/.dadshim-key" 2>/dev/null)" != "$ROOT_KEY" ]; then
	rm -rf "$W/root" "$W/root.tmp"
	if ! debootstrap --foreign --arch="$ARCH" --variant=minbase \
		--include="$INCLUDE" \
		"$SUITE" "$W/root.tmp" "$(debian_mirror "$SUITE")" >"$W/debootstrap.log" 2>&1; then
		refuse "arch-root" "debootstrap --foreign --arch=$ARCH: $(tail -n 3 "$W/debootstrap.log" | tr '\n' ' ')"
	fi
	# The second stage would need the guest's CPU: unpacking every package
	# is all these tests need (no service runs in the guest).
	for d in "$W/root.tmp"/var/cache/apt/archives/*.deb; do dpkg-deb -x "$d" "$W/root.tmp"; done
	rm -rf "$W/root.tmp/var/cache/apt/archives/"*.deb "$W/root.tmp/debootstrap" \
		"$W/root.tmp/usr/share/doc" "$W/root.tmp/usr/share/man" "$W/root.tmp/usr/share/locale"
	# What maintainer scripts would have made: awk, python3, the users and groups.
	ln -sf mawk "$W/root.tmp/usr/bin/awk"
	[ -e "$W/root.tmp/usr/bin/python3" ] || ln -sf "$(cd "$W/root.tmp/usr/bin" && ls python3.* | head -n 1)" "$W/root.tmp/usr/bin/python3"
	cp "$W/root.tmp/usr/share/base-passwd/passwd.master" "$W/root.tmp/etc/passwd"
	cp "$W/root.tmp/usr/share/base-passwd/group.master" "$W/root.tmp/etc/group"
	echo "$ROOT_KEY" >"$W/root.tmp/.dadshim-key"
	mv "$W/root.tmp" "$W/root"
fi

# ---- the kernel: Debian's linux-image for ARCH (cached)
if [ ! -f "$W/kernel/.dadshim-complete" ]; then
	rm -rf "$W/kernel"
	mkdir -p "$W/kernel/deb"
	pkg=$(apt-cache depends "linux-image-$FLAVOUR:$ARCH" 2>/dev/null | sed -n 's/^ *Depends: *\(linux-image-[^:]*\).*/\1/p' | head -n 1)
	if [ -z "$pkg" ] || ! (cd "$W/kernel/deb" && apt-get download "$pkg:$ARCH" >/dev/null 2>&1); then
		refuse "arch-kernel" "cannot download Debian's linux-image-$FLAVOUR for $ARCH ('$pkg')"
	fi
	dpkg-deb -x "$W"/kernel/deb/*.deb "$W/kernel/x"
	cp "$W"/kernel/x/boot/vmlinuz-* "$W/kernel/vmlinuz"
	basename "$W"/kernel/deb/*.deb >"$W/kernel/package"
	# The modules the suites load; the rest stays out of the initramfs.
	# netlink_diag: strace names a netlink socket's protocol, and so decodes
	# its messages, only by asking sock_diag.  xfrm_user: NETLINK_XFRM.
	(cd "$W/kernel/x" && find lib/modules \( -name 'modules.builtin*' -o -name modules.order \
		-o -name veth.ko -o -name dummy.ko -o -name netlink_diag.ko -o -name unix_diag.ko \
		-o -name inet_diag.ko -o -name udp_diag.ko -o -name xfrm_user.ko -o -name xfrm_algo.ko \)) \
		>"$W/kernel/modules"
	tar -c -C "$W/kernel/x" -T "$W/kernel/modules" -f "$W/kernel/modules.tar"
	rm -rf "$W/kernel/x" "$W/kernel/deb"
	touch "$W/kernel/.dadshim-complete"
fi

# ---- the initramfs: root, tree, modules and the init that runs the suites
rm -rf "$W/initrd.d"
cp -a "$W/root" "$W/initrd.d"
tar -x -C "$W/initrd.d" -f "$W/kernel/modules.tar"
mkdir -p "$W/initrd.d/dadshim"
(cd "$W/tree" && tar -c --exclude=./build/arch . ) | tar -x -C "$W/initrd.d/dadshim"
cat >"$W/initrd.d/dadshim-init" <<EOF
#!/bin/sh
export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /run /tmp && mount -t tmpfs tmpfs /run && mount -t tmpfs tmpfs /tmp
ip link set lo up
depmod -a
for m in veth dummy netlink_diag unix_diag inet_diag udp_diag xfrm_user; do modprobe \$m || echo "# guest: no module \$m"; done
echo "# guest: uname -m \$(uname -m), kernel \$(uname -r), \$(nproc) CPUs"
cd /dadshim && sh tests/run-all.sh $SUITES
echo "dadshim-arch: exit \$?"
echo o >/proc/sysrq-trigger
sleep 60
EOF
chmod 0755 "$W/initrd.d/dadshim-init"
(cd "$W/initrd.d" && find . | cpio -o -H newc --quiet | gzip -1) >"$W/initrd"
rm -rf "$W/initrd.d"
note "arch: $(cat "$W/kernel/package"), initramfs $(($(stat -c %s "$W/initrd") / 1048576)) MB; prepared in $(($(date +%s) - T0)) s"

# ---- boot
t=$(date +%s)
# shellcheck disable=SC2086 # MACHINE is words
timeout -k 10 "$LIFE" "$QEMU" $MACHINE -smp 2 -m 2048 -nographic -no-reboot -nic none \
	-kernel "$W/kernel/vmlinuz" -initrd "$W/initrd" \
	-append "console=$CONSOLE rdinit=/dadshim-init panic=-1 quiet" >"$W/console.log" 2>&1 || true
# Without carriage returns and the firmware's terminal escapes (SeaBIOS).
perl -pe 's/\r//g; s/\e\[[0-9;?]*[A-Za-z]//g; s/\ec//g' "$W/console.log" >"$W/console.txt"
# The guest's TAP, as tests/run-all.sh printed it.
guest=$(grep -m 1 '^# guest: ' "$W/console.txt" || true)
sed -n '/^# guest: /,/^dadshim-arch: exit/p' "$W/console.txt" | grep -v '^dadshim-arch: exit' |
	grep -v '^[0-9]* passed, [0-9]* failed$' || true
result=$(grep -m 1 '^[0-9]* passed, [0-9]* failed$' "$W/console.txt" || true)
note "arch: guest ran $(($(date +%s) - t)) s; console in $W/console.txt"
if [ -z "$guest" ] || [ -z "$result" ]; then
	refuse "arch-guest" "the guest printed no result: $(tail -n 5 "$W/console.txt" | tr '\n' ' ')"
fi
echo "$guest (ARCH=$ARCH)"
echo "$result"
case $result in "0 failed" | *" 0 failed") exit 0 ;; *) exit 1 ;; esac
