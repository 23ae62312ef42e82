// listImages: the images of the store, one entry per name (docker's `images` rows), newest first.
import { UsageError } from '../errors.js';
import { formatPlatform } from '../image/platform.js';
import { parseReference } from '../image/reference.js';
import { Store, type ImageListEntry } from '../store/store.js';

/** docker's `--filter KEY=VALUE` for images. */
export interface ImageFilter {
  key: 'dangling' | 'reference' | 'label' | 'before' | 'since';
  /** dangling: 'true' | 'false'; reference: a glob on NAME or NAME:TAG; label: K or K=V; before/since: an image. */
  value: string;
}

export interface ListImagesOptions {
  storeRoot: string;
  /** All must match (reference filters: each one). */
  filters?: readonly ImageFilter[];
}

export interface ImageSummary {
  /** Familiar name (`alpine`, `registry:5000/app`), `<none>` for an unnamed image. */
  repository: string;
  tag: string;
  /** The manifest digest, or a multi-platform image's index digest. */
  digest: string;
  /** The image id (config digest), or a multi-platform image's index digest (what build reports). */
  id: string;
  /** os/arch[/variant] of each image (several for a multi-platform index). */
  platforms: string[];
  multiPlatform: boolean;
  /** The config's `created`, if any. */
  created?: string;
  /** Config and layer blobs, in bytes. */
  size: number;
  labels: Record<string, string>;
}

export async function listImages(options: ListImagesOptions): Promise<ImageSummary[]> {
  const store = await Store.open(options.storeRoot);
  let entries = (await store.listImages()).sort((a, b) => (b.created ?? b.added).localeCompare(a.created ?? a.added));
  const filters = options.filters ?? [];
  for (const f of filters) {
    if (f.key === 'before' || f.key === 'since') {
      const other = await store.getImage(f.value);
      if (!other) throw new UsageError(`--filter ${f.key}=${f.value}: no such image`);
      const t = other.config.created ?? '';
      entries = entries.filter((e) => (f.key === 'before' ? (e.created ?? '') < t : (e.created ?? '') > t));
    }
  }
  const refFilters = filters.filter((f) => f.key === 'reference');
  const out: ImageSummary[] = [];
  for (const e of entries) {
    if (!matchesImage(e, filters)) continue;
    const size = (e.images ?? [e.image]).reduce((n, img) => img.layers.reduce((m, l) => m + l.size, n + img.configBytes().length), 0);
    const base = {
      digest: (e.index?.digest ?? e.image.manifestDigest).toString(),
      id: (e.index?.digest ?? e.image.id).toString(),
      platforms: e.index ? e.index.platforms() : [formatPlatform(e.image.config)],
      multiPlatform: e.index !== undefined,
      ...(e.created !== undefined ? { created: e.created } : {}),
      size,
      labels: e.image.config.config?.Labels ?? {},
    };
    if (e.names.length === 0) {
      if (refFilters.length === 0) out.push({ repository: '<none>', tag: '<none>', ...base });
      continue;
    }
    for (const n of e.names) {
      const ref = parseReference(n);
      if (!refFilters.every((f) => matchReference(f.value, ref.familiarName(), ref.tag))) continue;
      out.push({ repository: ref.familiarName(), tag: ref.tag, ...base });
    }
  }
  return out;
}

function matchesImage(e: ImageListEntry, filters: readonly ImageFilter[]): boolean {
  const labels = e.image.config.config?.Labels ?? {};
  return filters.every((f) => {
    if (f.key === 'dangling') return (e.names.length === 0) === (f.value === 'true');
    if (f.key === 'label') {
      const eq = f.value.indexOf('=');
      return eq < 0 ? f.value in labels : labels[f.value.slice(0, eq)] === f.value.slice(eq + 1);
    }
    return true;
  });
}

/** Docker's reference filter: a path.Match glob on NAME or NAME:TAG. */
function matchReference(pattern: string, name: string, tag: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')}$`);
  return pattern.includes(':') ? re.test(`${name}:${tag}`) : re.test(name);
}
