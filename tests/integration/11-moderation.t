# Moderators: the queue, claims and leases, decisions, waves, the spam folder
# and the decisions feed, with roles from the token table.
use strict;
use warnings;
use utf8;
use lib 'tests/integration/lib';
use RaqibTest;
use Test::More;
use Time::HiRes qw(sleep);
use File::Temp ();
use POSIX ();

my $redis = new_redis();
my $conf = <<'CONF';
token submit   site        sub-1
token moderate layla       mod-layla
token moderate omar        mod-omar
token admin    ops         adm-1
max_deliveries 2
CONF
my $d = new_raqibd(redis => $redis, config => $conf, token => 'sub-1');
wait_until('readyz', sub { ($d->get('/readyz'))[0] == 200 });

my %as = (site => 'Bearer sub-1', layla => 'Bearer mod-layla', omar => 'Bearer mod-omar');
sub as { my ($who) = @_; return { Authorization => $as{$who} } }

my $n = 0;
sub submit {
    my (%o) = @_;
    $n++;
    my ($s, $j) = $d->post('/v1/comments', { post_id => 1, author => "U$n", email => "u$n\@example.com",
                                             content => "تعليق عادي رقم $n", %o });
    die "submit: $s" unless $s == 202;
    return $j->{id};
}

my @ids = map { submit() } 1 .. 6;

subtest 'roles' => sub {
    is(($d->get('/v1/queue'))[0], 403, 'submit role may not list the queue');
    is(($d->post('/v1/queue/claim', {}))[0], 403, 'nor claim');
    is(($d->post("/v1/comments/$ids[0]/decision", { status => 'approved' }))[0], 403, 'nor decide');
    is(($d->get('/v1/queue', { Authorization => 'Bearer wrong' }))[0], 401, 'unknown token');
    is(($d->get('/v1/decisions'))[0], 200, 'submit role reads the feed');
};

subtest 'the queue lists pending items oldest first, with why' => sub {
    my $spammy = submit(content => 'شيخ روحاني واتساب 00966551234567 للتواصل');
    my ($s, $j) = $d->get('/v1/queue?limit=100', as('layla'));
    is $s, 200;
    my @listed = map { $_->{id} } @{ $j->{items} };
    is_deeply [ @listed[0 .. 5] ], \@ids, 'oldest first';
    my ($item) = grep { $_->{id} eq $spammy } @{ $j->{items} };
    if ($item) {
        ok @{ $item->{matches} } > 0, 'matches shown' and ok $item->{matches}[0]{description}, 'with descriptions';
    } else {
        pass 'scored as spam by the starter rules (not queued)';
    }
    ok exists $j->{items}[0]{email}, 'moderators see the e-mail';
    ($s, $j) = $d->get('/v1/queue?limit=2', as('layla'));
    is scalar @{ $j->{items} }, 2, 'limit';
    my ($s2, $j2) = $d->get("/v1/queue?limit=2&after=$j->{next}", as('layla'));
    is $j2->{items}[0]{id}, $ids[2], 'paging with next';
    is(($d->get('/v1/queue?limit=0', as('layla')))[0], 400, 'a bad limit is 400');
};

my (%claimed_by);
subtest 'two moderators claiming at once get disjoint items' => sub {
    my ($s1, $a) = $d->post('/v1/queue/claim', { limit => 3, lease_seconds => 60 }, as('layla'));
    my ($s2, $b) = $d->post('/v1/queue/claim', { limit => 3, lease_seconds => 60 }, as('omar'));
    is $s1, 200;
    is $s2, 200;
    my @a = map { $_->{id} } @{ $a->{items} };
    my @b = map { $_->{id} } @{ $b->{items} };
    is scalar @a, 3, 'layla got 3';
    ok @b >= 3, 'omar got 3';
    my %seen;
    $seen{$_}++ for @a, @b;
    ok !(grep { $_ > 1 } values %seen), 'no item handed out twice';
    is $a->{claimed_by}, 'layla', 'claimed under the token name';
    ok $a->{items}[0]{lease_until}, 'lease deadline shown';
    $claimed_by{$_} = 'layla' for @a;
    $claimed_by{$_} = 'omar' for @b;
    my ($s3, $c) = $d->post('/v1/queue/claim', { limit => 10, lease_seconds => 60 }, as('layla'));
    is scalar @{ $c->{items} }, 0, 'nothing left unclaimed';
};

