# Redis Cluster: three masters made by `redis-cli --cluster create`, one
# raqibd given a dead seed and a live one. Eight sites spread over the
# masters: submit, read, queue, claim and decide on each, and the webhook
# (whose start-up SCAN walks every master) delivers every decision once.
# Then one site's slot is migrated (SETSLOT IMPORTING/MIGRATING, MIGRATE,
# SETSLOT NODE) while comments keep coming: every one answered 202, every
# accepted id readable afterwards, queued once, on the new master. Last, a
# master is restarted: /readyz says 503 while it is away and 200 after, and
# what was accepted meanwhile is stored.
use strict;
use warnings;
use utf8;
use lib 'tests/integration/lib';
use RaqibTest;
use Test::More;
use File::Temp qw(tempdir);
use IO::Socket::INET;
use JSON::PP;
use POSIX ();
use Time::HiRes qw(sleep time);

my $t_start = time;
my $dir = tempdir(CLEANUP => 1);

# --- three masters -------------------------------------------------------
my @m = map { new_redis(args => [ '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf',
                                  '--cluster-node-timeout', '5000' ]) } 1 .. 3;
my $out = `redis-cli --cluster create @{[ map { "127.0.0.1:$_->{port}" } @m ]} --cluster-replicas 0 --cluster-yes 2>&1`;
is $? >> 8, 0, 'redis-cli --cluster create' or diag $out;
wait_until('the cluster is ok on every node',
           sub { !grep { ($_->cmd('CLUSTER', 'INFO') // '') !~ /cluster_state:ok/ } @m }, 20);
my %id_of = map { $_->{port} => $_->cmd('CLUSTER', 'MYID') } @m;

# The master serving a key's slot, from the cluster itself.
sub owner {
    my ($slot) = @_;
    for my $range (@{ $m[0]->cmd('CLUSTER', 'SLOTS') }) {
        return (grep { $_->{port} == $range->[2][1] } @m)[0] if $slot >= $range->[0] && $slot <= $range->[1];
    }
    return undef;
}

# --- a webhook receiver: one line per request ------------------------------
my $srv = IO::Socket::INET->new(Listen => 16, LocalAddr => '127.0.0.1', LocalPort => 0, Proto => 'tcp', ReuseAddr => 1) or die $!;
my $rport = $srv->sockport;
my $rpid = fork // die;
if (!$rpid) {
    while (my $c = $srv->accept) {
        my %h;
        while (my $line = <$c>) { last if $line =~ /^\r?\n$/; $h{lc $1} = $2 if $line =~ /^([^:]+):\s*(.*?)\r?\n$/ }
        my $body = '';
        read($c, $body, $h{'content-length'} // 0);
        open my $log, '>>', "$dir/received" or die;
        print $log $body, "\n";
        close $log;
        print $c "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        close $c;
    }
    POSIX::_exit(0);
}
close $srv;
END { kill 'KILL', $rpid if $rpid }
sub received { open my $fh, '<', "$dir/received" or return (); return map { decode_json($_) } <$fh> }

# --- raqibd: the first seed is dead, the second answers ---------------------
my $dead = free_port();
my $url = "redis-cluster://127.0.0.1:$dead,127.0.0.1:$m[1]{port}";
my $conf = "token submit site sub-1\ntoken moderate layla mod-1\ntoken admin ops adm-1\nflood_seconds 0\nlearn_poll_ms 200\n"
         . "webhook_url http://127.0.0.1:$rport/hook\nwebhook_secret s3cret\n";
my $d = new_raqibd(redis_url => $url, config => $conf, token => 'sub-1', threads => 2);
wait_until('readyz through the cluster', sub { ($d->get('/readyz'))[0] == 200 }, 15);
ok eval { wait_until('the map logged', sub { $d->log_text =~ /redis cluster: 3 master\(s\), all 16384 slots served/ }, 5) },
    'the slot map was read (the dead seed skipped)';
my $mod = { Authorization => 'Bearer mod-1' };

my $n = 0;
sub submit {
    my ($site, $content) = @_;
    $n++;
    my ($s, $j) = $d->post('/v1/comments', { site => $site, post_id => 1, author => "A$n", email => "a$n\@example.com",
                                             content => $content // "تعليق عادي رقم $n" });
    return ($s, $j);
}

# --- eight sites ------------------------------------------------------------
my @sites = qw(news sport culture economy tech travel food health);
my (%pending, %decided);
subtest 'eight sites: submit, read, queue, claim, decide' => sub {
    for my $site (@sites) {
        my @ids;
        for (1 .. 2) {
            my ($s, $j) = submit($site);
            is $s, 202, "$site: submitted" and push @ids, $j->{id};
        }
        my ($s, $j) = submit($site, 'شيخ روحاني واتساب 00966551234567 للتواصل');
        is "$s $j->{status}", '202 spam', "$site: spam set aside by the rules";
        $decided{$site}{ $j->{id} } = 'spam';
        for my $id (@ids) {
            my ($gs, $gj) = $d->get("/v1/comments/$id?site=$site");
            is "$gs $gj->{site} $gj->{status}", "200 $site pending", "$site: $id read back";
        }
        my ($qs, $qj) = $d->get("/v1/queue?site=$site&limit=10", $mod);
        is_deeply [ map { $_->{id} } @{ $qj->{items} } ], \@ids, "$site: queued, oldest first";
        my ($cs, $cj) = $d->post('/v1/queue/claim', { site => $site, limit => 10 }, $mod);
        is_deeply [ sort map { $_->{id} } @{ $cj->{items} } ], [ sort @ids ], "$site: claimed";
        for my $id (@ids) {
            my ($ds, $dj) = $d->post("/v1/comments/$id/decision", { site => $site, status => 'approved' }, $mod);
            is "$ds $dj->{decided_by}", '200 layla', "$site: $id decided";
            $decided{$site}{$id} = 'approved';
        }
        ($qs, $qj) = $d->get("/v1/queue?site=$site&limit=10", $mod);
        is scalar @{ $qj->{items} }, 0, "$site: the queue is empty";
    }
    my %keys_on = map { $_->{port} => $_->cmd('DBSIZE') } @m;
    ok +(grep { $_ > 0 } values %keys_on) >= 2, 'the sites\' keys are on more than one master'
        or diag explain \%keys_on;
    my %sites_on;
    $sites_on{ owner($m[0]->cmd('CLUSTER', 'KEYSLOT', "{$_}"))->{port} }++ for @sites;
    diag 'sites per master: ' . join(', ', map { "$_: $sites_on{$_}" } sort keys %sites_on);
};

subtest 'the raqib CLI reads a site\'s decisions from the master of its slot' => sub {
    my $raqib = $ENV{RAQIB} // 'build/raqib';
    my %seen;
    for my $s (grep { !$seen{ owner($m[0]->cmd('CLUSTER', 'KEYSLOT', "{$_}"))->{port} }++ } @sites) {
        my $out = `$raqib rules train --redis '$url' --site $s $dir/$s.model 2>&1`;
        is $? >> 8, 0, "rules train --site $s" or diag $out;
    }
    is scalar(keys %seen), 3, 'one site on each master';
};

subtest 'a daemon started later loads each site\'s learned counts from its master, in chunks' => sub {
    my $e = new_raqibd(redis_url => $url, config => $conf, token => 'sub-1', threads => 1);
    my $adm = { Authorization => 'Bearer adm-1' };
    my $learning = sub { my ($x, $site) = @_; (($x->get("/v1/rules?site=$site", $adm))[1] // {})->{learning} };
    for my $site (@sites) {
        my $want = $learning->($d, $site);
        cmp_ok $want->{decisions}, '>', 0, "$site: decisions learned";
        ok eval { wait_until("$site loaded", sub { $e->log_text =~ /learning: site \Q$site\E loaded.*chunks/ }, 10) },
            "$site: loaded in chunks";
        is_deeply $learning->($e, $site), $want, "$site: the same counts as the daemon that learned them";
    }
    is $e->stop, 0, 'the later daemon stops cleanly';
    $e->check_log;
};

subtest 'the webhook delivers every decision of every site once' => sub {
    my $want = 0;
    $want += keys %{ $decided{$_} } for @sites;
    wait_until("$want deliveries", sub { scalar(received()) >= $want }, 30);
    sleep 0.5;
    my %got;
    $got{"$_->{site} $_->{id} $_->{status}"}++ for received();
    my %expected = map { my $s = $_; map { ("$s $_ $decided{$s}{$_}" => 1) } keys %{ $decided{$s} } } @sites;
    is_deeply \%got, \%expected, "$want deliveries, each once";
};

# --- migrate one site's slot while comments keep coming --------------------
my $site = 'news';
my $slot = $m[0]->cmd('CLUSTER', 'KEYSLOT', "{$site}");
my $from = owner($slot);
my ($to) = grep { $_ != $from } @m;
# Three clients submit steadily (to this site and the others in turn), each
# writing "status site id started ended" lines, until the migration is over.
my @clients;
for my $c (1 .. 3) {
    my $pid = fork // die;
    if (!$pid) {
        open my $fh, '>', "$dir/client$c" or die $!;
        $fh->autoflush(1);
        my $k = 0;
        until (-e "$dir/stop") {
            $k++;
            my $s = $k % 2 ? $site : $sites[ ($c + $k) % @sites ];
            my $t = time;
            my ($st, $j) = $d->post('/v1/comments', { site => $s, post_id => 2, author => "C$c-$k",
                                                      email => "c$c-$k\@example.com", content => "تعليق $c-$k" });
            print $fh join(' ', $st, $s, $j && $j->{id} ? $j->{id} : '-', $t, time), "\n";
            sleep 0.01;
        }
        POSIX::_exit(0);
    }
    push @clients, $pid;
}
sleep 0.5;
my $began = time;
my $ok = eval {   # the operator, by the specification's steps
    $to->cmd('CLUSTER', 'SETSLOT', $slot, 'IMPORTING', $id_of{ $from->{port} });
    $from->cmd('CLUSTER', 'SETSLOT', $slot, 'MIGRATING', $id_of{ $to->{port} });
    sleep 0.2;
    while (my @keys = @{ $from->cmd('CLUSTER', 'GETKEYSINSLOT', $slot, 5) }) {
        $from->cmd('MIGRATE', '127.0.0.1', $to->{port}, '', 0, 5000, 'KEYS', @keys);
        sleep 0.1;
    }
    $_->cmd('CLUSTER', 'SETSLOT', $slot, 'NODE', $id_of{ $to->{port} }) for $to, $from, grep { $_ != $to && $_ != $from } @m;
    1;
};
my $ended = time;
sleep 1;
open my $stop, '>', "$dir/stop" or die $!;
close $stop;
waitpid $_, 0 for @clients;
ok $ok, sprintf "slot %d of '%s' migrated from :%d to :%d in %.2f s under load", $slot, $site, $from->{port},
    $to->{port}, $ended - $began or diag $@;
my (%status, @accepted);
for my $c (1 .. 3) {
    open my $fh, '<', "$dir/client$c" or die $!;
    for (<$fh>) {
        my ($st, $s, $id, $t, $t2) = split;
        $status{$st}++;
        push @accepted, [ $s, $id, $t, $t2 ] if $st == 202;
    }
}
my $total = 0;
$total += $_ for values %status;
is_deeply \%status, { 202 => $total }, "every one of $total submissions answered 202";
my $during = grep { $_->[0] eq $site && $_->[2] < $ended && $_->[3] > $began } @accepted;
cmp_ok $during, '>=', 1, "$during of '$site' in flight while its slot was migrating";
is owner($slot)->{port}, $to->{port}, 'the cluster says the slot moved';
is $from->cmd('CLUSTER', 'COUNTKEYSINSLOT', $slot), 0, 'no key of the site left on the old master';
wait_until('the spool drained', sub { my ($s, $j) = $d->get('/readyz'); $s == 200 && $j->{spool_depth} == 0 }, 15);
my @missing = grep { ($d->get("/v1/comments/$_->[1]?site=$_->[0]"))[0] != 200 } @accepted;
is scalar(@missing), 0, scalar(@accepted) . ' accepted ids readable afterwards' or diag explain \@missing;
my %queued;
$queued{ $_->[1][1] }++ for @{ $to->cmd('XRANGE', "raqib:{$site}:review", '-', '+') };
my @mine = map { $_->[1] } grep { $_->[0] eq $site } @accepted;
is scalar(grep { $queued{$_} } @mine), scalar(@mine), "each of '$site' queued on the new master";
is scalar(grep { $_ > 1 } values %queued), 0, 'none twice';
my $spooled = () = $d->log_text =~ /spooled:/g;
diag sprintf '%d submissions during the migration, %d went through the spool', scalar(@accepted), $spooled;
my ($cs, $cj) = $d->post('/v1/queue/claim', { site => $site, limit => 1 }, $mod);
is "$cs " . scalar(@{ $cj->{items} }), '200 1', 'claims on the migrated site go to its new master';

# --- a master restarts: readyz tells the truth, nothing accepted is lost -----
subtest 'a master restarts' => sub {
    my $victim = $m[2];
    $victim->stop;
    wait_until('readyz 503 while a master is away', sub { ($d->get('/readyz'))[0] == 503 }, 10);
    my @during;
    for my $s (@sites) {
        my ($st, $j) = submit($s);
        is $st, 202, "$s: accepted while a master is away";
        push @during, [ $s, $j->{id} ];
    }
    $victim->start;
    wait_until('readyz 200 and the spool empty again',
               sub { my ($s, $j) = $d->get('/readyz'); $s == 200 && $j->{spool_depth} == 0 }, 20);
    is scalar(grep { ($d->get("/v1/comments/$_->[1]?site=$_->[0]"))[0] != 200 } @during), 0,
        'every one of them stored';
    ok eval { wait_until('the loss logged', sub { $d->log_text =~ /redis cluster node 127\.0\.0\.1:$victim->{port} lost/ }, 5) },
        'the loss was logged';
};

my @errors = grep { / redis error: / } split /\n/, $d->log_text;
is scalar(@errors), 0, 'no Redis error reached the log (MOVED, ASK and TRYAGAIN were followed)' or diag join "\n", @errors;
$d->check_log;
is $d->stop, 0, 'stops cleanly';
diag sprintf '22-cluster.t: %.1f s', time - $t_start;
done_testing;
