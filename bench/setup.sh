#!/usr/bin/env bash
# Prepare the benchmark: packages, the unprivileged user, rootless buildah config and the two base
# images (as OCI archives) that both tools load. Idempotent; run as root (the only root step).
# Adapted from the peer lab's setup-peers.sh (/work/shared/bench/setup-peers.sh).
#
#   sudo bench/setup.sh                                     # defaults from common.sh
#   sudo BENCH_LOOPFS_MOUNT=/srv/nbench BENCH_LOOPFS_IMG=/var/tmp/nbench.img \
#        BENCH_WORK=/srv/nbench/work BENCH_IMAGES=/srv/nbench/images bench/setup.sh
#   FORCE_IMAGES=1 / FORCE_DEBOOTSTRAP=1 / SKIP_APT=1       # rebuild images / re-debootstrap / no apt
#
# 1. apt: buildah runc uidmap debootstrap busybox-static time jq docker.io (only what is missing);
# 2. BENCH_USER with a subuid/subgid range, its XDG_RUNTIME_DIR;
# 3. optional journaled ext4 loop file system for BENCH_WORK (the root fs of some machines has none);
# 4. containers storage.conf / containers.conf for buildah under BENCH_WORK/containers (overlay, runc,
#    cgroupfs); nbuild needs no configuration (its store is BENCH_NBUILD_ROOT);
# 5. base images: localhost/busybox:latest (busybox-static + applet links) and localhost/debian:bookworm
#    (debootstrap --variant=minbase, cached as BENCH_IMAGES/debian-bookworm-rootfs.tar), built with
#    buildah from scratch and written as BENCH_IMAGES/{busybox,debian-bookworm}.oci.tar (and as
#    .docker.tar for docker 20.10, which loads no OCI archive);
# 6. the private dockerd for BuildKit (bench/dockerd.sh start: own data root and socket, host firewall
#    untouched), the base images loaded into it; BENCH_DOCKER=0 skips it. Stop: bench/dockerd.sh stop.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
need_root

if [ "${SKIP_APT:-0}" != 1 ]; then
  missing=()
  pkgs=(buildah runc uidmap debootstrap busybox-static time jq)
  [ "${BENCH_DOCKER:-1}" = 0 ] || pkgs+=(docker.io)
  for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
fi

id "$BENCH_USER" >/dev/null 2>&1 || { log "creating user $BENCH_USER"; useradd -m -s /bin/bash "$BENCH_USER"; }
for f in /etc/subuid /etc/subgid; do
  if ! grep -q "^$BENCH_USER:" "$f"; then
    start=$(awk -F: 'BEGIN{m=100000} {e=$2+$3; if (e>m) m=e} END{print m}' "$f")
    echo "$BENCH_USER:$start:65536" >> "$f"; log "added $BENCH_USER:$start:65536 to $f"
  fi
done
install -d -m 0700 -o "$BENCH_USER" -g "$BENCH_USER" "$(bench_runtime_dir)"

if [ -n "${BENCH_LOOPFS_MOUNT:-}" ]; then
  if ! mountpoint -q "$BENCH_LOOPFS_MOUNT"; then
    : "${BENCH_LOOPFS_IMG:?set BENCH_LOOPFS_IMG}"
    mkdir -p "$BENCH_LOOPFS_MOUNT" "$(dirname "$BENCH_LOOPFS_IMG")"
    if [ ! -s "$BENCH_LOOPFS_IMG" ]; then
      truncate -s "${BENCH_LOOPFS_SIZE:-40G}" "$BENCH_LOOPFS_IMG"
      mkfs.ext4 -q -F -L nbuild-bench "$BENCH_LOOPFS_IMG"      # default features: with a journal
    fi
    mount -o loop "$BENCH_LOOPFS_IMG" "$BENCH_LOOPFS_MOUNT"; log "mounted $BENCH_LOOPFS_IMG on $BENCH_LOOPFS_MOUNT"
  fi
  chmod 0755 "$BENCH_LOOPFS_MOUNT"
