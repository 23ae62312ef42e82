// RUN in a busybox root, as an unprivileged user: run with
//   runuser -u nbtest -- env HOME=/home/nbtest npx ava dist/test/sandbox/
import test from 'ava';
import { lstat, mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import { readSubIds, resolveUser } from '../../src/sandbox/index.js';
import { baseSpec, runFixture, sh, workspace } from './harness.js';

test('the command runs as root of the namespace on the overlay', async (t) => {
  const ws = await workspace();
  try {
    const res = await runFixture(ws, { spec: baseSpec(ws, sh('id -u; id -g; hostname; cat /etc/hosts')) });
    t.true(res.inUserNamespace);
    t.deepEqual(res.result, { exitCode: 0 });
    t.is(res.stdout, '0\n0\nnbuild-test\n127.0.0.1\tlocalhost\n');
  } finally {
    await ws.cleanup();
  }
});

test('chown to other ids lands in the upper dir with those ids', async (t) => {
  const ws = await workspace();
  try {
    const ids = [0, 33, 1000, 65534];
    const script = ids.map((id) => `touch /f${id} && chown ${id}:${id} /f${id}`).join(' && ');
    const res = await runFixture(ws, { spec: baseSpec(ws, sh(script)), stat: ids.map((id) => join(ws.upper, `f${id}`)) });
    t.deepEqual(res.result, { exitCode: 0 }, res.stderr);
    for (const id of ids) t.like(res.stats[join(ws.upper, `f${id}`)], { uid: id, gid: id });
    // Seen from the host, id N of the image is subordinate id start+N-1 (0 is the user).
    const me = userInfo();
    const range = readSubIds('/etc/subuid', me.username, me.uid);
    if (range) t.is((await lstat(join(ws.upper, 'f33'))).uid, range.start + 32);
    t.is((await lstat(join(ws.upper, 'f0'))).uid, me.uid);
  } finally {
    await ws.cleanup();
  }
});

test('USER by name gets its primary and supplementary groups', async (t) => {
  const ws = await workspace();
  try {
    const user = await resolveUser([ws.lower], 'user');
    t.deepEqual(user, { uid: 1000, gid: 1000, additionalGids: [1000, 29, 100], home: '/home/user' });
    const spec = baseSpec(ws, sh('id -u; id -g; id -G; touch /tmp/mine'), { ...user, cwd: user.home });
    const res = await runFixture(ws, { spec, stat: [join(ws.upper, 'tmp/mine')] });
    t.deepEqual(res.result, { exitCode: 0 }, res.stderr);
    const [uid, gid, groups] = res.stdout.trim().split('\n');
    t.is(uid, '1000');
    t.is(gid, '1000');
    t.deepEqual(groups.split(' ').map(Number).sort((a, b) => a - b), [29, 100, 1000]);
    t.like(res.stats[join(ws.upper, 'tmp/mine')], { uid: 1000, gid: 1000 });
  } finally {
    await ws.cleanup();
  }
});

test('the command is the child of PID 1 and sees no host process', async (t) => {
  const ws = await workspace();
  try {
    const script = 'echo $$; cut -d" " -f4 /proc/$$/stat; ls /proc | grep -E "^[0-9]+$" | wc -l; ps -o pid,comm';
    const res = await runFixture(ws, { spec: baseSpec(ws, sh(script)) });
    t.deepEqual(res.result, { exitCode: 0 }, res.stderr);
    const [pid, ppid, count] = res.stdout.split('\n');
    t.is(pid, '2');
    t.is(ppid, '1');
    // init, sh, ls, grep, wc: nothing of the host's hundreds of processes.
    t.true(Number(count) <= 6, res.stdout);
    t.false(res.stdout.includes('node'));
  } finally {
    await ws.cleanup();
  }
});

test('rm -rf / inside the sandbox leaves the host and the lower layer untouched', async (t) => {
  const ws = await workspace();
  try {
    const hostDir = join(ws.dir, 'host-data');
    await mkdir(hostDir);
    await writeFile(join(hostDir, 'keep'), 'precious');
    const script = `rm -rf ${hostDir} /oldroot /newroot /* 2>/dev/null; ls /bin/busybox 2>&1; exit 0`;
    const res = await runFixture(ws, { spec: baseSpec(ws, sh(script)) });
    t.deepEqual(res.result, { exitCode: 0 }, res.stderr);
    t.is(await readFile(join(hostDir, 'keep'), 'utf8'), 'precious');
    t.true((await lstat(join(ws.lower, 'bin/busybox'))).isFile());
    // The deletion is recorded in the layer as whiteouts.
    const wh = await lstat(join(ws.upper, 'bin'));
    t.true(wh.isCharacterDevice() && wh.rdev === 0);
  } finally {
    await ws.cleanup();
  }
});

test('exit codes and signals pass through', async (t) => {
  const ws = await workspace();
  try {
    t.deepEqual((await runFixture(ws, { spec: baseSpec(ws, sh('exit 7')) })).result, { exitCode: 7 });
    t.deepEqual((await runFixture(ws, { spec: baseSpec(ws, sh('kill -9 $$')) })).result, { exitCode: 137, signal: 'SIGKILL' });
    const missing = await runFixture(ws, { spec: baseSpec(ws, ['no-such-command']) });
    t.deepEqual(missing.result, { exitCode: 127 });
    t.regex(missing.stderr, /no-such-command/);
  } finally {
    await ws.cleanup();
  }
});

test('an aborted run leaves no process and no mount', async (t) => {
  const ws = await workspace();
  try {
    const marker = `sleep 1${process.pid % 1000}17`;
    const spec = baseSpec(ws, sh(`${marker} & ${marker}`));
    const res = await runFixture(ws, { spec, abortAfterMs: 500, marker, list: ws.upper });
    t.is(res.error?.code, 'ABORTED');
    t.is(res.leftovers, 0);
    // The overlay was only ever mounted in the sandbox's own mount namespace.
    const mounts = await readFile('/proc/self/mountinfo', 'utf8');
    t.false(mounts.includes(ws.dir));
  } finally {
    await ws.cleanup();
  }
});

test('network none cannot reach a listener on the host loopback; host network can', async (t) => {
  const ws = await workspace();
  const got: string[] = [];
  const server = createServer((s) => s.on('data', (d) => got.push(d.toString().trim())));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    const script = `echo hello | nc -w 2 127.0.0.1 ${port}; echo rc=$?; ip link show lo 2>/dev/null | head -1`;
    const none = await runFixture(ws, { spec: baseSpec(ws, sh(script), { network: 'none' }) });
    t.regex(none.stdout, /rc=[1-9]/);
    t.regex(none.stdout, /lo: <LOOPBACK,UP/);
    const host = await runFixture(ws, { spec: baseSpec(ws, sh(script), { network: 'host' }) });
    t.regex(host.stdout, /rc=0/);
    t.deepEqual(got, ['hello']);
  } finally {
    server.close();
    await ws.cleanup();
  }
});

