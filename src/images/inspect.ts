// inspectImages: config, manifest and digests of stored images (docker's `image inspect` shape).
import { NbuildError } from '../errors.js';
import type { Image } from '../image/image.js';
import { parseReference, type Reference } from '../image/reference.js';
import type { ContainerConfig, History, Index, Manifest } from '../image/types.js';
import { Store } from '../store/store.js';

export interface InspectImagesOptions {
  storeRoot: string;
  /** Names, ids or digests. */
  images: readonly string[];
}

export interface ImageDetails {
  Id: string;
  Digest: string;
  RepoTags: string[];
  RepoDigests: string[];
  Created: string | null;
  Author: string;
  Architecture: string;
  Os: string;
  Variant?: string;
  Config: ContainerConfig;
  RootFS: { Type: string; Layers: string[] };
  Size: number;
  History: History[];
  ManifestMediaType: string | null;
  Manifest: Manifest;
  Annotations: Record<string, string>;
}

/** A multi-platform image: its index, then each of its images as a single image is shown. */
export interface IndexDetails {
  Id: string;
  Digest: string;
  RepoTags: string[];
  RepoDigests: string[];
  MediaType: string | null;
  Platforms: string[];
  Index: Index;
  Manifests: ImageDetails[];
}

export async function inspectImages(options: InspectImagesOptions): Promise<(ImageDetails | IndexDetails)[]> {
  const store = await Store.open(options.storeRoot);
  const refs = await store.readRefs();
  const out: (ImageDetails | IndexDetails)[] = [];
  for (const arg of options.images) {
    const digest = await store.resolve(arg);
    if (!digest) throw new NbuildError('IMAGE_UNKNOWN', `no such image: ${arg}`);
    const names = Object.entries(refs.names).filter(([, d]) => d === digest.toString()).map(([n]) => parseReference(n));
    const index = await store.indexByDigest(digest);
    if (!index) {
      out.push(describeImage(await store.imageByDigest(digest), names));
      continue;
    }
    const images = await store.entryImages(digest);
    out.push({
      Id: index.digest.toString(),
      Digest: index.digest.toString(),
      RepoTags: names.map((r) => r.familiar()),
      RepoDigests: [...new Set(names.map((r) => `${r.familiarName()}@${index.digest}`))],
      MediaType: index.index.mediaType ?? null,
      Platforms: index.platforms(),
      Index: index.index,
      Manifests: images.map((img) => describeImage(img, [])),
    });
  }
  return out;
}

function describeImage(image: Image, names: Reference[]): ImageDetails {
  const c = image.config;
  return {
    Id: image.id.toString(),
    Digest: image.manifestDigest.toString(),
    RepoTags: names.map((r) => r.familiar()),
    RepoDigests: [...new Set(names.map((r) => `${r.familiarName()}@${image.manifestDigest}`))],
    Created: c.created ?? null,
    Author: c.author ?? '',
    Architecture: c.architecture,
    Os: c.os,
    ...(c.variant ? { Variant: c.variant } : {}),
    Config: c.config ?? {},
    RootFS: { Type: c.rootfs.type, Layers: c.rootfs.diff_ids },
    Size: image.layers.reduce((n, l) => n + l.size, 0),
    History: c.history ?? [],
    ManifestMediaType: image.manifest.mediaType ?? null,
    Manifest: image.manifest,
    Annotations: image.manifest.annotations ?? {},
  };
}
