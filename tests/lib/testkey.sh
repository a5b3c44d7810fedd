# shellcheck shell=sh
# tests/lib/testkey.sh: throwaway gpg keys for the suites that sign
# make dist's repository (deploy, ansible, systemd).  Sourced.

# test_keys GNUPGHOME NAME...: a new GNUPGHOME with an ed25519 signing key
# per NAME, user id "dadshim test NAME <NAME@dadshim.invalid>"; gpg's output
# on stdout.  0, or gpg's failure.
test_keys() {
	_gh=$1
	shift
	mkdir -m 700 "$_gh" || return 1
	for _k in "$@"; do
		GNUPGHOME=$_gh gpg --batch --passphrase '' --quick-gen-key "dadshim test $_k <$_k@dadshim.invalid>" \
			ed25519 sign never 2>&1 || return 1
	done
}
