#!/bin/sh
# tests/systemd/run.sh: the package under a real systemd (make check-systemd).
#
# PID 1 on this machine is not systemd, so the deploy suite can only check the
# drop-ins with `systemd-analyze verify`.  Here Debian 12 boots with systemd as
# PID 1 in a container (systemd-nspawn, private network, volatile overlay over
# a debootstrap root that is cached between runs), and every case is judged by
# what that system shows: /proc/<charon>/maps and environ, the journal,
# systemctl's view of the unit, dpkg's database and the file system.
#   deb-paths  make deb's package ships the same paths as the previous release's
#   boot       systemd is PID 1, the system is up, charon runs without the shim
#   install    dpkg -i of the tree's .deb, restart: charon maps the shim
#   units      dadshim-enable --units and the doctor against systemctl
#   journal    the shim's lines reach the journal under ident dadshim
#   disable    dadshim-enable --disable (its own daemon-reload), restart
#   enable     dadshim-enable (its own daemon-reload), restart
#   session    "ipsec start" and "ipsec restart" typed in a login session
#              with env -i: charon maps the shim (the starter wrapper); a
#              charon started past the wrapper maps none, and the doctor
#              says how it was started and what to run
#   reinstall  strongSwan's packages reinstalled: the diversion holds, and
#              "ipsec restart" still gives charon the shim
#   purge      dpkg --purge: nothing left (no diversion, strongSwan's starter
#              back byte for byte), and charon runs without the shim
#   repo       make dist's signed repository as the README's quick start uses
#              it: apt-get install, restart, the shim mapped; apt-get purge,
#              restart, nothing left
#   upgrade    the previous release's .deb (built from git), then this one
#   ansible    the playbook inside the container (-c local), restart path
#   teardown   the container powers off and leaves no process behind
# Prints TAP (tests/lib/tap.sh); exits non-zero if anything failed.  Needs root.
# "run.sh --root-only" only builds (or finds) the cached root.
# shellcheck disable=SC2016 # '${Status}' and the like are dpkg-query's and awk's
set -eu

cd "$(dirname "$0")/../.."
VERSION=$(dpkg-parsechangelog -l scripts/deb/changelog -S Version)
# The last release before this one (1.2.0: main's last commit before 1.3.0's
# wait in send): its .deb is built from git history, by its own make deb.
PREV_COMMIT=${DADSHIM_PREV_COMMIT:-7a9c770}
GUARD=60        # seconds: bound for any single step, never an assertion
BOOT_LIMIT=180  # seconds until the container's system must be up
LIFE_LIMIT=1500 # seconds: the container is killed after this, whatever happens
SUITE=bookworm
# What the container needs, installed by debootstrap before it boots (the
# container has no network): systemd, strongSwan's starter and charon,
# dadshim's dependency and the doctor's tools, python3 and Ansible for the
# playbook case.  debootstrap does not resolve virtual packages:
# python3-cffi-backend provides what python3-cryptography (Ansible) needs;
# sudo: the playbook becomes root, as on a real host.
INCLUDE=systemd,systemd-sysv,dbus,iproute2,procps,libmnl0,strongswan-starter,strongswan-charon,libcharon-extra-plugins,python3,python3-apt,ansible-core,python3-cffi-backend,sudo
CACHE=${DADSHIM_SYSTEMD_CACHE:-/var/tmp/dadshim-systemd-root}
UNIT=strongswan-starter.service
UNITS='strongswan.service strongswan-starter.service strongswan-swanctl.service ipsec.service'

# shellcheck source=tests/lib/tap.sh
. tests/lib/tap.sh
# shellcheck source=tests/lib/testkey.sh
. tests/lib/testkey.sh
# shellcheck source=tests/lib/mirror.sh
. tests/lib/mirror.sh
now() { date +%s; }

if [ "$(id -u)" != 0 ]; then
	fail systemd "must run as root: it builds a root file system and boots a container"
	exit 1
fi
missing=''
for t in debootstrap systemd-nspawn systemd-analyze unshare nsenter timeout dpkg-deb dpkg-architecture dpkg-parsechangelog git jq ps gpg apt-ftparchive dpkg-scanpackages; do
	command -v "$t" >/dev/null 2>&1 || missing="$missing $t"
done
if [ -n "$missing" ]; then
	fail systemd "missing:$missing; run sh scripts/deps.sh"
	exit 1
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/dadshim-systemd.XXXXXX")
NSPAWN=''   # host pid of the timeout(1) that runs systemd-nspawn
NSP=''      # host pid of systemd-nspawn itself
CPID=''     # host pid of the container's systemd
BUILDING='' # a root being built (removed if we stop half way)
FORCED=0    # the container had to be killed
OFF_S=''    # seconds the container took to power off
teardown() {
	[ -n "$NSPAWN" ] || return 0
	# SIGTERM to nspawn itself, which asks the container's systemd to power
	# off and reaps it.  Not to timeout(1): its -k would SIGKILL nspawn 10 s
	# later, and a container still shutting down would outlive it, its PID 1
	# left to a host init that may never reap it.
	t_off=$(now)
	kill -TERM "${NSP:-$NSPAWN}" 2>/dev/null || true
	i=0
	while kill -0 "$NSPAWN" 2>/dev/null && [ $i -lt 1200 ]; do sleep 0.1; i=$((i + 1)); done
	if kill -0 "$NSPAWN" 2>/dev/null; then
		echo "# teardown: the container did not power off within 120 s; killing it" >&2
		FORCED=1
		# SIGKILL to the container's PID 1 ends its whole pid namespace.
		[ -z "$CPID" ] || kill -KILL "$CPID" 2>/dev/null || true
		for p in $(descendants "$NSPAWN") "$NSPAWN"; do kill -KILL "$p" 2>/dev/null || true; done
	fi
	wait "$NSPAWN" 2>/dev/null || true
	OFF_S=$(($(now) - t_off))
	NSPAWN='' NSP='' CPID=''
}
cleanup() {
	set +e
	teardown
	[ -z "$BUILDING" ] || rm -rf "$BUILDING"
	rm -rf "$TMP"
	tap_end
}
trap cleanup EXIT
trap 'echo "# interrupted" >&2; exit 1' HUP INT TERM

descendants() { # PID: every descendant's pid (host view)
	ps -e -o pid=,ppid= | awk -v r="$1" '
		{ kid[$2] = kid[$2] " " $1 }
		END { q[1] = r; n = 1; for (i = 1; i <= n; i++) { m = split(kid[q[i]], k, " ")
			for (j = 1; j <= m; j++) { q[++n] = k[j]; print k[j] } } }'
}

# ---------------------------------------------------------------- the root
MIRROR=$(debian_mirror "$SUITE")
KEY=$(printf '%s|%s|%s|minbase|v2\n' "$SUITE" "$INCLUDE" "$MIRROR" | sha256sum | cut -c1-12)
ROOT=$CACHE/$SUITE-$KEY

