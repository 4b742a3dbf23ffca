# Starting raqibd: bad configuration and broken rules stop it with a clear message;
# RAQIB_* variables configure it, and log_format json writes JSON lines.
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

{
    local $ENV{RAQIB_THREADS} = 'two';
    ($rc, $out) = run_raqibd('--listen', '127.0.0.1:1');
    is $rc, 2, 'a bad RAQIB_* value stops the start';
    like $out, qr/RAQIB_THREADS: threads wants a whole number/, 'naming the variable';
}

{
    # Tokens and the log format from the environment only; a flag still wins.
    local $ENV{RAQIB_TOKEN} = 'submit site env-secret; admin ops env-admin';
    local $ENV{RAQIB_LOG_FORMAT} = 'json';
    local $ENV{RAQIB_THREADS} = '7';
    my $d = RaqibTest::new_raqibd(args => ['--threads', '1']);
    my $comment = { post_id => 1, author => 'Layla', email => 'layla@example.com', content => 'شكرا' };
    my ($status) = $d->post('/v1/check', $comment);
    is $status, 401, 'tokens from RAQIB_TOKEN: none sent, 401';
    ($status) = $d->post('/v1/check', $comment, { Authorization => 'Bearer env-secret' });
    is $status, 200, 'the RAQIB_TOKEN secret is accepted';
    ($status) = $d->request('POST', '/v1/rules/reload', undef, { Authorization => 'Bearer env-admin' });
    is $status, 200, 'the second token of RAQIB_TOKEN too';
    ($rc, $out) = run_raqibd('--listen', "127.0.0.1:$d->{port}", '--healthcheck');
    is $rc, 1, '--healthcheck: exit 1 while Redis is down';
    like $out, qr{/readyz answered 503}, 'saying what /readyz answered';
    is $d->stop, 0, 'SIGTERM: exit 0';
    my @lines = split /\n/, $d->log_text;
    my @objs = map { RaqibTest::json_of($_) } @lines;
    is scalar(grep { !defined } @objs), 0, 'every log line is a JSON object' or diag $d->log_text;
    like $objs[0]{time} // '', qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, 'with an RFC 3339 time';
    ok((grep { ($_->{message} // '') =~ /with 1 worker\(s\)/ } @objs), '--threads 1 wins over RAQIB_THREADS');
    my ($access) = grep { ($_->{path} // '') eq '/v1/check' && $_->{status} == 200 } @objs;
    ok $access, 'an access line with the request fields';
    is $access->{method}, 'POST';
    is $access->{level}, 'info';
    like $access->{duration_ms}, qr/^\d+(\.\d+)?$/, 'duration_ms is a number';
    like $access->{message}, qr{^POST /v1/check 200 }, 'and the text line as message';
}

{
    # --healthcheck reads the same configuration: here the port comes from RAQIB_LISTEN.
    my $redis = RaqibTest::new_redis();
    my $d = RaqibTest::new_raqibd(redis => $redis);
    local $ENV{RAQIB_LISTEN} = "127.0.0.1:$d->{port}";
    RaqibTest::wait_until('/readyz', sub { ($d->get('/readyz'))[0] == 200 }, 10);
    ($rc, $out) = run_raqibd('--healthcheck');
    is $rc, 0, '--healthcheck: exit 0 when /readyz answers 200' or diag $out;
    ($rc, $out) = run_raqibd('--healthcheck', '--listen', '127.0.0.1:1');
    is $rc, 1, '--healthcheck: exit 1 when nothing listens';
    like $out, qr/connect to 127\.0\.0\.1 port 1: Connection refused/;
}

done_testing;
