#!/usr/bin/env bash
# tests/container/run.sh: the container test suite, against podman and then
# against the docker CLI and a real Docker Engine: DOCKER_HOST's or the
# default socket's if one answers, else one image/engine.sh starts
# (Debian's docker.io, on a socket and data root of its own, left running
# for later runs: `bash image/engine.sh stop-docker` stops it). Only when no
# Engine can be started does the docker half fall back, loudly, to podman's
# Docker-compatible API; its closing line then says so, and .ci/run fails.
#
# Each suite's closing line names the engine and daemon version it used:
#   container-tests: ENGINE: suite finished in N s with status S (KIND)
# KIND being "podman VERSION", "Docker Engine VERSION" or "podman VERSION
# Docker API" (the fallback).
#
#   bash tests/container/run.sh [DENO-TEST-ARGS...]
#
# Env: NAME, VERSION (the image is $NAME:$VERSION, built from this checkout
# with each engine before its suite),
# CONTAINER_ENGINES (default: $ENGINE if set, as `make test ENGINE=docker`
# does on CI, else "podman docker"), DENO_JOBS (parallel test
# files, default 4), PLATFORM (default: the host's; another one's image is
# $NAME:$VERSION-ARCH, run under QEMU's emulation: tests/container/arm64.sh),
# CONTAINER_TESTS (test files and directories, default tests/container/),
# TEST_IMAGES (derived images to build: "test sshd" by default).
# Exit code: 0 when every engine's run passed, else 1; 2 on a usage error.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
# shellcheck source=image/platform.sh
. image/platform.sh
NAME=${NAME:-baseimage-deno}
VERSION=${VERSION:-0.1.0}
PLATFORM=${PLATFORM:-}
ARCH=$(platform_arch "$PLATFORM") || exit 2
SUFFIX=$(arch_suffix "$ARCH")
IMAGE=$NAME:$VERSION$SUFFIX
DENO=${DENO:-./node_modules/.bin/deno}
ENGINES=${CONTAINER_ENGINES:-${ENGINE:-podman docker}}
TESTS=${CONTAINER_TESTS:-tests/container/}
TEST_IMAGES=${TEST_IMAGES:-test sshd}
PREFIX=bdtest-$$
API_STARTED=0
# engine -> what it was (KIND above), for the closing lines.
declare -A KINDS=()

log() { echo "container-tests: $*" >&2; }

# Removes this run's containers (named $PREFIX-...) with the given engine.
remove_containers() {
  local engine=$1 ids
  ids=$("$engine" ps -aq --filter "name=^$PREFIX-" 2>/dev/null || true)
  if [ -n "$ids" ]; then
    log "removing leftover containers of $engine: $(echo "$ids" | wc -w)"
    # shellcheck disable=SC2086 # one id per word
    "$engine" rm -f $ids >/dev/null 2>&1 || true
  fi
}

cleanup() {
  if command -v podman >/dev/null 2>&1; then remove_containers podman; fi
  # A Docker daemon of its own (not podman's API) has its own containers.
  if [ -n "${DOCKER_HOST:-}" ] || [ -S /var/run/docker.sock ]; then remove_containers docker; fi
  if [ "$API_STARTED" = 1 ]; then bash image/engine.sh stop-api; fi
}
trap cleanup EXIT

# Points the docker CLI at a Docker Engine (started if none answers: see the
# header), or, when none can be started, at podman's API socket (stopped on
# exit if started here).
setup_docker() {
  local host api_was_up=0
  if [ -S /run/podman/podman.sock ] && DOCKER_HOST=unix:///run/podman/podman.sock timeout 10 docker version >/dev/null 2>&1; then
    api_was_up=1
  fi
  host=$(ENGINE=docker bash image/engine.sh docker-host) || return 1
  if [ -n "$host" ]; then export DOCKER_HOST=$host; fi
  if [ "$host" = unix:///run/podman/podman.sock ] && [ "$api_was_up" = 0 ]; then
    API_STARTED=1
  fi
  command -v docker >/dev/null 2>&1
}

# KIND of the engine (see the header).
engine_kind() {
  if [ "$1" = podman ]; then
    echo "podman $(podman version --format '{{.Server.Version}}' 2>/dev/null || podman --version)"
  else
    bash image/engine.sh docker-kind
  fi
}

# build_replacing ENGINE TAG BUILD-ARGS...: builds TAG, then removes the image
# it replaces (unless still in use) so that reruns do not pile up images.
build_replacing() {
  local engine=$1 tag=$2 old new
  shift 2
  local flags=()
  [ "$engine" = podman ] && flags=(--format docker --pull=never)
  # Another architecture's: without it the build asks for the host's.
  [ -z "$SUFFIX" ] || flags+=(--platform "linux/$ARCH")
  old=$("$engine" image inspect --format '{{.Id}}' "$tag" 2>/dev/null || true)
  "$engine" build -q "${flags[@]}" --network=host --build-arg "IMAGE=$IMAGE" -t "$tag" "$@" >/dev/null || return 1
  new=$("$engine" image inspect --format '{{.Id}}' "$tag" 2>/dev/null || true)
  if [ -n "$old" ] && [ "$old" != "$new" ]; then
    "$engine" rmi "$old" >/dev/null 2>&1 || true
  fi
}

# Builds the derived test images with the engine under test (through the
# docker CLI too, which exercises `docker build` against our image).
build_test_images() {
  local engine=$1 start=$SECONDS
  log "$engine: building the test images ($TEST_IMAGES)..."
  case " $TEST_IMAGES " in *" test "*)
    build_replacing "$engine" "$NAME-test:$VERSION$SUFFIX" tests/container/testdata || return 1
    ;;
  esac
  case " $TEST_IMAGES " in *" sshd "*)
    build_replacing "$engine" "$NAME-test-sshd:$VERSION$SUFFIX" \
      -f tests/container/testdata/sshd.Dockerfile tests/container/testdata || return 1
    ;;
  esac
  log "$engine: test images built in $((SECONDS - start)) s"
}

