# /metrics: what operators scrape.
use strict;
use warnings;
use utf8;
use lib 'tests/integration/lib';
use RaqibTest;
use Test::More;

my $redis = new_redis();
my $d = new_raqibd(redis => $redis);
wait_until('readyz', sub { ($d->get('/readyz'))[0] == 200 });

$d->post('/v1/comments', { post_id => 1, author => 'A', email => 'a@example.com', content => 'good article' });
$d->post('/v1/comments', { post_id => 1, author => 'B', email => 'b@example.com', content => 'شيخ روحاني لجلب الحبيب واتساب 00966551234567' });
$d->post('/v1/comments', { post_id => 1, email => 'bad' });

my ($s, undef, $r) = $d->get('/metrics');
is $s, 200;
like $r->{headers}{'content-type'}, qr{^text/plain}, 'Prometheus text';
my $m = $r->{content};
like $m, qr/^raqib_http_requests_total\{route="POST \/v1\/comments",status="202"\} 2$/m, 'requests by route and status';
like $m, qr/^raqib_http_requests_total\{route="POST \/v1\/comments",status="422"\} 1$/m;
like $m, qr/^raqib_http_request_duration_seconds_bucket\{route="POST \/v1\/comments",le="\+Inf"\} 3$/m, 'latency histogram';
like $m, qr/^raqib_decisions_total\{status="pending"\} 1$/m, 'decisions by status';
like $m, qr/^raqib_decisions_total\{status="spam"\} 1$/m;
like $m, qr/^raqib_rule_hits_total\{rule="[A-Z0-9_]+"\} [1-9]/m, 'hits by rule';
like $m, qr/^raqib_store_errors_total \d+$/m, 'store errors';
like $m, qr/^raqib_store_reconnects_total \d+$/m, 'reconnects';
like $d->log_text, qr{POST /v1/comments 202 [\d.]+ms id=[0-9A-Z]{26}}, 'one log line per request with the id';

$d->check_log;
is $d->stop, 0;
done_testing;
