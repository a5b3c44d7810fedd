#!/bin/sh
# tests/ansible/run.sh: the rollout playbook (scripts/ansible/dadshim.yml)
# against this machine with a local connection (make check-ansible):
#  - make deb (a hardened library, the tree's left alone); install; a second
#    run reports changed=0 and touches nothing;
#  - the doctor's findings as the play records them are the doctor's own;
#  - a problem the doctor reports fails the host (run inside a namespace
#    with a dadfailed address), and a failed host stops the rollout;
#  - dadshim_state=absent leaves no package, drop-in, mask or cached .deb;
#  - dadshim_repo/dadshim_repo_key install from make dist's signed
#    repository; absent removes its source and key;
#  - dadshim_restart=true on a host whose PID 1 is not systemd fails clearly.
# Every outcome is judged by dpkg-query and the file system, not by
# Ansible's words alone.  The restart path under a real systemd is tested in
# tests/systemd.  Prints TAP (tests/lib/tap.sh); exits non-zero if anything failed.
set -eu

cd "$(dirname "$0")/../.."
TOP=$(pwd)
VERSION=$(dpkg-parsechangelog -l scripts/deb/changelog -S Version)
PLAYBOOK=$TOP/scripts/ansible/dadshim.yml
UNITS='strongswan.service strongswan-starter.service strongswan-swanctl.service ipsec.service'
GUARD=600 # seconds: bound for one playbook run, never an assertion

# shellcheck source=tests/lib/tap.sh
. tests/lib/tap.sh
# shellcheck source=tests/lib/testkey.sh
. tests/lib/testkey.sh

if [ "$(id -u)" != 0 ]; then
	fail ansible "must run as root: it installs and removes a .deb"
	exit 1
fi
missing=''
for t in ansible-playbook dpkg-query dpkg-deb jq ip timeout make nm sha256sum gpg apt-ftparchive dpkg-scanpackages; do
	command -v "$t" >/dev/null 2>&1 || missing="$missing $t"
done
if [ -n "$missing" ]; then
	fail ansible "missing:$missing; run sh scripts/deps.sh"
	exit 1
fi
installed() { dpkg-query -W -f '${Status}' dadshim 2>/dev/null | grep -q ' installed$'; }
if installed; then
	fail ansible "a dadshim package is already installed on this machine; not touching it"
	exit 1
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/dadshim-ansible.XXXXXX")
NS=dsa$$
DEB_INSTALLED=0
cleanup() {
	set +e
	ip netns del "$NS" 2>/dev/null
	if [ "$DEB_INSTALLED" = 1 ] || installed; then
		echo "# cleanup: purging the dadshim package this test installed"
		dpkg --purge dadshim >/dev/null 2>&1
	fi
	rm -rf /var/cache/dadshim "$TMP"
	tap_end
}
trap cleanup EXIT
trap 'echo "# interrupted" >&2; exit 1' HUP INT TERM

arch=$(dpkg --print-architecture)
ma=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || ${CC:-cc} -print-multiarch)
lib=/usr/lib/$ma/dadshim/libdadshim.so
deb=$TOP/build/dadshim_${VERSION}_$arch.deb

# Ansible's state stays in this run's directory; no colours in the logs.
export ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=0 ANSIBLE_LOCAL_TEMP="$TMP/local" \
	ANSIBLE_REMOTE_TEMP="$TMP/remote" ANSIBLE_HOME="$TMP/home" ANSIBLE_PYTHON_INTERPRETER=/usr/bin/python3
inv=$TMP/inventory
echo 'localhost ansible_connection=local' >"$inv"
# play OUT [ARGS...]: run the playbook (as root here: no sudo); sets prc
play() {
	out=$1; shift
	prc=0
	timeout $GUARD ansible-playbook -i "$inv" "$PLAYBOOK" -e ansible_become=false "$@" >"$out" 2>&1 || prc=$?
}
# recap OUT HOST FIELD: a number from the PLAY RECAP line of HOST
recap() {
	sed -n "s/^$2 *: .* $3=\([0-9][0-9]*\).*/\1/p" "$1" | tail -n 1
}
summary() { # OUT: the recap line and the failing message, for a failed check
	{ grep -E '^(fatal|failed):|"msg"' "$1" | head -n 3; grep -E '^[a-z0-9]+ *: ok=' "$1"; } | tr '\n' ' ' | cut -c 1-600
}
dropins_left() { # every dadshim drop-in or mask, package's or dadshim-enable's
	for u in $UNITS; do
		for d in /etc/systemd/system /lib/systemd/system /usr/lib/systemd/system; do
			f=$d/$u.d/dadshim.conf
			if [ -e "$f" ] || [ -L "$f" ]; then echo "$f"; fi
		done
	done
}

