// First-run diagnostics end to end, as the unprivileged user: a PATH without newuidmap gives one
// warning with the cause and the fix (and `nbuild info` the same), and a host whose user
// namespaces are switched off (user.max_user_namespaces=0, set in a namespace of our own) one
// error naming the sysctl and the fix. The causes one by one: test/sandbox/diagnose.test.ts.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { busyboxImage, hasCommand, nbuild, projectRoot, tempDir, writeFiles } from '../helpers/nbuild-cli.js';

const unprivileged = process.getuid?.() !== 0;

/** A PATH with node and nothing else (no newuidmap, newgidmap). */
function pathWithNodeOnly(): string {
  const dir = tempDir('path');
  fs.symlinkSync(process.execPath, path.join(dir, 'node'));
  return dir;
}

test('without newuidmap on PATH: one warning naming the cause and the fix; the build still works with one id', async (t) => {
  if (!unprivileged) return t.pass('runs as an unprivileged user only');
  const env = { PATH: pathWithNodeOnly() };
  const root = tempDir('store');
  const load = await nbuild(['--root', root, 'load', '-i', busyboxImage(), '-t', 'busybox:latest'], { env });
  t.is(load.code, 0, load.stderr);
  const ctx = tempDir('first-run');
  writeFiles(ctx, { Dockerfile: 'FROM busybox:latest\nRUN echo hi > /hi.txt\n' });
  const r = await nbuild(['--root', root, 'build', '--progress', 'plain', ctx], { env });
  t.is(r.code, 0, r.stderr);
  const fix = 'Fix: sudo apt-get install -y uidmap';
  const warnings = r.stderr.split('\n').filter((l) => l.includes('newuidmap'));
  t.deepEqual(warnings.length, 1, r.stderr);
  t.regex(warnings[0], /^nbuild: warning: newuidmap and newgidmap are not installed \(not on PATH\), so only your own id can be mapped: .*\. Fix: sudo apt-get install -y uidmap$/);
  const info = await nbuild(['info'], { env });
  t.is(info.code, 0, info.stderr);
  t.true(info.stdout.includes(`newuidmap and newgidmap are not installed`) && info.stdout.includes(fix), info.stdout);
});

const nested = unprivileged && hasCommand('setpriv') && hasCommand('newuidmap');
(nested ? test : test.skip)('user namespaces switched off: one error naming user.max_user_namespaces and the fix, from the launcher through the CLI', (t) => {
  // unshare --map-auto gives a namespace of our own with the subordinate range; its root sets
  // the namespace's user.max_user_namespaces to 0 and runs nbuild as uid 1000 in there.
  const work = tempDir('nested');
  fs.chmodSync(work, 0o777);
  const ctx = tempDir('nested-ctx');
  writeFiles(ctx, { Dockerfile: 'FROM busybox:latest\n' });
  fs.chmodSync(ctx, 0o755);
  const script = [
    'echo 0 > /proc/sys/user/max_user_namespaces',
    `exec setpriv --reuid=1000 --regid=1000 --clear-groups env HOME="$1" PATH="$PATH" "$2" --root "$1/store" build "$3" 2>&1`,
  ].join('\n');
  let out = '';
  let code = 0;
  try {
    out = execFileSync('unshare', ['--user', '--map-root-user', '--map-auto', 'sh', '-c', script, 'sh', work, path.join(projectRoot, 'bin', 'nbuild'), ctx], {
      encoding: 'utf8',
    });
  } catch (e) {
    const err = e as { status: number; stdout: string };
    code = err.status;
    out = err.stdout;
  }
  t.is(code, 1, out);
  t.is(
    out,
    "nbuild: cannot create a user namespace (No space left on device): user namespaces are disabled (sysctl user.max_user_namespaces = 0). Fix: echo 'user.max_user_namespaces=28633' | sudo tee /etc/sysctl.d/60-nbuild-userns.conf && sudo sysctl -p /etc/sysctl.d/60-nbuild-userns.conf\n",
  );
});
