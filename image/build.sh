#!/usr/bin/env bash
# build.sh: builds the image $NAME:$VERSION from $BASE_IMAGE, for one
# platform or several; or pushes it.
#
#   NAME=baseimage-deno VERSION=0.1.0 BASE_IMAGE=ubuntu:24.04 bash image/build.sh
#   PLATFORMS=linux/arm64 bash image/build.sh                -> $NAME:$VERSION-arm64
#   PLATFORMS=linux/amd64,linux/arm64 bash image/build.sh    -> both (-ARCH)
#   PLATFORMS=... bash image/build.sh --push REGISTRY/NAME   (make release)
#   bash image/build.sh --base     prints "linux/ARCH BASE" per platform: the
#                                  base a build would take (pulled or made)
#
# Needs `make compile` first (dist/rootfs; dist/rootfs-ARCH for another
# platform: scripts/build.ts --platform). When BASE_IMAGE is neither present
# nor pullable (no registry reachable), it falls back to an offline base of
# image/base_image.sh, and says so: for an ubuntu:* BASE_IMAGE the Debian
# stand-in that carries what Canonical's build adds to ubuntu:24.04
# (localhost/ubuntu-standin:bookworm), for any other the plain debootstrap
# (localhost/debian:bookworm). Set BASE_IMAGE_FALLBACK= (empty) to fail
# instead.
#
# Tags. One platform: the host's is $NAME:$VERSION as always; another's is
# $NAME:$VERSION-ARCH, so that it never replaces the host's image silently.
# Several: each is $NAME:$VERSION-ARCH, and $NAME:$VERSION is also the
# host's. The manifest list of them exists only where it is pushed: Docker's
# own image store holds none, and with podman 4.3 (Debian 12) any local
# manifest list of local images makes `podman images` fail ("reading
# manifest for image instance ...: file does not exist", exit 125).
#
# --push REPO: pushes REPO:$VERSION and REPO:latest of what was built. For
# several platforms, a manifest list: podman makes one for the push
# (`podman manifest push --all`) and removes it after; docker runs one
# `docker buildx build --platform ... --push`, in which each platform's FROM
# resolves to its own image of BASE_IMAGE (a builder that can build them is
# needed, e.g. docker/setup-buildx-action with setup-qemu-action).
#
# Env: NAME, VERSION, BASE_IMAGE, ENGINE (see engine.sh), PLATFORMS (comma-
# separated; empty: the host's), DISABLE_SYSLOG, DISABLE_SSH, DISABLE_CRON
# (1 leaves the service out), BASE_IMAGE_FALLBACK (default
# localhost/ubuntu-standin:bookworm[-ARCH] or localhost/debian:bookworm[-ARCH],
# as above).
# Exit codes: 0 built (pushed); 1 failure (the message says which step); 2
# usage.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
# shellcheck source=image/platform.sh
. "$HERE/platform.sh"
NAME=${NAME:-baseimage-deno}
VERSION=${VERSION:-0.1.0}
BASE_IMAGE=${BASE_IMAGE:-ubuntu:24.04}
CONTEXT=${CONTEXT_DIR:-$ROOT/build/context}
DIST=${DIST:-$ROOT/dist}
ENGINE_NAME=

log() { echo "build: $*" >&2; }
fatal() {
  echo "build: fatal: $*" >&2
  exit 1
}
engine() { bash "$HERE/engine.sh" run "$@"; }

# The image's architecture, or nothing when it is not present.
image_arch() {
  engine image inspect --format '{{.Architecture}}' "$1" 2>/dev/null || true
}

