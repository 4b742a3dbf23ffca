# Commenter reputation: moderators' decisions follow the commenter (known
# by a keyed hash of the e-mail, never the address) on one site, for every
# daemon on the Redis. Two approvals make a regular whose next clean comment
# is approved at once (a matches entry says why); a regular's spam is still
# caught; a rejected commenter's next comment is held with the reason, a
# spammer's scores toward spam; moderators trust, block, list, undo and an
# admin erases through the API; another site knows nothing; a restarted
# daemon still knows.
use strict;
use warnings;
use utf8;
use lib 'tests/integration/lib';
use RaqibTest;
use Test::More;

my $conf = <<'CONF';
token submit   site   sub-1
token moderate layla  mod-1
token admin    ops    adm-1
flood_seconds 0
learn_poll_ms 100
author_key    test-key-0123456789abcdef
CONF
my $redis = new_redis();
my $a = new_raqibd(redis => $redis, config => $conf, token => 'sub-1');
my $b = new_raqibd(redis => $redis, config => $conf, token => 'sub-1');
wait_until('both ready', sub { ($a->get('/readyz'))[0] == 200 && ($b->get('/readyz'))[0] == 200 });
my $mod = { Authorization => 'Bearer mod-1' };
my $adm = { Authorization => 'Bearer adm-1' };

my @news = (
    'مقال ممتاز عن أزمة المياه في المدينة، شكرا للكاتب', 'أختلف مع الكاتب في تحليل نتائج الانتخابات البلدية',
    'الحكومة مطالبة بخطة واضحة لخفض أسعار الخبز', 'متى يبدأ العمل في الطريق الجديد بين المدينتين؟',
    'تغطية رائعة للمباراة، المدرب يستحق الشكر', 'أتمنى أن تنشروا رأي الطرف الآخر أيضا',
    'الصورة الثانية في التقرير لا تطابق الخبر', 'هل من تحديث حول حالة الجرحى في الحادث؟',
    'التعليم يحتاج إلى إصلاح حقيقي لا إلى شعارات', 'شكرا على التقرير المفصل عن الموازنة العامة',
    'لماذا تأخر صرف رواتب المعلمين هذا الشهر؟', 'المستشفى الجديد خطوة مهمة لأهالي القرية',
    'أرجو تصحيح اسم الوزير في الفقرة الثالثة', 'الأمطار كشفت ضعف البنية التحتية في الأحياء القديمة',
    'كلام منطقي، لكن التنفيذ هو الأهم', 'نريد مزيدا من التحقيقات المستقلة مثل هذا',
    'الأسعار ارتفعت كثيرا منذ بداية العام', 'موقف البرلمان من القانون غير مفهوم',
    'تحية للصحفيين الذين نقلوا الحقيقة من الميدان', 'المهرجان الثقافي كان ناجحا هذا العام',
);
my $spam = 'شيخ روحاني لجلب الحبيب ورد المطلقة واتساب 00966551234567 اتصل الآن';
my $next = 0;

