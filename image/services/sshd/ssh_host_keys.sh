# shellcheck shell=sh
# ssh_host_keys.sh: where this container's SSH host keys live, and making
# them. Sourced (sh) by /etc/my_init.d/00_regen_ssh_host_keys.sh and
# /etc/service/sshd/run; installed as /usr/share/baseimage-deno/.
#
# The keys are in /etc/ssh, as phusion's, unless /etc/ssh cannot be written
# (a read-only root, README "Read-only root") and holds none: then in
# $SSH_HOST_KEY_RUN_DIR, made at each boot, or brought by a volume mounted
# there to keep them across restarts.

SSH_HOST_KEY_RUN_DIR=/run/ssh_host_keys

# Prints the directory of the host keys.
ssh_host_key_dir() {
  if ls /etc/ssh/ssh_host_*_key >/dev/null 2>&1 || [ -w /etc/ssh ]; then
    echo /etc/ssh
  else
    echo "$SSH_HOST_KEY_RUN_DIR"
  fi
}

# make_ssh_host_keys DIR: makes the keys of DIR that are missing, as
# `ssh-keygen -A` does for /etc/ssh (RSA, ECDSA, Ed25519). Nothing to make
# in a directory that cannot be written (keys given read-only).
make_ssh_host_keys() {
  if [ "$1" = /etc/ssh ]; then
    ssh-keygen -A
    return
  fi
  [ -d "$1" ] || mkdir -m 0700 "$1"
  [ -w "$1" ] || return 0
  for type in rsa ecdsa ed25519; do
    if [ ! -e "$1/ssh_host_${type}_key" ]; then
      echo "ssh-keygen: generating a new $type host key in $1"
      ssh-keygen -q -t "$type" -N '' -C "root@$(hostname)" -f "$1/ssh_host_${type}_key"
    fi
  done
}