# build_root: debootstrap into a temporary directory, then rename it, so that
# a half-built root is never taken for a cached one.  Older than 7 days: anew.
build_root() {
	if [ -f "$ROOT/.dadshim-complete" ] && [ -z "$(find "$ROOT/.dadshim-complete" -mtime +7)" ]; then
		note "root: cached $ROOT (built $(cat "$ROOT/.dadshim-complete"))"
		return 0
	fi
	rm -rf "$ROOT"
	mkdir -p "$CACHE"
	BUILDING=$ROOT.tmp.$$
	t0=$(now)
	note "root: debootstrap --variant=minbase $SUITE from $MIRROR into $BUILDING"
	if ! timeout -k 10 1200 debootstrap --variant=minbase --include="$INCLUDE" "$SUITE" "$BUILDING" "$MIRROR" \
		>"$TMP/debootstrap.log" 2>&1; then
		tail -n 5 "$TMP/debootstrap.log" | sed 's/^/  # /'
		return 1
	fi
	# Nothing that needs a network or a console at boot.
	echo dadshim-systemd-test >"$BUILDING/etc/hostname"
	# strongSwan's own packages stay, for the reinstall case (no network in
	# the container); the rest of the download goes.
	mkdir -p "$BUILDING/var/cache/dadshim-test"
	mv "$BUILDING/var/cache/apt/archives/"strongswan-starter_*.deb \
		"$BUILDING/var/cache/apt/archives/"strongswan-charon_*.deb "$BUILDING/var/cache/dadshim-test/" || return 1
	rm -rf "$BUILDING/var/cache/apt/archives/"*.deb
	date -u '+%Y-%m-%d %H:%M UTC' >"$BUILDING/.dadshim-complete"
	mv "$BUILDING" "$ROOT"
	BUILDING=''
	# Roots of other package lists are of no use any more.
	for d in "$CACHE/$SUITE"-*; do
		case $d in "$ROOT"|*.tmp.*) ;; *) rm -rf "$d" ;; esac
	done
	ROOT_BUILD_S="built in $(($(now) - t0)) s"
	note "root: $ROOT_BUILD_S ($(du -sm "$ROOT" | cut -f1) MB)"
}

# ---------------------------------------------------------------- the packages
ARCH=$(dpkg --print-architecture)
MA=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
LIB=/usr/lib/$MA/dadshim/libdadshim.so
SHARE=$TMP/share # bound read-only into the container at /mnt/dadshim
mkdir -p "$SHARE"

build_debs() {
	if ! make -s deb >"$TMP/deb.out" 2>&1 || [ ! -f "build/dadshim_${VERSION}_$ARCH.deb" ]; then
		fail deb-build "make deb: $(tail -n 3 "$TMP/deb.out" | tr '\n' ' ')"
		return 1
	fi
	cp "build/dadshim_${VERSION}_$ARCH.deb" "$SHARE/new.deb"
	# make dist's repository, signed by a key made for this run.
	gh=$TMP/gnupg
	if test_keys "$gh" archive >"$TMP/gpg.out" &&
		GNUPGHOME=$gh DADSHIM_SIGN_KEY=archive@dadshim.invalid sh scripts/dist.sh >"$TMP/dist.out" 2>&1; then
		cp -r build/dist "$SHARE/repo"
	else
		fail dist "make dist: $(tail -n 3 "$TMP/gpg.out" "$TMP/dist.out" | tr '\n' ' ')"
	fi
	# The previous release, built from its own sources by its own Makefile.
	prev=$TMP/prev
	mkdir -p "$prev"
	if ! git cat-file -e "$PREV_COMMIT^{commit}" 2>/dev/null; then
		fail deb-build-previous "commit $PREV_COMMIT (the previous release) is not in this clone's history"
		return 0
	fi
	git archive "$PREV_COMMIT" | tar -x -C "$prev"
	PREV_VERSION=$(dpkg-parsechangelog -l "$prev/scripts/deb/changelog" -S Version)
	if [ "$PREV_VERSION" = "$VERSION" ]; then
		fail deb-build-previous "$PREV_COMMIT has version $VERSION too: add an entry to scripts/deb/changelog"
		return 0
	fi
	if make -s -C "$prev" deb >"$TMP/prevdeb.out" 2>&1 && [ -f "$prev/build/dadshim_${PREV_VERSION}_$ARCH.deb" ]; then
		cp "$prev/build/dadshim_${PREV_VERSION}_$ARCH.deb" "$SHARE/old.deb"
		pass "deb-build (dadshim $VERSION from this tree, $PREV_VERSION from $PREV_COMMIT)"
		# The new package installs the same paths as the previous release,
		# with the same modes and owners (only contents may differ), and
		# those it adds on purpose: 1.3.0's starter wrapper (see preinst).
		added='./usr/lib/ipsec/ ./usr/lib/ipsec/starter'
		for d in old new; do
			dpkg-deb -c "$SHARE/$d.deb" | awk -v added=" $added " '{
				if ("'$d'" == "new" && index(added, " " $6 " ")) next
				print $1, $2, $6, $7, $8 }' | sort -k 3 >"$TMP/paths.$d"
		done
		if cmp -s "$TMP/paths.old" "$TMP/paths.new" &&
			[ "$(dpkg-deb -c "$SHARE/new.deb" | awk '$6 == "./usr/lib/ipsec/starter" { print $1 }')" = -rwxr-xr-x ]; then
			pass "deb-paths (dpkg -c: $VERSION ships the same $(wc -l <"$TMP/paths.new") paths, modes and owners as $PREV_VERSION, and adds $added)"
		else
			fail deb-paths "$(diff "$TMP/paths.old" "$TMP/paths.new" | grep '^[<>]' | head -n 6 | tr '\n' ';')"
		fi
	else
		fail deb-build-previous "make deb at $PREV_COMMIT: $(tail -n 3 "$TMP/prevdeb.out" | tr '\n' ' ')"
	fi
}

# ---------------------------------------------------------------- the container
# cx CMD...: run CMD in the container, as if logged in (all its namespaces).
cx() {
	timeout -k 5 $GUARD nsenter -t "$CPID" -a \
		env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 HOME=/root TERM=dumb "$@"
}

boot() {
	# No systemd on the host: no machined to register with, no scope to move
	# into (--register=no --keep-unit), and nspawn's own state goes to a tmpfs
	# of a private mount namespace, so the host's /run is never touched.
	# --volatile=overlay: writes go to a tmpfs above the cached root.
	# shellcheck disable=SC2016 # expanded by the inner shell
	timeout -k 10 $LIFE_LIMIT unshare -m sh -c '
		mount --make-rprivate / &&
		mkdir -p /run/systemd/nspawn && mount -t tmpfs tmpfs /run/systemd/nspawn &&
		exec systemd-nspawn -D "$1" --register=no --keep-unit --private-network \
			--volatile=overlay --bind-ro="$2":/mnt/dadshim --console=passive -b' \
		sh "$ROOT" "$SHARE" >"$TMP/nspawn.log" 2>&1 &
	NSPAWN=$!
	t0=$(now)
	# The container's PID 1: a descendant of nspawn whose own pid is 1.
	while :; do
		for p in $(descendants "$NSPAWN"); do
			[ "$(cat "/proc/$p/comm" 2>/dev/null)" != systemd-nspawn ] || NSP=$p
			if [ "$(awk '/^NSpid:/ { print $NF }' "/proc/$p/status" 2>/dev/null)" = 1 ] &&
				[ "$(cat "/proc/$p/comm" 2>/dev/null)" = systemd ]; then
				CPID=$p
			fi
		done
		[ -z "$CPID" ] || break
		if ! kill -0 "$NSPAWN" 2>/dev/null || [ $(($(now) - t0)) -ge $BOOT_LIMIT ]; then
			BOOT_WHY="systemd-nspawn exited or no systemd appeared: $(tail -n 5 "$TMP/nspawn.log" | tr '\n' ' ')"
			return 1
		fi
		sleep 0.2
	done
	# Wait for the system to be up (bounded).
	state=''
	while [ $(($(now) - t0)) -lt $BOOT_LIMIT ]; do
		state=$(timeout -k 5 $BOOT_LIMIT nsenter -t "$CPID" -a env -i PATH=/usr/bin:/bin \
			systemctl is-system-running --wait 2>/dev/null || true)
		case $state in running|degraded) break ;; esac
		kill -0 "$CPID" 2>/dev/null || break
		sleep 0.5
	done
	BOOT_S=$(($(now) - t0))
	case $state in
	running|degraded) return 0 ;;
	*) BOOT_WHY="system state '$state' after $BOOT_S s: $(tail -n 5 "$TMP/nspawn.log" | tr '\n' ' ')"; return 1 ;;
	esac
}

