#!/usr/bin/env bash
# engine.sh: the one place that knows which container engine we drive.
#
#   bash image/engine.sh ensure        make sure an engine answers (installs and
#                                      configures podman + runc from apt if
#                                      neither docker nor podman does)
#   bash image/engine.sh name          print the chosen engine (docker|podman)
#   bash image/engine.sh run ARGS...   run the chosen engine with ARGS
#   bash image/engine.sh docker-api    start podman's Docker-compatible API
#                                      socket if no docker daemon answers, and
#                                      print the DOCKER_HOST to use
#   bash image/engine.sh stop-api      stop the API service started above
#
# Choice: $ENGINE if set (docker or podman); else docker when `docker info`
# works; else podman. With ENGINE=docker and no Docker daemon, the docker CLI
# is pointed at podman's API socket (`podman system service`: build, run,
# exec, logs, stop, wait and inspect work through it, but `docker run --rm`
# always reports exit code 0).
#
# Exit codes: that of the engine for `run`; 1 when no engine can be found or
# installed; 2 on a usage error.
set -euo pipefail

PODMAN_SOCKET_DIR=/run/podman
PODMAN_SOCKET=$PODMAN_SOCKET_DIR/podman.sock
PODMAN_SERVICE_PIDFILE=$PODMAN_SOCKET_DIR/baseimage-deno-service.pid
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
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    podman runc >/dev/null
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

ensure() {
  local engine
  engine=$(engine_name)
  if [ "$engine" = docker ] && docker_answers; then
    log "using docker ($(docker version --format '{{.Server.Version}}' 2>/dev/null || echo '?'))"
    return 0
  fi
  if ! podman_installed || ! command -v runc >/dev/null 2>&1; then install_podman; fi
  configure_podman
  if [ "$engine" = docker ]; then
    start_api
    log "using the docker CLI against podman's API (DOCKER_HOST=unix://$PODMAN_SOCKET)"
  else
    timeout 60 podman info >/dev/null || fatal "podman is installed but \`podman info\` fails"
    log "using podman ($(podman --version))"
  fi
}

run_engine() {
  local engine
  engine=$(engine_name)
  if [ "$engine" = docker ] && [ -z "${DOCKER_HOST:-}" ] && ! docker_answers; then
    start_api
    export DOCKER_HOST="unix://$PODMAN_SOCKET"
  fi
  exec "$engine" "$@"
}

main() {
  [ $# -ge 1 ] || {
    echo "usage: engine.sh ensure|name|run ARGS...|docker-api|stop-api" >&2
    exit 2
  }
  local cmd=$1
  shift
  case "$cmd" in
  ensure) ensure ;;
  name) engine_name ;;
  run) run_engine "$@" ;;
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
