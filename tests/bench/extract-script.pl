#!/usr/bin/perl
# extract-script.pl FILE NAME — print the Lua text of the C string literal
# `static const char NAME[] = "..." "...";` in FILE, unescaped, so a bench can
# SCRIPT LOAD exactly what raqibd sends (tests/bench/redis-cost.sh).
use strict;
use warnings;
my ($file, $name) = @ARGV;
open my $f, '<', $file or die "$file: $!";
local $/;
my $src = <$f>;
$src =~ /\b\Q$name\E\[\]\s*=\s*(.*?);\s*\n/s or die "no $name in $file\n";
my $lits = $1;
my $out = '';
while ($lits =~ /"((?:[^"\\]|\\.)*)"/g) { $out .= $1 }
$out =~ s/\\(.)/$1 eq 'n' ? "\n" : $1 eq 't' ? "\t" : $1/ge;
print $out;
