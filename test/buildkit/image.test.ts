// BuildKit's frontend/dockerfile/dockerfile_image_test.go, ported (README.md).
import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { bkBuild, bkBuildImage, bkBuildOci, bkStore } from './harness.js';
import { tempDir } from '../helpers/nbuild-cli.js';

test('testPullScratch', async (t) => {
  // BuildKit exports to containerd; nbuild's store plays that part. BuildKit's last step (an LLB
  // client build mounting the image) is BuildKit's client API and is not ported.
  const root = await bkStore();
  await bkBuildImage({ root, dockerfile: `
FROM scratch
LABEL foo=bar
` }, 'docker.io/moby/testpullscratch:latest');

  const { config } = await bkBuildOci({
    root,
    dockerfile: `
FROM docker.io/moby/testpullscratch:latest
LABEL bar=baz
COPY foo .
`,
    files: { foo: { content: 'foo-contents', mode: 0o600 } },
    args: ['-t', 'docker.io/moby/testpullscratch2:latest'],
  });
  const rootfs = config.rootfs as { type?: string; diff_ids: string[] };
  t.is(rootfs.type, 'layers');
  t.is(rootfs.diff_ids.length, 1);
  const labels = (config.config as { Labels?: Record<string, string> }).Labels ?? {};
  t.is(labels.foo, 'bar');
  t.is(labels.bar, 'baz');
});

test('testDockerfileScratchConfig', async (t) => {
  const { config } = await bkBuildOci({ dockerfile: `
FROM scratch
ENV foo=bar
` });
  const cfg = config.config as { WorkingDir?: string; Env?: string[] };
  t.not(config.os ?? '', '');
  t.not(config.architecture ?? '', '');
  t.not(cfg.WorkingDir ?? '', '');
  const rootfs = config.rootfs as { type?: string; diff_ids: string[] };
  t.is(rootfs.type, 'layers');
  t.is(rootfs.diff_ids.length, 0);

  t.is(config.history.length, 1);
  t.true(config.history[0].created_by?.includes('ENV foo=bar'), config.history[0].created_by);
  t.is(config.history[0].empty_layer ?? false, true);

  t.true((cfg.Env ?? []).includes('foo=bar'));
  t.true((cfg.Env ?? []).some((e) => e.startsWith('PATH=')));
});

// moby/buildkit#5572
test('testOCILayoutMultiname', async (t) => {
  // BuildKit's `type=oci,tar=false,name=A,B` is nbuild's `type=oci-layout` with two -t names.
  const dockerfile = `
FROM scratch
COPY <<EOF /foo
hello
EOF
`;
  const dest = path.join(tempDir('bk-layout'), 'layout');
  const r = await bkBuild({ dockerfile, args: ['-t', 'org/repo:tag1', '-t', 'org/repo:tag2', '-o', `type=oci-layout,dest=${dest}`] });
  t.is(r.code, 0, r.stderr);

  type Index = { manifests: { digest: string; platform?: unknown; mediaType: string; size: number; annotations?: Record<string, string> }[] };
  const validateIdx = (idx: Index): void => {
    t.is(idx.manifests.length, 2);
    const [m0, m1] = idx.manifests;
    t.is(m0.digest, m1.digest);
    t.deepEqual(m0.platform, m1.platform);
    t.is(m0.mediaType, m1.mediaType);
    t.is(m0.size, m1.size);
    t.is(m0.annotations?.['io.containerd.image.name'], 'docker.io/org/repo:tag1');
    t.is(m1.annotations?.['io.containerd.image.name'], 'docker.io/org/repo:tag2');
    t.is(m0.annotations?.['org.opencontainers.image.ref.name'], 'tag1');
    t.is(m1.annotations?.['org.opencontainers.image.ref.name'], 'tag2');
  };
  validateIdx(JSON.parse(fs.readFileSync(path.join(dest, 'index.json'), 'utf8')) as Index);

  // test that tar variant matches
  const archive = await bkBuildOci({ dockerfile, args: ['-t', 'org/repo:tag1', '-t', 'org/repo:tag2'] });
  validateIdx(archive.index as Index);
});
