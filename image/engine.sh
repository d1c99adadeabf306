#!/usr/bin/env bash
# engine.sh: the one place that knows which container engine we drive.
#
#   bash image/engine.sh ensure        make sure an engine answers (installs and
#                                      configures podman + runc from apt if
#                                      neither docker nor podman does)
#   bash image/engine.sh name          print the chosen engine (docker|podman)
#   bash image/engine.sh run ARGS...   run the chosen engine with ARGS
#   bash image/engine.sh docker-host   print the DOCKER_HOST for the docker
#                                      CLI ("" when DOCKER_HOST or the default
#                                      socket answers), starting our own
#                                      Docker Engine if none answers (below)
#   bash image/engine.sh docker-kind   print what the docker CLI talks to:
#                                      "Docker Engine VERSION" or "podman
#                                      VERSION Docker API"
#   bash image/engine.sh stop-docker   stop the Docker Engine started here
#   bash image/engine.sh docker-api    start podman's Docker-compatible API
#                                      socket and print its DOCKER_HOST
#   bash image/engine.sh stop-api      stop the API service started above
#
# Choice: $ENGINE if set (docker or podman); else docker when `docker info`
# works; else podman.
#
# With ENGINE=docker and no Docker Engine answering, a real one is started:
# Debian's docker.io (installed without letting its maintainer scripts start
# a daemon: scripts/apt_install.sh --no-start), its dockerd with a socket,
# data root, exec root, pidfile and log of its own (the paths below; never
# the host's /var/run/docker.sock or /var/lib/docker), and no iptables rules
# and no bridge, so that the host's network is not changed: builds use
# --network=host, containers --network=none or host. dockerd starts its own
# containerd under the exec root. It stays up for later runs;
# `bash image/engine.sh stop-docker` (make stop-engines) stops it; the data
# root keeps its images (rm -rf it to free the space).
#
# Only when that Engine cannot be installed or started does the docker CLI
# fall back to podman's Docker-compatible API (`podman system service`),
# with a loud warning: through it `docker stop` without -t kills at once and
# `docker run --rm` reports exit code 0 whatever the command's. docker-kind
# tells the two apart (tests/container/run.sh prints it; .ci/run fails a
# docker suite that ran against podman).
#
# Exit codes: that of the engine for `run`; 1 when no engine can be found or
# installed; 2 on a usage error.
set -euo pipefail

PODMAN_SOCKET_DIR=/run/podman
PODMAN_SOCKET=$PODMAN_SOCKET_DIR/podman.sock
PODMAN_SERVICE_PIDFILE=$PODMAN_SOCKET_DIR/baseimage-deno-service.pid
# Our Docker Engine's paths (the socket path must stay short: < 108 bytes).
DOCKERD_RUN=/run/baseimage-deno-docker
DOCKERD_SOCKET=$DOCKERD_RUN/docker.sock
DOCKERD_PIDFILE=$DOCKERD_RUN/dockerd.pid
DOCKERD_EXEC_ROOT=$DOCKERD_RUN/exec
DOCKERD_DATA_ROOT=/var/lib/baseimage-deno-docker
DOCKERD_LOG=/var/log/baseimage-deno-dockerd.log
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# Ours; named so that it can be found and removed again.
PODMAN_CONF=/etc/containers/containers.conf.d/50-baseimage-deno.conf

log() { echo "engine: $*" >&2; }
fatal() {
  echo "engine: fatal: $*" >&2
  exit 1
}

docker_answers() {
  command -v docker >/dev/null 2>&1 && timeout 20 docker info >/dev/null 2>&1
}

podman_installed() { command -v podman >/dev/null 2>&1; }

