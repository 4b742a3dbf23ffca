# What was accepted stays accepted: restarts, Redis outages and timeouts,
# clients that leave early, and SIGTERM in the middle of a request.
use strict;
use warnings;
use utf8;
use lib 'tests/integration/lib';
use RaqibTest;
use Test::More;
use IO::Socket::INET;
use File::Temp ();
use JSON::PP;
use Time::HiRes qw(sleep);

my $redis = new_redis();
my $n = 0;
# A spool path under a regular file can never be written: with it, an outage
# answers 503 as below. With a working spool it answers 202 (09-outage.t).
my $no_spool = File::Temp::tempdir(CLEANUP => 1) . '/file';
{ open my $fh, '>', $no_spool or die $!; close $fh }
sub comment { $n++; return { post_id => 1, author => "R$n", email => "r$n\@example.com", content => "comment $n" } }

subtest 'a 202ed comment survives a daemon restart' => sub {
    my $d = new_raqibd(redis => $redis);
    wait_until('readyz', sub { ($d->get('/readyz'))[0] == 200 });
    my ($s, $j) = $d->post('/v1/comments', comment());
    is $s, 202;
    is $d->stop, 0, 'stopped cleanly';
    my $d2 = new_raqibd(redis => $redis);
    wait_until('readyz', sub { ($d2->get('/readyz'))[0] == 200 });
    my ($gs, $g) = $d2->get("/v1/comments/$j->{id}");
    is $gs, 200, 'still there';
    is $g->{content}, "comment $n";
    $d2->check_log;
    is $d2->stop, 0;
};

subtest 'Redis unreachable and no spool: 503 with retry_after, readyz says so, then recovers' => sub {
    my $port = RaqibTest::free_port();
    my $d = new_raqibd(redis_url => "redis://127.0.0.1:$port/0", args => ['--spool', "$no_spool/spool"]);
    my ($s, $j, $r) = $d->post('/v1/comments', comment());
    is $s, 503, '503 while the store is down';
    is $j->{error}, 'unavailable';
    ok $j->{retry_after} >= 1, 'retry_after';
    is $r->{headers}{'retry-after'}, '1';
    is(($d->get('/readyz'))[0], 503, 'not ready');
    my $late = bless { port => $port, dir => File::Temp::tempdir(CLEANUP => 1), args => [] }, 'RaqibTest::Redis';
    $late->start;
    wait_until('reconnect', sub { ($d->get('/readyz'))[0] == 200 }, 15);
    ($s) = $d->post('/v1/comments', comment());
    is $s, 202, 'accepted once Redis is back';
    like $d->log_text, qr/unreachable|lost/, 'the outage is logged';
    $d->check_log;
    is $d->stop, 0;
    $late->stop;
};

subtest 'a Redis that stops answering and no spool: our own timeout gives 503' => sub {
    my $d = new_raqibd(redis => $redis, args => ['--redis_timeout_ms', '300', '--spool', "$no_spool/spool"]);
    wait_until('readyz', sub { ($d->get('/readyz'))[0] == 200 });
    $redis->cmd('CLIENT', 'PAUSE', '1500', 'ALL');
    my ($s, $j) = $d->post('/v1/comments', comment());
    is $s, 503, 'timed out';
    sleep 1.6;
    ($s) = $d->post('/v1/comments', comment());
    is $s, 202, 'fine again after the pause';
    $d->check_log;
    is $d->stop, 0;
};

sub raw_post {
    my ($d, $body) = @_;
    my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $d->{port}, Proto => 'tcp') or die $!;
    print $sock "POST /v1/comments HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: "
        . length($body) . "\r\n\r\n$body";
    return $sock;
}

subtest 'a client that leaves before Redis answers does not hurt the daemon' => sub {
    my $d = new_raqibd(redis => $redis);
    wait_until('readyz', sub { ($d->get('/readyz'))[0] == 200 });
    my ($s, $j) = $d->post('/v1/comments', comment());
    $redis->cmd('CLIENT', 'PAUSE', '700', 'ALL');
    for (1 .. 5) {
        my $sock = raw_post($d, encode_json(comment()));
        my $get = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $d->{port}, Proto => 'tcp') or die $!;
        print $get "GET /v1/comments/$j->{id} HTTP/1.1\r\nHost: x\r\n\r\n";
        sleep 0.05;
        close $sock;
        close $get;
    }
    sleep 1.0;
    ($s) = $d->post('/v1/comments', comment());
    is $s, 202, 'still serving';
    my @answered = $d->log_text =~ m{^.* (?:POST /v1/comments|GET /v1/comments/\S+) \d{3} }mg;
    is scalar(@answered), 12, 'every request, abandoned or not, ran to its end';
    $d->check_log;
    is $d->stop, 0;
};

subtest 'SIGTERM finishes the request in flight, then exits 0' => sub {
    my $d = new_raqibd(redis => $redis, threads => 1);
    wait_until('readyz', sub { ($d->get('/readyz'))[0] == 200 });
    $redis->cmd('CLIENT', 'PAUSE', '800', 'ALL');
    my $c = comment();
    my $sock = raw_post($d, encode_json($c));
    sleep 0.2;
    kill 'TERM', $d->{pid};
    my $answer = do { local $/; <$sock> };
    like $answer, qr{^HTTP/1\.1 202}, 'the in-flight request got its 202';
    my ($id) = $answer =~ /"id":"([0-9A-Z]{26})"/;
    ok $id && $redis->cmd('EXISTS', "raqib:{default}:c:$id"), 'and it is in Redis';
    is $d->stop, 0, 'exit status 0';
    like $d->log_text, qr/stopped cleanly/;
};

# CPU seconds (user + system) the process has used so far.
sub cpu_seconds {
    my ($pid) = @_;
    open my $fh, '<', "/proc/$pid/stat" or die "no /proc/$pid/stat: $!";
    my @f = split ' ', (<$fh> =~ s/^.*\) //r);
    return ($f[11] + $f[12]) / 100;     # utime, stime (fields 14, 15) in clock ticks
}

# The workers share one listening socket and batch their epoll changes
# (server.c, worker_base_new). A worker that stops accepting must really
# leave the socket: were it a dup()ed copy closed before the batched
# epoll_ctl ran, epoll would keep reporting the waiting connection to a
# loop that no longer knows it, and the draining worker would spin.
subtest 'SIGTERM with connections waiting to be accepted: the drain does not spin' => sub {
    my $d = new_raqibd(redis => $redis, threads => 2);
    wait_until('readyz', sub { ($d->get('/readyz'))[0] == 200 });
    $redis->cmd('CLIENT', 'PAUSE', '1500', 'ALL');
    my $sock = raw_post($d, encode_json(comment()));
    sleep 0.2;
    kill 'TERM', $d->{pid};
    sleep 0.1;
    my @waiting = map { IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $d->{port}, Proto => 'tcp') } 1 .. 3;
    ok scalar(grep { defined } @waiting), 'connections wait in the backlog during the drain';
    my $before = cpu_seconds($d->{pid});
    sleep 1.0;
    my $used = cpu_seconds($d->{pid}) - $before;
    cmp_ok $used, '<', 0.4, "the draining daemon idles while it waits ($used s of CPU in 1 s)";
    my $answer = do { local $/; <$sock> };
    like $answer, qr{^HTTP/1\.1 202}, 'the in-flight request still got its 202';
    is $d->stop, 0, 'exit status 0';
};

done_testing;
