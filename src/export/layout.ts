// What every image-layout writer shares: the blobs of a set of images and the
// index.json that names them (image-layout.md; ref.name = the tag and
// io.containerd.image.name = the full name, as docker and BuildKit write them).
import { StoreError } from '../errors.js';
import type { Digest } from '../image/digest.js';
import type { Image } from '../image/image.js';
import type { ImageIndex } from '../image/image-index.js';
import { OCI_INDEX } from '../image/media-types.js';
import { parseReference } from '../image/reference.js';
import type { Descriptor, Index } from '../image/types.js';
import type { Store } from '../store/store.js';

export interface ExportItem {
  /** The image (for an index: one of its images, unused). */
  image: Image;
  /** A multi-platform index: exported whole, its images in `images`. */
  index?: ImageIndex;
  images?: readonly Image[];
  /** Annotations of the index's entry in index.json (`--annotation index-descriptor:`). */
  descriptorAnnotations?: Readonly<Record<string, string>>;
  /** Names as given by the user; normalised on output. */
  names: string[];
}

export const ANNOTATION_REF_NAME = 'org.opencontainers.image.ref.name';
export const ANNOTATION_CONTAINERD_NAME = 'io.containerd.image.name';

export interface BlobRef {
  digest: Digest;
  size: number;
  /** In-memory bytes for configs and manifests; layers are streamed from the store. */
  data?: Buffer;
}

/** Every blob of the items, each once, manifests and configs in memory. Checks the layers are there. */
export async function collectBlobs(store: Store, items: ExportItem[]): Promise<BlobRef[]> {
  const seen = new Map<string, BlobRef>();
  for (const item of items) {
    if (item.index) {
      const bytes = item.index.bytes();
      seen.set(item.index.digest.hex, { digest: item.index.digest, size: bytes.length, data: bytes });
    }
  }
  for (const image of items.flatMap((i) => (i.index ? (i.images ?? []) : [i.image]))) {
    for (const l of image.layers) {
      if (seen.has(l.digest.hex)) continue;
      const size = await store.blobSize(l.digest);
      if (size === undefined) throw new StoreError('BLOB_UNKNOWN', `layer ${l.digest} of image ${image.id.short()} is not in the store`);
      if (size !== l.size) throw new StoreError('BLOB_CORRUPT', `layer ${l.digest} has ${size} bytes in the store, the manifest says ${l.size}`);
      seen.set(l.digest.hex, { digest: l.digest, size });
    }
    const config = image.configBytes();
    seen.set(image.configDigest.hex, { digest: image.configDigest, size: config.length, data: config });
    const manifest = image.manifestBytes();
    seen.set(image.manifestDigest.hex, { digest: image.manifestDigest, size: manifest.length, data: manifest });
  }
  return [...seen.values()];
}

/** Index descriptors: one per name (an unnamed image gets one without annotations). */
export function indexDescriptors(items: ExportItem[]): Descriptor[] {
  const out: Descriptor[] = [];
  for (const { image, names, index, descriptorAnnotations } of items) {
    if (index) {
      // As BuildKit's oci exporter: index.json names the image index, which lists the platforms.
      if (names.length === 0) out.push(index.descriptor(descriptorAnnotations ? { ...descriptorAnnotations } : undefined));
      for (const name of names) {
        const ref = parseReference(name);
        out.push(index.descriptor({ ...descriptorAnnotations, [ANNOTATION_CONTAINERD_NAME]: ref.toString(), [ANNOTATION_REF_NAME]: ref.tag }));
      }
      continue;
    }
    const platform = { architecture: image.config.architecture, os: image.config.os, ...(image.config.variant ? { variant: image.config.variant } : {}) };
    if (names.length === 0) out.push({ ...image.descriptor(), platform });
    for (const name of names) {
      const ref = parseReference(name);
      out.push({ ...image.descriptor({ [ANNOTATION_CONTAINERD_NAME]: ref.toString(), [ANNOTATION_REF_NAME]: ref.tag }), platform });
    }
  }
  return out;
}

export function makeIndex(manifests: Descriptor[]): Index {
  return { schemaVersion: 2, mediaType: OCI_INDEX, manifests };
}
