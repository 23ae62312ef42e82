// End to end, as an unprivileged user: RUN steps skip fsync & co. by default (a seccomp filter makes
// them return 0 without running); `--run-fsync` / NBUILD_RUN_FSYNC=1 keeps the real calls, and so
// does `nbuild run`. The evidence that a call was skipped rather than run: fsync on a pipe fails
// with EINVAL when the kernel really runs it (`echo x | dd conv=fsync | cat`), and succeeds
// under the filter.
import test from 'ava';
import * as os from 'node:os';
import { nbuild, storeWithBusybox, tempDir, writeFiles } from '../helpers/nbuild-cli.js';

let root: string;

test.before(async () => {
  root = await storeWithBusybox();
});

// One line per probe, each `NAME=RESULT`, so a failure message shows everything.
const PROBE = [
  // fsync(2) on a pipe (dd's stdout): EINVAL when it runs, 0 when skipped.
  'echo x | dd conv=fsync 2>/tmp/dd.err | cat >/dev/null; grep -q "Invalid argument" /tmp/dd.err && echo pipe-fsync=EINVAL || echo pipe-fsync=ok',
  // sync(2), syncfs(2) (`sync -f FILE`), fdatasync(2) (`sync -d FILE`): succeed either way.
  'sync && echo sync=ok || echo sync=fail',
  'echo data >/tmp/f && sync -f /tmp/f && echo syncfs=ok || echo syncfs=fail',
  'echo data >/tmp/g && sync -d /tmp/g && echo fdatasync=ok || echo fdatasync=fail',
  // Seccomp mode 2 always (the namespace filter, docs/security.md); Seccomp_filters (Linux 5.9+)
  // counts 2 with the sync filter on top, 1 without.
  'echo filter=$(grep "^Seccomp:" /proc/self/status | tr -d "\\t" | cut -d: -f2)',
  'echo filters=$(grep "^Seccomp_filters:" /proc/self/status | tr -d "\\t" | cut -d: -f2)',
  'echo nnp=$(grep "^NoNewPrivs:" /proc/self/status | tr -d "\\t" | cut -d: -f2)',
].join('; ');

// Seccomp_filters is in /proc/PID/status from Linux 5.9; before, the line (and the value) is empty.
const [major = 0, minor = 0] = os.release().split('.').map(Number);
const FILTERS = (n: number): string => (major > 5 || (major === 5 && minor >= 9) ? String(n) : '');

function probeCtx(user?: string): string {
  const ctx = tempDir('run-sync');
  const lines = ['FROM busybox:latest', ...(user ? [`USER ${user}`] : []), `RUN ${PROBE}`, ''];
  writeFiles(ctx, { Dockerfile: lines.join('\n') });
  return ctx;
}

async function probe(ctx: string, extra: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<Record<string, string>> {
  const r = await nbuild(['--root', root, 'build', '--no-cache', '--progress', 'plain', ...extra, ctx], { env });
  if (r.code !== 0) throw new Error(`build failed (${r.code}): ${r.stderr}`);
  const out: Record<string, string> = {};
  for (const m of (r.stdout + r.stderr).matchAll(/^#\d+ ([a-z-]+)=(\S*)$/gm)) out[m[1]] = m[2];
  return out;
}

test('a RUN step skips fsync: fsync on a pipe returns 0, the filter is active, no_new_privs is set', async (t) => {
  const r = await probe(probeCtx(), [], { NBUILD_RUN_FSYNC: '' });
  t.deepEqual(r, { 'pipe-fsync': 'ok', sync: 'ok', syncfs: 'ok', fdatasync: 'ok', filter: '2', filters: FILTERS(2), nnp: '1' });
});

test('the filter also covers a non-root USER (installed before the step drops to it)', async (t) => {
  const r = await probe(probeCtx('user'), [], { NBUILD_RUN_FSYNC: '' });
  t.is(r['pipe-fsync'], 'ok');
  t.is(r.filter, '2');
  t.is(r.nnp, '1', 'no_new_privs for every RUN (docs/security.md)');
});

test('the copy-based isolation skips fsync too', async (t) => {
  const r = await probe(probeCtx(), ['--isolation', 'copy'], { NBUILD_RUN_FSYNC: '' });
  t.is(r['pipe-fsync'], 'ok');
  t.is(r.filter, '2');
});

test('--run-fsync and NBUILD_RUN_FSYNC=1 keep the real calls', async (t) => {
  const flag = await probe(probeCtx(), ['--run-fsync'], { NBUILD_RUN_FSYNC: '' });
  t.deepEqual(flag, { 'pipe-fsync': 'EINVAL', sync: 'ok', syncfs: 'ok', fdatasync: 'ok', filter: '2', filters: FILTERS(1), nnp: '1' });
  const env = await probe(probeCtx(), [], { NBUILD_RUN_FSYNC: '1' });
  t.is(env['pipe-fsync'], 'EINVAL');
  t.is(env.filters, FILTERS(1));
});

test('nbuild run keeps the real calls (only build steps skip them)', async (t) => {
  const r = await nbuild(['--root', root, 'run', '--rm', 'busybox:latest', 'sh', '-c', PROBE], { env: { NBUILD_RUN_FSYNC: '' } });
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /^pipe-fsync=EINVAL$/m);
  t.regex(r.stdout, /^filter=2$/m, 'the namespace filter only');
  t.regex(r.stdout, new RegExp(`^filters=${FILTERS(1)}$`, 'm'));
});
