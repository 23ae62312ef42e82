// copyFileHashed: a context file copied into a COPY's staging tree and hashed in one read.
import test from 'ava';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { copyFileHashed } from '../../src/native/index.js';
import { tempDir } from './helpers.js';

test('copies the bytes and the mode, and gives the digest and the identity Node sees', async (t) => {
  const dir = tempDir('copy-hashed');
  for (const [name, data] of [
    ['empty', Buffer.alloc(0)],
    ['small', Buffer.from('hello\n')],
    ['big', randomBytes(3 * (1 << 20) + 17)], // more than one 1 MiB buffer
  ] as const) {
    const src = path.join(dir, name);
    fs.writeFileSync(src, data);
    fs.chmodSync(src, 0o751);
    const dst = path.join(dir, `${name}.copy`);
    const r = await copyFileHashed(src, dst);
    t.deepEqual(fs.readFileSync(dst), data, name);
    t.is(fs.statSync(dst).mode & 0o7777, 0o751, name);
    t.is(r.digest, `sha256:${createHash('sha256').update(data).digest('hex')}`, name);
    t.is(r.size, data.length);
    const st = fs.statSync(src);
    // The stat cache compares these with fs.Stats' numbers: they must be the very same doubles.
    t.deepEqual(r.identity, { dev: st.dev, ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs }, name);
  }
});

test('never writes through what is at the destination, and names the file it cannot read', async (t) => {
  const dir = tempDir('copy-hashed');
  const src = path.join(dir, 'src');
  fs.writeFileSync(src, 'new');
  const victim = path.join(dir, 'victim');
  fs.writeFileSync(victim, 'keep');
  fs.symlinkSync(victim, path.join(dir, 'link'));
  fs.linkSync(victim, path.join(dir, 'hard'));
  for (const name of ['link', 'hard', 'victim']) {
    await t.throwsAsync(copyFileHashed(src, path.join(dir, name)), { code: 'EEXIST' });
  }
  t.is(fs.readFileSync(victim, 'utf8'), 'keep');
  const e = await t.throwsAsync(copyFileHashed(path.join(dir, 'missing'), path.join(dir, 'out')));
  t.regex(String(e?.message), /missing/);
  await t.throwsAsync(copyFileHashed(dir, path.join(dir, 'out2')), { code: 'NOT_A_FILE' });
});

// sha256Files: the cold walk's files the stat cache does not know, hashed in batches
// (cache/content-hash.ts hashUnknown).
test('sha256Files: many files in one call, digests in the order given; a file that cannot be read fails it by name', async (t) => {
  const { sha256Files } = await import('../../src/native/index.js');
  const dir = tempDir('sha256-files');
  const datas = [Buffer.alloc(0), Buffer.from('a\n'), randomBytes(2 * (1 << 20) + 5), ...Array.from({ length: 300 }, (_, i) => Buffer.from(`file ${i}\n`))];
  const files = datas.map((d, i) => {
    const f = path.join(dir, `f${i}`);
    fs.writeFileSync(f, d);
    return f;
  });
  const digests = await sha256Files(files);
  t.deepEqual(digests, datas.map((d) => `sha256:${createHash('sha256').update(d).digest('hex')}`));
  t.deepEqual(await sha256Files([]), []);
  const missing = path.join(dir, 'missing');
  await t.throwsAsync(sha256Files([files[0] as string, missing]), { message: new RegExp(missing) });
  await t.throwsAsync(sha256Files(['relative']), { message: /absolute path/ });
});
