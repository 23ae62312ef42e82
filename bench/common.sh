# shellcheck shell=bash
# Settings and helpers for nbuild's benchmark (bench/). Sourced by every script here.
# Adapted from the peer lab (/work/shared/bench/common.sh, same authors' project); everything is
# overridable from the environment.

BENCH_DIR=${BENCH_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}
BENCH_CASES=${BENCH_CASES:-$BENCH_DIR/cases}
NBUILD_HOME=${NBUILD_HOME:-$(cd "$BENCH_DIR/.." && pwd)}

# Unprivileged user that runs every build (nbuild and buildah). Needs a /etc/subuid + subgid range.
BENCH_USER=${BENCH_USER:-nbtest}
# Base images (OCI archives, the debootstrap rootfs tar cache). Readable by BENCH_USER.
BENCH_IMAGES=${BENCH_IMAGES:-/var/tmp/nbuild-bench/images}
# Scratch: contexts, stores of both tools, exports, logs, results. Put it on a journaled file system.
BENCH_WORK=${BENCH_WORK:-/var/tmp/nbuild-bench/work}
BENCH_RESULTS=${BENCH_RESULTS:-$BENCH_WORK/results}
# Store of each tool (inside BENCH_WORK, so on the same file system).
BENCH_NBUILD_ROOT=${BENCH_NBUILD_ROOT:-$BENCH_WORK/nbuild-store}
BENCH_GRAPHROOT=${BENCH_GRAPHROOT:-$BENCH_WORK/buildah-storage}
BENCH_TMPDIR=${BENCH_TMPDIR:-$BENCH_WORK/tmp}
# nbuild under test: bin/nbuild of this checkout (override e.g. with a frozen copy).
NBUILD=${NBUILD:-$NBUILD_HOME/bin/nbuild}

BUSYBOX_REF=${BUSYBOX_REF:-localhost/busybox:latest}
DEBIAN_REF=${DEBIAN_REF:-localhost/debian:bookworm}
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
DEBIAN_SUITE=${DEBIAN_SUITE:-bookworm}

BENCH_TIMEOUT=${BENCH_TIMEOUT:-900}

# BuildKit: a private rootful dockerd (bench/dockerd.sh) with its own data root, exec root and socket.
# Debian's docker.io binaries by full path (an unrelated docker may come first on PATH).
BENCH_DOCKER_DIR=${BENCH_DOCKER_DIR:-$BENCH_WORK/docker}
DOCKER_HOST=${BENCH_DOCKER_HOST:-unix://$BENCH_DOCKER_DIR/docker.sock}
DOCKER=${BENCH_DOCKER_CLI:-/usr/bin/docker}
DOCKERD=${BENCH_DOCKERD:-/usr/sbin/dockerd}

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
need_root() { [ "$(id -u)" = 0 ] || die "$0 must run as root"; }

bench_uid() { id -u "$BENCH_USER"; }
bench_home() { getent passwd "$BENCH_USER" | cut -d: -f6; }
bench_runtime_dir() { echo "/run/user/$(bench_uid)"; }

# The environment every build runs in (as BENCH_USER): clean, rootless, both stores fixed.
bench_env() {
  printf '%q ' env -i HOME="$(bench_home)" USER="$BENCH_USER" LOGNAME="$BENCH_USER" \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    XDG_RUNTIME_DIR="$(bench_runtime_dir)" TMPDIR="$BENCH_TMPDIR" \
    CONTAINERS_STORAGE_CONF="$BENCH_WORK/containers/storage.conf" \
    CONTAINERS_CONF="$BENCH_WORK/containers/containers.conf" \
    NBUILD_ROOT="$BENCH_NBUILD_ROOT" NBUILD="$NBUILD" \
    BENCH_IMAGES="$BENCH_IMAGES" BENCH_WORK="$BENCH_WORK"
}

# The environment of a tool that runs as root (BuildKit's docker CLI): clean, the private daemon.
root_env() {
  printf '%q ' env -i HOME=/root USER=root LOGNAME=root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    DOCKER="$DOCKER" DOCKER_HOST="$DOCKER_HOST" BENCH_DOCKER_DIR="$BENCH_DOCKER_DIR" BENCH_WORK="$BENCH_WORK"
}
as_root() { eval "$(root_env)" bash -c "$(printf %q "cd ~ && $1")"; }

# Run a shell command line as BENCH_USER (from root via runuser, or directly when already that user).
as_bench() {
  if [ "$(id -un)" = "$BENCH_USER" ]; then
    eval "$(bench_env)" bash -c "$(printf %q "cd ~ && $1")"
  else
    eval runuser -u "$BENCH_USER" -- "$(bench_env)" bash -c "$(printf %q "cd ~ && $1")"
  fi
}
