# shellcheck shell=sh
# /etc/profile.d/container_environment.sh: login shells load the container
# environment my_init wrote (README, "Environment variables"). As root, it
# is /etc/container_environment.sh (a link to /run on a read-only root); in
# non-root mode, the dump in the first of /run, /tmp and /dev/shm where the
# uid could write (README, "Running without root"), which the link to /run
# does not reach when /run is root's. Empty files (the image's placeholder)
# are passed over, and only a file of root's or of the shell's own user is
# read: /tmp and /dev/shm are everyone's.
for container_environment_sh in /etc/container_environment.sh \
  /run/container_environment.sh /tmp/container_environment.sh \
  /dev/shm/container_environment.sh; do
  if [ -r "$container_environment_sh" ] && [ -s "$container_environment_sh" ]; then
    case $(stat -L -c %u "$container_environment_sh" 2>/dev/null) in
    0 | "$(id -u)")
      # shellcheck source=/dev/null # written by my_init at boot
      . "$container_environment_sh"
      break
      ;;
    esac
  fi
done
unset container_environment_sh
