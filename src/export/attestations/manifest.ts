// BuildKit's attestation layout (exporter/containerimage/writer.go commitAttestationsManifest):
// per image, one attestation manifest whose layers are in-toto statements
// (application/vnd.in-toto+json, annotated with their predicate type) and whose config is
// {"architecture":"unknown","os":"unknown",…,"rootfs":{diff_ids = the statements' digests}}.
// The image index lists the images, then the attestation manifests with platform unknown/unknown
// and the annotations vnd.docker.reference.type=attestation-manifest and
// vnd.docker.reference.digest=<the image manifest's digest>. An attestation manifest is a valid
// image manifest, so it is an Image here: stored, exported and pushed like one.
import { canonicalJson } from '../../image/canonical-json.js';
import { Digest } from '../../image/digest.js';
import { Image } from '../../image/image.js';
import { ImageIndex } from '../../image/image-index.js';
import { OCI_CONFIG, OCI_MANIFEST } from '../../image/media-types.js';
import { formatPlatform, normalizePlatform, platformOf } from '../../image/platform.js';
import { parseReference } from '../../image/reference.js';
import type { Descriptor, ImageConfig, Manifest } from '../../image/types.js';
import type { Store } from '../../store/store.js';

export const INTOTO_MEDIA_TYPE = 'application/vnd.in-toto+json';
export const INTOTO_STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
export const ANNOTATION_PREDICATE_TYPE = 'in-toto.io/predicate-type';
export const ANNOTATION_REFERENCE_TYPE = 'vnd.docker.reference.type';
export const ANNOTATION_REFERENCE_DIGEST = 'vnd.docker.reference.digest';
export const ATTESTATION_MANIFEST = 'attestation-manifest';
export const ATTESTATION_PLATFORM = { architecture: 'unknown', os: 'unknown' };

export interface Subject {
  name: string;
  digest: { sha256: string };
}

export interface Statement {
  _type: string;
  predicateType: string;
  subject: Subject[];
  predicate: unknown;
}

/**
 * The statements' subject: the image manifest, once per name as a package URL
 * (`pkg:docker/NAME@TAG?platform=…`, BuildKit's default subjects); none for an unnamed image.
 */
export function subjectsOf(image: Image, names: readonly string[]): Subject[] {
  return names.map((name) => ({ name: dockerPurl(name, formatPlatform(normalizePlatform(platformOf(image.config)))), digest: { sha256: image.manifestDigest.hex } }));
}

/** `pkg:docker/NAMESPACE/NAME@TAG?platform=os%2Farch` (util/purl RefToPURL, familiar name). */
export function dockerPurl(ref: string, platform?: string, type: 'docker' | 'oci' = 'docker'): string {
  const r = parseReference(ref);
  const name = r.familiarName().split('/').map((s) => encodeURIComponent(s).replace(/%3A/gi, ':')).join('/');
  const qualifiers = [...(r.digest ? [`digest=${encodeURIComponent(r.digest)}`] : []), ...(platform ? [`platform=${encodeURIComponent(platform)}`] : [])];
  const version = r.digest && !r.tagGiven ? '' : `@${encodeURIComponent(r.tag)}`;
  return `pkg:${type}/${name}${version}${qualifiers.length ? `?${qualifiers.join('&')}` : ''}`;
}

export function statement(predicateType: string, predicate: unknown, subject: Subject[]): Statement {
  return { _type: INTOTO_STATEMENT_TYPE, predicateType, subject, predicate };
}

/** Stores the statements as blobs and returns the attestation manifest (an Image) for `target`. */
export async function attestationImage(store: Store, statements: readonly Statement[]): Promise<Image> {
  const layers: Descriptor[] = [];
  for (const s of statements) {
    const bytes = Buffer.from(JSON.stringify(s));
    const digest = await store.putBlob(bytes, Digest.of(bytes));
    layers.push({ mediaType: INTOTO_MEDIA_TYPE, digest: digest.toString(), size: bytes.length, annotations: { [ANNOTATION_PREDICATE_TYPE]: s.predicateType } });
  }
  // The statements are not compressed: each diff_id is its digest (BuildKit's attestationsConfig).
  const config: ImageConfig & { config: Record<string, never> } = { ...ATTESTATION_PLATFORM, config: {}, rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) } };
  const configBytes = Buffer.from(canonicalJson(config));
  const manifest: Manifest = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: OCI_CONFIG, digest: Digest.of(configBytes).toString(), size: configBytes.length },
    layers,
  };
  const image = Image.fromBytes(Buffer.from(canonicalJson(manifest)), configBytes);
  await store.putImageBlobs(image);
  return image;
}

export interface IndexAnnotations {
  /** `index:` annotations: on the index itself. */
  index?: Readonly<Record<string, string>>;
  /** `manifest-descriptor:` annotations of each image's entry in the index. */
  manifestDescriptor?: (image: Image) => Readonly<Record<string, string>> | undefined;
}

/** The index of the images (their platforms) followed by their attestation manifests. */
export function indexWithAttestations(images: readonly Image[], attestations: ReadonlyMap<Image, Image>, annotations: IndexAnnotations = {}): ImageIndex {
  const entries: Descriptor[] = images.map((image) => {
    const extra = annotations.manifestDescriptor?.(image);
    return { ...image.descriptor(extra && Object.keys(extra).length ? { ...extra } : undefined), platform: platformOf(image.config) };
  });
  for (const image of images) {
    const att = attestations.get(image);
    if (!att) continue;
    entries.push({
      ...att.descriptor({ [ANNOTATION_REFERENCE_DIGEST]: image.manifestDigest.toString(), [ANNOTATION_REFERENCE_TYPE]: ATTESTATION_MANIFEST }),
      platform: { ...ATTESTATION_PLATFORM },
    });
  }
  return ImageIndex.fromDescriptors(entries, annotations.index);
}
