# Redis Sentinel: raqibd finds the master through three sentinels, and when
# the master is killed (kill -9) while comments keep coming, every one is
# answered 202 (the spool holds them during the switch), /readyz is 503
# while no master answers and 200 after the promotion, and every accepted id
# is readable afterwards, stored once.
use strict;
use warnings;
use utf8;
use lib 'tests/integration/lib';
use RaqibTest;
use Test::More;
use Time::HiRes qw(sleep time);

my $master = new_redis();
my $replica = new_redis(args => [ '--replicaof', '127.0.0.1', $master->{port} ]);
wait_until('replica in sync', sub { ($replica->cmd('INFO', 'replication') // '') =~ /master_link_status:up/ }, 10);
my @sentinels = map { new_sentinel(master => $master, down_after => 1000) } 1 .. 3;
wait_until('the sentinels see each other and the replica', sub {
    my $m = eval { $sentinels[0]->cmd('SENTINEL', 'master', 'mymaster') } or return 0;
    my %h = @$m;
    $h{'num-other-sentinels'} == 2 && $h{'num-slaves'} == 1;
}, 20);

my $url = 'redis-sentinel://' . join(',', map { "127.0.0.1:$_->{port}" } @sentinels) . '/0#mymaster';
my $d = new_raqibd(redis_url => $url, config => "flood_seconds 0\nredis_timeout_ms 500\n", threads => 2);
wait_until('readyz through the sentinels', sub { ($d->get('/readyz'))[0] == 200 }, 10);
like $d->log_text, qr/master 'mymaster' is 127\.0\.0\.1:$master->{port}/, 'the sentinels named the master';

my (@ids, %status, $killed, $readyz_down);
my $t0 = time;
my $n = 0;
my $promoted_at;
while (time - $t0 < 25) {
    $n++;
    my ($s, $j) = $d->post('/v1/comments', { post_id => 7, author => "S$n", email => "s$n\@example.com", content => "تعليق رقم $n" });
    $status{$s}++;
    push @ids, $j->{id} if $s == 202 && $j->{id};
    if (!$killed && time - $t0 > 1) {
        kill 'KILL', $master->{pid};
        waitpid $master->{pid}, 0;
        delete $master->{pid};
        $killed = time;
    }
    if ($killed && !$promoted_at) {
        my ($rs) = $d->get('/readyz');
        $readyz_down = 1 if $rs == 503;
        $promoted_at = time if $rs == 200 && $readyz_down;
    }
    last if $promoted_at && time - $promoted_at > 1;
    sleep 0.02;
}
ok $promoted_at, 'readyz went 503 and came back to 200 after the promotion';
diag sprintf '%d submissions; master killed at %.1f s, ready again %.1f s later', $n, $killed - $t0,
    ($promoted_at // time) - $killed;
is_deeply \%status, { 202 => $n }, 'every submission answered 202';
is $replica->cmd('ROLE')->[0], 'master', 'the replica was promoted';
wait_until('the spool drained', sub { my ($s, $j) = $d->get('/readyz'); $s == 200 && $j->{spool_depth} == 0 }, 15);
my @missing = grep { ($d->get("/v1/comments/$_"))[0] != 200 } @ids;
is scalar(@missing), 0, 'every accepted id is readable on the new master' or diag "missing: @missing";
my $review = $replica->cmd('XRANGE', 'raqib:{default}:review', '-', '+');
my %in_queue;
$in_queue{ $_->[1][1] }++ for @$review;
is scalar(keys %in_queue), scalar(@ids), 'each one queued for review';
is scalar(grep { $_ > 1 } values %in_queue), 0, 'none twice';
like $d->log_text, qr/master 'mymaster' is 127\.0\.0\.1:$replica->{port}/, 'the new master came from the sentinels';
my $raqib = $ENV{RAQIB} // 'build/raqib';
my $model = "$d->{dir}/x.model";
my $out = `$raqib rules train --redis '$url' --site default $model 2>&1`;
is $? >> 8, 0, 'the raqib CLI reaches the new master through the sentinels' or diag $out;
(my $bad = $url) =~ s/#mymaster/#nosuch/;
$out = `$raqib rules train --redis '$bad' --site default $model 2>&1`;
like $out, qr/no sentinel of the URL knows master 'nosuch'/, 'and says so when none knows the master';
like $d->log_text, qr/sentinel: failover of 'mymaster'/, 'heard +switch-master';
$d->check_log;
is $d->stop, 0, 'stops cleanly';
done_testing;
