// Outputs (-o, `nbuild save`) are written under temp names beside or inside their destination and
// renamed into place, so a failed or interrupted write leaves nothing half-written:
//  - what a write made so far is removed when it fails, and at exit: a signal ends the CLI with
//    process.exit (src/interrupt.ts), or aborts a build whose failing write cleans up;
//  - a SIGKILLed writer cannot clean up: its temp names carry its pid (`…tmp-<pid>-<hex>`), and
//    the next write to the same place removes those whose writer is gone.
// Used by -o outputs (src/export/) and OCI layout folders (src/oci/layout.ts); the errors of an
// output write are named by src/export/output-error.ts.
import { chmodSync, readdirSync, rmSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { randomSuffix, removeTree } from '../store/fsutil.js';
import { pidRunning } from '../store/owner.js';

const TMP = '.tmp-';
const pending = new Set<string>();
let installed = false;

/** What one output write made: removed (newest first) if the write does not finish. */
export class PartialOutput {
  private readonly made: string[] = [];

  /** Records a path this write is about to create. */
  add(p: string): void {
    this.made.push(p);
    pending.add(p);
    install();
  }

  /** Runs `write`; if it fails, removes what it made and rethrows. */
  async run<T>(write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (e) {
      for (const p of [...this.made].reverse()) await removeTree(p).catch(() => undefined);
      throw e;
    } finally {
      for (const p of this.made) pending.delete(p);
    }
  }
}

/** Writes `file` whole (a temp beside it, renamed over it), leaving no temp behind on failure. */
export async function replaceFile(file: string, data: Buffer | string): Promise<void> {
  const tmp = tempBeside(file);
  const partial = new PartialOutput();
  partial.add(tmp);
  await partial.run(async () => {
    await fs.writeFile(tmp, data, { flag: 'wx', mode: 0o644 });
    await fs.rename(tmp, file);
  });
}

/** A temp name beside `dest` (same file system, so it can be renamed over it). */
export function tempBeside(dest: string): string {
  return path.join(path.dirname(dest), `.${path.basename(dest)}${TMP}${randomSuffix()}`);
}

/** A temp name inside the folder `dir`. */
export function tempInside(dir: string): string {
  return path.join(dir, `.nbuild${TMP}${randomSuffix()}`);
}


/**
 * Removes temps `.NAME.tmp-<pid>-<hex>` in `dir` whose writer is gone: of `name` only, or of any
 * name (for folders that are all ours, such as a layout's blobs).
 */
export async function removeDeadTemps(dir: string, name?: string): Promise<void> {
  const re = /^\.(.+)\.tmp-(\d+)-[0-9a-f]+$/;
  for (const n of await fs.readdir(dir).catch(() => [] as string[])) {
    const m = re.exec(n);
    if (!m || (name !== undefined && m[1] !== name) || pidRunning(Number(m[2]))) continue;
    await removeTree(path.join(dir, n)).catch(() => undefined);
  }
}

/** Removes what dead writers of `dest` left: temps beside it, and inside it when it is a folder. */
export async function removeStaleTemps(dest: string): Promise<void> {
  await removeDeadTemps(path.dirname(dest), path.basename(dest));
  await removeDeadTemps(dest, 'nbuild');
}

function install(): void {
  if (installed) return;
  installed = true;
  process.once('exit', removePending);
}

function removePending(): void {
  for (const p of [...pending].reverse()) {
    try {
      rmSync(p, { recursive: true, force: true });
    } catch {
      makeWritableSync(p);
      try {
        rmSync(p, { recursive: true, force: true });
      } catch {
        // what is left carries our pid: the next write to this place removes it
      }
    }
  }
  pending.clear();
}

// A rootfs keeps the image's modes (dr-x------ folders): open them up to remove them.
function makeWritableSync(dir: string): void {
  try {
    chmodSync(dir, 0o700);
    for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) makeWritableSync(path.join(dir, e.name));
  } catch {
    // not a folder, or gone
  }
}