test('the upper dir holds only what the command changed, not the sandbox mount points', async (t) => {
  const ws = await workspace();
  try {
    const cache = join(ws.dir, 'cache');
    await mkdir(cache);
    const spec = baseSpec(ws, sh('echo x > /etc/added; echo c > /mnt/cache/f; touch /root/.cache/t; ls /proc/self >/dev/null'), {
      mounts: [
        { type: 'bind', source: cache, target: '/mnt/cache', readonly: false },
        { type: 'tmpfs', target: '/root/.cache', readonly: false, options: ['size=1m'] },
        { type: 'bind', source: join(ws.lower, 'etc/passwd'), target: '/run/secrets/pw', readonly: true },
      ],
    });
    const res = await runFixture(ws, { spec, list: ws.upper });
    t.deepEqual(res.result, { exitCode: 0 }, res.stderr);
    t.deepEqual(res.listing, ['etc', 'etc/added']);
    t.is(await readFile(join(cache, 'f'), 'utf8'), 'c\n');
    // Nothing at all when the command changes nothing, with or without mount-point dirs in the image.
    const quiet = await runFixture(ws, { spec: baseSpec(ws, ['true']), list: ws.upper });
    t.deepEqual(quiet.listing, ['etc', 'etc/added']);
  } finally {
    await ws.cleanup();
  }
});

