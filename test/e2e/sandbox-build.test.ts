// End to end, as an unprivileged user: what a RUN step can and cannot do through `nbuild build`:
// ids in the layer, USER groups, PID isolation, no writes outside its layer, network modes,
// isolation modes giving the same image, and clean-up after SIGINT / SIGKILL.
import test from 'ava';
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import * as path from 'node:path';
import { nbuild, projectRoot, storeWithBusybox, tempDir, writeFiles } from '../helpers/nbuild-cli.js';
import { listLayer, openOciArchive } from '../helpers/oci.js';

async function buildTo(root: string, ctx: string, extra: string[] = []) {
  const out = path.join(tempDir('out'), 'image.tar');
  const r = await nbuild(['--root', root, 'build', '--progress', 'plain', '-o', `type=oci,dest=${out}`, ...extra, ctx]);
  return { ...r, out };
}

/** A file's content from the top-most layer of an OCI archive that has it. */
function fileInImage(archiveFile: string, name: string): string | undefined {
  const a = openOciArchive(archiveFile);
  for (const layer of [...a.manifest.layers].reverse()) {
    const blob = a.blob(layer.digest);
    if (listLayer(blob).some((e) => e.name === name)) return execFileSync('tar', ['-xOf', blob, name]).toString();
  }
  return undefined;
}

function dockerfileCtx(prefix: string, dockerfile: string, files: Record<string, string> = {}): string {
  const ctx = tempDir(prefix);
  writeFiles(ctx, { Dockerfile: dockerfile, ...files });
  return ctx;
}

/** Host processes whose command line contains `marker` (all users; /proc is readable). */
function processesWith(marker: string): number[] {
  const pids: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const cmdline = (() => {
      try {
        return fs.readFileSync(`/proc/${name}/cmdline`, 'utf8').replace(/\0/g, ' ');
      } catch {
        return '';
      }
    })();
    if (cmdline.includes(marker) && Number(name) !== process.pid) pids.push(Number(name));
  }
  return pids;
}

