#!/bin/bash
# Runs a command as PID 1 of new PID and mount namespaces, chrooted into an
# overlay of the host's root: the test's fixture files (etc/service,
# etc/my_init.d, ...) are laid over it and all writes stay in a tmpfs, so
# my_init sees its real paths without the host being touched.
#
# Usage (as root): unshare --pid --fork --kill-child --mount \
#   --propagation private bash sandbox.sh FIXTURE_DIR SHARED_DIR PROC(yes|no) \
#   -- COMMAND [ARGS...]
# FIXTURE_DIR is copied over /; SHARED_DIR is bind-mounted at /shared.
# The COMMAND is exec'd as the namespace's PID 1; --kill-child makes it (and
# so the whole namespace) die with unshare, however unshare dies: a run that
# hangs ends when _sandbox.ts kills it.
set -euo pipefail
fixture=$1 shared=$2 proc=$3
shift 3
[ "$1" = "--" ] && shift
# One fixed path serves every sandbox: each mounts its own tmpfs on it.
t=/tmp/.ns-sandbox
mkdir -p "$t"
mount -t tmpfs tmpfs "$t"
mkdir "$t/upper" "$t/work" "$t/root"
# Empty service and startup dirs unless the fixture brings its own: the
# host's runit package ships enabled services that must not start here.
mount -t overlay overlay -o "lowerdir=/,upperdir=$t/upper,workdir=$t/work" "$t/root"
r=$t/root
# Nothing of the host's my_init state shows through: only the fixture's.
rm -rf "$r/etc/service" "$r/etc/my_init.d" "$r/etc/my_init.pre_shutdown.d" \
  "$r/etc/my_init.post_shutdown.d" "$r/etc/container_environment" \
  "$r/etc/container_environment.sh" "$r/etc/container_environment.json" \
  "$r/etc/rc.local"
# As the image has them: my_init exports the environment only into an
# existing /etc/container_environment (phusion's rule).
mkdir -p "$r/etc/service" "$r/etc/my_init.d"
mkdir -m 0700 "$r/etc/container_environment"
cp -a "$fixture/." "$r/"
if [ "$proc" = yes ]; then mount -t proc proc "$r/proc"; fi
mount --rbind /dev "$r/dev"
# The repository (dist/ with the tools under test) at its own path, also
# when it lives on another filesystem than / (the overlay shows only /'s).
repo=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$r$repo"
mount --bind "$repo" "$r$repo"
mount -t tmpfs tmpfs "$r/run"
mkdir -p "$r/run/runit/supervise" "$r/shared"
mount --bind "$shared" "$r/shared"
cd "$r"
exec chroot "$r" "$@"
