// Contexts on standard input (`nbuild build -`, `-f -`): reading stdin is the CLI's
// (src/cli/stdin-context.ts), so these run bin/nbuild as the unprivileged user. The other
// contexts (Git, URL, named) are built through the API: test/behaviour/contexts.test.ts.
import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { nbuild, storeWithBusybox, tempDir, writeFiles, type RunResult } from '../helpers/nbuild-cli.js';

let root: string;

test.before(async () => {
  root = await storeWithBusybox();
});

async function buildTo(args: string[], context: string, opts: { input?: string | Buffer } = {}): Promise<RunResult & { out: string }> {
  const out = path.join(tempDir('ctx-out'), 'fs');
  const r = await nbuild(['--root', root, 'build', '--progress', 'plain', '-o', out, ...args, context], opts);
  return { ...r, out };
}

const read = (dir: string, file: string): string => fs.readFileSync(path.join(dir, file), 'utf8');

test('-f - reads the Dockerfile from stdin with a folder context', async (t) => {
  const ctx = tempDir('ctx-f-stdin');
  writeFiles(ctx, { a: 'from-folder\n' });
  const r = await buildTo(['-f', '-'], ctx, { input: 'FROM busybox:latest\nCOPY a /a\n' });
  t.is(r.code, 0, r.stderr);
  t.is(read(r.out, 'a'), 'from-folder\n');
});

test('a broken tar on stdin: one line saying stdin cannot be unpacked as the build context', async (t) => {
  const ctx = tempDir('ctx-broken');
  fs.writeFileSync(path.join(ctx, 'big'), Buffer.alloc(256 * 1024, 7));
  const tgz = execFileSync('tar', ['-C', ctx, '-czf', '-', 'big']);
  const r = await nbuild(['--root', root, 'build', '-'], { input: tgz.subarray(0, Math.floor(tgz.length / 2)) });
  t.is(r.code, 1, r.stderr);
  t.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  t.regex(r.stderr, /stdin: cannot unpack the build context: /);
  t.notRegex(r.stderr, /ADD/);
});
