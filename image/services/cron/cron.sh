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

## Jobs start with the container environment. cron gives each job PAM's
## environment, then the crontab's variables over it; pam_env reads the file
## my_init writes at boot and after each startup script (init/pam_env.ts).
## Last, after /etc/environment and the locale, so the container's values
## win over theirs. A file of its own, not /etc/environment: login shells
## and sshd have the environment already (/etc/profile.d). optional: a job
## still runs when the file is not there (my_init did not write it).
cat >>/etc/pam.d/cron <<'EOF'

# baseimage-deno: the container environment, as my_init exported it.
session    optional   pam_env.so conffile=/dev/null envfile=/run/container_environment.pam_env
EOF

## Job output goes to syslog, and so to the container's log: cron mails it
## through /usr/sbin/sendmail, which here is a script that logs each line
## (there is no mail server; without one cron discards the output).
cp /bd_build/services/cron/sendmail /usr/sbin/sendmail
chmod 755 /usr/sbin/sendmail

## Remove useless cron entries: checks for lost+found, scans for mtab, dpkg
## database backups, password file checks, fstrim of host disks.
rm -f /etc/cron.daily/standard /etc/cron.daily/upstart /etc/cron.daily/dpkg \
  /etc/cron.daily/password /etc/cron.weekly/fstrim
