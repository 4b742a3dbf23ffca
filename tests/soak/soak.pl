# The soak behind tests/soak/run.sh. Writers post comments, a moderator
# claims and decides; at 1/3 of the time Redis is restarted (AOF on), at 2/3
# raqibd (SIGTERM, a new one on the same port and spool). Then: every 202ed
# id is an item in Redis, queued at most once, and carries the status it
# was answered with or the decision a moderator got a 200 for.
use strict;
use warnings;
use RaqibTest;
use Test::More;
use HTTP::Tiny;
use JSON::PP;
use File::Temp ();
use POSIX ();
use Time::HiRes qw(sleep time);

my $seconds = $ENV{SOAK_SECONDS} // 60;
my $writers = $ENV{SOAK_WRITERS} // 4;
my $json = JSON::PP->new->utf8->canonical;
my $dir = File::Temp::tempdir(CLEANUP => 1);
my $redis = new_redis(aof => 1);
my $spool = "$dir/spool";
my @args = ('--spool', $spool, '--redis_timeout_ms', '500', '--flood_seconds', '0');
my $d = new_raqibd(redis => $redis, threads => 2, args => \@args);
my $base = $d->{base};
wait_until('readyz', sub { ($d->get('/readyz'))[0] == 200 });
my $end = time + $seconds;

sub child (&$) {
    my ($code, $file) = @_;
    my $pid = fork // die "fork: $!";
    return $pid if $pid;
    open my $out, '>', $file or die $!;
    $out->autoflush(1);
    $code->($out);
    POSIX::_exit(0);
}

my @kids;
for my $w (1 .. $writers) {
    push @kids, child {
        my ($out) = @_;
        my $http = HTTP::Tiny->new(timeout => 5);
        my $i = 0;
        while (time < $end) {
            $i++;
            my $body = $json->encode({ post_id => $w, author => "W$w", email => "w$w-$i\@example.com",
                                       content => "soak $w $i " . ($i % 7 == 0 ? 'whatsapp واتساب 00966551234567 http://a.b http://c.d http://e.f' : 'fine') });
            my $r = $http->post("$base/v1/comments", { content => $body, headers => { 'Content-Type' => 'application/json' } });
            if ($r->{status} == 202) {
                my $j = $json->decode($r->{content});
                print $out "$j->{id} $j->{status}\n";
            } else {
                print $out "- $r->{status}\n";
                sleep 0.05;
            }
        }
    } "$dir/writer-$w";
}
push @kids, child {
    my ($out) = @_;
    my $http = HTTP::Tiny->new(timeout => 5);
    my $n = 0;
    while (time < $end) {
        my $r = $http->post("$base/v1/queue/claim", { content => $json->encode({ site => 'default', limit => 5, lease_seconds => 60 }),
                                                      headers => { 'Content-Type' => 'application/json' } });
        my $items = $r->{status} == 200 ? ($json->decode($r->{content})->{items} // []) : [];
        sleep 0.1 unless @$items;
        for my $it (@$items) {
            my $status = $n++ % 3 ? 'approved' : 'rejected';
            my $dr = $http->post("$base/v1/comments/$it->{id}/decision", { content => $json->encode({ status => $status, reason => 'soak' }),
                                                                           headers => { 'Content-Type' => 'application/json' } });
            print $out "$it->{id} $status\n" if $dr->{status} == 200;
        }
    }
} "$dir/moderator";

sleep $seconds / 3;
diag 'restarting Redis';
$redis->stop;
sleep 1;
$redis->start;
sleep $seconds / 3;
diag 'restarting raqibd';
is $d->stop, 0, 'raqibd stopped cleanly mid-soak';
$d->start;
waitpid $_, 0 for @kids;
wait_until('spool drained', sub { my ($s, $j) = $d->get('/readyz'); $s == 200 && $j->{spool_depth} == 0 }, 60);

my (%answered, %refused);
for my $w (1 .. $writers) {
    open my $fh, '<', "$dir/writer-$w" or die $!;
    while (<$fh>) { my ($id, $st) = split; if ($id eq '-') { $refused{$st}++ } else { $answered{$id} = $st } }
}
my %decided;
open my $fh, '<', "$dir/moderator" or die $!;
while (<$fh>) { my ($id, $st) = split; $decided{$id} = $st }

my $review = $redis->cmd('XRANGE', 'raqib:{default}:review', '-', '+');
my %in_review;
$in_review{ $_->[1][1] }++ for @$review;
my ($missing, $twice, $wrong) = (0, 0, 0);
for my $id (sort keys %answered) {
    my $h = $redis->cmd('HGETALL', "raqib:{default}:c:$id");
    my %item = @$h;
    if (!%item) { $missing++; diag "missing: $id"; next }
    $twice++, diag "queued twice: $id" if ($in_review{$id} // 0) > 1;
    my $want = $decided{$id} // $answered{$id};
    $wrong++, diag "state of $id: $item{status}, want $want" if $item{status} ne $want;
}
my $items = scalar @{ $redis->cmd('KEYS', 'raqib:{default}:c:*') };
printf "soak %ds: %d accepted (202), %d decided by the moderator, refused %s; items in Redis %d; "
     . "missing %d, queued twice %d, wrong state %d\n", $seconds, scalar keys %answered, scalar keys %decided,
     $json->encode(\%refused), $items, $missing, $twice, $wrong;
ok scalar keys %answered > 0, 'something was accepted';
is $missing, 0, 'every 202ed id is in Redis';
is $twice, 0, 'none queued twice';
is $wrong, 0, 'each has the state it was answered with or decided to';
is $items, scalar keys %answered, 'and nothing else is there (no duplicates under other ids)';
$d->check_log;
done_testing;
