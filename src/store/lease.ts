// Leases: what a running build uses from the store without naming it (its base images' blobs and
// unpacked layers), so that a concurrent `rmi` + `prune` keeps them (issue 13 row 14). A lease is
// a temp entry like any other (temp.ts): `tmp/lease-<pid>-<rand>` holding the digests, written
// after its owner record `tmp/lease-….owner`. gc spares what the leases of live owners hold; the
// holder removes its lease when the build ends (or at exit), and the next Store.open removes the
// lease of a holder that died.

import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { randomSuffix, unlinkIfAny, writeFileAtomic } from './fsutil.js';
import { ownerAlive, parseOwner } from './owner.js';
import { writeOwnerFile } from './temp.js';

export interface Leased {
  /** Blob digests (hex): manifests, configs, layers. */
  blobs: Set<string>;
  /** Unpacked layers (diff_id hex). */
  layers: Set<string>;
}

const PREFIX = 'lease-';

/**
 * The leases of this process not yet released, removed at exit by one listener: a program that
 * runs many builds at once through the API (the tests do) adds no exit listener per build.
 */
const live = new Set<() => void>();
let exitHook = false;

function removeAtExit(remove: () => void): void {
  live.add(remove);
  if (exitHook) return;
  exitHook = true;
  process.once('exit', () => live.forEach((f) => f()));
}

/** This process's lease on a store: grows as the build resolves images, gone when released. */
export class Lease {
  private readonly held: Leased = { blobs: new Set(), layers: new Set() };
  private file: string | undefined;
  private readonly atExit = (): void => {
    if (this.file) for (const f of [this.file, `${this.file}.owner`]) unlinkIfAny(f);
  };

  constructor(private readonly tmpRoot: string) {}

  /** Adds digests to the lease file (written whole, so gc reads all of it or the previous one). */
  async add(blobs: string[], layers: string[]): Promise<void> {
    const before = this.held.blobs.size + this.held.layers.size;
    for (const b of blobs) this.held.blobs.add(b);
    for (const l of layers) this.held.layers.add(l);
    if (this.file && this.held.blobs.size + this.held.layers.size === before) return;
    if (!this.file) {
      const name = `${PREFIX}${randomSuffix()}`;
      await writeOwnerFile(this.tmpRoot, name);
      this.file = path.join(this.tmpRoot, name);
      removeAtExit(this.atExit);
    }
    const text = JSON.stringify({ blobs: [...this.held.blobs], layers: [...this.held.layers] });
    await writeFileAtomic(this.file, text, this.tmpRoot, { durable: false });
  }

  async release(): Promise<void> {
    if (!this.file) return;
    const file = this.file;
    this.file = undefined;
    this.held.blobs.clear();
    this.held.layers.clear();
    live.delete(this.atExit);
    unlinkIfAny(file);
    unlinkIfAny(`${file}.owner`);
  }
}

/** Everything the live leases of the store hold (a lease whose owner is gone holds nothing). */
export async function liveLeases(tmpRoot: string): Promise<Leased> {
  const out: Leased = { blobs: new Set(), layers: new Set() };
  for (const n of await fs.readdir(tmpRoot).catch(() => [] as string[])) {
    if (!n.startsWith(PREFIX) || !n.endsWith('.owner')) continue;
    const owner = parseOwner(await fs.readFile(path.join(tmpRoot, n), 'utf8').catch(() => ''));
    if (!owner || !ownerAlive(owner)) continue;
    const v = await fs.readFile(path.join(tmpRoot, n.slice(0, -'.owner'.length)), 'utf8').then((t) => JSON.parse(t) as Partial<Record<'blobs' | 'layers', unknown>>, () => undefined);
    for (const b of Array.isArray(v?.blobs) ? v.blobs : []) if (typeof b === 'string') out.blobs.add(b);
    for (const l of Array.isArray(v?.layers) ? v.layers : []) if (typeof l === 'string') out.layers.add(l);
  }
  return out;
}
