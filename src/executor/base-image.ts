// FROM: a name in the local store, or an image carried in by file
// (`oci-archive:PATH[:TAG]`, `oci:DIR[:TAG]`, `docker-archive:PATH[:NAME]`), as skopeo names them.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { Store } from '../store/store.js';
import type { Image } from '../image/image.js';
import { loadArchive, type LoadedImage } from '../store/load.js';
import { parseReference } from '../image/reference.js';
import { NbuildError } from '../errors.js';
import { platformMatches, type Platform } from '../image/platform.js';

export type ImageResolver = (ref: string, platform?: Platform) => Promise<Image | undefined>;

/**
 * The base images of a plan, resolved once before the stages run (build.ts reads their ONBUILD
 * triggers to plan), by reference and the platform of the stage built FROM it: baseImageKey().
 */
export type BaseImages = ReadonlyMap<string, { ref: string; image: Image }>;

export function baseImageKey(ref: string, platform: Platform): string {
  return `${ref}\0${platform.os}/${platform.architecture}/${platform.variant ?? ''}`;
}

/**
 * `pull`: ask the registry even when the store has the name (--pull). `platform`: the stage's;
 * a multi-platform image gives its manifest for it (default this host's).
 */
export async function resolveBaseImage(store: Store, ref: string, remote?: ImageResolver, pull = false, platform?: Platform): Promise<Image> {
  const image = await findBaseImage(store, ref, remote, pull, platform);
  // Until the build ends, a concurrent rmi + prune must not take the image's blobs away.
  await store.leaseImage(image, `base image ${ref}`);
  return image;
}

async function findBaseImage(store: Store, ref: string, remote: ImageResolver | undefined, pull: boolean, platform?: Platform): Promise<Image> {
  const transport = /^(oci-archive|oci|docker-archive):(.+)$/.exec(ref);
  if (transport) return fromTransport(store, ref, transport[1], transport[2], platform);
  const local = pull && remote ? undefined : await store.getImage(ref, platform);
  if (local && (!platform || !remote || platformMatches(platform, local.config) || (await store.isIndex(ref)))) return local;
  const fetched = remote ? await remote(ref, platform) : undefined;
  if (fetched) return fetched;
  throw new NbuildError('IMAGE_NOT_FOUND', `base image ${ref} is not in the local store (nbuild load -i FILE, or nbuild pull ${ref})`);
}

async function fromTransport(store: Store, ref: string, kind: string, rest: string, platform?: Platform): Promise<Image> {
  // `oci:DIR@sha256:…` (--build-context oci-layout://DIR@DIGEST): the manifest or index of that digest.
  const byDigest = /^(.+)@(sha256:[0-9a-f]{64})$/.exec(rest);
  const { file, tag } = byDigest ? { file: path.resolve(byDigest[1]), tag: undefined } : await splitTag(rest);
  const st = await fs.stat(file).catch(() => undefined);
  if (!st) throw new NbuildError('IMAGE_NOT_FOUND', `FROM ${ref}: ${file} does not exist`);
  if (kind === 'oci' && !st.isDirectory()) throw new NbuildError('IMAGE_NOT_FOUND', `FROM ${ref}: ${file} is not a folder (an OCI layout); use oci-archive: for a tar`);
  if (kind !== 'oci' && st.isDirectory()) throw new NbuildError('IMAGE_NOT_FOUND', `FROM ${ref}: ${file} is a folder; use oci:${file} for an OCI layout`);
  let loaded: LoadedImage[];
  try {
    // Stored unnamed: a base image read from a file must not move the store's own names.
    loaded = await loadArchive(store, file, { nameImages: false, platform });
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    throw new NbuildError('IMAGE_NOT_FOUND', `FROM ${ref}: ${message}`, { cause: e });
  }
  if (byDigest) {
    const digest = byDigest[2];
    const found = loaded.find((l) => l.image.manifestDigest.toString() === digest || l.index?.digest.toString() === digest);
    if (found) return found.image;
    throw new NbuildError('IMAGE_NOT_FOUND', `FROM ${ref}: no image of digest ${digest} in ${file}`);
  }
  const pick = tag === undefined ? only(loaded) : loaded.find((l) => matches(l, tag));
  if (pick) return pick.image;
  if (tag !== undefined) {
    const have = loaded.flatMap((l) => [...l.refNames, ...l.names]);
    throw new NbuildError('IMAGE_NOT_FOUND', `FROM ${ref}: no image tagged ${tag} in ${file}${have.length ? ` (it has: ${[...new Set(have)].join(', ')})` : ''}`);
  }
  throw new NbuildError('IMAGE_NOT_FOUND', `FROM ${ref}: ${file} holds ${loaded.length} images; name one with ${kind}:${file}:TAG`);
}

function only(loaded: LoadedImage[]): LoadedImage | undefined {
  return loaded.length === 1 ? loaded[0] : undefined;
}

/** skopeo's rule: the tag is the `ref.name` annotation as written; nbuild also accepts a full name's tag. */
function matches(l: LoadedImage, tag: string): boolean {
  if (l.refNames.includes(tag)) return true;
  for (const n of l.names) {
    if (n === tag || n.endsWith(`:${tag}`)) return true;
    try {
      if (parseReference(tag).toString() === n) return true;
    } catch {
      // not a reference: only a bare tag can match
    }
  }
  return false;
}

/**
 * `PATH[:TAG]`: the longest existing path wins (paths may hold colons; docker-archive's
 * NAME:TAG holds one too). Relative paths are relative to the current directory, as with skopeo.
 */
async function splitTag(rest: string): Promise<{ file: string; tag?: string }> {
  const exists = (p: string): Promise<boolean> => fs.stat(p).then(() => true, () => false);
  if (await exists(path.resolve(rest))) return { file: path.resolve(rest) };
  const colons = [...rest.matchAll(/:/g)].map((m) => m.index ?? 0).filter((i) => i > 0);
  for (const i of colons.reverse()) {
    if (await exists(path.resolve(rest.slice(0, i)))) return withTag(rest, i);
  }
  // Nothing exists: split at the last colon when what follows looks like a tag, for the error message.
  const last = rest.lastIndexOf(':');
  return last > 0 && /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(rest.slice(last + 1)) ? withTag(rest, last) : { file: path.resolve(rest) };
}

function withTag(rest: string, colon: number): { file: string; tag?: string } {
  const tag = rest.slice(colon + 1);
  return tag === '' ? { file: path.resolve(rest.slice(0, colon)) } : { file: path.resolve(rest.slice(0, colon)), tag };
}
