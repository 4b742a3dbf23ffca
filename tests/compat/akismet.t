# Compatibility: real Akismet client libraries, written by others, against a
# real raqibd. Installs the npm packages `akismet-api` and `akismet` with the
# machine's Node.js into a temporary folder (nothing is written to the
# repository: no node_modules, no package-lock), then runs
# tests/compat/akismet-clients.js and checks what the clients themselves
# parsed, and what Raqib stored. Skipped only when node or npm is missing.
use strict;
use warnings;
use utf8;
use lib 'tests/integration/lib';
use RaqibTest;
use Test::More;
use File::Temp qw(tempdir);
use JSON::PP;

for my $tool (qw(node npm)) {
    plan skip_all => "$tool is not installed" unless grep { -x "$_/$tool" } split /:/, $ENV{PATH} // '';
}

# Install first (the slow part, before any server runs). Generous timeouts
# and retries: a slow registry must not make this test flaky.
my $tmp = tempdir(CLEANUP => 1);
my $npm_log = "$tmp/npm.log";
my @npm = ('npm', 'install', '--prefix', $tmp, '--no-audit', '--no-fund', '--no-package-lock', '--no-save',
           '--loglevel=error', '--fetch-timeout=300000', '--fetch-retries=5', '--fetch-retry-mintimeout=2000',
           '--fetch-retry-maxtimeout=60000', 'akismet-api@6', 'akismet@2');
my $rc = system("timeout 900 @npm > '$npm_log' 2>&1");
if ($rc != 0) {
    open my $fh, '<', $npm_log;
    local $/;
    diag(<$fh> // '');
    BAIL_OUT("npm install of akismet-api and akismet failed (exit " . ($rc >> 8) . ")");
}
ok -d "$tmp/node_modules/akismet-api" && -d "$tmp/node_modules/akismet", 'clients installed in a temporary folder';
my ($api_version) = `node -p "require('$tmp/node_modules/akismet-api/package.json').version"` =~ /(\S+)/;
my ($pkg_version) = `node -p "require('$tmp/node_modules/akismet/package.json').version"` =~ /(\S+)/;
note "akismet-api $api_version, akismet $pkg_version";

my $key = 'compat4key';   # Host names are lowercased by URL parsers: a lowercase secret
my $redis = new_redis();
my $d = new_raqibd(redis => $redis, config => "token submit compat-backend $key\n");
wait_until('readyz', sub { ($d->get('/readyz'))[0] == 200 });

my $blog = 'https://news.example.com/';
my $site = 'news-example-com';
local $ENV{NODE_PATH} = "$tmp/node_modules";
local $ENV{RAQIB_PORT} = $d->{port};
local $ENV{AKISMET_KEY} = $key;
local $ENV{AKISMET_BLOG} = $blog;
my $json = `timeout 300 node tests/compat/akismet-clients.js`;
is $? >> 8, 0, 'the node driver ran';
my $r = eval { JSON::PP->new->utf8->decode($json) } // {};
ok $r->{akismet_api} && $r->{akismet}, 'it reported its results' or diag $json;

sub result_is {
    my ($got, $want, $name) = @_;
    ok $got && $got->{ok}, "$name: no error" or diag explain $got;
    is_deeply $got && $got->{value}, $want, "$name: parsed as " . JSON::PP->new->allow_nonref->encode($want);
}

subtest 'akismet-api (key in the body, then in the Host name)' => sub {
    my $a = $r->{akismet_api};
    result_is $a->{verify_key}, JSON::PP::true, 'verifyKey';
    result_is $a->{verify_wrong_key}, JSON::PP::false, 'verifyKey with a wrong key';
    result_is $a->{check_spam_ar}, JSON::PP::true, 'checkSpam Arabic spam';
    result_is $a->{check_ham_ar}, JSON::PP::false, 'checkSpam Arabic ham';
    result_is $a->{check_spam_en}, JSON::PP::true, 'checkSpam English spam';
    result_is $a->{check_ham_en}, JSON::PP::false, 'checkSpam English ham';
    result_is $a->{check_is_test}, JSON::PP::true, 'checkSpam with isTest';
    ok !$a->{check_wrong_key}{ok}, 'checkSpam with a wrong key rejects';
    is $a->{check_wrong_key}{error}, 'Invalid API key', "with the client's own message";
    ok !$a->{check_no_ip}{ok}, 'checkSpam without an IP rejects';
    is $a->{check_no_ip}{error}, 'Missing required field: user_ip.', 'with X-akismet-debug-help as the message';
    result_is $a->{submit_spam}, 'resolved', 'submitSpam';
    result_is $a->{submit_ham}, 'resolved', 'submitHam';
};

subtest 'akismet (oozcitak, callbacks)' => sub {
    my $b = $r->{akismet};
    result_is $b->{verify_key}, JSON::PP::true, 'verifyKey';
    result_is $b->{verify_wrong_key}, JSON::PP::false, 'verifyKey with a wrong key';
    result_is $b->{check_spam_ar}, JSON::PP::true, 'checkComment Arabic spam';
    result_is $b->{check_ham_ar}, JSON::PP::false, 'checkComment Arabic ham';
    result_is $b->{check_spam_en}, JSON::PP::true, 'checkComment English spam';
    result_is $b->{check_ham_en}, JSON::PP::false, 'checkComment English ham';
    result_is $b->{submit_spam}, 'done', 'submitSpam';
    result_is $b->{submit_ham}, 'done', 'submitHam';
};

# What Raqib kept: every checked comment in the site of the blog, the
# corrections recorded under the key's token name.
my %by_content;
for my $k (@{ $redis->cmd('KEYS', "raqib:{$site}:c:*") }) {
    my %h = @{ $redis->cmd('HGETALL', $k) };
    utf8::decode($_) for values %h;
    $by_content{ $h{content} } = \%h;
}
subtest 'stored and corrected in Raqib' => sub {
    is scalar(keys %by_content), 8, 'eight comments stored (the isTest check is not)' or diag explain [keys %by_content];
    my $ham_en = $by_content{'Great article, thanks for the clear explanation.'};
    is $ham_en->{status}, 'spam', 'akismet-api submitSpam turned the English ham into spam';
    is $ham_en->{decided_by}, 'compat-backend', "decided by the token's name";
    my $spam_ar = $by_content{'شيخ روحاني لجلب الحبيب واتساب 00966551234567'};
    is $spam_ar->{status}, 'approved', 'akismet-api submitHam approved the Arabic spam';
    my $ham_ar2 = $by_content{'مقال رائع، شكرا على المعلومات المفيدة (2)'};
    is $ham_ar2->{status}, 'spam', 'akismet submitSpam';
    my $spam_en2 = $by_content{'Buy cheap viagra online now http://a.example http://b.example http://c.example casino bonus (2)'};
    is $spam_en2->{status}, 'approved', 'akismet submitHam';
    is $spam_en2->{decided_by}, 'compat-backend';
    is $by_content{'مقال رائع، شكرا على المعلومات المفيدة'}{lang}, 'ar, en', 'blog_lang kept';
};

$d->check_log;
is $d->stop, 0, 'clean exit';
done_testing;
