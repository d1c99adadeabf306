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
# So a dump is loaded only when it is a regular file (not a link) with one
# name (no hard link to another user's or to a root-owned script), owned by
# root or by the shell's own user, not writable by group or others, and not
# empty (the image's placeholder in /run is empty). The first that qualifies
# wins; none is no error (a RUN step of a derived image, before my_init
# ran): status 0 and nothing loaded, as the image's empty dump gave.
#
# The checks are made on the file as opened, and what is loaded is what was
# read from that descriptor: checking the path and then sourcing the path
# would let another user rename a file into place in between, in a directory
# others may write without the sticky bit (a Kubernetes emptyDir on /run or
# /tmp is mode 0777). The entry at the path, not followed, must be the file
# opened, so a link, or a file renamed in after the open, is passed over.
# Each candidate is read in a subshell: whatever fails there (no such file,
# no stat or cat on PATH, a redirection error) ends only the subshell, never
# the caller, also under `set -eu`. POSIX sh, for dash, bash and busybox;
# the two variables it uses are overwritten, then unset.
for __container_environment_sh in /etc/container_environment.sh \
  /run/container_environment.sh /tmp/container_environment.sh \
  /dev/shm/container_environment.sh; do
  __container_environment_text=$(
    exec 2>/dev/null <"$__container_environment_sh" || exit 1
    # Device:inode, links, mode string (%A: char 1 the type, 6 group write,
    # 9 others' write) and owner of what was opened; then the path's own.
    # shellcheck disable=SC2046 # split into the five fields on purpose
    set -- $(stat -L -c '%d:%i %h %A %u' /dev/stdin) \
      "$(stat -c '%d:%i' -- "$__container_environment_sh")"
    [ $# -eq 5 ] && [ "$1" = "$5" ] && [ "$2" = 1 ] || exit 1
    case $3 in -????[!w]??[!w]?) ;; *) exit 1 ;; esac
    [ "$4" = 0 ] || [ -O /dev/stdin ] || exit 1
    cat
  ) || __container_environment_text=
  if [ -n "$__container_environment_text" ]; then
    eval "$__container_environment_text"
    break
  fi
done
unset __container_environment_sh __container_environment_text