fi

mkdir -p "$(dirname "$BENCH_WORK")" "$(dirname "$BENCH_IMAGES")"
install -d -m 0755 -o "$BENCH_USER" -g "$BENCH_USER" "$BENCH_WORK" "$BENCH_IMAGES" "$BENCH_WORK/containers" \
  "$BENCH_TMPDIR" "$BENCH_RESULTS"
install -d -m 0700 -o "$BENCH_USER" -g "$BENCH_USER" "$BENCH_GRAPHROOT"
cat > "$BENCH_WORK/containers/storage.conf" <<CONF
# written by bench/setup.sh: kernel overlay in the user namespace (no fuse-overlayfs)
[storage]
driver = "overlay"
runroot = "$(bench_runtime_dir)/containers"
graphroot = "$BENCH_GRAPHROOT"
[storage.options.overlay]
CONF
cat > "$BENCH_WORK/containers/containers.conf" <<'CONF'
# written by bench/setup.sh
[containers]
netns = "host"
[engine]
# crun 1.8 refuses a hybrid cgroup v1/v2 layout; runc copes. No systemd: cgroupfs, file events.
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
chown "$BENCH_USER:" "$BENCH_WORK/containers/"*.conf

have_image() { as_bench "buildah inspect --type image $1 >/dev/null 2>&1"; }
ROOTFS=$BENCH_WORK/rootfs; mkdir -p "$ROOTFS"

# (a) busybox
if [ "${FORCE_IMAGES:-0}" = 1 ] || [ ! -s "$BENCH_IMAGES/busybox.oci.tar" ]; then
  log "building $BUSYBOX_REF"
  R=$ROOTFS/busybox
  rm -rf "$R"; mkdir -p "$R"/{bin,sbin,usr/bin,usr/sbin,etc,root,tmp,proc,sys,dev,var/tmp}
  chmod 1777 "$R/tmp" "$R/var/tmp"; chmod 700 "$R/root"
  cp /bin/busybox "$R/bin/busybox"
  for p in $(/bin/busybox --list-full); do
    case $p in bin/busybox|linuxrc) continue ;; esac
    mkdir -p "$R/$(dirname "$p")"; ln -sf /bin/busybox "$R/$p"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > "$R/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' > "$R/etc/group"
  chmod -R a+rX "$R"
  as_bench "set -e
    buildah rmi -f $BUSYBOX_REF >/dev/null 2>&1 || true
    c=\$(buildah from scratch)
    buildah copy -q \$c '$R/' /
    buildah config --cmd '[\"/bin/sh\"]' --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
      --os linux --arch amd64 --label org.opencontainers.image.title=busybox \$c
    buildah commit -q --rm --timestamp 0 \$c $BUSYBOX_REF
    rm -f '$BENCH_IMAGES/busybox.oci.tar'
    buildah push -q $BUSYBOX_REF oci-archive:$BENCH_IMAGES/busybox.oci.tar:$BUSYBOX_REF"
fi

# (b) debian minbase (the debootstrap rootfs tar is the cache: ~30 s from the mirror)
DEB_R=$ROOTFS/debian-$DEBIAN_SUITE
DEB_TAR=$BENCH_IMAGES/debian-$DEBIAN_SUITE-rootfs.tar
if [ "${FORCE_DEBOOTSTRAP:-0}" = 1 ] || [ ! -s "$DEB_TAR" ]; then
  if [ "${FORCE_DEBOOTSTRAP:-0}" = 1 ] || [ ! -x "$DEB_R/usr/bin/apt-get" ]; then
    log "debootstrap --variant=minbase $DEBIAN_SUITE"
    rm -rf "$DEB_R"
    /usr/bin/time -f '%e %M' -o "$BENCH_IMAGES/debootstrap.time" \
      debootstrap --variant=minbase "$DEBIAN_SUITE" "$DEB_R" "$DEBIAN_MIRROR" > "$BENCH_IMAGES/debootstrap.log" 2>&1
  fi
  # what the official debian image adds (debuerreotype): no apt caches, no translations, no service starts
  cat > "$DEB_R/etc/apt/apt.conf.d/docker-clean" <<'APT'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
