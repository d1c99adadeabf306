#!/bin/bash
# ubuntu_standin.sh: run as root inside the plain debootstrapped Debian base
# (image/base_image.sh, BASE_FLAVOUR=ubuntu), it adds what Canonical's build
# of the ubuntu:24.04 image adds on top of a bootstrapped system, so that the
# build and the tests meet here what they meet on ubuntu:24.04 (no Ubuntu
# mirror is reachable from this project's machines).
#
# Read from livecd-rootfs (live-build/functions, configure_oci; the
# minimized image's dpkg filter in live-build/auto/build), item by item:
# - /usr/sbin/policy-rc.d that denies every service start (exit 101);
# - /sbin/initctl diverted (dpkg-divert --local --rename) and replaced by a
#   script that exits 0;
# - dpkg's force-unsafe-io in /etc/dpkg/dpkg.cfg.d/docker-apt-speedup;
# - apt configuration /etc/apt/apt.conf.d/docker-clean (downloaded .debs and
#   the binary caches removed after every dpkg run and update; no pkgcache),
#   docker-no-languages, docker-gzip-indexes, docker-autoremove-suggests,
#   docker-disable-periodic-update;
# - /run/systemd/container saying "docker";
# - the user `ubuntu`, uid 1000, its own group, in adm audio cdrom dialout
#   dip floppy plugdev sudo video, bash, a home from /etc/skel;
# - the minimized image's /etc/dpkg/dpkg.cfg.d/excludes: no manual pages
#   and no /usr/share/doc but the copyright files and Debian changelogs.
# What it cannot carry: Ubuntu's packages and /etc/os-release (ID stays
# debian, so image/prepare.sh takes Debian's locale branch, not Ubuntu's
# language-pack-en).
set -euo pipefail

printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
chmod 755 /usr/sbin/policy-rc.d

dpkg-divert --local --rename --add /sbin/initctl
printf '#!/bin/sh\nexit 0\n' >/sbin/initctl
chmod 755 /sbin/initctl

echo force-unsafe-io >/etc/dpkg/dpkg.cfg.d/docker-apt-speedup

conf=/etc/apt/apt.conf.d
purge='rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true'
{
  printf 'DPkg::Post-Invoke { "%s"; };\n' "$purge"
  printf 'APT::Update::Post-Invoke { "%s"; };\n' "$purge"
  printf 'Dir::Cache::pkgcache ""; Dir::Cache::srcpkgcache "";\n'
} >"$conf/docker-clean"
printf 'Acquire::Languages "none";\n' >"$conf/docker-no-languages"
printf 'Acquire::GzipIndexes "true"; Acquire::CompressionTypes::Order:: "gz";\n' \
  >"$conf/docker-gzip-indexes"
printf 'Apt::AutoRemove::SuggestsImportant "false";\n' >"$conf/docker-autoremove-suggests"
printf 'APT::Periodic::Enable "0";\n' >"$conf/docker-disable-periodic-update"

mkdir -p /run/systemd
echo docker >/run/systemd/container

useradd ubuntu --user-group --uid 1000 --comment Ubuntu \
  --groups adm,audio,cdrom,dialout,dip,floppy,plugdev,sudo,video \
  --shell /bin/bash --create-home

cat >/etc/dpkg/dpkg.cfg.d/excludes <<'EOF'
# The stand-in's copy of the minimized ubuntu image's filter: packages
# installed later leave out manual pages and documentation.
path-exclude=/usr/share/man/*
path-exclude=/usr/share/doc/*
path-include=/usr/share/doc/*/copyright
path-include=/usr/share/doc/*/changelog.Debian.*
EOF

rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin
