// Chroot-like isolation is for real root where namespaces are refused, so this runs only as root
// (`sudo npx ava dist/test/sandbox/chroot.test.js`); as nbtest it is skipped.
import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { makeBusyboxRootfs } from '../helpers/busybox-rootfs.js';
import type { StepOutput, StepsRequest } from './fixtures/snapshot-steps.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/snapshot-steps.js', import.meta.url));
const asRoot = process.geteuid?.() === 0 ? test : test.skip;

asRoot('chroot isolation runs on a copy, records only the changes and restores /etc and /dev', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'nbuild-chroot-test-'));
  try {
    const base = await makeBusyboxRootfs(join(dir, 'base'));
    const req: StepsRequest = {
      mode: 'chroot',
      base,
      dir: join(dir, 'steps'),
      steps: ['id -u; cat /etc/hostname; echo hi > /root/x; echo ok > /dev/null && echo devnull; rm /bin/ls', 'exit 3'],
      spec: {
        env: ['PATH=/bin:/usr/bin:/sbin:/usr/sbin'],
        cwd: '/work',
        uid: 0,
        gid: 0,
        additionalGids: [],
        hostname: 'chrooted',
        network: 'host',
        hosts: '127.0.0.1 localhost\n',
        resolvConf: '',
        mounts: [],
      },
    };
    await writeFile(join(dir, 'req.json'), JSON.stringify(req));
    const { stdout } = await promisify(execFile)(process.execPath, [FIXTURE, join(dir, 'req.json')]);
    const out = JSON.parse(stdout) as StepOutput[];
    t.is(out[0].stdout, '0\nchrooted\ndevnull\n', out[0].stderr);
    t.deepEqual(out.map((o) => o.exitCode), [0, 3]);
    t.deepEqual(
      out[0].upper.map((e) => `${e.path} ${e.kind}`),
      ['bin dir', 'bin/ls whiteout', 'root dir', 'root/x file', 'work dir'],
    );
    t.deepEqual(out[1].upper, []);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
