// bin/nbuild as an unprivileged user: the native launcher enters the user namespace and starts
// Node once (docs/decisions.md, "One Node process per command"); commands that stay outside the
// namespace run without it; exit codes and signals come through.
import test from 'ava';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { nbuild, projectRoot, storeWithBusybox, tempDir, writeFiles } from '../helpers/nbuild-cli.js';

const bin = path.join(projectRoot, 'bin', 'nbuild');

function children(pid: number): number[] {
  try {
    return fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function exeName(pid: number): string {
  try {
    return path.basename(fs.readlinkSync(`/proc/${pid}/exe`));
  } catch {
    return '';
  }
}

function uidMap(pid: number): string {
  return fs.readFileSync(`/proc/${pid}/uid_map`, 'utf8').trim().split(/\s+/).join(' ');
}

test('a build runs as one Node process, root of a user namespace, under the launcher', async (t) => {
  if (process.getuid?.() === 0) return t.pass('runs as an unprivileged user only (npm test re-runs itself as one)');
  const root = await storeWithBusybox();
  const ctx = tempDir('launcher');
  writeFiles(ctx, { Dockerfile: 'FROM busybox:latest\nRUN sleep 3\n' });
  const child = spawn(bin, ['--root', root, 'build', '--progress', 'quiet', ctx], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  const pid = child.pid as number;
  // bin/nbuild is a shell script that execs the launcher: same pid.
  let nodes: number[] = [];
  for (let i = 0; i < 200 && nodes.length === 0; i++) {
    await new Promise((r) => setTimeout(r, 50));
    nodes = children(pid).filter((c) => exeName(c) === 'node');
  }
  t.is(exeName(pid), 'nbuild-sandbox', 'the process bin/nbuild became is the native launcher');
  t.is(nodes.length, 1, 'the launcher has one Node child');
  t.is(uidMap(pid), '0 0 4294967295', 'the launcher stays in the host namespace');
  t.regex(uidMap(nodes[0]), new RegExp(`^0 ${process.getuid?.()} 1 1 \\d+ \\d+$`), 'Node runs as root of a user namespace with the subordinate range');
  const code = await exited;
  t.is(code, 0, stderr);
});

test('commands outside the namespace run Node directly; usage errors and exit codes come through', async (t) => {
  const version = await nbuild(['version']);
  t.is(version.code, 0);
  t.regex(version.stdout, /^nbuild \d+\.\d+\.\d+/);
  const bad = await nbuild(['--no-such-flag']);
  t.is(bad.code, 2);
  t.regex(bad.stderr, /^nbuild: /m);
  const root = tempDir('launcher-store');
  const missing = await nbuild(['--root', root, 'build', '--progress', 'quiet', path.join(tempDir('empty'), 'nowhere')]);
  t.is(missing.code, 1);
  t.is(missing.stderr.trim().split('\n').length, 1, missing.stderr);
});

test('NBUILD_NODE_ARGS reaches Node (profiling)', async (t) => {
  const dir = tempDir('cpu-prof');
  const r = await nbuild(['version'], { env: { NBUILD_NODE_ARGS: `--cpu-prof --cpu-prof-dir=${dir}` } });
  t.is(r.code, 0, r.stderr);
  t.true(fs.readdirSync(dir).some((f) => f.endsWith('.cpuprofile')));
});

// Node's last line on the launcher's pipe, `exit CODE` (src/cli/launcher-channel.ts), once
// everything it does is done: the launcher returns that code without waiting for Node's teardown
// (native/sandbox/handback.cc awaitExit). A preload stalls Node for 3 s right after it wrote the
// line: the command must return well before, with Node still alive, and with Node's exit code.
test('the launcher returns at Node\'s exit line, with its code, while Node is still ending', async (t) => {
  const root = await storeWithBusybox();
  const ctx = tempDir('exit-line');
  writeFiles(ctx, { Dockerfile: 'FROM busybox:latest\nCOPY a /a\n', a: 'a\n' });
  const dir = tempDir('exit-line-preload');
  const marks = path.join(dir, 'marks');
  const preload = path.join(dir, 'preload.cjs');
  fs.writeFileSync(
    preload,
    `const fs = require('fs'); const write = fs.writeSync; const channel = Number(process.env.NBUILD_HANDBACK_FD);
fs.writeSync = function (fd, text, ...rest) {
  const exitLine = fd === channel && String(text).startsWith('exit ');
  // Marked before the line goes out: the launcher may return, and the test read the marks, at once.
  if (exitLine) write.call(this, fs.openSync(${JSON.stringify(marks)}, 'a'), process.pid + ' ' + Date.now() + ' ' + String(text));
  const r = write.call(this, fd, text, ...rest);
  if (exitLine) {
    const until = Date.now() + 3000;
    while (Date.now() < until);
  }
  return r;
};`,
  );
  const env = { NBUILD_NODE_ARGS: `--require ${preload}` };
  for (const [args, code] of [
    [['--root', root, 'build', '--progress', 'quiet', '-t', 'exit-line', ctx], 0],
    [['--root', root, 'build', '--progress', 'quiet', '-f', path.join(ctx, 'missing.Dockerfile'), ctx], 1],
  ] as const) {
    fs.rmSync(marks, { force: true });
    // When the launcher ends ('exit'), not when its stdout and stderr close: Node holds them
    // until it ends.
    const child = spawn(bin, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const status = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    const returned = Date.now();
    t.is(status, code, stderr);
    const [pid, wrote, word, said] = fs.readFileSync(marks, 'utf8').trim().split(' ');
    t.is(`${word} ${said}`, `exit ${code}`);
    t.true(returned - Number(wrote) < 2000, `returned ${returned - Number(wrote)} ms after the exit line`);
    t.notThrows(() => process.kill(Number(pid), 0), 'Node still ending'); // it is, for ~3 s
  }
});
