// The CLI's re-exec into a user namespace, as an unprivileged user.
import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readSubIds, spawnInUserNamespace } from '../../src/sandbox/index.js';

const ENTER = fileURLToPath(new URL('./fixtures/enter.js', import.meta.url));
const me = userInfo();

test('enterUserNamespace re-executes as root of a namespace with the subordinate range and passes the exit status', async (t) => {
  const child = spawn(process.execPath, [ENTER, 'info'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  const code = await new Promise((resolve) => child.on('close', resolve));
  t.is(code, 5);
  const report = JSON.parse(out) as { euid: number; inside: boolean; env: string; uids: unknown[]; gids: unknown[] };
  t.is(report.euid, 0);
  t.true(report.inside);
  t.is(report.env, '1');
  const range = readSubIds('/etc/subuid', me.username, me.uid);
  t.truthy(range, 'this test needs a /etc/subuid range for the test user');
  if (range) {
    t.deepEqual(report.uids, [
      { containerId: 0, hostId: me.uid, size: 1 },
      { containerId: 1, hostId: range.start, size: range.count },
    ]);
  }
});

test('SIGTERM to the outer process reaches the inner one, whose status comes back', async (t) => {
  const child = spawn(process.execPath, [ENTER, 'wait'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  await new Promise<void>((resolve) =>
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('ready')) resolve();
    }),
  );
  child.kill('SIGTERM');
  const code = await new Promise((resolve) => child.on('close', resolve));
  t.is(code, 7);
  t.regex(out, /inner got SIGTERM/);
});

test('without a subordinate range one id is mapped, the reason passed on, and chown to another id fails', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'nbuild-userns-test-'));
  try {
    const empty = join(dir, 'empty');
    await writeFile(empty, '# nobody here\n');
    const script = `cat /proc/self/uid_map /proc/self/setgroups; touch ${dir}/f; chown 33 ${dir}/f; echo chown=$?; echo "single=$NBUILD_IDMAP_SINGLE"`;
    const child = await spawnInUserNamespace('/bin/sh', ['-c', script], {
      stdio: ['ignore', 'pipe', 'pipe'],
      subIdFiles: { subuid: empty, subgid: empty },
    });
    let out = '';
    child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
    const code = await new Promise((resolve) => child.on('close', resolve));
    t.is(code, 0);
    t.regex(out, new RegExp(`^\\s*0\\s+${me.uid}\\s+1\\n`));
    t.regex(out, /deny/);
    t.regex(out, /chown=1/);
    // Why, for the CLI's warning (src/sandbox/diagnose.ts).
    t.regex(out, new RegExp(`single=no range for user "${me.username}" in ${empty} and ${empty}`));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
