# Idempotency, duplicates, flood control, bot signals and the evasion example.
use strict;
use warnings;
use utf8;
use lib 'tests/integration/lib';
use RaqibTest;
use Test::More;
use File::Temp ();

my $redis = new_redis();
my $d = new_raqibd(redis => $redis);
wait_until('readyz', sub { ($d->get('/readyz'))[0] == 200 });

subtest 'Idempotency-Key: a retry returns the first answer and stores nothing new' => sub {
    my $c = { post_id => 1, author => 'Huda', email => 'huda@example.com', content => 'أتفق مع الكاتب' };
    my ($s1, $j1) = $d->post('/v1/comments', $c, { 'Idempotency-Key' => 'form-123' });
    is $s1, 202;
    my ($s2, $j2, $r2) = $d->post('/v1/comments', $c, { 'Idempotency-Key' => 'form-123' });
    is $s2, 202, 'the retry is 202, not 409 or 429';
    is $j2->{id}, $j1->{id}, 'same id';
    is $r2->{headers}{'idempotent-replayed'}, 'true', 'marked as a replay';
    is $redis->cmd('XLEN', 'raqib:{default}:review'), 1, 'queued once';
    my ($s3) = $d->post('/v1/comments', $c, { 'Idempotency-Key' => 'bad key' });
    is $s3, 400, 'an unprintable key is refused';
};

subtest 'duplicate: same author, post and text is 409' => sub {
    my $c = { post_id => 2, author => 'Sami', email => 'sami@example.com', content => 'نفس التعليق' };
    is(($d->post('/v1/comments', $c))[0], 202);
    my ($s, $j) = $d->post('/v1/comments', { %$c, email => 'other@example.com' });
    is $s, 409;
    is $j->{error}, 'duplicate';
    like $j->{id}, qr/^[0-9A-Z]{26}$/, 'names the first comment';
};

subtest 'flood: a second comment from one e-mail or IP within 15 s is 429' => sub {
    my ($s, $j, $r) = $d->post('/v1/comments', { post_id => 3, author => 'Sami', email => 'sami@example.com', content => 'تعليق آخر' });
    is $s, 429, 'same e-mail';
    is $j->{error}, 'flood';
    ok $j->{retry_after} >= 1 && $j->{retry_after} <= 15, "retry_after $j->{retry_after}";
    is $r->{headers}{'retry-after'}, $j->{retry_after}, 'Retry-After header too';
    is(($d->post('/v1/comments', { post_id => 3, author => 'A', email => 'a1@example.com', content => 'one', ip => '192.0.2.1' }))[0], 202);
    ($s, $j) = $d->post('/v1/comments', { post_id => 3, author => 'B', email => 'b1@example.com', content => 'two', ip => '192.0.2.1' });
    is $s, 429, 'same IP';
    ($s) = $d->post('/v1/comments', { post_id => 3, author => 'C', email => 'C1@Example.com', content => 'three', ip => '192.0.2.2' });
    is $s, 202, 'another IP and e-mail';
    ($s) = $d->post('/v1/comments', { post_id => 3, author => 'C', email => 'c1@example.com', content => 'four', ip => '192.0.2.3' });
    is $s, 429, 'e-mail compared without case';
};

my $i = 0;
sub fresh { $i++; return (post_id => 10, author => "Bot $i", email => "bot$i\@example.net") }

subtest 'honeypot field marks a bot' => sub {
    my ($s, $j) = $d->post('/v1/comments', { fresh(), content => 'nice post', website2 => 'http://spam.example' });
    is $s, 202;
    is $j->{status}, 'spam', 'stored as spam';
    ok((grep { $_->{field} eq 'flags' } @{ $j->{matches} }), 'a flags rule matched') or diag explain $j;
};

subtest 'a form sent too fast scores as a bot' => sub {
    my ($s, $j) = $d->post('/v1/comments', { fresh(), content => 'quick one', form_rendered_at => time });
    is $s, 202;
    ok $j->{score} > 0, "scored $j->{score}";
    ok((grep { $_->{field} eq 'flags' } @{ $j->{matches} }), 'too_fast matched');
    ($s, $j) = $d->post('/v1/comments', { fresh(), content => 'slow one', form_rendered_at => time - 60 });
    ok !(grep { $_->{field} eq 'flags' } @{ $j->{matches} }), 'a minute is human';
};

