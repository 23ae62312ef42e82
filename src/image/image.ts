// Immutable Image and Layer values. An Image holds the exact manifest and config
// bytes its digests were computed from: images read from a store or an archive
// keep their original bytes, images nbuild makes are canonical JSON.
import { NbuildError } from '../errors.js';
import { canonicalJson } from './canonical-json.js';
import { Digest } from './digest.js';
import { DOCKER_CONFIG, DOCKER_MANIFEST, OCI_CONFIG, OCI_MANIFEST, isManifestType } from './media-types.js';
import type { Descriptor, ImageConfig, Manifest } from './types.js';

export interface Layer {
  /** Digest of the blob as stored (compressed). */
  readonly digest: Digest;
  /** Digest of the uncompressed tar (rootfs.diff_ids). */
  readonly diffId: Digest;
  /** Blob size in bytes. */
  readonly size: number;
  readonly mediaType: string;
}

export class Image {
  readonly manifest: Manifest;
  readonly manifestDigest: Digest;
  readonly config: ImageConfig;
  readonly configDigest: Digest;
  readonly layers: readonly Layer[];
  private readonly rawManifest: Buffer;
  private readonly rawConfig: Buffer;

  private constructor(rawManifest: Buffer, rawConfig: Buffer) {
    this.rawManifest = rawManifest;
    this.rawConfig = rawConfig;
    this.manifest = deepFreeze(parseJson<Manifest>(rawManifest, 'manifest'));
    this.config = deepFreeze(parseJson<ImageConfig>(rawConfig, 'config'));
    this.manifestDigest = Digest.of(rawManifest);
    this.configDigest = Digest.of(rawConfig);
    this.layers = Object.freeze(layersOf(this.manifest, this.config));
  }

  /** A new image from a config and its layers (base first). rootfs.diff_ids is set from the layers. */
  static build(config: ImageConfig, layers: Layer[], annotations?: Record<string, string>): Image {
    const cfg: ImageConfig = { ...config, rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId.toString()) } };
    const configBytes = Buffer.from(canonicalJson(cfg));
    const manifest: Manifest = {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, digest: Digest.of(configBytes).toString(), size: configBytes.length },
      layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest.toString(), size: l.size })),
    };
    if (annotations && Object.keys(annotations).length > 0) manifest.annotations = { ...annotations };
    const image = new Image(Buffer.from(canonicalJson(manifest)), configBytes);
    image.validate();
    return image;
  }

  /** An image from stored or received bytes; the bytes are kept as they are. Validates. */
  static fromBytes(manifestBytes: Buffer, configBytes: Buffer): Image {
    const image = new Image(Buffer.from(manifestBytes), Buffer.from(configBytes));
    image.validate();
    return image;
  }

  manifestBytes(): Buffer {
    return Buffer.from(this.rawManifest);
  }

  configBytes(): Buffer {
    return Buffer.from(this.rawConfig);
  }

  /** The manifest's descriptor, as an index or a registry would reference it. */
  descriptor(annotations?: Record<string, string>): Descriptor {
    const d: Descriptor = {
      mediaType: this.manifest.mediaType ?? OCI_MANIFEST,
      digest: this.manifestDigest.toString(),
      size: this.rawManifest.length,
    };
    if (annotations && Object.keys(annotations).length > 0) d.annotations = annotations;
    return d;
  }

  /** The short id shown by `images` (the config digest, as docker does). */
  get id(): Digest {
    return this.configDigest;
  }

  /** Checks the structural rules of image-spec; throws INVALID_IMAGE naming the first broken one. */
  validate(): void {
    const m = this.manifest;
    const c = this.config;
    const bad = (why: string): never => {
      throw new NbuildError('INVALID_IMAGE', `invalid image ${this.manifestDigest.short()}: ${why}`);
    };
    if (m.schemaVersion !== 2) bad(`manifest schemaVersion is ${String(m.schemaVersion)}, want 2`);
    if (m.mediaType !== undefined && !isManifestType(m.mediaType)) bad(`manifest mediaType ${m.mediaType} is not an image manifest`);
    if (!m.config || typeof m.config !== 'object') bad('manifest has no config descriptor');
    if (!Array.isArray(m.layers)) bad('manifest has no layers array');
    if (m.config.mediaType !== OCI_CONFIG && m.config.mediaType !== DOCKER_CONFIG) bad(`config mediaType ${m.config.mediaType} is not an image config`);
    if (m.mediaType === DOCKER_MANIFEST && m.config.mediaType !== DOCKER_CONFIG) bad('docker manifest with a non-docker config');
    if (!Digest.isValid(m.config.digest) || !Digest.parse(m.config.digest).equals(this.configDigest)) bad(`config digest ${m.config.digest} does not match the config (${this.configDigest})`);
    if (m.config.size !== this.rawConfig.length) bad(`config size ${m.config.size} does not match the config (${this.rawConfig.length} bytes)`);
    for (const [i, l] of m.layers.entries()) checkDescriptor(l, `layer ${i}`, bad);
    if (typeof c.architecture !== 'string' || c.architecture === '') bad('config has no architecture');
    if (typeof c.os !== 'string' || c.os === '') bad('config has no os');
    if (!c.rootfs || c.rootfs.type !== 'layers' || !Array.isArray(c.rootfs.diff_ids)) bad('config rootfs is not {type: "layers", diff_ids: [...]}');
    if (c.rootfs.diff_ids.length !== m.layers.length) bad(`${m.layers.length} layers but ${c.rootfs.diff_ids.length} diff_ids`);
    for (const d of c.rootfs.diff_ids) if (!Digest.isValid(d)) bad(`invalid diff_id ${JSON.stringify(d)}`);
    if (Array.isArray(c.history) && c.history.length > 0) {
      const nonEmpty = c.history.filter((h) => !h.empty_layer).length;
      if (nonEmpty !== m.layers.length) bad(`history has ${nonEmpty} non-empty entries but the image has ${m.layers.length} layers`);
    }
  }
}

