#!/bin/sh
# Makes this container's own SSH host keys at boot when sshd is enabled
# (the image ships none). `-f` regenerates them.
set -eu

if [ -f /etc/service/sshd/down ]; then
  exit 0
fi
if [ "${1:-}" = -f ]; then
  rm -f /etc/ssh/ssh_host_*
fi
if ! ls /etc/ssh/ssh_host_*_key >/dev/null 2>&1; then
  echo "No SSH host key available. Generating one..."
  ssh-keygen -A
fi
