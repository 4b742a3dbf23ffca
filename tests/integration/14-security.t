# Security odds and ends: moderator-only fields (email, IP) never reach a
# submit-role answer or an info-level log line; a config file holding tokens
# that others can read draws a warning at start; secrets stay out of logs.
# (Constant-time tokens: src/auth.c; development mode binds loopback only:
# 05-startup.t; secrets in 02-auth.t.)
use strict;
use warnings;
use utf8;
use lib 'tests/integration/lib';
use RaqibTest;
use Test::More;
use File::Temp ();

my $redis = new_redis();
my $submit = 'submit-secret-5c1d9e';
my $moderate = 'moderate-secret-77ab03';
my $config = "token submit backend $submit\ntoken moderate layla $moderate\n";

subtest 'email and IP: never in submit-role answers, never in info logs' => sub {
    my $d = new_raqibd(redis => $redis, config => $config, token => $submit);
    wait_until('readyz', sub { ($d->get('/readyz'))[0] == 200 });
    my $email = 'private.person@example.org';
    my $ip = '198.51.100.77';
    my ($s, $j, $r) = $d->post('/v1/comments', { post_id => 1, author => 'P', email => $email, ip => $ip,
                                                 content => 'a private comment' });
    is $s, 202;
    unlike $r->{content}, qr/\Q$email\E|\Q$ip\E/, 'not in the 202';
    my ($gs, $g, $gr) = $d->get("/v1/comments/$j->{id}");
    is $gs, 200;
    ok !exists $g->{email} && !exists $g->{ip}, 'submit role: no email or ip fields';
    unlike $gr->{content}, qr/\Q$email\E|\Q$ip\E/, 'nor anywhere in the body';
    my ($ms, $m) = $d->get("/v1/comments/$j->{id}", { Authorization => "Bearer $moderate" });
    is $m->{email}, $email, 'moderate role sees the email';
    is $m->{ip}, $ip, 'and the ip';
    # A duplicate and a flood (both refused) must not echo them either.
    my ($ds, undef, $dr) = $d->post('/v1/comments', { post_id => 1, author => 'P', email => $email, ip => $ip,
                                                      content => 'a private comment' });
    unlike $dr->{content}, qr/\Q$email\E|\Q$ip\E/, "not in the $ds answer";
    my $log = $d->log_text;
    unlike $log, qr/\Q$email\E/, 'the email is not in the log';
    unlike $log, qr/\Q$ip\E/, 'the ip is not in the log';
    unlike $log, qr/\Q$submit\E|\Q$moderate\E/, 'no secret in the log';
    $d->check_log;
    is $d->stop, 0;
};

subtest 'a token config readable by others draws a warning; chmod 600 does not' => sub {
    my $dir = File::Temp::tempdir(CLEANUP => 1);
    my $path = "$dir/open.conf";
    open my $fh, '>', $path or die $!;
    print $fh $config;
    close $fh;
    chmod 0644, $path;
    my $d = new_raqibd(redis => $redis, args => ['--config', $path], token => $submit);
    like $d->log_text, qr/config file \Q$path\E is readable by other users.*chmod 600/, 'warned';
    unlike $d->log_text, qr/\Q$submit\E/, 'without printing what is in it';
    is $d->stop, 0;
    chmod 0600, $path;
    my $d2 = new_raqibd(redis => $redis, args => ['--config', $path], token => $submit);
    unlike $d2->log_text, qr/readable by other users/, 'no warning at 0600';
    is $d2->stop, 0;
};

done_testing;
