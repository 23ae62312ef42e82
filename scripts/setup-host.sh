#!/usr/bin/env bash
# One-time host set-up, as root: the Debian packages nbuild and its tests use, and an
# unprivileged test user with a subordinate uid/gid range. Run by a user, it re-runs itself
# through sudo (which sets SUDO_USER).
#   NBUILD_TEST_USER   name of the test user (default nbuild-test)
#   SUDO_USER          if set, that user also gets a subordinate range
set -euo pipefail
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { echo "setup-host: run as root (no sudo here)" >&2; exit 2; }
  exec sudo bash "$0" "$@"
fi
export DEBIAN_FRONTEND=noninteractive
# The arm64 packages (prebuilt binaries cross-compiled here, scripts/build-prebuilt.sh; run
# under qemu by test/install/) come from Debian's multiarch.
packages=(uidmap busybox-static skopeo umoci docker-registry apache2-utils libdeflate-dev zstd pigz
          xz-utils bzip2 python3 make g++ iproute2 debootstrap podman ca-certificates fuse-overlayfs
          slirp4netns g++-aarch64-linux-gnu libdeflate-dev:arm64 zlib1g-dev:arm64 qemu-user-static binfmt-support binutils
          buildah runc openssh-client openssl git)
missing=()
for p in "${packages[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  dpkg --print-foreign-architectures | grep -qx arm64 || dpkg --add-architecture arm64
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Multi-platform tests (test/behaviour/multi-platform.test.ts, test/e2e/multi-platform-cli.test.ts): qemu's binfmt_misc handlers registered
# with the F flag (the administrator's one root step), and busybox-static for arm64, offline.
if [ ! -e /proc/sys/fs/binfmt_misc/status ]; then
  mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc 2>/dev/null || true
fi
if [ -e /proc/sys/fs/binfmt_misc/status ]; then
  [ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] || update-binfmts --enable qemu-aarch64 || true
else
  echo "setup-host: binfmt_misc cannot be mounted here: emulated RUN tests will be skipped" >&2
fi
mkdir -p /var/cache/nbuild-ci
if [ ! -f /var/cache/nbuild-ci/busybox-static_arm64.deb ]; then
  if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    dpkg --add-architecture arm64
    apt-get -o DPkg::Lock::Timeout=600 update -qq
  fi
  (cd /tmp && apt-get download busybox-static:arm64 >/dev/null && mv busybox-static_*_arm64.deb /var/cache/nbuild-ci/busybox-static_arm64.deb) ||
    echo "setup-host: busybox-static:arm64 not downloaded: multi-platform tests will be skipped" >&2
  chmod 0644 /var/cache/nbuild-ci/busybox-static_arm64.deb 2>/dev/null || true
fi

# Give a user a subordinate range in /etc/subuid and /etc/subgid if it has none.
grant_range() {
  local user=$1 file start
  for file in /etc/subuid /etc/subgid; do
    touch "$file"
    if ! grep -q "^${user}:" "$file"; then
      start=$(awk -F: 'BEGIN{m=100000} {e=$2+$3; if (e>m) m=e} END{print m}' "$file")
      echo "${user}:${start}:65536" >> "$file"
    fi
  done
}
user="${NBUILD_TEST_USER:-nbuild-test}"
id "$user" >/dev/null 2>&1 || useradd --create-home --shell /bin/bash "$user"
grant_range "$user"
if [ -n "${SUDO_USER:-}" ] && [ "${SUDO_USER}" != root ]; then grant_range "$SUDO_USER"; fi
echo "setup-host: packages ready; test user '$user' with $(grep "^${user}:" /etc/subuid)"
