// pullImage: an image from its registry into the store (every platform of an index with allPlatforms).
import { UsageError } from '../errors.js';
import { Image } from '../image/image.js';
import { parseReference } from '../image/reference.js';
import { formatPlatform, parsePlatform } from '../registry/platform.js';
import { pullAny, type PullEvent } from '../registry/pull.js';
import type { SessionOptions } from '../registry/session.js';
import { Store } from '../store/store.js';

export interface PullImageOptions {
  storeRoot: string;
  /** NAME[:TAG|@DIGEST]. */
  reference: string;
  /** os/arch[/variant] to pick from a multi-platform image (default: this host). */
  platform?: string;
  /** Every platform of a multi-platform image, kept as one index. */
  allPlatforms?: boolean;
  /** TLS, credentials and auth files. */
  registry?: SessionOptions;
  onProgress?: (event: PullEvent) => void;
  /** Stops the pull (its temp files removed). */
  signal?: AbortSignal;
}

export interface PulledImage {
  /** The normalised reference it is stored under. */
  reference: string;
  /** The manifest digest, or the index digest with allPlatforms. */
  digest: string;
  platforms: string[];
}

export async function pullImage(options: PullImageOptions): Promise<PulledImage> {
  const ref = parseReference(options.reference);
  const store = await Store.open(options.storeRoot);
  const platform = options.platform ? parsePlatform(options.platform) : undefined;
  if (options.allPlatforms && platform) throw new UsageError('--all-platforms and --platform: give one');
  const image = await pullAny(store, ref, { platform, allPlatforms: options.allPlatforms ?? false, ...options.registry, onProgress: options.onProgress, signal: options.signal });
  return image instanceof Image
    ? { reference: ref.toString(), digest: image.manifestDigest.toString(), platforms: [formatPlatform(image.config)] }
    : { reference: ref.toString(), digest: image.digest.toString(), platforms: image.platforms() };
}