# Post a comment; returns (id, answer).
sub post_as {
    my ($d, $site, $email, $text) = @_;
    my ($name) = $email =~ /^(\w+)/;
    my ($s, $j) = $d->post('/v1/comments', { site => $site, post_id => 100 + $next, author => "Reader \u\L$name",
                                             email => $email, content => $text // $news[$next++ % @news] });
    is $s, 202, "comment by $email accepted" or diag explain $j;
    return ($j->{id}, $j);
}
sub rules_of { my ($j) = @_; return [sort map { $_->{rule} } @{ $j->{matches} // [] }] }
sub author_rules { my ($j) = @_; return [grep { /^AUTHOR_/ } @{ rules_of($j) }] }
sub decide {
    my ($id, $status, $site) = @_;
    my ($s, $j) = $a->post("/v1/comments/$id/decision?site=" . ($site // 'news'), { status => $status }, $mod);
    is $s, 200, "$status $id" or diag explain $j;
}
# The daemon's own memory (learner): the record GET /v1/comments shows.
sub record_on {
    my ($d, $id, $site) = @_;
    my (undef, $j) = $d->get("/v1/comments/$id?site=" . ($site // 'news'), $mod);
    return $j->{author_history} // {};
}
sub wait_record {
    my ($d, $id, $what, $n) = @_;
    wait_until("daemon knows $what=$n", sub { (record_on($d, $id)->{$what} // '') eq $n }, 5);
}

# --- a regular: two approvals, then the third comment is approved at once ---
my ($c1, $j1) = post_as($a, 'news', 'alice@example.com');
is $j1->{status}, 'pending', 'a first-time commenter is held';
is_deeply author_rules($j1), [], 'no author rule for a stranger';
decide($c1, 'approved');
my ($c2, $j2) = post_as($b, 'news', 'Alice@Example.COM');
wait_record($b, $c2, 'approved', 1);
is $j2->{status}, 'pending', 'one approval is not enough';
decide($c2, 'approved');
wait_record($b, $c2, 'approved', 2);
my ($c3, $j3) = post_as($b, 'news', 'alice@example.com');
is $j3->{status}, "approved", "the third comment of a regular is approved without review (daemon B)" or diag explain $j3;
my ($why) = grep { $_->{rule} eq 'AUTHOR_REGULAR' } @{ $j3->{matches} };
ok $why, 'a matches entry says why';
like $why->{description} // '', qr/regular/i, '... in words';
is $why->{field}, 'flags', '... from the flags field';
my (undef, $item) = $a->get("/v1/comments/$c3?site=news", $mod);
is_deeply [@{ $item->{author_history} }{qw(approved rejected spam)}], [2, 0, 0],
    'GET /v1/comments/{id} carries the author\'s counts (moderators)';
like $item->{author_history}{author}, qr/^[0-9a-f]{16}$/, '... and the hash they are known by';
my (undef, $pub) = $a->get("/v1/comments/$c3?site=news");
ok !exists $pub->{author_history}, 'a submit token sees no history';
my $hash = $item->{author_history}{author};
my $stored = $redis->cmd('HGET', "raqib:{news}:c:$c3", 'author_hash');
is $stored, $hash, 'the item keeps the hash';
my $all = join ' ', @{ $redis->cmd('HGETALL', 'raqib:{news}:authors') };
unlike $all, qr/alice|example/i, 'the authors hash holds no e-mail';

# The queue shows the counts too.
my ($q1) = post_as($a, 'news', 'alice@example.com', $spam . ' واتساب');
my (undef, $queue) = $a->get('/v1/queue?site=news', $mod);
my (undef, $spamlist) = $a->get('/v1/queue?site=news&status=spam', $mod);
my ($shown) = grep { $_->{id} eq $q1 } @{ $queue->{items} }, @{ $spamlist->{items} };
is $shown->{author_history}{approved}, 2, 'GET /v1/queue items carry the author\'s counts';

# --- a regular's spam is still caught: a rule hit wins over trust ---
my (undef, $js) = post_as($b, 'news', 'alice@example.com', $spam);
isnt $js->{status}, 'approved', "a regular's spam is not approved (status $js->{status})";
is $js->{status}, 'spam', '... it is spam';
ok((grep { $_ eq 'AUTHOR_REGULAR' } @{ rules_of($js) }), '... though the regular rule hit too');

# --- a rejected commenter is held with the reason ---
my ($r1) = post_as($a, 'news', 'bob@example.com');
decide($r1, 'rejected');
my ($r2, $jr) = post_as($a, 'news', 'bob@example.com');
wait_record($a, $r2, 'rejected', 1);
($r2, $jr) = post_as($a, 'news', 'bob@example.com');
is $jr->{status}, 'pending', "a rejected commenter's next comment is held";
my ($reason) = grep { $_->{rule} eq 'AUTHOR_REJECTED_BEFORE' } @{ $jr->{matches} };
like $reason->{description} // '', qr/rejected/, '... with the reason shown';

# --- a spam decision scores toward spam ---
my ($s1) = post_as($a, 'news', 'carol@example.com');
decide($s1, 'spam');
my ($s2) = post_as($a, 'news', 'carol@example.com');
wait_record($a, $s2, 'spam', 1);
my (undef, $jc) = post_as($a, 'news', 'carol@example.com');
ok((grep { $_ eq 'AUTHOR_SPAM_BEFORE' } @{ rules_of($jc) }), 'an address with a spam decision scores toward spam');
cmp_ok $jc->{score}, '>=', 4, "score $jc->{score}";

# --- trust, block, list, undo through the API ---
my ($s, $j);
my ($d1) = post_as($a, 'news', 'dave@example.com');
($s, $j) = $a->post('/v1/authors/decision', { site => 'news', comment_id => $d1, action => 'trust', reason => 'known reader' }, $mod);
is $s, 200, 'POST /v1/authors/decision trust' or diag explain $j;
is $j->{mark}, 'trusted', '... marked trusted';
my ($e1) = post_as($a, 'news', 'eve@example.com');
($s, $j) = $a->post('/v1/authors/decision', { site => 'news', comment_id => $e1, action => 'block' }, $mod);
is $s, 200, 'block';
my $eve = $j->{author};
my ($d2) = post_as($b, 'news', 'dave@example.com');
wait_record($b, $d2, 'mark', 'trusted');
my (undef, $jd) = post_as($b, 'news', 'dave@example.com');
is $jd->{status}, 'approved', 'a trusted author is approved at once (daemon B)';
ok((grep { $_ eq 'AUTHOR_TRUSTED' } @{ rules_of($jd) }), '... saying so');
my ($e2) = post_as($b, 'news', 'eve@example.com');
wait_record($b, $e2, 'mark', 'blocked');
my (undef, $je) = post_as($b, 'news', 'eve@example.com');
is $je->{status}, 'spam', "a blocked author's comment goes to spam";
ok((grep { $_ eq 'AUTHOR_BLOCKED' } @{ rules_of($je) }), '... with the reason');
($s, $j) = $a->get('/v1/authors?site=news', $mod);
is $s, 200, 'GET /v1/authors lists the marked authors';
is_deeply [sort map { $_->{mark} } @{ $j->{authors} }], [qw(blocked trusted)], '... trusted and blocked';
my ($listed) = grep { $_->{mark} eq 'trusted' } @{ $j->{authors} };
is $listed->{marked}{by}, 'layla', '... by whom';
is $listed->{marked}{name}, 'Reader Dave', '... with the display name';
is $listed->{marked}{reason}, 'known reader', '... and the reason';
($s, $j) = $a->get("/v1/authors?site=news&comment_id=$c1", $mod);
is_deeply [$s, $j->{approved}], [200, 2], 'GET /v1/authors?comment_id= gives one record';
($s, $j) = $a->post('/v1/authors/decision', { site => 'news', author => $eve, action => 'clear' }, $mod);
is_deeply [$s, $j->{mark}], [200, undef], 'undo: clear the block by the listed hash';
wait_record($b, $e2, 'mark', '');
(undef, $je) = post_as($b, 'news', 'eve@example.com');
is $je->{status}, 'pending', 'no longer blocked';

# Bad requests name the field; roles hold.
($s, $j) = $a->post('/v1/authors/decision', { site => 'news', comment_id => $d1, action => 'bless' }, $mod);
is_deeply [$s, $j->{fields}], [422, { action => 'invalid' }], 'a bad action: 422 naming it';
($s, $j) = $a->post('/v1/authors/decision', { site => 'news', action => 'trust' }, $mod);
is_deeply [$s, $j->{fields}], [422, { comment_id => 'invalid' }], 'no comment_id: 422 naming it';
($s, $j) = $a->post('/v1/authors/decision', { site => 'news', comment_id => '0' x 26, action => 'trust' }, $mod);
is $s, 404, 'an unknown comment: 404';
($s) = $a->post('/v1/authors/decision', { site => 'news', comment_id => $d1, action => 'trust' });
is $s, 403, 'a submit token may not trust';
($s) = $a->request('DELETE', "/v1/authors?site=news&comment_id=$c1", undef, $mod);
is $s, 403, 'a moderator may not erase';

# The operators' view: what the daemon holds, and which rules vouch.
my ($rls, $rl) = $b->get('/v1/rules?site=news', $adm);
is $rls, 200, 'GET /v1/rules?site=news' or diag explain $rl;
is $rl->{learning}{authors}{known}, 4, 'GET /v1/rules shows the commenters known: alice, bob, carol, dave (eve was cleared)';
cmp_ok $rl->{learning}{authors}{memory_bytes}, '>', 0, '... and the memory they take';
my ($reg) = grep { $_->{name} eq 'AUTHOR_REGULAR' } @{ $rl->{rules} };
ok $reg->{approve}, 'AUTHOR_REGULAR is listed as an approve rule';

# --- another site knows nothing ---
my (undef, $other) = post_as($a, 'sport', 'alice@example.com');
is $other->{status}, 'pending', 'on another site the regular is a stranger';
is_deeply author_rules($other), [], '... no author rule';

# --- a restarted daemon still knows ---
is $b->stop, 0, 'daemon B stops cleanly';
$b->start;
wait_until('B ready again', sub { ($b->get('/readyz'))[0] == 200 });
my ($d3) = post_as($a, 'news', 'dave@example.com');
wait_record($b, $d3, 'mark', 'trusted');
my (undef, $jd2) = post_as($b, 'news', 'dave@example.com');
is $jd2->{status}, 'approved', 'after a restart the trusted author is still approved';
wait_record($b, $c3, 'approved', 2);
my (undef, $j4) = post_as($b, 'news', 'alice@example.com');
is $j4->{status}, 'approved', '... and the regular too';

# --- GDPR erase ---
($s, $j) = $a->request('DELETE', "/v1/authors?site=news&comment_id=$c1", undef, $adm);
is $s, 200, 'DELETE /v1/authors?comment_id= (admin) erases the author';
my $left = join ' ', @{ $redis->cmd('HGETALL', 'raqib:{news}:authors') };
unlike $left, qr/\Q$hash\E/, 'no record of the hash is left in Redis';
wait_record($b, $c3, 'approved', 0);
my (undef, $j5) = post_as($b, 'news', 'alice@example.com');
is $j5->{status}, 'pending', 'the erased author starts afresh';
is_deeply author_rules($j5), [], '... with no author rule';

for my $d ($a, $b) { is $d->stop, 0, 'clean exit'; $d->check_log }
done_testing;