# unit_charons: pids (container view) of the charons in the unit's control
# group; /proc/PID/cgroup names it on cgroup v1 and v2 alike.
unit_charons() {
	# shellcheck disable=SC2016 # expanded by the container's shell
	cx sh -c 'for d in /proc/[0-9]*; do
			[ "$(cat $d/comm 2>/dev/null)" = charon ] || continue
			grep -q "/$1\$" $d/cgroup 2>/dev/null && echo "${d#/proc/}"
		done; true' sh "$UNIT"
}
# charon_in CGROUP [OLD_PID]: the charon whose control group path matches
# the grep pattern CGROUP, once it has written its pid file (so it is up),
# other than OLD_PID (the one before a restart).  Prints its pid (container
# view); waits at most 30 s.
charon_in() {
	# shellcheck disable=SC2016 # expanded by the container's shell
	cx sh -c '
		cg=$1 old=$2 i=0
		while [ $i -lt 300 ]; do
			p=$(cat /run/charon.pid 2>/dev/null || true)
			if [ -n "$p" ] && [ "$p" != "$old" ] && [ "$(cat /proc/$p/comm 2>/dev/null)" = charon ] &&
				grep -q "$cg" /proc/$p/cgroup 2>/dev/null; then
				echo "$p"; exit 0
			fi
			i=$((i + 1)); sleep 0.1
		done
		exit 1' sh "$1" "${2:-}"
}
# charon_of_unit [OLD_PID]: the unit's charon (charon_in its cgroup).
charon_of_unit() { charon_in "/$UNIT\$" "${1:-}"; }
restart() { # restart the unit; CHARON := the new charon's pid
	old=${CHARON:-}
	if ! cx systemctl restart "$UNIT" >"$TMP/restart.out" 2>&1; then
		CHARON=''
		echo "systemctl restart $UNIT: $(cat "$TMP/restart.out")" >"$TMP/why"
		return 1
	fi
	CHARON=$(charon_of_unit "$old") || {
		CHARON=''
		echo "no new charon in $UNIT within 30 s: $(cx journalctl -u "$UNIT" -n 5 --no-pager 2>&1 | tr '\n' ' ')" >"$TMP/why"
		return 1
	}
}
# shim_of PID: "mapped" or "absent" as /proc/PID/maps shows, "gone" if the
# process does not exist (so that a dead pid never passes for "absent").
shim_of() {
	cx sh -c 'm=$(cat "/proc/$1/maps" 2>/dev/null) && [ -n "$m" ] || { echo gone; exit; }
		case $m in *"$2"*) echo mapped ;; *) echo absent ;; esac' sh "$1" "$LIB"
}
# preload_of PID: LD_PRELOAD in the process's environment, "none", or "gone".
preload_of() {
	cx sh -c '[ -r "/proc/$1/environ" ] || { echo gone; exit; }
		v=$(tr "\0" "\n" <"/proc/$1/environ" | sed -n "s/^LD_PRELOAD=//p")
		echo "${v:-none}"' sh "$1"
}
unit_prop() { cx systemctl show -p "$1" --value "$UNIT"; }

# ---------------------------------------------------------------- cases
t_boot() {
	init=$(cx cat /proc/1/comm)
	ver=$(cx systemctl --version | head -n 1)
	failed=$(cx systemctl --failed --plain --no-legend | awk '{ print $1 }' | tr '\n' ' ')
	CHARON=$(charon_of_unit) || CHARON=''
	if [ "$init" = systemd ] && [ -n "$CHARON" ] && [ "$(shim_of "$CHARON")" = absent ] &&
		[ "$(preload_of "$CHARON")" = none ]; then
		pass "boot ($ver is PID 1, up in $BOOT_S s; $UNIT runs charon $CHARON without the shim)"
	else
		fail boot "PID 1 is '$init', charon '$CHARON'"
	fi
	[ -z "$failed" ] || note "failed units in the container: $failed"
}

t_install() {
	if ! cx dpkg -i /mnt/dadshim/new.deb >"$TMP/install.out" 2>&1; then
		fail install "dpkg -i: $(tail -n 5 "$TMP/install.out" | tr '\n' ' ')"
		return 1
	fi
	st=$(cx dpkg-query -W -f '${Status} ${Version}' dadshim)
	# The postinst reloaded systemd: the unit already carries the preload.
	reload=$(unit_prop NeedDaemonReload)
	envp=$(unit_prop Environment)
	drop=$(unit_prop DropInPaths)
	if [ "$st" != "install ok installed $VERSION" ] || [ "$reload" != no ] ||
		! printf '%s\n' "$envp" | grep -qw "LD_PRELOAD=$LIB" ||
		! printf '%s\n' "$drop" | grep -q "/$UNIT.d/dadshim.conf"; then
		fail install-unit "dpkg: '$st', NeedDaemonReload=$reload, Environment=$envp, DropInPaths=$drop"
		return 1
	fi
	pass "install-unit (dpkg: $st; systemd reloaded by the postinst: Environment=$envp from $drop)"
	# The postinst names the unit that runs here, as systemd says.
	hint=$(grep 'restart' "$TMP/install.out" | head -n 1)
	if [ "$(cx systemctl is-active "$UNIT")" = active ] && printf '%s\n' "$hint" | grep -q "systemctl restart $UNIT" &&
		! printf '%s\n' "$hint" | grep -Eq 'restart (strongswan|strongswan-swanctl|ipsec)\.service'; then
		pass "install-hint (systemd runs $UNIT, and the postinst says: ${hint#dadshim: })"
	else
		fail install-hint "systemd: $UNIT $(cx systemctl is-active "$UNIT"); postinst: '$hint'"
	fi
	restart || { fail install-restart "$(cat "$TMP/why")"; return 1; }
	starter=$(unit_prop MainPID)
	if [ "$(shim_of "$CHARON")" = mapped ] && [ "$(preload_of "$CHARON")" = "$LIB" ] && [ "$(shim_of "$starter")" = mapped ]; then
		pass "install-restart (charon $CHARON maps $LIB and has LD_PRELOAD=$LIB in its environment; so does starter $starter)"
	else
		fail install-restart "charon $CHARON maps: $(cx grep -c dadshim "/proc/$CHARON/maps"), LD_PRELOAD: $(preload_of "$CHARON")"
	fi
}

