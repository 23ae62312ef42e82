// --sbom on the Debian bookworm base: the SPDX document lists exactly the packages dpkg itself
// reports for that root file system (dpkg-query on the host, pointed at the image's status file),
// with dpkg's versions, plus a distroless-style /var/lib/dpkg/status.d entry the build adds.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { apiBuild } from '../helpers/api-build.js';
import { apiStoreWithBusybox } from '../helpers/api-store.js';
import { DEBIAN_IMAGE, storeWithDebian, testNeedingDebian } from '../helpers/debian-image.js';
import { hasCommand, tempDir, writeFiles } from '../helpers/nbuild-cli.js';

const archive = DEBIAN_IMAGE;
const present = fs.existsSync(archive) && hasCommand('dpkg-query');
const maybe = testNeedingDebian('sbom.test', present, `no Debian base image at ${archive} (or no dpkg-query)`);

interface SpdxPackage {
  name: string;
  versionInfo: string;
  sourceInfo: string;
  externalRefs: { referenceType: string; referenceLocator: string }[];
}

maybe('--sbom lists the packages dpkg-query lists for the image, with their versions', async (t) => {
  t.timeout(5 * 60 * 1000);
  const root = await storeWithDebian(t, 'sbom-store', present);
  if (!root) return;
  const ctx = tempDir('sbom-ctx');
  writeFiles(ctx, {
    Dockerfile: 'FROM debian:bookworm\nCOPY extra /var/lib/dpkg/status.d/extra\nCOPY extra.md5sums /var/lib/dpkg/status.d/extra.md5sums\n',
    extra: 'Package: extra-tool\nVersion: 0.9-1\nArchitecture: all\nMaintainer: Someone <s@example.org>\n',
    'extra.md5sums': 'd41d8cd98f00b204e9800998ecf8427e  usr/bin/extra-tool\n',
  });
  const out = path.join(tempDir('sbom-out'), 'image.tar');
  const r = await apiBuild(root, ctx, ['--sbom=true', '-t', 'sbom:1', '-o', `type=oci,dest=${out}`]);
  t.is(r.code, 0, r.stderr);

  const dir = tempDir('sbom-x');
  execFileSync('tar', ['-xf', out, '-C', dir]);
  const blob = (d: string) => path.join(dir, 'blobs', 'sha256', d.slice(7));
  const json = (d: string) => JSON.parse(fs.readFileSync(blob(d), 'utf8'));
  const index = json(JSON.parse(fs.readFileSync(path.join(dir, 'index.json'), 'utf8')).manifests[0].digest);
  const [image, att] = index.manifests as { digest: string; platform: { os: string } }[];
  t.is(att.platform.os, 'unknown');
  const statement = json(json(att.digest).layers[0].digest);
  t.is(statement.predicateType, 'https://spdx.dev/Document');
  const packages = statement.predicate.packages as SpdxPackage[];

  // dpkg's own answer for the same root file system: the status file of the image's base layer.
  const baseLayer = json(image.digest).layers[0] as { digest: string };
  const admin = tempDir('sbom-admin');
  execFileSync('tar', ['-xzf', blob(baseLayer.digest), '-C', admin, '--wildcards', '*var/lib/dpkg/status']);
  const adminDir = path.join(admin, 'var', 'lib', 'dpkg');
  const dpkg = execFileSync('dpkg-query', [`--admindir=${adminDir}`, '-W', '-f', '${Package}\\t${Version}\\n'])
    .toString()
    .trim()
    .split('\n')
    .sort();
  t.true(dpkg.length > 50, `${dpkg.length} packages`);
  const fromStatus = packages.filter((p) => p.sourceInfo.endsWith('/var/lib/dpkg/status')).map((p) => `${p.name}\t${p.versionInfo}`).sort();
  t.deepEqual(fromStatus, dpkg);
  t.is(packages.length, dpkg.length + 1);
  const bash = packages.find((p) => p.name === 'bash');
  t.is(bash?.versionInfo, dpkg.find((l) => l.startsWith('bash\t'))?.split('\t')[1]);
  t.regex(bash?.externalRefs[0].referenceLocator ?? '', /^pkg:deb\/debian\/bash@[^?]+\?arch=\w+&distro=debian-12$/);
  const extra = packages.find((p) => p.name === 'extra-tool');
  t.is(extra?.versionInfo, '0.9-1');
  t.is(extra?.sourceInfo, 'acquired package info from DPKG DB: /var/lib/dpkg/status.d/extra');
});

test('--sbom reads the image, never the host: package databases that are links out of the image list nothing', async (t) => {
  const root = await apiStoreWithBusybox();
  // A dpkg status and an apk database on the host, readable by this user.
  const host = tempDir('sbom-host');
  fs.writeFileSync(path.join(host, 'status'), 'Package: host-only\nStatus: install ok installed\nVersion: 6.6.6\n');
  fs.writeFileSync(path.join(host, 'installed'), 'P:host-apk\nV:6.6.6\n');
  const ctx = tempDir('sbom-hostile');
  const up = '../'.repeat(12);
  writeFiles(ctx, {
    Dockerfile: [
      'FROM busybox:latest',
      `RUN mkdir -p /var/lib/dpkg/status.d /lib/apk/db && ln -s ${host}/status /var/lib/dpkg/status && ln -s ${up}${host.slice(1)}/installed /lib/apk/db/installed && ln -s ${host}/status /var/lib/dpkg/status.d/evil`,
      '',
    ].join('\n'),
  });
  const out = path.join(tempDir('sbom-out'), 'layout');
  const r = await apiBuild(root, ctx, ['--sbom=true', '-o', `type=oci-layout,dest=${out}`]);
  t.is(r.code, 0, r.stderr);
  const json = (d: string) => JSON.parse(fs.readFileSync(path.join(out, 'blobs', 'sha256', d.slice(7)), 'utf8'));
  const index = json(JSON.parse(fs.readFileSync(path.join(out, 'index.json'), 'utf8')).manifests[0].digest);
  const att = (index.manifests as { digest: string; platform: { os: string } }[]).find((m) => m.platform.os === 'unknown');
  const statement = json(json(att!.digest).layers[0].digest);
  t.deepEqual(statement.predicate.packages, []);
  t.false(JSON.stringify(statement).includes('6.6.6'));
});