# The drop-in that makes rootful podman work on hosts with hybrid cgroups and
# low hard limits: crun refuses hybrid cgroups ("cgroups in hybrid mode not
# supported"), hence runc; podman's default ulimits for root (1048576) exceed
# such hosts' hard limits and `podman run` fails with EPERM.
configure_podman() {
  [ "$(id -u)" = 0 ] || return 0
  [ -e "$PODMAN_CONF" ] && return 0
  if ls /etc/containers/containers.conf.d/*.conf >/dev/null 2>&1; then
    log "keeping the existing /etc/containers/containers.conf.d/ configuration"
    return 0
  fi
  log "writing $PODMAN_CONF (runtime runc, ulimits within the host's limits)"
  mkdir -p "$(dirname "$PODMAN_CONF")"
  # nofile: the host's hard limit (at most 1048576). nproc: 4096, measured
  # to work (higher values failed with EPERM on hosts whose hard limit was
  # well above them).
  local nofile nproc=4096
  nofile=$(ulimit -Hn)
  if [ "$nofile" = unlimited ] || [ "$nofile" -gt 1048576 ]; then nofile=1048576; fi
  cat >"$PODMAN_CONF.new" <<EOF
# Written by baseimage-deno's image/engine.sh. Safe to delete.
[containers]
default_ulimits = ["nofile=${nofile}:${nofile}", "nproc=${nproc}:${nproc}"]
[engine]
runtime = "runc"
EOF
  mv "$PODMAN_CONF.new" "$PODMAN_CONF"
}

install_podman() {
  [ "$(id -u)" = 0 ] || fatal "no container engine answers and installing podman needs root"
  command -v apt-get >/dev/null 2>&1 || fatal "no container engine answers and apt-get is missing: install docker or podman"
  log "installing podman and runc from apt (no engine answers, or runc is missing)..."
  local pkgs=()
  podman_installed || pkgs+=(podman)
  command -v runc >/dev/null 2>&1 || pkgs+=(runc)
  bash "$HERE/../scripts/apt_install.sh" "${pkgs[@]}" || fatal "could not install ${pkgs[*]}"
  log "podman installed: $(podman --version)"
}

# The chosen engine's name, without side effects.
engine_name() {
  case "${ENGINE:-}" in
  docker | podman)
    echo "$ENGINE"
    return
    ;;
  "") ;;
  *) fatal "ENGINE must be docker or podman, not \"$ENGINE\"" ;;
  esac
  if docker_answers; then
    echo docker
  else
    echo podman
  fi
}

api_answers() {
  [ -S "$PODMAN_SOCKET" ] &&
    DOCKER_HOST="unix://$PODMAN_SOCKET" timeout 10 docker version >/dev/null 2>&1
}

# Starts `podman system service` on $PODMAN_SOCKET unless something answers
# there already; records its pid so that stop-api ends only what we started.
start_api() {
  command -v docker >/dev/null 2>&1 || fatal "the docker CLI is not installed"
  if api_answers; then
    return 0
  fi
  podman_installed || fatal "podman is not installed (run: bash image/engine.sh ensure)"
  mkdir -p "$PODMAN_SOCKET_DIR"
  rm -f "$PODMAN_SOCKET"
  log "starting podman's Docker API on unix://$PODMAN_SOCKET"
  setsid podman system service --time=0 "unix://$PODMAN_SOCKET" \
    </dev/null >/dev/null 2>"$PODMAN_SOCKET_DIR/baseimage-deno-service.log" &
  echo $! >"$PODMAN_SERVICE_PIDFILE"
  for _ in $(seq 1 100); do
    api_answers && return 0
    sleep 0.1
  done
  fatal "podman system service did not answer on $PODMAN_SOCKET within 10 s (see $PODMAN_SOCKET_DIR/baseimage-deno-service.log)"
}

stop_api() {
  [ -f "$PODMAN_SERVICE_PIDFILE" ] || return 0
  local pid
  pid=$(cat "$PODMAN_SERVICE_PIDFILE")
  if kill "$pid" 2>/dev/null; then
    log "stopped podman's Docker API (pid $pid)"
  fi
  rm -f "$PODMAN_SERVICE_PIDFILE"
}

ours_answers() {
  [ -S "$DOCKERD_SOCKET" ] &&
    DOCKER_HOST="unix://$DOCKERD_SOCKET" timeout 20 docker info >/dev/null 2>&1
}

# Installs Debian's docker.io (dockerd, containerd, runc, and a docker CLI
# where none is) without letting it start a daemon of its own.
install_docker() {
  command -v dockerd >/dev/null 2>&1 && return 0
  [ "$(id -u)" = 0 ] || {
    log "dockerd is missing and installing docker.io needs root"
    return 1
  }
  log "installing Debian's docker.io (no daemon started by the package)..."
  bash "$HERE/../scripts/apt_install.sh" --no-start docker.io || return 1
}

# Starts our dockerd unless it answers already; 1 when it cannot be.
# Serialised by a lock: parallel runs start one daemon.
start_docker() {
  ours_answers && return 0
  install_docker || return 1
  command -v docker >/dev/null 2>&1 || {
    log "the docker CLI is missing"
    return 1
  }
  mkdir -p "$DOCKERD_RUN"
  (
    flock 9
    ours_answers && exit 0
    # A daemon of ours that does not answer (hung, or half dead): end it.
    # (The daemon must not inherit the lock: 9>&- below.)
    stop_docker
    rm -f "$DOCKERD_SOCKET"
    log "starting dockerd $(dockerd --version | sed 's/^Docker version //') on unix://$DOCKERD_SOCKET (log: $DOCKERD_LOG)"
    # nsenter --net would isolate it further; `ip netns exec` must not be
    # used: it remounts /sys and hides the cgroup mounts ("Devices cgroup
    # isn't mounted").
    setsid dockerd \
      --host "unix://$DOCKERD_SOCKET" \
      --data-root "$DOCKERD_DATA_ROOT" \
      --exec-root "$DOCKERD_EXEC_ROOT" \
      --pidfile "$DOCKERD_PIDFILE" \
      --iptables=false --ip6tables=false --bridge=none \
      </dev/null >>"$DOCKERD_LOG" 2>&1 9>&- &
    # About 2 s when idle; much more on a loaded machine.
    local pid=$! why="did not answer on $DOCKERD_SOCKET within 60 s"
    for _ in $(seq 1 240); do
      ours_answers && exit 0
      if ! kill -0 "$pid" 2>/dev/null; then
        why="exited"
        break
      fi
      sleep 0.25
    done
    log "dockerd $why; the end of $DOCKERD_LOG:"
    tail -n 15 "$DOCKERD_LOG" >&2 || true
    exit 1
  ) 9>"$DOCKERD_RUN/lock"
}

# Stops our dockerd (its pidfile's process), waiting for it to exit: it
# stops its containers first (each with its stop timeout) and then its
# containerd.
stop_docker() {
  [ -f "$DOCKERD_PIDFILE" ] || return 0
  local pid
  pid=$(cat "$DOCKERD_PIDFILE")
  if [ -z "$pid" ] || [ "$(cat "/proc/$pid/comm" 2>/dev/null)" != dockerd ]; then
    rm -f "$DOCKERD_PIDFILE"
    return 0
  fi
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 120); do
    kill -0 "$pid" 2>/dev/null || {
      log "stopped dockerd (pid $pid)"
      return 0
    }
    sleep 0.25
  done
  log "dockerd (pid $pid) still runs 30 s after TERM: killing it"
  kill -KILL "$pid" 2>/dev/null || true
}

fallback_banner() {
  cat >&2 <<MSG
engine: ************************************************************************
engine: WARNING: no Docker Engine: $1.
engine: The docker CLI talks to podman's Docker-compatible API instead. It is
engine: NOT a Docker Engine: \`docker stop\` without -t kills at once, and
engine: \`docker run --rm\` reports exit code 0 whatever the command's.
engine: ************************************************************************
MSG
}

# The DOCKER_HOST for the docker CLI: "" when DOCKER_HOST or the default
# socket answers; else our Engine's (started); else, loudly, podman's API.
docker_host() {
  if docker_answers; then
    echo "${DOCKER_HOST:-}"
    return 0
  fi
  if [ -n "${DOCKER_HOST:-}" ] && [ "$DOCKER_HOST" != "unix://$DOCKERD_SOCKET" ]; then
    fatal "DOCKER_HOST=$DOCKER_HOST does not answer"
  fi
  if start_docker; then
    echo "unix://$DOCKERD_SOCKET"
    return 0
  fi
  fallback_banner "dockerd could not be installed or started (see above)"
  if ! podman_installed || ! command -v runc >/dev/null 2>&1; then install_podman; fi
  configure_podman
  start_api
  echo "unix://$PODMAN_SOCKET"
}

# What the docker CLI talks to (with the environment's DOCKER_HOST).
docker_kind() {
  local components version
  components=$(timeout 20 docker version --format '{{range .Server.Components}}{{.Name}};{{end}}' 2>/dev/null) ||
    fatal "the docker CLI reaches no daemon${DOCKER_HOST:+ at $DOCKER_HOST}"
  version=$(timeout 20 docker version --format '{{.Server.Version}}')
  case "$components" in
  *Podman*) echo "podman $version Docker API" ;;
  *) echo "Docker Engine $version" ;;
  esac
}

ensure() {
  local engine
  engine=$(engine_name)
  if [ "$engine" = docker ]; then
    command -v docker >/dev/null 2>&1 || install_docker ||
      fatal "the docker CLI is not installed"
    DOCKER_HOST=$(docker_host)
    export DOCKER_HOST
    log "using the docker CLI with $(docker_kind)${DOCKER_HOST:+ (DOCKER_HOST=$DOCKER_HOST)}"
    return 0
  fi
  if ! podman_installed || ! command -v runc >/dev/null 2>&1; then install_podman; fi
  configure_podman
  timeout 60 podman info >/dev/null || fatal "podman is installed but \`podman info\` fails"
  log "using podman ($(podman --version))"
}

run_engine() {
  local engine
  engine=$(engine_name)
  if [ "$engine" = docker ] && ! docker_answers; then
    DOCKER_HOST=$(docker_host)
    export DOCKER_HOST
  fi
  exec "$engine" "$@"
}

main() {
  [ $# -ge 1 ] || {
    echo "usage: engine.sh ensure|name|run ARGS...|docker-host|docker-kind|stop-docker|docker-api|stop-api" >&2
    exit 2
  }
  local cmd=$1
  shift
  case "$cmd" in
  ensure) ensure ;;
  name) engine_name ;;
  run) run_engine "$@" ;;
  docker-host) docker_host ;;
  docker-kind) docker_kind ;;
  stop-docker) stop_docker ;;
  docker-api)
    start_api
    echo "unix://$PODMAN_SOCKET"
    ;;
  stop-api) stop_api ;;
  *)
    echo "engine.sh: unknown command \"$cmd\"" >&2
    exit 2
    ;;
  esac
}

main "$@"
