# Operators: live rule reload over HTTP and SIGHUP, GET /v1/rules, roles,
# and the atomic swap under a stream of concurrent /v1/check requests.
use strict;
use warnings;
use utf8;
use lib 'tests/integration/lib';
use RaqibTest;
use Test::More;
use File::Temp qw(tempdir);
use JSON::PP;
use Time::HiRes qw(sleep time);

my $dir = tempdir(CLEANUP => 1);

# Write a rules folder's one file atomically (rename), so a reader never sees
# half a file.
sub write_rules {
    my ($text) = @_;
    open my $fh, '>:utf8', "$dir/.tmp" or die $!;
    print $fh $text;
    close $fh;
    rename "$dir/.tmp", "$dir/main.rules" or die $!;
}

# Two rule sets that differ in a known way: both hit "marker" twice, with
# different rule names and scores, so a mixed answer would show.
my $set_a = <<'R';
rule SET_A_ONE
  match content /marker/
  score 1
  describe first rule of set A
rule SET_A_TWO
  match content /marker/
  score 2
  describe second rule of set A
R
my $set_b = <<'R';
rule SET_B_ONE
  match content /marker/
  score 4
  describe first rule of set B
rule SET_B_TWO
  match content /marker/
  score 8
  describe second rule of set B
rule SET_B_WHATSAPP
  match content:squash /واتساب/
  score 5
  describe WhatsApp, any spelling
R

write_rules($set_a);
my $redis = new_redis();
my $conf = <<'CONF';
token submit   site-backend  sub-secret-1
token moderate layla         mod-secret-2
token admin    ops           adm-secret-3
CONF
my $d = new_raqibd(redis => $redis, config => $conf, rules => $dir, token => 'adm-secret-3');
wait_until('readyz', sub { ($d->get('/readyz'))[0] == 200 });

