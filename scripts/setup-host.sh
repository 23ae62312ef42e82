#!/usr/bin/env bash
# One-time host set-up, as root (sudo): the Debian packages nbuild and its tests
# use, and an unprivileged test user with a subordinate uid/gid range.
#   NBUILD_TEST_USER   name of the test user (default nbuild-test)
#   SUDO_USER          if set, that user also gets a subordinate range
set -euo pipefail
if [ "$(id -u)" != 0 ]; then echo "setup-host: run as root (sudo bash scripts/setup-host.sh)" >&2; exit 2; fi
export DEBIAN_FRONTEND=noninteractive
packages=(uidmap busybox-static skopeo umoci docker-registry apache2-utils libdeflate-dev zstd pigz
          xz-utils bzip2 python3 make g++ iproute2 debootstrap podman ca-certificates fuse-overlayfs
          slirp4netns)
missing=()
for p in "${packages[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
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