subtest 'the evasion example lands as spam like its plain twin' => sub {
    my $evasive = 'شـــيخ رُوحَانِي لـجـلـب الـحـبـيـب … و ا ت س ا ب ۰۰۹۶۶٥٥١٢٣٤٥٦٧';
    my $plain = 'شيخ روحاني لجلب الحبيب واتساب 00966551234567';
    my $before = $redis->cmd('XLEN', 'raqib:{default}:review');
    my ($s1, $j1) = $d->post('/v1/comments', { fresh(), content => $evasive });
    my ($s2, $j2) = $d->post('/v1/comments', { fresh(), content => $plain });
    is $s1, 202;
    is $s2, 202;
    is $j2->{status}, 'spam', 'the plain ad is spam';
    is $j1->{status}, 'spam', 'the evasive ad is spam too';
    ok $j1->{score} >= 10, "evasive score $j1->{score}";
    is $redis->cmd('XLEN', 'raqib:{default}:review'), $before, 'spam is not queued for review';
    ok defined $redis->cmd('ZSCORE', 'raqib:{default}:spam', $j1->{id}), 'but kept in the spam folder';
    ok $redis->cmd('TTL', "raqib:{default}:c:$j1->{id}") > 0, 'with a TTL';
    my ($gs, $g) = $d->get("/v1/comments/$j1->{id}");
    is $g->{content}, $evasive, 'stored exactly as typed';
    is $g->{decided_by}, 'rules';
    ok @{ $g->{matches} } > 0 && $g->{matches}[0]{description}, 'matches with descriptions';
};

subtest 'an ordinary news comment is pending' => sub {
    my ($s, $j) = $d->post('/v1/comments', { fresh(), content => 'الرئيس روحاني يزور بغداد اليوم، خبر مهم' });
    is $s, 202;
    is $j->{status}, 'pending';
};

subtest 'sites are separate tenants' => sub {
    my ($s, $j) = $d->post('/v1/comments', { fresh(), content => 'hello other site', site => 'sport' });
    is $s, 202;
    is $redis->cmd('XLEN', 'raqib:{sport}:review'), 1, 'queued on its own site';
    is(($d->get("/v1/comments/$j->{id}"))[0], 404, 'not found on the default site');
    is(($d->get("/v1/comments/$j->{id}?site=sport"))[0], 200, 'found with ?site=');
    ($s, $j) = $d->post('/v1/comments', { fresh(), content => 'x', site => 'Bad Site!' });
    is $s, 422, 'site names are checked';
};

subtest 'with Hyperscan in front of PCRE2 the verdicts are the same' => sub {
    plan skip_all => 'raqibd built without Hyperscan (NO_HYPERSCAN=1 or no libhs)'
        unless ($ENV{RAQIB_WITH_HYPERSCAN} // 1) eq '1';
    my $cache = File::Temp::tempdir(CLEANUP => 1);
    my $h = new_raqibd(redis => $redis, hyperscan => 1, args => ['--hyperscan_cache', "$cache/hs"]);
    wait_until('Hyperscan ready', sub { $h->log_text =~ /Hyperscan ready/ }, 240);
    my @cached = glob("$cache/hs/*.hsdb");
    ok @cached > 0, 'compiled databases kept for the next start';
    my ($s, $j) = $h->post('/v1/check', { fresh(), content => 'شـــيخ رُوحَانِي لـجـلـب الـحـبـيـب … و ا ت س ا ب ۰۰۹۶۶٥٥١٢٣٤٥٦٧' });
    is $j->{decision}, 'spam', 'the evasion example';
    my ($s2, $j2) = $d->post('/v1/check', { fresh(), content => 'شـــيخ رُوحَانِي لـجـلـب الـحـبـيـب … و ا ت س ا ب ۰۰۹۶۶٥٥١٢٣٤٥٦٧' });
    is $j->{score}, $j2->{score}, 'same score as PCRE2 alone';
    is_deeply [ map { $_->{rule} } @{ $j->{matches} } ], [ map { $_->{rule} } @{ $j2->{matches} } ], 'same rules';
    ($s, $j) = $h->post('/v1/check', { fresh(), content => 'الرئيس روحاني يزور بغداد اليوم، خبر مهم' });
    is $j->{decision}, 'pending', 'news stays pending';
    $h->check_log;
    is $h->stop, 0;
    my $again = new_raqibd(redis => $redis, hyperscan => 1, args => ['--hyperscan_cache', "$cache/hs"]);
    wait_until('Hyperscan ready from the cache', sub { $again->log_text =~ /Hyperscan ready/ }, 240);
    is scalar(my @after = glob("$cache/hs/*.hsdb")), scalar(@cached), 'nothing new compiled: the cache was used';
    ($s, $j) = $again->post('/v1/check', { fresh(), content => 'شـــيخ رُوحَانِي لـجـلـب الـحـبـيـب … و ا ت س ا ب ۰۰۹۶۶٥٥١٢٣٤٥٦٧' });
    is $j->{score}, $j2->{score}, 'same verdict from cached databases';
    is $again->stop, 0;
};

$d->check_log;
is $d->stop, 0;
done_testing;
