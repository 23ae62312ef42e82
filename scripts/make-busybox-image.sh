#!/usr/bin/env bash
# Makes a small base image from Debian's busybox-static, with no registry and no
# nbuild code: a root filesystem tar (sorted, numeric ids 0:0, fixed mtimes,
# gzip -n) and an OCI image layout around it, written as an OCI archive.
#   usage: make-busybox-image.sh OUT.tar [TAG] [ARCH]
# ARCH (a Debian/OCI architecture: amd64, arm64, ...) other than the host's takes the
# binary from Debian's busybox-static:ARCH package: $BUSYBOX_DEB, else
# /var/cache/nbuild-ci/busybox-static_ARCH.deb (setup-host.sh), else `apt-get download`.
set -euo pipefail
. "$(dirname "$0")/lib/oci-archive.sh"
out=${1:?usage: make-busybox-image.sh OUT.tar [TAG] [ARCH]}
tag=${2:-latest}
host_arch=$(oci_host_arch)
arch=${3:-$host_arch}
busybox=${BUSYBOX:-/bin/busybox}
[ -x /bin/busybox ] || { echo "make-busybox-image: /bin/busybox not found (apt-get install busybox-static)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ "$arch" != "$host_arch" ]; then
  deb=${BUSYBOX_DEB:-/var/cache/nbuild-ci/busybox-static_$arch.deb}
  if [ ! -f "$deb" ]; then
    (cd "$work" && apt-get download "busybox-static:$arch" >/dev/null) ||
      { echo "make-busybox-image: no $deb and apt-get download busybox-static:$arch failed (dpkg --add-architecture $arch && apt-get update)" >&2; exit 1; }
    deb=$(ls "$work"/busybox-static_*_"$arch".deb)
  fi
  dpkg-deb -x "$deb" "$work/deb"
  busybox="$work/deb/bin/busybox"
fi
[ -x "$busybox" ] || { echo "make-busybox-image: $busybox not found (apt-get install busybox-static)" >&2; exit 1; }
root="$work/rootfs"
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,root,tmp,home/user,var/tmp,proc,dev,sys}
chmod 1777 "$root/tmp" "$root/var/tmp"; chmod 700 "$root/root"
cp "$busybox" "$root/bin/busybox"
# The applet list comes from the host's busybox (a foreign one may not run here; Debian builds
# every architecture's busybox-static from the same configuration).
for applet in $(/bin/busybox --list-full); do
  [ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
done
cat > "$root/etc/passwd" <<'P'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
user:x:1000:1000:user:/home/user:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
P
cat > "$root/etc/group" <<'G'
root:x:0:
daemon:x:1:
www-data:x:33:user
staff:x:50:user
users:x:100:
user:x:1000:
nogroup:x:65534:
G
echo "busybox" > "$root/etc/hostname"
layer="$work/layer.tar"
tar --sort=name --numeric-owner --owner=0 --group=0 --mtime=@0 --format=posix \
    --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime -C "$root" -cf "$layer" .
mdigest=$(OCI_ARCH=$arch oci_archive_from_layer "$layer" "$out" busybox "$tag" '["sh"]' 1970-01-01T00:00:00Z "make-busybox-image.sh: busybox-static rootfs")
echo "$out: busybox $(/bin/busybox | head -1 | awk '{print $2}') $arch image, manifest sha256:$mdigest"
