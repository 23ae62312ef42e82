// sha256 / sha256Hex / randomHex (native/addon/hash.cc): what configs, manifests, cache keys and
// temp names are hashed and named with instead of node:crypto. Checked against node:crypto, which
// stays the tests' independent oracle.
import test from 'ava';
import { createHash } from 'node:crypto';
import { randomHex, sha256, sha256Hex } from '../../src/native/index.js';

const nodeHex = (data: string | Uint8Array): string => createHash('sha256').update(data).digest('hex');

test('sha256Hex of strings (as UTF-8) and bytes is node:crypto\'s', (t) => {
  const big = Buffer.alloc(3 << 20);
  for (let i = 0; i < big.length; i++) big[i] = (i * 31 + 7) & 255;
  const inputs: (string | Uint8Array)[] = [
    '',
    'abc',
    'naïve — ünïcödé 🐳',
    'lone surrogates \ud800 and \udfff', // replaced by U+FFFD, as V8 writes UTF-8 for both
    'x'.repeat(1023),
    'y'.repeat(1024),
    'z'.repeat(200_000),
    Buffer.from('hello'),
    new Uint8Array(Buffer.from('a view into the middle').buffer, 2, 7),
    Buffer.from('0123456789').subarray(3, 8),
    big,
  ];
  for (const data of inputs) t.is(sha256Hex(data), nodeHex(data), typeof data === 'string' ? data.slice(0, 20) : `${data.length} bytes`);
});

test('sha256 updates in pieces give the digest of the whole; hex() finishes it', (t) => {
  const h = sha256();
  t.is(h.update('one\n').update(Buffer.from('two\n')).update('três\n'), h);
  t.is(h.hex(), nodeHex('one\ntwo\ntrês\n'));
  t.throws(() => h.update('more'), { message: 'sha256: update after hex()' });
  t.throws(() => h.hex(), { message: 'sha256: hex() called twice' });
  t.is(sha256().hex(), nodeHex(''));
});

test('sha256 refuses what is neither a string nor bytes', (t) => {
  for (const bad of [5, undefined, null, {}, ['a']]) {
    t.throws(() => sha256Hex(bad as unknown as string), { message: 'sha256: expected a string or bytes' });
    t.throws(() => sha256().update(bad as unknown as string), { message: 'sha256: expected a string or bytes' });
  }
});

test('randomHex gives 2n lowercase hex digits, different each time; refuses a bad count', (t) => {
  const seen = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const r = randomHex(8);
    t.regex(r, /^[0-9a-f]{16}$/);
    seen.add(r);
  }
  t.is(seen.size, 200);
  t.regex(randomHex(1), /^[0-9a-f]{2}$/);
  t.is(randomHex(256).length, 512);
  for (const bad of [0, -1, 257]) t.throws(() => randomHex(bad), { message: 'randomHex: 1 to 256 bytes' });
  t.throws(() => randomHex('8' as unknown as number), { message: 'randomHex: expected a byte count' });
});
