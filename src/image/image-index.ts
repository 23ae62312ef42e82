// An OCI image index (image-index.md): one name, one manifest per platform. Like Image it
// keeps the exact bytes its digest was computed from; indexes nbuild makes are canonical JSON,
// entries in the order the platforms were asked for (so the same inputs give the same digest).
import { NbuildError } from '../errors.js';
import { canonicalJson } from './canonical-json.js';
import { Digest } from './digest.js';
import type { Image } from './image.js';
import { OCI_INDEX, isIndexType, isManifestType } from './media-types.js';
import { formatPlatform, indexPlatforms, platformOf, selectManifest, type Platform } from './platform.js';
import type { Descriptor, Index } from './types.js';

export class ImageIndex {
  readonly index: Index;
  readonly digest: Digest;
  private readonly raw: Buffer;

  private constructor(raw: Buffer) {
    this.raw = raw;
    this.digest = Digest.of(raw);
    let v: unknown;
    try {
      v = JSON.parse(raw.toString('utf8'));
    } catch (e) {
      throw new NbuildError('INVALID_IMAGE', `image index ${this.digest.short()} is not JSON`, { cause: e });
    }
    this.index = Object.freeze(v as Index);
    this.validate();
  }

  /** The index of per-platform images (each image's platform is its config's). */
  static build(images: readonly Image[], annotations?: Readonly<Record<string, string>>): ImageIndex {
    const seen = new Set<string>();
    const manifests: Descriptor[] = images.map((image) => {
      const platform = platformOf(image.config);
      const key = formatPlatform(platform);
      if (seen.has(key)) throw new NbuildError('DUPLICATE_PLATFORM', `two images for ${key} in one index`);
      seen.add(key);
      return { ...image.descriptor(), platform };
    });
    const index: Index = { schemaVersion: 2, mediaType: OCI_INDEX, manifests };
    if (annotations && Object.keys(annotations).length > 0) index.annotations = { ...annotations };
    return new ImageIndex(Buffer.from(canonicalJson(index)));
  }

  /** An index of the given entries (nbuild manifest create/add/annotate), canonical JSON. */
  static fromDescriptors(manifests: readonly Descriptor[], annotations?: Readonly<Record<string, string>>): ImageIndex {
    const index: Index = { schemaVersion: 2, mediaType: OCI_INDEX, manifests: manifests.map((d) => ({ ...d })) };
    if (annotations && Object.keys(annotations).length > 0) index.annotations = { ...annotations };
    return new ImageIndex(Buffer.from(canonicalJson(index)));
  }

  static fromBytes(bytes: Buffer): ImageIndex {
    return new ImageIndex(Buffer.from(bytes));
  }

  /** True when `bytes` are an index document (media type, or a manifests array without layers). */
  static isIndex(bytes: Buffer): boolean {
    try {
      const v = JSON.parse(bytes.toString('utf8')) as { mediaType?: string; manifests?: unknown; layers?: unknown };
      return isIndexType(v.mediaType) || (v.mediaType === undefined && Array.isArray(v.manifests) && v.layers === undefined);
    } catch {
      return false;
    }
  }

  bytes(): Buffer {
    return Buffer.from(this.raw);
  }

  /** Same name as Image's, so a store name can point at either. */
  get manifestDigest(): Digest {
    return this.digest;
  }

  descriptor(annotations?: Record<string, string>): Descriptor {
    const d: Descriptor = { mediaType: this.index.mediaType ?? OCI_INDEX, digest: this.digest.toString(), size: this.raw.length };
    if (annotations && Object.keys(annotations).length > 0) d.annotations = annotations;
    return d;
  }

  /** The image manifests (entries that are indexes or artifacts are left out). */
  get manifests(): Descriptor[] {
    return this.index.manifests.filter((d) => isManifestType(d.mediaType));
  }

  platforms(): string[] {
    return indexPlatforms(this.index);
  }

  /** The entry for `want`; PLATFORM_UNAVAILABLE names what the index offers. */
  select(want: Platform, what: string): Descriptor {
    return selectManifest({ ...this.index, manifests: this.manifests }, want, what);
  }

  private validate(): void {
    const bad = (why: string): never => {
      throw new NbuildError('INVALID_IMAGE', `invalid image index ${this.digest.short()}: ${why}`);
    };
    const i = this.index as Partial<Index>;
    if (i === null || typeof i !== 'object') bad('not a JSON object');
    if (i.schemaVersion !== 2) bad(`schemaVersion is ${String(i.schemaVersion)}, want 2`);
    if (i.mediaType !== undefined && !isIndexType(i.mediaType)) bad(`mediaType ${i.mediaType} is not an image index`);
    if (!Array.isArray(i.manifests)) bad('no manifests array');
    for (const [n, d] of (i.manifests ?? []).entries()) {
      if (!d || typeof d !== 'object' || typeof d.mediaType !== 'string' || !Digest.isValid(d.digest) || !Number.isSafeInteger(d.size) || d.size < 0) bad(`manifests[${n}] is not a descriptor`);
    }
  }
}
