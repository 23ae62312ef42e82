# Shared by the base-image scripts: packs one uncompressed layer tar into a
# single-image OCI archive, using only coreutils, gzip and tar (no nbuild code,
# so tests check nbuild against images it did not make).
#   oci_archive_from_layer LAYER.tar OUT.tar NAME TAG CMD_JSON CREATED CREATED_BY
# The history has two entries, as the official images have: the layer, then the CMD.
# Prints the manifest digest (hex) on stdout. The config's architecture is $OCI_ARCH, else the host's.
oci_host_arch() {
  case "$(uname -m)" in x86_64) echo amd64;; aarch64) echo arm64;; *) uname -m;; esac
}
oci_archive_from_layer() {
  local layer=$1 out=$2 name=$3 tag=$4 cmd=$5 created=$6 created_by=$7
  local work arch diffid digest size config cdigest csize manifest mdigest msize layout
  work=$(dirname "$layer")
  arch=${OCI_ARCH:-$(oci_host_arch)}
  diffid=$(sha256sum "$layer" | cut -d' ' -f1)
  gzip -n -6 "$layer"
  digest=$(sha256sum "$layer.gz" | cut -d' ' -f1)
  size=$(stat -c %s "$layer.gz")
  layout="$work/layout"; mkdir -p "$layout/blobs/sha256"
  mv "$layer.gz" "$layout/blobs/sha256/$digest"
  config='{"architecture":"'$arch'","os":"linux","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":'$cmd'},"rootfs":{"type":"layers","diff_ids":["sha256:'$diffid'"]},"history":[{"created":"'$created'","created_by":"'$created_by'"},{"created":"'$created'","created_by":"CMD '${cmd//\"/\\\"}'","empty_layer":true}],"created":"'$created'"}'
  printf '%s' "$config" > "$work/config.json"
  cdigest=$(sha256sum "$work/config.json" | cut -d' ' -f1); csize=$(stat -c %s "$work/config.json")
  mv "$work/config.json" "$layout/blobs/sha256/$cdigest"
  manifest='{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:'$cdigest'","size":'$csize'},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:'$digest'","size":'$size'}]}'
  printf '%s' "$manifest" > "$work/manifest.json"
  mdigest=$(sha256sum "$work/manifest.json" | cut -d' ' -f1); msize=$(stat -c %s "$work/manifest.json")
  mv "$work/manifest.json" "$layout/blobs/sha256/$mdigest"
  printf '{"imageLayoutVersion":"1.0.0"}' > "$layout/oci-layout"
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"%s","io.containerd.image.name":"docker.io/library/%s:%s"}}]}' \
    "$mdigest" "$msize" "$tag" "$name" "$tag" > "$layout/index.json"
  tar --sort=name --numeric-owner --owner=0 --group=0 --mtime=@0 -C "$layout" -cf "$out.tmp" oci-layout index.json blobs
  mv "$out.tmp" "$out"
  echo "$mdigest"
}