# Unit names: what dadshim-enable --units and the doctor say against what
# systemd says: every strongSwan unit this system loads under its own name
# (aliases such as ipsec.service are the same unit), with its is-active state.
# Once with the starter running, once with it stopped.
oneline() { printf '%s\n' "$1" | paste -sd, -; }
units_truth() {
	# shellcheck disable=SC2016 # expanded by the container's shell
	cx sh -c 'for u in $1; do
			[ "$(systemctl show -p LoadState --value "$u")" = loaded ] || continue
			[ "$(systemctl show -p Id --value "$u")" = "$u" ] || continue
			echo "$u $(systemctl is-active "$u")"
		done' sh "$UNITS" | sort
}
t_units() {
	bad=''
	for phase in running stopped; do
		[ $phase = running ] || cx systemctl stop "$UNIT"
		truth=$(units_truth)
		said=$(cx dadshim-enable --units | awk '{ print $1, $3 }' | sort)
		doc=$(cx dadshim-doctor --json | jq -r '.units[] | "\(.name) \(.state)"' | sort)
		role=$(cx dadshim-enable --units | awk -v u="$UNIT" '$1 == u { print $2 }')
		if [ -z "$truth" ] || [ "$said" != "$truth" ] || [ "$doc" != "$truth" ] || [ "$role" != starter ]; then
			bad="$bad [$phase: systemd '$(oneline "$truth")', dadshim-enable '$(oneline "$said")' ($UNIT: '$role'), doctor '$(oneline "$doc")']"
		fi
		seen="$seen${seen:+; }$phase: $(oneline "$truth")"
	done
	cx systemctl start "$UNIT"
	CHARON=$(charon_of_unit) || CHARON=''
	if [ -z "$bad" ]; then
		pass "units (dadshim-enable --units and the doctor name the units systemd loads, $UNIT as the starter, with systemctl is-active's state: $seen)"
	else
		fail units "$bad"
	fi
}

# The shim logs "loaded: ..." at level 3 when a process starts.  An admin's
# drop-in raises the level; the line must reach the journal from charon's pid
# under ident dadshim, while charon keeps its own ident.
t_journal() {
	d=/etc/systemd/system/$UNIT.d/zz-dadshim-test.conf
	printf '[Service]\nEnvironment=DADSHIM_LOG=3\n' | cx sh -c "mkdir -p ${d%/*} && cat >$d"
	cx systemctl daemon-reload
	envp=$(unit_prop Environment)
	restart || { fail journal "$(cat "$TMP/why")"; return 1; }
	i=0
	while [ $i -lt 50 ]; do
		cx journalctl -o json --no-pager SYSLOG_IDENTIFIER=dadshim _PID="$CHARON" >"$TMP/j.json" 2>/dev/null || true
		[ ! -s "$TMP/j.json" ] || break
		i=$((i + 1)); sleep 0.2
	done
	# journald takes the pid and command from the socket's credentials.
	line=$(jq -r 'select(._COMM == "charon" and .SYSLOG_FACILITY == "3" and .PRIORITY == "7") | .MESSAGE' "$TMP/j.json" 2>/dev/null |
		grep -E '^charon: loaded: nodad=1 retry=1 wait_ms=5000$' | head -n 1 || true)
	own=$(cx journalctl -o cat --no-pager SYSLOG_IDENTIFIER=charon _PID="$CHARON" 2>/dev/null | grep -c 'Starting IKE charon daemon' || true)
	if printf '%s\n' "$envp" | grep -qw DADSHIM_LOG=3 && [ -n "$line" ] && [ "$own" -gt 0 ]; then
		pass "journal (DADSHIM_LOG=3 by a drop-in: the journal has '$line' from charon $CHARON, ident dadshim, daemon.debug; charon's own lines keep ident charon)"
	else
		fail journal "Environment=$envp; dadshim entries of pid $CHARON: $(jq -c '[._COMM, .SYSLOG_FACILITY, .PRIORITY, .MESSAGE]' "$TMP/j.json" 2>/dev/null | head -n 3 | tr '\n' ' '); charon's own start lines: $own"
	fi
	# Back to the package's settings: level 2 logs nothing at start.
	cx rm -f "$d"
	cx rmdir "${d%/*}" 2>/dev/null || true
	cx systemctl daemon-reload
	restart || { fail journal-default "$(cat "$TMP/why")"; return 1; }
	sleep 1
	n=$(cx journalctl -o cat --no-pager SYSLOG_IDENTIFIER=dadshim _PID="$CHARON" 2>/dev/null | grep -c 'loaded:' || true)
	# no line counts only if the journal has this charon's own start line
	own=$(cx journalctl -o cat --no-pager SYSLOG_IDENTIFIER=charon _PID="$CHARON" 2>/dev/null | grep -c 'Starting IKE charon daemon' || true)
	if [ "$(shim_of "$CHARON")" = mapped ] && [ "$n" = 0 ] && [ "${own:-0}" -gt 0 ]; then
		pass "journal-default (drop-in removed: charon $CHARON maps the shim and logs no start-up line at level 2)"
	else
		fail journal-default "charon $CHARON: $n 'loaded:' lines, $own own start lines in the journal"
	fi
}

# dadshim-enable reloads systemd itself when systemd runs: the test never does.
reloads() { cx journalctl -o cat --no-pager _PID=1 2>/dev/null | grep -c '^Reloading' || true; }
t_disable() {
	r0=$(reloads)
	if ! cx dadshim-enable --disable >"$TMP/dis.out" 2>&1; then
		fail disable "dadshim-enable --disable: $(tr '\n' ' ' <"$TMP/dis.out")"
		return 1
	fi
	masks=0
	for u in $UNITS; do
		[ "$(cx readlink "/etc/systemd/system/$u.d/dadshim.conf")" = /dev/null ] && masks=$((masks + 1))
	done
	reload=$(unit_prop NeedDaemonReload)
	envp=$(unit_prop Environment)
	r1=$(reloads)
	restart || { fail disable "$(cat "$TMP/why")"; return 1; }
	if [ "$masks" = 4 ] && [ "$reload" = no ] && [ "$r1" -gt "$r0" ] &&
		! printf '%s\n' "$envp" | grep -q LD_PRELOAD &&
		[ "$(shim_of "$CHARON")" = absent ] && [ "$(preload_of "$CHARON")" = none ]; then
		pass "disable (4 masks -> /dev/null; PID 1 reloaded by dadshim-enable ($r0 -> $r1 reloads); after a restart charon $CHARON maps no shim, no LD_PRELOAD)"
	else
		fail disable "masks=$masks NeedDaemonReload=$reload reloads $r0->$r1 Environment='$envp' maps=$(cx grep -c dadshim "/proc/$CHARON/maps")"
	fi
}

