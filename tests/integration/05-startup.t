# Starting raqibd: bad configuration and broken rules stop it with a clear message.
use strict;
use warnings;
use lib 'tests/integration/lib';
use RaqibTest;
use Test::More;
use File::Temp qw(tempdir);

my $raqibd = $ENV{RAQIBD} // 'build/raqibd';
my $dir = tempdir(CLEANUP => 1);

sub run_raqibd {
    my $out = `$raqibd @_ 2>&1`;
    return ($? >> 8, $out);
}

my ($rc, $out) = run_raqibd('--help');
is $rc, 0, '--help exits 0';
like $out, qr/--listen.*--redis.*--rules/s, 'lists the directives';

($rc, $out) = run_raqibd('--lissten', '127.0.0.1:1');
is $rc, 2, 'unknown flag: exit 2';
like $out, qr/unknown directive 'lissten'/;

($rc, $out) = run_raqibd('--max_body', 'lots');
is $rc, 2;
like $out, qr/max_body wants a whole number/;

open my $fh, '>', "$dir/bad.conf" or die;
print $fh "listen 127.0.0.1:9\n# fine\nthreads two\n";
close $fh;
($rc, $out) = run_raqibd('--config', "$dir/bad.conf");
is $rc, 2;
like $out, qr{bad\.conf:3: threads wants}, 'file:line in config errors';

($rc, $out) = run_raqibd('--redis', 'http://x');
is $rc, 2;
like $out, qr/redis URL/;

mkdir "$dir/rules";
open $fh, '>', "$dir/rules/10-broken.rules" or die;
print $fh "rule GOOD\n  match content /ok/\n  score 1\n\nrule BAD\n  match content /(unclosed/\n  score 2\n";
close $fh;
($rc, $out) = run_raqibd('--rules', "$dir/rules", '--listen', '127.0.0.1:' . RaqibTest::free_port());
is $rc, 2, 'a broken rule file stops the start';
like $out, qr/10-broken\.rules:6:/, 'with file:line';

($rc, $out) = run_raqibd('--listen', '0.0.0.0:' . RaqibTest::free_port(), '--rules', $ENV{RULES} // 'rules');
isnt $rc, 0, 'development mode refuses a non-loopback address';
like $out, qr/loopback only/;

done_testing;
