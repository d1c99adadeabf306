#!/bin/bash
# cron as a runit service.
set -euo pipefail
# shellcheck source=image/buildconfig # (/bd_build/ exists in the build only)
source /bd_build/buildconfig
set -x

minimal_apt_get_install cron
mkdir -p /etc/service/cron
chmod 600 /etc/crontab
cp /bd_build/services/cron/cron.runit /etc/service/cron/run
supervise_in_run cron
chmod 755 /etc/service/cron/run

## pam_loginuid fails in containers without CAP_AUDIT_CONTROL and makes cron
## refuse every job (https://github.com/phusion/baseimage-docker/issues/345).
sed -i 's/^\s*session\s\+required\s\+pam_loginuid.so/# &/' /etc/pam.d/cron

## Remove useless cron entries: checks for lost+found, scans for mtab, dpkg
## database backups, password file checks, fstrim of host disks.
rm -f /etc/cron.daily/standard /etc/cron.daily/upstart /etc/cron.daily/dpkg \
  /etc/cron.daily/password /etc/cron.weekly/fstrim
