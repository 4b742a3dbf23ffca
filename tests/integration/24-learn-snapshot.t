# Loading a site's learned counts in chunks (learner.c) while moderators
# keep deciding: a site with 300,000 learned tokens and 20,000 commenters
# is loaded by a daemon that starts while another daemon records decisions
# as fast as it can. Once they stop, the loaded daemon must hold exactly what
# Redis holds (decisions, comments per side, distinct tokens per model,
# commenters), the same as a daemon that loads the quiet site, with no
# count applied twice or lost; and no Redis command during the load may
# stall Redis anywhere near as long as the one-script load did.
use strict;
use warnings;
use utf8;
use lib 'tests/integration/lib';
use RaqibTest;
use Test::More;
use HTTP::Tiny;
use POSIX ();
use File::Temp ();
use Time::HiRes qw(time sleep);

my $conf = <<'CONF';
token submit   site   sub-1
token moderate layla  mod-1
token admin    ops    adm-1
flood_seconds 0
learn_poll_ms 100
learn_max_tokens 400000
author_key snapshot-test-key-0123456789abcdef
CONF
my $redis = new_redis();
my $da = new_raqibd(redis => $redis, config => $conf, token => 'sub-1');
wait_until('A ready', sub { ($da->get('/readyz'))[0] == 200 });
my $mod = { Authorization => 'Bearer mod-1' };
my $adm = { Authorization => 'Bearer adm-1' };

my $n = 0;
sub decide {
    my ($d, $status) = @_;
    $n++;
    my ($s, $j) = $d->post('/v1/comments', { site => 'news', post_id => 3, author => "R$n", email => 'r' . ($n % 7) . '@example.com',
                                             content => "تعليق رقم $n عن الكلمة فريدة$n والموضوع" });
    die "submit: $s" unless $s == 202;
    ($s) = $d->post("/v1/comments/$j->{id}/decision?site=news", { status => $status }, $mod);
    die "decide: $s" unless $s == 200;
}
decide($da, $_ % 2 ? 'spam' : 'approved') for 1 .. 10;
is $redis->cmd('HGET', 'raqib:{news}:learned', 'decisions'), 10, 'ten decisions learned';

# A large site: 300,000 more tokens in the spam model, 20,000 more commenters.
my $fill = <<'LUA';
for i = tonumber(ARGV[1]), tonumber(ARGV[2]) do
  local t = string.char(i % 256, math.floor(i / 256) % 256, math.floor(i / 65536) % 256, 171, 205, 239, 18, 52)
  redis.call('HSET', KEYS[1], t .. 'p', 1 + i % 3)
  if i % 4 == 0 then redis.call('HSET', KEYS[1], t .. 'n', 1) end
end
for i = tonumber(ARGV[1]), tonumber(ARGV[3]) do
  redis.call('HSET', KEYS[2], string.format('%016x', 0x1000000 + i) .. ':approved', 1 + i % 2)
end
LUA
$redis->cmd('EVAL', $fill, 2, 'raqib:{news}:learned:models/spam.model', 'raqib:{news}:authors', 1, 300000, 20000);
ok $redis->cmd('HLEN', 'raqib:{news}:learned:models/spam.model') >= 375000, 'the spam model holds 300,000 more tokens';

# Every command from here on is timed by Redis.
$redis->cmd('CONFIG', 'SET', 'slowlog-log-slower-than', 0);
$redis->cmd('CONFIG', 'SET', 'slowlog-max-len', 100000);
$redis->cmd('SLOWLOG', 'RESET');

# Decisions on A, one after another, until told to stop.
my $stop = File::Temp->new->filename;
my $pid = fork // die;
if (!$pid) {
    my $k = 0;
    $n = 1000;
    my $ok = eval { decide($da, ++$k % 3 ? 'spam' : 'approved') until -e $stop; 1 };
    print STDERR "deciding: $@" unless $ok;
    POSIX::_exit($ok ? 0 : 1);   # not exit: the parent's servers are not the child's to stop
}
sleep 0.3;
my $t0 = time;
my $db = new_raqibd(redis => $redis, config => $conf, token => 'sub-1');
wait_until('B loaded the site', sub { $db->log_text =~ /learning: site news loaded/ }, 30);
my $took = time - $t0;
sleep 0.3;
open my $fh, '>', $stop or die;
close $fh;
waitpid $pid, 0;
is $?, 0, 'the deciding child ran to the end';
my ($line) = $db->log_text =~ /(learning: site news loaded[^\n]*)/;
note $line;
my ($chunks, $fresh, $try) = $line =~ /\((\d+) chunks, (\d+) fields read afresh, try (\d+)\)/;
cmp_ok $chunks // 0, '>', 100, "loaded in chunks ($line)";
cmp_ok $fresh // 0, '>', 0, 'decisions landed during the load, and the fields they touched were read afresh';
my $slow = $redis->cmd('SLOWLOG', 'GET', 100000);
my ($worst) = sort { $b->[2] <=> $a->[2] } @$slow;
my $worst_cmd = join ' ', map { length > 20 ? substr($_, 0, 20) . '...' : $_ } @{ $worst->[3] }[0 .. 1];
note sprintf 'B started and loaded in %.2f s; %d commands meanwhile, the longest %d us (%s)', $took, scalar @$slow,
    $worst->[2], $worst_cmd;