t_enable() {
	r0=$(reloads)
	if ! cx dadshim-enable >"$TMP/en.out" 2>&1; then
		fail enable "dadshim-enable: $(tr '\n' ' ' <"$TMP/en.out")"
		return 1
	fi
	left=$(cx sh -c 'ls /etc/systemd/system/*.service.d/dadshim.conf 2>/dev/null' || true)
	reload=$(unit_prop NeedDaemonReload)
	envp=$(unit_prop Environment)
	r1=$(reloads)
	restart || { fail enable "$(cat "$TMP/why")"; return 1; }
	if [ -z "$left" ] && [ "$reload" = no ] && [ "$r1" -gt "$r0" ] &&
		printf '%s\n' "$envp" | grep -qw "LD_PRELOAD=$LIB" &&
		[ "$(shim_of "$CHARON")" = mapped ] && [ "$(preload_of "$CHARON")" = "$LIB" ]; then
		pass "enable (masks lifted; PID 1 reloaded by dadshim-enable itself ($r0 -> $r1); after a restart charon $CHARON maps the shim again)"
	else
		fail enable "left='$left' NeedDaemonReload=$reload reloads $r0->$r1 Environment='$envp' maps=$(cx grep -c dadshim "/proc/$CHARON/maps")"
	fi
	grep -q "restart $UNIT" "$TMP/en.out" && note "dadshim-enable said: $(grep 'restart' "$TMP/en.out" | head -n 1)"
}

# Every file and drop-in the package or dadshim-enable could have left.
# As a new user would on Debian 9: "ipsec start" typed in a shell of a login
# session.  Its charon has the shell's environment, not the unit's, so it
# maps no shim (README Limits); the doctor must say how it was started and
# what to run, and that must work.
# session_charon [OLD_PID]: the charon of a starter typed in a login session
# (a user.slice scope).
session_charon() { charon_in /user.slice/ "${1:-}"; }
SESSIONS=0
# typed CMD...: CMD typed in a shell of a login session: a user.slice scope,
# an empty environment but PATH (as "env -i"); in the background, since the
# starter stays in the scope.
typed() {
	SESSIONS=$((SESSIONS + 1))
	cx systemd-run --quiet --scope --slice=user.slice --unit="dadshim-test-session-$SESSIONS" -- \
		env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@" >>"$TMP/session.out" 2>&1 &
}
# ipsec_stop: "ipsec stop" typed in a shell; waits until no charon is left.
ipsec_stop() {
	cx env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin ipsec stop >>"$TMP/session.out" 2>&1 || true
	# shellcheck disable=SC2016 # expanded by the container's shell
	cx sh -c 'i=0; while [ $i -lt 300 ] && [ -n "$(pidof charon)" ]; do i=$((i + 1)); sleep 0.1; done'
}
t_session() {
	: >"$TMP/session.out"
	cx systemctl stop "$UNIT"
	# The package's starter wrapper: "ipsec start", then "ipsec restart",
	# typed in a shell with an empty environment.
	typed ipsec start
	p1=$(session_charon) || p1=''
	s1=$(shim_of "${p1:-0}")
	typed ipsec restart
	p2=$(session_charon "$p1") || p2=''
	s2=$(shim_of "${p2:-0}") e2=$(preload_of "${p2:-0}")
	ipsec_stop
	# A charon of a starter run past the wrapper (as one started before the
	# package was installed): the doctor says what it is and what to do.
	typed /usr/lib/dadshim/starter --daemon charon
	p3=$(session_charon "$p2") || p3=''
	s3=$(shim_of "${p3:-0}")
	# As on an affected host (the container has 5.9.8, which needs no shim).
	msg=$(cx dadshim-doctor --strongswan-version 5.5.1 --json | jq -r --arg id "shim.$p3" '.findings[] | select(.id == $id) | .message')
	ipsec_stop
	cx systemctl start "$UNIT"
	CHARON=$(charon_of_unit "$p3") || CHARON=''
	case $msg in
	*"started from a login session"*"ipsec stop, then systemctl restart"*"$UNIT"*) said=1 ;;
	*) said=0 ;;
	esac
	if [ -n "$p1" ] && [ "$s1" = mapped ] && [ -n "$p2" ] && [ "$s2" = mapped ] && [ "$e2" = "$LIB" ] &&
		[ "$s3" = absent ] && [ $said = 1 ] && [ -n "$CHARON" ] && [ "$(shim_of "$CHARON")" = mapped ]; then
		pass "session (in a login session with env -i: charon $p1 of 'ipsec start' and charon $p2 of 'ipsec restart' map the shim, through the package's starter; a charon $p3 started past it maps none, and the doctor says: '$msg'; systemd's charon $CHARON maps it)"
	else
		fail session "ipsec start: charon '$p1' $s1; ipsec restart: charon '$p2' $s2, LD_PRELOAD=$e2; past the wrapper: charon '$p3' $s3, doctor: '$msg'; systemd's charon '$CHARON' $(shim_of "${CHARON:-0}"); output: $(tail -n 3 "$TMP/session.out" | tr '\n' ' ')"
	fi
}

# t_reinstall: strongSwan's own packages reinstalled (dpkg -i of the same
# version, kept from debootstrap): dpkg puts their starter at the diverted
# name, the package's wrapper stays, and "ipsec restart" still preloads.
t_reinstall() {
	# shellcheck disable=SC2016 # the container's shell expands the names
	if ! cx sh -c 'DEBIAN_FRONTEND=noninteractive dpkg --force-confold -i \
		/var/cache/dadshim-test/strongswan-starter_*.deb /var/cache/dadshim-test/strongswan-charon_*.deb' \
		>"$TMP/reinstall.out" 2>&1; then
		fail reinstall "dpkg -i strongswan-starter strongswan-charon: $(tail -n 3 "$TMP/reinstall.out" | tr '\n' ' ')"
		return 1
	fi
	vers=$(cx dpkg-query -W -f '${Package} ${Version}, ' strongswan-starter strongswan-charon)
	truename=$(cx dpkg-divert --truename /usr/lib/ipsec/starter)
	wrapper=$(cx grep -c 'dadshim package' /usr/lib/ipsec/starter || true)
	verify=$(cx dpkg --verify strongswan-starter strongswan-charon dadshim 2>&1 || true)
	cx systemctl stop "$UNIT"
	typed ipsec restart
	p=$(session_charon "$CHARON") || p=''
	s=$(shim_of "${p:-0}")
	ipsec_stop
	cx systemctl start "$UNIT"
	CHARON=$(charon_of_unit "$p") || CHARON=''
	if [ "$truename" = /usr/lib/dadshim/starter ] && [ "$wrapper" -ge 1 ] && [ -z "$verify" ] &&
		[ -n "$p" ] && [ "$s" = mapped ] && [ "$(shim_of "${CHARON:-0}")" = mapped ]; then
		pass "reinstall (${vers%, } reinstalled: their starter went to $truename, dpkg --verify clean; charon $p of 'ipsec restart' typed in a shell maps the shim; systemd's charon $CHARON too)"
	else
		fail reinstall "truename '$truename', wrapper lines $wrapper, verify: '$verify'; charon '$p' of ipsec restart: $s; systemd's '$CHARON'"
	fi
}

