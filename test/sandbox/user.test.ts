import test from 'ava';
import { mkdtemp, mkdir, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveUser, resolveUserFrom } from '../../src/sandbox/index.js';
import { GROUP, PASSWD } from '../helpers/busybox-rootfs.js';

const cases: Array<[string, { uid: number; gid: number; additionalGids: number[]; home: string }]> = [
  ['', { uid: 0, gid: 0, additionalGids: [0], home: '/root' }],
  ['root', { uid: 0, gid: 0, additionalGids: [0], home: '/root' }],
  ['user', { uid: 1000, gid: 1000, additionalGids: [1000, 29, 100], home: '/home/user' }],
  ['1000', { uid: 1000, gid: 1000, additionalGids: [1000, 29, 100], home: '/home/user' }],
  ['user:users', { uid: 1000, gid: 100, additionalGids: [100], home: '/home/user' }],
  ['user:33', { uid: 1000, gid: 33, additionalGids: [33], home: '/home/user' }],
  ['4242', { uid: 4242, gid: 0, additionalGids: [0], home: '/' }],
  ['4242:4343', { uid: 4242, gid: 4343, additionalGids: [4343], home: '/' }],
  ['www-data', { uid: 33, gid: 33, additionalGids: [33], home: '/var/www' }],
  ['nobody', { uid: 65534, gid: 65534, additionalGids: [65534, 100], home: '/nonexistent' }],
];

for (const [spec, want] of cases) {
  test(`USER ${JSON.stringify(spec)} follows Docker's rules (the primary group is a supplementary one too)`, (t) => {
    t.deepEqual(resolveUserFrom(PASSWD, GROUP, spec), want);
  });
}

test('unknown names are errors with stable codes', (t) => {
  t.is(t.throws(() => resolveUserFrom(PASSWD, GROUP, 'ghost'))?.message, 'unable to find user ghost: no matching entries in passwd file');
  t.like(t.throws(() => resolveUserFrom(PASSWD, GROUP, 'user:ghosts')), { code: 'GROUP_NOT_FOUND' });
  t.like(t.throws(() => resolveUserFrom(undefined, undefined, 'user')), { code: 'USER_NOT_FOUND' });
  t.like(t.throws(() => resolveUserFrom(PASSWD, GROUP, '4294967296')), { code: 'USER_RANGE' });
});

test('numeric users work without /etc/passwd', (t) => {
  t.deepEqual(resolveUserFrom(undefined, undefined, '12:34'), { uid: 12, gid: 34, additionalGids: [34], home: '/' });
});

test('the top-most layer that has /etc/passwd wins; a whiteout-free upper dir does not hide it', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'nbuild-user-test-'));
  try {
    const [top, mid, base] = ['top', 'mid', 'base'].map((n) => join(dir, n));
    await mkdir(join(top, 'etc'), { recursive: true });
    await mkdir(join(mid, 'etc'), { recursive: true });
    await mkdir(join(base, 'etc'), { recursive: true });
    await writeFile(join(base, 'etc/passwd'), PASSWD);
    await writeFile(join(base, 'etc/group'), GROUP);
    await writeFile(join(mid, 'etc/passwd'), 'app:x:777:777::/app:/bin/sh\n');
    t.like(await resolveUser([top, mid, base], 'app'), { uid: 777, gid: 777, home: '/app' });
    await t.throwsAsync(resolveUser([top, mid, base], 'user'), { message: /unable to find user user/ });
    t.like(await resolveUser(base, 'user'), { uid: 1000, additionalGids: [1000, 29, 100] });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
