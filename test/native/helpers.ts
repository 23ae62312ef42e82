// Helpers for the layer-engine tests: temp dirs and xattrs through python3 (node has no xattr
// API). Tree snapshots to compare round trips: test/helpers/tree-fingerprint.ts (portable). Raw (hostile) tars: test/helpers/hostile-archives.ts.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `nb-${prefix}-`));
}

export function setXattr(file: string, name: string, value: string): void {
  execFileSync('python3', ['-c', 'import os,sys; os.setxattr(sys.argv[1], sys.argv[2], sys.argv[3].encode(), follow_symlinks=False)', file, name, value]);
}

export { listXattrs } from '../helpers/tree-fingerprint.js';

export { sha256sum } from '../helpers/oci.js';
