# shellcheck shell=bash
# platform.sh: sourced by the image scripts; the one place of the shell side
# that maps container platforms (linux/amd64, linux/arm64) to architectures,
# tag suffixes and QEMU's emulators (the runtime's npm package per platform is
# scripts/build.ts's PLATFORMS).
#
# The host's platform keeps the names it always had (NAME:VERSION,
# localhost/debian:bookworm, dist/rootfs); another platform's get an -ARCH
# suffix, so that building for it never replaces the host's image silently.

# The platforms the image is built for (Debian and Ubuntu both ship them;
# Deno publishes a glibc runtime for both).
KNOWN_PLATFORMS="linux/amd64 linux/arm64"

# machine_arch MACHINE: the architecture in container terms (amd64, arm64)
# of a machine name as `uname -m` prints it.
machine_arch() {
  case "$1" in
  x86_64) echo amd64 ;;
  aarch64 | arm64) echo arm64 ;;
  *) echo "$1" ;;
  esac
}

# Prints the host's architecture in container terms (amd64, arm64).
host_arch() {
  machine_arch "$(uname -m)"
}

# platform_arch PLATFORM: prints the architecture of PLATFORM (empty = the
# host's); exits 2 for a platform we do not build.
platform_arch() {
  local platform=${1:-linux/$(host_arch)}
  case " $KNOWN_PLATFORMS " in
  *" $platform "*) echo "${platform#linux/}" ;;
  *)
    echo "platform: \"$platform\" is not one of: $KNOWN_PLATFORMS" >&2
    exit 2
    ;;
  esac
}

# arch_suffix ARCH: "" for the host's architecture, else "-ARCH".
arch_suffix() {
  if [ "$1" = "$(host_arch)" ]; then echo ""; else echo "-$1"; fi
}

# qemu_name ARCH: the name of QEMU's user-mode emulator for ARCH.
qemu_name() {
  case "$1" in
  amd64) echo x86_64 ;;
  arm64) echo aarch64 ;;
  *) echo "$1" ;;
  esac
}
