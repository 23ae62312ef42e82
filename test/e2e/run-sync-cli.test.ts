// End to end, as an unprivileged user: what keeps the real fsync & co. that RUN steps otherwise
// skip (test/behaviour/run-sync.test.ts): the `--run-fsync` flag, NBUILD_RUN_FSYNC=1 as the CLI
// reads it, and `nbuild run`. The evidence: fsync on a pipe fails with EINVAL when the kernel
// really runs it, and only the namespace filter is on (Seccomp_filters 1).
import test from 'ava';
import { nbuild, storeWithBusybox, tempDir, writeFiles } from '../helpers/nbuild-cli.js';
import { FILTERS, PROBE, probeResults } from '../helpers/run-sync-probe.js';

let root: string;

test.before(async () => {
  root = await storeWithBusybox();
});

function probeCtx(): string {
  const ctx = tempDir('run-sync');
  writeFiles(ctx, { Dockerfile: ['FROM busybox:latest', `RUN ${PROBE}`, ''].join('\n') });
  return ctx;
}

async function probe(ctx: string, extra: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<Record<string, string>> {
  const r = await nbuild(['--root', root, 'build', '--no-cache', '--progress', 'plain', ...extra, ctx], { env });
  if (r.code !== 0) throw new Error(`build failed (${r.code}): ${r.stderr}`);
  return probeResults(r.stdout + r.stderr);
}

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