leftovers() {
	# shellcheck disable=SC2016,SC2046 # expanded by the container's shell
	cx sh -c '
		for f in "$@"; do [ -d "$f" ] && continue; { [ -e "$f" ] || [ -L "$f" ]; } && echo "$f"; done
		for d in /lib/systemd/system /usr/lib/systemd/system /etc/systemd/system; do
			ls -d $d/*.service.d/*dadshim* 2>/dev/null
		done
		ls -d /usr/lib/*/dadshim /usr/share/doc/dadshim /var/lib/dpkg/info/dadshim.* 2>/dev/null
		grep -l dadshim /etc/default/ipsec 2>/dev/null
		ls -d /usr/lib/dadshim 2>/dev/null
		dpkg-divert --list | grep dadshim
		# strongSwan'"'"'s starter is back, byte for byte (md5sums of its package).
		dpkg --verify strongswan-starter | sed "s/^/verify: /"
		true' sh $(grep '^/' "$TMP/files" | grep -vx /usr/lib/ipsec/starter) # one path per line, none with spaces
}
t_purge() {
	cx dpkg-query -L dadshim | grep '^/' >"$TMP/files"
	if ! cx dpkg --purge dadshim >"$TMP/purge.out" 2>&1; then
		fail purge "dpkg --purge: $(tail -n 3 "$TMP/purge.out" | tr '\n' ' ')"
		return 1
	fi
	st=$(cx dpkg-query -W -f '${db:Status-Abbrev}' dadshim 2>/dev/null || true)
	left=$(leftovers | tr '\n' ' ')
	reload=$(unit_prop NeedDaemonReload)
	envp=$(unit_prop Environment)
	restart || { fail purge "$(cat "$TMP/why")"; return 1; }
	preload_err=$(cx journalctl -o cat --no-pager -u "$UNIT" --since '-30s' 2>/dev/null | grep -c 'cannot be preloaded' || true)
	if [ -z "$left" ] && [ "$st" != 'ii ' ] && [ "$reload" = no ] && ! printf '%s\n' "$envp" | grep -q LD_PRELOAD &&
		[ "$(shim_of "$CHARON")" = absent ] && [ "$(preload_of "$CHARON")" = none ] && [ "$preload_err" = 0 ]; then
		pass "purge (none of the package's $(wc -l <"$TMP/files") paths, no drop-in, mask or diversion left, strongSwan's starter back (dpkg --verify); systemd reloaded; charon $CHARON runs without the shim, no ld.so complaint)"
	else
		fail purge "status='$st' left='$left' NeedDaemonReload=$reload Environment='$envp' maps=$(cx grep -c dadshim "/proc/$CHARON/maps") ld.so errors=$preload_err"
	fi
}

# capt ARGS...: apt-get in the container with only dadshim's repository as a
# source (the container has no network for its Debian mirror).
capt() {
	cx apt-get -q -o Dir::Etc::SourceList=/etc/apt/sources.list.d/dadshim.list \
		-o Dir::Etc::SourceParts=/nonexistent "$@"
}
t_repo() {
	[ -f "$SHARE/repo/InRelease" ] || { fail repo "no signed repository from make dist (see deb-build)"; return 1; }
	# As the README's quick start says: the key in /usr/share/keyrings, a
	# signed-by source; apt checks InRelease against that key alone.
	cx sh -c 'cp /mnt/dadshim/repo/dadshim-archive.gpg /usr/share/keyrings/dadshim-archive.gpg &&
		echo "deb [signed-by=/usr/share/keyrings/dadshim-archive.gpg] file:/mnt/dadshim/repo ./" \
			>/etc/apt/sources.list.d/dadshim.list'
	if ! capt update >"$TMP/repo-update.out" 2>&1 || grep -Eq '^(W|E):' "$TMP/repo-update.out"; then
		fail repo "apt-get update: $(grep -E '^(W|E):' "$TMP/repo-update.out" | head -n 3 | tr '\n' ' ')"
		return 1
	fi
	if ! capt install -y dadshim >"$TMP/repo-install.out" 2>&1; then
		fail repo "apt-get install dadshim: $(tail -n 3 "$TMP/repo-install.out" | tr '\n' ' ')"
		return 1
	fi
	st=$(cx dpkg-query -W -f '${Status} ${Version}' dadshim)
	signed=$(cx sh -c 'ls /var/lib/apt/lists/*dadshim_repo_._InRelease 2>/dev/null' | head -n 1)
	restart || { fail repo "$(cat "$TMP/why")"; return 1; }
	if [ "$st" = "install ok installed $VERSION" ] && [ -n "$signed" ] &&
		[ "$(shim_of "$CHARON")" = mapped ] && [ "$(preload_of "$CHARON")" = "$LIB" ]; then
		pass "repo-install (apt-get update verified the signed InRelease, apt-get install dadshim: $st; after the restart charon $CHARON maps $LIB)"
	else
		fail repo-install "dpkg: '$st', InRelease: '$signed', charon $CHARON: $(shim_of "$CHARON"), LD_PRELOAD=$(preload_of "$CHARON")"
	fi
	# Back out as the README's roll-back says: apt purge, restart.
	cx dpkg-query -L dadshim | grep '^/' >"$TMP/files"
	if ! capt purge -y dadshim >"$TMP/repo-purge.out" 2>&1; then
		fail repo-purge "apt-get purge: $(tail -n 3 "$TMP/repo-purge.out" | tr '\n' ' ')"
		return 1
	fi
	left=$(leftovers | tr '\n' ' ')
	restart || { fail repo-purge "$(cat "$TMP/why")"; return 1; }
	cx rm -f /etc/apt/sources.list.d/dadshim.list /usr/share/keyrings/dadshim-archive.gpg
	if [ -z "$left" ] && [ "$(shim_of "$CHARON")" = absent ] && [ "$(preload_of "$CHARON")" = none ]; then
		pass "repo-purge (apt-get purge dadshim, restart: nothing of the package left; charon $CHARON runs without the shim)"
	else
		fail repo-purge "left: '$left'; charon $CHARON: $(shim_of "$CHARON"), LD_PRELOAD=$(preload_of "$CHARON")"
	fi
}