function checkDescriptor(d: Descriptor, what: string, bad: (why: string) => never): void {
  if (!d || typeof d !== 'object') bad(`${what} is not a descriptor`);
  if (typeof d.mediaType !== 'string' || d.mediaType === '') bad(`${what} has no mediaType`);
  if (!Digest.isValid(d.digest)) bad(`${what} has an invalid digest ${JSON.stringify(d.digest)}`);
  if (!Number.isSafeInteger(d.size) || d.size < 0) bad(`${what} has an invalid size`);
}

function layersOf(m: Manifest, c: ImageConfig): Layer[] {
  if (!Array.isArray(m.layers) || !c.rootfs || !Array.isArray(c.rootfs.diff_ids)) return [];
  if (m.layers.length !== c.rootfs.diff_ids.length) return [];
  const out: Layer[] = [];
  for (const [i, d] of m.layers.entries()) {
    if (!Digest.isValid(d.digest) || !Digest.isValid(c.rootfs.diff_ids[i])) return [];
    out.push(Object.freeze({ digest: Digest.parse(d.digest), diffId: Digest.parse(c.rootfs.diff_ids[i]), size: d.size, mediaType: d.mediaType }));
  }
  return out;
}

function parseJson<T>(raw: Buffer, what: string): T {
  try {
    const v: unknown = JSON.parse(raw.toString('utf8'));
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('not a JSON object');
    return v as T;
  } catch (e) {
    throw new NbuildError('INVALID_IMAGE', `invalid image ${what}: ${(e as Error).message}`, { cause: e });
  }
}

function deepFreeze<T>(v: T): T {
  if (v !== null && typeof v === 'object') {
    for (const k of Object.keys(v)) deepFreeze((v as Record<string, unknown>)[k]);
    Object.freeze(v);
  }
  return v;
}

export { hostPlatform } from './platform.js';
