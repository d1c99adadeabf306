#!/bin/sh
# Makes this container's own SSH host keys at boot when sshd is enabled
# (the image ships none): in /etc/ssh, or in /run/ssh_host_keys on a
# read-only root (see ssh_host_keys.sh). `-f` regenerates them.
set -eu
# shellcheck source=image/services/sshd/ssh_host_keys.sh # (installed there by sshd.sh)
. /usr/share/baseimage-deno/ssh_host_keys.sh

# Disabled, or non-root mode, where the run script says why sshd is off.
if [ -f /etc/service/sshd/down ] || [ "$(id -u)" != 0 ]; then
  exit 0
fi
dir=$(ssh_host_key_dir)
if [ "${1:-}" = -f ]; then
  rm -f "$dir"/ssh_host_*
fi
if ! ls "$dir"/ssh_host_*_key >/dev/null 2>&1; then
  echo "No SSH host key available. Generating one..."
  make_ssh_host_keys "$dir"
fi
