#!/bin/bash
# Leaves the image small and free of build state.
set -euo pipefail
# shellcheck source=image/buildconfig # (/bd_build/ exists in the build only)
source /bd_build/buildconfig
set -x

apt-get clean
rm -rf /bd_build
rm -rf /tmp/* /var/tmp/*
rm -rf /var/lib/apt/lists/*
## The build's own dpkg speed-up and policy-rc.d (system_services.sh); the
## base's files of the same purpose stay (tests/container/boot_test.ts
## compares them with the base's).
rm -f /etc/dpkg/dpkg.cfg.d/02apt-speedup
if grep -q 'baseimage-deno build only' /usr/sbin/policy-rc.d 2>/dev/null; then
  rm -f /usr/sbin/policy-rc.d
fi
## Host keys are made per container at boot (00_regen_ssh_host_keys.sh),
## never shared by every container of the image.
rm -f /etc/ssh/ssh_host_*
## Build-time logs.
rm -f /var/log/apt/* /var/log/dpkg.log /var/log/alternatives.log /var/log/bootstrap.log

## Only our services are enabled. Packages enable their own runit services
## in /etc/service (Debian's runit: `default-syslog` (a `sleep 6000`
## placeholder) and `ssh` for openssh-server), which would fight ours for
## /dev/log and port 22. Done last, after every package install; the
## `.NAME` link is Debian's mark of an admin's decision that keeps
## runit-helper and runit's dpkg trigger from enabling the service again
## (runsvdir ignores entries starting with a dot). /etc/service is a chain
## of links: resolved inside the image only.
for entry in /etc/service/*; do
  name=$(basename "$entry")
  case "$name" in
  cron | sshd) ;;
  '*') ;;
  *)
    if [ -L "$entry" ]; then
      target=$(readlink "$entry")
      rm -f "$entry"
      ln -sfn "$target" "/etc/service/.$name"
    else
      rm -rf "$entry"
    fi
    ;;
  esac
done
ls -la /etc/service/
