#!/usr/bin/env bash
# demo.sh: boots a demo container of $NAME:$VERSION and shows it working:
# my_init's boot log, the runit services, syslog in the container log, the
# health check. Leaves the container running and prints how to use it.
#
#   bash image/demo.sh            (`make demo` builds the image first)
#
# Env: NAME, VERSION, ENGINE (see engine.sh), DEMO_NAME (container name,
# default $NAME-demo; an old one of that name is replaced).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NAME=${NAME:-baseimage-deno}
VERSION=${VERSION:-0.1.0}
IMAGE=$NAME:$VERSION
DEMO=${DEMO_NAME:-$NAME-demo}
ENGINE=$(bash "$HERE/engine.sh" name)
export ENGINE
# docker without a Docker Engine answering: the one engine.sh starts (its own
# socket), which the commands printed at the end need too.
HOST_HINT=
if [ "$ENGINE" = docker ]; then
  DOCKER_HOST=$(bash "$HERE/engine.sh" docker-host)
  if [ -n "$DOCKER_HOST" ]; then
    export DOCKER_HOST
    HOST_HINT="    export DOCKER_HOST=$DOCKER_HOST   # $(bash "$HERE/engine.sh" docker-kind), started by image/engine.sh
"
  else
    unset DOCKER_HOST
  fi
fi

# podman without systemd logs an error per container about its health check
# timers; the health check itself works (we run it below). Output merged in
# order, that noise dropped, the engine's exit code kept.
engine() {
  bash "$HERE/engine.sh" run "$@" 2>&1 | { grep -v 'systemd connection' || true; }
  return "${PIPESTATUS[0]}"
}
step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

step "Starting $DEMO from $IMAGE with $ENGINE"
engine rm -f "$DEMO" >/dev/null 2>&1 || true
engine run -d --name "$DEMO" --hostname "$DEMO" "$IMAGE" >/dev/null
echo "started: $ENGINE run -d --name $DEMO $IMAGE"

step "Waiting until every enabled service is up (/sbin/my_init --status)"
ok=0
for _ in $(seq 1 60); do
  if engine exec "$DEMO" /sbin/my_init --status >/dev/null 2>&1; then
    ok=1
    break
  fi
  sleep 0.5
done
if [ $ok = 0 ]; then
  echo "demo: services did not come up within 30 s; the container's log:" >&2
  engine logs "$DEMO" >&2 || true
  exit 1
fi
engine exec "$DEMO" /sbin/my_init --status || true

step "runit services (sv status /etc/service/*)"
engine exec "$DEMO" sh -c 'sv status /etc/service/*'

step "Processes"
engine exec "$DEMO" ps -eo pid,ppid,user,comm

step "A syslog message (logger) shows up in the container's log"
engine exec "$DEMO" logger -t demo "hello from $DEMO"
sleep 0.5

step "Health check"
if [ "$ENGINE" = podman ]; then
  engine healthcheck run "$DEMO" && echo "healthy"
else
  status=$(engine inspect --format '{{if .State.Health}}{{.State.Health.Status}}{{end}}' "$DEMO")
  echo "health: ${status:-unknown} (the engine runs the check every 30 s; docker ps shows it)"
fi

step "The container's log ($ENGINE logs $DEMO)"
engine logs "$DEMO"

cat <<MSG

==> $DEMO is running. Try:
$HOST_HINT    $ENGINE exec -it $DEMO bash -l          # a shell (or: image/tools/docker-bash $DEMO)
    $ENGINE exec $DEMO sh -c 'sv status /etc/service/*'
    $ENGINE logs -f $DEMO
    $ENGINE stop $DEMO && $ENGINE rm $DEMO  # graceful shutdown, then remove
MSG
if [ -n "$HOST_HINT" ]; then
  echo "    make stop-engines                        # then stop that Docker Engine"
fi
