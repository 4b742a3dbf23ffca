# The moderator console's server side: the built-in files at /console/ with
# their security headers, /v1/whoami, renewing and releasing claims, the
# newest-first decisions feed, and the words a match carries. (The console
# itself is driven in a browser by tests/browser/console.t.)
use strict;
use warnings;
use utf8;
use lib 'tests/integration/lib';
use RaqibTest;
use Test::More;
use HTTP::Tiny;

my $redis = new_redis();
my $d = new_raqibd(redis => $redis, token => 'sub-1', config => <<'CONF');
token submit   site  sub-1
token moderate layla mod-layla
token moderate omar  mod-omar
token admin    ops   adm-1
flood_seconds 0
sites default news
CONF
wait_until('readyz', sub { ($d->get('/readyz'))[0] == 200 });
sub as { return { Authorization => "Bearer $_[0]" } }
my $plain = HTTP::Tiny->new(timeout => 5, max_redirect => 0);

subtest 'the console files, with their security headers' => sub {
    my $r = $plain->get("$d->{base}/console/");
    is $r->{status}, 200, 'GET /console/ without a token';
    like $r->{headers}{'content-type'}, qr{^text/html; charset=utf-8}, 'HTML';
    my $csp = $r->{headers}{'content-security-policy'} // '';
    like $csp, qr/default-src 'self'/, "CSP default-src 'self'";
    unlike $csp, qr/unsafe-inline|unsafe-eval/, 'no unsafe-inline, no unsafe-eval';
    like $csp, qr/frame-ancestors 'none'/, 'no framing by CSP';
    is $r->{headers}{'x-content-type-options'}, 'nosniff', 'nosniff';
    is $r->{headers}{'referrer-policy'}, 'no-referrer', 'no referrer';
    is $r->{headers}{'x-frame-options'}, 'DENY', 'no framing';
    my $html = $r->{content};
    like $html, qr{<script type="module" src="app.js"></script>}, 'the app is a module file';
    unlike $html, qr{<script(?![^>]*\bsrc=)}, 'no inline script';
    unlike $html, qr{\son[a-z]+=|\sstyle=}i, 'no inline handlers or styles';
    for ([ 'app.js', qr{^text/javascript} ], [ 'style.css', qr{^text/css} ], [ 'api.js', qr{^text/javascript} ]) {
        my $a = $plain->get("$d->{base}/console/$_->[0]");
        is $a->{status}, 200, "$_->[0]";
        like $a->{headers}{'content-type'}, $_->[1], "$_->[0] type";
        is $a->{headers}{'content-security-policy'}, $csp, "$_->[0] carries the CSP";
    }
    for my $p ('/console/nope.js', '/console/..%2FMakefile', '/console/index.html/x') {
        my $n = $plain->get("$d->{base}$p");
        is $n->{status}, 404, "$p: 404";
        like $n->{content}, qr/"error":"not_found"/, "$p: a JSON error";
    }
    for my $p ('/', '/console') {
        my $m = $plain->get("$d->{base}$p");
        is $m->{status}, 308, "$p leads to the console";
        is $m->{headers}{location}, '/console/', "$p: Location /console/";
    }
};