# inode of the library charon maps (container view), and whether it is deleted
mapped_lib() { cx awk -v l="$LIB" '$6 == l { print $5 ($7 == "" ? "" : " " $7); exit }' "/proc/$1/maps"; }
t_upgrade() {
	[ -f "$SHARE/old.deb" ] || { fail upgrade "no .deb of the previous release (see deb-build-previous)"; return 1; }
	if ! cx dpkg -i /mnt/dadshim/old.deb >"$TMP/old.out" 2>&1; then
		fail upgrade "dpkg -i of $PREV_VERSION: $(tail -n 3 "$TMP/old.out" | tr '\n' ' ')"
		return 1
	fi
	restart || { fail upgrade "$(cat "$TMP/why")"; return 1; }
	old_ino=$(mapped_lib "$CHARON")
	old_charon=$CHARON
	v_old=$(cx dpkg-query -W -f '${Version}' dadshim)
	if ! cx dpkg -i /mnt/dadshim/new.deb >"$TMP/up.out" 2>&1; then
		fail upgrade "dpkg -i of $VERSION over $PREV_VERSION: $(tail -n 3 "$TMP/up.out" | tr '\n' ' ')"
		return 1
	fi
	# dpkg replaced the file: the running charon still maps the old, deleted one.
	stale=$(mapped_lib "$old_charon")
	restart || { fail upgrade "$(cat "$TMP/why")"; return 1; }
	new_ino=$(mapped_lib "$CHARON")
	file_ino=$(cx stat -c %i "$LIB")
	v_new=$(cx dpkg-query -W -f '${Version}' dadshim)
	verify=$(cx dpkg --verify dadshim 2>&1 || echo "dpkg --verify failed")
	# The drop-ins on disk are byte for byte those of the new package.
	rm -rf "$TMP/newx"; mkdir "$TMP/newx"
	dpkg-deb -x "$SHARE/new.deb" "$TMP/newx"
	diffs=''
	for u in $UNITS; do
		f=/lib/systemd/system/$u.d/dadshim.conf
		cx cat "$f" 2>/dev/null | cmp -s - "$TMP/newx$f" || diffs="$diffs $u"
	done
	# What dpkg owns is exactly what the new package ships; nothing half-done.
	dpkg-deb -c "$SHARE/new.deb" | awk '$1 !~ /^d/ { p = $6; sub(/^\./, "", p); print p }' | sort >"$TMP/ships"
	# (dpkg-query -L also prints "package diverts others to: PATH".)
	cx dpkg-query -L dadshim | grep '^/' | while IFS= read -r f; do
		cx test -d "$f" || echo "$f"
	done | sort >"$TMP/owns"
	extra=$(comm -3 "$TMP/ships" "$TMP/owns" | tr -s ' \t\n' ' ')
	# No dpkg leftover (.dpkg-new, -old, -tmp, -dist...) anywhere dpkg wrote.
	junk=$(cx sh -c 'find /lib/systemd/system /usr/lib/*/dadshim /usr/sbin /usr/share/doc/dadshim /usr/share/man/man8 /usr/share/lintian /etc -name "*.dpkg-*" 2>/dev/null; ls -d /etc/systemd/system/*.d/* 2>/dev/null' | tr '\n' ' ' || true)
	if [ "$v_old" = "$PREV_VERSION" ] && [ -n "$old_ino" ] && [ "${stale#* }" = '(deleted)' ] &&
		[ "$v_new" = "$VERSION" ] && [ "$new_ino" = "$file_ino" ] && [ "$new_ino" != "${old_ino%% *}" ] &&
		[ -z "$verify" ] && [ -z "$diffs" ] && [ -z "$extra" ] && [ -z "$junk" ] &&
		[ "$(preload_of "$CHARON")" = "$LIB" ]; then
		pass "upgrade ($PREV_VERSION -> $VERSION: before the restart charon $old_charon maps the replaced library (deleted), after it charon $CHARON maps the installed one, inode $new_ino; dpkg --verify clean; drop-ins are $VERSION's; no dpkg leftovers)"
	else
		fail upgrade "versions '$v_old' -> '$v_new'; maps: old '$old_ino', before restart '$stale', after '$new_ino', file inode $file_ino; verify: $verify; drop-ins differing:$diffs; ships vs owns: $extra; junk: $junk"
	fi
}

# The playbook (scripts/ansible/dadshim.yml) in the container, -c local,
# with dadshim_restart=true.  Judged by dpkg, /proc and the file system; the
# play's own words only where they must match what those show.
play() { # OUT INVENTORY ARGS...: run the playbook in the container
	out=$1 inv=$2; shift 2
	printf '%s\n' "$inv" | cx sh -c 'cat >/root/inventory'
	prc=0
	timeout -k 5 300 nsenter -t "$CPID" -a env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 HOME=/root \
		ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0 ANSIBLE_LOCALHOST_WARNING=0 \
		ansible-playbook -i /root/inventory -c local /mnt/dadshim/ansible/dadshim.yml \
		-e dadshim_restart=true "$@" >"$out" 2>&1 || prc=$?
	return $prc
}
recap() { # OUT HOST: "ok=N changed=N ... failed=N" of HOST in the play recap
	awk -v h="$2" '$1 == h && $2 == ":" { $1 = $2 = ""; print; exit }' "$1" | sed 's/^ *//'
}
t_ansible() {
	if [ ! -f scripts/ansible/dadshim.yml ]; then
		fail ansible "scripts/ansible/dadshim.yml is missing from this tree: the playbook's restart path (ansible-playbook -i INVENTORY scripts/ansible/dadshim.yml -e dadshim_deb=... -e dadshim_restart=true) is not tested"
		return 1
	fi
	cp -r scripts/ansible "$SHARE/ansible"
	deb=/mnt/dadshim/dadshim_${VERSION}_$ARCH.deb
	cp "$SHARE/new.deb" "$SHARE${deb#/mnt/dadshim}"
	one='localhost ansible_python_interpreter=/usr/bin/python3'

	# absent, restart: from the upgraded state of the last case.
	old=$CHARON
	rc=0; play "$TMP/a0.out" "$one" -e dadshim_state=absent || rc=$?
	CHARON=$(charon_of_unit "$old") || CHARON=''
	st=$(cx dpkg-query -W -f '${db:Status-Abbrev}' dadshim 2>/dev/null || true)
	left=$(cx sh -c 'ls -d /lib/systemd/system/*.d/dadshim.conf /etc/systemd/system/*.d/dadshim.conf /usr/lib/*/dadshim 2>/dev/null' | tr '\n' ' ' || true)
	if [ $rc = 0 ] && [ "$st" != 'ii ' ] && [ -z "$left" ] && [ -n "$CHARON" ] && [ "$(shim_of "$CHARON")" = absent ]; then
		pass "ansible-absent (dadshim_state=absent: package purged, no drop-in; restarted charon $CHARON maps no shim; recap $(recap "$TMP/a0.out" localhost))"
	else
		fail ansible-absent "rc=$rc status='$st' left='$left' charon='$CHARON' $(grep -E 'fatal|FAILED|msg' "$TMP/a0.out" | head -n 3 | tr '\n' ' ')"
	fi

	# present, restart: installs, restarts, the doctor's verdict names the
	# charon that /proc shows mapping the shim.
	old=$CHARON
	rc=0; play "$TMP/a1.out" "$one" -e dadshim_deb="$deb" || rc=$?
	CHARON=$(charon_of_unit "$old") || CHARON=''
	st=$(cx dpkg-query -W -f '${db:Status-Abbrev}${Version}' dadshim 2>/dev/null || true)
	if [ $rc = 0 ] && [ "$st" = "ii $VERSION" ] && [ -n "$CHARON" ] && [ "$(shim_of "$CHARON")" = mapped ] &&
		[ "$(preload_of "$CHARON")" = "$LIB" ] &&
		grep -q "every charon maps dadshim: $CHARON\b" "$TMP/a1.out" &&
		grep -q 'dadshim-doctor: no problem' "$TMP/a1.out"; then
		pass "ansible-present-restart (dpkg: $st; restarted charon $CHARON maps the shim; the play recorded the doctor's verdict for that pid; recap $(recap "$TMP/a1.out" localhost))"
	else
		fail ansible-present-restart "rc=$rc status='$st' charon='$CHARON' $(grep -E 'fatal|FAILED|every charon|doctor' "$TMP/a1.out" | head -n 4 | tr '\n' ' ')"
	fi

	# The same again: nothing changes, nothing restarts.
	old=$CHARON
	rc=0; play "$TMP/a2.out" "$one" -e dadshim_deb="$deb" || rc=$?
	now_charon=$(charon_of_unit) || now_charon=''
	r=$(recap "$TMP/a2.out" localhost)
	if [ $rc = 0 ] && printf '%s\n' "$r" | grep -q 'changed=0 ' && [ "$now_charon" = "$old" ] && [ "$(shim_of "$old")" = mapped ]; then
		pass "ansible-rerun (changed=0; charon $old was not restarted and still maps the shim)"
	else
		fail ansible-rerun "rc=$rc recap '$r', charon $old -> '$now_charon'"
	fi

	# A failing host stops the rollout: two inventory names for this one
	# system, one per batch; each copies the package into its own cache
	# directory, so the file system shows which host the play reached.
	# charon cannot start (not executable), so after the restart none runs.
	cx dpkg --purge dadshim >/dev/null 2>&1 || true
	cx chmod 0644 /usr/lib/ipsec/charon
	cx systemctl restart "$UNIT" >/dev/null 2>&1 || true
	two="h1 ansible_connection=local ansible_python_interpreter=/usr/bin/python3 dadshim_cache=/var/cache/dadshim-h1
h2 ansible_connection=local ansible_python_interpreter=/usr/bin/python3 dadshim_cache=/var/cache/dadshim-h2"
	rc=0; play "$TMP/a3.out" "$two" -e dadshim_deb="$deb" -e dadshim_serial=1 || rc=$?
	h1=$(cx test -f "/var/cache/dadshim-h1/dadshim_${VERSION}_$ARCH.deb" && echo reached || echo untouched)
	h2=$(cx test -e /var/cache/dadshim-h2 && echo reached || echo untouched)
	running=$(unit_charons | wc -l)
	if [ $rc != 0 ] && [ "$h1" = reached ] && [ "$h2" = untouched ] && [ "$running" = 0 ] &&
		grep -q 'no charon runs' "$TMP/a3.out" && ! grep -q '^ok: \[h2\]\|^changed: \[h2\]' "$TMP/a3.out"; then
		pass "ansible-failing-host (charon down on h1: the play failed it with 'no charon runs', exit $rc, and h2's batch never started: /var/cache/dadshim-h2 does not exist)"
	else
		fail ansible-failing-host "rc=$rc h1=$h1 h2=$h2 charons running=$running $(grep -E 'fatal|no charon|h2' "$TMP/a3.out" | head -n 4 | tr '\n' ' ')"
	fi
	cx chmod 0755 /usr/lib/ipsec/charon
}