# ---------------------------------------------------------------------------
t_build() {
	rm -f "$deb"
	tree0=$(sha256sum shim/libdadshim.so 2>/dev/null)
	if make -s deb >"$TMP/deb.out" 2>&1 && [ -f "$deb" ]; then
		pass "ansible-deb (make deb built $(basename "$deb"))"
	else
		fail ansible-deb "$(tail -n 3 "$TMP/deb.out")"
		return 1
	fi
	# The package's library has Debian's hardening (-fstack-protector-strong
	# imports __stack_chk_fail, _FORTIFY_SOURCE the *_chk functions); the
	# tree's own library, which the other suites and make bench load, is
	# left as make built it.
	mkdir "$TMP/debx"
	dpkg-deb -x "$deb" "$TMP/debx"
	chk=$(nm -D "$TMP/debx$lib" 2>/dev/null | grep -c -E ' U (__stack_chk_fail|__[a-z0-9_]+_chk)(@|$)' || true)
	tree1=$(sha256sum shim/libdadshim.so 2>/dev/null)
	if [ "$chk" -gt 0 ] && [ -n "$tree0" ] && [ "$tree0" = "$tree1" ]; then
		pass "ansible-deb-flags (the packaged library imports $chk hardening symbols; shim/libdadshim.so untouched by make deb)"
	else
		fail ansible-deb-flags "packaged library hardening imports: $chk; tree library before: '${tree0%% *}', after: '${tree1%% *}'"
	fi
	if timeout $GUARD ansible-playbook -i "$inv" "$PLAYBOOK" --syntax-check >"$TMP/syntax.out" 2>&1; then
		pass "ansible-syntax (ansible-playbook --syntax-check, ansible-core $(ansible --version | sed -n '1s/.*core \([0-9.]*\).*/\1/p'))"
	else
		fail ansible-syntax "$(tail -n 5 "$TMP/syntax.out")"
	fi
}

t_install() {
	DEB_INSTALLED=1
	# relative to the working directory, as README shows it
	play "$TMP/p1.out" -e dadshim_deb="build/$(basename "$deb")"
	st=$(dpkg-query -W -f '${Status} ${Version}' dadshim 2>/dev/null || true)
	ok=1
	for f in "$lib" /usr/sbin/dadshim /usr/sbin/dadshim-enable /usr/sbin/dadshim-doctor; do
		[ -f "$f" ] || ok=0
	done
	for u in $UNITS; do
		grep -qx "Environment=LD_PRELOAD=$lib" "/lib/systemd/system/$u.d/dadshim.conf" 2>/dev/null || ok=0
	done
	if [ $prc = 0 ] && [ "$st" = "install ok installed $VERSION" ] && [ $ok = 1 ] &&
		cmp -s "$deb" "/var/cache/dadshim/$(basename "$deb")" &&
		[ "$(recap "$TMP/p1.out" localhost changed)" -gt 0 ] && [ "$(recap "$TMP/p1.out" localhost failed)" = 0 ]; then
		pass "ansible-install (dpkg: '$st'; library, launcher, 4 drop-ins, cached .deb identical; recap changed=$(recap "$TMP/p1.out" localhost changed))"
	else
		fail ansible-install "rc=$prc dpkg='$st' files=$ok $(summary "$TMP/p1.out")"
		return 1
	fi
	# The installed launcher finds the installed library.
	if /usr/sbin/dadshim grep -qF "$lib" /proc/self/maps; then
		pass "ansible-launcher-installed (/usr/sbin/dadshim preloads $lib)"
	else
		fail ansible-launcher-installed "$lib not mapped by /usr/sbin/dadshim"
	fi
}

