# Submitting and reading back comments: the answers a site backend sees.
use strict;
use warnings;
use utf8;
use lib 'tests/integration/lib';
use RaqibTest;
use Test::More;
use JSON::PP;

my $redis = new_redis();
my $d = new_raqibd(redis => $redis, args => ['--max_body', '131072']);
wait_until('readyz', sub { ($d->get('/readyz'))[0] == 200 });

my $n = 0;
sub comment { my %o = @_; $n++; return { post_id => 42, author => "Reader $n", email => "reader$n\@example.com",
                                         content => "تعليق رقم $n على المقال، شكرا", %o } }

subtest 'health and readiness' => sub {
    my ($s, $j) = $d->get('/healthz');
    is $s, 200, 'healthz 200';
    ($s, $j) = $d->get('/readyz');
    is $s, 200, 'readyz 200 once Redis answers';
    is $j->{status}, 'ready';
};

subtest 'a valid comment is accepted, queued and read back' => sub {
    my $c = comment(url => 'https://blog.example.org/me', ip => '203.0.113.7', user_agent => 'Mozilla/5.0');
    my ($s, $j, $r) = $d->post('/v1/comments', $c);
    is $s, 202, 'status 202 Accepted' or diag $r->{content};
    like $j->{id}, qr/^[0-9A-Z]{26}$/, 'an id';
    is $j->{status}, 'pending', 'pending by default';
    is ref $j->{matches}, 'ARRAY', 'matches listed';
    like $r->{headers}{'content-type'}, qr{^application/json}, 'JSON answer';
    is $redis->cmd('XLEN', 'raqib:{default}:review'), 1, 'queued in the review stream';

    my ($gs, $g) = $d->get("/v1/comments/$j->{id}");
    is $gs, 200, 'read back';
    is $g->{content}, $c->{content}, 'raw text kept as typed';
    is $g->{author}, $c->{author};
    is $g->{post_id}, '42', 'post_id as text';
    is $g->{url}, $c->{url};
    is $g->{status}, 'pending';
    like $g->{created_at}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, 'RFC 3339 UTC time';
    ok exists $g->{decided_at} && !defined $g->{decided_at}, 'not decided yet';
    is $g->{email}, $c->{email}, 'development mode is admin: email shown';
    is $g->{ip}, '203.0.113.7', 'the backend-supplied ip kept';
};

subtest 'unknown ids are 404' => sub {
    my ($s, $j) = $d->get('/v1/comments/01ARZ3NDEKTSV4RRFFQ69G5FAV');
    is $s, 404;
    is $j->{error}, 'not_found';
    ($s, $j) = $d->get('/v1/comments/not-an-id');
    is $s, 404;
};

subtest 'every validation error at once' => sub {
    my ($s, $j) = $d->post('/v1/comments', { post_id => 1, email => 'not an email', url => 'ftp://x.example', content => '' });
    is $s, 422, 'status 422';
    is $j->{error}, 'validation_failed';
    is_deeply $j->{fields}, { author => 'required', email => 'invalid', url => 'invalid', content => 'required' },
        'each failing field with its code';
    like $j->{message}, qr/email/, 'a sentence that names the fields';
};

subtest 'WordPress limits: characters for author, bytes for content' => sub {
    my ($s) = $d->post('/v1/comments', comment(author => 'ع' x 245));
    is $s, 202, '245 Arabic letters (490 bytes) is a valid name';
    my $j;
    ($s, $j) = $d->post('/v1/comments', comment(author => 'ع' x 246));
    is $s, 422;
    is $j->{fields}{author}, 'too_long';
    ($s, $j) = $d->post('/v1/comments', comment(content => 'a' x 65526));
    is $s, 422;
    is $j->{fields}{content}, 'too_long', 'content over 65,525 bytes';
    ($s, $j) = $d->post('/v1/comments', comment(content => 'ب' x 32762));
    is $s, 202, '65,524 bytes of Arabic is within the limit';
};

