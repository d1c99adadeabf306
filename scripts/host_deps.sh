#!/usr/bin/env bash
# Installs what the PID-namespace tests need on the host (Debian/Ubuntu, as
# root): runit (runsvdir, runsv, sv), unshare/chroot (util-linux,
# coreutils), useradd/groupadd (passwd), dash and bash for the shell-quoting
# round trip. Does nothing when all are there.
set -euo pipefail
need=()
command -v runsvdir >/dev/null || need+=(runit)
command -v unshare >/dev/null || need+=(util-linux)
command -v useradd >/dev/null || need+=(passwd)
command -v dash >/dev/null || need+=(dash)
command -v ps >/dev/null || need+=(procps)
if [ ${#need[@]} -gt 0 ]; then
  echo "host_deps: installing ${need[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
