// The ladder's choice on synthetic host probes, and the id-map parsers: no namespaces needed.
import test from 'ava';
import { chooseIsolation, type HostProbe } from '../../src/snapshot/index.js';
import { parseSubIds, runSandboxed, toHostId } from '../../src/sandbox/index.js';
import { parseIdMap } from '../../src/sandbox/idmap.js';

const ok = { ok: true, error: '' };
const no = (error: string): { ok: false; error: string } => ({ ok: false, error });

function probe(over: Partial<HostProbe> = {}): HostProbe {
  return {
    euid: 1000,
    userNamespace: ok,
    mountNamespace: ok,
    pidNamespace: ok,
    networkNamespace: ok,
    overlay: ok,
    whiteout: ok,
    chroot: ok,
    fuseOverlayfs: { binary: undefined, devFuse: no('/dev/fuse: EACCES') },
    slirp4netns: { binary: undefined, devTun: no('/dev/net/tun: EACCES') },
    ...over,
  };
}

test('kernel overlay first when it works', (t) => {
  const r = chooseIsolation(probe(), undefined);
  t.is(r.chosen, 'overlay');
  const chroot = r.modes.find((m) => m.mode === 'chroot');
  t.false(chroot?.available);
  t.regex(chroot?.reason ?? '', /only for root/);
});

test('copy when overlay mounts are refused, with the reason for overlay', (t) => {
  const r = chooseIsolation(probe({ overlay: no('overlay mount: Operation not permitted') }), undefined);
  t.is(r.chosen, 'copy');
  t.regex(r.modes[0].reason, /overlay mount refused: overlay mount: Operation not permitted/);
  t.regex(r.modes[1].reason, /not installed/);
});

test('fuse-overlayfs when the kernel overlay is refused but it is installed and /dev/fuse is open', (t) => {
  const fuse = { binary: '/usr/bin/fuse-overlayfs', devFuse: ok };
  const r = chooseIsolation(probe({ overlay: no('EPERM'), fuseOverlayfs: fuse }), undefined);
  t.is(r.chosen, 'fuse-overlayfs');
  t.is(chooseIsolation(probe({ fuseOverlayfs: fuse }), undefined).chosen, 'overlay');
  t.is(chooseIsolation(probe({ fuseOverlayfs: fuse }), 'fuse-overlayfs').chosen, 'fuse-overlayfs');
  const closed = chooseIsolation(probe({ overlay: no('EPERM'), fuseOverlayfs: { ...fuse, devFuse: no('/dev/fuse: EACCES') } }), undefined);
  t.is(closed.chosen, 'copy');
  t.regex(closed.modes[1].reason, /\/dev\/fuse: EACCES: \/dev\/fuse is not open to this user/);
  t.throws(() => chooseIsolation(probe(), 'fuse-overlayfs'), { message: /not available here: fuse-overlayfs is not installed/ });
});

test('chroot for root when namespaces are refused; nothing for a user without them', (t) => {
  const refused = { userNamespace: no('EPERM'), mountNamespace: no('EPERM'), pidNamespace: no('EPERM') };
  t.is(chooseIsolation(probe({ ...refused, euid: 0 }), undefined).chosen, 'chroot');
  const r = chooseIsolation(probe(refused), undefined);
  t.is(r.chosen, undefined);
  t.true(r.modes.every((m) => !m.available && m.reason !== ''));
});

test('NBUILD_ISOLATION forces an available mode and refuses an unavailable or unknown one', (t) => {
  t.is(chooseIsolation(probe(), 'copy').chosen, 'copy');
  t.throws(() => chooseIsolation(probe(), 'chroot'), { message: /not available here: only for root/ });
  t.throws(() => chooseIsolation(probe(), 'vfs'), { message: /unknown isolation "vfs"/ });
});

test('subordinate ranges by name or uid; comments and bad lines skipped', (t) => {
  const text = '# c\nalice:100000:65536\n1001:200000:1000\nbob:x:y\n';
  t.deepEqual(parseSubIds(text, 'alice', 1000), { start: 100000, count: 65536 });
  t.deepEqual(parseSubIds(text, 'carol', 1001), { start: 200000, count: 1000 });
  t.is(parseSubIds(text, 'bob', 7), undefined);
});

test('id maps parse and translate', (t) => {
  const map = parseIdMap('         0       1001          1\n         1     100000      65536\n');
  t.deepEqual(map, [
    { containerId: 0, hostId: 1001, size: 1 },
    { containerId: 1, hostId: 100000, size: 65536 },
  ]);
  t.is(toHostId(map, 0), 1001);
  t.is(toHostId(map, 33), 100032);
  t.is(toHostId(map, 65537), undefined);
});

test('runSandboxed outside the user namespace says what to do', async (t) => {
  if (process.geteuid?.() === 0) return t.pass('root runs sandboxes directly');
  const spec = {
    rootfs: { kind: 'dir' as const, path: '/nonexistent' },
    args: ['true'], env: [], cwd: '/', uid: 0, gid: 0, additionalGids: [], hostname: 'h',
    network: 'host' as const, hosts: '', resolvConf: '', mounts: [],
  };
  await t.throwsAsync(runSandboxed(spec, { onStdout: () => {}, onStderr: () => {} }), { message: /enterUserNamespace/ });
});
