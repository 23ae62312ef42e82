#!/usr/bin/env bash
# Makes a small base image from Debian's busybox-static, with no registry and no
# nbuild code: a root filesystem tar (sorted, numeric ids 0:0, fixed mtimes,
# gzip -n) and an OCI image layout around it, written as an OCI archive.
#   usage: make-busybox-image.sh OUT.tar [TAG]
set -euo pipefail
out=${1:?usage: make-busybox-image.sh OUT.tar [TAG]}
tag=${2:-latest}
busybox=${BUSYBOX:-/bin/busybox}
[ -x "$busybox" ] || { echo "make-busybox-image: $busybox not found (apt-get install busybox-static)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root="$work/rootfs"
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,root,tmp,home/user,var/tmp,proc,dev,sys}
chmod 1777 "$root/tmp" "$root/var/tmp"; chmod 700 "$root/root"
cp "$busybox" "$root/bin/busybox"
for applet in $("$busybox" --list-full); do
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
diffid=$(sha256sum "$layer" | cut -d' ' -f1)
gzip -n -6 "$layer"
blob="$work/layer.tar.gz"
digest=$(sha256sum "$blob" | cut -d' ' -f1)
size=$(stat -c %s "$blob")
case "$(uname -m)" in x86_64) arch=amd64;; aarch64) arch=arm64;; *) arch=$(uname -m);; esac
layout="$work/layout"; mkdir -p "$layout/blobs/sha256"
mv "$blob" "$layout/blobs/sha256/$digest"
config='{"architecture":"'$arch'","os":"linux","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["sh"]},"rootfs":{"type":"layers","diff_ids":["sha256:'$diffid'"]},"history":[{"created":"1970-01-01T00:00:00Z","created_by":"make-busybox-image.sh: busybox-static rootfs"}],"created":"1970-01-01T00:00:00Z"}'
printf '%s' "$config" > "$work/config.json"
cdigest=$(sha256sum "$work/config.json" | cut -d' ' -f1); csize=$(stat -c %s "$work/config.json")
mv "$work/config.json" "$layout/blobs/sha256/$cdigest"
manifest='{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:'$cdigest'","size":'$csize'},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:'$digest'","size":'$size'}]}'
printf '%s' "$manifest" > "$work/manifest.json"
mdigest=$(sha256sum "$work/manifest.json" | cut -d' ' -f1); msize=$(stat -c %s "$work/manifest.json")
mv "$work/manifest.json" "$layout/blobs/sha256/$mdigest"
printf '{"imageLayoutVersion":"1.0.0"}' > "$layout/oci-layout"
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"%s","io.containerd.image.name":"docker.io/library/busybox:%s"}}]}' "$mdigest" "$msize" "$tag" "$tag" > "$layout/index.json"
tar --sort=name --numeric-owner --owner=0 --group=0 --mtime=@0 -C "$layout" -cf "$out.tmp" oci-layout index.json blobs
mv "$out.tmp" "$out"
echo "$out: busybox $("$busybox" | head -1 | awk '{print $2}') image, manifest sha256:$mdigest"