test('a read-only bind mount cannot be written', async (t) => {
  const ws = await workspace();
  try {
    const src = join(ws.dir, 'ro');
    await mkdir(src);
    const spec = baseSpec(ws, sh('touch /data/x; echo rc=$?'), {
      mounts: [{ type: 'bind', source: src, target: '/data', readonly: true }],
    });
    const res = await runFixture(ws, { spec, list: ws.upper });
    t.regex(res.stdout, /rc=1/);
    t.deepEqual(res.listing, []);
  } finally {
    await ws.cleanup();
  }
});

test('a plain directory root (copy-based snapshot) works and is cleaned of mount points', async (t) => {
  const ws = await workspace({ mountPoints: false });
  try {
    const spec = baseSpec(ws, sh('echo hi > /hello; cat /etc/hostname'), { rootfs: { kind: 'dir', path: ws.lower } });
    const res = await runFixture(ws, { spec, stat: ['proc', 'dev', 'sys', 'etc/hosts'].map((p) => join(ws.lower, p)) });
    t.deepEqual(res.result, { exitCode: 0 }, res.stderr);
    t.is(res.stdout, 'nbuild-test\n');
    t.is(await readFile(join(ws.lower, 'hello'), 'utf8'), 'hi\n');
    for (const v of Object.values(res.stats)) t.is(v, null);
  } finally {
    await ws.cleanup();
  }
});

test('with a single-id mapping RUN as root works and USER of an unmapped id fails clearly', async (t) => {
  const ws = await workspace();
  try {
    const empty = join(ws.dir, 'no-subids');
    await writeFile(empty, '');
    const files = { subuid: empty, subgid: empty };
    const root = await runFixture(ws, { spec: baseSpec(ws, sh('id -u; ls /dev/pts >/dev/null && echo pts')), list: ws.upper }, files);
    t.deepEqual(root.result, { exitCode: 0 }, root.stderr);
    t.is(root.stdout, '0\npts\n');
    t.deepEqual(root.listing, []);
    const user = await runFixture(ws, { spec: baseSpec(ws, ['id'], { uid: 1000, gid: 1000 }) }, files);
    t.deepEqual(user.result, { exitCode: 126 });
    t.regex(user.stderr, /setgid 1000 .*not mapped.*\/etc\/subgid/);
  } finally {
    await ws.cleanup();
  }
});

test('a lower stack longer than one mount option page mounts (one layer per fsconfig call)', async (t) => {
  const ws = await workspace();
  try {
    const layers: string[] = [];
    for (let i = 0; i < 150; i++) {
      const dir = join(ws.dir, 'layers', `layer-with-a-rather-long-directory-name-to-fill-the-page-${String(i).padStart(3, '0')}`);
      await mkdir(join(dir, 'stack'), { recursive: true });
      await writeFile(join(dir, 'stack', `l${i}`), `${i}\n`);
      await writeFile(join(dir, 'stack', 'top'), `${i}\n`);
      layers.unshift(dir); // the last one written is the top-most
    }
    t.true(layers.join(':').length > 8192);
    const spec = baseSpec(ws, sh('ls /stack | wc -l; cat /stack/top /stack/l0'), {
      rootfs: { kind: 'overlay', lowerDirs: [...layers, ws.lower], upperDir: ws.upper, workDir: ws.work },
    });
    const res = await runFixture(ws, { spec });
    t.deepEqual(res.result, { exitCode: 0 }, res.stderr);
    t.is(res.stdout, '151\n149\n0\n');
  } finally {
    await ws.cleanup();
  }
});