subtest 'the queue read says who holds an item and until when' => sub {
    my ($s, $j) = $d->get('/v1/queue?limit=100', as('omar'));
    is $s, 200;
    my %item = map { $_->{id} => $_ } @{ $j->{items} };
    my @held = grep { $claimed_by{$_} } keys %item;
    is scalar @held, scalar keys %claimed_by, 'every claimed item is listed';
    is_deeply { map { $_ => $item{$_}{held_by} } @held }, { map { $_ => $claimed_by{$_} } @held },
        'held_by names the moderator holding each';
    like $item{ $held[0] }{lease_until}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, 'lease_until in RFC 3339';
    my $free = submit();
    ($s, $j) = $d->get('/v1/queue?limit=100', as('layla'));
    my ($f) = grep { $_->{id} eq $free } @{ $j->{items} };
    ok $f && !exists $f->{held_by} && !exists $f->{lease_until}, 'an unclaimed item carries neither';
    my @mine = grep { $claimed_by{$_} eq 'layla' } @held;
    is(($d->post('/v1/queue/release', {}, as('layla')))[0], 200, 'layla releases hers');
    ($s, $j) = $d->get('/v1/queue?limit=100', as('omar'));
    %item = map { $_->{id} => $_ } @{ $j->{items} };
    ok !(grep { exists $item{$_}{held_by} } @mine), 'released: no longer held';
    ok((grep { ($item{$_}{held_by} // '') eq 'omar' } keys %item) == 3, "omar's three still held");
    my ($sc, $c) = $d->post('/v1/queue/claim', { limit => 10, lease_seconds => 60 }, as('layla'));
    is scalar @{ $c->{items} }, @mine + 1, 'layla claims hers again and the new one';
    $claimed_by{$_->{id}} = 'layla' for @{ $c->{items} };
};

subtest 'concurrent claims stay disjoint' => sub {
    my @more = map { submit() } 1 .. 20;
    my @pids;
    my $dir = File::Temp::tempdir(CLEANUP => 1);
    for my $k (1 .. 4) {
        my $pid = fork // die;
        if (!$pid) {
            my $http = HTTP::Tiny->new;
            open my $fh, '>', "$dir/$k" or die;
            for (1 .. 3) {
                my $r = $http->post("$d->{base}/v1/queue/claim", { headers => { Authorization => ($k % 2 ? 'Bearer mod-layla' : 'Bearer mod-omar'),
                    'Content-Type' => 'application/json' }, content => '{"limit":2,"lease_seconds":60}' });
                print $fh "$_\n" for $r->{content} =~ /"id":"([0-9A-Z]{26})"/g;
            }
            close $fh;
            POSIX::_exit(0);
        }
        push @pids, $pid;
    }
    waitpid $_, 0 for @pids;
    my %seen;
    for my $k (1 .. 4) { open my $fh, '<', "$dir/$k" or die; chomp(my @l = <$fh>); $seen{$_}++ for @l }
    is scalar(keys %seen), 20, 'all 20 new items handed out';
    ok !(grep { $_ > 1 } values %seen), 'none twice';
    # decide them so later tests see a clean queue
    my ($s, $j) = $d->post('/v1/decisions', { decisions => [ map { { id => $_, status => 'approved' } } keys %seen ] }, as('layla'));
    is $s, 200;
};

subtest 'a claim not decided within its lease goes back; too many deliveries go to dead letters' => sub {
    my $id = submit();
    my ($s, $j) = $d->post('/v1/queue/claim', { limit => 1, lease_seconds => 1 }, as('layla'));
    is $j->{items}[0]{id}, $id, 'claimed with a 1 s lease';
    ($s, $j) = $d->post('/v1/queue/claim', { limit => 1, lease_seconds => 1 }, as('omar'));
    is scalar @{ $j->{items} }, 0, 'held while the lease runs';
    sleep 1.2;
    ($s, $j) = $d->post('/v1/queue/claim', { limit => 1, lease_seconds => 1 }, as('omar'));
    is $j->{items}[0]{id}, $id, 'back in the queue after the lease';
    is $j->{items}[0]{deliveries}, 2, 'second delivery';
    sleep 1.2;
    ($s, $j) = $d->post('/v1/queue/claim', { limit => 1, lease_seconds => 1 }, as('layla'));
    is scalar @{ $j->{items} }, 0, 'after max_deliveries it is not handed out again';
    is $redis->cmd('XLEN', 'raqib:{default}:dead'), 1, 'it is in the dead-letter stream';
};

subtest 'decisions: recorded with name and time; repeats harmless; contrary is 409' => sub {
    my $id = $ids[0];
    my ($s, $j) = $d->post("/v1/comments/$id/decision", { status => 'approved', reason => 'on topic', decided_by => 'forged' }, as('layla'));
    is $s, 200;
    is $j->{status}, 'approved';
    my ($gs, $g) = $d->get("/v1/comments/$id", as('layla'));
    is $g->{status}, 'approved';
    is $g->{decided_by}, 'layla', "the token's name, not the body's";
    is $g->{reason}, 'on topic';
    like $g->{decided_at}, qr/^\d{4}-\d\d-\d\dT/, 'decided_at';
    ($s, $j) = $d->post("/v1/comments/$id/decision", { status => 'approved' }, as('omar'));
    is $s, 200, 'the same decision again is harmless';
    ($s, $j) = $d->post("/v1/comments/$id/decision", { status => 'rejected' }, as('omar'));
    is $s, 409;
    is $j->{error}, 'already_decided';
    is $j->{status}, 'approved', 'says what stands';
    ($s) = $d->post("/v1/comments/$id/decision", { status => 'maybe' }, as('omar'));
    is $s, 422, 'unknown status';
    ($s) = $d->post('/v1/comments/01ARZ3NDEKTSV4RRFFQ69G5FAV/decision', { status => 'spam' }, as('omar'));
    is $s, 404, 'unknown id';
    my ($ls, $l) = $d->get('/v1/queue?limit=100', as('layla'));
    ok !(grep { $_->{id} eq $id } @{ $l->{items} }), 'a decided item leaves the queue';
};

subtest 'a wave of decisions: each item stands or fails on its own' => sub {
    my ($s, $j) = $d->post('/v1/decisions', { decisions => [
        { id => $ids[1], status => 'spam', reason => 'wave' },
        { id => $ids[2], status => 'rejected' },
        { id => $ids[0], status => 'spam' },                       # layla approved it
        { id => '01ARZ3NDEKTSV4RRFFQ69G5FAV', status => 'spam' },
        { id => $ids[3], status => 'bogus' },
    ] }, as('omar'));
    is $s, 200;
    my @r = @{ $j->{results} };
    is scalar @r, 5, 'one result per item, in order';
    ok $r[0]{ok} && $r[1]{ok}, 'the good ones';
    is $r[2]{error}, 'already_decided';
    is $r[3]{error}, 'not_found';
    ok !$r[4]{ok}, 'the malformed one';
    is((($d->get("/v1/comments/$ids[1]", as('omar')))[1])->{status}, 'spam');
};

subtest 'the spam folder: rules-decided spam, newest first; a moderator may rescue it' => sub {
    my $ad = submit(content => 'شيخ روحاني لجلب الحبيب واتساب 00966551234567');
    my ($s, $j) = $d->get('/v1/queue?status=spam', as('layla'));
    is $s, 200;
    is $j->{items}[0]{id}, $ad, 'newest first';
    ok @{ $j->{items}[0]{matches} } > 0, 'with its matches';
    ($s, $j) = $d->post("/v1/comments/$ad/decision", { status => 'approved', reason => 'false positive' }, as('layla'));
    is $s, 200, 'an automatic decision may be overruled';
    ($s, $j) = $d->get('/v1/queue?status=spam', as('layla'));
    ok !(grep { $_->{id} eq $ad } @{ $j->{items} }), 'out of the spam folder';
    is $redis->cmd('TTL', "raqib:{default}:c:$ad"), -1, 'kept for good now';
    my $stats = $redis->cmd('HGETALL', 'raqib:{default}:rulestats');
    my %st = @$stats;
    ok((grep { /:overruled$/ && $st{$_} >= 1 } keys %st), 'the correction counts against the rules that hit it');
    ok((grep { /:approved$/ } keys %st), 'per-rule moderator outcomes');
};

subtest 'the decisions feed: in order, never a gap, never a repeat, across restarts' => sub {
    my (@all, $cursor);
    $cursor = '';
    for (1 .. 100) {
        my ($s, $j) = $d->get('/v1/decisions?limit=3' . ($cursor ? "&after=$cursor" : ''));
        is $s, 200 if $_ == 1;
        last unless @{ $j->{decisions} };
        push @all, @{ $j->{decisions} };
        $cursor = $j->{next};
    }
    my %seen;
    $seen{ $_->{cursor} }++ for @all;
    ok !(grep { $_ > 1 } values %seen), 'no repeats';
    my @spam_auto = grep { $_->{decided_by} eq 'rules' } @all;
    ok @spam_auto >= 1, 'automatic decisions are in the feed too';
    ok((grep { $_->{id} eq $ids[0] && $_->{status} eq 'approved' && $_->{decided_by} eq 'layla' } @all), 'moderator decisions');
    is $d->stop, 0, 'restart';
    my $d2 = new_raqibd(redis => $redis, config => $conf, token => 'sub-1');
    wait_until('readyz', sub { ($d2->get('/readyz'))[0] == 200 });
    my ($s, $j) = $d2->get("/v1/decisions?after=$cursor");
    is scalar @{ $j->{decisions} }, 0, 'nothing new after the last cursor';
    my $id = $ids[4];
    $d2->post("/v1/comments/$id/decision", { status => 'rejected' }, { Authorization => 'Bearer mod-omar' });
    ($s, $j) = $d2->get("/v1/decisions?after=$cursor");
    is scalar @{ $j->{decisions} }, 1, 'exactly the new one';
    is $j->{decisions}[0]{id}, $id;
    $d2->check_log;
    is $d2->stop, 0;
};

done_testing;
