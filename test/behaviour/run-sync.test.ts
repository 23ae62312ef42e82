// RUN steps skip fsync & co. by default (a seccomp filter makes them return 0 without running),
// built through the API (build()), for every user and isolation. The evidence that a call was
// skipped rather than run: fsync on a pipe fails with EINVAL when the kernel really runs it
// (`echo x | dd conv=fsync | cat`), and succeeds under the filter. `--run-fsync`,
// NBUILD_RUN_FSYNC=1 and `nbuild run`, which keep the real calls, are test/e2e/run-sync-cli.test.ts's.
import test from 'ava';
import { apiBuild } from '../helpers/api-build.js';
import { apiStoreWithBusybox } from '../helpers/api-store.js';
import { tempDir, writeFiles } from '../helpers/nbuild-cli.js';
import { FILTERS, PROBE, probeResults } from '../helpers/run-sync-probe.js';

let root: string;

test.before(async () => {
  root = await apiStoreWithBusybox();
});

function probeCtx(user?: string): string {
  const ctx = tempDir('run-sync');
  const lines = ['FROM busybox:latest', ...(user ? [`USER ${user}`] : []), `RUN ${PROBE}`, ''];
  writeFiles(ctx, { Dockerfile: lines.join('\n') });
  return ctx;
}

async function probe(ctx: string, extra: string[] = []): Promise<Record<string, string>> {
  const r = await apiBuild(root, ctx, ['--no-cache', ...extra], { env: { ...process.env, NBUILD_RUN_FSYNC: '' } });
  if (r.code !== 0) throw new Error(`build failed (${r.code}): ${r.stderr}`);
  return probeResults(r.stdout + r.stderr);
}

test('a RUN step skips fsync: fsync on a pipe returns 0, the filter is active, no_new_privs is set', async (t) => {
  const r = await probe(probeCtx());
  t.deepEqual(r, { 'pipe-fsync': 'ok', sync: 'ok', syncfs: 'ok', fdatasync: 'ok', filter: '2', filters: FILTERS(2), nnp: '1' });
});

test('the filter also covers a non-root USER (installed before the step drops to it)', async (t) => {
  const r = await probe(probeCtx('user'));
  t.is(r['pipe-fsync'], 'ok');
  t.is(r.filter, '2');
  t.is(r.nnp, '1', 'no_new_privs for every RUN (docs/security.md)');
});

test('the copy-based isolation skips fsync too', async (t) => {
  const r = await probe(probeCtx(), ['--isolation', 'copy']);
  t.is(r['pipe-fsync'], 'ok');
  t.is(r.filter, '2');
});
