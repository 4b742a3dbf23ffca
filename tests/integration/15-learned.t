# Learned rules end to end: comments come in, moderators decide, `raqib
# rules train --redis` learns from those decisions, a reload puts the model
# to work, and /v1/check then scores new comments by their words.
use strict;
use warnings;
use utf8;
use lib 'tests/integration/lib';
use RaqibTest;
use Test::More;
use File::Temp qw(tempdir);
use JSON::PP;

my $raqib = $ENV{RAQIB} // 'build/raqib';
my $dir = tempdir(CLEANUP => 1);
mkdir "$dir/models";

sub run { my $out = `@_ 2>&1`; return ($? >> 8, $out) }
sub write_file { my ($p, $t) = @_; open my $fh, '>:utf8', $p or die $!; print $fh $t; close $fh }

# A first model from a labeled file, so the rules load before any decision.
write_file("$dir/seed.jsonl", join '', map { JSON::PP->new->encode($_) . "\n" }
    { text => 'hello there', label => 'ham' }, { text => 'hello friend', label => 'spam' });
my ($rc, $out) = run("$raqib rules train $dir/models/spam.model < $dir/seed.jsonl");
is $rc, 0, 'rules train from a labeled file';
like $out, qr/^\S+spam\.model: 1 positive and 1 negative comments; \d+ tokens, \d+ kept/m, 'says what it learned';

write_file("$dir/main.rules", <<'R');
rule LEARNED_SPAM
  learned  content models/spam.model >= 0.9
  score    10
  describe The words of spam, learned from the moderators
rule MARKED_BY_RULES
  match    content /AUTOSPAM/
  score    10
R

my $redis = new_redis();
my $conf = <<'CONF';
token submit   site   sub-1
token moderate layla  mod-1
token admin    ops    adm-1
flood_seconds 0
CONF
my $d = new_raqibd(redis => $redis, config => $conf, rules => $dir, token => 'sub-1');
wait_until('readyz', sub { ($d->get('/readyz'))[0] == 200 });
my $mod = { Authorization => 'Bearer mod-1' };
my $adm = { Authorization => 'Bearer adm-1' };

# Made-up comments: loan and sorcery ads, and ordinary news comments.
my @spam = map { ("قرض سريع بدون ضمانات اتصل الان $_", "cheap loans fast approval call now $_",
                  "شيخ روحاني لجلب الحبيب اتصل الان $_") } 1 .. 4;
my @ham = map { ("مقال ممتاز عن الاقتصاد شكرا للكاتب $_", "great article about the economy, thanks $_",
                 "اختلف مع الكاتب في تحليل الانتخابات $_") } 1 .. 4;
my $n = 0;
sub submit {
    my ($text) = @_;
    $n++;
    my ($s, $j) = $d->post('/v1/comments', { post_id => 7, author => "U$n", email => "u$n\@example.com", content => $text });
    die "submit: $s" unless $s == 202;
    return $j->{id};
}
for my $text (@spam) {
    my $id = submit($text);
    is(($d->post("/v1/comments/$id/decision", { status => 'spam' }, $mod))[0], 200, 'moderator: spam');
}
for my $text (@ham) {
    my $id = submit($text);
    is(($d->post("/v1/comments/$id/decision", { status => 'approved' }, $mod))[0], 200, 'moderator: approved');
}
submit('AUTOSPAM great article thanks');   # stored as spam by the rules alone

my $url = $redis->url;
($rc, $out) = run("$raqib rules train --redis $url --site default $dir/models/spam.model");
is $rc, 0, 'rules train --redis' or diag $out;
like $out, qr/^default: 25 decisions, 24 decided comments read; left out: 1 decided by the rules, 0 no longer stored$/m,
    'reads the feed, leaves out what the rules decided';
like $out, qr/spam\.model: 12 positive and 12 negative comments/, 'the moderators\' 12 and 12';

($rc, $out) = run("$raqib rules train --redis $url --site default --include-automatic $dir/models/spam.model");
like $out, qr/13 positive and 12 negative comments/, '--include-automatic adds the rules\' own verdict';
($rc, $out) = run("$raqib rules train --redis $url --site default $dir/models/spam.model");