# What Redis holds, once quiet.
my $expect = <<'LUA';
local out = {}
for _, k in ipairs(KEYS) do
  local seen, distinct = {}, 0
  local all = redis.call('HKEYS', k)
  for i = 1, #all do
    local f = all[i]
    if string.find(k, ':authors$') then f = string.sub(f, 1, 16) else f = string.sub(f, 1, 8) end
    if not seen[f] then seen[f] = true; distinct = distinct + 1 end
  end
  out[#out + 1] = distinct
end
return out
LUA
my $learned = { @{ $redis->cmd('HGETALL', 'raqib:{news}:learned') } };
my ($spam_tokens, $abuse_tokens, $authors) = @{ $redis->cmd('EVAL', $expect, 3, 'raqib:{news}:learned:models/spam.model',
                                                           'raqib:{news}:learned:models/abuse.model', 'raqib:{news}:authors') };
cmp_ok $learned->{decisions}, '>', 20, "decisions made meanwhile ($learned->{decisions} in all)";
sub learning {
    my ($d) = @_;
    my (undef, $r) = $d->get('/v1/rules?site=news', $adm);
    my %m = map { $_->{model} => $_ } @{ $r->{learning}{models} };
    return { decisions => $r->{learning}{decisions}, authors => $r->{learning}{authors}{known},
             map { my $x = $m{"models/$_.model"}; ("$_" => [ $x->{positive}, $x->{negative}, $x->{tokens} ]) } qw(spam abuse) };
}
my $want = { decisions => $learned->{decisions}, authors => $authors,
             spam => [ $learned->{'models/spam.model:p'}, $learned->{'models/spam.model:n'}, $spam_tokens ],
             abuse => [ $learned->{'models/abuse.model:p'} // 0, $learned->{'models/abuse.model:n'}, $abuse_tokens ] };
wait_until('B caught up', sub { learning($db)->{decisions} == $want->{decisions} }, 10);
is_deeply learning($db), $want, 'B holds what Redis holds: decisions, comments per side and tokens per model, commenters'
    or diag explain learning($db), $want;
my $dc = new_raqibd(redis => $redis, config => $conf, token => 'sub-1');
wait_until('C loaded the quiet site', sub { $dc->log_text =~ /learning: site news loaded/ }, 30);
is_deeply learning($dc), $want, 'and so does a daemon that loaded the quiet site';
my @probe = map { "تعليق رقم $_ عن الكلمة فريدة$_ والموضوع" } 1003, 1004, 5;
is_deeply [ map { ($db->post('/v1/check', { site => 'news', post_id => 3, author => 'Q', email => 'q@example.com', content => $_ }))[1]{matches} } @probe ],
          [ map { ($dc->post('/v1/check', { site => 'news', post_id => 3, author => 'Q', email => 'q@example.com', content => $_ }))[1]{matches} } @probe ],
          'B and C score comments alike';

# The one-script load on the same site, for comparison (what every load was before).
my $whole = <<'LUA';
local docs = redis.call('HGETALL', KEYS[1])
local out = {docs, redis.call('HGETALL', KEYS[3])}
for i = 1, #docs, 2 do
  if string.sub(docs[i], -2) == ':k' then out[#out + 1] = redis.call('HGETALL', ARGV[1] .. string.sub(docs[i], 1, -3)) end
end
return #out
LUA
$redis->cmd('SLOWLOG', 'RESET');
$redis->cmd('EVAL', $whole, 3, 'raqib:{news}:learned', 'raqib:{news}:learnlog', 'raqib:{news}:authors', 'raqib:{news}:learned:');
my ($one) = grep { $_->[3][0] eq 'EVAL' } @{ $redis->cmd('SLOWLOG', 'GET', 1000) };   # the daemons' polls log too
note sprintf 'the one-script load: %d us', $one->[2];
cmp_ok $worst->[2] * 5, '<', $one->[2],
    sprintf('the longest command during the chunked load (%d us) is under a fifth of the one-script load (%d us)',
            $worst->[2], $one->[2]);

for my $d ($da, $db, $dc) { is $d->stop, 0, 'clean exit'; $d->check_log }
done_testing;
