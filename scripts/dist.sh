#!/bin/sh
# scripts/dist.sh: what a fleet downloads (make dist), from what make deb
# left in build/.  build/dist/ gets:
#   dadshim_V_ARCH.deb, dadshim-dbgsym_V_ARCH.deb   every architecture built
#   dadshim_V.dsc, dadshim_V.tar.xz                  the source package
#   Packages, Packages.gz, Release                   a flat apt repository
#   InRelease, Release.gpg, dadshim-archive.gpg      when DADSHIM_SIGN_KEY
#                                                    names a gpg key
#   SHA256SUMS                                       of every file above
# Served from a web server or a path, e.g.
#   deb [signed-by=/usr/share/keyrings/dadshim-archive.gpg] file:/srv/dadshim ./
# Needs dpkg-scanpackages (dpkg-dev), apt-ftparchive (apt-utils), and gpg
# for signing.  Exits non-zero, naming what is missing, when it cannot.
set -eu

cd "$(dirname "$0")/.."
VERSION=$(dpkg-parsechangelog -l scripts/deb/changelog -S Version)
OUT=build/dist
die() { echo "dist: $*" >&2; exit 1; }

for t in dpkg-scanpackages apt-ftparchive sha256sum; do
	command -v "$t" >/dev/null 2>&1 || die "$t not found; run sh scripts/deps.sh"
done
set -- build/dadshim_"$VERSION"_*.deb
[ -f "$1" ] || die "no build/dadshim_${VERSION}_ARCH.deb: run make deb first"
for f in "build/dadshim_$VERSION.dsc" "build/dadshim_$VERSION.tar.xz"; do
	[ -f "$f" ] || die "no $f: run make deb first"
done

rm -rf "$OUT"
mkdir -p "$OUT"
cp build/dadshim_"$VERSION"_*.deb build/dadshim-dbgsym_"$VERSION"_*.deb \
	"build/dadshim_$VERSION.dsc" "build/dadshim_$VERSION.tar.xz" "$OUT/"

# A flat repository ("./" as the suite): Packages beside the files.
cd "$OUT"
dpkg-scanpackages --multiversion . /dev/null 2>/dev/null >Packages
gzip -9n <Packages >Packages.gz
# Origin/Label let apt pin it; Date: what apt checks against clock skew.
apt-ftparchive -o APT::FTPArchive::Release::Origin=dadshim \
	-o APT::FTPArchive::Release::Label=dadshim \
	-o APT::FTPArchive::Release::Suite=stable \
	-o "APT::FTPArchive::Release::Architectures=$(sed -n 's/^Architecture: //p' Packages | sort -u | paste -sd " " -)" \
	release . >Release.new
mv Release.new Release

if [ -n "${DADSHIM_SIGN_KEY:-}" ]; then
	command -v gpg >/dev/null 2>&1 || die "gpg not found (needed for DADSHIM_SIGN_KEY); run sh scripts/deps.sh"
	gpg --batch --yes --local-user "$DADSHIM_SIGN_KEY" --clearsign -o InRelease Release ||
		die "gpg could not sign with DADSHIM_SIGN_KEY=$DADSHIM_SIGN_KEY"
	gpg --batch --yes --local-user "$DADSHIM_SIGN_KEY" --armor --detach-sign -o Release.gpg Release
	# The public key, binary, for signed-by= on the hosts.
	gpg --batch --export "$DADSHIM_SIGN_KEY" >dadshim-archive.gpg
	[ -s dadshim-archive.gpg ] || die "gpg exported no public key for $DADSHIM_SIGN_KEY"
fi

# Last, so that it covers the repository's files too.
find . -maxdepth 1 -type f ! -name 'SHA256SUMS*' -printf '%f\n' | LC_ALL=C sort | xargs sha256sum >SHA256SUMS.new
mv SHA256SUMS.new SHA256SUMS
echo "dist: build/dist/ ($(wc -l <SHA256SUMS) files, $(grep -c '^Package:' Packages) packages${DADSHIM_SIGN_KEY:+, signed by $DADSHIM_SIGN_KEY})"