run_suite() {
  local engine=$1 start=$SECONDS
  shift
  # The host's platform: built with this engine every run, never taken from
  # its store as found: `make image` builds with one engine only, and a
  # reused machine's Docker Engine then ran the suite against an image of an
  # older commit (seen: two hours older, without a fix under test). Cached
  # layers make an unchanged build take a second or two. Another platform's
  # image is built by `make image PLATFORMS=...` first (arm64.sh).
  if [ -z "$SUFFIX" ] || ! "$engine" image inspect "$IMAGE" >/dev/null 2>&1; then
    log "$engine: building $IMAGE from this checkout"
    # PLATFORMS set: the suite's one platform, whatever make exported.
    # `|| return`: run_suite runs under `if`, where set -e is off, and a
    # failed build would leave the store's older image to be tested.
    if ! PLATFORMS=$PLATFORM ENGINE=$engine bash image/build.sh; then
      log "$engine: building $IMAGE failed: FAILED"
      return 1
    fi
  fi
  # A mix-up would test the wrong runtime and pass: refuse it.
  local arch
  arch=$("$engine" image inspect --format '{{.Architecture}}' "$IMAGE")
  if [ "$arch" != "$ARCH" ]; then
    log "$engine: $IMAGE is a $arch image, not linux/$ARCH: FAILED"
    return 1
  fi
  if ! build_test_images "$engine"; then
    log "$engine: building the test images failed: FAILED"
    return 1
  fi
  log "$engine: running the suite against ${KINDS[$engine]}..."
  local status=0
  local tests retired
  read -r -a tests <<<"$TESTS"
  # Images the tests replace are removed after the suite, not while other
  # test files build (tests/container/_engine.ts, retireImage).
  retired=$(mktemp)
  RETIRED_IMAGES=$retired CONTAINER_ENGINE=$engine CONTAINER_ENGINE_KIND=${KINDS[$engine]} IMAGE=$IMAGE TEST_IMAGE="$NAME-test:$VERSION$SUFFIX" \
    SSHD_IMAGE="$NAME-test-sshd:$VERSION$SUFFIX" TEST_PREFIX="$PREFIX-$engine" \
    CONTAINER_PLATFORM="linux/$ARCH" DENO_JOBS=${DENO_JOBS:-4} \
    "$DENO" test -A --no-lock --parallel "${tests[@]}" "$@" || status=$?
  remove_containers "$engine"
  local image
  while read -r image; do
    "$engine" rmi "$image" >/dev/null 2>&1 || true
  done <"$retired"
  rm -f "$retired"
  log "$engine: suite finished in $((SECONDS - start)) s with status $status (${KINDS[$engine]})"
  return $status
}

main() {
  local failed=() passed=() engine
  bash image/engine.sh ensure
  # Another architecture's containers run under QEMU (a no-op for the host's).
  bash image/qemu_binfmt.sh "$ARCH"
  for engine in $ENGINES; do
    case "$engine" in
    podman) ;;
    docker)
      if ! setup_docker; then
        log "docker: no docker CLI and no daemon for it: FAILED"
        failed+=(docker)
        continue
      fi
      ;;
    *)
      log "unknown engine \"$engine\""
      exit 2
      ;;
    esac
    KINDS[$engine]=$(engine_kind "$engine")
    if run_suite "$engine" "$@"; then passed+=("$engine"); else failed+=("$engine"); fi
  done
  for engine in "${!KINDS[@]}"; do
    log "$engine: the suite ran against ${KINDS[$engine]}"
    case "${KINDS[$engine]}" in *"Docker API"*)
      log "$engine: WARNING: that is podman's Docker-compatible API, NOT a Docker Engine (no Engine could be started)"
      ;;
    esac
  done
  log "passed: ${passed[*]:-none}; failed: ${failed[*]:-none}"
  [ ${#failed[@]} -eq 0 ]
}

main "$@"
