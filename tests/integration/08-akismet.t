# The Akismet-compatible API: what an Akismet client (the WordPress plugin, a
# library) sees when its host is pointed at Raqib.
use strict;
use warnings;
use utf8;
use lib 'tests/integration/lib';
use RaqibTest;
use Test::More;
use IO::Socket::INET;

my $redis = new_redis();
my $conf = <<'CONF';
token submit   site-backend  akis3cret
token moderate layla         mod-secret-2
CONF
our $d = new_raqibd(redis => $redis, config => $conf, args => ['--max_body', '65536']);
wait_until('readyz', sub { ($d->get('/readyz'))[0] == 200 });

my $blog = 'https://news.example.com/';
my $site = 'news-example-com';

sub form_escape {
    my ($s) = @_;
    utf8::encode($s) if utf8::is_utf8($s);
    $s =~ s/([^A-Za-z0-9\-._~])/sprintf('%%%02X', ord $1)/ge;
    return $s;
}

# ak(PATH, {params}, host => HOST, raw => BODY): a form POST over a raw
# socket, because HTTP::Tiny will not send a Host header of our choosing.
# Returns (status, body, {lowercased headers}).
sub ak {
    my ($path, $params, %o) = @_;
    my $body = $o{raw} // join '&', map { form_escape($_) . '=' . form_escape($params->{$_}) } sort keys %$params;
    my $host = $o{host} // "127.0.0.1:$d->{port}";
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $d->{port}, Proto => 'tcp', Timeout => 10)
        or die "connect: $!";
    print $s "POST $path HTTP/1.1\r\nHost: $host\r\nConnection: close\r\n"
        . "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: " . length($body) . "\r\n\r\n" . $body;
    local $/;
    my $resp = <$s> // '';
    close $s;
    my ($head, $content) = split /\r\n\r\n/, $resp, 2;
    my ($status) = ($head // '') =~ m{^HTTP/1\.\d (\d+)};
    my %h;
    for (split /\r\n/, $head // '') { $h{lc $1} = $2 if /^([^:]+):\s*(.*)$/ }
    utf8::decode($content) if defined $content;
    return ($status // 0, $content // '', \%h);
}

my $ip = 10;
sub comment {
    my (%o) = @_;
    $ip++;
    return { blog => $blog, user_ip => "198.51.100.$ip", user_agent => 'Mozilla/5.0 (X11; Linux x86_64)',
             referrer => 'https://news.example.com/2025/11/story', permalink => 'https://news.example.com/2025/11/story',
             comment_type => 'comment', comment_author => "Reader $ip", comment_author_email => "reader$ip\@example.com",
             comment_author_url => "https://reader$ip.example.org/", comment_date_gmt => '2025-11-29T05:00:00Z',
             comment_post_modified_gmt => '2025-11-28T10:00:00Z', blog_lang => 'ar, en_us', blog_charset => 'UTF-8',
             %o };
}
my $ham_ar  = 'مقال رائع، شكرا على المعلومات المفيدة';
my $spam_ar = 'شيخ روحاني لجلب الحبيب واتساب 00966551234567';            # scores 29: certain spam
my $spam_en = 'Buy cheap viagra online now http://a.example http://b.example http://c.example casino bonus';
my $spam_mid = 'Loans on whatsapp +966551234567';                         # scores 14: spam, not certain

sub get_item {
    my ($id, $token) = @_;
    my ($s, $j) = $d->get("/v1/comments/$id?site=$site", { Authorization => 'Bearer ' . ($token // 'akis3cret') });
    return $s == 200 ? $j : undef;
}

subtest 'verify-key: key, api_key and the Host label' => sub {
    my ($s, $b, $h) = ak('/1.1/verify-key', { key => 'akis3cret', blog => $blog });
    is $s, 200;
    is $b, 'valid', 'the submit token secret in key';
    like $h->{'content-type'}, qr{^text/plain}, 'plain text';
    ($s, $b) = ak('/1.1/verify-key', { api_key => 'akis3cret', blog => $blog });
    is $b, 'valid', 'the same in api_key';
    ($s, $b) = ak('/1.1/verify-key', { blog => $blog }, host => 'akis3cret.rest.akismet.com');
    is $b, 'valid', 'the key as the first label of Host';
    ($s, $b) = ak('/1.1/verify-key', { blog => $blog }, host => "AKIS3CRET.rest.akismet.com:$d->{port}");
    is $b, 'valid', 'host names are case-insensitive';
    ($s, $b) = ak('/1.1/verify-key', { key => 'mod-secret-2', blog => $blog });
    is $b, 'valid', 'a moderate token may call what submit may';
    ($s, $b, $h) = ak('/1.1/verify-key', { key => 'akis3cretx', blog => $blog });
    is $s, 200, 'a wrong key is still 200, as Akismet answers';
    is $b, 'invalid';
    ok $h->{'x-akismet-debug-help'}, 'with X-akismet-debug-help';
    ($s, $b, $h) = ak('/1.1/verify-key', { blog => $blog });
    is $b, 'invalid', 'no key at all (Host 127.0.0.1 is an address, not KEY.domain)';
    like $h->{'x-akismet-debug-help'}, qr/api_key/;
    ($s, $b, $h) = ak('/1.1/verify-key', { key => 'akis3cret' });
    is $b, 'invalid', 'no blog';
    like $h->{'x-akismet-debug-help'}, qr/blog/;
    ($s, $b, $h) = ak('/1.1/verify-key', { key => 'akis3cret', blog => 'news.example.com' });
    is $b, 'invalid', 'a blog that is not a URL';
    like $h->{'x-akismet-debug-help'}, qr/blog URI/;
};

my ($ham_id, $spam_id, $ham_c, $spam_c);
subtest 'comment-check: ham is false, stored pending in the site of blog' => sub {
    $ham_c = comment(comment_content => $ham_ar, api_key => 'akis3cret');
    my ($s, $b, $h) = ak('/1.1/comment-check', $ham_c);
    is $s, 200;
    is $b, 'false', 'not spam';
    ok !exists $h->{'x-akismet-pro-tip'}, 'no pro-tip';
    $ham_id = $h->{'x-raqib-id'};
    like $ham_id, qr/^[0-9A-Z]{26}$/, 'X-Raqib-Id names the stored comment';
    my $g = get_item($ham_id);
    ok $g, 'GET /v1/comments/{id}?site= finds it' or return;
    is $g->{site}, $site, 'site from the blog host';
    is $g->{status}, 'pending', 'queued for review';
    is $g->{post_id}, $ham_c->{permalink}, 'post_id is the permalink';
    is $g->{content}, $ham_ar, 'content as typed';
    is $g->{author}, $ham_c->{comment_author};
    is $g->{url}, $ham_c->{comment_author_url};
    is $g->{user_agent}, $ham_c->{user_agent};
    is $g->{referrer}, $ham_c->{referrer};
    is $g->{lang}, 'ar, en_us', 'blog_lang as lang';
    ok !exists $g->{email}, 'no email for submit role';
    my $m = get_item($ham_id, 'mod-secret-2');
    is $m->{email}, $ham_c->{comment_author_email}, 'a moderator sees the e-mail';
    is $m->{ip}, $ham_c->{user_ip}, 'and user_ip as ip';
    is $redis->cmd('XLEN', "raqib:{$site}:review"), 1, 'in the site review stream';
};

subtest 'comment-check: certain spam is true with X-akismet-pro-tip: discard (Host key)' => sub {
    $spam_c = comment(comment_content => $spam_ar, comment_author => 'الشيخ أبو علي');
    my ($s, $b, $h) = ak('/1.1/comment-check', $spam_c, host => 'akis3cret.rest.akismet.com');
    is $b, 'true', 'spam';
    is $h->{'x-akismet-pro-tip'}, 'discard', 'score >= 2x the spam threshold: discard';
    $spam_id = $h->{'x-raqib-id'};
    my $g = get_item($spam_id);
    is $g->{status}, 'spam', 'stored in the spam folder';
    is $g->{decided_by}, 'rules';

    ($s, $b, $h) = ak('/1.1/comment-check', comment(comment_content => $spam_en, api_key => 'akis3cret'));
    is $b, 'true', 'English spam';
    is $h->{'x-akismet-pro-tip'}, 'discard';
};

subtest 'comment-check: spam under twice the threshold has no pro-tip' => sub {
    my ($s, $b, $h) = ak('/1.1/comment-check', comment(comment_content => $spam_mid, api_key => 'akis3cret'));
    is $b, 'true', 'spam';
    ok !exists $h->{'x-akismet-pro-tip'}, 'but not certain';
    is $h->{'x-raqib-status'}, 'spam';
};

subtest 'comment-check: a filled honeypot is certain spam' => sub {
    my ($s, $b, $h) = ak('/1.1/comment-check', comment(comment_content => 'nice post', api_key => 'akis3cret',
                                                      honeypot_field_name => 'hidden_extra', hidden_extra => 'x'));
    is $b, 'true', 'spam';
    is $h->{'x-akismet-pro-tip'}, 'discard', 'discard';
    ($s, $b, $h) = ak('/1.1/comment-check', comment(comment_content => 'another nice post', api_key => 'akis3cret',
                                                   honeypot_field_name => 'hidden_extra', hidden_extra => ''));
    is $b, 'false', 'an empty honeypot is no signal';
};

subtest 'comment-check: an administrator\'s comment is never spam (user_role)' => sub {
    my ($s, $b, $h) = ak('/1.1/comment-check', comment(comment_content => $spam_ar . ' admin', api_key => 'akis3cret',
                                                      user_role => 'administrator'));
    is $b, 'false', 'false, as Akismet answers';
    ok !exists $h->{'x-akismet-pro-tip'}, 'no pro-tip';
    is $h->{'x-raqib-status'}, 'approved', 'approved';
    cmp_ok $h->{'x-raqib-score'}, '>=', 10, 'with the score the rules gave';
    my $g = get_item($h->{'x-raqib-id'});
    is $g->{status}, 'approved', 'stored approved';
    ($s, $b, $h) = ak('/1.1/comment-check', comment(comment_content => $spam_ar . ' editor', api_key => 'akis3cret',
                                                   user_role => 'editor'));
    is $b, 'true', 'any other role is scored as usual';
};

subtest 'comment-check: is_test scores but stores nothing' => sub {
    my $before = scalar @{ $redis->cmd('KEYS', "raqib:{$site}:c:*") };
    my ($s, $b, $h) = ak('/1.1/comment-check', comment(comment_content => $spam_ar . ' test', api_key => 'akis3cret',
                                                      is_test => 'true'));
    is $b, 'true', 'the verdict';
    ok !exists $h->{'x-raqib-id'}, 'no id';
    is scalar @{ $redis->cmd('KEYS', "raqib:{$site}:c:*") }, $before, 'nothing stored';
    ($s, $b, $h) = ak('/1.1/comment-check', comment(comment_content => 'test ham', api_key => 'akis3cret', is_test => 1));
    is $b, 'false';
    is scalar @{ $redis->cmd('KEYS', "raqib:{$site}:c:*") }, $before, 'nothing stored';
};

subtest 'comment-check: a duplicate or a flood still gets its verdict' => sub {
    my $again = { %$ham_c, user_ip => '203.0.113.50', comment_author_email => 'other@example.com' };
    my ($s, $b, $h) = ak('/1.1/comment-check', $again);
    is $b, 'false', 'duplicate: the verdict';
    is $h->{'x-raqib-id'}, $ham_id, 'naming the first comment';
    my $flood = comment(comment_content => 'a second comment right away', api_key => 'akis3cret',
                        user_ip => $ham_c->{user_ip});
    ($s, $b, $h) = ak('/1.1/comment-check', $flood);
    is $b, 'false', 'flood: the verdict';
    ok !exists $h->{'x-raqib-id'}, 'not stored';
};

subtest 'comment-check: missing fields, bad key, invalid UTF-8, too large' => sub {
    my ($s, $b, $h) = ak('/1.1/comment-check', { api_key => 'akis3cret', blog => $blog, comment_content => 'x' });
    is $s, 200;
    is $b, 'Missing required field: user_ip.', 'user_ip is required, as by Akismet';
    is $h->{'x-akismet-debug-help'}, 'Missing required field: user_ip.';
    ($s, $b, $h) = ak('/1.1/comment-check', { api_key => 'akis3cret', user_ip => '1.2.3.4', comment_content => 'x' });
    is $b, 'Missing required field: blog.';
    ok $h->{'x-akismet-debug-help'};
    ($s, $b, $h) = ak('/1.1/comment-check', comment(comment_content => 'x', api_key => 'wrong'));
    is $b, 'invalid', 'unknown key';
    ok $h->{'x-akismet-debug-help'};
    ($s, $b, $h) = ak('/1.1/comment-check', comment(comment_content => 'x'));
    is $b, 'invalid', 'no key';
    ($s, $b, $h) = ak('/1.1/comment-check', undef,
                      raw => 'api_key=akis3cret&blog=https%3A%2F%2Fnews.example.com%2F&user_ip=1.2.3.4&comment_content=%C3%28');
    like $b, qr/^Invalid UTF-8 in field: comment_content/, 'invalid UTF-8 refused';
    ok $h->{'x-akismet-debug-help'};
    ($s, $b, $h) = ak('/1.1/comment-check', undef, raw => 'api_key=akis3cret&blog=%zz');
    is $b, 'invalid', 'a bad % escape';
    ($s, $b, $h) = ak('/1.1/comment-check', comment(comment_content => 'x' x 70000, api_key => 'akis3cret'));
    is $s, 413, 'a body over max_body';
    ok $h->{'x-akismet-debug-help'};
    ($s, $b, $h) = ak('/1.1/comment-check', comment(comment_author => 'ن' x 300, comment_content => 'x',
                                                   api_key => 'akis3cret'));
    like $b, qr/^Field too long: comment_author/, "WordPress's length limits";
    ($s, $b, $h) = ak('/1.1/comment-check', comment(comment_content => 'x', api_key => 'akis3cret',
                                                   blog_charset => 'ISO-8859-1'));
    is $b, 'invalid', 'only UTF-8';
    like $h->{'x-akismet-debug-help'}, qr/UTF-8/;
};

subtest 'submit-spam and submit-ham record a correction by the key\'s token' => sub {
    my ($s, $b) = ak('/1.1/submit-spam', { %$ham_c });
    is $s, 200;
    is $b, 'Thanks for making the web a better place.', 'Akismet\'s thanks';
    my $g = get_item($ham_id);
    is $g->{status}, 'spam', 'the ham comment is now spam';
    is $g->{decided_by}, 'site-backend', 'decided by the token name';
    is $g->{reason}, 'akismet submit-spam', 'with a reason';
    is $redis->cmd('XLEN', "raqib:{$site}:decisions") >= 1, 1, 'in the decisions feed';
    is $redis->cmd('HGET', "raqib:{$site}:c:$ham_id", 'learned'), 'spam', 'and learned: the site\'s models count it as spam';
    is $redis->cmd('HGET', "raqib:{$site}:learned", 'models/spam.model:p'), 1, 'one positive comment in the site\'s spam counts';

    ($s, $b) = ak('/1.1/submit-ham', { %$spam_c }, host => 'akis3cret.rest.akismet.com');
    is $b, 'Thanks for making the web a better place.';
    $g = get_item($spam_id);
    is $g->{status}, 'approved', 'the rules\' spam is overruled';
    is $redis->cmd('HGET', "raqib:{$site}:learned", 'models/spam.model:n'), 1, 'learned as approved (the rules\' own spam never was)';
    is $g->{decided_by}, 'site-backend';
    my $stats = $redis->cmd('HGETALL', "raqib:{$site}:rulestats");
    my %st = @{ $stats // [] };
    ok $st{'AR_SPIRITUAL_HEALER:overruled'}, 'counted against the rule in the per-rule statistics'
        or diag explain \%st;

    ($s, $b) = ak('/1.1/submit-spam', comment(comment_content => 'never checked before', api_key => 'akis3cret'));
    is $b, 'Thanks for making the web a better place.', 'an unknown comment: thanks all the same';
    ($s, $b) = ak('/1.1/submit-ham', comment(comment_content => 'x', api_key => 'nope'));
    is $b, 'invalid', 'a wrong key';
};

$d->check_log;
unlike $d->log_text, qr/akis3cret|mod-secret-2/i, 'keys never logged';
is $d->stop, 0, 'clean exit';

subtest 'development mode: any non-empty key' => sub {
    my $dev = new_raqibd(redis => $redis);
    wait_until('readyz', sub { ($dev->get('/readyz'))[0] == 200 });
    local $d = $dev;
    my ($s, $b) = ak('/1.1/verify-key', { key => 'anything', blog => $blog });
    is $b, 'valid';
    ($s, $b) = ak('/1.1/verify-key', { key => '', blog => $blog });
    is $b, 'invalid', 'an empty key is not';
    ($s, $b) = ak('/1.1/submit-spam', comment(comment_content => 'dev check', key => 'k'));
    is $b, 'Thanks for making the web a better place.';
    $dev->check_log;
    is $dev->stop, 0, 'clean exit';
};

done_testing;
