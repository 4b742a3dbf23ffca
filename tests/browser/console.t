# The moderator console in a real browser: Debian's chromium driven by npm
# puppeteer-core (installed into a temporary folder, as tests/compat does)
# against a real raqibd and redis-server. tests/browser/console.js does the
# clicking and checks each result through the API; each of its checks is a
# test here. Run by `make browser` (part of `make test`, once, not under
# ASan: the daemon side is covered by tests/integration/17-console.t).
# The Arabic-UI queue screenshot lands in $BROWSER_OUT (build/browser).
use strict;
use warnings;
use utf8;
use lib 'tests/integration/lib';
use RaqibTest;
use Test::More;
use File::Temp qw(tempdir);
use JSON::PP;
use Time::HiRes qw(time);

for my $tool (qw(node npm)) {
    BAIL_OUT("$tool is missing: `make browser` installs it") unless grep { -x "$_/$tool" } split /:/, $ENV{PATH} // '';
}
my $chromium = $ENV{CHROMIUM} // '/usr/bin/chromium';
BAIL_OUT("$chromium is missing: `make browser` installs it") unless -x $chromium;

my $t0 = time;
my $tmp = tempdir(CLEANUP => 1);
my @npm = ('npm', 'install', '--prefix', $tmp, '--no-audit', '--no-fund', '--no-package-lock', '--no-save',
           '--loglevel=error', '--fetch-timeout=300000', '--fetch-retries=5', 'puppeteer-core@24');
my $rc = system("PUPPETEER_SKIP_DOWNLOAD=1 timeout 900 @npm > '$tmp/npm.log' 2>&1");
if ($rc != 0) {
    open my $fh, '<', "$tmp/npm.log";
    local $/;
    diag(<$fh> // '');
    BAIL_OUT("npm install of puppeteer-core failed (exit " . ($rc >> 8) . ")");
}
note sprintf 'puppeteer-core installed in %.1f s', time - $t0;

# The rules in a folder of their own: the test writes a broken file there
# to see the console show its file:line on reload.
my $rules = tempdir(CLEANUP => 1);
system('cp', '-r', ($ENV{RULES} // 'rules') . '/.', $rules) == 0 or die "cp rules";

my %tok = (layla => 'mod-layla-3x', omar => 'mod-omar-7q', boss => 'admin-boss-9z', backend => 'submit-backend-2k');
my $redis = new_redis();
my $d = new_raqibd(redis => $redis, rules => $rules, config => join('',
    "token moderate layla $tok{layla}\n", "token moderate omar $tok{omar}\n",
    "token admin boss $tok{boss}\n", "token submit backend $tok{backend}\n",
    "flood_seconds 0\n", "sites default news\n", "author_key browser-test-key-0123456789\n"));
my $dev = new_raqibd(redis => $redis, rules => $rules);   # no tokens: development mode
wait_until('readyz', sub { ($d->get('/readyz'))[0] == 200 });

my $out = $ENV{BROWSER_OUT} // 'build/browser';
local $ENV{NODE_PATH} = "$tmp/node_modules";
local $ENV{RAQIB_BASE} = $d->{base};
local $ENV{RAQIB_DEV_BASE} = $dev->{base};
local $ENV{TOKENS} = JSON::PP->new->encode(\%tok);
local $ENV{RULES_DIR} = $rules;
local $ENV{OUT} = $out;
local $ENV{CHROMIUM} = $chromium;
my $t1 = time;
my @lines = `timeout 300 node tests/browser/console.js 2>&1`;
note sprintf 'browser checks ran in %.1f s', time - $t1;
is $? >> 8, 0, 'the browser driver ran to the end' or diag @lines;

my $n = 0;
for my $line (@lines) {
    my $r = eval { JSON::PP->new->utf8->decode($line) };
    if (!$r) { note $line; next; }
    $n++;
    ok $r->{ok}, $r->{name} or diag explain $r->{diag};
}
cmp_ok $n, '>=', 40, "every browser check reported ($n)";
ok -s "$out/console-queue-ar.png", "screenshot of the Arabic queue in $out";

$d->check_log;
is $d->stop, 0, 'raqibd: clean exit';
is $dev->stop, 0, 'development raqibd: clean exit';
done_testing;
