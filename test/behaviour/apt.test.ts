// A real package manager in build(), through the API as root of the unprivileged test user's
// namespace. Debian's apt drops to its sandbox user _apt (uid 42) to download, gives files to
// other ids, and needs the host's resolv.conf to reach the mirror; the package's binary then runs
// in a later RUN.
// The Debian base is made by scripts/make-debian-image.sh (as root, cached; .ci/run makes it).
import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { apiBuild } from '../helpers/api-build.js';
import { DEBIAN_IMAGE, storeWithDebian, testNeedingDebian } from '../helpers/debian-image.js';
import { tempDir, writeFiles } from '../helpers/nbuild-cli.js';
import { listLayer, openOciArchive } from '../helpers/oci.js';

const archive = DEBIAN_IMAGE;
const present = fs.existsSync(archive);
const maybe = testNeedingDebian('apt.test', present);

maybe('apt-get install runs rootless and the installed binary runs in a later RUN', async (t) => {
  t.timeout(10 * 60 * 1000);
  const root = await storeWithDebian(t, 'apt-store', present);
  if (!root) return;
  const ctx = tempDir('apt');
  writeFiles(ctx, {
    Dockerfile: [
      'FROM debian:bookworm',
      'ENV DEBIAN_FRONTEND=noninteractive',
      'RUN apt-get update && apt-get install -y --no-install-recommends jq && rm -rf /var/lib/apt/lists/*',
      `RUN echo '{"tool":"nbuild","ok":true}' | jq -r '.tool' > /jq-out.txt && jq --version >> /jq-out.txt`,
      // apt's sandbox user exists with the id Debian gives it, and its files kept their owner.
      'RUN id -u _apt > /apt-uid.txt && stat -c %u /var/cache/apt/archives/partial >> /apt-uid.txt',
      '',
    ].join('\n'),
  });
  const out = path.join(tempDir('apt-out'), 'image.tar');
  const r = await apiBuild(root, ctx, ['-o', `type=oci,dest=${out}`]);
  t.is(r.code, 0, r.stderr.slice(-4000));
  if (r.code !== 0) return;
  t.notRegex(r.stderr, /warning: .*only your own id/, 'the full subordinate range is mapped');
  const a = openOciArchive(out);
  const layers = a.manifest.layers.map((l) => a.blob(l.digest));
  const installed = listLayer(layers[1]).map((e) => e.name);
  t.true(installed.includes('usr/bin/jq'), 'jq is in the apt layer');
  t.false(installed.some((n) => n.startsWith('etc/resolv.conf')), "the host's resolv.conf is not in the layer");
  const { execFileSync } = await import('node:child_process');
  const jqOut = execFileSync('tar', ['-xOf', layers[2], 'jq-out.txt']).toString().split('\n');
  t.is(jqOut[0], 'nbuild');
  t.regex(jqOut[1] ?? '', /^jq-1\.\d/);
  const aptIds = execFileSync('tar', ['-xOf', layers[3], 'apt-uid.txt']).toString().trim().split('\n');
  t.is(aptIds[0], '42');
  t.is(aptIds[1], '42', 'apt chowned its download dir to _apt');
});
