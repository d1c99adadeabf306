#!/bin/bash
# make bench: installs the peer inits and tools from Debian when missing
# (python3 for phusion's my_init and setuser, which are run from
# PHUSION_DIR, never copied), then runs the harness (bench/main.ts). Knobs:
# BENCH_RUNS=N, BENCH_ONLY=1,3, BENCH_README=0|1, BENCH_CHURN_SECONDS=N,
# BENCH_CHURN_PHUSION=1, PHUSION_DIR, PHUSION_IMAGE (see bench/main.ts).
# The container figures (9, 10) need the image (`make bench` builds it
# first) and podman; figure 11 takes 10 minutes. Exit codes: the harness's
# (0 ran, 1 could not run); 1 when a package cannot be installed.
set -euo pipefail
cd "$(dirname "$0")/.."

# command -> Debian package
declare -A NEEDS=(
  [tini]=tini
  [dumb-init]=dumb-init
  [catatonit]=catatonit
  [runsvdir]=runit
  [chpst]=runit
  [setpriv]=util-linux
  [unshare]=util-linux
  [hyperfine]=hyperfine
  [sv]=runit
  [python3]=python3
)
missing=()
for cmd in "${!NEEDS[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${NEEDS[$cmd]}")
done
if ((${#missing[@]})); then
  pkgs=$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')
  echo "bench: installing from Debian: $pkgs" >&2
  if [ "$(id -u)" -ne 0 ]; then
    echo "bench: fatal: not root: cannot install $pkgs" >&2
    exit 1
  fi
  # Each on its own, no service started by their maintainer scripts
  # (runit's): scripts/apt_install.sh.
  # shellcheck disable=SC2086 # pkgs is a space-separated list of package names
  bash scripts/apt_install.sh --no-start $pkgs
fi

DENO=${DENO:-./node_modules/.bin/deno}
exec "$DENO" run --allow-all --no-config --no-lock bench/main.ts