t_rerun() {
	before=$(stat -c '%Z %i' "$lib" /usr/sbin/dadshim-doctor "/var/cache/dadshim/$(basename "$deb")" | tr '\n' ' ')
	play "$TMP/p2.out" -e dadshim_deb="$deb"
	after=$(stat -c '%Z %i' "$lib" /usr/sbin/dadshim-doctor "/var/cache/dadshim/$(basename "$deb")" | tr '\n' ' ')
	ch=$(recap "$TMP/p2.out" localhost changed)
	# both stamps of all three files: a file stat cannot find is no match
	if [ $prc = 0 ] && [ "$ch" = 0 ] && [ "$(recap "$TMP/p2.out" localhost failed)" = 0 ] &&
		[ "$(echo "$before" | wc -w)" -eq 6 ] && [ "$before" = "$after" ] && installed; then
		pass "ansible-idempotent (second run: recap changed=0; installed files and cached .deb not rewritten)"
	else
		fail ansible-idempotent "rc=$prc changed=$ch files before/after: $before / $after $(grep -E '^changed:' "$TMP/p2.out" | head -n 3 | tr '\n' ' ')"
	fi
}

# The findings the play shows are exactly what the doctor says on its own.
# block OUT TASK: the JSON result the default callback prints for TASK
block() {
	awk -v t="TASK [dadshim : $2]" 'index($0, t) == 1 { on = 1; next }
		on && /^ok: \[localhost\] => \{$/ { p = 1; print "{"; next }
		p { print; if ($0 == "}") exit }' "$1"
}
t_doctor() {
	play "$TMP/p3.out" -e dadshim_deb="$deb"
	rc=0
	/usr/sbin/dadshim-doctor --json >"$TMP/doctor.json" 2>"$TMP/doctor.err" || rc=$?
	block "$TMP/p3.out" "Show the doctor's findings" >"$TMP/shown.json"
	if ! jq -e .msg "$TMP/shown.json" >/dev/null 2>&1 || ! jq -e . "$TMP/doctor.json" >/dev/null 2>&1; then
		fail ansible-doctor "no JSON: $(head -c 300 "$TMP/shown.json") $(head -c 300 "$TMP/doctor.err")"
		return
	fi
	shown=$(jq -c .msg "$TMP/shown.json")
	want=$(jq -c '[.findings[] | .level + ": " + .message]' "$TMP/doctor.json")
	# the units the doctor named are this host's unit files
	units=$(jq -c '[.units[].name]' "$TMP/doctor.json")
	real_units=$(for u in $UNITS; do
		f=/lib/systemd/system/$u
		if [ -f "$f" ] && [ ! -L "$f" ]; then echo "$u"; fi
	done | jq -R . | jq -sc .)
	if [ $prc = 0 ] && [ "$shown" = "$want" ] && [ "$units" = "$real_units" ] &&
		[ "$(recap "$TMP/p3.out" localhost changed)" = 0 ] && [ "$rc" = 0 ] &&
		grep -q "dadshim-doctor: no problem, $(jq .warnings "$TMP/doctor.json") warning(s)" "$TMP/p3.out"; then
		pass "ansible-doctor (the play shows the doctor's $(jq '.findings | length' "$TMP/doctor.json") findings as dadshim-doctor --json gives them; units $units; 0 problems)"
	else
		fail ansible-doctor "rc=$prc doctor_rc=$rc shown=$(printf '%s' "$shown" | cut -c 1-300) want=$(printf '%s' "$want" | cut -c 1-300) units=$units/$real_units"
	fi
}

# A problem the doctor reports fails the host: the same play in a network
# namespace where the kernel marked an address dadfailed.
t_problem() {
	ip netns add "$NS"
	ip -n "$NS" link add "${NS}a" type veth peer name "${NS}b"
	ip -n "$NS" link set lo up
	ip -n "$NS" link set "${NS}a" up
	ip -n "$NS" link set "${NS}b" up
	ip -n "$NS" addr add fd00:dad::1/64 dev "${NS}b" nodad
	ip -n "$NS" addr add fd00:dad::1/64 dev "${NS}a"
	i=0
	until ip -n "$NS" -6 addr show dev "${NS}a" | grep -q dadfailed; do
		i=$((i + 1)); [ $i -lt 600 ] || break; sleep 0.1
	done
	if ! ip -n "$NS" -6 addr show dev "${NS}a" | grep -q 'fd00:dad::1/64.*dadfailed'; then
		fail ansible-doctor-problem "could not build a dadfailed address: $(ip -n "$NS" -6 -o addr | tr '\n' ';')"
		return
	fi
	prc=0
	timeout $GUARD ip netns exec "$NS" ansible-playbook -i "$inv" "$PLAYBOOK" -e ansible_become=false \
		-e dadshim_deb="$deb" >"$TMP/p4.out" 2>&1 || prc=$?
	if [ $prc != 0 ] && [ "$(recap "$TMP/p4.out" localhost failed)" = 1 ] &&
		grep -q 'dadshim-doctor found 1 problem(s): fd00:dad::1/64 on '"${NS}a"' failed DAD' "$TMP/p4.out" &&
		installed; then
		pass "ansible-doctor-problem (dadfailed fd00:dad::1/64 in the host's namespace: the doctor's problem fails the host, rc=$prc)"
	else
		fail ansible-doctor-problem "rc=$prc $(summary "$TMP/p4.out")"
	fi
	ip netns del "$NS"
}

# PID 1 is not systemd here: a restart cannot be done, and the play says so.
# A fresh install, so that the restart is due.
t_restart_here() {
	if [ -d /run/systemd/system ]; then
		note "systemd runs here: the restart path is left to tests/systemd"
		return
	fi
	dpkg --purge dadshim >/dev/null 2>&1 || true
	play "$TMP/p5.out" -e dadshim_deb="$deb" -e dadshim_restart=true
	if [ $prc != 0 ] && grep -q 'dadshim_restart=true, but no strongSwan unit is running here' "$TMP/p5.out" && installed &&
		[ "$(recap "$TMP/p5.out" localhost failed)" = 1 ]; then
		pass "ansible-restart-nosystemd (PID 1 is $(cat /proc/1/comm): dadshim_restart=true fails the host: 'no strongSwan unit is running'; restart tested under systemd in tests/systemd)"
	else
		fail ansible-restart-nosystemd "rc=$prc $(summary "$TMP/p5.out")"
	fi
}

t_absent() {
	# What dadshim-enable writes into /etc (masks here) must go too.
	/usr/sbin/dadshim-enable --disable --quiet >/dev/null 2>&1 || true
	masks=$(find /etc/systemd/system -path '*.service.d/dadshim.conf' 2>/dev/null | wc -l)
	play "$TMP/p6.out" -e dadshim_state=absent
	st=$(dpkg-query -W -f '${Status}' dadshim 2>/dev/null || echo 'not known')
	left=$(dropins_left)
	for f in "$lib" "/usr/lib/$ma/dadshim" /usr/sbin/dadshim /usr/sbin/dadshim-enable /usr/sbin/dadshim-doctor /var/cache/dadshim; do
		if [ -e "$f" ]; then left="$left $f"; fi
	done
	case $st in *not-installed*|'not known') gone=1 ;; *) gone=0 ;; esac
	if [ $prc = 0 ] && [ $gone = 1 ] && [ -z "$left" ] && [ "$(recap "$TMP/p6.out" localhost changed)" -gt 0 ]; then
		DEB_INSTALLED=0
		pass "ansible-absent (dpkg: '$st'; no drop-in, none of dadshim-enable's $masks masks, no library, tools or cached .deb left)"
	else
		fail ansible-absent "rc=$prc dpkg='$st' left:$left $(summary "$TMP/p6.out")"
	fi
	play "$TMP/p7.out" -e dadshim_state=absent
	if [ $prc = 0 ] && [ "$(recap "$TMP/p7.out" localhost changed)" = 0 ] && ! installed; then
		pass "ansible-absent-idempotent (second absent run: recap changed=0)"
	else
		fail ansible-absent-idempotent "rc=$prc $(summary "$TMP/p7.out")"
	fi
}

