// refs.json: which manifests are images of this store, and the names that point
// at them. Replaced atomically as a whole, always under the store lock.
import { readFileSync, statSync } from 'node:fs';
import { StoreError } from '../errors.js';
import { Digest } from '../image/digest.js';
import { errnoOf, writeFileAtomic } from './fsutil.js';

export interface ImageEntry {
  /** When the image entered this store (ISO 8601). */
  added: string;
}

export interface Refs {
  version: 1;
  /** manifest digest → entry */
  images: Record<string, ImageEntry>;
  /** normalised name (docker.io/library/busybox:latest) → manifest digest */
  names: Record<string, string>;
}

export function emptyRefs(): Refs {
  return { version: 1, images: {}, names: {} };
}

/** Read in place: small, and read a few times by every build (tag, lookups). */
export async function readRefs(file: string): Promise<Refs> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if (errnoOf(e) === 'ENOENT') return emptyRefs();
    throw e;
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new StoreError('STORE_CORRUPT', `${file} is not valid JSON; run 'nbuild store check --repair'`, { cause: e });
  }
  return checkRefs(v, file);
}

/**
 * refs.json parsed once while it stays the same file (inode, size, mtime and ctime in ns; every
 * write replaces it by rename), for lookups only: frozen. A build looks names up more than once
 * (its base images, then their configs for the checks, then its own tag), and the file grows with
 * the store (~240 bytes an image); one parse less keeps a no-op's allocations under a scavenge.
 */
export class RefsSnapshot {
  private key = '';
  private refs: Readonly<Refs> | undefined;

  constructor(private readonly file: string) {}

  async get(): Promise<Readonly<Refs>> {
    let key: string;
    try {
      const st = statSync(this.file, { bigint: true });
      key = `${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
    } catch (e) {
      if (errnoOf(e) !== 'ENOENT') throw e;
      key = 'none';
    }
    if (this.refs && key === this.key) return this.refs;
    // Replaced between the stat and the read: the next call's stat differs and reads it again.
    const refs = await readRefs(this.file);
    Object.freeze(refs.images);
    Object.freeze(refs.names);
    this.refs = Object.freeze(refs);
    this.key = key;
    return this.refs;
  }
}

function checkRefs(v: unknown, file: string): Refs {
  const bad = (): never => {
    throw new StoreError('STORE_CORRUPT', `${file} is not an nbuild refs file; run 'nbuild store check --repair'`);
  };
  if (v === null || typeof v !== 'object') bad();
  const r = v as Partial<Refs>;
  if (r.version !== 1 || typeof r.images !== 'object' || r.images === null || typeof r.names !== 'object' || r.names === null) bad();
  for (const [d, e] of Object.entries(r.images ?? {})) if (!Digest.isValid(d) || typeof e?.added !== 'string') bad();
  for (const d of Object.values(r.names ?? {})) if (!Digest.isValid(d)) bad();
  return r as Refs;
}

export async function writeRefs(file: string, refs: Refs, tmpDir: string): Promise<void> {
  const sorted: Refs = { version: 1, images: sortObject(refs.images), names: sortObject(refs.names) };
  await writeFileAtomic(file, `${JSON.stringify(sorted, null, 2)}\n`, tmpDir);
}

function sortObject<T>(o: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Names that point at a manifest digest. */
export function namesOf(refs: Refs, manifestDigest: string): string[] {
  return Object.entries(refs.names)
    .filter(([, d]) => d === manifestDigest)
    .map(([n]) => n)
    .sort();
}
