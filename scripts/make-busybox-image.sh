#!/usr/bin/env bash
# Makes a small base image from Debian's busybox-static, with no registry and no
# nbuild code: a root filesystem tar (sorted, numeric ids 0:0, fixed mtimes,
# gzip -n) and an OCI image layout around it, written as an OCI archive.
#   usage: make-busybox-image.sh OUT.tar [TAG] [ARCH]
# ARCH (a Debian/OCI architecture: amd64, arm64, ...) other than the host's takes the
# binary from Debian's busybox-static:ARCH package: $BUSYBOX_DEB, else
# /var/cache/nbuild-ci/busybox-static_ARCH.deb (setup-host.sh), else `apt-get download`.
# BUSYBOX_ACCOUNTS=library: as Docker Hub's busybox image (applets in /bin, its /etc/passwd and
# /etc/group, adduser), which BuildKit's integration tests (test/buildkit/) rely on.
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
  # Docker Hub's busybox has every applet in /bin (BuildKit's tests run /bin/awk).
  [ "${BUSYBOX_ACCOUNTS:-}" = library ] && applet=bin/${applet##*/}
  [ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
done
if [ "${BUSYBOX_ACCOUNTS:-}" = library ]; then
# The accounts of Docker Hub's busybox image (buildroot's skeleton), which BuildKit's
# integration tests rely on (test/buildkit/): no "user" yet, a "nobody" group.
cat > "$root/etc/passwd" <<'P'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
sync:x:4:100:sync:/bin:/bin/sync
mail:x:8:8:mail:/var/spool/mail:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
operator:x:37:37:Operator:/var:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
P
cat > "$root/etc/group" <<'G'
root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
disk:x:6:
lp:x:7:
mail:x:8:
kmem:x:9:
wheel:x:10:root
cdrom:x:11:
dialout:x:18:
floppy:x:19:
video:x:28:
audio:x:29:
tape:x:32:
www-data:x:33:
operator:x:37:
utmp:x:43:
plugdev:x:46:
staff:x:50:
lock:x:54:
netdev:x:82:
users:x:100:
nobody:x:65534:
G
rmdir "$root/home/user"
# Debian's busybox-static has no adduser/addgroup applets (Docker Hub's busybox has): a
# stand-in with busybox's behaviour for the options used (-D -H -S -h -s -G -u -g).
cat > "$root/bin/addgroup" <<'A'
#!/bin/sh
# addgroup [-g GID] [-S] GROUP, or addgroup USER GROUP (adds USER to GROUP)
gid= sys=
while getopts g:S o; do case $o in g) gid=$OPTARG;; S) sys=1;; *) exit 1;; esac; done
shift $((OPTIND - 1))
if [ $# -eq 2 ]; then
  grep -q "^$2:" /etc/group || { echo "addgroup: unknown group $2" >&2; exit 1; }
  sed -i "/^$2:/{s/:\$/:$1/;t;s/\$/,$1/}" /etc/group; exit 0
fi
[ $# -eq 1 ] || { echo "usage: addgroup [-g GID] [-S] GROUP" >&2; exit 1; }
grep -q "^$1:" /etc/group && { echo "addgroup: group '$1' in use" >&2; exit 1; }
if [ -z "$gid" ]; then
  if [ -n "$sys" ]; then gid=100; max=999; else gid=1000; max=64999; fi
  while cut -d: -f3 /etc/group | grep -qx "$gid"; do gid=$((gid + 1)); [ $gid -le $max ] || exit 1; done
fi
echo "$1:x:$gid:" >> /etc/group
A
cat > "$root/bin/adduser" <<'A'
#!/bin/sh
# adduser [-D] [-H] [-S] [-h HOME] [-s SHELL] [-G GROUP] [-u UID] [-g GECOS] USER
home= shell=/bin/sh group= uid= gecos= sys= nohome=
while getopts DHSh:s:G:u:g: o; do
  case $o in D) ;; H) nohome=1;; S) sys=1; shell=/bin/false;; h) home=$OPTARG;; s) shell=$OPTARG;;
    G) group=$OPTARG;; u) uid=$OPTARG;; g) gecos=$OPTARG;; *) exit 1;; esac
done
shift $((OPTIND - 1))
name=$1
[ -n "$name" ] || { echo "usage: adduser [-D] [-u UID] [-G GROUP] USER" >&2; exit 1; }
grep -q "^$name:" /etc/passwd && { echo "adduser: user '$name' in use" >&2; exit 1; }
if [ -z "$uid" ]; then
  if [ -n "$sys" ]; then uid=100; else uid=1000; fi
  while cut -d: -f3 /etc/passwd | grep -qx "$uid"; do uid=$((uid + 1)); done
fi
if [ -z "$group" ]; then
  if cut -d: -f3 /etc/group | grep -qx "$uid"; then addgroup ${sys:+-S} "$name"; else addgroup ${sys:+-S} -g "$uid" "$name"; fi || exit 1
  group=$name
fi
gid=$(grep "^$group:" /etc/group | cut -d: -f3)
[ -n "$gid" ] || { echo "adduser: unknown group $group" >&2; exit 1; }
: "${home:=/home/$name}"
echo "$name:x:$uid:$gid:${gecos:-Linux User,,,}:$home:$shell" >> /etc/passwd
if [ -z "$nohome" ] && [ ! -e "$home" ]; then mkdir -p "$home" && chmod 755 "$home" && chown "$uid:$gid" "$home"; fi
A
chmod 755 "$root/bin/adduser" "$root/bin/addgroup"
else
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
fi
echo "busybox" > "$root/etc/hostname"
layer="$work/layer.tar"
tar --sort=name --numeric-owner --owner=0 --group=0 --mtime=@0 --format=posix \
    --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime -C "$root" -cf "$layer" .
mdigest=$(OCI_ARCH=$arch oci_archive_from_layer "$layer" "$out" busybox "$tag" '["sh"]' 1970-01-01T00:00:00Z "make-busybox-image.sh: busybox-static rootfs")
echo "$out: busybox $(/bin/busybox | head -1 | awk '{print $2}') $arch image, manifest sha256:$mdigest"
