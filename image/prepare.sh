#!/bin/bash
# Base fixes for running Debian/Ubuntu in a container: apt, init stubs, locale.
set -euo pipefail
# shellcheck source=image/buildconfig # (/bd_build/ exists in the build only)
source /bd_build/buildconfig
set -x

## Temporarily disable dpkg fsync to make building faster (cleanup.sh removes
## it). The base's own docker-apt-speedup (ubuntu:24.04 has one) is the
## base's: it stays, as in phusion's image, with the base's other docker-*
## apt settings (README, "Upgrading from phusion/baseimage-docker").
echo force-unsafe-io >/etc/dpkg/dpkg.cfg.d/02apt-speedup

## The environment my_init exports to every process (README, "Environment
## variables"): root-only directory, one file per variable.
mkdir -p /etc/container_environment
chmod 700 /etc/container_environment

## Prevent initramfs updates from trying to run grub and lilo.
## https://journal.paul.querna.org/articles/2013/10/15/docker-ubuntu-on-rackspace/
## http://bugs.debian.org/cgi-bin/bugreport.cgi?bug=594189
export INITRD=no
printf no >/etc/container_environment/INITRD

apt-get update

## Fix some issues with APT packages.
## See https://github.com/dotcloud/docker/issues/1024
dpkg-divert --local --rename --add /sbin/initctl
ln -sf /bin/true /sbin/initctl

## Replace the 'ischroot' tool to make it always return true.
## Prevent initscripts updates from breaking /dev/shm.
## https://journal.paul.querna.org/articles/2013/10/15/docker-ubuntu-on-rackspace/
## https://bugs.launchpad.net/launchpad/+bug/974584
dpkg-divert --local --no-rename --add /usr/bin/ischroot
ln -sf /bin/true /usr/bin/ischroot

## Install HTTPS support for APT (a no-op where apt has it built in).
minimal_apt_get_install apt-transport-https ca-certificates

## Upgrade all packages.
apt-get dist-upgrade -y --no-install-recommends -o Dpkg::Options::="--force-confold"

## Fix locale: en_US.UTF-8, exported to every process.
case "$(os_id)" in
ubuntu)
  minimal_apt_get_install language-pack-en
  ;;
*)
  minimal_apt_get_install locales
  sed -i 's/^# *\(en_US.UTF-8 UTF-8\)/\1/' /etc/locale.gen
  grep -q '^en_US.UTF-8 UTF-8' /etc/locale.gen || echo 'en_US.UTF-8 UTF-8' >>/etc/locale.gen
  ;;
esac
locale-gen en_US.UTF-8
update-locale LANG=en_US.UTF-8 LC_CTYPE=en_US.UTF-8
printf en_US.UTF-8 >/etc/container_environment/LANG
printf en_US.UTF-8 >/etc/container_environment/LC_CTYPE
