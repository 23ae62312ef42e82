# shellcheck shell=bash disable=SC2034
# buildah, rootless (as BENCH_USER), kernel overlay storage, runc, host network in RUN, --layers
# (cache every step like docker). From the peer lab's tools/buildah.sh. Layers are stored
# uncompressed; `buildah push oci-archive:` gzips them (pgzip, 2 threads here).
TOOL_BUILD='buildah build --layers --network host -f {dockerfile} -t {tag} {ctx}'
TOOL_RESET='buildah rm -a >/dev/null 2>&1; buildah rmi -f {tag} >/dev/null 2>&1; buildah rmi --prune >/dev/null 2>&1; true'
TOOL_EXPORT='buildah push -q {tag} oci-archive:{out}:{tag}'
TOOL_TO_OCI="$TOOL_BUILD && $TOOL_EXPORT"
tool_version() { buildah version | awk '/^Version:/{print "buildah " $2}'; }
