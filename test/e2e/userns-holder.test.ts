// The held user namespace (native/sandbox/userns_holder.h), as the unprivileged user: the first
// command that makes a namespace with the full subordinate maps leaves a holder in it; later
// commands join it instead of running newuidmap and newgidmap; a pid file that names anything else
// is not trusted; the holder keeps none of the command's output open and ends when unused.
// Each test has its own XDG_RUNTIME_DIR (where the pid file is) and PATH wrappers that log each
// newuidmap/newgidmap run before running the real one.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { hasCommand, nbuild, storeWithBusybox, tempDir, writeFiles, type RunResult } from '../helpers/nbuild-cli.js';

const unprivileged = process.getuid?.() !== 0;
const usable = unprivileged && hasCommand('newuidmap') && hasCommand('newgidmap');

interface Setup {
  env: NodeJS.ProcessEnv;
  pidFile: string;
  /** The id-map tools run so far. */
  runs: () => string[];
}

function setup(extra: NodeJS.ProcessEnv = {}): Setup {
  const runtime = tempDir('holder-run');
  const bin = tempDir('holder-bin');
  const log = path.join(bin, 'log');
  fs.writeFileSync(log, '');
  for (const tool of ['newuidmap', 'newgidmap']) {
    const real = execFileSync('sh', ['-c', `command -v ${tool}`]).toString().trim();
    fs.writeFileSync(path.join(bin, tool), `#!/bin/sh\necho ${tool} >> ${log}\nexec ${real} "$@"\n`, { mode: 0o755 });
  }
  const pidFile = path.join(runtime, `nbuild-userns-${process.getuid?.()}.pid`);
  const env = { XDG_RUNTIME_DIR: runtime, PATH: `${bin}:${process.env.PATH ?? ''}`, ...extra };
  return { env, pidFile, runs: () => fs.readFileSync(log, 'utf8').split('\n').filter(Boolean) };
}