APT
  echo 'Acquire::Languages "none";' > "$DEB_R/etc/apt/apt.conf.d/docker-no-languages"
  printf 'Acquire::GzipIndexes "true";\nAcquire::CompressionTypes::Order:: "gz";\n' > "$DEB_R/etc/apt/apt.conf.d/docker-gzip-indexes"
  echo 'Apt::AutoRemove::SuggestsImportant "false";' > "$DEB_R/etc/apt/apt.conf.d/docker-autoremove-suggests"
  printf '#!/bin/sh\nexit 101\n' > "$DEB_R/usr/sbin/policy-rc.d"; chmod 755 "$DEB_R/usr/sbin/policy-rc.d"
  tar --numeric-owner --sort=name -C "$DEB_R" \
      --exclude='./dev/*' --exclude='./var/lib/apt/lists/*' --exclude='./var/cache/apt/*.bin' \
      --exclude='./var/cache/apt/archives/*.deb' -cf "$DEB_TAR" .
  chmod 0644 "$DEB_TAR"; rm -f "$BENCH_IMAGES/debian-$DEBIAN_SUITE.oci.tar"
fi
if [ "${FORCE_IMAGES:-0}" = 1 ] || [ ! -s "$BENCH_IMAGES/debian-$DEBIAN_SUITE.oci.tar" ]; then
  log "importing $DEBIAN_REF"
  as_bench "set -e
    buildah rmi -f $DEBIAN_REF >/dev/null 2>&1 || true
    c=\$(buildah from scratch)
    buildah add -q \$c '$DEB_TAR' /
    buildah config --cmd '[\"bash\"]' --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
      --os linux --arch amd64 --label org.opencontainers.image.title=debian-$DEBIAN_SUITE-minbase \$c
    buildah commit -q --rm --timestamp 0 \$c $DEBIAN_REF
    rm -f '$BENCH_IMAGES/debian-$DEBIAN_SUITE.oci.tar'
    buildah push -q $DEBIAN_REF oci-archive:$BENCH_IMAGES/debian-$DEBIAN_SUITE.oci.tar:$DEBIAN_REF"
fi
chmod a+r "$BENCH_IMAGES"/*.tar

# docker 20.10 loads docker-archive tars only
for img in busybox:$BUSYBOX_REF "debian-$DEBIAN_SUITE:$DEBIAN_REF"; do
  name=${img%%:*}; ref=${img#*:}
  if [ "${FORCE_IMAGES:-0}" = 1 ] || [ ! -s "$BENCH_IMAGES/$name.docker.tar" ] || [ "$BENCH_IMAGES/$name.oci.tar" -nt "$BENCH_IMAGES/$name.docker.tar" ]; then
    as_bench "rm -f '$BENCH_IMAGES/$name.docker.tar'; buildah push -q $ref docker-archive:$BENCH_IMAGES/$name.docker.tar:$ref"
  fi
done
chmod a+r "$BENCH_IMAGES"/*.tar

# both tools get the base images from the same archives (buildah already has them from the commits)
as_bench "set -e
  \$NBUILD load -i '$BENCH_IMAGES/busybox.oci.tar' -t $BUSYBOX_REF >/dev/null
  \$NBUILD load -i '$BENCH_IMAGES/debian-$DEBIAN_SUITE.oci.tar' -t $DEBIAN_REF >/dev/null
  buildah images; \$NBUILD images"
# BuildKit's daemon, warm from here on (stop it with bench/dockerd.sh stop); BENCH_DOCKER=0: none
[ "${BENCH_DOCKER:-1}" = 0 ] || bash "$BENCH_DIR/dockerd.sh" start
log "setup done (BENCH_WORK=$BENCH_WORK on $(df -T "$BENCH_WORK" | awk 'NR==2{print $2}'))"
