# Several raqibd on one Redis are one service: each decision reaches the
# webhook once though both daemons run a deliverer (a lease in Redis picks
# one), the other takes over when the holder is killed, and a rule reload on
# one daemon reaches the other, which loads its own folder.
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

my $dir = tempdir(CLEANUP => 1);

# A receiver that answers 204 after $delay seconds and logs each request.
sub start_receiver {
    my ($delay) = @_;
    my $srv = IO::Socket::INET->new(Listen => 16, LocalAddr => '127.0.0.1', LocalPort => 0, Proto => 'tcp', ReuseAddr => 1) or die $!;
    my $port = $srv->sockport;
    my $pid = fork // die;
    if (!$pid) {
        while (my $c = $srv->accept) {
            my %h;
            while (my $line = <$c>) { last if $line =~ /^\r?\n$/; $h{lc $1} = $2 if $line =~ /^([^:]+):\s*(.*?)\r?\n$/ }
            my $body = '';
            read($c, $body, $h{'content-length'} // 0);
            sleep $delay if $delay;
            open my $log, '>>', "$dir/received" or die;
            print $log encode_json({ delivery => $h{'x-raqib-delivery'} // '', body => $body }), "\n";
            close $log;
            print $c "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
            close $c;
        }
        POSIX::_exit(0);
    }
    close $srv;
    return ($pid, $port);
}

sub received {
    open my $fh, '<', "$dir/received" or return ();
    return map { decode_json($_) } <$fh>;
}

sub write_rules {
    my ($folder, $name, $text) = @_;
    mkdir $folder;
    open my $fh, '>:utf8', "$folder/.tmp" or die $!;
    print $fh $text;
    close $fh;
    rename "$folder/.tmp", "$folder/$name" or die $!;
}

my $spam_rule = "rule SPAMWORD\n  match content /spamword/\n  score 10\n  describe the test's spam word\n";
my ($rpid, $rport) = start_receiver(0.12);
END { kill 'KILL', $rpid if $rpid }

my $redis = new_redis();
my $conf = "token submit site sub-1\ntoken admin ops adm-1\nflood_seconds 0\n"
         . "webhook_url http://127.0.0.1:$rport/hook\nwebhook_secret s3cret\n";
my @d;
for my $n (0, 1) {
    write_rules("$dir/rules$n", 'main.rules', $spam_rule);
    push @d, new_raqibd(redis => $redis, config => $conf, rules => "$dir/rules$n", token => 'sub-1', threads => 1);
    $d[-1]{rules_dir} = "$dir/rules$n";
}
wait_until('both ready', sub { ($d[0]->get('/readyz'))[0] == 200 && ($d[1]->get('/readyz'))[0] == 200 });

my $n = 0;
sub decide_through {
    my ($daemon) = @_;
    $n++;
    my ($s, $j) = $daemon->post('/v1/comments', { post_id => 1, author => "A$n", email => "a$n\@example.com", content => "spamword number $n" });
    die "submission $n: $s" unless $s == 202 && $j->{status} eq 'spam';
    return $j->{id};
}

sub feed_ids {
    my $entries = $redis->cmd('XRANGE', 'raqib:{default}:decisions', '-', '+');
    return map { $_->[0] } @$entries;
}

my $lease_key = 'raqib:{default}:webhook:lease';
subtest 'ten decisions through either daemon: each delivered once, in order' => sub {
    decide_through($d[$_ % 2]) for 1 .. 10;
    wait_until('10 deliveries', sub { scalar(received()) >= 10 }, 30);
    sleep 1;   # anything sent twice would show by now
    my @got = map { $_->{delivery} } received();
    is scalar(@got), 10, 'ten requests, no repeats';
    is_deeply \@got, [ feed_ids() ], 'in feed order';
    like $redis->cmd('GET', $lease_key), qr{^[^/]+/\d+/[0-9a-f]{12}$}, 'the lease names one daemon';
};

subtest 'kill -9 the delivering daemon mid-stream: the other takes over, nothing skipped' => sub {
    my ($holder_pid) = ($redis->cmd('GET', $lease_key) =~ m{/(\d+)/});
    my ($holder) = grep { $_->{pid} == $holder_pid } @d;
    my ($other) = grep { $_->{pid} != $holder_pid } @d;
    ok $holder && $other, 'the lease holder is one of the two daemons';
    decide_through($_ % 2 ? $holder : $other) for 1 .. 12;
    wait_until('a few of the new ones delivered', sub { scalar(received()) >= 13 }, 20);
    kill 'KILL', $holder->{pid};
    waitpid $holder->{pid}, 0;
    delete $holder->{pid};
    my $t0 = time;
    my @want = feed_ids();
    my %seen;
    wait_until('every decision delivered', sub { %seen = map { $_->{delivery} => 1 } received(); keys(%seen) >= @want }, 30);
    diag sprintf 'took over and finished in %.1f s', time - $t0;
    my @got = map { $_->{delivery} } received();
    my @first = grep { !$seen{$_}++ } @got;
    %seen = ();
    is_deeply [ grep { !$seen{$_}++ } @got ], \@want, 'every decision, in feed order, none skipped';
    cmp_ok scalar(@got) - scalar(@want), '<=', 1, 'at most the one in flight at the kill was sent twice';
    like $redis->cmd('GET', $lease_key), qr{/$other->{pid}/}, 'the survivor holds the lease';
    @d = ($other);
};

subtest 'a reload on one daemon changes the verdicts of the other' => sub {
    write_rules("$dir/rulesB", 'main.rules', $spam_rule);
    my $b = new_raqibd(redis => $redis, config => $conf, rules => "$dir/rulesB", token => 'adm-1', threads => 1);
    my $a = $d[0];
    wait_until('readyz', sub { ($b->get('/readyz'))[0] == 200 });
    my $probe = { post_id => 2, author => 'P', email => 'p@example.com', content => 'a marker here' };
    my ($s, $j) = $a->post('/v1/check', $probe);
    is $j->{status}, 'pending', 'no rule hits "marker" yet';
    my $marker = "rule MARKER\n  match content /marker/\n  score 10\n  describe the reload test\n";
    write_rules($_, 'marker.rules', $marker) for $a->{rules_dir}, "$dir/rulesB";
    ($s, $j) = $b->request('POST', '/v1/rules/reload', '', { Authorization => 'Bearer adm-1' });
    is $s, 200, 'reloaded on one daemon';
    wait_until('the other daemon follows', sub { ($a->post('/v1/check', $probe))[1]{status} eq 'spam' }, 5);
    pass 'the other daemon scores with the new rule';
    ($s, $j) = $a->get('/v1/rules', { Authorization => 'Bearer adm-1' });
    is $j->{fleet}{last_follow}{status}, 'reloaded', '/v1/rules says it followed';
    cmp_ok $j->{fleet}{rules_version}, '>=', 1, 'the service-wide version';

    write_rules($a->{rules_dir}, 'broken.rules', "rule BROKEN\n  match content /(/\n  score 1\n");
    ($s, $j) = $b->request('POST', '/v1/rules/reload', '', { Authorization => 'Bearer adm-1' });
    is $s, 200, 'the reloading daemon has a good set';
    wait_until('the follower refuses its broken folder', sub {
        my ($s2, $j2) = $a->get('/v1/rules', { Authorization => 'Bearer adm-1' });
        ($j2->{fleet}{last_follow}{status} // '') eq 'refused';
    }, 5);
    my (undef, $j2) = $a->get('/v1/rules', { Authorization => 'Bearer adm-1' });
    like $j2->{fleet}{last_follow}{error}, qr/broken\.rules/, 'and names the file';
    is(($a->post('/v1/check', $probe))[1]{status}, 'spam', 'its running rules stay');
    $_->check_log for $a, $b;
};

done_testing;
