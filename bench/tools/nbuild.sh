# shellcheck shell=bash disable=SC2034
# nbuild, rootless (as BENCH_USER). $NBUILD and $NBUILD_ROOT come from bench_env (common.sh).
# cold = image and build cache dropped (`prune` without -a: the unpacked base layers stay, as they do
# in buildah's store). to-oci = cold build straight to an OCI archive (gzip, the default).
TOOL_BUILD='$NBUILD build --progress plain --network host -f {dockerfile} -t {tag} {ctx}'
TOOL_RESET='$NBUILD rmi -f {tag} >/dev/null 2>&1; $NBUILD prune >/dev/null 2>&1; true'
TOOL_EXPORT='$NBUILD save {tag} --format oci -o {out}'
TOOL_TO_OCI='$NBUILD build --progress plain --network host -f {dockerfile} -t {tag} -o type=oci,dest={out} {ctx}'
tool_version() { $NBUILD version | tr '\n' ' '; }