subtest 'GET /v1/whoami' => sub {
    is(($d->get('/v1/whoami', { Authorization => undef }))[0], 401, 'no token: 401');
    is(($d->get('/v1/whoami', as('wrong')))[0], 401, 'a wrong token: 401');
    my ($s, $j) = $d->get('/v1/whoami', as('mod-layla'));
    is $s, 200, 'a moderator';
    is_deeply $j, { role => 'moderate', name => 'layla', development => JSON::PP::false(), sites => [ 'default', 'news' ] },
        'role, name, development mode, the configured sites';
    is((($d->get('/v1/whoami', as('adm-1')))[1] // {})->{role}, 'admin', 'an admin');
    is((($d->get('/v1/whoami'))[1] // {})->{role}, 'submit', 'a submit token');
};

my $n = 0;
sub submit {
    my ($content) = @_;
    $n++;
    my ($s, $j) = $d->post('/v1/comments', { post_id => 1, author => "U$n", email => "u$n\@example.com",
                                             content => $content // "تعليق عادي رقم $n" });
    die "submit: $s" unless $s == 202;
    return $j;
}

subtest 'a match carries the words it matched' => sub {
    my $j = submit('أنت غبي جدا');
    my ($m) = grep { $_->{rule} eq 'AR_INSULT_WORDS' } @{ $j->{matches} };
    is $m && $m->{matched}, 'غبي', 'AR_INSULT_WORDS says which word it matched';
    my ($l) = grep { $_->{rule} =~ /^LEARNED_/ } @{ $j->{matches} };
    ok !$l || !exists $l->{matched}, 'a learned rule has no matched words';
    my ($s, $c) = $d->get("/v1/comments/$j->{id}", as('mod-layla'));
    is_deeply $c->{matches}, $j->{matches}, 'stored with the item';
    $d->post("/v1/comments/$j->{id}/decision", { status => 'rejected' }, as('mod-layla'));
};

subtest 'renew and release claims' => sub {
    my @ids = map { submit()->{id} } 1 .. 3;
    my ($s, $c) = $d->post('/v1/queue/claim', { limit => 2, lease_seconds => 30 }, as('mod-layla'));
    my @mine = map { $_->{id} } @{ $c->{items} };
    is scalar @mine, 2, 'layla claims two';
    my ($s2, $r) = $d->post('/v1/queue/renew', { lease_seconds => 600 }, as('mod-layla'));
    is $s2, 200, 'renew';
    is_deeply [ sort map { $_->{id} } @{ $r->{items} } ], [ sort @mine ], 'renew lists what layla holds';
    ok((grep { $_->{lease_until} gt $c->{items}[0]{lease_until} } @{ $r->{items} }) == 2, 'with later leases');
    is scalar @{ (($d->post('/v1/queue/renew', {}, as('mod-omar')))[1])->{items} }, 0, 'omar holds nothing';
    my ($s3, $rel) = $d->post('/v1/queue/release', {}, as('mod-layla'));
    is_deeply [ $s3, $rel->{released}, $rel->{released_by} ], [ 200, 2, 'layla' ], 'release hands both back';
    is scalar @{ (($d->post('/v1/queue/renew', {}, as('mod-layla')))[1])->{items} }, 0, 'layla holds nothing now';
    my ($s4, $o) = $d->post('/v1/queue/claim', { limit => 10 }, as('mod-omar'));
    my %got = map { $_->{id} => $_ } @{ $o->{items} };
    ok $got{$_}, 'omar can claim a released item' for @mine;
    is $got{ $mine[0] }{deliveries}, 1, 'a release does not count as a delivery';
    my ($s5, $bad) = $d->post('/v1/queue/renew', { lease_seconds => 0 }, as('mod-layla'));
    is_deeply [ $s5, $bad->{error}, $bad->{fields} ], [ 422, 'validation_failed', { lease_seconds => 'invalid' } ],
        'a bad lease names the field';
    ($s5, $bad) = $d->post('/v1/queue/release', { site => 'Bad Site' }, as('mod-layla'));
    is_deeply [ $s5, $bad->{fields} ], [ 422, { site => 'invalid' } ], 'a bad site names the field';
    is(($d->post('/v1/queue/release', {}))[0], 403, 'a submit token may not release');
    $d->post("/v1/comments/$_/decision", { status => 'approved' }, as('mod-omar')) for @ids;
};

subtest 'the decisions feed, newest first' => sub {
    my ($s, $all) = $d->get('/v1/decisions?limit=500');
    my @forward = map { $_->{id} } @{ $all->{decisions} };
    ok @forward >= 4, 'some decisions';
    my ($s2, $new) = $d->get('/v1/decisions?order=newest&limit=2');
    is $s2, 200, 'order=newest';
    is_deeply [ map { $_->{id} } @{ $new->{decisions} } ], [ reverse @forward[-2 .. -1] ], 'the latest first';
    my ($s3, $older) = $d->get("/v1/decisions?order=newest&limit=1&before=$new->{next}");
    is $older->{decisions}[0]{id}, $forward[-3], 'before=next pages further back';
    is(($d->get('/v1/decisions?order=sideways'))[0], 400, 'an unknown order is refused');
};

subtest 'sites must be site names' => sub {
    my $out = `$ENV{RAQIBD} --listen 127.0.0.1:1 --sites 'default Bad!' 2>&1`;
    isnt $? >> 8, 0, 'raqibd refuses to start';
    like $out, qr/sites 'default Bad!': each site name must be/, 'and says why';
};

$d->check_log;
is $d->stop, 0, 'clean exit';
done_testing;
