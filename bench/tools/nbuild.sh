# shellcheck shell=bash disable=SC2034
# nbuild, rootless (as BENCH_USER). $NBUILD and $NBUILD_ROOT come from bench_env (common.sh).
# cold = image and build cache dropped (`prune` without -a: the unpacked base layers stay, as they do
# in buildah's store). to-oci = cold build straight to an OCI archive (gzip, the default).
# NBUILD_TRACE=1 for the peak RSS: the launcher returns at Node's exit line, before Node ends, so
# GNU time's %M sees only the launcher; Node's own is in the trace's exit line (TOOL_MEM_FROM_LOG).
TOOL_BUILD='NBUILD_TRACE=1 $NBUILD build --progress plain --network host -f {dockerfile} -t {tag} {ctx}'
TOOL_RESET='$NBUILD rmi -f {tag} >/dev/null 2>&1; $NBUILD prune >/dev/null 2>&1; true'
TOOL_TO_OCI='NBUILD_TRACE=1 $NBUILD build --progress plain --network host -f {dockerfile} -t {tag} -o type=oci,dest={out} {ctx}'
TOOL_EXPORT='NBUILD_TRACE=1 $NBUILD save {tag} --format oci -o {out}'
TOOL_MEM_FROM_LOG='/^nbuild-trace .* exit [0-9]+, peak RSS [0-9]+ kB$/ { r = $(NF - 1) } END { if (r != "") print r }'
tool_version() { $NBUILD version | tr '\n' ' '; }
