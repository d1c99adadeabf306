#!/bin/bash
# sshd as a runit service, disabled by default (a `down` file), key-only.
set -euo pipefail
# shellcheck source=image/buildconfig # (/bd_build/ exists in the build only)
source /bd_build/buildconfig
set -x

SSHD_BUILD_PATH=/bd_build/services/sshd

minimal_apt_get_install openssh-server
mkdir -p /etc/service/sshd
touch /etc/service/sshd/down
cp "$SSHD_BUILD_PATH/sshd.runit" /etc/service/sshd/run
chmod 755 /etc/service/sshd/run
supervise_in_run sshd
## Debian's and Ubuntu's sshd_config include sshd_config.d/*.conf first, and
## the first value of an option wins: ours take precedence.
cp "$SSHD_BUILD_PATH/sshd_config" /etc/ssh/sshd_config.d/00-baseimage-deno.conf
mkdir -p /usr/share/baseimage-deno
cp "$SSHD_BUILD_PATH/ssh_host_keys.sh" /usr/share/baseimage-deno/ssh_host_keys.sh
chmod 644 /usr/share/baseimage-deno/ssh_host_keys.sh
cp "$SSHD_BUILD_PATH/00_regen_ssh_host_keys.sh" /etc/my_init.d/
chmod 755 /etc/my_init.d/00_regen_ssh_host_keys.sh

## The insecure key pair (README, "Using the insecure key for one container
## only"): installed but not authorized until enable_insecure_key runs.
mkdir -p /root/.ssh
chmod 700 /root/.ssh
chown root:root /root/.ssh
cp "$SSHD_BUILD_PATH/keys/insecure_key.pub" /etc/insecure_key.pub
cp "$SSHD_BUILD_PATH/keys/insecure_key" /etc/insecure_key
chmod 644 /etc/insecure_key /etc/insecure_key.pub
chown root:root /etc/insecure_key /etc/insecure_key.pub
cp "$SSHD_BUILD_PATH/enable_insecure_key" /usr/sbin/enable_insecure_key
chmod 755 /usr/sbin/enable_insecure_key
