#!/usr/bin/env bash
# The arm64 binaries, cross-compiled here (scripts/build-prebuilt.sh arm64), run on this x86_64
# machine under qemu user-mode emulation (Debian's qemu-user-static):
#  - the addon inside Debian's arm64 node (nodejs:arm64 and its libraries fetched with
#    `apt-get download` and unpacked with `dpkg -x`, not installed: it would replace the host's
#    node) writes and reads back layers with the same digests as the x64 build;
#  - the helper materializes a stack of layers into the same tree as the x64 helper.
# With a binfmt_misc handler for arm64 (registered here, as root, when binfmt_misc can be
# mounted; a visible SKIP otherwise) the arm64 helper also runs as a plain program.
# Run as root by test/install/run.sh after both platforms are built.
set -euo pipefail
cd "$(dirname "$0")/../.."
x64=build/prebuilt/linux-x64
arm64=build/prebuilt/linux-arm64
qemu=$(command -v qemu-aarch64-static) || { echo "arm64: qemu-aarch64-static is missing (bash scripts/setup-host.sh)" >&2; exit 1; }
for f in "$x64/nbuild_native.node" "$arm64/nbuild_native.node" "$arm64/nbuild-sandbox"; do
  [ -f "$f" ] || { echo "arm64: $f is missing (bash scripts/build-prebuilt.sh x64|arm64)" >&2; exit 1; }
done
work=$(mktemp -d "${TMPDIR:-/tmp}/nbuild-arm64.XXXXXX")
trap 'rm -rf "$work"' EXIT

# Debian's node for arm64 with the libraries it links, unpacked into a root of its own.
sysroot=${NBUILD_ARM64_NODE_ROOT:-/var/cache/nbuild-ci/arm64-node}
if [ ! -x "$sysroot/usr/bin/node" ]; then
  t0=$SECONDS
  # Its arm64 libraries, and the JavaScript it loads from /usr/share/nodejs (arch all: node-acorn, …).
  mapfile -t debs < <(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
    --no-replaces --no-enhances nodejs:arm64 | grep -E '^((nodejs|lib[^ ]*|zlib1g):arm64|node-[^ ]*)$' | sort -u)
  mkdir -p "$work/debs"
  chmod 755 "$work"; chmod 777 "$work/debs" # apt's _apt user downloads
  (cd "$work/debs" && apt-get download -q=2 "${debs[@]}")
  rm -rf "$sysroot.tmp" && mkdir -p "$sysroot.tmp"
  for d in "$work"/debs/*.deb; do dpkg -x "$d" "$sysroot.tmp"; done
  rm -rf "$sysroot" && mv "$sysroot.tmp" "$sysroot"
  echo "arm64: Debian's arm64 node ($(ls "$work"/debs | grep -o '^nodejs_[^_]*')) and ${#debs[@]} packages unpacked into $sysroot in $((SECONDS - t0)) s"
fi
node_arm64() { "$qemu" -L "$sysroot" "$sysroot/usr/bin/node" "$@"; }

# 1. The addon: same digests as the x64 build.
t0=$SECONDS
want=$(node test/install/layer-digests.cjs "$x64/nbuild_native.node" "$work/x64")
got=$(node_arm64 test/install/layer-digests.cjs "$arm64/nbuild_native.node" "$work/arm64")
if [ "$got" != "$want" ]; then
  echo "arm64: FAIL: the arm64 addon's digests differ from the x64 build's" >&2
  echo "  x64:   $want" >&2
  echo "  arm64: $got" >&2
  exit 1
fi
echo "arm64: addon in $(node_arm64 -p '`node ${process.version} ${process.arch}`') under qemu: same layer digests as x64 ($((SECONDS - t0)) s): $got"

# 2. The helper: materialize two layers (a whiteout in the upper one) like the x64 helper.
mkdir -p "$work/lower/etc" "$work/upper/etc"
echo base >"$work/lower/etc/base"
echo gone >"$work/lower/etc/gone"
echo top >"$work/upper/etc/top"
ln -s base "$work/upper/etc/link"
mknod "$work/upper/etc/gone" c 0 0 # an overlay whiteout: etc/gone is deleted
request() { printf '{"lowerDirs":["%s","%s"],"dest":"%s"}' "$work/upper" "$work/lower" "$1"; }
listing() { (cd "$1" && find . -printf '%p %y %m %s %l\n' | sort && find . -type f -exec sha256sum {} + | sort); }
request "$work/dest-x64" | "$x64/nbuild-sandbox" materialize >/dev/null
out=$(request "$work/dest-arm64" | "$qemu" -L "$sysroot" "$arm64/nbuild-sandbox" materialize)
case $out in '{"ok":true'*) ;; *) echo "arm64: FAIL: helper materialize: $out" >&2; exit 1 ;; esac
if [ "$(listing "$work/dest-x64")" != "$(listing "$work/dest-arm64")" ] || [ -e "$work/dest-arm64/etc/gone" ]; then
  echo "arm64: FAIL: the arm64 helper's tree differs from the x64 helper's" >&2
  diff <(listing "$work/dest-x64") <(listing "$work/dest-arm64") >&2 || true
  exit 1
fi
echo "arm64: helper under qemu: materialize gives the x64 helper's tree: $out"

# 3. binfmt_misc: the arm64 helper as a plain program (the kernel hands it to qemu).
binfmt=/proc/sys/fs/binfmt_misc
if [ ! -e "$binfmt/register" ] && ! mount -t binfmt_misc binfmt_misc "$binfmt" 2>/dev/null; then
  echo "arm64: SKIP binfmt_misc: cannot mount $binfmt here (a container without the privilege); the checks above ran qemu-aarch64-static directly"
  exit 0
fi
if [ ! -e "$binfmt/qemu-aarch64" ]; then
  # The handler Debian's qemu-user-static ships (flags OPF: F opens qemu at registration).
  grep -v '^#' /usr/lib/binfmt.d/qemu-aarch64.conf >"$binfmt/register" 2>/dev/null ||
    { echo "arm64: SKIP binfmt_misc: cannot register the qemu-aarch64 handler"; exit 0; }
fi
out=$(request "$work/dest-binfmt" | QEMU_LD_PREFIX="$sysroot" "$arm64/nbuild-sandbox" materialize)
case $out in '{"ok":true'*) ;; *) echo "arm64: FAIL: helper through binfmt_misc: $out" >&2; exit 1 ;; esac
echo "arm64: helper through binfmt_misc ($(head -1 "$binfmt/qemu-aarch64")): $out"
