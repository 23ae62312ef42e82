// Remembers the native probe's answers (~30 ms of namespaces and a test overlay mount per build)
// in the store's cache folder. The answers depend on the kernel, its settings, the helper
// binary, the id mapping and the temp folder's file system, so the record is keyed by all of
// them and by the boot id, and kept for an hour at most: a reboot, a kernel or sysctl change
// picked up by a reboot, a rebuilt helper, another TMPDIR or a new mapping probes again.
// What can change at any time (fuse-overlayfs on PATH, /dev/fuse access) is never cached.
import { readFileSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { release, tmpdir } from 'node:os';
import { writeFileAtomic } from '../store/fsutil.js';

const MAX_AGE_MS = 60 * 60 * 1000;

interface Record<T> {
  key: string;
  savedAt: number;
  probe: T;
}

function procText(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return '';
  }
}

/** What the probe's answers depend on, as one string. */
export async function probeKey(helper: string): Promise<string> {
  const [h, t] = await Promise.all([stat(helper), stat(tmpdir())]);
  return JSON.stringify([
    procText('/proc/sys/kernel/random/boot_id'),
    release(),
    `${h.dev}:${h.ino}:${h.size}:${h.mtimeMs}`,
    `${t.dev}`,
    process.geteuid?.() ?? -1,
    procText('/proc/self/uid_map'),
    procText('/proc/self/gid_map'),
  ]);
}

export async function readCachedProbe<T>(file: string, key: string): Promise<T | undefined> {
  try {
    const rec = JSON.parse(await readFile(file, 'utf8')) as Record<T>;
    const age = Date.now() - rec.savedAt;
    if (rec.key !== key || !(age >= 0 && age < MAX_AGE_MS)) return undefined;
    return rec.probe;
  } catch {
    return undefined; // missing or unreadable: probe again
  }
}

export async function writeCachedProbe<T>(file: string, tmpDir: string, key: string, probe: T): Promise<void> {
  const rec: Record<T> = { key, savedAt: Date.now(), probe };
  await writeFileAtomic(file, JSON.stringify(rec), tmpDir, { durable: false }).catch(() => undefined);
}
