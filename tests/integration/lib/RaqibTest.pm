# RaqibTest — start a real redis-server and a real raqibd on free loopback
# ports, speak HTTP to them, and stop them at the end.
#
# Every test file gets fresh servers through new_redis() / new_raqibd(), the
# way memcached's t/lib/MemcachedTest.pm hands out new_memcached(). A test
# fails when raqibd's stderr shows a sanitizer report or exits non-zero.
package RaqibTest;

use strict;
use warnings;
use Exporter 'import';
use File::Temp qw(tempdir);
use HTTP::Tiny;
use IO::Socket::INET;
use JSON::PP;
use POSIX qw(:sys_wait_h);
use Test::More;
use Time::HiRes qw(sleep time);

our @EXPORT = qw(new_redis new_sentinel new_raqibd free_port json_of wait_until);

my $json = JSON::PP->new->utf8->canonical;
my @cleanup;

sub json_of { my ($text) = @_; my $v = eval { $json->decode($text) }; return $v }

# A TCP port nobody listens on right now.
sub free_port {
    my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1', LocalPort => 0, Proto => 'tcp', ReuseAddr => 1)
        or die "no free port: $!";
    my $port = $s->sockport;
    close $s;
    return $port;
}

sub wait_until {
    my ($what, $cond, $seconds) = @_;
    my $deadline = time + ($seconds // 10);
    while (time < $deadline) {
        return 1 if $cond->();
        sleep 0.05;
    }
    die "timed out waiting for $what\n";
}

# --- redis-server -------------------------------------------------------

package RaqibTest::Redis;
use POSIX qw(:sys_wait_h);
use Time::HiRes qw(sleep);

sub start {
    my ($self) = @_;
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open STDOUT, '>', "$self->{dir}/redis.log";
        open STDERR, '>&', \*STDOUT;
        exec 'redis-server', $self->{conf}, '--sentinel' if $self->{conf};
        exec 'redis-server', '--port', $self->{port}, '--bind', '127.0.0.1', '--dir', $self->{dir},
            '--save', '', '--appendonly', ($self->{aof} ? 'yes' : 'no'), @{ $self->{args} };
        die "exec redis-server: $!";
    }
    $self->{pid} = $pid;
    RaqibTest::wait_until('redis-server', sub { (eval { $self->cmd('PING') } // '') eq 'PONG' }, 10);
    return $self;
}

sub stop {
    my ($self) = @_;
    return unless $self->{pid};
    kill 'TERM', $self->{pid};
    waitpid $self->{pid}, 0;
    delete $self->{pid};
}

sub url { my ($self) = @_; return "redis://127.0.0.1:$self->{port}/0" }

# One command over RESP; returns a scalar, an array ref, or dies on error.
sub cmd {
    my ($self, @args) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $self->{port}, Proto => 'tcp', Timeout => 2)
        or die "redis connect: $!";
    my $req = '*' . scalar(@args) . "\r\n";
    for my $a (@args) { utf8::encode($a) if utf8::is_utf8($a); $req .= '$' . length($a) . "\r\n$a\r\n" }
    print $s $req;
    my $r = _read($s);
    close $s;
    return $r;
}

sub _read {
    my ($s) = @_;
    my $line = <$s>;
    die "redis closed\n" unless defined $line;
    $line =~ s/\r\n$//;
    my ($t, $rest) = (substr($line, 0, 1), substr($line, 1));
    return $rest if $t eq '+' || $t eq ':';
    die "redis error: $rest\n" if $t eq '-';
    if ($t eq '$') {
        return undef if $rest < 0;
        my $buf = '';
        read($s, $buf, $rest + 2) or die "short read";
        return substr($buf, 0, $rest);
    }
    if ($t eq '*') {
        return undef if $rest < 0;
        return [ map { _read($s) } 1 .. $rest ];
    }
    die "bad reply: $line";
}

sub DESTROY { $_[0]->stop }

package RaqibTest;

sub new_redis {
    my (%opt) = @_;
    my $self = bless { port => free_port(), dir => tempdir(CLEANUP => 1), aof => $opt{aof}, args => $opt{args} // [] },
        'RaqibTest::Redis';
    $self->start;
    push @cleanup, $self;
    return $self;
}

# new_sentinel(master => $redis, name => 'mymaster', down_after => 1000):
# a Sentinel on a free port (redis-server --sentinel) watching that master.
sub new_sentinel {
    my (%opt) = @_;
    my $dir = tempdir(CLEANUP => 1);
    my $port = free_port();
    my $name = $opt{name} // 'mymaster';
    open my $fh, '>', "$dir/sentinel.conf" or die $!;
    print $fh "port $port\nbind 127.0.0.1\ndir $dir\n",
        "sentinel monitor $name 127.0.0.1 $opt{master}{port} ", $opt{quorum} // 2, "\n",
        "sentinel down-after-milliseconds $name ", $opt{down_after} // 1000, "\n",
        "sentinel failover-timeout $name ", $opt{failover_timeout} // 10000, "\n";
    close $fh;
    my $self = bless { port => $port, dir => $dir, conf => "$dir/sentinel.conf" }, 'RaqibTest::Redis';
    $self->start;
    push @cleanup, $self;
    return $self;
}

# --- raqibd -----------------------------------------------------------------

package RaqibTest::Daemon;
use POSIX qw(:sys_wait_h);
use Test::More;
use Time::HiRes qw(sleep);

sub start {
    my ($self) = @_;
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open STDOUT, '>>', $self->{log};
        open STDERR, '>&', \*STDOUT;
        # Hyperscan compiles the rules for seconds of CPU in the background at
        # every start; PCRE2 gives the same verdicts (tests/unit/test_prefilter.c),
        # so only tests that ask for it (hyperscan => 1) pay for it.
        $ENV{RAQIB_NO_HYPERSCAN} = 1 unless $self->{hyperscan};
        exec $ENV{RAQIBD} // 'build/raqibd', @{ $self->{argv} };
        die "exec raqibd: $!";
    }
    $self->{pid} = $pid;
    RaqibTest::wait_until('raqibd /healthz', sub {
        die "raqibd exited early:\n" . $self->log_text . "\n" if waitpid($pid, WNOHANG) == $pid;
        my $r = HTTP::Tiny->new(timeout => 1)->get("$self->{base}/healthz");
        return $r->{status} == 200;
    }, 15);
    return $self;
}

sub log_text {
    my ($self) = @_;
    open my $fh, '<', $self->{log} or return '';
    local $/;
    return <$fh>;
}

# SIGTERM, wait, return the exit status (undef if it had to be killed).
sub stop {
    my ($self, $sig) = @_;
    return $self->{status} unless $self->{pid};
    kill($sig // 'TERM', $self->{pid});
    my $deadline = time + 20;
    while (time < $deadline) {
        if (waitpid($self->{pid}, WNOHANG) == $self->{pid}) {
            $self->{status} = $?;
            delete $self->{pid};
            return $self->{status};
        }
        sleep 0.05;
    }
    kill 'KILL', $self->{pid};
    waitpid $self->{pid}, 0;
    delete $self->{pid};
    return $self->{status} = undef;
}

sub check_log {
    my ($self) = @_;
    my $log = $self->log_text;
    unlike($log, qr/ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:/, "no sanitizer report from raqibd")
        or diag($log);
}

# request(METHOD, PATH, BODY-or-undef, {headers}) -> (status, decoded JSON or undef, response)
sub request {
    my ($self, $method, $path, $body, $headers) = @_;
    my %h = %{ $headers // {} };
    $h{Authorization} //= "Bearer $self->{token}" if $self->{token} && !exists $h{Authorization};
    delete $h{Authorization} unless defined $h{Authorization};
    my %o = (headers => \%h);
    $o{content} = $body if defined $body;
    my $r = $self->{http}->request($method, "$self->{base}$path", \%o);
    return ($r->{status}, RaqibTest::json_of($r->{content}), $r);
}

# post(PATH, HASHREF, {headers}): JSON body.
sub post {
    my ($self, $path, $data, $headers) = @_;
    return $self->request('POST', $path, $json->encode($data), { 'Content-Type' => 'application/json', %{ $headers // {} } });
}

sub get { my ($self, $path, $headers) = @_; return $self->request('GET', $path, undef, $headers) }

sub DESTROY {
    my ($self) = @_;
    return unless $self->{pid};
    $self->stop;
}

package RaqibTest;

# new_raqibd(redis => $r, config => "text", args => [...], token => "..."):
# starts raqibd on a free port and waits for /healthz.
sub new_raqibd {
    my (%opt) = @_;
    my $dir = tempdir(CLEANUP => 1);
    my $port = free_port();
    my @argv = ('--listen', "127.0.0.1:$port", '--rules', $opt{rules} // $ENV{RULES} // 'rules',
                '--redis', $opt{redis} ? $opt{redis}->url : ($opt{redis_url} // 'redis://127.0.0.1:1/0'),
                '--threads', $opt{threads} // 2, '--spool', "$dir/spool");
    if (defined $opt{config}) {
        open my $fh, '>', "$dir/raqibd.conf" or die $!;
        print $fh $opt{config};
        close $fh;
        chmod 0600, "$dir/raqibd.conf";
        unshift @argv, '--config', "$dir/raqibd.conf";
    }
    push @argv, @{ $opt{args} // [] };
    my $self = bless { port => $port, base => "http://127.0.0.1:$port", argv => \@argv, log => "$dir/raqibd.log",
                       dir => $dir, token => $opt{token}, hyperscan => $opt{hyperscan},
                       http => HTTP::Tiny->new(timeout => 10) }, 'RaqibTest::Daemon';
    $self->start;
    push @cleanup, $self;
    return $self;
}

END {
    my $status = $?;
    for my $obj (reverse @cleanup) {
        if (ref $obj eq 'RaqibTest::Daemon' && $obj->{pid}) {
            my $s = $obj->stop;
            my $log = $obj->log_text;
            if ($log =~ /ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:/ || !defined $s || $s != 0) {
                print STDERR "raqibd did not stop cleanly (status ", $s // 'killed', "):\n$log\n";
                $status ||= 1;
            }
        } elsif (ref $obj eq 'RaqibTest::Redis') {
            $obj->stop;
        }
    }
    $? = $status;
}

1;