async function waitFor(what: string, cond: () => boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('chown to 0, 33, 1000 and 65534 shows those ids in the layer', async (t) => {
  const root = await storeWithBusybox();
  const ctx = dockerfileCtx(
    'chown',
    'FROM busybox:latest\nRUN mkdir /ids && for id in 0 33 1000 65534; do touch /ids/f$id && chown $id:$id /ids/f$id; done && mkdir /ids/d && chown 1000:33 /ids/d\n',
  );
  const r = await buildTo(root, ctx);
  t.is(r.code, 0, r.stderr);
  const a = openOciArchive(r.out);
  const owners = new Map(listLayer(a.blob(a.manifest.layers[1].digest)).map((e) => [e.name, e.owner]));
  for (const id of [0, 33, 1000, 65534]) t.is(owners.get(`ids/f${id}`), `${id}/${id}`);
  t.is(owners.get('ids/d'), '1000/33');
});

test('USER gets its supplementary groups from /etc/group', async (t) => {
  const root = await storeWithBusybox();
  // The busybox base lists user (1000) in www-data (33) and staff (50).
  const ctx = dockerfileCtx('groups', 'FROM busybox:latest\nUSER user\nRUN id > /tmp/id.txt && id -G > /tmp/gids.txt\nUSER 33:50\nRUN id > /tmp/id2.txt\n');
  const r = await buildTo(root, ctx);
  t.is(r.code, 0, r.stderr);
  const id = fileInImage(r.out, 'tmp/id.txt') ?? '';
  t.regex(id, /^uid=1000\(user\) gid=1000\(user\)/);
  t.deepEqual((fileInImage(r.out, 'tmp/gids.txt') ?? '').trim().split(/\s+/).map(Number).sort((x, y) => x - y), [33, 50, 1000]);
  // An explicit group means no supplementary groups (Docker's rule).
  t.regex(fileInImage(r.out, 'tmp/id2.txt') ?? '', /^uid=33\(www-data\) gid=50\(staff\)( groups=50\(staff\))?\n$/);
});

test('RUN is a child of PID 1 and sees no host process', async (t) => {
  const root = await storeWithBusybox();
  const marker = `nbuild-host-marker-${process.pid}-${Date.now()}`;
  // A host process the RUN must not see (its argv carries the marker).
  const host = spawn('sh', ['-c', `sleep 300; : ${marker}`], { stdio: 'ignore' });
  try {
    await waitFor('the marker process', () => processesWith(marker).length > 0, 5000);
    const ctx = dockerfileCtx(
      'pid',
      'FROM busybox:latest\nRUN echo "$$ $PPID" > /pids.txt && for p in /proc/[0-9]*; do echo "${p#/proc/} $(tr "\\0" " " < $p/cmdline)"; done > /procs.txt\n',
    );
    const r = await buildTo(root, ctx, ['--no-cache']);
    t.is(r.code, 0, r.stderr);
    t.is(fileInImage(r.out, 'pids.txt'), '2 1\n', 'the shell is PID 2, forked by the sandbox init (PID 1)');
    const procs = fileInImage(r.out, 'procs.txt') ?? '';
    t.notRegex(procs, new RegExp(marker));
    const pids = procs.trim().split('\n').map((l) => Number(l.split(' ')[0]));
    t.true(pids.includes(1) && pids.includes(2), procs);
    t.true(pids.length <= 5, `only the sandbox's own processes: ${procs}`);
  } finally {
    host.kill('SIGKILL');
  }
});

test('rm -rf / in a RUN leaves the host, the context and the store untouched', async (t) => {
  const root = await storeWithBusybox();
  const hostDir = tempDir('precious');
  writeFiles(hostDir, { 'keep.txt': 'keep\n' });
  const ctx = dockerfileCtx(
    'rmrf',
    [
      'FROM busybox:latest',
      // Read-only bind of the context (the default): deleting in it must fail, not reach the host.
      'RUN --mount=type=bind,target=/ctx rm -rf /ctx/* 2>/dev/null; test -f /ctx/Dockerfile',
      `RUN rm -rf ${hostDir} /oldroot /home /tmp /* 2>/dev/null; echo done`,
      '',
    ].join('\n'),
    { 'data.txt': 'context\n' },
  );
  const r = await buildTo(root, ctx);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout + r.stderr, /done/);
  t.is(fs.readFileSync(path.join(hostDir, 'keep.txt'), 'utf8'), 'keep\n');
  t.is(fs.readFileSync(path.join(ctx, 'data.txt'), 'utf8'), 'context\n');
  t.true(fs.existsSync(path.join(projectRoot, 'package.json')));
  // The base layer in the store is intact: it still runs.
  const again = await nbuild(['--root', root, 'run', '--rm', 'busybox:latest', 'head', '-1', '/etc/passwd']);
  t.is(again.code, 0, again.stderr);
  t.is(again.stdout, 'root:x:0:0:root:/root:/bin/sh\n');
  const last = openOciArchive(r.out);
  const names = listLayer(last.blob(last.manifest.layers[last.manifest.layers.length - 1].digest)).map((e) => e.name);
  t.true(names.includes('.wh.bin'), 'the deletion is whiteouts in the layer');
});

