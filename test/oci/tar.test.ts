import test from 'ava';
import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { TarWriter, readTar } from '../../src/oci/tar.js';
import { tempRoot } from '../store/fixtures.js';

const run = promisify(execFile);

test('tar writer and reader agree with GNU tar, PAX long and non-ASCII names included', async (t) => {
  const dir = await tempRoot('nbuild-tar-');
  const file = path.join(dir, 'a.tar');
  const long = `${'deep/'.repeat(40)}file-with-a-long-name.txt`;
  const big = path.join(dir, 'big');
  await fs.writeFile(big, Buffer.alloc(3 * 1024 * 1024 + 7, 1));
  const fh = await fs.open(file, 'w');
  const tar = new TarWriter(fh);
  await tar.addDir('blobs');
  await tar.addBuffer('short.txt', Buffer.from('hi\n'));
  await tar.addBuffer(long, Buffer.from('long\n'));
  await tar.addBuffer('naïve-ünïcode.txt', Buffer.from('u\n'));
  await tar.addFile('blobs/big', big, 3 * 1024 * 1024 + 7);
  await tar.finish();
  await fh.close();
  const { stdout } = await run('tar', ['-tf', file]);
  t.deepEqual(stdout.trim().split('\n'), ['blobs/', 'short.txt', long, 'naïve-ünïcode.txt', 'blobs/big']);
  const seen: [string, number][] = [];
  await readTar(createReadStream(file, { highWaterMark: 1000 }), async (e, body) => {
    let n = 0;
    for await (const c of body) n += c.length;
    seen.push([e.name, n]);
  });
  t.deepEqual(seen, [['blobs/', 0], ['short.txt', 3], [long, 5], ['naïve-ünïcode.txt', 2], ['blobs/big', 3 * 1024 * 1024 + 7]]);
  // And GNU tar's own output (with its long-name extension) reads back.
  const gnu = path.join(dir, 'gnu.tar');
  await run('tar', ['--format=gnu', '-cf', gnu, '-C', dir, 'big', 'a.tar']);
  const names: string[] = [];
  await readTar(createReadStream(gnu), async (e) => void names.push(e.name));
  t.deepEqual(names, ['big', 'a.tar']);
});

test('a corrupt header is refused', async (t) => {
  const dir = await tempRoot('nbuild-tar-');
  const file = path.join(dir, 'a.tar');
  const fh = await fs.open(file, 'w');
  const tar = new TarWriter(fh);
  await tar.addBuffer('x', Buffer.from('x'));
  await tar.finish();
  await fh.close();
  const data = await fs.readFile(file);
  data[10] ^= 0xff;
  await fs.writeFile(file, data);
  await t.throwsAsync(readTar(createReadStream(file), async () => undefined), { code: 'ARCHIVE_INVALID', message: /checksum/ } as never);
});