# make dist's repository, signed: the play adds it with its key, installs
# from it, and absent takes the source and the key away again.
t_repo() {
	gh=$TMP/gnupg
	if ! test_keys "$gh" archive >"$TMP/gpg.out" ||
		! GNUPGHOME=$gh DADSHIM_SIGN_KEY=archive@dadshim.invalid sh scripts/dist.sh >"$TMP/dist.out" 2>&1; then
		fail ansible-repo "make dist: $(tail -n 3 "$TMP/gpg.out" "$TMP/dist.out" | tr '\n' ' ')"
		return 1
	fi
	repo=$TMP/repo
	cp -r build/dist "$repo"
	# apt reads a file: repository as its sandbox user (_apt), as from a
	# web server's directory: this run's directory must let it through.
	chmod o+x "$TMP"
	chmod -R o+rX "$repo"
	play "$TMP/p9.out" -e dadshim_repo="file:$repo" -e dadshim_repo_key="$repo/dadshim-archive.gpg"
	st=$(dpkg-query -W -f '${Status} ${Version}' dadshim 2>/dev/null || true)
	src=$(cat /etc/apt/sources.list.d/dadshim.list 2>/dev/null || true)
	from=$(apt-cache policy dadshim 2>/dev/null | awk '/\*\*\*/ { getline; print $2; exit }')
	if [ $prc = 0 ] && [ "$st" = "install ok installed $VERSION" ] &&
		[ "$src" = "deb [signed-by=/usr/share/keyrings/dadshim-archive.gpg] file:$repo ./" ] &&
		cmp -s "$repo/dadshim-archive.gpg" /usr/share/keyrings/dadshim-archive.gpg && [ "$from" = "file:$repo" ]; then
		pass "ansible-repo (dadshim_repo, dadshim_repo_key: dpkg '$st', installed from $from; the source names the key: $src)"
	else
		fail ansible-repo "rc=$prc dpkg='$st' source='$src' installed from '$from' $(summary "$TMP/p9.out")"
	fi
	play "$TMP/p10.out" -e dadshim_repo="file:$repo" -e dadshim_repo_key="$repo/dadshim-archive.gpg"
	if [ $prc = 0 ] && [ "$(recap "$TMP/p10.out" localhost changed)" = 0 ]; then
		pass "ansible-repo-rerun (the same repository again: recap changed=0)"
	else
		fail ansible-repo-rerun "rc=$prc $(summary "$TMP/p10.out")"
	fi
	play "$TMP/p11.out" -e dadshim_state=absent
	left=''
	for f in /etc/apt/sources.list.d/dadshim.list /usr/share/keyrings/dadshim-archive.gpg "$lib"; do
		if [ -e "$f" ]; then left="$left $f"; fi
	done
	if [ $prc = 0 ] && ! installed && [ -z "$left" ]; then
		pass "ansible-repo-absent (package purged, the repository's source and key removed)"
	else
		fail ansible-repo-absent "rc=$prc left:$left $(summary "$TMP/p11.out")"
	fi
}

