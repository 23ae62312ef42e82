#!/usr/bin/env bash
# Makes a Debian bookworm base image for the apt end-to-end test, with no registry and no
# nbuild code: `debootstrap --variant=minbase` into a tree, one layer tar of it (sorted,
# numeric ids kept, clamped mtimes, gzip -n) and an OCI image layout around it, written as
# an OCI archive. Needs root (debootstrap chroots and chowns) and Debian's mirror.
# The archive is a cache: when OUT exists it is kept (NBUILD_DEBIAN_REBUILD=1 makes it again).
#   usage: make-debian-image.sh [OUT.tar] [TAG]
#   default OUT: /var/cache/nbuild-ci/debian-bookworm.oci.tar (what test/behaviour/apt.test.ts reads)
#   NBUILD_DEBIAN_MIRROR  the mirror (default http://deb.debian.org/debian)
set -euo pipefail
. "$(dirname "$0")/lib/oci-archive.sh"
out=${1:-/var/cache/nbuild-ci/debian-bookworm.oci.tar}
tag=${2:-bookworm}
suite=bookworm
mirror=${NBUILD_DEBIAN_MIRROR:-http://deb.debian.org/debian}
if [ -s "$out" ] && [ -z "${NBUILD_DEBIAN_REBUILD:-}" ]; then
  echo "make-debian-image: $out exists (cached; NBUILD_DEBIAN_REBUILD=1 to make it again)"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then echo "make-debian-image: run as root (debootstrap needs it)" >&2; exit 2; fi
command -v debootstrap >/dev/null || { echo "make-debian-image: debootstrap not found (scripts/setup-host.sh installs it)" >&2; exit 1; }
mkdir -p "$(dirname "$out")"
# Not /tmp: that may be a small tmpfs, and the tree is ~200 MB while debootstrap runs.
work=$(mktemp -d /var/tmp/nbuild-debian.XXXXXX)
trap 'rm -rf "$work"' EXIT
root="$work/rootfs"
debootstrap --variant=minbase "$suite" "$root" "$mirror" > "$work/debootstrap.log" 2>&1 || {
  tail -30 "$work/debootstrap.log" >&2; echo "make-debian-image: debootstrap failed" >&2; exit 1; }
# What a container runtime provides must not come from the host that made the image:
# device nodes (a rootless extractor cannot mknod them), the host's resolv.conf and name,
# apt's downloaded lists and packages (apt-get update fetches fresh ones).
find "$root/dev" -mindepth 1 -delete
find "$root/proc" "$root/sys" "$root/run" "$root/tmp" "$root/var/tmp" -mindepth 1 -delete 2>/dev/null || true
rm -f "$root/etc/resolv.conf" "$root/etc/hostname"
rm -rf "$root/var/lib/apt/lists/"* "$root/var/cache/apt/"*.bin "$root/var/cache/apt/archives/"*.deb "$root/var/log/"*.log
echo "deb $mirror $suite main" > "$root/etc/apt/sources.list"
epoch=$(stat -c %Y "$root/var/lib/dpkg/status")
layer="$work/layer.tar"
tar --sort=name --numeric-owner --mtime=@"$epoch" --clamp-mtime --format=posix \
    --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime -C "$root" -cf "$layer" .
created=$(date -u -d @"$epoch" +%Y-%m-%dT%H:%M:%SZ)
mdigest=$(oci_archive_from_layer "$layer" "$out.part" debian "$tag" '["bash"]' "$created" "make-debian-image.sh: debootstrap --variant=minbase $suite")
size=$(stat -c %s "$out.part")
mv "$out.part" "$out.tmp"
# The tests read it as an unprivileged user.
chmod 0644 "$out.tmp"; chmod a+rx "$(dirname "$out")"
mv "$out.tmp" "$out"
echo "$out: debian $suite minbase image ($(numfmt --to=iec "$size") archive), manifest sha256:$mdigest"
