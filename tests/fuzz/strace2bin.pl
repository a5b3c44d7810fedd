#!/usr/bin/perl
# strace2bin.pl OUTDIR PREFIX DIRECTION < TRACE
# (TRACE: one thread's log, as strace -ff writes them)
# Writes the data of every send (DIRECTION "tx") or receive ("rx") call of
# an strace log made with `-e write=all -e read=all` as one binary file per
# datagram: OUTDIR/PREFIX-N.  Hex dumps are strace's, i.e. the bytes that
# really crossed the kernel boundary.
use strict;
use warnings;

my ($dir, $prefix, $want) = @ARGV;
die "usage: strace2bin.pl OUTDIR PREFIX tx|rx\n" unless defined $want;
my ($dirn, $bytes) = ('', '');
# Continue the numbering of earlier runs with the same prefix.
my $n = () = glob("$dir/$prefix-*");

sub flush {
	if ($dirn eq $want && length $bytes) {
		my $f = sprintf('%s/%s-%02d', $dir, $prefix, ++$n);
		open(my $fh, '>:raw', $f) or die "$f: $!\n";
		print $fh $bytes;
		close($fh);
	}
	$bytes = '';
}

while (my $line = <STDIN>) {
	$line =~ s/^\d+ +//;	# a pid, with strace -f into one file
	if ($line =~ /^(send|sendto|sendmsg|write)\(/) {
		flush();
		$dirn = 'tx';
	} elsif ($line =~ /^(recv|recvfrom|recvmsg|read)\(/) {
		flush();
		# A peek returns data that a later call reads again.
		$dirn = $line =~ /MSG_PEEK/ ? 'peek' : 'rx';
	} elsif ($line =~ /^ \| [0-9a-f]{5}  ((?:[0-9a-f]{2} ?)+)/) {
		(my $hex = substr($line, 10, 49)) =~ s/\s+//g;
		$bytes .= pack('H*', $hex);
	} elsif ($line !~ /^ \* \d+ bytes in buffer/) {
		flush();
		$dirn = '';
	}
}
flush();
print "$n\n";