# When the container cannot boot, say why and prove what can be proved
# without it: systemd itself loads the package's drop-ins over Debian 12's
# real strongSwan units (systemd-analyze verify, as the deploy suite does).
fallback_verify() {
	x=$TMP/fallback
	mkdir -p "$x"
	dpkg-deb -x "$SHARE/new.deb" "$x" 2>/dev/null || { fail fallback-verify "cannot unpack the .deb"; return; }
	mkdir -p "$x/units"
	for d in /lib/systemd/system /usr/lib/systemd/system "$ROOT/lib/systemd/system"; do
		[ -f "$d/$UNIT" ] && { cp "$d/$UNIT" "$x/units/"; break; }
	done
	[ -f "$x/units/$UNIT" ] || { fail fallback-verify "no $UNIT unit file to verify against"; return; }
	cp -r "$x/lib/systemd/system/$UNIT.d" "$x/units/"
	if SYSTEMD_UNIT_PATH="$x/units:" SYSTEMD_LOG_LEVEL=debug timeout $GUARD systemd-analyze verify "$UNIT" >"$x/v.dbg" 2>&1 &&
		grep -Eq "Environment: (.* )?LD_PRELOAD=$LIB( |\$)" "$x/v.dbg"; then
		pass "fallback-verify (no container: systemd-analyze verify loads $UNIT with the package's drop-in, LD_PRELOAD=$LIB)"
	else
		fail fallback-verify "$(grep -E 'dadshim|Environment' "$x/v.dbg" | head -n 3 | tr '\n' ' ')"
	fi
}

# ---------------------------------------------------------------- run
T0=$(now)
# --root-only: build (or find) the cached root and stop; needs no lock.
if [ "${1:-}" = --root-only ]; then
	ROOT_BUILD_S=cached
	build_root || { fail systemd-root "debootstrap of $SUITE from $MIRROR failed"; exit 1; }
	tap_note "systemd: root $ROOT ready"
	exit 0
fi
build_debs || { tap_note "systemd: $TAP_FAILS failure(s)"; exit 1; }
ROOT_BUILD_S=cached
if ! build_root; then
	fail systemd-root "debootstrap of $SUITE from $MIRROR failed (see above): no container; only the fallback check runs"
	fallback_verify
	tap_note "systemd: $TAP_FAILS failure(s)"
	exit 1
fi
BOOT_WHY=''
if ! boot; then
	fail systemd-boot "the container did not boot: $BOOT_WHY"
	teardown
	fallback_verify
	tap_note "systemd: $TAP_FAILS failure(s)"
	exit 1
fi
# timed FUNC: run one case, note how long it took (a figure, never asserted).
timed() {
	t=$(now)
	rc=0; "$1" || rc=$?
	TIMES="$TIMES ${1#t_} $(($(now) - t)) s,"
	return $rc
}
TIMES=''
seen=''
timed t_boot
if timed t_install; then
	timed t_units || true
	timed t_journal || true
	timed t_disable || true
	timed t_enable || true
	timed t_session || true
	timed t_reinstall || true
fi
# dpkg must not be left half-way for the next case.
if cx dpkg-query -W -f '${Status}' dadshim 2>/dev/null | grep -q installed; then
	timed t_purge || true
fi
timed t_repo || true
timed t_upgrade || true
timed t_ansible || true
# The container powers off and leaves nothing behind on the host.
pidns=$(readlink "/proc/$CPID/ns/pid")
teardown
left=$(for d in /proc/[0-9]*; do [ "$(readlink "$d/ns/pid" 2>/dev/null)" = "$pidns" ] && echo "${d#/proc/}"; done; true)
if [ -n "$pidns" ] && [ -z "$left" ] && [ "$FORCED" = 0 ]; then
	pass "teardown (the container powered off in $OFF_S s; no process of it is left)"
else
	# shellcheck disable=SC2086 # one pid per word
	fail teardown "killed: $FORCED after $OFF_S s; processes of the container left: $(for p in $left; do
		printf '%s ' "$p($(cat "/proc/$p/comm" 2>/dev/null),$(awk '/^State:/ { print $2 }' "/proc/$p/status" 2>/dev/null),ppid $(awk '/^PPid:/ { print $2 }' "/proc/$p/status" 2>/dev/null))"; done)"
fi
note "times: root $ROOT_BUILD_S, system up in ${BOOT_S} s; cases:$TIMES whole suite $(($(now) - T0)) s"

if [ "$TAP_FAILS" -gt 0 ]; then
	tap_note "systemd: $TAP_FAILS failure(s)"
	exit 1
fi
tap_note "systemd: all passed"