# One failed host stops the rollout: batches of one, the canary's package
# path is wrong, and the next host must never be touched.
t_batch_stop() {
	cat >"$TMP/inv2" <<EOF
[canary]
canary1 ansible_connection=local dadshim_deb=$TMP/no-such/dadshim_${VERSION}_$arch.deb
[rest]
host2 ansible_connection=local dadshim_deb=$deb
EOF
	prc=0
	timeout $GUARD ansible-playbook -i "$TMP/inv2" "$PLAYBOOK" -e ansible_become=false -e dadshim_serial=1 \
		>"$TMP/p8.out" 2>&1 || prc=$?
	if [ $prc != 0 ] && [ "$(recap "$TMP/p8.out" canary1 failed)" = 1 ] && ! grep -q '^host2 ' "$TMP/p8.out" &&
		grep -q 'no such file on the controller' "$TMP/p8.out" && ! installed && [ ! -e /var/cache/dadshim ]; then
		pass "ansible-batch-stop (canary1 failed in its batch of 1: host2 never ran, dpkg: not installed)"
	else
		fail ansible-batch-stop "rc=$prc installed=$(installed && echo yes || echo no) $(summary "$TMP/p8.out")"
	fi
}

start=$(date +%s)
if t_build && t_install; then
	t_rerun
	t_doctor
	t_problem
	t_restart_here
	t_absent
	t_repo
	t_batch_stop
fi
note "ansible suite: $(( $(date +%s) - start )) s"

if [ "$TAP_FAILS" -gt 0 ]; then
	tap_note "ansible: $TAP_FAILS failure(s)"
	exit 1
fi
tap_note "ansible: all passed"
