#!/usr/bin/perl
# badinput.pl PLAIN-TRACE SHIM-TRACE
# Compares what the kernel received in two strace logs of tests/badinput
# (made with -e write=all): every send-family call on a descriptor other
# than stdout/stderr, labelled with the case line badinput writes to
# stdout right after it.  Prints one line per case:
#   same CASE            identical calls, returns and bytes
#   nodad CASE           identical except IFA_F_NODAD, exactly as documented
#   undumped CASE        same returns, but strace could not show the bytes
#   differ CASE: WHY     anything else
# The NODAD expectation is computed here from the plain bytes, from the
# kernel's framing rules: on a NETLINK_ROUTE socket (per the trace's
# socket() and close() calls), in a send the kernel accepted, every IPv6
# RTM_NEWADDR request of a datagram whose
# messages fill it exactly gets (flags | IFA_F_NODAD) & ~IFA_F_OPTIMISTIC in
# ifa_flags and in a u32 IFA_FLAGS; nothing else changes.
use strict;
use warnings;

sub calls {
	my ($file) = @_;
	my (@calls, $cur, @pending);
	open(my $fh, '<', $file) or die "$file: $!\n";
	my $finish = sub {
		return unless $cur;
		if ($cur->{fd} == 1) {
			my ($case) = $cur->{bytes} =~ /^case ([^:]+):/;
			$_->{case} = $case // '?' for @pending;
			push @calls, @pending;
			push @calls, { case => $case // '?', name => 'result', fd => 1,
				       ret => $cur->{ret}, bytes => $cur->{bytes} };
			@pending = ();
		} elsif ($cur->{fd} != 2) {
			push @pending, $cur;
		}
		$cur = undef;
	};
	my %route;	# descriptors that are NETLINK_ROUTE sockets now
	while (my $l = <$fh>) {
		if ($l =~ /^socket\(AF_NETLINK, .*NETLINK_ROUTE\)\s+=\s+(\d+)/) {
			$finish->();
			$route{$1} = 1;
		} elsif ($l =~ /^close\((\d+)\)/) {
			$finish->();
			delete $route{$1};
		} elsif ($l =~ /^dup[23]\((\d+), (\d+).*\)\s+=\s+(\d+)/) {
			# the new number is what the old one is
			$finish->();
			if ($route{$1}) { $route{$3} = 1 } else { delete $route{$3} }
		} elsif ($l =~ /^(send|sendto|sendmsg|sendmmsg|write)\((-?\d+),.*\)\s+=\s+(-?\d+)( [A-Z]+)?/) {
			$finish->();
			$cur = { name => $1, fd => $2, ret => $3 . ($4 // ''), retn => $3, bytes => '',
				 route => $route{$2} ? 1 : 0 };
		} elsif ($l =~ /^ \| [0-9a-f]{5}  /) {
			(my $hex = substr($l, 10, 49)) =~ s/\s+//g;
			$cur->{bytes} .= pack('H*', $hex) if $cur;
		} elsif ($l !~ /^ \* \d+ bytes in buffer/) {
			$finish->();
		}
	}
	$finish->();
	push @calls, map { { %$_, case => '(after the last case)' } } @pending;
	return @calls;
}

# The datagram as the shim documents it should reach the kernel.
sub nodad {
	my ($b) = @_;
	my ($len, $off) = (length $b, 0);
	my @msgs;
	while (1) {
		return $b if $len - $off < 16;
		my $l = unpack('V', substr($b, $off, 4));
		return $b if $l < 16 || $l > $len - $off;
		push @msgs, [$off, $l];
		last if $len - $off <= (($l + 3) & ~3);
		$off += ($l + 3) & ~3;
	}
	my $out = $b;
	for my $m (@msgs) {
		my ($o, $l) = @$m;
		my ($type, $flags) = unpack('vv', substr($b, $o + 4, 4));
		next unless $type == 20 && ($flags & 1) && $l >= 24;
		next unless ord(substr($b, $o + 16, 1)) == 10;
		my ($pos, $fat) = ($o + 24, undef);
		while ($pos + 4 <= $o + $l) {
			my ($al, $at) = unpack('vv', substr($b, $pos, 4));
			last if $al < 4 || $al > $o + $l - $pos;
			$fat = [$pos + 4, $al - 4] if ($at & 0x3fff) == 8;
			$pos += ($al + 3) & ~3;
		}
		next if $fat && $fat->[1] != 4;
		my $eff = $fat ? unpack('V', substr($b, $fat->[0], 4))
			       : ord(substr($b, $o + 18, 1));
		next if ($eff & 0x02) && !($eff & 0x04);
		substr($out, $o + 18, 1) = chr((ord(substr($b, $o + 18, 1)) | 0x02) & ~0x04 & 0xff);
		substr($out, $fat->[0], 4) = pack('V', ($eff | 0x02) & ~0x04 & 0xffffffff) if $fat;
	}
	return $out;
}

my @p = calls($ARGV[0]);
my @s = calls($ARGV[1]);
my (%order, %verdict);
for my $i (0 .. ($#p > $#s ? $#p : $#s)) {
	my ($a, $b) = ($p[$i], $s[$i]);
	my $case = ($a // $b)->{case};
	$order{$case} //= $i;
	my $v = \$verdict{$case};
	$$v //= 'same';
	next if $$v =~ /^differ/;
	if (!$a || !$b) {
		$$v = 'differ: ' . ($a ? 'a call missing with the shim' : 'an extra call with the shim');
	} elsif ($a->{case} ne $b->{case}) {
		$$v = "differ: calls out of step ($a->{case} / $b->{case})";
	} elsif ($a->{name} eq 'result') {
		if ($a->{bytes} ne $b->{bytes}) {
			# one verdict per line: the result lines end in newlines
			my ($x, $y) = ($a->{bytes}, $b->{bytes});
			s/\n+$//, s/\n/ /g for $x, $y;
			$$v = "differ: result \"$x\" became \"$y\"";
		}
	} elsif ($a->{name} eq 'sendmmsg' && $b->{name} eq 'sendmsg' && $a->{route} &&
		 $a->{fd} == $b->{fd} && $a->{retn} < 0 && $a->{ret} eq $b->{ret}) {
		# documented: a sendmmsg the shim must act on goes out as one
		# sendmsg per datagram; the first one failed, as sendmmsg did
		$$v = 'nodad' if $$v eq 'same';
	} elsif ($a->{name} ne $b->{name} || $a->{fd} != $b->{fd} || $a->{ret} ne $b->{ret}) {
		$$v = "differ: $a->{name}($a->{fd}) = $a->{ret} became $b->{name}($b->{fd}) = $b->{ret}";
	} elsif ($a->{bytes} eq '' && $a->{retn} > 0) {
		# strace dumps no iovec array that starts with an empty entry
		$$v = 'undumped';
	} elsif ($a->{bytes} ne $b->{bytes}) {
		# also for a send the kernel then refused: the shim cannot know
		# beforehand, and sends its NODAD copy
		if ($a->{route} && $b->{bytes} eq nodad($a->{bytes})) {
			$$v = 'nodad';
		} else {
			my $n = 0;
			$n++ while $n < length($a->{bytes}) &&
				substr($a->{bytes}, $n, 1) eq substr($b->{bytes}, $n, 1);
			$$v = sprintf('differ: byte %d of %s is not the documented change', $n, $a->{name});
		}
	} elsif ($a->{route} && $a->{retn} >= 0 && nodad($a->{bytes}) ne $a->{bytes}) {
		$$v = 'differ: NODAD expected, bytes unchanged';
	}
}
for my $case (sort { $order{$a} <=> $order{$b} } keys %order) {
	if ($verdict{$case} =~ /^differ: (.*)/) {
		print "differ $case: $1\n";
	} else {
		print "$verdict{$case} $case\n";
	}
}
