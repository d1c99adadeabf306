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
## Until the first boot rewrites it (10_syslog-ng.init).
printf 'destination d_stdout { file("/dev/stdout"); };\n' >/etc/syslog-ng/d_stdout.conf
syslog-ng --no-caps --syntax-only
cp "$SYSLOG_NG_BUILD_PATH/syslog_ng_default" /etc/default/syslog-ng

cp "$SYSLOG_NG_BUILD_PATH/syslog-ng.init" /etc/my_init.d/10_syslog-ng.init
cp "$SYSLOG_NG_BUILD_PATH/syslog-ng.shutdown" /etc/my_init.post_shutdown.d/10_syslog-ng.shutdown
chmod 755 /etc/my_init.d/10_syslog-ng.init /etc/my_init.post_shutdown.d/10_syslog-ng.shutdown

cp "$SYSLOG_NG_BUILD_PATH/logrotate_syslogng" /etc/logrotate.d/syslog-ng
## Debian's rsyslog-style rules for these files would rotate them twice.
rm -f /etc/logrotate.d/rsyslog