function holderPid(pidFile: string): number {
  return Number(fs.readFileSync(pidFile, 'utf8').trim());
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function end(pidFile: string): void {
  try {
    process.kill(holderPid(pidFile), 'SIGTERM');
  } catch {
    // none, or gone
  }
}

async function until(what: string, cond: () => boolean, ms = 10_000): Promise<void> {
  const stop = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > stop) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function build(root: string, s: Setup, dockerfile: string): Promise<RunResult> {
  const ctx = tempDir('holder-ctx');
  writeFiles(ctx, { Dockerfile: dockerfile });
  return nbuild(['--root', root, 'build', '--progress', 'plain', '-q', ctx], { env: s.env });
}

test('later commands join the namespace the first one left held: newuidmap and newgidmap run once', async (t) => {
  if (!usable) return t.pass('needs an unprivileged user with newuidmap and newgidmap');
  const root = await storeWithBusybox();
  const s = setup();
  try {
    // RUN gives files to other ids: the joined namespace has the whole subordinate range.
    const first = await build(root, s, 'FROM busybox:latest\nRUN touch /a && chown 33:44 /a && stat -c %u:%g /a > /ids\n');
    t.is(first.code, 0, first.stderr);
    t.deepEqual(s.runs().sort(), ['newgidmap', 'newuidmap']);
    const holder = holderPid(s.pidFile);
    t.true(alive(holder));
    t.is(fs.readFileSync(`/proc/${holder}/cmdline`, 'utf8').split('\0')[1], 'userns-hold');
    const second = await build(root, s, 'FROM busybox:latest\nRUN touch /b && chown 1000:1000 /b && test "$(stat -c %u:%g /b)" = 1000:1000\n');
    t.is(second.code, 0, second.stderr);
    const images = await nbuild(['--root', root, 'images'], { env: s.env });
    t.is(images.code, 0, images.stderr);
    t.deepEqual(s.runs().sort(), ['newgidmap', 'newuidmap'], 'the second build and `images` made no namespace');
    // The holder gone: the next command makes a namespace again, and leaves a new holder.
    end(s.pidFile);
    await until('the holder to end', () => !alive(holder));
    const third = await build(root, s, 'FROM busybox:latest\nRUN true\n');
    t.is(third.code, 0, third.stderr);
    t.deepEqual(s.runs().sort(), ['newgidmap', 'newgidmap', 'newuidmap', 'newuidmap']);
    t.not(holderPid(s.pidFile), holder);
  } finally {
    end(s.pidFile);
  }
});

test('a pid file that names anything but a held namespace of this user is not trusted', async (t) => {
  if (!usable) return t.pass('needs an unprivileged user with newuidmap and newgidmap');
  const root = await storeWithBusybox();
  const s = setup();
  try {
    // This test's own process: the host's namespace, owned by root.
    fs.writeFileSync(s.pidFile, `${process.pid}\n`);
    const r = await build(root, s, 'FROM busybox:latest\nRUN chown 33 /tmp\n');
    t.is(r.code, 0, r.stderr);
    t.deepEqual(s.runs().sort(), ['newgidmap', 'newuidmap'], 'a namespace of its own');
    t.not(holderPid(s.pidFile), process.pid, 'and a holder of its own');
    end(s.pidFile);
    // A symbolic link to a pid file (of a real holder) is not followed.
    const other = setup();
    const made = await build(root, other, 'FROM busybox:latest\n');
    t.is(made.code, 0, made.stderr);
    fs.rmSync(s.pidFile, { force: true });
    fs.symlinkSync(other.pidFile, s.pidFile);
    const linked = await build(root, s, 'FROM busybox:latest\nRUN true\n');
    t.is(linked.code, 0, linked.stderr);
    t.deepEqual(s.runs().sort(), ['newgidmap', 'newgidmap', 'newuidmap', 'newuidmap']);
    end(other.pidFile);
  } finally {
    end(s.pidFile);
  }
});

test('the holder keeps none of the command\'s output or folders open and ends after NBUILD_USERNS_KEEP idle seconds; 0 keeps none', async (t) => {
  if (!usable) return t.pass('needs an unprivileged user with newuidmap and newgidmap');
  const root = await storeWithBusybox();
  const s = setup({ NBUILD_USERNS_KEEP: '1' });
  try {
    // nbuild() resolves once stdout and stderr are closed: a holder with either open would hang it.
    const r = await build(root, s, 'FROM busybox:latest\n');
    t.is(r.code, 0, r.stderr);
    const holder = holderPid(s.pidFile);
    t.is(fs.readlinkSync(`/proc/${holder}/cwd`), '/', 'not in the folder the command ran in');
    for (const fd of fs.readdirSync(`/proc/${holder}/fd`)) {
      const target = fs.readlinkSync(`/proc/${holder}/fd/${fd}`);
      t.is(target, '/dev/null', `fd ${fd} of the holder`);
    }
    await until('the idle holder to end', () => !alive(holder), 5_000);
    t.false(fs.existsSync(s.pidFile), 'its pid file removed');
    const none = setup({ NBUILD_USERNS_KEEP: '0' });
    for (let i = 0; i < 2; i++) t.is((await build(root, none, 'FROM busybox:latest\n')).code, 0);
    t.false(fs.existsSync(none.pidFile));
    t.deepEqual(none.runs().sort(), ['newgidmap', 'newgidmap', 'newuidmap', 'newuidmap']);
  } finally {
    end(s.pidFile);
  }
});

test('NBUILD_USERNS_KEEP that is not a number of seconds is refused with one line', async (t) => {
  if (!unprivileged) return t.pass('the launcher enters no namespace as root');
  const root = await storeWithBusybox();
  for (const bad of ['ten', '-1', '1.5', '604801', '99999999999999999999']) {
    const s = setup({ NBUILD_USERNS_KEEP: bad });
    const r = await build(root, s, 'FROM busybox:latest\n');
    t.is(r.code, 2, bad);
    t.is(r.stderr.trim(), `nbuild: NBUILD_USERNS_KEEP=${bad}: expected the seconds (0 to 604800) a held user namespace waits for the next command; 0 keeps none`);
    t.deepEqual(s.runs(), [], 'refused before any namespace is made');
  }
  // Empty is unset: the default.
  const s = setup({ NBUILD_USERNS_KEEP: '' });
  t.is((await build(root, s, 'FROM busybox:latest\n')).code, 0);
  t.true(fs.existsSync(s.pidFile));
  end(s.pidFile);
});