test('--network none and RUN --network=none cannot reach a host listener; --network host can', async (t) => {
  // Plain TCP and busybox nc: Debian's static busybox wget crashes (SIGSEGV) even on the host.
  const server = createServer((socket) => socket.end('reached\n'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  try {
    const root = await storeWithBusybox();
    const probe = (flag: string) =>
      `RUN ${flag}nc -w 5 127.0.0.1 ${port} < /dev/null > /got.txt || echo unreachable > /got.txt\n`;
    // The default (a namespace of the step's own) is test/security/sandbox.test.ts's.
    const host = await buildTo(root, dockerfileCtx('net-host', `FROM busybox:latest\n${probe('')}`), ['--network', 'host']);
    t.is(host.code, 0, host.stderr);
    t.is(fileInImage(host.out, 'got.txt'), 'reached\n');
    const flagNone = await buildTo(root, dockerfileCtx('net-none', `FROM busybox:latest\n${probe('')}`), ['--network', 'none']);
    t.is(flagNone.code, 0, flagNone.stderr);
    t.is(fileInImage(flagNone.out, 'got.txt'), 'unreachable\n');
    const runNone = await buildTo(root, dockerfileCtx('run-none', `FROM busybox:latest\n${probe('--network=none ')}`));
    t.is(runNone.code, 0, runNone.stderr);
    t.is(fileInImage(runNone.out, 'got.txt'), 'unreachable\n');
  } finally {
    server.close();
  }
});

// No hard links: copy mode stores a hard link made in a RUN as a second file (a known limit,
// docs/decisions.md), so that layer alone differs between the modes.
const sameDockerfile = `FROM busybox:latest
WORKDIR /app
RUN mkdir -p data/sub && echo one > data/a && ln -s a data/link && chmod 640 data/a && chown 1000:33 data/sub
RUN echo two >> data/a && rm data/link && rm /etc/group && mkdir -p /var/empty && touch -d @1000 /var/empty/x
RUN ["/bin/sh", "-c", "printf 'exec\\\\n' > /exec.txt"]
COPY file.txt /app/
`;

test('every isolation mode builds the same Dockerfile to the same digest', async (t) => {
  const ctx = dockerfileCtx('modes', sameDockerfile, { 'file.txt': 'from context\n' });
  const digests = new Map<string, string>();
  for (const mode of ['overlay', 'copy']) {
    const root = await storeWithBusybox();
    const r = await buildTo(root, ctx, ['--isolation', mode, '--timestamp', '0']);
    t.is(r.code, 0, `${mode}: ${r.stderr}`);
    if (r.code !== 0) continue;
    digests.set(mode, openOciArchive(r.out).index.manifests[0].digest);
    t.is(fileInImage(r.out, 'app/data/a'), 'one\ntwo\n', mode);
  }
  t.is(digests.get('copy'), digests.get('overlay'), 'overlay and copy give the same image');
  // chroot is only for real root in a container that refuses namespaces: here it must say so.
  const root = await storeWithBusybox();
  const chroot = await buildTo(root, ctx, ['--isolation', 'chroot']);
  if (process.getuid?.() === 0) {
    t.log('running as root: chroot mode is tested by test/sandbox/chroot.test.ts');
  } else {
    t.not(chroot.code, 0);
    t.regex(chroot.stderr, /isolation "chroot" is not available here: only for root/);
  }
});

/** Starts a build whose RUN sleeps, waits until the sleep runs, then kills nbuild with `signal`. */
async function interruptedBuild(signal: NodeJS.Signals) {
  const root = await storeWithBusybox();
  const marker = `${4000 + (process.pid % 1000)}.${Date.now() % 100000}`;
  const ctx = dockerfileCtx('interrupt', `FROM busybox:latest\nRUN echo start && sleep ${marker}\n`);
  const child = spawn(path.join(projectRoot, 'bin', 'nbuild'), ['--root', root, 'build', '--progress', 'plain', ctx], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.resume();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, sig) => resolve({ code, signal: sig })));
  await waitFor(`sleep ${marker} to start`, () => processesWith(`sleep ${marker}`).length > 0);
  child.kill(signal);
  const status = await exited;
  return { root, marker, status, stderr: () => stderr };
}

function mountsMentioning(dir: string): string[] {
  // A new process: mounts a dead build left in a namespace we share would show here.
  const text = execFileSync('cat', ['/proc/self/mountinfo']).toString();
  return text.split('\n').filter((l) => l.includes(dir));
}

async function expectCleanAfter(t: import('ava').ExecutionContext, root: string, marker: string): Promise<void> {
  // The sandbox's processes die with their parents (PDEATHSIG, PID namespace): give them a moment.
  await waitFor('the RUN processes to go', () => processesWith(`sleep ${marker}`).length === 0, 10_000).catch(() => undefined);
  t.deepEqual(processesWith(`sleep ${marker}`), [], 'no process of the build is left');
  t.deepEqual(processesWith(root), [], 'no nbuild process of that store is left');
  t.deepEqual(mountsMentioning(root), [], 'nothing is mounted under the store');
  // The next build cleans the dead build's work dirs from the store's tmp folder. (A command that
  // stays outside the user namespace, like `images`, may be unable to remove files with the
  // image's owners and leaves them for the next one that enters it.)
  const next = await nbuild(['--root', root, 'build', '--progress', 'quiet', dockerfileCtx('next', 'FROM busybox:latest\nRUN true\n')]);
  t.is(next.code, 0, next.stderr);
  const left = fs.readdirSync(path.join(root, 'tmp')).filter((n) => !n.startsWith('session-'));
  t.deepEqual(left, [], 'the store tmp folder is clean after the next run');
}

test('SIGINT mid-RUN: one clear line, non-zero exit, nothing left running or mounted', async (t) => {
  const { root, marker, status, stderr } = await interruptedBuild('SIGINT');
  t.not(status.code, 0);
  t.not(status.code, null, 'nbuild exits by itself on SIGINT');
  const lines = stderr().split('\n').filter((l) => l.startsWith('nbuild:'));
  t.is(lines.length, 1, stderr());
  t.regex(lines[0] ?? '', /interrupt/i);
  t.notRegex(stderr(), /\n\s+at /, 'no stack trace');
  await expectCleanAfter(t, root, marker);
});

test('SIGKILL mid-RUN: nothing left running or mounted, tmp cleaned by the next run', async (t) => {
  const { root, marker, status } = await interruptedBuild('SIGKILL');
  t.is(status.signal, 'SIGKILL');
  await expectCleanAfter(t, root, marker);
});
