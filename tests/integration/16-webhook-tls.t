# The decision webhook over https: delivered when the receiver's certificate
# chains to webhook_ca_file and names the URL's host; refused (and retried,
# with the reason in the log) when it does not; a CA file that cannot be
# read stops the daemon at start with a sentence.
use strict;
use warnings;
use utf8;
use lib 'tests/integration/lib';
use RaqibTest;
use Test::More;
use Digest::SHA qw(hmac_sha256_hex);
use File::Temp qw(tempdir);
use JSON::PP;
use Time::HiRes qw(sleep);

my $dir = tempdir(CLEANUP => 1);
my $secret = 'whsec-tls';

# A self-signed certificate for one host name: it is its own CA.
sub make_cert {
    my ($name) = @_;
    my ($cert, $key) = ("$dir/$name.pem", "$dir/$name.key");
    system("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=$name -addext subjectAltName=DNS:$name "
           . "-keyout $key -out $cert 2>/dev/null") == 0 or die "openssl req failed";
    return ($cert, $key);
}

# Start the Python HTTPS receiver; returns (pid, port).
my @receivers;
sub start_receiver {
    my ($cert, $key, $log) = @_;
    my $pid = open(my $out, '-|', 'python3', 'tests/integration/lib/https_receiver.py', $cert, $key, $log) // die $!;
    my $port = <$out>;
    chomp $port;
    die "receiver did not start" unless $port =~ /^\d+$/;
    push @receivers, [$pid, $out];
    return $port;
}
END { kill 'TERM', $_->[0] for @receivers }

sub received {
    my ($log) = @_;
    open my $fh, '<', $log or return ();
    return map { decode_json($_) } <$fh>;
}
sub count_received { my @r = received(@_); return scalar @r }

my ($good_cert, $good_key) = make_cert('localhost');
my ($other_cert, $other_key) = make_cert('other.example');
my $good_port = start_receiver($good_cert, $good_key, "$dir/good.log");
my $bad_port = start_receiver($other_cert, $other_key, "$dir/bad.log");

my $redis = new_redis();
sub daemon {
    my ($url, $ca) = @_;
    my $conf = "token submit site sub-1\ntoken moderate layla mod-1\nflood_seconds 0\n"
             . "webhook_url $url\nwebhook_secret $secret\n" . ($ca ? "webhook_ca_file $ca\n" : '');
    return new_raqibd(redis => $redis, config => $conf, token => 'sub-1');
}

subtest 'delivered over TLS to a receiver whose certificate is trusted and names the host' => sub {
    my $d = daemon("https://localhost:$good_port/hooks/raqib", $good_cert);
    wait_until('readyz', sub { ($d->get('/readyz'))[0] == 200 });
    my ($s, $j) = $d->post('/v1/comments', { post_id => 1, author => 'A', email => 'a@example.com', content => 'تعليق للتجربة' });
    is $s, 202;
    my $id = $j->{id};
    is(($d->post("/v1/comments/$id/decision", { status => 'approved' }, { Authorization => 'Bearer mod-1' }))[0], 200);
    wait_until('delivery', sub { grep { index($_->{body}, $id) >= 0 } received("$dir/good.log") });
    my ($got) = grep { index($_->{body}, $id) >= 0 } received("$dir/good.log");
    is $got->{path}, '/hooks/raqib', 'to the path of the URL';
    is $got->{signature}, 'sha256=' . hmac_sha256_hex($got->{body}, $secret), 'signed';
    is decode_json($got->{body})->{status}, 'approved', 'the decision';
    $d->stop;
    $d->check_log;
};

subtest 'a certificate for another host is refused, and the log says why' => sub {
    my $d = daemon("https://localhost:$bad_port/hooks/raqib", $other_cert);
    wait_until('readyz', sub { ($d->get('/readyz'))[0] == 200 });
    my ($s, $j) = $d->post('/v1/comments', { post_id => 1, author => 'B', email => 'b@example.com', content => 'تعليق اخر للتجربة' });
    is(($d->post("/v1/comments/$j->{id}/decision", { status => 'rejected' }, { Authorization => 'Bearer mod-1' }))[0], 200);
    eval { wait_until('refusal logged', sub { $d->log_text =~ /webhook.*TLS: .*certificate verify failed/ }) };
    diag $d->log_text if $@;
    note((grep { /TLS:/ } split /\n/, $d->log_text)[0]);
    is count_received("$dir/bad.log"), 0, 'nothing delivered';
    $d->stop;
};

subtest 'the system CAs do not trust a self-signed certificate' => sub {
    my $d = daemon("https://localhost:$good_port/hooks/raqib", undef);
    wait_until('readyz', sub { ($d->get('/readyz'))[0] == 200 });
    my $before = count_received("$dir/good.log");
    my ($s, $j) = $d->post('/v1/comments', { post_id => 1, author => 'C', email => 'c@example.com', content => 'تعليق ثالث' });
    is(($d->post("/v1/comments/$j->{id}/decision", { status => 'spam' }, { Authorization => 'Bearer mod-1' }))[0], 200);
    wait_until('refusal logged', sub { $d->log_text =~ /webhook.*TLS: .*certificate verify failed/ });
    is count_received("$dir/good.log"), $before, 'nothing new delivered';
    $d->stop;
};

subtest 'an unreadable webhook_ca_file stops the start' => sub {
    my $raqibd = $ENV{RAQIBD} // 'build/raqibd';
    my $port = RaqibTest::free_port();
    my $out = `timeout 20 $raqibd --listen 127.0.0.1:$port --redis ${\ $redis->url} --spool $dir/spool --webhook_url https://localhost:$good_port/ --webhook_secret x --webhook_ca_file $dir/missing.pem 2>&1`;
    my $rc = $? >> 8;
    ok $rc != 0 && $rc != 124, "raqibd exits at start (status $rc)";
    like $out, qr/webhook_ca_file '\Q$dir\E\/missing\.pem': cannot load it/, 'naming the file';
};

done_testing;
