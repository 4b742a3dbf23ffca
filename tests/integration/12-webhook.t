# The decision webhook: every decision reaches the site, signed, in order,
# through refusals and a daemon restart.
use strict;
use warnings;
use utf8;
use lib 'tests/integration/lib';
use RaqibTest;
use Test::More;
use Digest::SHA qw(hmac_sha256_hex);
use File::Temp qw(tempdir);
use IO::Socket::INET;
use JSON::PP;
use POSIX ();
use Time::HiRes qw(sleep);

my $secret = 'whsec-test-1';
my $dir = tempdir(CLEANUP => 1);

# A receiver that answers 500 to the first $refuse requests, then 204, and
# logs each request as one JSON line {status, signature, delivery, body}.
sub start_receiver {
    my ($refuse) = @_;
    my $srv = IO::Socket::INET->new(Listen => 16, LocalAddr => '127.0.0.1', LocalPort => 0, Proto => 'tcp', ReuseAddr => 1) or die $!;
    my $port = $srv->sockport;
    my $pid = fork // die;
    if (!$pid) {
        my $seen = 0;
        while (my $c = $srv->accept) {
            my ($head, %h) = ('');
            while (my $line = <$c>) { last if $line =~ /^\r?\n$/; $head .= $line; $h{lc $1} = $2 if $line =~ /^([^:]+):\s*(.*?)\r?\n$/ }
            my $body = '';
            read($c, $body, $h{'content-length'} // 0);
            my $status = $seen++ < $refuse ? 500 : 204;
            open my $log, '>>', "$dir/received" or die;
            print $log encode_json({ status => $status, signature => $h{'x-raqib-signature'} // '', delivery => $h{'x-raqib-delivery'} // '',
                                     body => $body, request => (split /\r?\n/, $head)[0] }), "\n";
            close $log;
            print $c "HTTP/1.1 $status X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
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

my ($rpid, $rport) = start_receiver(2);
END { kill 'KILL', $rpid if $rpid }

my $redis = new_redis();
my $conf = "token submit site sub-1\ntoken moderate layla mod-1\nwebhook_url http://127.0.0.1:$rport/hooks/raqib?x=1\nwebhook_secret $secret\n";
my $d = new_raqibd(redis => $redis, config => $conf, token => 'sub-1');
wait_until('readyz', sub { ($d->get('/readyz'))[0] == 200 });

my @ids;
for my $i (1 .. 3) {
    my ($s, $j) = $d->post('/v1/comments', { post_id => 1, author => "W$i", email => "w$i\@example.com", content => "تعليق $i" });
    push @ids, $j->{id};
}
my ($s, $spam) = $d->post('/v1/comments', { post_id => 1, author => 'ad', email => 'ad@example.com', content => 'شيخ روحاني لجلب الحبيب واتساب 00966551234567' });
is $spam->{status}, 'spam', 'an automatic decision';
$d->post("/v1/comments/$ids[0]/decision", { status => 'approved', reason => 'ok' }, { Authorization => 'Bearer mod-1' });
$d->post("/v1/comments/$ids[1]/decision", { status => 'rejected' }, { Authorization => 'Bearer mod-1' });

wait_until('3 accepted deliveries', sub { (grep { $_->{status} == 204 } received()) >= 3 }, 30);
my @got = received();
is((grep { $_->{status} == 500 } @got), 2, 'the first two were refused');
my @ok = grep { $_->{status} == 204 } @got;
is $ok[0]{request}, 'POST /hooks/raqib?x=1 HTTP/1.1', 'POSTed to the configured path';
for my $r (@got) {
    is $r->{signature}, 'sha256=' . hmac_sha256_hex($r->{body}, $secret), "signature over the exact body ($r->{delivery})";
}
my @bodies = map { decode_json($_->{body}) } @ok;
is_deeply [ map { $_->{id} } @bodies ], [ $spam->{id}, $ids[0], $ids[1] ], 'every decision, in order, once accepted';
is $bodies[0]{decided_by}, 'rules', 'automatic decisions are delivered too';
is $bodies[1]{status}, 'approved';
is $bodies[1]{decided_by}, 'layla';
like $bodies[1]{decided_at}, qr/Z$/, 'RFC 3339 time';
is $ok[0]{delivery}, $bodies[0]{delivery}, 'X-Raqib-Delivery names the feed cursor';

subtest 'pending deliveries survive a restart' => sub {
    kill 'KILL', $rpid;
    waitpid $rpid, 0;
    unlink "$dir/received";
    $d->post("/v1/comments/$ids[2]/decision", { status => 'spam' }, { Authorization => 'Bearer mod-1' });
    sleep 0.5;
    is $d->stop, 0, 'stopped while the receiver is down';
    ($rpid, my $port2) = start_receiver(0);
    (my $conf2 = $conf) =~ s/127\.0\.0\.1:\d+/127.0.0.1:$port2/;
    my $d2 = new_raqibd(redis => $redis, config => $conf2, token => 'sub-1');
    wait_until('redelivery', sub { (grep { $_->{status} == 204 } received()) >= 1 }, 30);
    my @r = received();
    my $b = decode_json($r[0]{body});
    is $b->{id}, $ids[2], 'the decision made while the receiver was down';
    is $b->{status}, 'spam';
    sleep 0.6;
    is scalar(received()), 1, 'and nothing already acknowledged is sent again';
    $d2->check_log;
    is $d2->stop, 0;
};

done_testing;
