// On a merged-/usr base (Debian 12: /bin -> usr/bin, /lib -> usr/lib, /sbin -> usr/sbin),
// COPY and ADD write *through* the symlinked folders, as docker build does: `COPY tool.sh /bin/`
// lands in /usr/bin and /bin stays a link, so the next RUN still finds /bin/sh. (nbuild once
// staged /bin as a folder: the layer replaced the link and every later RUN failed.)
// The Debian base is made by scripts/make-debian-image.sh (as root, cached; .ci/run makes it).
import test from 'ava';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { apiBuild } from '../helpers/api-build.js';
import { DEBIAN_IMAGE, storeWithDebian, testNeedingDebian } from '../helpers/debian-image.js';
import { tempDir, writeFiles } from '../helpers/nbuild-cli.js';
import { listLayer, openOciArchive } from '../helpers/oci.js';

const archive = DEBIAN_IMAGE;
const present = fs.existsSync(archive);
const maybe = testNeedingDebian('merged-usr.test', present);

maybe('COPY into /bin/ lands in /usr/bin, /bin stays a link, and the next RUN runs /bin/sh and the tool', async (t) => {
  t.timeout(5 * 60 * 1000);
  const root = await storeWithDebian(t, 'merged-usr-store', present);
  if (!root) return;
  const ctx = tempDir('merged-usr');
  writeFiles(ctx, {
    'tool.sh': '#!/bin/sh\necho tool ran as "$0"\n',
    'lib.conf': 'conf\n',
    'tree/helper': 'helper\n',
    Dockerfile: [
      'FROM debian:bookworm',
      'COPY --chmod=755 tool.sh /bin/',
      'ADD lib.conf /lib/',
      // a folder's content through the link, and a file named through the last link
      'COPY tree/ /sbin/',
      'COPY --chmod=a+rx tool.sh /bin/tool-renamed',
      'RUN /bin/sh -c "tool.sh" > /out.txt && /bin/tool.sh >> /out.txt && /usr/bin/tool-renamed >> /out.txt' +
        ' && [ "$(readlink /bin)" = usr/bin ] && [ "$(readlink /lib)" = usr/lib ] && [ "$(readlink /sbin)" = usr/sbin ]' +
        ' && cat /usr/lib/lib.conf /usr/sbin/helper >> /out.txt',
      '',
    ].join('\n'),
  });
  fs.chmodSync(path.join(ctx, 'tool.sh'), 0o644);
  const out = path.join(tempDir('merged-usr-out'), 'image.tar');
  const r = await apiBuild(root, ctx, ['-o', `type=oci,dest=${out}`]);
  t.is(r.code, 0, r.stderr.slice(-4000));
  if (r.code !== 0) return;
  const a = openOciArchive(out);
  const layers = a.manifest.layers.map((l) => a.blob(l.digest));
  // The base is one layer; then COPY, ADD, COPY, COPY, RUN.
  const copied = listLayer(layers[1]);
  t.deepEqual(copied.map((e) => e.name).filter((n) => n !== 'usr'), ['usr/bin', 'usr/bin/tool.sh']);
  t.is(copied.find((e) => e.name === 'usr/bin/tool.sh')?.mode, '-rwxr-xr-x');
  for (const layer of layers.slice(1)) {
    const names = listLayer(layer).map((e) => e.name);
    for (const link of ['bin', 'lib', 'sbin']) t.false(names.some((n) => n === link || n.startsWith(`${link}/`)), `${link} is not in a layer: ${names.join(' ')}`);
  }
  t.true(listLayer(layers[2]).some((e) => e.name === 'usr/lib/lib.conf'));
  t.true(listLayer(layers[3]).some((e) => e.name === 'usr/sbin/helper'));
  t.true(listLayer(layers[4]).some((e) => e.name === 'usr/bin/tool-renamed'));
  const ran = execFileSync('tar', ['-xOf', layers[5], 'out.txt']).toString();
  t.is(ran, 'tool ran as /usr/bin/tool.sh\ntool ran as /bin/tool.sh\ntool ran as /usr/bin/tool-renamed\nconf\nhelper\n');
});

maybe('a folder copied onto the /bin link is refused as BuildKit refuses it, naming the path', async (t) => {
  const root = await storeWithDebian(t, 'merged-usr-store', present);
  if (!root) return;
  const ctx = tempDir('merged-usr');
  writeFiles(ctx, { 'overlay/bin/x': 'x\n', Dockerfile: 'FROM debian:bookworm\nCOPY overlay/ /\n' });
  const r = await apiBuild(root, ctx, []);
  t.not(r.code, 0);
  t.regex(r.stderr, /Dockerfile:2: COPY: cannot copy to non-directory: \/bin/);
  t.notRegex(r.stderr, /\n\s+at /, 'no stack trace');
});
