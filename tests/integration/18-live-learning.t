# Live learning: moderators' decisions on one site teach that site's learned
# models at once, through Redis, for every daemon on it. A new campaign
# (made-up words no shipped rule or model knows) is decided by moderators
# on daemon A: 30 spam, 20 approvals; within seconds daemon B flags new
# variants of it, ordinary news comments stay unflagged, another site is
# untouched, and a restarted daemon still knows.
use strict;
use warnings;
use utf8;
use lib 'tests/integration/lib';
use RaqibTest;
use Test::More;
use Time::HiRes qw(time sleep);

my $conf = <<'CONF';
token submit   site   sub-1
token moderate layla  mod-1
token admin    ops    adm-1
flood_seconds 0
learn_poll_ms 200
CONF
my $redis = new_redis();
my $a = new_raqibd(redis => $redis, config => $conf, token => 'sub-1');
my $b = new_raqibd(redis => $redis, config => $conf, token => 'sub-1');
wait_until('both ready', sub { ($a->get('/readyz'))[0] == 200 && ($b->get('/readyz'))[0] == 200 });
my $mod = { Authorization => 'Bearer mod-1' };
my $adm = { Authorization => 'Bearer adm-1' };

# The campaign: invented brand words in ordinary Arabic frames.
my @brand = qw(زوكرانا فليتمور كازابيلا ميرانكو تولوزيا);
my @line = qw(بلوفيرا سانتيكو رومانيسا فيلدورا);
my @when = ('اليوم', 'هذا الصباح', 'من جديد', 'مرة اخرى', 'الآن');
my @tail = ('قلبي معكم', 'انتظرونا', 'شاركوا', 'لا تنسوا');
my %seen;
srand(7);
sub variant {
    while (1) {
        my ($x, $y) = (int rand @brand, int rand @brand);
        next if $x == $y;
        my $t = join ' ', $brand[$x], $line[rand @line], $when[rand @when], $brand[$y], $tail[rand @tail], $line[rand @line];
        return $t unless $seen{$t}++;
    }
}
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
    'أين دور البلدية في تنظيف الشواطئ؟', 'الخبر يحتاج إلى مصدر رسمي قبل نشره',
    'المنتخب لعب بشكل أفضل في الشوط الثاني', 'أتفق مع الكاتب في ضرورة دعم المزارعين',
    'القرار سيؤثر على الطلاب في الأرياف', 'شكرا لكم على متابعة قضية الحي الشرقي',
    'هل سيتم تمديد فترة التسجيل في الجامعات؟', 'التقرير متوازن ويعرض كل الآراء',
    'ننتظر ردا من وزارة الصحة على هذه الأرقام', 'قصة مؤثرة عن صمود الأسر في الأزمة',
);

