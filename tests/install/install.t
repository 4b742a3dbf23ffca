# make install / uninstall into a temporary DESTDIR: the tree, modes, the
# filled-in systemd unit (systemd-analyze verify and its offline security
# score where systemd-analyze exists), a config that parses, an operator's
# changed config surviving reinstall and uninstall. Run by `make install-test`.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use File::Find;

my $build = $ENV{BUILD} // 'build';
my $make = "make --no-print-directory -s BUILD=$build";

sub run { my $out = `@_ 2>&1`; return ($? >> 8, $out) }
sub mode { return (stat $_[0])[2] & 07777 }
sub slurp { open my $fh, '<', $_[0] or return ''; local $/; return <$fh> }
sub files_under {
    my ($dir) = @_;
    my @f;
    find({ wanted => sub { push @f, $File::Find::name if -f }, no_chdir => 1 }, $dir) if -d $dir;
    return sort @f;
}

my @shipped_rules = map { s{^rules/}{}r } files_under('rules');
ok @shipped_rules > 10, 'the repository has rule files';

# --- PREFIX=/usr: configuration in /etc, the unit in /usr/lib/systemd/system.
my $d = tempdir(CLEANUP => 1);
my ($rc, $out) = run("$make install DESTDIR=$d PREFIX=/usr");
is $rc, 0, 'make install DESTDIR PREFIX=/usr' or diag $out;
for my $bin ('raqibd', 'raqib') {
    ok -x "$d/usr/bin/$bin", "usr/bin/$bin is executable";
}
is_deeply [map { s{^\Q$d\E/etc/raqib/rules/}{}r } files_under("$d/etc/raqib/rules")], \@shipped_rules,
    'every rule file and model under etc/raqib/rules';
is mode("$d/etc/raqib/raqibd.conf"), 0600, 'etc/raqib/raqibd.conf is 0600';
is mode("$d/etc/raqib/raqibd.conf.example"), 0600, 'and the example too';
ok -f "$d/usr/share/doc/raqib/deployment.md", 'docs in usr/share/doc/raqib';

my $unit = slurp("$d/usr/lib/systemd/system/raqibd.service");
like $unit, qr{^ExecStart=/usr/bin/raqibd --config \$\{CREDENTIALS_DIRECTORY\}/raqibd\.conf$}m, 'ExecStart with the installed path';
like $unit, qr{^LoadCredential=raqibd\.conf:/etc/raqib/raqibd\.conf$}m, 'the config handed over as a credential';
like $unit, qr{^ExecReload=/bin/kill -HUP \$MAINPID$}m, 'ExecReload sends SIGHUP';
like $unit, qr{^$_$}m, $_ for 'DynamicUser=yes', 'ProtectSystem=strict', 'NoNewPrivileges=yes',
    'StateDirectory=raqib raqib/spool raqib/hs-cache';
unlike $unit, qr/@[A-Z]+@/, 'no placeholder left';
like slurp("$d/etc/raqib/raqibd.conf"), qr{^rules\s+/etc/raqib/rules$}m, 'the config names the installed rules';

# The installed config and rules load: lint passes, and --healthcheck gets
# past the configuration (exit 1: nothing listens; a bad config would be 2).
($rc, $out) = run("$d/usr/bin/raqib rules lint $d/etc/raqib/rules");
is $rc, 0, 'raqib rules lint on the installed rules' or diag $out;
($rc, $out) = run("$d/usr/bin/raqibd --config $d/etc/raqib/raqibd.conf --listen 127.0.0.1:1 --healthcheck");
is $rc, 1, 'the installed config parses' or diag $out;

SKIP: {
    my $sa = `sh -c 'command -v systemd-analyze'`;
    skip 'systemd-analyze is not installed (Debian package systemd)', 3 unless $sa;
    # verify wants ExecStart's binary to exist: point it into DESTDIR.
    my $v = tempdir(CLEANUP => 1);
    open my $fh, '>', "$v/raqibd.service" or die $!;
    print $fh $unit =~ s{/usr/bin/raqibd}{$d/usr/bin/raqibd}r;
    close $fh;
    ($rc, $out) = run("systemd-analyze verify $v/raqibd.service");
    is $rc, 0, 'systemd-analyze verify';
    is $out, '', 'without a warning' or diag $out;
    ($rc, $out) = run("systemd-analyze security --offline=yes $v/raqibd.service");
    my ($score) = $out =~ /Overall exposure level for raqibd\.service: ([\d.]+)/;
    ok defined $score && $score <= 2.5, "systemd-analyze security: exposure ${\($score // '?')} <= 2.5" or diag $out;
}

# An operator's config survives a reinstall and an uninstall.
open my $fh, '>>', "$d/etc/raqib/raqibd.conf" or die $!;
print $fh "token admin ops s3cret\n";
close $fh;
($rc, $out) = run("$make install DESTDIR=$d PREFIX=/usr");
is $rc, 0, 'install again';
like slurp("$d/etc/raqib/raqibd.conf"), qr/s3cret/, 'the changed raqibd.conf is not overwritten';
open $fh, '>', "$d/etc/raqib/rules/60-local.rules" or die $!;
print $fh "rule LOCAL\n  match content /x/\n  score 1\n";
close $fh;
($rc, $out) = run("$make uninstall DESTDIR=$d PREFIX=/usr");
is $rc, 0, 'make uninstall' or diag $out;
like $out, qr{kept \Q$d\E/etc/raqib/raqibd\.conf}, 'says it kept the changed config';
is_deeply [map { s{^\Q$d/\E}{}r } files_under($d)], ['etc/raqib/raqibd.conf', 'etc/raqib/rules/60-local.rules'],
    'only the operator\'s files are left';

# --- The default PREFIX layout (/usr/local, configuration in /usr/local/etc),
# and a clean uninstall leaves nothing.
my $l = tempdir(CLEANUP => 1);
($rc, $out) = run("$make install DESTDIR=$l");
is $rc, 0, 'make install DESTDIR (PREFIX /usr/local)' or diag $out;
ok -x "$l/usr/local/bin/raqibd", 'usr/local/bin/raqibd';
ok -f "$l/usr/local/etc/raqib/rules/10-bots.rules", 'rules in usr/local/etc/raqib/rules';
like slurp("$l/usr/local/lib/systemd/system/raqibd.service"), qr{^ExecStart=/usr/local/bin/raqibd }m,
    'the unit names /usr/local/bin/raqibd';
($rc, $out) = run("$make uninstall DESTDIR=$l");
is $rc, 0, 'make uninstall';
is_deeply [files_under($l)], [], 'nothing left';

done_testing;
