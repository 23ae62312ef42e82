// OCI and Docker v2 media types (image-spec media-types.md; docker-image-spec).
import { NbuildError } from '../errors.js';

export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
export const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar';
export const OCI_LAYER_GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip';
export const OCI_LAYER_ZSTD = 'application/vnd.oci.image.layer.v1.tar+zstd';
export const OCI_LAYER_ND = 'application/vnd.oci.image.layer.nondistributable.v1.tar';
export const OCI_LAYER_ND_GZIP = 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip';
export const OCI_LAYER_ND_ZSTD = 'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd';
export const OCI_EMPTY = 'application/vnd.oci.empty.v1+json';
export const OCI_LAYOUT_HEADER = 'application/vnd.oci.layout.header.v1+json';

export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const DOCKER_MANIFEST_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
export const DOCKER_CONFIG = 'application/vnd.docker.container.image.v1+json';
export const DOCKER_LAYER = 'application/vnd.docker.image.rootfs.diff.tar';
export const DOCKER_LAYER_GZIP = 'application/vnd.docker.image.rootfs.diff.tar.gzip';
export const DOCKER_FOREIGN_LAYER = 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip';

export type Compression = 'gzip' | 'zstd' | 'none';

export function layerMediaType(compression: Compression): string {
  switch (compression) {
    case 'gzip':
      return OCI_LAYER_GZIP;
    case 'zstd':
      return OCI_LAYER_ZSTD;
    case 'none':
      return OCI_LAYER;
  }
}

export function isManifestType(mt: string | undefined): boolean {
  return mt === OCI_MANIFEST || mt === DOCKER_MANIFEST;
}

export function isIndexType(mt: string | undefined): boolean {
  return mt === OCI_INDEX || mt === DOCKER_MANIFEST_LIST;
}

/** How a layer blob is compressed, from its media type; unknown types are an error. */
export function layerCompression(mediaType: string): Compression {
  switch (mediaType) {
    case OCI_LAYER_GZIP:
    case OCI_LAYER_ND_GZIP:
    case DOCKER_LAYER_GZIP:
    case DOCKER_FOREIGN_LAYER:
      return 'gzip';
    case OCI_LAYER_ZSTD:
    case OCI_LAYER_ND_ZSTD:
      return 'zstd';
    case OCI_LAYER:
    case OCI_LAYER_ND:
    case DOCKER_LAYER:
      return 'none';
    default:
      throw new NbuildError('UNSUPPORTED_MEDIA_TYPE', `unsupported layer media type ${mediaType}`);
  }
}

export function isLayerType(mt: string): boolean {
  try {
    layerCompression(mt);
    return true;
  } catch {
    return false;
  }
}
