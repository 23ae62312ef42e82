// BuildKit's frontend/dockerfile/dockerfile_history_test.go, ported (README.md).
import test from 'ava';
import { bkBuildImage, bkBuildOci } from './harness.js';

test('testExportedHistory', async (t) => {
  // using multi-stage to test that history is scoped to one stage
  // BuildKit exports to containerd and reads the config blob; nbuild's OCI archive holds the same.
  const { config } = await bkBuildOci({
    dockerfile: `
FROM busybox AS base
ENV foo=bar
COPY foo /foo2
FROM busybox
LABEL lbl=val
COPY --from=base foo2 foo3
WORKDIR /
RUN echo bar > foo4
RUN ["ls"]
EXPOSE 2375 5000 1234/udp
`,
    files: { foo: { content: 'contents0', mode: 0o600 } },
  });

  const rootfs = config.rootfs as { type?: string; diff_ids: string[] };
  t.is(rootfs.type, 'layers');
  // this depends on base image: busybox has one layer and two history entries
  t.is(rootfs.diff_ids.length, 4);
  t.is(config.history.length, 8);
  const h = config.history as { created_by?: string; empty_layer?: boolean; created?: string }[];
  const off = 2;
  t.true(h[off].created_by?.includes('lbl=val'), h[off].created_by);
  t.is(h[off].empty_layer ?? false, true);
  t.truthy(h[off].created);
  t.true(h[off + 1].created_by?.includes('COPY foo2 foo3'), h[off + 1].created_by);
  t.is(h[off + 1].empty_layer ?? false, false);
  t.truthy(h[off + 1].created);
  t.true(h[off + 2].created_by?.includes('WORKDIR /'), h[off + 2].created_by);
  t.is(h[off + 2].empty_layer ?? false, true);
  t.truthy(h[off + 2].created);
  t.true(h[off + 3].created_by?.includes('echo bar > foo4'), h[off + 3].created_by);
  t.is(h[off + 3].empty_layer ?? false, false);
  t.truthy(h[off + 3].created);
  t.true(h[off + 4].created_by?.includes('RUN ls'), h[off + 4].created_by);
  t.is(h[off + 4].empty_layer ?? false, false);
  t.truthy(h[off + 4].created);
  t.true(h[off + 5].created_by?.includes('EXPOSE [1234/udp 2375/tcp 5000/tcp]'), h[off + 5].created_by);
  t.is(h[off + 5].empty_layer ?? false, true);
  t.truthy(h[off + 5].created);
});

// moby/buildkit#5505
test('testExportedHistoryFlattenArgs', async (t) => {
  // BuildKit pushes the image to a registry to read it; the store's inspect reads the same config.
  const img = await bkBuildImage({
    dockerfile: `
FROM busybox
ARG foo=bar
ARG bar=123
ARG foo=bar2
RUN ls /etc/
`,
  });
  const history = img.History;
  const firstNonBase = history.findIndex((h) => h.created_by === 'ARG foo=bar');
  t.true(firstNonBase > 0);

  t.is(history.length, firstNonBase + 4);
  t.true(history[firstNonBase + 1].created_by?.includes('ARG bar=123'));
  t.true(history[firstNonBase + 2].created_by?.includes('ARG foo=bar2'));

  const runLine = history[firstNonBase + 3].created_by ?? '';
  t.true(runLine.includes('ls /etc/'), runLine);
  t.false(runLine.includes('ARG foo=bar'), runLine);
  t.true(runLine.includes('RUN |2 foo=bar2 bar=123 '), runLine);
});
