// The pieces of --attest/--provenance/--sbom that need no build: buildx's option spelling, the
// package databases' formats, package URLs, --annotation's prefixes and the buildx alias.
import test from 'ava';
import { parseAttestations } from '../../src/export/attestations/request.js';
import { apkPackages, dpkgPackages } from '../../src/export/attestations/package-db.js';
import { packageUrl } from '../../src/export/attestations/sbom.js';
import { dockerPurl } from '../../src/export/attestations/manifest.js';
import { annotationsFor, parseAnnotation } from '../../src/image/annotations.js';
import { dropBuildxPrefix } from '../../src/cli/buildx-alias.js';

test('--attest, --provenance and --sbom as buildx spells them', (t) => {
  t.is(parseAttestations({}), undefined);
  t.deepEqual(parseAttestations({ provenance: 'true' }), { provenance: { mode: 'min', builderId: undefined, reproducible: false } });
  t.deepEqual(parseAttestations({ provenance: '' }), { provenance: { mode: 'min', builderId: undefined, reproducible: false } });
  t.is(parseAttestations({ provenance: 'false' }), undefined);
  t.is(parseAttestations({ provenance: '0', sbom: 'false' }), undefined);
  t.deepEqual(parseAttestations({ provenance: 'mode=max,builder-id=https://x/1' }), { provenance: { mode: 'max', builderId: 'https://x/1', reproducible: false } });
  t.deepEqual(parseAttestations({ attest: ['type=provenance,mode=min,inline-only=true,builder-id=u'] })?.provenance, { mode: 'min', builderId: 'u', reproducible: false });
  t.deepEqual(parseAttestations({ attest: ['type=sbom'] }), { sbom: {} });
  t.deepEqual(parseAttestations({ sbom: 'true', provenance: 'mode=max' }), { sbom: {}, provenance: { mode: 'max', builderId: undefined, reproducible: false } });
  // --attest disabled=true takes back the shorthand's request.
  t.is(parseAttestations({ provenance: 'true', attest: ['type=provenance,disabled=true'] }), undefined);
  for (const [opts, error] of [
    [{ attest: ['type=vex'] }, /type must be provenance or sbom/],
    [{ attest: ['type=provenance,mode=full-ish'] }, /mode must be min or max/],
    [{ attest: ['type=provenance,version=v1'] }, /version=v1: not supported/],
    [{ attest: ['type=sbom,generator=img'] }, /generator=…: not supported by nbuild: nbuild reads the package databases/],
    [{ attest: ['type=sbom,mode=max'] }, /mode=…: not supported by nbuild for type=sbom/],
    [{ provenance: 'maybe' }, /--provenance maybe: expected true, false or key=value/],
    [{ attest: ['type=provenance,reproducible=perhaps'] }, /reproducible=perhaps is not true or false/],
  ] as const) {
    t.throws(() => parseAttestations(opts), { message: error });
  }
});

test('dpkg status: installed paragraphs only, continuation lines, epochs', (t) => {
  const text = [
    'Package: a',
    'Status: install ok installed',
    'Version: 1:2.0-1',
    'Architecture: amd64',
    'Description: first line',
    ' more text: with a colon',
    '',
    'Package: removed',
    'Status: deinstall ok config-files',
    'Version: 3',
    '',
    'Package: b',
    'Source: bsrc (9)',
    'Version: 0.1',
    '',
  ].join('\n');
  t.deepEqual(
    dpkgPackages(text, '/s').map((p) => [p.name, p.version, p.source]),
    [['a', '1:2.0-1', undefined], ['b', '0.1', 'bsrc']],
  );
});

test('apk installed database', (t) => {
  const text = 'C:Q1abc=\nP:musl\nV:1.2.4-r2\nA:x86_64\nL:MIT\no:musl\n\nP:busybox-binsh\nV:1.36.1-r15\nA:x86_64\no:busybox\nm:Maint <m@x>\n';
  t.deepEqual(
    apkPackages(text, '/lib/apk/db/installed').map((p) => [p.name, p.version, p.source, p.license]),
    [['musl', '1.2.4-r2', undefined, 'MIT'], ['busybox-binsh', '1.36.1-r15', 'busybox', undefined]],
  );
});

test('package URLs (purl-spec deb, apk, docker)', (t) => {
  const [deb] = dpkgPackages('Package: libc6\nVersion: 2.36-9+deb12u4\nArchitecture: amd64\nSource: glibc\n', '/s');
  t.is(packageUrl(deb, { id: 'debian', versionId: '12' }), 'pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&upstream=glibc&distro=debian-12');
  const [apk] = apkPackages('P:musl\nV:1.2.4-r2\nA:aarch64\n', '/db');
  t.is(packageUrl(apk, { id: 'alpine', versionId: '3.19.1' }), 'pkg:apk/alpine/musl@1.2.4-r2?arch=aarch64&distro=alpine-3.19.1');
  t.is(dockerPurl('debian:bookworm', 'linux/amd64'), 'pkg:docker/debian@bookworm?platform=linux%2Famd64');
  t.is(dockerPurl('ghcr.io/acme/app:1.0', 'linux/arm64'), 'pkg:docker/ghcr.io/acme/app@1.0?platform=linux%2Farm64');
  t.is(dockerPurl('127.0.0.1:5000/x/y'), 'pkg:docker/127.0.0.1:5000/x/y@latest');
});

test('--annotation prefixes and [platform], as buildx', (t) => {
  const specs = ['plain=1', 'manifest:m=2', 'index,manifest-descriptor:both=3', 'manifest[linux/arm64]:arm=4', 'index-descriptor:id=5', 'org.example:key=6'].map(parseAnnotation);
  const amd = { os: 'linux', architecture: 'amd64' };
  const arm = { os: 'linux', architecture: 'arm64', variant: 'v8' };
  t.deepEqual(annotationsFor(specs, 'manifest', amd), { plain: '1', m: '2', 'org.example:key': '6' });
  t.deepEqual(annotationsFor(specs, 'manifest', arm), { plain: '1', m: '2', arm: '4', 'org.example:key': '6' });
  t.deepEqual(annotationsFor(specs, 'index'), { both: '3' });
  t.deepEqual(annotationsFor(specs, 'manifest-descriptor', amd), { both: '3' });
  t.deepEqual(annotationsFor(specs, 'index-descriptor'), { id: '5' });
  t.throws(() => parseAnnotation('bogus:k=v'), { message: /unknown annotation type bogus/ });
  t.throws(() => parseAnnotation('index[linux/amd64]:k=v'), { message: /index annotations take no platform/ });
  t.throws(() => parseAnnotation('manifest[nope]:k=v'), { message: /nope is not a platform/ });
  t.throws(() => parseAnnotation('novalue'), { message: /expected KEY=VALUE/ });
});

test('nbuild buildx build … is nbuild build …', (t) => {
  t.deepEqual(dropBuildxPrefix(['buildx', 'build', '-t', 'x', '.']), ['build', '-t', 'x', '.']);
  t.deepEqual(dropBuildxPrefix(['--root', '/r', 'buildx', 'b', '.']), ['--root', '/r', 'build', '.']);
  t.deepEqual(dropBuildxPrefix(['buildx', 'imagetools', 'inspect']), ['buildx', 'imagetools', 'inspect']);
  t.deepEqual(dropBuildxPrefix(['build', 'buildx', 'build']), ['build', 'buildx', 'build']);
});
