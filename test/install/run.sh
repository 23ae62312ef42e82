#!/usr/bin/env bash
# The install test (CI, as root, after `npm ci`): what a user gets from a release.
#  1. `npm run release` writes release/: the packed main and platform packages and the
#     self-contained tarballs (both arches; arm64 cross-compiled).
#  2. npm: the main package and the host's platform package installed into a fresh prefix with
#     `npm install --offline` (the npm cache `npm ci` filled is all there is) on a PATH with no
#     cc, c++, g++ or make; the installed nbuild builds the quick-start example as the
#     unprivileged test user.
#  3. The self-contained tarball: unpacked and run the same way on a PATH with no node.
#  4. The self-contained tarball built again from the same binaries: the same bytes.
#  5. The arm64 binaries under qemu (test/install/arm64.sh).
# Prints the figures (times, sizes) as `install: …` lines.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
if [ "$(id -u)" != 0 ]; then echo "install test: run as root (it installs into a fresh prefix and runs nbuild as the test user)" >&2; exit 2; fi
user=${NBUILD_TEST_USER:-nbuild-test}
id "$user" >/dev/null 2>&1 || { echo "install test: user $user missing (bash scripts/setup-host.sh)" >&2; exit 2; }
version=$(node -p "require('./package.json').version")
host=$(node -p process.arch)
say() { echo "install: $*"; }
started=$SECONDS

work=$(mktemp -d /tmp/nbuild-install.XXXXXX)
chmod 755 "$work"
cleanup() {
  # The stores hold files of the user's subordinate ids: remove them from inside a namespace.
  runuser -u "$user" -- unshare --map-root-user --map-auto rm -rf "$work/user" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# A PATH folder with the system's commands minus those matching the regex $2 (symlinks).
path_without() {
  local dir=$1 drop=$2 f name
  local -A seen=()
  local keep=()
  mkdir -p "$dir"
  for f in /usr/local/sbin/* /usr/local/bin/* /usr/sbin/* /usr/bin/* /sbin/* /bin/*; do
    name=${f##*/}
    [ -z "${seen[$name]:-}" ] && [ -x "$f" ] && [ ! -d "$f" ] || continue
    seen[$name]=1
    [[ $name =~ ^($drop)$ ]] || keep+=("$f")
  done
  ln -s -t "$dir" "${keep[@]}"
}
compilers='cc|c\+\+|g\+\+|gcc|cpp|make|gmake|c89|c99|clang.*|(.*-)?(gcc|g\+\+|cc|c\+\+|cpp)(-[0-9.]+)?'

# 1. The release (NBUILD_INSTALL_TEST_KEEP_RELEASE=1: test the release/ already there).
if [ -z "${NBUILD_INSTALL_TEST_KEEP_RELEASE:-}" ]; then
  t0=$SECONDS
  npm run --silent release
  say "npm run release: $((SECONDS - t0)) s"
fi
main=release/nbuild-$version.tgz
platform=release/nbuild-linux-$host-$version.tgz
sea=release/nbuild-$version-linux-$host.tar.gz
for f in "$main" "$platform" "$sea" release/nbuild-linux-arm64-$version.tgz release/nbuild-$version-linux-arm64.tar.gz; do
  [ -f "$f" ] || { echo "install test: $f was not written" >&2; exit 1; }
  say "$f: $(du -k "$f" | cut -f1) KiB"
done
# The main package carries no test data and no build folders; of dist/src (the public API,
# package.json `exports`) only the compiled .js and their .d.ts.
if tar -tzf "$main" | grep -E '^package/(test|build|bench|dist/test|release|examples)/|^package/dist/src/.*[^/]$' | grep -vE '^package/dist/src/.*\.(js|d\.ts)$'; then
  echo "install test: $main holds test or build files" >&2; exit 1
fi

# The quick start's inputs, readable by the test user.
mkdir -p "$work/user"
bash scripts/make-busybox-image.sh "$work/busybox.oci.tar" latest >/dev/null
cp -r examples/hello "$work/hello"
chmod -R a+rX "$work/busybox.oci.tar" "$work/hello"
chown "$user:" "$work/user"
home=$(getent passwd "$user" | cut -d: -f6)
# The quick start as the test user, with `nbuild` from $1 and PATH $2 (nothing else inherited).
quickstart() {
  local nbuild=$1 path=$2 store=$work/user/store-$3 out=$work/user/hello-$3.oci.tar t0=$SECONDS
  runuser -u "$user" -- env -i HOME="$home" PATH="$path" TMPDIR="$work/user" "$nbuild" --root "$store" load -i "$work/busybox.oci.tar" -t busybox:latest >/dev/null
  runuser -u "$user" -- env -i HOME="$home" PATH="$path" TMPDIR="$work/user" "$nbuild" --root "$store" build --progress quiet \
    -f "$work/hello/Dockerfile" -t hello:latest -o "type=oci,dest=$out" "$work/hello"
  tar -xOf "$out" index.json | grep -q '"mediaType"' || { echo "install test: $out is not an OCI archive" >&2; exit 1; }
  say "$3: the quick start (load + build examples/hello as $user): $((SECONDS - t0)) s"
}

