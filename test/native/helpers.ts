// Helpers for the layer-engine tests: temp dirs, xattrs through python3 (node has no xattr
// API) and a tree snapshot to compare round trips. Raw (hostile) tars: test/helpers/hostile-archives.ts.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `nb-${prefix}-`));
}

export function setXattr(file: string, name: string, value: string): void {
  execFileSync('python3', ['-c', 'import os,sys; os.setxattr(sys.argv[1], sys.argv[2], sys.argv[3].encode(), follow_symlinks=False)', file, name, value]);
}

export function listXattrs(file: string): Record<string, string> {
  const out = execFileSync('python3', ['-c',
    'import os,sys,json; p=sys.argv[1]; print(json.dumps({k: os.getxattr(p,k,follow_symlinks=False).decode("latin1") for k in sorted(os.listxattr(p,follow_symlinks=False))}))', file]);
  return JSON.parse(out.toString()) as Record<string, string>;
}

/** One line per path: type, mode, ids, size, mtime, content hash or link target, xattrs, link group. */
export function snapshot(root: string): string[] {
  const lines: string[] = [];
  const inodes = new Map<number, string>();
  const walk = (rel: string): void => {
    for (const name of fs.readdirSync(path.join(root, rel)).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const p = path.join(root, r);
      const st = fs.lstatSync(p);
      let what = '';
      if (st.isFile()) {
        what = st.size > 64 << 20 ? `big:${st.size}` : createHash('sha256').update(fs.readFileSync(p)).digest('hex').slice(0, 16);
        if (st.nlink > 1) {
          const first = inodes.get(st.ino);
          if (first) what += ` link=${first}`;
          else inodes.set(st.ino, r);
        }
      } else if (st.isSymbolicLink()) what = `-> ${fs.readlinkSync(p)}`;
      else if (st.isCharacterDevice() || st.isBlockDevice()) what = `dev ${st.rdev}`;
      const x = st.isSymbolicLink() ? {} : listXattrs(p);
      const mtime = st.isSymbolicLink() ? '' : ` t=${Math.floor(st.mtimeMs / 1000)}`;
      lines.push(`${r} ${(st.mode >>> 0).toString(8)} ${st.uid}:${st.gid} ${what}${mtime} ${JSON.stringify(x)}`);
      if (st.isDirectory()) walk(r);
    }
  };
  walk('');
  return lines;
}

export function sha256sum(file: string): string {
  return `sha256:${execFileSync('sha256sum', [file]).toString().split(' ')[0]}`;
}
