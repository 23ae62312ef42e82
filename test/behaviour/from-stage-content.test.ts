// COPY --from=STAGE is keyed by what it reads in the stage (executor/stage-paths.ts digestPaths),
// as in BuildKit: a stage rebuilt to the same output leaves the COPY cached; different bytes or a
// different mode miss. (RUN --mount from= is BuildKit's testMountRWCache, test/buildkit/mount.)
import test from 'ava';
import * as path from 'node:path';
import type { BuildEvent } from '../../src/index.js';
import { apiBuild } from '../helpers/api-build.js';
import { apiStoreWithBusybox } from '../helpers/api-store.js';
import { tempDir, writeFiles } from '../helpers/nbuild-cli.js';
import { listLayer, openOciArchive } from '../helpers/oci.js';

const dockerfile = (mode: string): string => `FROM busybox:latest AS build
COPY src.txt /src.txt
RUN mkdir /out && cut -c1-3 /src.txt > /out/result && chmod ${mode} /out/result
FROM busybox:latest
COPY --from=build /out/ /out/
`;

async function build(root: string, files: Record<string, string>): Promise<{ code: number; stderr: string; copyCached?: boolean; layer?: string; result?: string }> {
  const ctx = tempDir('from-content');
  writeFiles(ctx, files);
  const out = path.join(tempDir('from-content-out'), 'image.tar');
  const events: BuildEvent[] = [];
  const r = await apiBuild(root, ctx, ['-o', `type=oci,dest=${out}`], { onEvent: (e) => events.push(e) });
  if (r.code !== 0) return { code: r.code, stderr: r.stderr };
  const done = events.flatMap((e) => (e.type === 'step-done' ? [e] : []));
  const a = openOciArchive(out);
  const top = a.manifest.layers[a.manifest.layers.length - 1].digest;
  const entry = listLayer(a.blob(top)).find((e) => e.name === 'out/result');
  return { code: 0, stderr: r.stderr, copyCached: done[done.length - 1]?.cached === true, layer: top, result: entry?.mode };
}

test('COPY --from a stage rebuilt to the same files stays cached; other bytes or another mode miss', async (t) => {
  const root = await apiStoreWithBusybox();
  const first = await build(root, { Dockerfile: dockerfile('640'), 'src.txt': 'abcdef\n' });
  t.is(first.code, 0, first.stderr);
  t.false(first.copyCached);
  t.is(first.result?.slice(0, 10), '-rw-r-----');

  // The stage's COPY and RUN rerun (src.txt changed), /out/result comes out the same.
  const same = await build(root, { Dockerfile: dockerfile('640'), 'src.txt': 'abcXYZ\n' });
  t.true(same.copyCached, 'the same /out: the final COPY is cached');
  t.is(same.layer, first.layer);

  const otherBytes = await build(root, { Dockerfile: dockerfile('640'), 'src.txt': 'zzzXYZ\n' });
  t.false(otherBytes.copyCached);
  t.not(otherBytes.layer, first.layer);

  const otherMode = await build(root, { Dockerfile: dockerfile('600'), 'src.txt': 'zzzXYZ\n' });
  t.false(otherMode.copyCached);
  t.is(otherMode.result?.slice(0, 10), '-rw-------');
});

test("COPY --from a stage of a path it does not have is still that step's error", async (t) => {
  const root = await apiStoreWithBusybox();
  const r = await build(root, { Dockerfile: 'FROM busybox:latest AS build\nRUN true\nFROM busybox:latest\nCOPY --from=build /nope /x\n' });
  t.not(r.code, 0);
  t.regex(r.stderr, /Dockerfile:4/);
  t.regex(r.stderr, /COPY --from=build: failed to calculate checksum of ref build: "\/nope": not found/);
});
