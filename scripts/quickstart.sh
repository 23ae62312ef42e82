#!/usr/bin/env bash
# Quick start: builds the native code and TypeScript, makes the busybox base
# image locally, loads it into a store and builds examples/hello to an OCI
# tarball — as the invoking user (run setup-host.sh as root first).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules ] || npm ci
[ -f build/Release/nbuild_native.node ] || npm run build:native
[ -f dist/src/cli/main.js ] || npm run build:ts
out=${OUT:-$PWD/hello.oci.tar}
base=$(mktemp -d)/busybox.oci.tar
bash scripts/make-busybox-image.sh "$base" latest
./bin/nbuild load -i "$base" -t busybox:latest
./bin/nbuild build -f examples/hello/Dockerfile -t hello:latest -o "type=oci,dest=$out" examples/hello
echo "OCI image written to $out (try: skopeo inspect oci-archive:$out)"