my $probe = { post_id => 1, author => 'Omar', email => 'omar@example.com', content => 'a marker here و ا ت س ا ب' };
sub rules_of { my ($j) = @_; return join ',', map { $_->{rule} } @{ $j->{matches} // [] } }

subtest 'roles: submit and moderate tokens get 403, none 401' => sub {
    for my $tok ('sub-secret-1', 'mod-secret-2') {
        is(($d->get('/v1/rules', { Authorization => "Bearer $tok" }))[0], 403, "GET /v1/rules with $tok");
        my ($s, $j) = $d->request('POST', '/v1/rules/reload', '', { Authorization => "Bearer $tok" });
        is $s, 403, "reload with $tok";
        is $j->{error}, 'forbidden';
    }
    is(($d->request('POST', '/v1/rules/reload', '', { Authorization => undef }))[0], 401, 'no token');
};

subtest 'reload over HTTP: the new rule takes effect' => sub {
    my ($s, $j) = $d->post('/v1/check', $probe);
    is $s, 200;
    is rules_of($j), 'SET_A_ONE,SET_A_TWO', 'set A before';
    write_rules($set_b);
    ($s, $j) = $d->request('POST', '/v1/rules/reload', '');
    is $s, 200, 'reloaded';
    is $j->{rules}, 3, 'with its rule count';
    ($s, $j) = $d->post('/v1/check', $probe);
    is rules_of($j), 'SET_B_ONE,SET_B_TWO,SET_B_WHATSAPP', 'set B after';
    is $j->{score}, 17;
    is $j->{decision}, 'spam';
};

subtest 'a broken file is refused whole with file:line, the old rules still score' => sub {
    write_rules("rule GOOD\n  match content /marker/\n  score 1\nrule BROKEN\n  match content /(unclosed/\n  score 1\n");
    my ($s, $j) = $d->request('POST', '/v1/rules/reload', '');
    is $s, 422, 'refused: 422';
    is $j->{error}, 'rules_invalid';
    is $j->{file}, 'main.rules', 'file';
    is $j->{line}, 5, 'line';
    like $j->{message}, qr/^main\.rules:5: .*missing closing parenthesis/, 'message is file:line: what';
    ($s, $j) = $d->post('/v1/check', $probe);
    is rules_of($j), 'SET_B_ONE,SET_B_TWO,SET_B_WHATSAPP', 'set B still scores';
    like $d->log_text, qr/rule reload refused.*main\.rules:5:/, 'and the log says why';
};

subtest 'SIGHUP reloads; a broken file on SIGHUP changes nothing' => sub {
    write_rules($set_a);
    kill 'HUP', $d->{pid};
    wait_until('SIGHUP reload', sub { rules_of(($d->post('/v1/check', $probe))[1]) eq 'SET_A_ONE,SET_A_TWO' });
    pass 'set A after SIGHUP';
    write_rules("rule X\n  score 1\n");
    kill 'HUP', $d->{pid};
    wait_until('refusal in the log', sub { $d->log_text =~ /rule reload refused.*main\.rules:1: rule X has no match/ });
    is rules_of(($d->post('/v1/check', $probe))[1]), 'SET_A_ONE,SET_A_TWO', 'set A stays';
};

subtest 'GET /v1/rules: fields, hit counts, moderators\' figures' => sub {
    write_rules($set_b);
    is(($d->request('POST', '/v1/rules/reload', ''))[0], 200);
    for my $k (1 .. 2) {   # stored submissions count as hits; /v1/check does not
        my ($s) = $d->post('/v1/comments', { %$probe, author => "A$k", email => "a$k\@example.com" });
        is $s, 202, 'stored';
    }
    $redis->cmd('HSET', 'raqib:{default}:rulestats', 'SET_B_ONE:approved', 1, 'SET_B_ONE:rejected', 2,
                'SET_B_ONE:spam', 1, 'SET_B_ONE:overruled', 1);
    my ($s, $j) = $d->get('/v1/rules');
    is $s, 200;
    is $j->{count}, 3;
    is $j->{site}, 'default';
    is $j->{thresholds}{spam}, 10;
    my ($one) = grep { $_->{name} eq 'SET_B_ONE' } @{ $j->{rules} };
    is $one->{file}, 'main.rules';
    is $one->{line}, 1;
    is $one->{score}, 4;
    is $one->{description}, 'first rule of set B';
    is_deeply [ @$one{qw(kind field view)} ], [ 'match', 'content', 'norm' ];
    is $one->{hits}, 2, 'live hit count';
    is_deeply $one->{decisions}, { approved => 1, rejected => 2, spam => 1, overruled => 1 }, 'decisions';
    is $one->{precision}, 0.75, 'precision = (rejected+spam)/(approved+rejected+spam)';
    my ($wa) = grep { $_->{name} eq 'SET_B_WHATSAPP' } @{ $j->{rules} };
    is $wa->{view}, 'squash';
    ok !defined $wa->{precision}, 'no decisions: precision null';
    ($s, $j) = $d->get('/v1/rules?site=other');
    is $s, 200;
    is $j->{site}, 'other';
    ($one) = grep { $_->{name} eq 'SET_B_ONE' } @{ $j->{rules} };
    is $one->{decisions}{rejected}, 0, 'per site';
    is(($d->get('/v1/rules?site=Bad!'))[0], 422, 'a bad site name');
};

subtest 'atomic swap under load: every answer is wholly set A or wholly set B' => sub {
    my %expect = (
        'SET_A_ONE,SET_A_TWO'                => 3,
        'SET_B_ONE,SET_B_TWO,SET_B_WHATSAPP' => 17,
    );
    my $clients = 3;
    my $until = time + 4;
    my @kids;
    for my $k (1 .. $clients) {
        my $pid = fork // die "fork: $!";
        if ($pid == 0) {
            my $http = HTTP::Tiny->new(timeout => 10, keep_alive => 1);
            my $body = JSON::PP->new->utf8->encode($probe);
            open my $out, '>', "$dir/client$k.out" or die;
            while (time < $until) {
                my $r = $http->request('POST', "$d->{base}/v1/check", {
                    headers => { 'Content-Type' => 'application/json', Authorization => 'Bearer sub-secret-1' },
                    content => $body });
                my $j = RaqibTest::json_of($r->{content}) // {};
                print $out join("\t", $r->{status}, rules_of($j), $j->{score} // ''), "\n";
            }
            close $out;
            POSIX::_exit(0);
        }
        push @kids, $pid;
    }
    my ($reloads, $reload_fail) = (0, 0);
    while (time < $until) {
        write_rules($reloads % 2 ? $set_a : $set_b);
        my ($s) = $d->request('POST', '/v1/rules/reload', '');
        $reloads++;
        $reload_fail++ if $s != 200;
        sleep 0.1;   # each set stays live long enough for a slow (ASan) client to see it
    }
    waitpid $_, 0 for @kids;
    my ($n, $bad, %seen) = (0, 0);
    for my $k (1 .. $clients) {
        open my $in, '<', "$dir/client$k.out" or die;
        while (<$in>) {
            chomp;
            my ($status, $rules, $score) = split /\t/;
            $n++;
            $seen{$rules}++;
            if ($status != 200 || !exists $expect{$rules} || $expect{$rules} != $score) {
                diag "bad answer: $_" if $bad++ < 5;
            }
        }
    }
    ok $reloads >= 10, "$reloads reloads";
    is $reload_fail, 0, 'every reload succeeded';
    ok $n >= 30, "$n concurrent checks";
    is $bad, 0, 'none failed, none mixed the two sets';
    ok $seen{'SET_A_ONE,SET_A_TWO'} && $seen{'SET_B_ONE,SET_B_TWO,SET_B_WHATSAPP'}, 'both sets were seen'
        or diag explain \%seen;
};

$d->check_log;
is $d->stop, 0, 'clean exit';
done_testing;
