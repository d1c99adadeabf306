# shellcheck shell=sh
# /usr/share/baseimage-deno/load_container_environment.sh: loads the
# container environment my_init wrote (README, "Environment variables") into
# the shell that sources it. The image's /etc/container_environment.sh links
# here (and /etc/profile.d/container_environment.sh to that), because where
# the dump is depends on the mode: on a writable root my_init replaces that
# link with the dump itself, as phusion's has it; on a read-only root it
# writes /run/container_environment.sh; in non-root mode, the first of /run,
# /tmp and /dev/shm where its uid could write (README, "Running without
# root"). A static link cannot lead to all of these, and a link into /tmp or
# /dev/shm would let any user plant the file a root shell sources.
#
# So a dump is sourced only when it is a regular file (not a link) with one
# name (no hard link to another user's or to a root-owned script), owned by
# root or by the shell's own user, not writable by group or others, readable
# and not empty (the image's placeholder in /run is empty). The first that
# qualifies wins; none is no error (a RUN step of a derived image, before
# my_init ran): status 0 and nothing loaded, as the image's empty dump gave.
# POSIX sh, for dash, bash and `set -eu` callers; the two names it uses are
# unset again.
__container_environment_uid=$(id -u)
for __container_environment_sh in /etc/container_environment.sh \
  /run/container_environment.sh /tmp/container_environment.sh \
  /dev/shm/container_environment.sh; do
  # %A is ls's mode string: char 1 the type, 6 group write, 9 others' write.
  case $(stat -c '%u %h %A' -- "$__container_environment_sh" 2>/dev/null) in
  "0 1 -"????[!w]??[!w]? | "$__container_environment_uid 1 -"????[!w]??[!w]?)
    if [ -r "$__container_environment_sh" ] && [ -s "$__container_environment_sh" ]; then
      # shellcheck source=/dev/null # written by my_init at boot
      . "$__container_environment_sh"
      break
    fi
    ;;
  esac
done
unset __container_environment_sh __container_environment_uid
