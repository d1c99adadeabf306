#!/usr/bin/env bash
# base_image.sh: the offline base images, for hosts that reach no container
# registry (nothing can be pulled) but do reach a Debian mirror:
# localhost/debian:bookworm, a plain debootstrap (BASE_FLAVOUR=plain, the
# default), and localhost/ubuntu-standin:bookworm (BASE_FLAVOUR=ubuntu), the
# same with what Canonical's build adds to the ubuntu:24.04 image
# (image/ubuntu_standin.sh: policy-rc.d, the docker-* apt and dpkg
# configuration, the user `ubuntu` at uid 1000...), which image/build.sh
# takes in place of an ubuntu:* BASE_IMAGE.
#
#   bash image/base_image.sh [--force]
#   BASE_FLAVOUR=ubuntu bash image/base_image.sh
#   PLATFORM=linux/arm64 bash image/base_image.sh     (another architecture)
#
# 1. Done if the engine already has the image (unless --force).
# 2. Else, import build/cache/debian-bookworm.tar.zst if present (seconds).
# 3. Else, debootstrap --variant=minbase bookworm (~25 s), add the
#    bookworm-updates and bookworm-security suites, clean, cache the rootfs
#    as .tar.zst, and import it.
# 4. BASE_FLAVOUR=ubuntu: build the stand-in from the plain image (one RUN
#    of image/ubuntu_standin.sh, no network), labelled with the script's
#    hash: an image made by another version of the script is made again.
#    The cached tarball stays the plain debootstrap.
#
# For a platform other than the host's, the names get an -ARCH suffix
# (localhost/debian:bookworm-arm64, debian-bookworm-arm64.tar.zst) and
# debootstrap runs with --arch under QEMU's emulation (image/qemu_binfmt.sh).
#
# Env: PLATFORM (default: the host's), BASE_FLAVOUR (plain or ubuntu),
# BASE_TAG (default localhost/debian:bookworm[-ARCH], or
# localhost/ubuntu-standin:bookworm[-ARCH]; the plain image under the
# stand-in keeps its default name), DEBIAN_MIRROR (default: debootstrap's
# own), CACHE_DIR (default build/cache).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
# shellcheck source=image/platform.sh
. "$HERE/platform.sh"
SUITE=bookworm
ARCH=$(platform_arch "${PLATFORM:-}")
SUFFIX=$(arch_suffix "$ARCH")
FLAVOUR=${BASE_FLAVOUR:-plain}
PLAIN_TAG=localhost/debian:$SUITE$SUFFIX
case "$FLAVOUR" in
plain) BASE_TAG=${BASE_TAG:-$PLAIN_TAG} ;;
ubuntu) BASE_TAG=${BASE_TAG:-localhost/ubuntu-standin:$SUITE$SUFFIX} ;;
*)
  echo "base_image: BASE_FLAVOUR must be plain or ubuntu, not \"$FLAVOUR\"" >&2
  exit 2
  ;;
esac
# The label that names the version of image/ubuntu_standin.sh a stand-in
# was made with.
STANDIN_LABEL=baseimage-deno.ubuntu-standin
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

# import TAG: the cached rootfs as the image TAG.
import() {
  local tag=$1
  log "importing $TARBALL as $tag..."
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
    engine import "${platform[@]}" --change 'CMD ["/bin/bash"]' - "$tag" >/dev/null
  log "imported $tag"
}

# plain FORCE TAG: the plain debootstrapped image as TAG: kept when present
# (unless FORCE is 1), else imported from the cache, else bootstrapped.
plain() {
  local force=$1 tag=$2
  if [ "$force" = 0 ] && engine image inspect "$tag" >/dev/null 2>&1; then
    log "$tag is present"
    return 0
  fi
  if [ "$force" = 1 ] || [ ! -s "$TARBALL" ]; then
    bootstrap
  else
    need_tools
  fi
  import "$tag"
}

# The version of image/ubuntu_standin.sh: its content's hash.
standin_key() {
  sha256sum "$HERE/ubuntu_standin.sh" | cut -c1-16
}

# The version of image/ubuntu_standin.sh the image $1 was made with, or
# nothing.
standin_key_of() {
  engine image inspect --format "{{ index .Config.Labels \"$STANDIN_LABEL\" }}" \
    "$1" 2>/dev/null || true
}

# standin KEY: builds BASE_TAG from PLAIN_TAG with image/ubuntu_standin.sh,
# offline.
standin() {
  local key=$1 ctx
  # The RUN step runs the base's own programs: another architecture's
  # through QEMU (a no-op for the host's).
  bash "$HERE/qemu_binfmt.sh" "$ARCH"
  ctx=$(mktemp -d "${TMPDIR:-/tmp}/ubuntu-standin.XXXXXX")
  # shellcheck disable=SC2064 # expand now: the path is fixed
  trap "rm -rf '$ctx'" EXIT
  cp "$HERE/ubuntu_standin.sh" "$ctx/"
  cat >"$ctx/Dockerfile" <<EOF
FROM $PLAIN_TAG
COPY ubuntu_standin.sh /tmp/
RUN bash /tmp/ubuntu_standin.sh && rm /tmp/ubuntu_standin.sh
LABEL $STANDIN_LABEL=$key
EOF
  local args=(build --network=none -t "$BASE_TAG")
  [ -z "$SUFFIX" ] || args+=(--platform "linux/$ARCH")
  # podman: never look for the local base in a registry.
  [ "$(bash "$HERE/engine.sh" name)" = podman ] && args+=(--pull=never)
  log "making $BASE_TAG from $PLAIN_TAG with image/ubuntu_standin.sh..."
  engine "${args[@]}" "$ctx" >&2 || fatal "the build of $BASE_TAG failed"
  rm -rf "$ctx"
  trap - EXIT
  log "made $BASE_TAG"
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
  if [ "$FLAVOUR" = plain ]; then
    plain $force "$BASE_TAG"
    return
  fi
  local key
  key=$(standin_key)
  if [ $force = 0 ] && [ "$(standin_key_of "$BASE_TAG")" = "$key" ]; then
    log "$BASE_TAG is present"
    return 0
  fi
  plain $force "$PLAIN_TAG"
  standin "$key"
}

main "$@"
