// `oci-mediatypes=false` (buildx): an image written with Docker's v2 schema 2 media types. The store
// keeps its images OCI; outputs convert at write time. Only the manifest (and an index) change: the
// config and layer bytes are the same, so are their digests.
import { UsageError } from '../errors.js';
import { canonicalJson } from './canonical-json.js';
import { Image } from './image.js';
import { ImageIndex } from './image-index.js';
import {
  DOCKER_CONFIG, DOCKER_FOREIGN_LAYER, DOCKER_LAYER, DOCKER_LAYER_GZIP, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST,
  OCI_LAYER_ND_GZIP, layerCompression,
} from './media-types.js';
import type { Descriptor, Index, Manifest } from './types.js';

/** A layer's Docker media type; zstd has none (buildx refuses compression=zstd with oci-mediatypes=false). */
function dockerLayerType(l: Descriptor): string {
  if (l.mediaType === OCI_LAYER_ND_GZIP || l.mediaType === DOCKER_FOREIGN_LAYER) return DOCKER_FOREIGN_LAYER;
  switch (layerCompression(l.mediaType)) {
    case 'gzip':
      return DOCKER_LAYER_GZIP;
    case 'none':
      return DOCKER_LAYER;
    case 'zstd':
      throw new UsageError(`--output oci-mediatypes=false: layer ${l.digest} is zstd, which Docker media types cannot name; add compression=gzip,force-compression=true`);
  }
}

/** `image` with a Docker manifest (`application/vnd.docker.distribution.manifest.v2+json`). */
export function toDockerImage(image: Image): Image {
  const m = image.manifest;
  const manifest: Manifest = {
    schemaVersion: 2,
    mediaType: DOCKER_MANIFEST,
    config: { mediaType: DOCKER_CONFIG, digest: m.config.digest, size: m.config.size },
    layers: m.layers.map((l) => ({ ...l, mediaType: dockerLayerType(l) })),
    ...(m.annotations ? { annotations: { ...m.annotations } } : {}),
  };
  return Image.fromBytes(Buffer.from(canonicalJson(manifest)), image.configBytes());
}

/** A multi-platform index as a Docker manifest list, with its images converted. */
export function toDockerIndex(index: ImageIndex, images: readonly Image[]): { index: ImageIndex; images: Image[] } {
  // As BuildKit: "cannot export annotations/attestations with oci-mediatypes=false".
  if (index.index.annotations && Object.keys(index.index.annotations).length > 0) throw new UsageError('--output oci-mediatypes=false: a Docker manifest list carries no annotations (--annotation index:…)');
  const converted: Image[] = [];
  const manifests = index.index.manifests.map((d) => {
    const image = images.find((i) => i.manifestDigest.toString() === d.digest);
    if (!image || d.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest') throw new UsageError('--output oci-mediatypes=false: attestations need OCI media types (as buildx); leave out --attest/--provenance/--sbom');
    if (d.annotations && Object.keys(d.annotations).length > 0) throw new UsageError('--output oci-mediatypes=false: a Docker manifest list carries no annotations (--annotation manifest-descriptor:…)');
    const docker = toDockerImage(image);
    converted.push(docker);
    return { ...docker.descriptor(), ...(d.platform ? { platform: d.platform } : {}) };
  });
  const list: Index = { schemaVersion: 2, mediaType: DOCKER_MANIFEST_LIST, manifests };
  return { index: ImageIndex.fromBytes(Buffer.from(canonicalJson(list))), images: converted };
}
