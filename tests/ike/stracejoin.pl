#!/usr/bin/perl
# Print an `strace -f` log with every system call on one line: a call that
# another thread interrupted ("<unfinished ...>") is joined with its
# "<... NAME resumed>" rest, in the place where it completed.
# Usage: stracejoin.pl STRACE
use strict;
use warnings;

my %open;    # thread id -> first part of its unfinished call
# strace pads short calls before " = RET"; a joined call is padded differently.
sub unpad {
	my ($l) = @_;
	$l =~ s/\)\s+= (\S+.*)$/) = $1/;
	return $l;
}
while (my $line = <>) {
	chomp $line;
	if ($line =~ /^(\d+)\s+(.*) <unfinished \.\.\.>$/) {
		$open{$1} = $2;
	} elsif ($line =~ /^(\d+)\s+<\.\.\. \w+ resumed>\s?(.*)$/) {
		my ($tid, $rest) = ($1, $2);
		print unpad("$tid  " . (delete($open{$tid}) // '') . $rest), "\n";
	} else {
		print unpad($line), "\n";
	}
}
