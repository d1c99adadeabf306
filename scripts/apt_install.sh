#!/usr/bin/env bash
# apt_install.sh: installs Debian packages for the build and the tests, the
# one way every install step takes (issue 19).
#
#   bash scripts/apt_install.sh [--no-start] PACKAGE...
#
# - Only what is missing: a package dpkg lists as installed is skipped. The
#   callers ask for a package only when the command they need is missing
#   (`command -v npm || ...`), so that a tool installed some other way
#   (NodeSource's nodejs brings npm; a static docker CLI) is never replaced
#   by Debian's.
# - Each on its own: one `apt-get install` per package. On machines whose
#   Node.js comes from NodeSource, Debian's `npm` conflicts with that
#   `nodejs`, and one transaction naming it with others fails whole ("held
#   broken packages", exit 100): nothing would be installed. Alone, a
#   package that cannot be installed fails by itself, and the message names
#   it.
# - --no-start: no daemon started by the packages' maintainer scripts
#   (docker.io's postinst starts dockerd with the default socket, data root,
#   bridge and iptables rules unless policy-rc.d forbids it). A policy-rc.d
#   that already refuses (exit 101) is kept; any other is set aside and put
#   back afterwards.
#
# `apt-get update` runs once, before the first install. apt waits up to 5 min
# for a lock another apt holds (tests install in parallel on a shared machine).
#
# Env: POLICY_RC_D (default /usr/sbin/policy-rc.d; set by scripts/
# apt_install_test.ts).
# Exit codes: 0 when every package is installed; 1 when one or more could not
# be (the others are still tried; the failures are named); 2 on a usage
# error.
set -euo pipefail

POLICY=${POLICY_RC_D:-/usr/sbin/policy-rc.d}
LOCK_WAIT=(-o DPkg::Lock::Timeout=300)
SAVED=$POLICY.baseimage-deno-saved

log() { echo "apt_install: $*" >&2; }

installed() {
  [ "$(dpkg-query -W -f '${db:Status-Status}' "$1" 2>/dev/null || true)" = installed ]
}

# Whether the policy-rc.d in place already refuses every start.
policy_refuses() {
  local status=0
  [ -x "$POLICY" ] || return 1
  "$POLICY" docker start >/dev/null 2>&1 || status=$?
  [ "$status" = 101 ]
}

guard_on() {
  policy_refuses && return 0
  if [ -e "$POLICY" ]; then mv "$POLICY" "$SAVED"; fi
  GUARDED=1
  log "$POLICY: refusing every service start during this install"
  printf '#!/bin/sh\n# Written by baseimage-deno scripts/apt_install.sh for one install.\nexit 101\n' >"$POLICY"
  chmod 755 "$POLICY"
}

guard_off() {
  [ "${GUARDED:-0}" = 1 ] || return 0
  rm -f "$POLICY"
  if [ -e "$SAVED" ]; then mv "$SAVED" "$POLICY"; fi
  GUARDED=0
  log "$POLICY: as it was"
}

main() {
  local no_start=0
  if [ "${1:-}" = --no-start ]; then
    no_start=1
    shift
  fi
  if [ $# -eq 0 ]; then
    echo "usage: apt_install.sh [--no-start] PACKAGE..." >&2
    exit 2
  fi
  local missing=() pkg
  for pkg in "$@"; do
    installed "$pkg" || missing+=("$pkg")
  done
  [ ${#missing[@]} -gt 0 ] || return 0
  [ "$(id -u)" = 0 ] || {
    log "fatal: ${missing[*]} missing and installing needs root"
    exit 1
  }
  command -v apt-get >/dev/null 2>&1 || {
    log "fatal: ${missing[*]} missing and apt-get is not there"
    exit 1
  }
  if [ "$no_start" = 1 ]; then
    trap guard_off EXIT
    guard_on
  fi
  apt-get "${LOCK_WAIT[@]}" update -qq
  local failed=()
  for pkg in "${missing[@]}"; do
    log "installing $pkg"
    DEBIAN_FRONTEND=noninteractive apt-get "${LOCK_WAIT[@]}" install -y -qq \
      --no-install-recommends "$pkg" >/dev/null || failed+=("$pkg")
  done
  guard_off
  if [ ${#failed[@]} -gt 0 ]; then
    log "fatal: could not install: ${failed[*]}"
    exit 1
  fi
}

main "$@"