# base_is ARCH IMAGE: whether the engine has IMAGE for linux/ARCH, really of
# that architecture. podman keeps one image per name: its inspect says.
# Docker's containerd image store (the default of new Docker Engine
# installs) keeps every platform pulled under one name, and `image inspect`
# answers for the host's platform (the host's architecture, or nothing when
# only another platform's content is there), so a pulled arm64 base looked
# absent and the build fell back to debootstrap, which fails as non-root.
# With docker, the platform's image itself says: `uname -m` in it (under
# QEMU for another architecture), with either image store.
base_is() {
  local arch=$1 image=$2 machine
  if [ "$ENGINE_NAME" != docker ]; then
    [ "$(image_arch "$image")" = "$arch" ]
    return
  fi
  # By its output: through podman's Docker API, `run --rm` exits 0 whatever
  # the command did.
  machine=$(engine run --rm --pull=never --network=none --platform "linux/$arch" \
    --entrypoint uname "$image" -m 2>/dev/null) || true
  [ "$(machine_arch "$machine")" = "$arch" ]
}

# The offline base that stands in for BASE_IMAGE (image/base_image.sh's
# BASE_FLAVOUR): Ubuntu's image carries more than a debootstrap (its
# policy-rc.d, docker-* apt configuration, the user `ubuntu`), and the
# build and tests must meet that here too.
fallback_flavour() {
  case "${BASE_IMAGE##*/}" in
  ubuntu | ubuntu:* | ubuntu@*) echo ubuntu ;;
  *) echo plain ;;
  esac
}

# resolve_base ARCH: prints the base image to build from for ARCH:
# BASE_IMAGE when present (for ARCH) or pullable, else the offline fallback
# (made on demand).
resolve_base() {
  local arch=$1 suffix fallback flavour pull=(pull)
  suffix=$(arch_suffix "$arch")
  flavour=$(fallback_flavour)
  if [ "$flavour" = ubuntu ]; then
    fallback=${BASE_IMAGE_FALLBACK-localhost/ubuntu-standin:bookworm$suffix}
  else
    fallback=${BASE_IMAGE_FALLBACK-localhost/debian:bookworm$suffix}
  fi
  if base_is "$arch" "$BASE_IMAGE"; then
    echo "$BASE_IMAGE"
    return
  fi
  [ -z "$suffix" ] || pull+=(--platform "linux/$arch")
  log "pulling $BASE_IMAGE${suffix:+ for linux/$arch}..."
  if timeout 120 bash "$HERE/engine.sh" run "${pull[@]}" "$BASE_IMAGE" >&2 &&
    base_is "$arch" "$BASE_IMAGE"; then
    echo "$BASE_IMAGE"
    return
  fi
  [ -n "$fallback" ] || fatal "base image $BASE_IMAGE is not available for linux/$arch and cannot be pulled"
  cat >&2 <<MSG
build: ************************************************************************
build: The base image $BASE_IMAGE is not available and cannot be pulled
build: (no registry reachable?). Building on the offline Debian base
build: $fallback instead (image/base_image.sh: debootstrap, cached;
build: BASE_FLAVOUR=$flavour).
build: ************************************************************************
MSG
  BASE_FLAVOUR=$flavour BASE_TAG=$fallback PLATFORM=linux/$arch \
    bash "$HERE/base_image.sh" >&2
  echo "$fallback"
}

