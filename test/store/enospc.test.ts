import test from 'ava';
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { tempRoot } from './fixtures.js';

const run = promisify(execFile);
const child = path.join(path.dirname(fileURLToPath(import.meta.url)), 'child.js');

// A 2 MiB tmpfs, mounted inside a user+mount namespace (no root needed where
// unprivileged user namespaces are allowed).
test('a store on a full tmpfs fails with a clear NO_SPACE StoreError and stays consistent', async (t) => {
  const dir = await tempRoot('nbuild-enospc-');
  const script = `mount -t tmpfs -o size=2m tmpfs '${dir}' && exec '${process.execPath}' '${child}' '${dir}/store' fill x`;
  let stdout: string;
  try {
    ({ stdout } = await run('unshare', ['--user', '--map-root-user', '--mount', 'sh', '-c', script]));
  } catch (e) {
    t.log(`skipped: cannot mount a tmpfs in a user namespace here (${(e as Error).message.split('\n')[0]})`);
    t.pass();
    return;
  }
  const r = JSON.parse(stdout.trim().split('\n').pop()!) as { result: string; problems: string[] };
  t.regex(r.result, /^NO_SPACE: no space left/);
  t.deepEqual(r.problems, [], 'no partial blob is left in the store');
});
