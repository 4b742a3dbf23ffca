# Nothing accepted is lost: the outage spool (Redis down or slow → 202 from
# the spool, replayed once Redis is back, exactly once), a restart during
# the outage, a torn last record, a spool that cannot be written (→ 503),
# SIGTERM with submissions in flight, Redis AUTH + SELECT, Redis restarts.
use strict;
use warnings;
use utf8;
use lib 'tests/integration/lib';
use RaqibTest;
use Test::More;
use IO::Socket::INET;
use IO::Select;
use File::Temp ();
use JSON::PP;
use Time::HiRes qw(sleep time);

my $n = 0;
sub comment {
    $n++;
    return { post_id => 9, author => "O$n", email => "o$n\@example.com", content => "outage comment $n $$" };
}

# A redis-server that is not running yet, on a port of its own.
sub later_redis {
    my (%o) = @_;
    return bless { port => RaqibTest::free_port(), dir => File::Temp::tempdir(CLEANUP => 1), aof => $o{aof},
                   args => $o{args} // [] }, 'RaqibTest::Redis';
}
sub url_of { my ($r, $db) = @_; return "redis://127.0.0.1:$r->{port}/" . ($db // 0) }

sub item_count {
    my ($r, $id) = @_;
    return $r->cmd('EXISTS', "raqib:{default}:c:$id");
}

# How many times id sits in the review stream.
sub queued_times {
    my ($r, $id) = @_;
    my $entries = $r->cmd('XRANGE', 'raqib:{default}:review', '-', '+');
    return scalar grep { $_->[1][1] eq $id } @$entries;
}

sub metric {
    my ($d, $name) = @_;
    my (undef, undef, $r) = $d->get('/metrics');
    return $r->{content} =~ /^\Q$name\E (\d+)$/m ? $1 : undef;
}

subtest 'Redis down: 202 from the spool, readyz shows the depth, replayed exactly once when Redis is back' => sub {
    my $redis = later_redis();
    my $d = new_raqibd(redis_url => url_of($redis));
    my @ids;
    for (1 .. 3) {
        my ($s, $j) = $d->post('/v1/comments', comment());
        is $s, 202, 'accepted while Redis is down';
        is $j->{status}, 'pending';
        push @ids, $j->{id};
    }
    my ($rs, $rj) = $d->get('/readyz');
    is $rs, 503, 'readyz still says the store is down';
    is $rj->{spool_depth}, 3, 'and how many comments wait in the spool';
    is metric($d, 'raqib_spool_depth'), 3, 'raqib_spool_depth';
    is metric($d, 'raqib_spool_appends_total'), 3, 'raqib_spool_appends_total';
    like $d->log_text, qr/submission $ids[0] spooled/, 'the spooling is logged';
    $redis->start;
    wait_until('readyz 200 and an empty spool', sub {
        my ($s, $j) = $d->get('/readyz');
        $s == 200 && $j->{spool_depth} == 0;
    }, 15);
    for my $id (@ids) {
        is item_count($redis, $id), 1, "$id is in Redis";
        is queued_times($redis, $id), 1, "$id is queued once";
        my ($gs, $g) = $d->get("/v1/comments/$id");
        is $gs, 200, 'readable';
    }
    is metric($d, 'raqib_spool_replayed_total'), 3, 'raqib_spool_replayed_total';
    is metric($d, 'raqib_spool_depth'), 0;
    my @files = glob("$d->{dir}/spool/*.spool");
    is((grep { -s $_ } @files), 0, 'the spool files are empty again');
    $d->check_log;
    is $d->stop, 0;
    $redis->stop;
};

subtest 'a Redis timeout: spooled, and the late original plus the replay land once' => sub {
    my $redis = new_redis();
    my $d = new_raqibd(redis => $redis, threads => 1, args => ['--redis_timeout_ms', '300']);
    wait_until('readyz', sub { ($d->get('/readyz'))[0] == 200 });
    $redis->cmd('CLIENT', 'PAUSE', '1200', 'ALL');
    my ($s, $j) = $d->post('/v1/comments', comment());
    is $s, 202, '202 although Redis did not answer in time';
    wait_until('replay', sub { metric($d, 'raqib_spool_replayed_total') == 1 }, 15);
    is item_count($redis, $j->{id}), 1, 'in Redis';
    is queued_times($redis, $j->{id}), 1, 'queued exactly once';
    $d->check_log;
    is $d->stop, 0;
};

subtest 'a daemon restarted during the outage replays what the last one spooled' => sub {
    my $redis = later_redis();
    my $spool = File::Temp::tempdir(CLEANUP => 1) . '/spool';
    my $d = new_raqibd(redis_url => url_of($redis), threads => 2, args => ['--spool', $spool]);
    my @ids;
    for (1 .. 4) {
        my ($s, $j) = $d->post('/v1/comments', comment());
        is $s, 202;
        push @ids, $j->{id};
    }
    is $d->stop, 0, 'SIGTERM during the outage exits 0';
    # One worker now: worker 1's file from the last run is taken over by worker 0.
    my $d2 = new_raqibd(redis_url => url_of($redis), threads => 1, args => ['--spool', $spool]);
    my ($rs, $rj) = $d2->get('/readyz');
    is $rj->{spool_depth}, 4, 'the new daemon knows what waits';
    $redis->start;
    wait_until('replayed', sub { my ($s, $j) = $d2->get('/readyz'); $s == 200 && $j->{spool_depth} == 0 }, 15);
    for my $id (@ids) {
        is item_count($redis, $id), 1, "$id replayed";
        is queued_times($redis, $id), 1, "$id queued once";
    }
    $d2->check_log;
    is $d2->stop, 0;
    $redis->stop;
};

subtest 'a torn last record is skipped and logged; the good ones are replayed' => sub {
    my $redis = later_redis();
    my $spool = File::Temp::tempdir(CLEANUP => 1) . '/spool';
    my $d = new_raqibd(redis_url => url_of($redis), threads => 1, args => ['--spool', $spool]);
    my @ids;
    for (1 .. 3) {
        my ($s, $j) = $d->post('/v1/comments', comment());
        is $s, 202;
        push @ids, $j->{id};
    }
    is $d->stop, 0;
    my $file = "$spool/worker-0.spool";
    my $size = -s $file;
    ok $size > 100, 'three records on disk';
    # Power loss in the middle of writing the third record: cut it short.
    truncate $file, $size - 40 or die "truncate: $!";
    # ... and a stray half-header after it.
    open my $fh, '>>', $file or die $!;
    print $fh "RQS1\x10\x00";
    close $fh;
    my $d2 = new_raqibd(redis_url => url_of($redis), threads => 1, args => ['--spool', $spool]);
    like $d2->log_text, qr/torn or corrupt record|torn tail/, 'the torn record is logged';
    is(($d2->get('/readyz'))[1]{spool_depth}, 2, 'two good records wait');
    $redis->start;
    wait_until('replayed', sub { my ($s, $j) = $d2->get('/readyz'); $s == 200 && $j->{spool_depth} == 0 }, 15);
    is item_count($redis, $ids[0]), 1, 'first replayed';
    is item_count($redis, $ids[1]), 1, 'second replayed';
    is item_count($redis, $ids[2]), 0, 'the torn one is not replayed as garbage';
    is $redis->cmd('XLEN', 'raqib:{default}:review'), 2, 'two queued';
    $d2->check_log;
    is $d2->stop, 0;
    $redis->stop;
};

subtest 'a spool that cannot be written: 503 with retry_after' => sub {
    my $tmp = File::Temp::tempdir(CLEANUP => 1);
    open my $fh, '>', "$tmp/file" or die $!;
    close $fh;
    my $d = new_raqibd(redis_url => 'redis://127.0.0.1:1/0', args => ['--spool', "$tmp/file/spool"]);
    like $d->log_text, qr/spool unusable/, 'the unusable spool is logged at start';
    my ($s, $j, $r) = $d->post('/v1/comments', comment());
    is $s, 503, 'nothing could make it durable: 503';
    is $j->{error}, 'unavailable';
    ok $j->{retry_after} >= 1, 'retry_after';
    is $r->{headers}{'retry-after'}, '1', 'Retry-After header';
    $d->check_log;
    is $d->stop, 0;
};

sub raw_post {
    my ($port, $body) = @_;
    my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Proto => 'tcp') or die $!;
    print $sock "POST /v1/comments HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nConnection: close\r\n"
        . "Content-Length: " . length($body) . "\r\n\r\n$body";
    return $sock;
}

subtest 'SIGTERM with submissions in flight: every 202 is in Redis or the spool' => sub {
    my $redis = new_redis();
    my $spool = File::Temp::tempdir(CLEANUP => 1) . '/spool';
    my $d = new_raqibd(redis => $redis, threads => 2, args => ['--spool', $spool, '--redis_timeout_ms', '400']);
    wait_until('readyz', sub { ($d->get('/readyz'))[0] == 200 });
    $redis->cmd('CLIENT', 'PAUSE', '3000', 'WRITE');
    my @socks = map { raw_post($d->{port}, encode_json(comment())) } 1 .. 20;
    sleep 0.1;
    kill 'TERM', $d->{pid};
    my @accepted;
    for my $sock (@socks) {
        my $answer = do { local $/; <$sock> } // '';
        push @accepted, $1 if $answer =~ m{^HTTP/1\.1 202} && $answer =~ /"id":"([0-9A-Z]{26})"/;
    }
    is $d->stop, 0, 'drained and exited 0';
    ok @accepted > 0, scalar(@accepted) . ' of 20 answered 202';
    sleep 3;    # the pause ends
    my $d2 = new_raqibd(redis => $redis, threads => 1, args => ['--spool', $spool]);
    wait_until('spool drained', sub { my ($s, $j) = $d2->get('/readyz'); $s == 200 && $j->{spool_depth} == 0 }, 15);
    is((grep { item_count($redis, $_) == 1 && queued_times($redis, $_) == 1 } @accepted), scalar @accepted,
       'every 202ed id is in Redis, queued once');
    $d2->check_log;
    is $d2->stop, 0;
};

# --- Redis itself: AUTH and SELECT, wrong password, restarts -----------------

# One command after AUTH and SELECT on the same connection.
sub auth_cmd {
    my ($r, $pw, $db, @args) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $r->{port}, Proto => 'tcp', Timeout => 2) or die $!;
    my $req = '';
    for my $cmd (['AUTH', $pw], ['SELECT', $db], \@args) {
        $req .= '*' . scalar(@$cmd) . "\r\n" . join('', map { '$' . length($_) . "\r\n$_\r\n" } @$cmd);
    }
    print $s $req;
    RaqibTest::Redis::_read($s) for 1 .. 2;
    my $v = RaqibTest::Redis::_read($s);
    close $s;
    return $v;
}

subtest 'a password-protected Redis and db 3' => sub {
    my $redis = later_redis(args => ['--requirepass', 'pa55word']);
    {
        no warnings 'redefine';
        # start() waits for PING, which needs AUTH here: wait for the port instead.
        local *RaqibTest::Redis::cmd = sub { my ($self, @a) = @_; auth_cmd($self, 'pa55word', 0, @a) };
        $redis->start;
    }
    my $d = new_raqibd(redis_url => "redis://:pa55word\@127.0.0.1:$redis->{port}/3");
    wait_until('readyz', sub { ($d->get('/readyz'))[0] == 200 });
    my ($s, $j) = $d->post('/v1/comments', comment());
    is $s, 202;
    is auth_cmd($redis, 'pa55word', 3, 'EXISTS', "raqib:{default}:c:$j->{id}"), 1, 'stored in db 3';
    is auth_cmd($redis, 'pa55word', 0, 'EXISTS', "raqib:{default}:c:$j->{id}"), 0, 'not in db 0';
    unlike $d->log_text, qr/pa55word/, 'the password is never logged';
    $d->check_log;
    is $d->stop, 0;

    my $bad = new_raqibd(redis_url => "redis://:wrong\@127.0.0.1:$redis->{port}/3");
    sleep 0.5;
    my ($bs, $bj) = $bad->get('/readyz');
    is $bs, 503, 'a wrong password: not ready';
    like $bad->log_text, qr/redis setup command failed: (WRONGPASS|ERR invalid password)/, 'a clear log line';
    unlike $bad->log_text, qr/wrong\@/, 'the password is not logged';
    $bad->check_log;
    is $bad->stop, 0;
    $redis->stop;
};

subtest 'Redis restarts (AOF on) while submissions continue: every 202 is in Redis afterwards' => sub {
    my $redis = new_redis(aof => 1);
    my $d = new_raqibd(redis => $redis, threads => 2, args => ['--redis_timeout_ms', '500']);
    wait_until('readyz', sub { ($d->get('/readyz'))[0] == 200 });
    my (@accepted, %status);
    my $t0 = time;
    my $restarted = 0;
    while (time - $t0 < 4) {
        my ($s, $j) = $d->post('/v1/comments', comment());
        $status{$s}++;
        push @accepted, $j->{id} if $s == 202;
        if (!$restarted && time - $t0 > 1) {
            $redis->stop;
            sleep 0.3;
            $redis->start;
            $restarted = 1;
        }
    }
    note explain \%status;
    ok @accepted > 10, scalar(@accepted) . ' accepted';
    is $status{503} // 0, 0, 'no 503: the spool took what Redis could not';
    wait_until('spool drained', sub { my ($s, $j) = $d->get('/readyz'); $s == 200 && $j->{spool_depth} == 0 }, 15);
    is((grep { item_count($redis, $_) == 1 } @accepted), scalar @accepted, 'every 202ed id is in Redis');
    is $redis->cmd('XLEN', 'raqib:{default}:review'), scalar @accepted, 'each queued once';
    like $d->log_text, qr/connection lost|unreachable/, 'the restart is logged';
    $d->check_log;
    is $d->stop, 0;
};

done_testing;