# The build context: only what the Dockerfile copies (the build scripts and
# service files, and each platform's tools rootfs as rootfs-ARCH, hard-linked),
# not the whole image/.
assemble_context() {
  local arch rootfs
  rm -rf "$CONTEXT"
  mkdir -p "$CONTEXT/bd_build"
  cp "$HERE/Dockerfile" "$CONTEXT/"
  cp -a "$HERE/buildconfig" "$HERE/prepare.sh" "$HERE/system_services.sh" \
    "$HERE/utilities.sh" "$HERE/cleanup.sh" "$HERE/services" "$CONTEXT/bd_build/"
  for arch in "$@"; do
    rootfs=$DIST/rootfs$(arch_suffix "$arch")
    [ -x "$rootfs/usr/sbin/my_init" ] || fatal "$rootfs/usr/sbin/my_init is missing: run \`make compile\`$([ -z "$(arch_suffix "$arch")" ] || echo " and \`deno run -A scripts/build.ts --platform=linux/$arch\` (make image PLATFORM=linux/$arch does both)")"
    cp -al "$rootfs" "$CONTEXT/rootfs-$arch" 2>/dev/null || cp -a "$rootfs" "$CONTEXT/rootfs-$arch"
  done
  log "context $CONTEXT: $(du -sh --apparent-size "$CONTEXT" | cut -f1)"
}

# BUILD_ARGS: the arguments every build and push takes.
build_args() {
  BUILD_ARGS=(
    --build-arg "DISABLE_SYSLOG=${DISABLE_SYSLOG:-0}"
    --build-arg "DISABLE_SSH=${DISABLE_SSH:-0}"
    --build-arg "DISABLE_CRON=${DISABLE_CRON:-0}"
    --label "org.opencontainers.image.version=$VERSION"
  )
}

# build_one ARCH TAG [buildx]: builds TAG for linux/ARCH.
build_one() {
  local arch=$1 tag=$2 buildx=${3:-} base start=$SECONDS
  bash "$HERE/qemu_binfmt.sh" "$arch"
  base=$(resolve_base "$arch")
  build_args
  local args=(build --network=host)
  if [ -n "$buildx" ]; then
    # A buildx builder other than Docker's own (docker/setup-buildx-action's)
    # keeps the result in its cache unless told to load it. Docker's default
    # build network reaches the mirror; host networking would need an
    # entitlement there.
    args=(buildx build --load)
  fi
  # The host's image is built as it always was, without --platform (podman
  # then warns about unused TARGETOS and TARGETPLATFORM); another
  # platform's needs it. TARGETARCH for builders that do not set it
  # (the Dockerfile's COPY).
  [ -z "$(arch_suffix "$arch")" ] || args+=(--platform "linux/$arch")
  args+=("${BUILD_ARGS[@]}"
    --build-arg "TARGETARCH=$arch"
    --build-arg "BASE_IMAGE=$base"
    --label "org.opencontainers.image.base.name=$base"
    -t "$tag")
  # podman: keep HEALTHCHECK (the OCI image format has no field for it), and
  # never look for the local base in a registry.
  [ "$ENGINE_NAME" = podman ] && args+=(--format docker --pull=never)
  local old new
  old=$(engine image inspect --format '{{.Id}}' "$tag" 2>/dev/null || true)
  log "building $tag for linux/$arch from $base with $ENGINE_NAME..."
  engine "${args[@]}" "$CONTEXT" || fatal "the build of $tag for linux/$arch failed"
  # Drop the image this one replaces, unless something still uses it (a
  # container, or an image built on it): rebuilds would pile up otherwise.
  new=$(engine image inspect --format '{{.Id}}' "$tag" 2>/dev/null || true)
  if [ -n "$old" ] && [ "$old" != "$new" ]; then
    engine rmi "$old" >/dev/null 2>&1 || true
  fi
  log "built $tag for linux/$arch from $base in $((SECONDS - start)) s"
}

# tag_host ARCH...: $NAME:$VERSION names the host's image of a multi-platform
# build, when the host's platform is one of them.
tag_host() {
  local arch
  for arch in "$@"; do
    if [ "$arch" = "$(host_arch)" ]; then
      engine tag "$NAME:$VERSION-$arch" "$NAME:$VERSION"
      log "$NAME:$VERSION is $NAME:$VERSION-$arch (the host's platform)"
    fi
  done
}

# push_list REPO ARCH...: with podman, pushes REPO:$VERSION and REPO:latest
# as manifest lists of $NAME:$VERSION-ARCH, made for the push and removed
# after, also on failure (see the header).
push_list() {
  local repo=$1 list=$NAME:$VERSION-push-$$ arch tag
  shift
  engine manifest create "$list" >/dev/null
  # shellcheck disable=SC2064 # expand now: the name is fixed
  trap "bash '$HERE/engine.sh' run manifest rm '$list' >/dev/null 2>&1 || true" EXIT
  for arch in "$@"; do
    # By id: a name without a registry would be looked up in one.
    engine manifest add "$list" \
      "containers-storage:$(engine image inspect --format '{{.Id}}' "$NAME:$VERSION-$arch")" >/dev/null
  done
  local platforms="$*"
  for tag in "$VERSION" latest; do
    log "pushing linux/${platforms// /, linux/} as the manifest list $repo:$tag..."
    engine manifest push --all "$list" "docker://$repo:$tag" ||
      fatal "podman manifest push of $repo:$tag failed"
  done
}

# push REPO ARCH...: pushes REPO:$VERSION and REPO:latest.
push() {
  local repo=$1 tag src
  shift
  if [ $# -gt 1 ] && [ "$ENGINE_NAME" = docker ]; then
    docker buildx version >/dev/null 2>&1 ||
      fatal "pushing a multi-platform image with docker needs buildx (docker buildx version fails)"
    build_args
    local platforms
    platforms=$(printf 'linux/%s,' "$@")
    # One build for all platforms: each one's FROM takes its own image of
    # BASE_IMAGE; the layers come from the builder's cache of `make image`.
    log "docker buildx build --platform ${platforms%,} --push $repo:$VERSION $repo:latest..."
    engine buildx build --push "${BUILD_ARGS[@]}" \
      --platform "${platforms%,}" \
      --build-arg "BASE_IMAGE=$BASE_IMAGE" \
      --label "org.opencontainers.image.base.name=$BASE_IMAGE" \
      -t "$repo:$VERSION" -t "$repo:latest" "$CONTEXT" ||
      fatal "docker buildx build --push failed"
    return 0
  fi
  if [ $# -gt 1 ]; then
    push_list "$repo" "$@"
    return
  fi
  src=$NAME:$VERSION$(arch_suffix "$1")
  for tag in "$VERSION" latest; do
    log "pushing $src as $repo:$tag..."
    engine tag "$src" "$repo:$tag"
    engine push "$repo:$tag" || fatal "push of $repo:$tag failed"
  done
}

main() {
  local repo="" arches=() p only_base=0
  case "${1:-}" in
  --push)
    if [ $# -ne 2 ] || [ -z "$2" ]; then
      echo "usage: build.sh [--push REGISTRY/NAME | --base]" >&2
      exit 2
    fi
    repo=$2
    ;;
  --base) only_base=1 ;;
  "") ;;
  *)
    echo "usage: build.sh [--push REGISTRY/NAME | --base]" >&2
    exit 2
    ;;
  esac
  local platforms=${PLATFORMS:-} arch
  for p in ${platforms//,/ }; do
    arch=$(platform_arch "$p") || exit 2
    arches+=("$arch")
  done
  [ ${#arches[@]} -gt 0 ] || arches=("$(host_arch)")
  ENGINE_NAME=$(bash "$HERE/engine.sh" name)
  if [ $only_base = 1 ]; then
    local base
    for arch in "${arches[@]}"; do
      bash "$HERE/qemu_binfmt.sh" "$arch"
      base=$(resolve_base "$arch")
      echo "linux/$arch $base"
    done
    return
  fi
  assemble_context "${arches[@]}"
  if [ -n "$repo" ]; then
    push "$repo" "${arches[@]}"
    return
  fi
  local start=$SECONDS buildx=""
  # docker: buildx (when installed) for anything but the host's image alone.
  if [ "$ENGINE_NAME" = docker ] && docker buildx version >/dev/null 2>&1; then
    buildx=1
  fi
  if [ ${#arches[@]} -eq 1 ]; then
    local suffix
    suffix=$(arch_suffix "${arches[0]}")
    build_one "${arches[0]}" "$NAME:$VERSION$suffix" "${suffix:+$buildx}"
    return
  fi
  for arch in "${arches[@]}"; do build_one "$arch" "$NAME:$VERSION-$arch" "$buildx"; done
  tag_host "${arches[@]}"
  log "built $NAME:$VERSION for ${#arches[@]} platforms in $((SECONDS - start)) s"
}

main "$@"
