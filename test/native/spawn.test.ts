// PipedProcess (src/native/spawn.ts): a program started by the addon's posix_spawn, as the RUN
// steps' sandbox helper is. What a ChildProcess would give: piped stdio, /dev/null, an fd of
// ours in a slot, the exit status or signal, 'close' after the output is drained, kill(), and a
// start failure as an error; and what libuv does for its children: no other fd of ours leaks in,
// and signals ignored here (Node ignores SIGPIPE) are back to their defaults.
import test from 'ava';
import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { PipedProcess } from '../../src/native/spawn.js';
import { NativeError } from '../../src/native/index.js';
import { tempDir } from './helpers.js';

interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
  err: string;
  events: string[];
}

function run(args: string[], stdio: ('pipe' | 'ignore' | number)[] = ['pipe', 'pipe', 'pipe'], input?: string): Promise<Ended> {
  const child = new PipedProcess('/bin/sh', args, stdio);
  const ended: Ended = { code: null, signal: null, out: '', err: '', events: [] };
  child.stdout?.on('data', (c: Buffer) => (ended.out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (ended.err += c.toString()));
  if (input !== undefined) child.stdin?.end(input);
  return new Promise((resolve) => {
    child.on('exit', () => ended.events.push('exit'));
    child.on('close', (code: number | null, signal: NodeJS.Signals | null) => {
      ended.events.push('close');
      resolve({ ...ended, code, signal });
    });
  });
}

test('stdin, stdout and stderr are pipes; the exit status and close come after the output', async (t) => {
  const r = await run(['-c', 'read line; echo "got $line"; echo oops >&2; exit 3'], ['pipe', 'pipe', 'pipe'], 'hello\n');
  t.is(r.out, 'got hello\n');
  t.is(r.err, 'oops\n');
  t.is(r.code, 3);
  t.is(r.signal, null);
  t.deepEqual(r.events, ['exit', 'close']);
});

test('a large output is drained before close', async (t) => {
  const r = await run(['-c', 'head -c 3000000 /dev/zero | tr "\\0" x']);
  t.is(r.out.length, 3_000_000);
  t.is(r.code, 0);
});

test('ignore is /dev/null, a number is that fd of ours, and an extra slot is a pipe', async (t) => {
  const dir = tempDir('spawn');
  const file = path.join(dir, 'out.txt');
  const fd = fs.openSync(file, 'w');
  try {
    const child = new PipedProcess('/bin/sh', ['-c', 'cat; echo to-fd >&2; echo event >&3'], ['ignore', 'pipe', fd, 'pipe']);
    let events = '';
    child.stdio[3]?.on('data', (c: Buffer) => (events += c.toString()));
    const code = await new Promise((resolve) => child.on('close', resolve));
    t.is(code, 0);
    t.is(events, 'event\n');
  } finally {
    fs.closeSync(fd);
  }
  t.is(fs.readFileSync(file, 'utf8'), 'to-fd\n');
});

test('no fd of ours but the slots is open in the child (a ChildProcess inherits any without close-on-exec)', async (t) => {
  const keep = fs.openSync('/dev/null', 'r'); // one more fd of ours while it starts
  try {
    const r = await run(['-c', 'ls /proc/self/fd']);
    const fds = r.out.trim().split('\n').map(Number).filter((n) => !Number.isNaN(n));
    // ls itself opens one to read the folder
    t.true(fds.every((n) => n <= 3), `open in the child: ${fds.join(' ')}`);
  } finally {
    fs.closeSync(keep);
  }
});

test('signal dispositions and mask are what a ChildProcess gets: SIGPIPE, ignored here, is back to its default', async (t) => {
  const script = 'grep -E "^Sig(Ign|Blk)" /proc/self/status';
  const r = await run(['-c', `yes | head -n 1; ${script}`]);
  // With SIGPIPE ignored, `yes` would get EPIPE and complain on stderr instead of dying quietly.
  t.regex(r.out, /^y\n/);
  t.is(r.err, '');
  t.is(r.out.slice(2), spawnSync('/bin/sh', ['-c', script], { encoding: 'utf8' }).stdout);
  const ignored = BigInt(`0x${/SigIgn:\s+([0-9a-f]+)/.exec(r.out)?.[1] ?? 'x'}`);
  t.is(ignored & (1n << 12n), 0n, 'SIGPIPE (13) is not ignored');
});

test('kill sends a signal and the close reports it; after the end kill is false', async (t) => {
  const child = new PipedProcess('/bin/sh', ['-c', 'exec sleep 30'], ['ignore', 'pipe', 'pipe']);
  const closed = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('close', (c: number | null, s: NodeJS.Signals | null) => resolve([c, s])));
  t.true(child.pid > 0);
  t.true(child.kill('SIGTERM'));
  t.deepEqual(await closed, [null, 'SIGTERM']);
  t.false(child.kill('SIGTERM'));
});

test('a program that cannot start is an error, with no process and no fd left', (t) => {
  const before = fs.readdirSync('/proc/self/fd').length;
  const e = t.throws(() => new PipedProcess('/nonexistent/helper', [], ['pipe', 'pipe', 'pipe']), { instanceOf: NativeError });
  t.regex(e?.message ?? '', /\/nonexistent\/helper/);
  t.is(e?.code, 'ENOENT');
  t.is(fs.readdirSync('/proc/self/fd').length, before);
});
