import test from 'ava';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Store } from '../../src/store/store.js';
import { checkStore } from '../../src/store/check.js';
import { makeImage, tempRoot } from './fixtures.js';

const child = path.join(path.dirname(fileURLToPath(import.meta.url)), 'child.js');

function runChild(root: string, mode: string, id: string, onLine?: (line: string, kill: () => void) => void): Promise<{ code: number | null; signal: string | null; out: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [child, root, mode, id], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (onLine && out.endsWith('\n')) onLine(out, () => p.kill('SIGKILL'));
    });
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('error', reject);
    p.on('close', (code, signal) => resolve({ code, signal, out: out + err }));
  });
}

test('four concurrent writers on one store all succeed', async (t) => {
  const root = await tempRoot();
  await Store.open(root);
  const results = await Promise.all(['1', '2', '3', '4'].map((id) => runChild(root, 'write', id)));
  for (const r of results) t.is(r.code, 0, r.out);
  const store = await Store.open(root);
  const names = (await store.listImages()).flatMap((e) => e.names);
  t.is(names.length, 20);
  for (const id of ['1', '2', '3', '4']) for (let i = 0; i < 5; i++) t.truthy(await store.cacheGet(`key-${id}-${i}`));
  t.deepEqual((await checkStore(store, false)).problems, []);
});

test('a process SIGKILLed holding the lock and a temp dir leaves the store usable and cleaned', async (t) => {
  const root = await tempRoot();
  await Store.open(root);
  let tmpDir = '';
  const r = await runChild(root, 'hold-lock', 'k', (out, kill) => {
    const m = /ready (\S+)/.exec(out);
    if (m) {
      tmpDir = m[1];
      kill();
    }
  });
  t.is(r.signal, 'SIGKILL', r.out);
  t.truthy(tmpDir);
  t.true((await fs.stat(path.join(root, 'lock'))).isFile(), 'the dead process still "holds" the lock');
  const store = await Store.open(root);
  await t.throwsAsync(fs.stat(tmpDir), undefined, 'its temp dir is cleaned by the next open');
  const img = await makeImage(store, 'after', 1);
  await store.tag('after', img); // takes over the stale lock
  t.truthy(await store.getImage('after'));
  t.deepEqual((await fs.readdir(store.tmpRoot)).filter((n) => !n.startsWith('session-')), []);
});

test('layers unpack in the user namespace and are deleted with their last image', async (t) => {
  const root = await tempRoot();
  const r = await runChild(root, 'unpack', 'u');
  t.is(r.code, 0, r.out);
  t.deepEqual(JSON.parse(r.out.trim().split('\n').pop()!), { content: 'u layer 1\n', unpacked: 2, left: [] });
});
