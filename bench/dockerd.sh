#!/usr/bin/env bash
# The benchmark's private dockerd (rootful, BuildKit built in), the reference CI users compare with.
#
#   sudo bench/dockerd.sh start     # start it (if not running) and load the two base images
#   sudo bench/dockerd.sh stop      # stop the dockerd this script started (its PID only)
#   sudo bench/dockerd.sh status
#
# Debian's docker.io (20.10): /usr/sbin/dockerd and /usr/bin/docker named explicitly (another docker
# earlier on PATH, e.g. a static /usr/local/bin/docker >= 23, would want the buildx plugin for
# DOCKER_BUILDKIT=1; the 20.10 CLI has BuildKit built in, so no docker-buildx package is needed).
# Everything lives under $BENCH_DOCKER_DIR (default $BENCH_WORK/docker): data root, exec root,
# socket, pid file, log. The host is left alone: no iptables rules, no bridge, no ip_forward change
# (builds use --network host), and the system docker socket (if any) is never used.
# From the peer lab's tools/docker-up.sh / docker-down.sh (/work/shared/bench).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
need_root
D=$BENCH_DOCKER_DIR
export DOCKER_HOST

running_pid() {
  local p
  [ -f "$D/dockerd.pid.spawned" ] || return 1
  p=$(cat "$D/dockerd.pid.spawned")
  kill -0 "$p" 2>/dev/null && grep -qa "$DOCKERD" "/proc/$p/cmdline" 2>/dev/null && grep -qa -- "$D/data" "/proc/$p/cmdline" || return 1
  echo "$p"
}

start() {
  [ -x "$DOCKERD" ] && [ -x "$DOCKER" ] || {
    log "installing docker.io"; apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null; }
  mkdir -p "$D/data" "$D/exec"
  if p=$(running_pid); then
    log "dockerd already running (pid $p)"
  else
    nohup "$DOCKERD" --data-root "$D/data" --exec-root "$D/exec" -H "$DOCKER_HOST" --pidfile "$D/dockerd.pid" \
      --storage-driver overlay2 --iptables=false --ip6tables=false --bridge=none --ip-forward=false \
      > "$D/dockerd.log" 2>&1 < /dev/null &
    echo $! > "$D/dockerd.pid.spawned"
    for _ in $(seq 60); do
      "$DOCKER" info >/dev/null 2>&1 && break
      kill -0 "$(cat "$D/dockerd.pid.spawned")" 2>/dev/null || break
      sleep 1
    done
    "$DOCKER" info >/dev/null 2>&1 || { tail -30 "$D/dockerd.log" >&2; die "dockerd did not come up (log: $D/dockerd.log)"; }
    log "dockerd up (pid $(cat "$D/dockerd.pid.spawned"), socket $DOCKER_HOST)"
  fi
  "$DOCKER" info --format 'storage={{.Driver}} cgroup={{.CgroupDriver}}/v{{.CgroupVersion}} server={{.ServerVersion}}' >&2
  # docker 20.10 loads docker-archive tars only (OCI archives: docker >= 25); setup.sh writes both
  for img in busybox "debian-$DEBIAN_SUITE"; do
    [ -s "$BENCH_IMAGES/$img.docker.tar" ] || die "no $BENCH_IMAGES/$img.docker.tar: run bench/setup.sh"
    "$DOCKER" load -q -i "$BENCH_IMAGES/$img.docker.tar" >&2
  done
}

stop() {
  local p
  if p=$(running_pid); then
    log "stopping dockerd pid $p"; kill -TERM "$p"
    for _ in $(seq 30); do kill -0 "$p" 2>/dev/null || break; sleep 1; done
    kill -0 "$p" 2>/dev/null && die "dockerd pid $p still running after 30 s"
  else
    log "no dockerd of ours running"
  fi
  rm -f "$D/dockerd.pid.spawned"
}

case ${1:-} in
  start) start ;;
  stop) stop ;;
  status) if p=$(running_pid); then echo "running (pid $p, $DOCKER_HOST)"; else echo "not running"; exit 1; fi ;;
  *) die "usage: $0 start|stop|status" ;;
esac
