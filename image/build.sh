#!/usr/bin/env bash
# build.sh: builds the image $NAME:$VERSION from $BASE_IMAGE.
#
#   NAME=baseimage-deno VERSION=0.1.0 BASE_IMAGE=ubuntu:24.04 bash image/build.sh
#
# Needs `make compile` first (dist/rootfs). When BASE_IMAGE is neither
# present nor pullable (no registry reachable), it falls back to the offline
# Debian base of image/base_image.sh, and says so; set BASE_IMAGE_FALLBACK=
# (empty) to fail instead.
#
# Env: NAME, VERSION, BASE_IMAGE, ENGINE (see engine.sh), DISABLE_SYSLOG,
# DISABLE_SSH, DISABLE_CRON (1 leaves the service out), BASE_IMAGE_FALLBACK
# (default localhost/debian:bookworm).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
NAME=${NAME:-baseimage-deno}
VERSION=${VERSION:-0.1.0}
BASE_IMAGE=${BASE_IMAGE:-ubuntu:24.04}
BASE_IMAGE_FALLBACK=${BASE_IMAGE_FALLBACK-localhost/debian:bookworm}
CONTEXT=${CONTEXT_DIR:-$ROOT/build/context}
ROOTFS=${ROOTFS:-$ROOT/dist/rootfs}

log() { echo "build: $*" >&2; }
fatal() {
  echo "build: fatal: $*" >&2
  exit 1
}
engine() { bash "$HERE/engine.sh" run "$@"; }

# Prints the base image to build from: BASE_IMAGE when present or pullable,
# else the offline fallback (made on demand).
resolve_base() {
  if engine image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
    echo "$BASE_IMAGE"
    return
  fi
  log "pulling $BASE_IMAGE..."
  if timeout 120 bash "$HERE/engine.sh" run pull "$BASE_IMAGE" >&2; then
    echo "$BASE_IMAGE"
    return
  fi
  [ -n "$BASE_IMAGE_FALLBACK" ] || fatal "base image $BASE_IMAGE is not available and cannot be pulled"
  cat >&2 <<MSG
build: ************************************************************************
build: The base image $BASE_IMAGE is not available and cannot be pulled
build: (no registry reachable?). Building on the offline Debian base
build: $BASE_IMAGE_FALLBACK instead (image/base_image.sh: debootstrap, cached).
build: ************************************************************************
MSG
  BASE_TAG=$BASE_IMAGE_FALLBACK bash "$HERE/base_image.sh" >&2
  echo "$BASE_IMAGE_FALLBACK"
}

# The build context: only what the Dockerfile copies (the build scripts and
# service files, and the tools' rootfs, hard-linked), not the whole image/.
assemble_context() {
  [ -x "$ROOTFS/usr/sbin/my_init" ] || fatal "$ROOTFS/usr/sbin/my_init is missing: run \`make compile\` first"
  rm -rf "$CONTEXT"
  mkdir -p "$CONTEXT/bd_build"
  cp "$HERE/Dockerfile" "$CONTEXT/"
  cp -a "$HERE/buildconfig" "$HERE/prepare.sh" "$HERE/system_services.sh" \
    "$HERE/utilities.sh" "$HERE/cleanup.sh" "$HERE/services" "$CONTEXT/bd_build/"
  cp -al "$ROOTFS" "$CONTEXT/rootfs" 2>/dev/null || cp -a "$ROOTFS" "$CONTEXT/rootfs"
  log "context $CONTEXT: $(du -sh --apparent-size "$CONTEXT" | cut -f1)"
}

main() {
  local base engine_name start=$SECONDS
  engine_name=$(bash "$HERE/engine.sh" name)
  base=$(resolve_base)
  assemble_context
  local args=(build --network=host
    --build-arg "BASE_IMAGE=$base"
    --build-arg "DISABLE_SYSLOG=${DISABLE_SYSLOG:-0}"
    --build-arg "DISABLE_SSH=${DISABLE_SSH:-0}"
    --build-arg "DISABLE_CRON=${DISABLE_CRON:-0}"
    --label "org.opencontainers.image.base.name=$base"
    --label "org.opencontainers.image.version=$VERSION"
    -t "$NAME:$VERSION")
  # podman: keep HEALTHCHECK (the OCI image format has no field for it), and
  # never look for the local base in a registry.
  [ "$engine_name" = podman ] && args+=(--format docker --pull=never)
  local old new
  old=$(engine image inspect --format '{{.Id}}' "$NAME:$VERSION" 2>/dev/null || true)
  log "building $NAME:$VERSION from $base with $engine_name..."
  engine "${args[@]}" "$CONTEXT"
  # Drop the image this one replaces, unless something still uses it (a
  # container, or an image built on it): rebuilds would pile up otherwise.
  new=$(engine image inspect --format '{{.Id}}' "$NAME:$VERSION" 2>/dev/null || true)
  if [ -n "$old" ] && [ "$old" != "$new" ]; then
    engine rmi "$old" >/dev/null 2>&1 || true
  fi
  log "built $NAME:$VERSION from $base in $((SECONDS - start)) s"
}

main "$@"
