# The operators' CLI on small labeled corpora: rules lint (errors, warnings,
# --strict), rules test (summary, confusion, S/O) and --diff.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);

my $raqib = $ENV{RAQIB} // 'build/raqib';
my $rules = $ENV{RULES} // 'rules';
my $dir = tempdir(CLEANUP => 1);

sub run { my $out = `@_ 2>&1`; return ($? >> 8, $out) }
sub write_file { my ($p, $t) = @_; open my $fh, '>', $p or die; print $fh $t; close $fh }

my ($rc, $out) = run("$raqib rules lint $rules");
is $rc, 0, 'the shipped rules lint with exit 0';
like $out, qr/^\d+ rules OK, \d+ warnings?$/m, 'with a count of rules and warnings';

mkdir "$dir/bad";
write_file("$dir/bad/a.rules", "rule A\n  match content /x/\n  score 1\nrule B\n  match content /(x/\n  score 1\n");
($rc, $out) = run("$raqib rules lint $dir/bad");
is $rc, 1, 'a broken file: exit 1';
like $out, qr/^a\.rules:5: missing closing parenthesis/, 'file:line: message';

mkdir "$dir/warn";
write_file("$dir/warn/a.rules", "rule A\n  match content:squash /what\\s+app/\n  score 1\n");
($rc, $out) = run("$raqib rules lint $dir/warn");
is $rc, 0, 'warnings alone: exit 0';
like $out, qr/^a\.rules:2: warning: '\\s' can never match in the squash view/m, 'the warning';
($rc) = run("$raqib rules lint --strict $dir/warn");
is $rc, 1, '--strict: exit 1';

($rc, $out) = run("$raqib rules test --quiet $rules < tests/rules/corpus.jsonl");
is $rc, 0;
like $out, qr/^# positives caught as spam: 8 \(100\.0%\)   negatives marked spam: 0 \(0\.0%\)/m, 'the spam corpus';
like $out, qr/^#   positive \(spam\/abusive\)\s+8\s+0\s+0$/m, 'confusion row for positives';
like $out, qr/^#   negative \(ham\/clean\)\s+0\s+8\s+0$/m, 'confusion row for negatives';
like $out, qr/^# AR_LOVE_BINDING\s+2\s+25\.00\s+0\s+0\.00\s+1\.00\s+10$/m, 'a rule with hits, shares and S/O';

($rc, $out) = run("$raqib rules test --quiet $rules < tests/rules/abuse.jsonl");
like $out, qr/^# positives flagged: 5 \(100\.0%\)   negatives flagged: 0 \(0\.0%\)/m, 'abuse corpus: flagged, the traps not';

mkdir "$dir/other";
write_file("$dir/other/a.rules", "rule ANY_SHEIKH\n  match content /شيخ/\n  score 10\n");
($rc, $out) = run("$raqib rules test --diff $dir/other $rules < tests/rules/corpus.jsonl");
is $rc, 0;
my @changed = grep { /^\d+\t/ } split /\n/, $out;
is scalar(@changed), 7, 'seven comments change decision';
like $changed[0], qr/^2\tpos\tspam \d+ -> pending 0\tAR_LOVE_BINDING/, 'LINE, label, decisions, rules';
like $out, qr/^# --diff \S+: decision changed on 7 of 16 comments \(0 toward the label, 7 away from it\)$/m, 'summary';

done_testing;
