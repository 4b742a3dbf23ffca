#!/usr/bin/perl
# submit-script.t — the submit script (src/store.c) keeps every answer and
# every write of the script it replaced (tests/bench/submit-before.lua):
# both run the same random submissions, drawn from small pools so ids,
# Idempotency-Keys, duplicate hashes, IPs and e-mails collide, each on its
# own redis-server; every answer and, at the end, every key must agree.
# Then the precedence of the answers and the spool-replay rule, asserted
# outright. Redis only, no raqibd: run once by `make redis-script`.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../integration/lib";
use RaqibTest;
use Test::More;
use Time::HiRes qw(time);

my $root = "$FindBin::Bin/../..";
sub script_of {
    my ($cmd) = @_;
    my $text = `$cmd`;
    die "$cmd failed" if $? || !length $text;
    return $text;
}
my $after = script_of("perl $root/tests/bench/extract-script.pl $root/src/store.c submit_script");
my $before = script_of("cat $root/tests/bench/submit-before.lua");
isnt $after, $before, 'the script under test is not the reference';

my %r = (before => new_redis(), after => new_redis());
my %sha = (before => $r{before}->cmd('SCRIPT', 'LOAD', $before), after => $r{after}->cmd('SCRIPT', 'LOAD', $after));

my $site = '{t}';
# submit(WHICH, %s): one EVALSHA as store_submit builds it.
sub submit {
    my ($which, %s) = @_;
    my @keys = map { "raqib:$site:$_" } "c:$s{id}", 'review', 'idem:' . ($s{idem} // '-'), "dup:$s{dup}",
        'flood:ip:' . ($s{ip} // '-'), 'flood:email:' . ($s{email} // '-'), 'spam', 'decisions';
    my @fields = (id => $s{id}, site => 't', content => "text of $s{id}", status => $s{status}, created_at => $s{now});
    push @fields, decided_at => $s{now}, decided_by => 'rules' if $s{status} ne 'pending';
    my @argv = ($s{id}, $s{status}, $s{flood_ms}, $s{dup_ttl}, 86400, $s{spam_ttl}, $s{now}, "answer of $s{id}",
                defined $s{idem} ? 1 : 0, defined $s{ip} ? 1 : 0, defined $s{email} ? 1 : 0, @fields);
    my $reply = $r{$which}->cmd('EVALSHA', $sha{$which}, scalar @keys, @keys, @argv);
    return join ' ', @$reply;
}

# Both scripts, one submission: the same answer (a flood's wait in ms may
# differ by the few ms between the two calls).
sub both {
    my (%s) = @_;
    my ($b, $a) = (submit(before => %s), submit(after => %s));
    if ($b =~ /^flood (\d+)$/) {
        my $wb = $1;
        ok(($a =~ /^flood (\d+)$/ && abs($1 - $wb) < 1000), "flood both ($b / $a)");
        return $a;
    }
    is $a, $b, "same answer: $b";
    return $a;
}

# The keys of one server, comparable across the two: stream ids and the
# item's `entry` (time-made) left out; TTLs (ms) apart in ttls_of.
sub state_of {
    my ($redis, $ttls) = @_;
    my %out;
    for my $k (sort @{ $redis->cmd('KEYS', '*') }) {
        my $type = $redis->cmd('TYPE', $k);
        my $ttl = $redis->cmd('PTTL', $k);
        my $v;
        if ($type eq 'hash') {
            my %h = @{ $redis->cmd('HGETALL', $k) };
            delete $h{entry} and $h{entry} = 'yes';
            $v = join ',', map { "$_=$h{$_}" } sort keys %h;
        } elsif ($type eq 'stream') {
            $v = join ';', map { join ',', @{ $_->[1] } } @{ $redis->cmd('XRANGE', $k, '-', '+') };
        } elsif ($type eq 'zset') {
            $v = join ',', @{ $redis->cmd('ZRANGE', $k, 0, -1, 'WITHSCORES') };
        } else {
            $v = $redis->cmd('GET', $k);
        }
        $out{$k} = "$type " . ($ttl < 0 ? "ttl=$ttl" : 'expires') . " $v";
        $ttls->{$k} = $ttl;
    }
    return \%out;
}

subtest 'random colliding submissions: the same answers and keys as before' => sub {
    srand(15);
    my $pick = sub { my @pool = @_; return $pool[int rand @pool] };
    my %seen;
    my $now = 1764806400000;
    for my $i (1 .. 400) {
        $now += int rand 2000;
        my %s = (
            id => $pick->(map { "c$_" } 1 .. 200), status => $pick->(qw(pending pending approved spam)),
            idem => $pick->((undef) x 30, map { "k$_" } 1 .. 40), dup => $pick->(map { "d$_" } 1 .. 150),
            ip => $pick->(undef, map { "10.0.0.$_" } 1 .. 8), email => $pick->(undef, map { "$_\@x" } 'a' .. 'h'),
            flood_ms => $pick->(0, 15000), dup_ttl => $pick->(0, 2592000, 2592000),
            spam_ttl => $pick->(60, 2592000), now => $now,
        );
        my $a = both(%s);
        $seen{ (split ' ', $a)[0] }++;
        # now and then a persistent flood key (no TTL): not a flood, and overwritten
        if ($i % 50 == 0) { $r{$_}->cmd('SET', "raqib:$site:flood:ip:10.0.0.3", 'x') for qw(before after) }
        # now and then every flood window lapses, on both servers at once (a
        # real short window could lapse between the two calls on a busy machine)
        if ($i % 40 == 0) {
            for my $w (qw(before after)) {
                my @k = @{ $r{$w}->cmd('KEYS', "raqib:$site:flood:*") };
                $r{$w}->cmd('DEL', @k) if @k;
            }
        }
    }
    ok $seen{$_}, "some answers were $_ ($seen{$_})" for qw(ok idem dup flood);
    my (%ta, %tb);
    is_deeply state_of($r{after}, \%ta), state_of($r{before}, \%tb), 'every key the same';
    my @off = grep { abs($ta{$_} - $tb{$_}) > 2000 } keys %ta;
    is "@off", '', 'every TTL the same (within the 2 s between the runs)';
    $r{after}->cmd('FLUSHALL');
};

# Fresh servers' state for the precedence checks: the new script alone.
sub fresh { my ($id, %o) = @_; return (id => $id, status => 'pending', dup => "h$id", flood_ms => 15000,
                                       dup_ttl => 2592000, spam_ttl => 2592000, now => 1764806400000, %o) }

subtest 'precedence: existing item, then Idempotency-Key, then duplicate, then flood' => sub {
    is submit(after => fresh('p1', idem => 'K', ip => '1.1.1.1', email => 'e@x')), 'ok', 'first stored';
    is submit(after => fresh('p1', idem => 'K', ip => '1.1.1.1', email => 'e@x')), 'ok',
        'the same id again (a spool replay): ok';
    my $n = scalar @{ $r{after}->cmd('XRANGE', "raqib:$site:review", '-', '+') };
    is submit(after => fresh('p2', idem => 'K', dup => 'hp1', ip => '1.1.1.1')), 'idem answer of p1',
        'Idempotency-Key before duplicate and flood';
    like submit(after => fresh('p3', dup => 'hp1', ip => '1.1.1.1')), qr/^dup p1$/, 'duplicate before flood';
    like submit(after => fresh('p4', email => 'e@x')), qr/^flood \d+$/, 'flood by e-mail';
    like submit(after => fresh('p5', ip => '1.1.1.1')), qr/^flood \d+$/, 'flood by IP';
    is submit(after => fresh('p6', ip => '1.1.1.1', flood_ms => 0)), 'ok', 'no flood window: stored';
    is scalar @{ $r{after}->cmd('XRANGE', "raqib:$site:review", '-', '+') }, $n + 1,
        'only p6 queued after p1: a replay or a refusal writes nothing';
    is $r{after}->cmd('EXISTS', map { "raqib:$site:c:p$_" } 2 .. 5), 0, 'no item for a refused comment';
};

subtest 'automatic decisions: the feed entry, the spam folder and its TTL' => sub {
    is submit(after => fresh('s1', status => 'spam', spam_ttl => 600)), 'ok', 'spam stored';
    my $ttl = $r{after}->cmd('TTL', "raqib:$site:c:s1");
    ok $ttl > 590 && $ttl <= 600, "spam item expires with spam_ttl ($ttl)";
    ok defined $r{after}->cmd('ZSCORE', "raqib:$site:spam", 's1'), 'in the spam folder';
    is submit(after => fresh('a1', status => 'approved')), 'ok', 'approved stored';
    my @feed = map { join ',', @{ $_->[1] } } @{ $r{after}->cmd('XRANGE', "raqib:$site:decisions", '-', '+') };
    ok((grep { /^id,a1,status,approved,decided_by,rules,decided_at,\d+$/ } @feed), 'approved in the decisions feed');
    is $r{after}->cmd('HGET', "raqib:$site:c:a1", 'entry'), undef, 'no review entry for a decided comment';
    ok $r{after}->cmd('HGET', "raqib:$site:c:p1", 'entry'), 'a pending one has its review entry';
};

done_testing;
