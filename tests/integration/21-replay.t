# raqib replay: a labeled stream replayed as one site whose moderators
# decide every held comment by its label. A made-up campaign the model does
# not know at first is flagged once moderators have marked enough of it;
# ordinary comments are not; --decide-first adds the row for the part no
# moderator decided; bad input is named.
use strict;
use warnings;
use utf8;
use lib 'tests/integration/lib';
use Test::More;
use File::Temp qw(tempdir);
use JSON::PP;

my $raqib = $ENV{RAQIB} // 'build/raqib';
my $dir = tempdir(CLEANUP => 1);
mkdir "$dir/rules";
mkdir "$dir/rules/models";
$ENV{RAQIB_NO_HYPERSCAN} = 1;
use Encode qw(decode_utf8);
sub run { my $out = decode_utf8(scalar `@_ 2>&1`); return ($? >> 8, $out) }
sub write_lines {
    my ($path, @objs) = @_;
    open my $fh, '>:raw', $path or die $!;
    print $fh JSON::PP->new->utf8->canonical->encode($_), "\n" for @objs;
    close $fh;
}

# A prior that knows ordinary spam and news talk, not the campaign.
my @prior = ((map { { text => "cheap loans call now offer $_", label => 'spam' } } 1 .. 30),
             (map { { text => "the minister spoke about the budget today $_", label => 'ham' } } 1 .. 30));
write_lines("$dir/prior.jsonl", @prior);
my ($rc, $out) = run("$raqib rules train --positive spam --negative ham $dir/rules/models/spam.model < $dir/prior.jsonl");
is $rc, 0, 'prior trained' or diag $out;
open my $fh, '>', "$dir/rules/a.rules" or die $!;
print $fh "rule LEARNED_SPAM\n  learned content models/spam.model >= 0.99 site\n  score 3\n";
close $fh;

# The stream: 40 campaign comments and 40 ordinary ones, interleaved.
my @words = qw(zorblax quintoval frebbish mardoon);
my @stream;
for my $i (1 .. 40) {
    push @stream, { text => "$words[$i % 4] $words[($i + 1) % 4] gummies season $i", label => 'spam' };
    push @stream, { text => "the council voted on the school budget item $i", label => 'ham' };
}
write_lines("$dir/stream.jsonl", @stream);
($rc, $out) = run("$raqib replay --rules $dir/rules --window 40 < $dir/stream.jsonl");
is $rc, 0, 'replay runs' or diag $out;
like $out, qr/^comments\s+spam caught\s+ham as spam\s+abuse flagged\s+clean flagged\s+held\s+bad approved$/m, 'header';
my @rows = $out =~ /^(\d+-\d+|all)\s.*$/mg;
is_deeply \@rows, ['1-40', '41-80', 'all'], 'a row per window of 40, and the total';

# spam caught is the spam folder: with one rule of score 3 nothing gets
# there, so flagging is measured with a rule that sends it to spam.
open $fh, '>', "$dir/rules/a.rules" or die $!;
print $fh "rule LEARNED_SPAM\n  learned content models/spam.model >= 0.99 site\n  score 10\n";
close $fh;
($rc, $out) = run("$raqib replay --rules $dir/rules --window 40 < $dir/stream.jsonl");
my ($fresh, $learned) = $out =~ /^41-80\s+([\d.]+) →\s+([\d.]+)/m;
ok defined $fresh, 'second window has spam figures' or diag $out;
cmp_ok $fresh, '<', 20, "a fresh site catches little of the campaign ($fresh %)";
cmp_ok $learned, '>=', 80, "the learning site catches most of it after its moderators' decisions ($learned %)";
my ($ham_fresh, $ham_learned) = $out =~ /^all\s+[\d.]+ →\s+[\d.]+\s+([\d.]+) →\s+([\d.]+)/m;
is $ham_learned, '0.0', 'no ordinary comment goes to spam';

($rc, $out) = run("$raqib replay --rules $dir/rules --window 40 --decide-first 25 < $dir/stream.jsonl");
like $out, qr/^undecided part\s/m, '--decide-first adds the row for the undecided part';
like $out, qr/decide the held comments of the first 25 %/, 'and says so in the header';

# Bad input and options are named.
open $fh, '>', "$dir/bad.jsonl" or die $!;
print $fh qq({"text":"x","label":"spam"}\nnot json\n);
close $fh;
($rc, $out) = run("$raqib replay --rules $dir/rules < $dir/bad.jsonl");
is $rc, 1, 'a line that is not JSON fails';
like $out, qr/raqib: line 2: not a JSON object/, 'and is named';
($rc, $out) = run("$raqib replay --rules $dir/rules --window 0 < $dir/stream.jsonl");
is $rc, 2, 'a bad --window is a usage error';
like $out, qr/--window takes a count/, 'named';
($rc, $out) = run("$raqib replay --rules $dir/rules < /dev/null");
is $rc, 1, 'an empty stream fails';
like $out, qr/no labeled comment read/, 'and says why';
done_testing;
