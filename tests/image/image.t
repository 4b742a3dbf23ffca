# The container image (`make image-test`, after `make image`): run raqib:latest
# beside a private redis-server (host network), configured by RAQIB_*
# variables only; submit a comment and read it back; check the user, the
# Hyperscan build, the HEALTHCHECK and a mounted 0600 config; stop it with
# SIGTERM and want exit 0. docker when an engine answers, else podman with
# docker/podman/*.conf (as docker/image.sh built it).
use strict;
use warnings;
use lib 'tests/integration/lib';
use RaqibTest;
use Test::More;
use File::Temp qw(tempdir);
use Cwd qw(getcwd);
use Encode qw(decode_utf8);
use HTTP::Tiny;

my $image = $ENV{IMAGE_TAG} // 'raqib:latest';
my $engine;
if (system('sh', '-c', 'command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1') == 0) {
    $engine = 'docker';
} elsif (system('sh', '-c', 'command -v podman >/dev/null 2>&1') == 0) {
    $engine = 'podman';
    $ENV{CONTAINERS_CONF} = getcwd() . '/docker/podman/containers.conf';
    $ENV{CONTAINERS_STORAGE_CONF} = getcwd() . '/docker/podman/storage.conf';
} else {
    plan skip_all => 'neither a Docker engine nor podman is available (make image installs podman on Debian)';
}
diag "engine: $engine";

sub run { my $out = `@_ 2>&1`; return ($? >> 8, $out) }
sub q1 { my ($s) = @_; $s =~ s/'/'\\''/g; return "'$s'" }

my $name = "raqib-image-test-$$";
my $started;
END { system("$engine rm -f -v $name >/dev/null 2>&1") if $started && $engine }

my ($rc, $out) = run("$engine image inspect --format '{{.Config.User}} {{json .Config.Healthcheck}}' $image");
is $rc, 0, "$image exists" or BAIL_OUT("no image: run make image\n$out");
like $out, qr/^raqib /, 'runs as the raqib user';
like $out, qr/--healthcheck/, 'the HEALTHCHECK is kept (docker format) and calls raqibd --healthcheck';

# No config mounted: the image's own file is there; --help exits 0.
($rc, $out) = run("$engine run --rm --network host $image --help");
is $rc, 0, 'runs with no config mounted' or diag $out;
like $out, qr/--listen/, 'raqibd --help';

# A mounted config with tokens, 0600 and owned by the image's uid 10001, is
# read (exit 1 from --healthcheck: nothing listens on port 1; unreadable or
# invalid would be 2).
my $dir = tempdir(CLEANUP => 1);
open my $fh, '>', "$dir/raqibd.conf" or die $!;
print $fh "token submit site s3cret\nlisten 127.0.0.1:1\n";
close $fh;
chmod 0600, "$dir/raqibd.conf";
chown 10001, 10001, "$dir/raqibd.conf";
($rc, $out) = run("$engine run --rm --network host -v $dir/raqibd.conf:/etc/raqib/raqibd.conf:ro $image --healthcheck");
is $rc, 1, 'a mounted 0600 config is readable' or diag $out;
like $out, qr/connect to 127\.0\.0\.1 port 1/, 'and its listen line is used';

# The daemon, configured by the environment alone.
my $redis = new_redis();
my $port = free_port();
my $token = 'image-test-secret';
my @env = ("RAQIB_LISTEN=127.0.0.1:$port", 'RAQIB_REDIS=' . $redis->url,
           "RAQIB_TOKEN=submit site $token; moderate layla mod-secret", 'RAQIB_LOG_FORMAT=json');
($rc, $out) = run("$engine run -d --name $name --network host " . join(' ', map { '-e ' . q1($_) } @env) . " $image");
$started = 1;
is $rc, 0, "$engine run -d" or diag $out;

my $http = HTTP::Tiny->new(timeout => 5);
my $base = "http://127.0.0.1:$port";
my $ready = eval { wait_until('/readyz in the container', sub { ($http->get("$base/readyz")->{status}) == 200 }, 60); 1 };
ok $ready, '/readyz 200: rules loaded, Redis answering' or diag scalar `$engine logs $name 2>&1`;

my %auth = (Authorization => "Bearer $token", 'Content-Type' => 'application/json');
my $r = $http->post("$base/v1/comments", { headers => \%auth,
    content => '{"post_id":7,"author":"Layla","email":"layla@example.com","content":"مقال رائع، شكرا"}' });
is $r->{status}, 202, 'POST /v1/comments: 202' or diag $r->{content};
my $id = (json_of($r->{content}) // {})->{id} // '';
$r = $http->get("$base/v1/comments/$id", { headers => \%auth });
is $r->{status}, 200, 'GET it back';
is((json_of($r->{content}) // {})->{content}, decode_utf8('مقال رائع، شكرا'), 'the same text, from Redis');
is $redis->cmd('EXISTS', "raqib:{default}:c:$id"), 1, 'stored in the Redis beside it';

($rc, $out) = run("$engine exec $name raqibd --config /etc/raqib/raqibd.conf --healthcheck");
is $rc, 0, 'the HEALTHCHECK command passes in the running container' or diag $out;
($rc, $out) = run("$engine exec $name id -u");
is $out =~ s/\s+//gr, '10001', 'uid 10001, not root';
($rc, $out) = run("$engine exec $name sh -c 'ls -ld /var/lib/raqib/spool /var/lib/raqib/hs-cache'");
like $out, qr/^drwx.*raqib raqib .*spool$/m, 'the spool volume belongs to raqib';
SKIP: {
    skip 'Hyperscan is amd64-only in Debian', 1 unless `dpkg --print-architecture 2>/dev/null` =~ /amd64/;
    ($rc, $out) = run("$engine exec $name sh -c 'ldd /usr/local/bin/raqibd'");
    like $out, qr/libhs\.so/, 'raqibd is linked with Hyperscan';
}

($rc, $out) = run("$engine stop -t 30 $name");
is $rc, 0, "$engine stop (SIGTERM)" or diag $out;
($rc, $out) = run("$engine inspect --format '{{.State.ExitCode}}' $name");
is $out =~ s/\s+//gr, '0', 'raqibd exited 0';
my $logs = `$engine logs $name 2>&1`;
like $logs, qr/"message":"SIGTERM: draining in-flight requests/, 'SIGTERM reached raqibd (PID 1), JSON logs';
like $logs, qr/"message":"raqibd stopped cleanly"/, 'stopped cleanly';

done_testing;
