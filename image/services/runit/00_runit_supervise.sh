#!/bin/sh
# Debian's runit links /etc/sv/*/supervise into /run/runit/supervise; runsv
# fails with "unable to open supervise/lock" if that directory is missing,
# and a tmpfs /run starts empty at every boot.
set -eu
mkdir -p /run/runit/supervise