subtest 'malformed bodies are 400 with a reason' => sub {
    my ($s, $j) = $d->request('POST', '/v1/comments', '{"post_id": 1, "author": ', { 'Content-Type' => 'application/json' });
    is $s, 400, 'truncated JSON';
    is $j->{error}, 'malformed_body';
    ($s, $j) = $d->request('POST', '/v1/comments', '[1,2]', { 'Content-Type' => 'application/json' });
    is $s, 400, 'not an object';
    ($s, $j) = $d->post('/v1/comments', comment(author => [1]));
    is $s, 400, 'wrong type';
    is $j->{error}, 'wrong_type';
    is $j->{fields}{author}, 'wrong_type', 'names the field';
    my $bad = qq({"post_id":1,"author":"x\xff\xfey","email":"a\@b.co","content":"hi"});
    ($s, $j) = $d->request('POST', '/v1/comments', $bad, { 'Content-Type' => 'application/json' });
    is $s, 400, 'invalid UTF-8';
    is $j->{error}, 'invalid_utf8';
    ($s, $j) = $d->request('POST', '/v1/comments', '{"post_id":1,"author":"a\u0000b","email":"a@b.co","content":"hi"}',
                           { 'Content-Type' => 'application/json' });
    is $s, 400, 'NUL in a field';
    ($s, $j) = $d->request('POST', '/v1/comments', 'author=%ZZ', { 'Content-Type' => 'application/x-www-form-urlencoded' });
    is $s, 400, 'bad percent escape in a form';
};

subtest 'content type and size' => sub {
    my ($s, $j) = $d->request('POST', '/v1/comments', 'hello', { 'Content-Type' => 'text/plain' });
    is $s, 415, 'text/plain is 415';
    is $j->{error}, 'unsupported_media_type';
    ($s, $j) = $d->request('POST', '/v1/comments', '{}', { 'Content-Type' => 'application/json; charset=latin1' });
    is $s, 415, 'a charset other than UTF-8 is 415';
    ($s, $j) = $d->request('POST', '/v1/comments', '{}', {});
    is $s, 415, 'no content type is 415';
    ($s, $j) = $d->post('/v1/comments', comment(content => 'x' x 140000));
    is $s, 413, 'a body over max_body is 413';
    is $j->{error}, 'too_large';
};

subtest 'WordPress form field names' => sub {
    my $body = 'comment_post_ID=7&author=%D9%84%D9%8A%D9%84%D9%89&email=layla%40example.com&url=&comment=%D8%B4%D9%83%D8%B1%D8%A7+%D9%84%D9%83%D9%85&comment_parent=0&submit=Post+Comment';
    my ($s, $j, $r) = $d->request('POST', '/v1/comments', $body, { 'Content-Type' => 'application/x-www-form-urlencoded' });
    is $s, 202, 'a WordPress comment form posts unchanged' or diag $r->{content};
    my ($gs, $g) = $d->get("/v1/comments/$j->{id}");
    is $g->{author}, 'ليلى', 'author decoded';
    is $g->{content}, 'شكرا لكم', '+ is a space';
    is $g->{post_id}, '7';
    ok !defined $g->{parent_id}, 'comment_parent=0 means no parent';
};

subtest 'POST /v1/check scores without storing' => sub {
    my $before = $redis->cmd('DBSIZE');
    my $ad = { post_id => 1, author => 'X', email => 'x@example.com', content => 'شيخ روحاني لجلب الحبيب واتساب 00966551234567' };
    my ($s, $j) = $d->post('/v1/check', $ad);
    is $s, 200, 'status 200';
    is $j->{decision}, 'spam', 'decision';
    ok $j->{score} >= 10, 'score';
    ok @{ $j->{matches} } >= 2, 'matches with descriptions' and ok $j->{matches}[0]{description};
    ok !exists $j->{id}, 'no id: nothing stored';
    ($s, $j) = $d->post('/v1/check', $ad);
    is $s, 200, 'checking twice is no duplicate and no flood';
    is $redis->cmd('DBSIZE'), $before, 'Redis untouched';
    ($s, $j) = $d->post('/v1/check', { post_id => 1 });
    is $s, 422, 'the same validation';
};

subtest 'unknown routes and methods' => sub {
    my ($s, $j) = $d->get('/nope');
    is $s, 404;
    is $j->{error}, 'not_found';
    ($s, $j) = $d->request('DELETE', '/v1/comments', undef);
    is $s, 405;
};

$d->check_log;
is $d->stop, 0, 'SIGTERM: clean exit';
done_testing;