# 2. npm, offline, with no compiler.
nocc=$work/path-nocc
path_without "$nocc" "$compilers"
for tool in cc c++ g++ gcc make; do
  if PATH=$nocc command -v "$tool" >/dev/null; then echo "install test: $tool is still on the test PATH" >&2; exit 1; fi
done
prefix=$work/prefix
t0=$SECONDS
PATH=$nocc npm install --global --offline --prefix "$prefix" --no-audit --no-fund --foreground-scripts \
  "$repo/$main" "$repo/$platform" >"$work/npm.log" 2>&1 || { cat "$work/npm.log" >&2; exit 1; }
install_s=$((SECONDS - t0))
grep -q "nbuild: using the prebuilt @nbuild/linux-$host $version; nothing to compile" "$work/npm.log" ||
  { echo "install test: the install did not take the prebuilt binaries:" >&2; cat "$work/npm.log" >&2; exit 1; }
[ ! -e "$prefix/lib/node_modules/nbuild/build" ] || { echo "install test: something was compiled" >&2; exit 1; }
say "npm install --offline (main + @nbuild/linux-$host, no compiler on PATH): ${install_s} s"
say "installed size: $(du -sk "$prefix/lib/node_modules" | cut -f1) KiB (nbuild $(du -sk "$prefix/lib/node_modules/nbuild" | cut -f1) KiB, of which native sources $(du -sk "$prefix/lib/node_modules/nbuild/native" | cut -f1) KiB; @nbuild/linux-$host $(du -sk "$prefix/lib/node_modules/@nbuild/linux-$host" | cut -f1) KiB)"
quickstart "$prefix/bin/nbuild" "$prefix/bin:$nocc" npm
# The public API from the installed package: `import('nbuild')` names build() and the images API.
runuser -u "$user" -- env -i HOME="$home" PATH="$prefix/bin:$nocc" NODE_PATH="$prefix/lib/node_modules" node --input-type=module -e \
  "const m = await import('$prefix/lib/node_modules/nbuild/dist/src/index.js'); for (const f of ['build', 'runImage', 'listImages']) if (typeof m[f] !== 'function') { console.error('install test: the API lacks ' + f); process.exit(1); }" ||
  { echo "install test: the installed package's API does not load" >&2; exit 1; }
runuser -u "$user" -- env -i HOME="$home" PATH="$prefix/bin:$nocc" "$prefix/bin/nbuild" info | grep -q "native engine and helper: prebuilt (@nbuild/linux-$host $version)" ||
  { echo "install test: nbuild info does not name the prebuilt package" >&2; exit 1; }

# 3. The self-contained release, where node is not on PATH.
nonode=$work/path-nonode
path_without "$nonode" "node|nodejs|npm|npx|corepack|$compilers"
if PATH=$nonode command -v node >/dev/null; then echo "install test: node is still on the test PATH" >&2; exit 1; fi
mkdir "$work/user/opt" && chown "$user:" "$work/user/opt"
runuser -u "$user" -- tar -xzf "$sea" -C "$work/user/opt"
exe=$work/user/opt/nbuild-$version-linux-$host/nbuild
say "self-contained: $(du -sk "${exe%/nbuild}" | cut -f1) KiB unpacked"
quickstart "$exe" "$nonode" sea
ls "${exe%/nbuild}"/.nbuild_native-*.node >/dev/null || { echo "install test: the addon was not written next to the executable" >&2; exit 1; }
# Unpacked where its user cannot write: the addon goes to the user's cache folder instead.
chown -R root: "$work/user/opt" && rm -f "${exe%/nbuild}"/.nbuild_native-*.node
runuser -u "$user" -- env -i HOME="$work/user" PATH="$nonode" "$exe" info | grep -q "native engine and helper: the single executable" ||
  { echo "install test: the read-only single executable did not load its addon" >&2; exit 1; }
ls "$work/user/.cache/nbuild"/.nbuild_native-*.node >/dev/null

# 4. Reproducible: the self-contained tarball again, from the same binaries.
t0=$SECONDS
node scripts/release.mjs --sea-only "$host" --out "$work/again" >/dev/null
if ! cmp -s "$sea" "$work/again/${sea##*/}"; then echo "install test: ${sea##*/} is not the same bytes when built again" >&2; exit 1; fi
say "${sea##*/} built again: same bytes, sha256 $(sha256sum "$sea" | cut -c1-16)… ($((SECONDS - t0)) s)"

# 5. arm64 under qemu.
bash test/install/arm64.sh | sed 's/^/install: /'
say "done in $((SECONDS - started)) s"
