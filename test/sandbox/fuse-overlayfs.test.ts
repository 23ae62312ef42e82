// The fuse-overlayfs rung: the upper-dir normalisation on a hand-made fuse-overlayfs upper dir
// (no FUSE, no namespace: whiteouts need no privilege, xattrs are set and read with python3), and
// the mount's option string. The whole rung through a build: test/behaviour/fuse-overlayfs.test.ts.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { normalizeFuseUpper } from '../../src/snapshot/copy.js';
import { fuseOverlayfsOptions } from '../../src/snapshot/fuse.js';

const py = (script: string, ...args: string[]): string => execFileSync('python3', ['-c', script, ...args]).toString();

/** path → "kind [opaque] [xattr names]" for every entry under root. */
function describe(root: string): Record<string, string> {
  return JSON.parse(
    py(
      `import os, sys, json, stat
root = sys.argv[1]; out = {}
for d, dirs, files in os.walk(root):
    for n in dirs + files:
        p = os.path.join(d, n); st = os.lstat(p); rel = os.path.relpath(p, root)
        kind = 'dir' if stat.S_ISDIR(st.st_mode) else 'file' if stat.S_ISREG(st.st_mode) else \\
            'whiteout' if stat.S_ISCHR(st.st_mode) and st.st_rdev == 0 else 'other'
        names = sorted(os.listxattr(p, follow_symlinks=False))
        out[rel] = ' '.join([kind] + names)
print(json.dumps(out))`,
      root,
    ),
  ) as Record<string, string>;
}

test('a fuse-overlayfs upper dir becomes the kernel overlay format', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'nbuild-fuse-upper-'));
  try {
    const lower = join(dir, 'lower');
    const upper = join(dir, 'upper');
    for (const d of ['rep/old', 'keep', 'etc']) mkdirSync(join(lower, d), { recursive: true });
    writeFileSync(join(lower, 'rep/old/f'), 'x');
    // What fuse-overlayfs 1.10 leaves in a user namespace (observed): a replaced dir and a new dir
    // under an existing one both get user.fuseoverlayfs.opaque, a .wh..wh..opq file and a 0/0 .wh..opq.
    for (const d of ['rep', 'keep/new/deeper', 'etc']) mkdirSync(join(upper, d), { recursive: true });
    writeFileSync(join(upper, 'rep/n'), 'new');
    writeFileSync(join(upper, 'keep/new/deeper/f'), 'f');
    writeFileSync(join(upper, 'keep/file'), 'f');
    writeFileSync(join(upper, 'etc/.wh.passwd'), '');
    py(
      `import os, sys
u = sys.argv[1]
for d in ['rep', 'keep/new']:
    p = os.path.join(u, d)
    os.setxattr(p, 'user.fuseoverlayfs.opaque', b'y')
    open(os.path.join(p, '.wh..wh..opq'), 'w').close()
    os.mknod(os.path.join(p, '.wh..opq'), 0o020000, os.makedev(0, 0))
os.mknod(os.path.join(u, 'gone'), 0o020000, os.makedev(0, 0))
os.setxattr(os.path.join(u, 'keep/file'), 'user.fuseoverlayfs.origin', b'x')
os.setxattr(os.path.join(u, 'keep/file'), 'user.mine', b'kept')`,
      upper,
    );
    const stats = await normalizeFuseUpper(upper, [lower]);
    t.is(stats.whiteouts, 2);
    t.deepEqual(describe(upper), {
      rep: 'dir user.overlay.opaque', // replaced: hides the lower rep/old
      'rep/n': 'file',
      keep: 'dir',
      'keep/new': 'dir', // no lower has keep/new: the mark meant nothing and is dropped
      'keep/new/deeper': 'dir',
      'keep/new/deeper/f': 'file',
      'keep/file': 'file user.mine',
      etc: 'dir',
      'etc/passwd': 'whiteout', // the .wh. fallback becomes a 0/0 device
      gone: 'whiteout',
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('fuse-overlayfs options: lowers top-most first, other users allowed, separators refused', (t) => {
  t.is(fuseOverlayfsOptions(['/l/2', '/l/1'], '/w/upper', '/w/work'), 'lowerdir=/l/2:/l/1,upperdir=/w/upper,workdir=/w/work,allow_other');
  t.throws(() => fuseOverlayfsOptions(['/l/a:b'], '/u', '/w'), { message: /cannot take the path "\/l\/a:b"/ });
  t.throws(() => fuseOverlayfsOptions(['/l'], '/u,x', '/w'), { message: /holds ':', ','/ });
});
