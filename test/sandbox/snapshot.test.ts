// The copy-based snapshot must record exactly what the kernel overlay records.
import test from 'ava';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { probeHost } from '../../src/snapshot/index.js';
import { baseSpec, inNamespace, workspace, type Workspace } from './harness.js';
import type { StepOutput, StepsRequest } from './fixtures/snapshot-steps.js';
import { inCi } from '../helpers/ci.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/snapshot-steps.js', import.meta.url));
// Probed before any test is declared (ava wants them all declared synchronously after this).
const fuse = await probeHost().then((p) => p.fuseOverlayfs);
const fuseUsable = fuse.binary !== undefined && fuse.devFuse.ok;
const fuseWhy = !fuse.binary ? 'fuse-overlayfs is not installed' : fuse.devFuse.error;
const fuseTest = fuseUsable || inCi ? test : test.skip;

async function runSteps(ws: Workspace, mode: StepsRequest['mode'], steps: string[]): Promise<StepOutput[]> {
  const { rootfs: _r, args: _a, ...spec } = baseSpec(ws, ['true']);
  const req: StepsRequest = { mode, base: ws.lower, dir: join(ws.dir, 'steps'), steps, spec };
  const file = join(ws.dir, `steps-${mode}.json`);
  await writeFile(file, JSON.stringify(req));
  const { code, stdout, stderr } = await inNamespace(process.execPath, [FIXTURE, file]);
  if (code !== 0) throw new Error(`fixture exited with ${code}: ${stderr}`);
  return JSON.parse(stdout) as StepOutput[];
}

const VIEW = "find /bin /etc /opt /var /tmp /link | sort | while read f; do stat -c '%n %F %u:%g %a %s' \"$f\"; done";

const STEPS = [
  'rm /bin/ls; mkdir -p /opt/a/b; echo 1 > /opt/one; echo x > /etc/new; chown 33:33 /etc/new; ln -s /x /link; chmod 700 /tmp; rm -rf /var/www',
  'test -e /bin/ls || echo ls-gone; cat /opt/one; rm /opt/one; echo 2 > /opt/two; echo more >> /etc/passwd; rm -rf /opt/a; mkdir /opt/a',
  VIEW,
];

test('copy-based snapshots give the same layers and output as the kernel overlay', async (t) => {
  const ws = await workspace();
  try {
    const overlay = await runSteps(ws, 'overlay', STEPS);
    const copy = await runSteps(ws, 'copy', STEPS);
    t.is(overlay[1].stdout, 'ls-gone\n1\n', overlay[1].stderr);
    t.deepEqual(overlay.map((o) => o.exitCode), [0, 0, 0]);
    t.deepEqual(copy.map((o) => o.exitCode), [0, 0, 0]);
    // The first overlay step, to pin down what "the same" means.
    const kinds = Object.fromEntries(overlay[0].upper.map((e) => [e.path, e.kind]));
    t.like(kinds, { bin: 'dir', 'bin/ls': 'whiteout', 'etc/new': 'file', link: 'symlink', 'var/www': 'whiteout', tmp: 'dir' });
    t.like(overlay[0].upper.find((e) => e.path === 'etc/new'), { uid: 33, gid: 33 });
    // What the container sees is the same in every step.
    for (const [i, o] of overlay.entries()) t.is(copy[i].stdout, o.stdout, `step ${i}`);
    t.regex(overlay[2].stdout, /^\/opt\/two regular file 0:0 644 2$/m);
    t.notRegex(overlay[2].stdout, /\/opt\/one|\/bin\/ls |\/var\/www/);
    // The layers are the same, but for one thing: the overlay marks a replaced dir opaque,
    // a plain copy cannot tell it from an emptied one and writes a whiteout per old entry.
    const strip = (es: StepOutput['upper']): string[] =>
      es.map((e) => `${e.path} ${e.kind} ${e.uid}:${e.gid} ${e.mode.toString(8)} ${e.content ?? ''}`);
    t.deepEqual(strip(copy[0].upper), strip(overlay[0].upper));
    const replaced = (es: StepOutput['upper']): string[] => strip(es).filter((s) => !s.startsWith('opt/a/'));
    t.deepEqual(replaced(copy[1].upper), replaced(overlay[1].upper));
    t.true(strip(copy[1].upper).includes('opt/a/b whiteout 0:0 0 '));
  } finally {
    await ws.cleanup();
  }
});


fuseTest(`fuse-overlayfs snapshots give exactly the kernel overlay's layers${fuseUsable || inCi ? '' : ` (skipped: ${fuseWhy})`}`, async (t) => {
  const ws = await workspace();
  try {
    const overlay = await runSteps(ws, 'overlay', STEPS);
    const fuseOut = await runSteps(ws, 'fuse-overlayfs', STEPS);
    t.deepEqual(fuseOut.map((o) => o.exitCode), [0, 0, 0], fuseOut.map((o) => o.stderr).join(''));
    for (const [i, o] of overlay.entries()) {
      t.is(fuseOut[i].stdout, o.stdout, `step ${i}`);
      t.deepEqual(fuseOut[i].upper, o.upper, `step ${i}`);
    }
  } finally {
    await ws.cleanup();
  }
});