# --add goes on from where the model stopped: only decisions made since.
($rc, $out) = run("$raqib rules train --add --redis $url --site default $dir/models/spam.model");
like $out, qr/^default: 0 decisions after \d+-\d+, 0 decided comments read/m, '--add: nothing new, nothing read';
like $out, qr/12 positive and 12 negative comments/, 'the counts kept';
my $late = submit('cheap loans fast approval call now 99');
is(($d->post("/v1/comments/$late/decision", { status => 'spam' }, $mod))[0], 200, 'one more decision');
($rc, $out) = run("$raqib rules train --add --redis $url --site default $dir/models/spam.model");
like $out, qr/^default: 1 decisions after \d+-\d+, 1 decided comments read/m, '--add: the new one alone';
like $out, qr/13 positive and 12 negative comments/, 'added to the counts';

is(($d->request('POST', '/v1/rules/reload', undef, $adm))[0], 200, 'reload picks up the new model');

my ($s, $j) = $d->post('/v1/check', { post_id => 7, author => 'X', email => 'x@example.com',
                                       content => 'قرض سريع بدون ضمانات، اتصل الآن' });
is $s, 200;
is $j->{decision}, 'spam', 'a new loan ad is spam by its words';
is_deeply [ map { $_->{rule} } @{ $j->{matches} } ], ['LEARNED_SPAM'], 'by the learned rule';
($s, $j) = $d->post('/v1/check', { post_id => 7, author => 'Y', email => 'y@example.com',
                                    content => 'مقال ممتاز، شكرا للكاتب على التحليل' });
is $j->{decision}, 'pending', 'a new ordinary comment is not';
is_deeply $j->{matches}, [], 'no rule hit';

my ($status, $rules) = $d->get('/v1/rules', $adm);
my ($learned) = grep { $_->{name} eq 'LEARNED_SPAM' } @{ $rules->{rules} };
is $learned->{kind}, 'learned', 'GET /v1/rules lists the rule as learned';
is_deeply [ @{ $learned->{model} }{qw(file positive negative)} ], [ 'models/spam.model', 13, 12 ],
    'with what its model has learned from';
cmp_ok $learned->{model}{tokens}, '>', 0, 'and how many tokens it holds';
my ($marked) = grep { $_->{name} eq 'MARKED_BY_RULES' } @{ $rules->{rules} };
ok !exists $marked->{model}, 'a match rule has no model';

# Mistakes get clear answers.
write_file("$dir/bad.jsonl", qq({"text":"fine","label":"ham"}\n\nnot json\n{"text":"x","label":"spam"}\n));
($rc, $out) = run("$raqib rules train $dir/y.model < $dir/bad.jsonl");
is $rc, 1, 'a line that is not JSON: exit 1';
like $out, qr/^raqib: line 3: not a JSON object: /m, 'naming the line';
like $out, qr/^raqib: 1 of 4 lines could not be read; \S+y\.model not written$/m, 'and no model is written';
ok !-e "$dir/y.model", 'indeed';
($rc, $out) = run("$raqib rules train --redis $url $dir/x.model");
is $rc, 2, '--redis without --site';
like $out, qr/needs --site/, 'says so';
($rc, $out) = run("$raqib rules train --redis redis://127.0.0.1:1/0 --site default $dir/x.model");
is $rc, 1, 'Redis down: exit 1';
like $out, qr/^raqib: redis 127\.0\.0\.1:1: Connection refused/m, 'and why';
ok !-e "$dir/x.model", 'no model written';
write_file("$dir/models/spam.model", "not a model\n");
($s, $j) = $d->request('POST', '/v1/rules/reload', undef, $adm);
is $s, 422, 'a broken model is refused like a broken rule file';
is_deeply [ @$j{qw(error file line)} ], [ 'rules_invalid', 'main.rules', 2 ], 'with file and line';
like $j->{message}, qr/^main\.rules:2: model models\/spam\.model: .*not a learned model/, 'and what is wrong';
($s, $j) = $d->post('/v1/check', { post_id => 7, author => 'X', email => 'x@example.com',
                                    content => 'قرض سريع بدون ضمانات، اتصل الآن' });
is $j->{decision}, 'spam', 'and the running rules stay';

$d->check_log;
done_testing;
