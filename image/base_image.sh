#!/usr/bin/env bash
# base_image.sh: the offline base image localhost/debian:bookworm, for hosts
# that reach no container registry (nothing can be pulled) but do reach a
# Debian mirror.
#
#   bash image/base_image.sh [--force]
#   PLATFORM=linux/arm64 bash image/base_image.sh     (another architecture)
#
# 1. Done if the engine already has the image (unless --force).
# 2. Else, import build/cache/debian-bookworm.tar.zst if present (seconds).
# 3. Else, debootstrap --variant=minbase bookworm (~25 s), add the
#    bookworm-updates and bookworm-security suites, clean, cache the rootfs
#    as .tar.zst, and import it.
#
# For a platform other than the host's, the names get an -ARCH suffix
# (localhost/debian:bookworm-arm64, debian-bookworm-arm64.tar.zst) and
# debootstrap runs with --arch under QEMU's emulation (image/qemu_binfmt.sh).
#
# Env: PLATFORM (default: the host's), BASE_TAG (default
# localhost/debian:bookworm[-ARCH]), DEBIAN_MIRROR (default: debootstrap's
# own), CACHE_DIR (default build/cache).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
# shellcheck source=image/platform.sh
. "$HERE/platform.sh"
SUITE=bookworm
ARCH=$(platform_arch "${PLATFORM:-}")
SUFFIX=$(arch_suffix "$ARCH")
BASE_TAG=${BASE_TAG:-localhost/debian:$SUITE$SUFFIX}
CACHE_DIR=${CACHE_DIR:-$ROOT/build/cache}
TARBALL=$CACHE_DIR/debian-$SUITE$SUFFIX.tar.zst
LOGFILE=$CACHE_DIR/debootstrap$SUFFIX.log

log() { echo "base_image: $*" >&2; }
fatal() {
  echo "base_image: fatal: $*" >&2
  exit 1
}
engine() { bash "$HERE/engine.sh" run "$@"; }

need_tools() {
  local missing=()
  command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
  command -v zstd >/dev/null 2>&1 || missing+=(zstd)
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" = 0 ] || fatal "missing ${missing[*]} and installing needs root"
  log "installing ${missing[*]} from apt..."
  bash "$ROOT/scripts/apt_install.sh" "${missing[@]}"
}

# Rewrites ROOTFS/etc/apt/sources.list with the updates and security suites
# next to debootstrap's single `SUITE main` line, on the mirror it named.
add_suites() {
  local rootfs=$1 mirror security
  mirror=$(awk '$1 == "deb" { print $2; exit }' "$rootfs/etc/apt/sources.list")
  [ -n "$mirror" ] || fatal "no mirror in $rootfs/etc/apt/sources.list"
  # deb.debian.org serves the security archive under /debian-security.
  security=${mirror%/debian}
  security=${security%/}/debian-security
  cat >"$rootfs/etc/apt/sources.list" <<EOF
deb $mirror $SUITE main
deb $mirror $SUITE-updates main
deb $security $SUITE-security main
EOF
}

bootstrap() {
  need_tools
  [ "$(id -u)" = 0 ] || fatal "debootstrap needs root"
  # debootstrap's second stage runs the new system's dpkg and maintainer
  # scripts in a chroot: foreign ones through QEMU.
  bash "$HERE/qemu_binfmt.sh" "$ARCH"
  mkdir -p "$CACHE_DIR"
  local rootfs
  rootfs=$(mktemp -d "$CACHE_DIR/rootfs.XXXXXX")
  # The rootfs holds device nodes and root-owned files: always remove it.
  # shellcheck disable=SC2064 # expand now: the path is fixed
  trap "rm -rf '$rootfs'" EXIT
  local took="about 30 s"
  [ -z "$SUFFIX" ] || took="about 3 min under emulation"
  log "debootstrap --variant=minbase --arch=$ARCH $SUITE ($took; log in $LOGFILE)..."
  local start=$SECONDS
  # shellcheck disable=SC2086 # DEBIAN_MIRROR is one optional word
  if ! debootstrap --variant=minbase --arch="$ARCH" "$SUITE" "$rootfs" ${DEBIAN_MIRROR:-} \
    >"$LOGFILE" 2>&1; then
    tail -n 20 "$LOGFILE" >&2
    fatal "debootstrap failed (see $LOGFILE)"
  fi
  log "debootstrap done in $((SECONDS - start)) s; cleaning and caching"
  add_suites "$rootfs"
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/cache/apt/*.bin \
    "$rootfs"/var/lib/apt/lists/* "$rootfs"/tmp/* "$rootfs"/var/log/*.log
  tar --numeric-owner -C "$rootfs" -c . | zstd -q -T0 -3 -o "$TARBALL.new"
  mv "$TARBALL.new" "$TARBALL"
  rm -rf "$rootfs"
  trap - EXIT
  log "cached $TARBALL ($(du -h "$TARBALL" | cut -f1))"
}

import() {
  log "importing $TARBALL as $BASE_TAG..."
  # Another architecture's rootfs must say so: imported as is, the image
  # claims the host's, and a build for that platform takes the wrong base.
  local platform=()
  if [ -n "$SUFFIX" ]; then
    if [ "$(bash "$HERE/engine.sh" name)" = podman ]; then
      platform=(--arch "$ARCH")
    else
      platform=(--platform "linux/$ARCH")
    fi
  fi
  zstd -q -d -c "$TARBALL" |
    engine import "${platform[@]}" --change 'CMD ["/bin/bash"]' - "$BASE_TAG" >/dev/null
  log "imported $BASE_TAG"
}

main() {
  local force=0
  case "${1:-}" in
  --force) force=1 ;;
  "") ;;
  *)
    echo "usage: base_image.sh [--force]" >&2
    exit 2
    ;;
  esac
  if [ $force = 0 ] && engine image inspect "$BASE_TAG" >/dev/null 2>&1; then
    log "$BASE_TAG is present"
    return 0
  fi
  if [ $force = 1 ] || [ ! -s "$TARBALL" ]; then
    bootstrap
  else
    need_tools
  fi
  import
}

main "$@"
