#!/usr/bin/env bash
# qemu_binfmt.sh: lets this host run programs of another architecture (an
# arm64 image's RUN steps, debootstrap's second stage, an arm64 container)
# through QEMU's user-mode emulation.
#
#   bash image/qemu_binfmt.sh ARCH        (ARCH: amd64 or arm64)
#
# Nothing to do for the host's own architecture. Else: installs
# qemu-user-static from apt if missing, mounts binfmt_misc if it is not,
# and registers the emulator with the line of /usr/lib/binfmt.d/ unless a
# handler for it is registered already. binfmt-support (a daemon-less
# service that does the same at boot) is not needed.
#
# The handler must have the F flag ("fix binary": the kernel opens the
# emulator at registration), or containers, whose root has no
# /usr/libexec/qemu-binfmt/, cannot start a foreign binary.
#
# Exit codes: 0 ready; 1 cannot be set up (the message says why); 2 usage.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=image/platform.sh
. "$HERE/platform.sh"
BINFMT=/proc/sys/fs/binfmt_misc

log() { echo "qemu_binfmt: $*" >&2; }
fatal() {
  echo "qemu_binfmt: fatal: $*" >&2
  exit 1
}

[ $# -eq 1 ] || {
  echo "usage: qemu_binfmt.sh ARCH" >&2
  exit 2
}
ARCH=$1
[ "$ARCH" = "$(host_arch)" ] && exit 0
QEMU=$(qemu_name "$ARCH")
CONF=/usr/lib/binfmt.d/qemu-$QEMU.conf

# Registered already, with F (docker/setup-qemu-action on GitHub's runners
# does that without the qemu-user-static package): nothing to do.
if grep -qx enabled "$BINFMT/qemu-$QEMU" 2>/dev/null &&
  grep -q '^flags:.*F' "$BINFMT/qemu-$QEMU" 2>/dev/null; then
  exit 0
fi

if [ ! -e "$CONF" ]; then
  [ "$(id -u)" = 0 ] || fatal "qemu-user-static is missing and installing it needs root"
  log "installing qemu-user-static from apt (to run $ARCH programs)..."
  bash "$(dirname "${BASH_SOURCE[0]}")/../scripts/apt_install.sh" qemu-user-static
  [ -e "$CONF" ] || fatal "qemu-user-static installed no $CONF"
fi

if [ ! -e "$BINFMT/register" ]; then
  [ "$(id -u)" = 0 ] || fatal "$BINFMT is not mounted and mounting it needs root"
  mount -t binfmt_misc binfmt_misc "$BINFMT" ||
    fatal "cannot mount binfmt_misc on $BINFMT (a container without the privilege?)"
fi

# Any registered handler for the emulator will do (binfmt-support's, or
# docker/setup-qemu-action's `qemu-aarch64`), as long as it has F.
handler=$BINFMT/qemu-$QEMU
if [ ! -e "$handler" ]; then
  [ "$(id -u)" = 0 ] || fatal "qemu-$QEMU is not registered with binfmt_misc and registering needs root"
  line=$(grep -v '^#' "$CONF" | head -n 1)
  # Debian's line has "OPF"; add F where a packaging lacks it.
  case "${line##*:}" in *F*) ;; *) line="${line}F" ;; esac
  printf '%s\n' "$line" >"$BINFMT/register" ||
    fatal "cannot register qemu-$QEMU with binfmt_misc"
  log "registered qemu-$QEMU with binfmt_misc (flags ${line##*:})"
fi
grep -q '^enabled' "$handler" || fatal "the binfmt_misc handler $handler is disabled"
grep -q '^flags:.*F' "$handler" ||
  fatal "$handler lacks the F flag: containers cannot run $ARCH programs (echo -1 > $handler, then rerun)"
