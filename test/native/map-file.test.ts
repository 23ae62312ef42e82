// mapFile (native/addon/mapped_file.cc): what bin/start.cjs maps instead of reading, the CLI bundle
// as an external latin1 string and its code cache as a Buffer, must be the file's bytes.
import test from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { binding } from '../../src/native/binding.js';

const dir = mkdtempSync(join(tmpdir(), 'nbuild-map-file-'));

test('a file mapped as a Buffer and as a latin1 string has its bytes', (t) => {
  const file = join(dir, 'bytes');
  const bytes = Buffer.alloc(300_000);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7 + 3) % 256;
  writeFileSync(file, bytes);
  const mapped = binding().mapFile(file);
  t.true(Buffer.isBuffer(mapped));
  t.true((mapped as Buffer).equals(bytes));
  const text = binding().mapFile(file, true);
  // Node 20.4 and later make external strings; before, mapFile says so and the file is read.
  if (text !== undefined) t.is(text, bytes.toString('latin1'));
});

test('an empty file maps to nothing; a missing file or a folder fails naming it', (t) => {
  const empty = join(dir, 'empty');
  writeFileSync(empty, '');
  t.is((binding().mapFile(empty) as Buffer).length, 0);
  t.throws(() => binding().mapFile(join(dir, 'missing')), { message: `${join(dir, 'missing')}: No such file or directory` });
  t.throws(() => binding().mapFile(dir, true), { message: `${dir}: not a regular file` });
});
