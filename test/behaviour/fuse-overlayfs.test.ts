// A build with the fuse-overlayfs isolation (through the API, `--isolation fuse-overlayfs`) gives
// the same image, byte for byte, as the kernel overlay. Skipped (with the reason in its title)
// where fuse-overlayfs or /dev/fuse is unusable (the ladder's verdict, what `nbuild info` shows),
// except in CI (CI=true), where it must run.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { chooseIsolation, probeHost } from '../../src/snapshot/index.js';
import { apiBuild } from '../helpers/api-build.js';
import { apiStoreWithBusybox } from '../helpers/api-store.js';
import { tempDir, writeFiles } from '../helpers/nbuild-cli.js';
import { openOciArchive } from '../helpers/oci.js';
import { inCi } from '../helpers/ci.js';

const verdict = chooseIsolation(await probeHost(), undefined).modes.find((m) => m.mode === 'fuse-overlayfs');
const usable = verdict?.available === true;
const why = usable ? '' : verdict?.reason || 'the isolation ladder has no fuse-overlayfs verdict';
const maybe = usable || inCi ? test : test.skip;

// Creates, changes and deletes files; replaces a folder (an opaque dir) and reads it back in a
// later step (fuse-overlayfs reading the store's user.overlay.opaque and 0/0 whiteouts); new
// folders under existing ones (which fuse-overlayfs marks opaque); several owners; a USER step.
const dockerfile = `FROM busybox:latest
RUN mkdir -p /data/old/deep /data/keep /srv && echo a > /data/old/deep/f && echo k > /data/keep/k \\
 && echo 1 > /data/file && echo gone > /data/gone && chown 33:33 /data/keep/k && chown 1000:1000 /srv
RUN rm -rf /data/old && mkdir /data/old && echo new > /data/old/n && echo 2 >> /data/file && rm /data/gone \\
 && rm /bin/ls && mkdir -p /etc/new/dir && chown -R 65534:65534 /etc/new && chown 7:8 /data/file && chmod 600 /data/file
RUN find /data /etc/new | sort > /listing && test ! -e /data/old/deep && test ! -e /bin/ls && echo kept > /data/keep/k2
USER 1000:1000
RUN echo mine > /srv/mine && mkdir /srv/sub
`;

maybe(`fuse-overlayfs and the kernel overlay build the same image${usable || inCi ? '' : ` (skipped: ${why})`}`, async (t) => {
  if (!usable) t.fail(`CI=true but fuse-overlayfs is not available: ${why}`);
  const ctx = tempDir('fuse-ctx');
  writeFiles(ctx, { Dockerfile: dockerfile });
  const digests = new Map<string, string>();
  for (const mode of ['overlay', 'fuse-overlayfs']) {
    const root = await apiStoreWithBusybox();
    const out = path.join(tempDir('fuse-out'), 'image.tar');
    const r = await apiBuild(root, ctx, ['--isolation', mode, '--timestamp', '0', '--no-cache', '-o', `type=oci,dest=${out}`]);
    t.is(r.code, 0, `${mode}: ${r.stderr}`);
    if (r.code !== 0) continue;
    const a = openOciArchive(out);
    digests.set(mode, a.index.manifests[0].digest);
    const listing = a.manifest.layers[a.manifest.layers.length - 2];
    const text = execFileSync('tar', ['-xOf', a.blob(listing.digest), 'listing']).toString();
    t.is(text, '/data\n/data/file\n/data/keep\n/data/keep/k\n/data/old\n/data/old/n\n/etc/new\n/etc/new/dir\n', mode);
  }
  t.is(digests.size, 2);
  t.is(digests.get('fuse-overlayfs'), digests.get('overlay'), 'fuse-overlayfs and overlay give the same image');
});
