// Fingerprints of folders: every entry's type, mode, owner, size, mtime and content (or link
// target). Two uses, one walk:
// - one folder before and after (a hostile build must leave it alone): link counts and mtimes
//   to the millisecond count, and the folder itself is an entry ("");
// - `portable`: two folders that should hold the same tree (an archive round trip): what an
//   archive keeps, so mtimes in whole seconds, xattrs, and hard links as the first name of their
//   group instead of link counts; the folder itself is left out.
// Entries the test user cannot read (a store's files owned by subordinate ids) are recorded by
// their metadata.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

export type Fingerprint = Map<string, string>;

export interface FingerprintOptions {
  portable?: boolean;
}

/** Every entry below `root` (relative path → description). */
export function fingerprint(root: string, options: FingerprintOptions = {}): Fingerprint {
  const out: Fingerprint = new Map();
  const firstNames = new Map<number, string>();
  const describe = (rel: string, abs: string, st: fs.Stats): string => {
    const mtime = options.portable ? `mtime=${Math.floor(st.mtimeMs / 1000)}` : `mtime=${st.mtimeMs}`;
    const links = options.portable ? hardLinkOf(rel, st) : `nlink=${st.nlink}`;
    const xattrs = options.portable && !st.isSymbolicLink() ? ` xattrs=${JSON.stringify(listXattrs(abs))}` : '';
    return `mode=${st.mode.toString(8)} ids=${st.uid}:${st.gid} ${links} ${mtime}${xattrs}`;
  };
  const hardLinkOf = (rel: string, st: fs.Stats): string => {
    if (!st.isFile() || st.nlink < 2) return 'links=1';
    const first = firstNames.get(st.ino);
    if (first === undefined) firstNames.set(st.ino, rel);
    return `link=${first ?? rel}`;
  };
  const walk = (rel: string): void => {
    const abs = path.join(root, rel);
    let st: fs.Stats;
    try {
      st = fs.lstatSync(abs);
    } catch (e) {
      out.set(rel, `missing ${(e as NodeJS.ErrnoException).code}`);
      return;
    }
    const record = (desc: string): void => {
      if (rel !== '' || !options.portable) out.set(rel, desc);
    };
    if (st.isSymbolicLink()) {
      record(`link -> ${fs.readlinkSync(abs)} ${describe(rel, abs, st)}`);
    } else if (st.isFile()) {
      record(`file size=${st.size} sha256=${hashFile(abs)} ${describe(rel, abs, st)}`);
    } else if (st.isDirectory()) {
      let names: string[];
      try {
        names = fs.readdirSync(abs).sort();
      } catch {
        record(`dir unreadable ${describe(rel, abs, st)}`);
        return;
      }
      record(`dir ${describe(rel, abs, st)}`);
      for (const name of names) walk(rel ? `${rel}/${name}` : name);
    } else {
      record(`other rdev=${st.rdev} ${describe(rel, abs, st)}`);
    }
  };
  walk('');
  return out;
}

/** sha256 of a file, read in pieces (layers' files may be large); "unreadable" without access. */
function hashFile(file: string): string {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return 'unreadable';
  }
  try {
    const hash = createHash('sha256');
    const buf = Buffer.alloc(1 << 20);
    for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0; ) hash.update(buf.subarray(0, n));
    return hash.digest('hex');
  } finally {
    fs.closeSync(fd);
  }
}

export function listXattrs(file: string): Record<string, string> {
  const out = execFileSync('python3', ['-c',
    'import os,sys,json; p=sys.argv[1]; print(json.dumps({k: os.getxattr(p,k,follow_symlinks=False).decode("latin1") for k in sorted(os.listxattr(p,follow_symlinks=False))}))', file]);
  return JSON.parse(out.toString()) as Record<string, string>;
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
