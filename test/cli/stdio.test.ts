// src/stdio.ts: nbuild's own lines written with write(2), and handed to the stream once a write
// fails (a non-blocking descriptor that is full, a closed one).
import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { descriptorSink } from '../../src/stdio.js';
import { tempDir } from '../helpers/nbuild-cli.js';

class Recorder {
  chunks: string[] = [];
  write(chunk: string | Uint8Array): boolean {
    this.chunks.push(Buffer.from(chunk).toString('utf8'));
    return true;
  }
}

test('lines go to the descriptor whole, multi-byte text and large writes included; the stream is not made', (t) => {
  const file = path.join(tempDir('stdio'), 'out');
  const fd = fs.openSync(file, 'w');
  let made = 0;
  const sink = descriptorSink(fd, () => {
    made++;
    return new Recorder() as unknown as NodeJS.WritableStream;
  });
  const big = 'ünïcödé '.repeat(40_000);
  t.true(sink.write('#1 [stage-0 1/2] FROM busybox\n'));
  t.true(sink.write(`${big}\n`));
  fs.closeSync(fd);
  t.is(fs.readFileSync(file, 'utf8'), `#1 [stage-0 1/2] FROM busybox\n${big}\n`);
  t.is(made, 0);
});

test('a failed write goes to the stream, and so does every later one', (t) => {
  const file = path.join(tempDir('stdio'), 'out');
  const fd = fs.openSync(file, 'w');
  fs.closeSync(fd); // EBADF from now on
  const stream = new Recorder();
  let made = 0;
  const sink = descriptorSink(fd, () => {
    made++;
    return stream as unknown as NodeJS.WritableStream;
  });
  sink.write('first\n');
  sink.write('second\n');
  t.deepEqual(stream.chunks, ['first\n', 'second\n']);
  t.is(made, 1);
});
