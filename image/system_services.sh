#!/bin/bash
# The init system: my_init's directories, runit, and the optional services
# (syslog-ng + logrotate, sshd, cron) unless disabled in buildconfig.
set -euo pipefail
# shellcheck source=image/buildconfig # (/bd_build/ exists in the build only)
source /bd_build/buildconfig
set -x

## Keep package maintainer scripts from starting daemons during the build
## (there is no init to start them under). A base that has a policy-rc.d
## (ubuntu:24.04's, `exit 101`) keeps it, in the image too, as phusion's
## does: derived images' apt-get installs start no daemons either. Only the
## one written here is removed again, by cleanup.sh (README, "Upgrading from
## phusion/baseimage-docker").
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\n# baseimage-deno build only\nexit 101\n' >/usr/sbin/policy-rc.d
  chmod 755 /usr/sbin/policy-rc.d
fi

## Install init process. The tools themselves (my_init, setuser,
## install_clean and the Deno runtime) arrive with the Dockerfile's last
## COPY; here the directories and files my_init uses.
mkdir -p /etc/my_init.d /etc/my_init.pre_shutdown.d /etc/my_init.post_shutdown.d
## /etc/container_environment itself (0700) is made by prepare.sh. The
## JSON dump is a link to /run, where my_init writes it when /etc is
## read-only (README, "Read-only root"); on a writable root it replaces the
## link with the file, as phusion's has it. The shell dump is a link to a
## loader that sources the dump wherever this boot's went (/etc, /run, or in
## non-root mode /tmp or /dev/shm, which a static link cannot follow: see
## the loader's comment); my_init replaces that link on a writable root too.
## The /run files here make the JSON link lead somewhere before my_init ran
## (a RUN step of a derived image, a container whose /run is the image's),
## and /run/container_environment.sh stays as the empty file it always was.
groupadd -g 8377 docker_env
mkdir -p /run /usr/share/baseimage-deno
touch /run/container_environment.sh /run/container_environment.json
chown :docker_env /run/container_environment.sh /run/container_environment.json
chmod 640 /run/container_environment.sh /run/container_environment.json
cp /bd_build/services/environment/load_container_environment.sh /usr/share/baseimage-deno/
chmod 644 /usr/share/baseimage-deno/load_container_environment.sh
ln -sfn /usr/share/baseimage-deno/load_container_environment.sh /etc/container_environment.sh
ln -sfn /run/container_environment.json /etc/container_environment.json
## Login shells load the environment from /etc/profile.d through the same
## path, as phusion's link there has it: one loader, not two.
ln -sfn /etc/container_environment.sh /etc/profile.d/container_environment.sh

## /sbin/my_init, /sbin/setuser and /sbin/install_clean: the launchers live in
## /usr/sbin. On merged-/usr bases (Debian 12, Ubuntu 24.04) /sbin is a link
## to usr/sbin and must stay one; elsewhere add links.
if [ ! -L /sbin ]; then
  for tool in my_init setuser install_clean; do
    ln -sf "/usr/sbin/$tool" "/sbin/$tool"
  done
fi

## Install runit.
minimal_apt_get_install runit
## The services' supervise directories are links into /run/runit/supervise
## (as Debian's packaged services, /etc/sv/*, have them; ours get theirs
## from supervise_in_run), which is empty at each boot (tmpfs /run): the
## directories behind the links are made before runsvdir starts.
cp /bd_build/services/runit/00_runit_supervise.sh /etc/my_init.d/
chmod 755 /etc/my_init.d/00_runit_supervise.sh

## Install a syslog daemon and logrotate.
if [ "$DISABLE_SYSLOG" -eq 0 ]; then /bd_build/services/syslog-ng/syslog-ng.sh; fi

## Install the SSH server.
if [ "$DISABLE_SSH" -eq 0 ]; then /bd_build/services/sshd/sshd.sh; fi

## Install cron daemon.
if [ "$DISABLE_CRON" -eq 0 ]; then /bd_build/services/cron/cron.sh; fi

