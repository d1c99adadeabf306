#!/usr/bin/env bash
# tests/container/arm64.sh: `make test-arm64`. The container tests that do not
# depend on timing, against $NAME:$VERSION-arm64 (built if missing) under
# QEMU's user-mode emulation, with podman.
#
#   bash tests/container/arm64.sh [DENO-TEST-ARGS...]
#
# Emulation makes every program several times slower, so the tests that
# bound a duration (the stop of a service that ignores TERM, stops right
# after the start, KILL_PROCESS_TIMEOUT, crash-loop and health-check
# windows, terminals) are left out; the behaviour they share with the ones
# kept is the same code as on amd64. Kept: services up and setuser (boot),
# environment, startup scripts and their failure, reaping in both modes,
# one-shot exit codes, runit restarts, the stop sequence, install_clean, the
# runtime's transparency, and platform_test.ts (the container is aarch64 and
# so is its runtime). A failed build or boot fails the run: nothing here
# skips.
#
# QEMU_ARTIFACTS: tests measured to fail under qemu-user (Debian 12's QEMU
# 7.2) for reasons of the emulator, not of arm64; ARM64_ALL=1 runs them too.
# See README, "arm64 images".
#
# Deadlines (waiting for services, for a container to end) are ten times
# the usual (TIMEOUT_SCALE): each start of the Deno runtime costs ~6 s of CPU
# under emulation (README, "arm64 images").
#
# Env: as tests/container/run.sh (NAME, VERSION, DENO_JOBS: default 2 here,
# TIMEOUT_SCALE: default 10 here), ARM64_ALL (1: QEMU_ARTIFACTS too).
# Exit code: that of run.sh (0 passed, 1 failed, 2 usage).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"

FILES=(
  tests/container/platform_test.ts
  tests/container/boot_test.ts
  tests/container/daemon_test.ts
  tests/container/oneshot_test.ts
  tests/container/shutdown_test.ts
  tests/container/install_clean_test.ts
  tests/container/transparency_test.ts
)
# Test names (beginnings) of those files that are kept.
KEEP=(
  "platform: "
  "boot: syslog-ng and cron run"
  "boot: a non-root --user"
  "env: "
  "startup scripts run in order"
  "a failing startup script"
  "daemon mode: orphans are reaped"
  "runit restarts a crashing service"
  "the README's example daemon"
  "one-shot: startup scripts"
  "one-shot: --skip-startup-files"
  "one-shot: orphans"
  "stop: graceful and fast"
  "install_clean of a bogus package"
  "\`RUN install_clean hello\`"
  "transparency: the runtime's variables"
)

QEMU_ARTIFACTS=(
  # "not executable" exits 127, not 126: qemu-user runs glibc's
  # posix_spawn (CLONE_VM|CLONE_VFORK) as a plain fork, so the exec error
  # never reaches my_init and the spawned child exits 127. The other cases
  # (0, 3, 128+15, 128+9, 127) pass.
  "one-shot: the command's exit code becomes the container's"
  # `pidof cron` never finds cron: another emulated process's
  # /proc/PID/cmdline is QEMU's own command line (the test's command waits
  # for it until the deadline).
  "transparency: no node of the runtime's"
  # /proc/self/status shows the dispositions of QEMU's host process, which
  # ignores host signal 32 (SigIgn 0000000080000000), not the program's.
  "transparency: children start with no signal"
)
if [ "${ARM64_ALL:-0}" = 1 ]; then KEEP+=("${QEMU_ARTIFACTS[@]}"); fi

# KEEP as one anchored regular expression (metacharacters escaped).
filter() {
  local out="" k
  for k in "${KEEP[@]}"; do
    out+="${out:+|}$(printf '%s' "$k" | sed 's/[][\.*^$+?(){}|/]/\\&/g')"
  done
  printf '/^(%s)/' "$out"
}

start=$SECONDS
status=0
PLATFORM=linux/arm64 CONTAINER_ENGINES=${CONTAINER_ENGINES:-${ENGINE:-podman}} TEST_IMAGES=test \
  CONTAINER_TESTS="${FILES[*]}" DENO_JOBS=${DENO_JOBS:-2} \
  TIMEOUT_SCALE=${TIMEOUT_SCALE:-10} \
  bash tests/container/run.sh --filter "$(filter)" "$@" || status=$?
echo "container-tests: arm64 (emulated) finished in $((SECONDS - start)) s with status $status" >&2
exit $status
