# Tokens and roles, and where a comment's IP comes from.
use strict;
use warnings;
use utf8;
use lib 'tests/integration/lib';
use RaqibTest;
use Test::More;

my $redis = new_redis();
my $conf = <<'CONF';
# tokens: role name secret
token submit   site-backend  sub-secret-1
token moderate layla         mod-secret-2
token admin    ops           adm-secret-3
public_forms 1
trusted_proxy 127.0.0.2
CONF
my $d = new_raqibd(redis => $redis, config => $conf);
wait_until('readyz', sub { ($d->get('/readyz'))[0] == 200 });

my $c = { post_id => 5, author => 'Omar', email => 'omar@example.com', content => 'مقال مفيد جدا', ip => '198.51.100.4' };

subtest 'no token or a wrong one is 401' => sub {
    my ($s, $j) = $d->post('/v1/comments', $c, { Authorization => undef });
    is $s, 401;
    is $j->{error}, 'unauthorized';
    ($s, $j) = $d->post('/v1/comments', $c, { Authorization => 'Bearer nope' });
    is $s, 401, 'wrong secret';
    ($s, $j) = $d->post('/v1/comments', $c, { Authorization => 'Bearer sub-secret-1x' });
    is $s, 401, 'a longer secret is not a match';
};

my $id;
subtest 'submit role: posts, reads back without email and ip' => sub {
    my ($s, $j) = $d->post('/v1/comments', $c, { Authorization => 'Bearer sub-secret-1' });
    is $s, 202;
    $id = $j->{id};
    my ($gs, $g) = $d->get("/v1/comments/$id", { Authorization => 'Bearer sub-secret-1' });
    is $gs, 200;
    ok !exists $g->{email}, 'no email for submit role';
    ok !exists $g->{ip}, 'no ip for submit role';
};

subtest 'moderate and admin see email and ip' => sub {
    for my $tok ('mod-secret-2', 'adm-secret-3') {
        my ($gs, $g) = $d->get("/v1/comments/$id", { Authorization => "Bearer $tok" });
        is $gs, 200;
        is $g->{email}, 'omar@example.com';
        is $g->{ip}, '198.51.100.4', 'the ip field of a submit-role backend is believed';
    }
};

subtest 'anonymous browser form (public_forms): ip is the peer, a forged ip field is ignored' => sub {
    my $body = 'comment_post_ID=9&author=Sara&email=sara%40example.com&comment=hello+there&ip=1.2.3.4';
    my ($s, $j, $r) = $d->request('POST', '/v1/comments', $body,
        { Authorization => undef, 'Content-Type' => 'application/x-www-form-urlencoded', 'X-Forwarded-For' => '9.9.9.9' });
    is $s, 202 or diag $r->{content};
    my ($gs, $g) = $d->get("/v1/comments/$j->{id}", { Authorization => 'Bearer mod-secret-2' });
    is $g->{ip}, '127.0.0.1', 'the peer; neither the ip field nor X-Forwarded-For from an untrusted peer';
    ($s) = $d->request('POST', '/v1/comments', '{}', { Authorization => undef, 'Content-Type' => 'application/json' });
    is $s, 401, 'anonymous JSON is still refused';
};

subtest 'X-Forwarded-For is believed from a trusted proxy only' => sub {
    my $http = HTTP::Tiny->new(local_address => '127.0.0.2');
    my $r = $http->request('POST', "$d->{base}/v1/comments", {
        headers => { 'Content-Type' => 'application/x-www-form-urlencoded', 'X-Forwarded-For' => '6.6.6.6, 203.0.113.9' },
        content => 'comment_post_ID=9&author=Ali&email=ali%40example.com&comment=fine+article' });
    is $r->{status}, 202 or diag $r->{content};
    my $j = RaqibTest::json_of($r->{content});
    my ($gs, $g) = $d->get("/v1/comments/$j->{id}", { Authorization => 'Bearer mod-secret-2' });
    is $g->{ip}, '203.0.113.9', 'the entry our proxy added, not the one the client wrote';
};

subtest 'operational endpoints need no token' => sub {
    is(($d->get('/healthz', { Authorization => undef }))[0], 200);
    is(($d->get('/metrics', { Authorization => undef }))[0], 200);
};

$d->check_log;
unlike $d->log_text, qr/sub-secret-1|mod-secret-2|adm-secret-3/, 'secrets never logged';
is $d->stop, 0, 'clean exit';
done_testing;
