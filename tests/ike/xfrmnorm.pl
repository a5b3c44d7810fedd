#!/usr/bin/perl
# Normalise the NETLINK_XFRM traffic of one strace file (strace -f -yy -xx,
# one call per line: see stracejoin.pl)
# so that two runs of the same IKE scenario can be compared byte for byte.
# Usage: xfrmnorm.pl STRACE STATEFILE...
# Prints one line per system call on a NETLINK_XFRM socket: direction, the
# decoded netlink headers and the payload bytes in hex.  Only what varies
# legitimately between runs is masked:
#  - nlmsg_seq, nlmsg_pid, the socket's port id, thread ids;
#  - SPIs and keys, wherever they occur (their values are read from the
#    `ip xfrm state` output in STATEFILEs);
#  - kernel timestamps (lifetime_cur add/use time, XFRMA_LASTUSED,
#    XFRMA_LTIME_VAL) and charon's randomised soft expiry (rekey jitter).
# perl-base is Essential in Debian: always present where the tests run.
use strict;
use warnings;

my ($trace, @states) = @ARGV;
die "usage: $0 STRACE STATEFILE...\n" unless defined $trace && @states;

# SPIs and keys, in hex, as the kernel reports them.
my %secret;
for my $f (@states) {
	open my $fh, '<', $f or die "$f: $!\n";
	while (<$fh>) {
		$secret{$1} = 'SPI' while /\bspi 0x([0-9a-f]{8})\b/g;
		$secret{$1} = 'KEY' while /\s0x([0-9a-f]{16,})\b/g;
	}
	close $fh;
}
# Longest first, so a key is never cut by a shorter match inside it.
my @secrets = sort { length($b) <=> length($a) } keys %secret;

sub zero {    # ($bytes_ref, $offset, $len)
	my ($b, $off, $len) = @_;
	return if $off + $len > length($$b);
	substr($$b, $off, $len) = "\0" x $len;
}

# Attributes after the fixed part: mask the timestamps.
sub attrs {
	my ($b, $off) = @_;
	while ($off + 4 <= length($$b)) {
		my ($len, $type) = unpack('v v', substr($$b, $off, 4));
		last if $len < 4 || $off + $len > length($$b);
		$type &= 0x3fff;
		if ($type == 15) {    # XFRMA_LASTUSED
			zero($b, $off + 4, $len - 4);
		} elsif ($type == 9) {    # XFRMA_LTIME_VAL: add_time, use_time
			zero($b, $off + 4 + 16, 16);
		}
		$off += ($len + 3) & ~3;
	}
}

sub payload {
	my ($type, $esc) = @_;
	(my $hex = $esc) =~ s/\\x//g;
	# Secrets are masked where they start on a byte boundary.
	for my $s (@secrets) {
		my $pos = 0;
		while (($pos = index($hex, $s, $pos)) >= 0) {
			if ($pos % 2 == 0) {
				my $c = $secret{$s} eq 'SPI' ? 's' : 'x';
				substr($hex, $pos, length($s)) = $c x length($s);
			}
			$pos += length($s);
		}
	}
	# Positional masks need bytes; masked hex digits stay as they are.
	(my $bin_src = $hex) =~ tr/xs/00/;
	my $b = pack('H*', $bin_src);
	if ($type =~ /^XFRM_MSG_(NEWSA|UPDSA|ALLOCSPI|EXPIRE)$/) {
		# struct xfrm_usersa_info: lft at 96, curlft at 160
		zero(\$b, 128, 8);    # lft.soft_add_expires_seconds (jitter)
		zero(\$b, 176, 16);   # curlft.add_time, curlft.use_time
		attrs(\$b, $type eq 'XFRM_MSG_ALLOCSPI' ? 232 : 224);
	} elsif ($type =~ /^XFRM_MSG_(NEWPOLICY|UPDPOLICY|POLEXPIRE)$/) {
		# struct xfrm_userpolicy_info: curlft at 120
		zero(\$b, 136, 16);   # curlft.add_time, curlft.use_time
		attrs(\$b, 168);
	}
	my $out = unpack('H*', $b);
	# Put the secret markers back over the digits they replaced.
	for my $i (0 .. length($hex) - 1) {
		my $c = substr($hex, $i, 1);
		substr($out, $i, 1) = $c if $c eq 'x' || $c eq 's';
	}
	return $out;
}

open my $in, '<', $trace or die "$trace: $!\n";
while (my $line = <$in>) {
	next unless $line =~ /<NETLINK:\[XFRM:/;
	next if $line =~ /= -1 E/;    # EAGAIN polls etc. carry no message
	$line =~ s/^\d+\s+//;
	my $dir = $line =~ /^(send|write)/ ? 'send' : 'recv';
	$line =~ s/\d+<NETLINK:\[XFRM:\d+\]>/FD/g;
	$line =~ s/nlmsg_seq=\d+/nlmsg_seq=S/g;
	$line =~ s/nlmsg_pid=-?\d+/nlmsg_pid=P/g;
	$line =~ s/nl_pid=-?\d+/nl_pid=P/g;
	# Each message: its decoded header followed by its payload string.
	$line =~ s/(nlmsg_type=(\w+)[^}]*\}, )"((?:\\x[0-9a-f]{2})*)"/$1 . '"' . payload($2, $3) . '"'/ge;
	print "$dir $line";
}
close $in;
