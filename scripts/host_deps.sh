#!/usr/bin/env bash
# Installs what the PID-namespace tests need on the host (Debian/Ubuntu, as
# root): runit (runsvdir, runsv, sv), unshare/chroot (util-linux,
# coreutils), useradd/groupadd (passwd), dash and bash for the shell-quoting
# round trip. Does nothing when all are there; installs only the packages of
# the missing commands, each on its own (scripts/apt_install.sh).
set -euo pipefail
need=()
command -v runsvdir >/dev/null || need+=(runit)
command -v unshare >/dev/null || need+=(util-linux)
command -v useradd >/dev/null || need+=(passwd)
command -v dash >/dev/null || need+=(dash)
command -v ps >/dev/null || need+=(procps)
if [ ${#need[@]} -gt 0 ]; then
  echo "host_deps: installing ${need[*]}" >&2
  # runit's maintainer scripts would start its service here: not wanted.
  bash "$(dirname "$0")/apt_install.sh" --no-start "${need[@]}"
fi