my $n = 0;
sub submit {
    my ($d, $site, $text) = @_;
    $n++;
    my ($s, $j) = $d->post('/v1/comments', { site => $site, post_id => 9, author => "Reader$n",
                                             email => "r$n\@example.com", content => $text });
    is $s, 202, 'comment accepted' or diag explain $j;
    return $j->{id};
}
sub learned_hit {
    my ($j) = @_;
    return scalar grep { $_->{rule} =~ /^LEARNED_SPAM_/ } @{ $j->{matches} // [] };
}
sub flagged_by_learning {
    my ($d, $site, @texts) = @_;
    my $hits = 0;
    for my $t (@texts) {
        my ($s, $j) = $d->post('/v1/check', { site => $site, post_id => 9, author => 'Q', email => 'q@example.com',
                                              content => $t });
        die "check: $s" unless $s == 200;
        $hits++ if learned_hit($j);
    }
    return $hits;
}

my @fresh = map { variant() } 1 .. 30;
my @later_news = @news[20 .. 29];
my $before = flagged_by_learning($b, 'news', @fresh);
cmp_ok $before, '<', 24, "before any decision the shipped model flags $before of 30 new variants (too few)";
my $news_before = flagged_by_learning($b, 'news', @later_news);

# Moderators on daemon A: 30 campaign comments marked spam (a wave), 20 news comments approved one by one.
my @spam_ids = map { submit($a, 'news', variant()) } 1 .. 30;
my @ham_ids = map { submit($a, 'news', $_) } @news[0 .. 19];
my ($s, $j) = $a->post('/v1/decisions', { site => 'news', decisions => [map { { id => $_, status => 'spam' } } @spam_ids] }, $mod);
is $s, 200, 'wave of 30 spam decisions';
is scalar(grep { $_->{ok} } @{ $j->{results} }), 30, 'each recorded';
for my $id (@ham_ids) {
    ($s) = $a->post("/v1/comments/$id/decision?site=news", { status => 'approved' }, $mod);
    is $s, 200, "approved $id" if $s != 200;
}
my $t0 = time;
my $after;
wait_until('daemon B learned the decisions', sub {
    my ($st, $r) = $b->get('/v1/rules?site=news', $adm);
    $st == 200 && $r->{learning}{decisions} == 50;
}, 5);
$after = flagged_by_learning($b, 'news', @fresh);
my $took = time - $t0;
cmp_ok $after, '>=', 24, "after 30 spam and 20 approvals on daemon A, daemon B flags $after of 30 new variants";
cmp_ok $took, '<', 5 + 3, sprintf('within seconds (%.1f s, checks included)', $took);
cmp_ok flagged_by_learning($b, 'news', @later_news), '<=', $news_before,
    "ordinary news comments are flagged no more than before ($news_before of 10, by the shipped model)";
is flagged_by_learning($a, 'news', @fresh), $after, 'daemon A scores the same';
cmp_ok flagged_by_learning($b, 'elsewhere', @fresh), '<=', $before, 'another site is not affected';

my ($rs, $rules) = $b->get('/v1/rules?site=news', $adm);
is $rs, 200, 'GET /v1/rules?site=news';
is $rules->{learning}{decisions}, 50, 'shows 50 decisions learned';
like $rules->{learning}{last_learned_at} // '', qr/^\d{4}-\d\d-\d\dT/, 'and when the last was learned';
my ($spam_model) = grep { $_->{model} eq 'models/spam.model' } @{ $rules->{learning}{models} };
is_deeply [$spam_model->{positive}, $spam_model->{negative}], [30, 20], 'spam model: 30 positive, 20 negative comments';
my ($abuse_model) = grep { $_->{model} eq 'models/abuse.model' } @{ $rules->{learning}{models} };
is_deeply [$abuse_model->{positive}, $abuse_model->{negative}], [0, 50], 'abuse model: spam and approvals are its negatives';
my (undef, $other) = $b->get('/v1/rules?site=elsewhere', $adm);
is $other->{learning}{decisions}, 0, 'the other site learned nothing';

# Repeating a decision teaches nothing twice.
($s) = $a->post("/v1/comments/$ham_ids[0]/decision?site=news", { status => 'approved' }, $mod);
is $s, 200, 'the same decision again';
sleep 0.6;
(undef, $rules) = $a->get('/v1/rules?site=news', $adm);
is $rules->{learning}{decisions}, 50, 'still 50: a repeated decision is not learned twice';

# A restart loads the counts back from Redis.
is $b->stop, 0, 'daemon B stops cleanly';
$b->start;
wait_until('restarted daemon loaded the site', sub {
    my ($st, $r) = $b->get('/v1/rules?site=news', $adm);
    $st == 200 && $r->{learning}{decisions} == 50;
}, 5);
is flagged_by_learning($b, 'news', @fresh), $after, 'after a restart daemon B flags the same variants';

# A rescue from the spam folder is a moderator's decision too: learned once, as approved.
my $auto = submit($a, 'news', 'شيخ روحاني لجلب الحبيب ورد المطلقة واتساب 00966551234567 اتصل الآن');
my (undef, $item) = $a->get("/v1/comments/$auto?site=news", $mod);
is $item->{status}, 'spam', 'the rules put an ad in the spam folder (automatic: not learned)';
sleep 0.6;
(undef, $rules) = $a->get('/v1/rules?site=news', $adm);
is $rules->{learning}{decisions}, 50, 'an automatic decision teaches nothing';
($s) = $a->post("/v1/comments/$auto/decision?site=news", { status => 'approved', reason => 'test rescue' }, $mod);
is $s, 200, 'a moderator rescues it';
wait_until('rescue learned', sub { my (undef, $r) = $b->get('/v1/rules?site=news', $adm); $r->{learning}{decisions} == 51 }, 5);
(undef, $rules) = $b->get('/v1/rules?site=news', $adm);
($spam_model) = grep { $_->{model} eq 'models/spam.model' } @{ $rules->{learning}{models} };
is_deeply [$spam_model->{positive}, $spam_model->{negative}], [30, 21], 'counted once, as a negative';

for my $d ($a, $b) { is $d->stop, 0, 'clean exit'; $d->check_log }
done_testing;
