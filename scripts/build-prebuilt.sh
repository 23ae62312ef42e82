#!/usr/bin/env bash
# Builds the prebuilt binaries of one platform package: the addon (nbuild_native.node) and the
# helper (nbuild-sandbox) for linux-ARCH, stripped, into build/prebuilt/linux-ARCH/.
#   bash scripts/build-prebuilt.sh x64|arm64
# The host's own arch is the checkout's node-gyp build (build/Release, brought up to date); the
# other is cross-compiled with Debian's cross compiler (g++-aarch64-linux-gnu, or
# g++-x86-64-linux-gnu) against the foreign arch's libdeflate-dev and zlib1g-dev (multiarch:
# scripts/setup-host.sh), by node-gyp in build/cross-ARCH (a copy of binding.gyp and native/).
# Then checks what the binaries need at run time: glibc (up to 2.34) and libgcc_s, nothing else
# (readelf -d, objdump -T); libstdc++ is linked in (binding.gyp).
set -euo pipefail
cd "$(dirname "$0")/.."
arch=${1:-}
case $arch in
  x64) triple=x86_64-linux-gnu machine='Advanced Micro Devices X86-64' ;;
  arm64) triple=aarch64-linux-gnu machine=AArch64 ;;
  *) echo "usage: bash scripts/build-prebuilt.sh x64|arm64" >&2; exit 2 ;;
esac
host=$(node -p process.arch)
out=build/prebuilt/linux-$arch
# npm's own node-gyp (what `npm install` runs), not one fetched by npx.
gyp=(node "$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js")
jobs=$(nproc)
# The node headers npm uses (npm config nodedir, e.g. /usr for distribution packages of node);
# node-gyp run by itself would download them.
nodedir=$(npm config get nodedir 2>/dev/null || true)
case $nodedir in "" | undefined | null) nodedir=() ;; *) nodedir=(--nodedir="$nodedir") ;; esac

if [ "$arch" = "$host" ]; then
  [ build/Makefile -nt binding.gyp ] || "${gyp[@]}" configure "${nodedir[@]}" >/dev/null
  "${gyp[@]}" build -j "$jobs" >/dev/null
  built=build/Release
  strip=strip
else
  for tool in "$triple-g++" "$triple-gcc" "$triple-strip"; do
    command -v "$tool" >/dev/null || { echo "build-prebuilt: $tool not found (bash scripts/setup-host.sh installs it)" >&2; exit 2; }
  done
  stage=build/cross-$arch
  mkdir -p "$stage"
  # A fresh copy that keeps mtimes, so make rebuilds only what changed since the last run.
  rm -rf "$stage/native" "$stage/binding.gyp"
  cp -a binding.gyp native "$stage/"
  ln -sfn "$PWD/node_modules" "$stage/node_modules"
  (
    cd "$stage"
    export CC=$triple-gcc CXX=$triple-g++ LINK=$triple-g++ AR=$triple-ar CC_host=gcc CXX_host=g++ LINK_host=g++ AR_host=ar
    [ build/Makefile -nt binding.gyp ] || "${gyp[@]}" configure --arch="$arch" "${nodedir[@]}" >/dev/null
    "${gyp[@]}" build --arch="$arch" -j "$jobs" >/dev/null
  )
  built=$stage/build/Release
  strip=$triple-strip
fi

mkdir -p "$out"
for f in nbuild_native.node nbuild-sandbox; do
  "$strip" --strip-unneeded -o "$out/$f.tmp" "$built/$f"
  mv "$out/$f.tmp" "$out/$f"
done

# What the binaries need from the host.
status=0
for f in "$out/nbuild_native.node" "$out/nbuild-sandbox"; do
  got=$(LC_ALL=C readelf -h "$f" | sed -n 's/^ *Machine: *//p')
  [ "$got" = "$machine" ] || { echo "build-prebuilt: $f is for '$got', not $arch" >&2; status=1; }
  while read -r lib; do
    case $lib in
      libc.so.6 | libm.so.6 | libdl.so.2 | libpthread.so.0 | libstdc++.so.6 | libgcc_s.so.1 | ld-linux-*.so.*) ;;
      *) echo "build-prebuilt: $f needs $lib (only glibc and libstdc++ may be needed)" >&2; status=1 ;;
    esac
  done < <(LC_ALL=C readelf -d "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
done
# The oldest glibc they run on is the newest symbol version they use; docs/install.md states it.
max_glibc=2.34
glibc() { LC_ALL=C objdump -T "$1" | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -1; }
for f in "$out/nbuild_native.node" "$out/nbuild-sandbox"; do
  need=$(glibc "$f")
  newest=$(printf '%s\n' "GLIBC_$max_glibc" "$need" | sort -V | tail -1)
  [ "$newest" = "GLIBC_$max_glibc" ] || { echo "build-prebuilt: $f needs $need, newer than glibc $max_glibc:" $(LC_ALL=C objdump -T "$f" | grep -F "($need)" | awk '{print $NF}') >&2; status=1; }
  if LC_ALL=C objdump -T "$f" | grep -q GLIBCXX_; then echo "build-prebuilt: $f needs the host's libstdc++ (link it statically)" >&2; status=1; fi
  needs=$(LC_ALL=C readelf -d "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
  echo "build-prebuilt: $f $(stat -c %s "$f") bytes; needs ${needs% }; newest symbol version $need"
done
[ $status = 0 ] || exit 1
