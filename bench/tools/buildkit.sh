# shellcheck shell=bash disable=SC2034
# docker build with BuildKit (DOCKER_BUILDKIT=1) against the private rootful dockerd of
# bench/dockerd.sh (Debian's docker.io 20.10: BuildKit built into the daemon and the CLI, no buildx).
# Not rootless: run as root (TOOL_AS=root); the reference CI users compare with, daemon kept warm.
# cold = the image removed and BuildKit's whole build cache pruned (base images stay loaded).
# Export: `docker save` (a docker-archive, layers NOT compressed): this daemon's builder has no OCI
# exporter (`--output type=oci` fails with 'exporter "oci" could not be found'; it needs buildx
# with a docker-container builder), so to-oci = `docker build` then `docker save`.
# $DOCKER and $DOCKER_HOST come from common.sh (/usr/bin/docker, the private socket).
TOOL_AS=root
TOOL_BUILD='DOCKER_BUILDKIT=1 $DOCKER build --progress plain --network host -f {dockerfile} -t {tag} {ctx}'
TOOL_RESET='$DOCKER rmi -f {tag} >/dev/null 2>&1; $DOCKER builder prune -af >/dev/null 2>&1; true'
TOOL_EXPORT='$DOCKER save -o {out} {tag}'
TOOL_TO_OCI="$TOOL_BUILD && $TOOL_EXPORT"
# BuildKit runs inside dockerd: peak RSS is the daemon's high-water mark over the timed command
# (reset before it through /proc/PID/clear_refs), not the docker CLI's.
TOOL_MEM_RESET='echo 5 > /proc/$(cat "$BENCH_DOCKER_DIR/dockerd.pid.spawned")/clear_refs'
TOOL_MEM_READ='awk "/VmHWM/{print \$2}" /proc/$(cat "$BENCH_DOCKER_DIR/dockerd.pid.spawned")/status'
tool_version() { $DOCKER version --format 'docker {{.Server.Version}} (client {{.Client.Version}}), BuildKit built in'; }
