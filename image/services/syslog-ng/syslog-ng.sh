#!/bin/bash
# syslog-ng (listening on /dev/log only) and logrotate.
set -euo pipefail
# shellcheck source=image/buildconfig # (/bd_build/ exists in the build only)
source /bd_build/buildconfig
set -x

SYSLOG_NG_BUILD_PATH=/bd_build/services/syslog-ng

minimal_apt_get_install syslog-ng-core logrotate
mkdir -p /var/lib/syslog-ng /etc/syslog-ng/conf.d
touch /var/log/syslog
chmod u=rw,g=r,o= /var/log/syslog

## Our configuration, stamped with the installed version's config version so
## that syslog-ng prints no compatibility warning (Debian 12 has 3.38,
## Ubuntu 24.04 has 4.3).
version=$(syslog-ng --version | awk -F': *' '/^Config version/ { print $2; exit }')
[ -n "$version" ]
## No periodic statistics in the log (the option was renamed in 4.0).
case "$version" in
3.*) stats_off="stats_freq(0);" ;;
*) stats_off="stats(freq(0));" ;;
esac
sed -e "s/@SYSLOG_NG_CONFIG_VERSION@/$version/" -e "s/@SYSLOG_NG_STATS_OFF@/$stats_off/" \
  "$SYSLOG_NG_BUILD_PATH/syslog-ng.conf" >/etc/syslog-ng/syslog-ng.conf
cp "$SYSLOG_NG_BUILD_PATH/var_log.conf" /etc/syslog-ng/var_log.conf
## Nothing is written under /etc or /var/lib at boot (README, "Read-only
## root"): 10_syslog-ng.init writes the configuration that depends on the
## container into /run/syslog-ng, and syslog-ng keeps its control socket and
## persist file there. These links lead there: the configuration's includes,
## and the control socket at the path syslog-ng-ctl uses by default.
ln -sfn /run/syslog-ng/d_stdout.conf /etc/syslog-ng/d_stdout.conf
ln -sfn /run/syslog-ng/log_files.conf /etc/syslog-ng/log_files.conf
ln -sfn /run/syslog-ng/syslog-ng.ctl /var/lib/syslog-ng/syslog-ng.ctl
## The image's own copy of what 10_syslog-ng.init writes at each boot, so
## that the links lead somewhere before the first boot: the configuration
## can be checked here and in a derived image's build.
mkdir -p /run/syslog-ng
printf 'destination d_stdout { file("/dev/stdout"); };\n' >/run/syslog-ng/d_stdout.conf
printf '@include "/etc/syslog-ng/var_log.conf"\n' >/run/syslog-ng/log_files.conf
syslog-ng --no-caps --syntax-only
cp "$SYSLOG_NG_BUILD_PATH/syslog_ng_default" /etc/default/syslog-ng

cp "$SYSLOG_NG_BUILD_PATH/syslog-ng.init" /etc/my_init.d/10_syslog-ng.init
cp "$SYSLOG_NG_BUILD_PATH/syslog-ng.shutdown" /etc/my_init.post_shutdown.d/10_syslog-ng.shutdown
chmod 755 /etc/my_init.d/10_syslog-ng.init /etc/my_init.post_shutdown.d/10_syslog-ng.shutdown

cp "$SYSLOG_NG_BUILD_PATH/logrotate_syslogng" /etc/logrotate.d/syslog-ng
## Debian's rsyslog-style rules for these files would rotate them twice.
rm -f /etc/logrotate.d/rsyslog
