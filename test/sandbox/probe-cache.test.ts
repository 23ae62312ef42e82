// The host probe's cache (src/snapshot/probe-cache.ts): a record is used only for the same key
// and for an hour; anything unreadable counts as missing.
import test from 'ava';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { probeKey, readCachedProbe, writeCachedProbe } from '../../src/snapshot/probe-cache.js';

function dir(t: { teardown: (f: () => void) => void }): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'nbuild-probe-cache-'));
  t.teardown(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

test('a record comes back for its key only', async (t) => {
  const d = dir(t);
  const file = path.join(d, 'host-probe.json');
  await writeCachedProbe(file, d, 'key-a', { overlay: { ok: true, error: '' } });
  t.deepEqual(await readCachedProbe(file, 'key-a'), { overlay: { ok: true, error: '' } });
  t.is(await readCachedProbe(file, 'key-b'), undefined);
  t.deepEqual(fs.readdirSync(d), ['host-probe.json'], 'no temp file is left');
});

test('an old, broken or missing record is a miss', async (t) => {
  const d = dir(t);
  const file = path.join(d, 'host-probe.json');
  t.is(await readCachedProbe(file, 'k'), undefined);
  fs.writeFileSync(file, '{"key":"k","savedAt":');
  t.is(await readCachedProbe(file, 'k'), undefined);
  fs.writeFileSync(file, JSON.stringify({ key: 'k', savedAt: Date.now() - 2 * 3600_000, probe: {} }));
  t.is(await readCachedProbe(file, 'k'), undefined);
  fs.writeFileSync(file, JSON.stringify({ key: 'k', savedAt: Date.now() + 3600_000, probe: {} }));
  t.is(await readCachedProbe(file, 'k'), undefined, 'a record from the future is not trusted either');
});

test('the key changes with the helper binary and the temp folder', async (t) => {
  const d = dir(t);
  const helper = path.join(d, 'helper');
  fs.writeFileSync(helper, 'one');
  const before = await probeKey(helper);
  t.is(await probeKey(helper), before, 'stable');
  fs.writeFileSync(helper, 'two, longer');
  t.not(await probeKey(helper), before, 'a rebuilt helper probes again');
  const other = dir(t);
  const saved = process.env['TMPDIR'];
  try {
    process.env['TMPDIR'] = '/proc';
    const onProc = await probeKey(helper);
    process.env['TMPDIR'] = other;
    t.not(await probeKey(helper), onProc, 'a temp folder on another file system probes again');
  } finally {
    if (saved === undefined) delete process.env['TMPDIR'];
    else process.env['TMPDIR'] = saved;
  }
});
