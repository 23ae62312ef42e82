// Fingerprints of folders, to show that a hostile build left them alone: every entry's type,
// mode, owner, link count, size, mtime and content (or link target). Entries the test user
// cannot read (a store's files owned by subordinate ids) are recorded by their metadata.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

export type Fingerprint = Map<string, string>;

/** Every entry below `root` (relative path → description); `root` itself is "". */
export function fingerprint(root: string): Fingerprint {
  const out: Fingerprint = new Map();
  const walk = (rel: string): void => {
    const abs = path.join(root, rel);
    let st: fs.Stats;
    try {
      st = fs.lstatSync(abs);
    } catch (e) {
      out.set(rel, `missing ${(e as NodeJS.ErrnoException).code}`);
      return;
    }
    const meta = `mode=${st.mode.toString(8)} ids=${st.uid}:${st.gid} nlink=${st.nlink} mtime=${st.mtimeMs}`;
    if (st.isSymbolicLink()) {
      out.set(rel, `link -> ${fs.readlinkSync(abs)} ${meta}`);
    } else if (st.isFile()) {
      let content: string;
      try {
        content = createHash('sha256').update(fs.readFileSync(abs)).digest('hex');
      } catch {
        content = 'unreadable';
      }
      out.set(rel, `file size=${st.size} sha256=${content} ${meta}`);
    } else if (st.isDirectory()) {
      out.set(rel, `dir ${meta}`);
      let names: string[];
      try {
        names = fs.readdirSync(abs).sort();
      } catch {
        out.set(rel, `dir unreadable ${meta}`);
        return;
      }
      for (const name of names) walk(rel ? `${rel}/${name}` : name);
    } else {
      out.set(rel, `other rdev=${st.rdev} ${meta}`);
    }
  };
  walk('');
  return out;
}

/** What differs between two fingerprints (added, removed and changed entries), one line each. */
export function changes(before: Fingerprint, after: Fingerprint, keep: (rel: string) => boolean = () => true): string[] {
  const lines: string[] = [];
  for (const [rel, desc] of before) {
    if (!keep(rel)) continue;
    const now = after.get(rel);
    if (now === undefined) lines.push(`removed ${rel || '.'}`);
    else if (now !== desc) lines.push(`changed ${rel || '.'}: ${desc} => ${now}`);
  }
  for (const rel of after.keys()) if (keep(rel) && !before.has(rel)) lines.push(`added ${rel}`);
  return lines;
}
