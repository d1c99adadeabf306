#!/bin/sh
# runsv keeps a service's state in its `supervise` directory. The image's
# services (and Debian's packaged ones, /etc/sv/*) have it as a link into
# /run/runit/supervise, so that nothing is written under /etc at boot and
# the root file system may be read-only (README, "Read-only root"). A tmpfs
# /run starts empty at every boot, and runsv fails with "unable to open
# supervise/lock" where the link leads nowhere: make each link's directory.
set -eu
# Non-root mode: my_init gives runsv a service tree of its own, with the
# supervise directories in it (README, "Running without root").
if [ "$(id -u)" != 0 ]; then exit 0; fi
if [ ! -w /run ]; then
  echo "00_runit_supervise.sh: fatal: /run is read-only, and runit keeps its services' state there: mount a tmpfs on /run (docker run --tmpfs /run; README, \"Read-only root\")" >&2
  exit 1
fi
mkdir -p /run/runit/supervise
for link in /etc/service/*/supervise /etc/service/*/log/supervise; do
  if [ -L "$link" ]; then mkdir -p "$(readlink -m "$link")"; fi
done
