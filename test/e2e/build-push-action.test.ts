// The test that matters for CI users (issue #16): the exact command line docker/build-push-action@v6
// runs for a push with a registry cache, two tags, labels, a build arg, two secrets and max
// provenance, run with `nbuild` in place of `docker`, as the unprivileged user, against Debian's
// docker-registry on 127.0.0.1; the result is read back with skopeo.
//
// build-push-action v6 (src/context.ts getArgs: getBuildArgs, then getCommonArgs, then the
// context; the toolkit runs `docker buildx …`) for these inputs:
//
//   with:
//     context: .
//     file: ./Dockerfile
//     push: true
//     platforms: linux/amd64            # the host's platform here
//     tags: |
//       REG/nbuild/app:1.0.0
//       REG/nbuild/app:latest
//     labels: |
//       org.opencontainers.image.title=app
//       org.opencontainers.image.revision=4f2a1c
//     build-args: VERSION=1.0.0
//     secrets: token=s3cr3t             # written to a temp file by the toolkit: id=token,src=FILE
//     secret-envs: envtok=CI_TOKEN      # id=envtok,env=CI_TOKEN
//     cache-from: type=registry,ref=REG/nbuild/app:buildcache
//     cache-to: type=registry,ref=REG/nbuild/app:buildcache,mode=max
//     provenance: mode=max              # Build.getProvenanceInput adds builder-id=<workflow run URL>
//
// generates (one argument per line, in this order):
//
//   docker buildx build
//     --build-arg VERSION=1.0.0
//     --cache-from type=registry,ref=REG/nbuild/app:buildcache
//     --cache-to type=registry,ref=REG/nbuild/app:buildcache,mode=max
//     --secret id=envtok,env=CI_TOKEN
//     --file ./Dockerfile
//     --iidfile TMP/build-iidfile-XXXX.txt
//     --label org.opencontainers.image.title=app
//     --label org.opencontainers.image.revision=4f2a1c
//     --platform linux/amd64
//     --attest type=provenance,mode=max,builder-id=https://github.com/acme/app/actions/runs/42/attempts/1
//     --secret id=token,src=TMP/tmp-XXXX
//     --tag REG/nbuild/app:1.0.0
//     --tag REG/nbuild/app:latest
//     --metadata-file TMP/build-metadata-XXXX.json
//     --push
//     .
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { busyboxImage, hasCommand, nbuild, tempDir, writeFiles } from '../helpers/nbuild-cli.js';
import { haveDistribution, startDistribution, type Distribution } from '../registry/helpers/distribution.js';
import type { Descriptor as Desc } from '../helpers/oci.js';

const serial = haveDistribution && hasCommand('skopeo') ? test.serial : test.serial.skip;
const HOST_ARCH = process.arch === 'x64' ? 'amd64' : process.arch;


/** The exact line above, for a registry at `reg`, temp files in `tmp`, the context in `ctx`. */
function buildPushActionLine(reg: string, tmp: string): string[] {
  const image = `${reg}/nbuild/app`;
  return [
    'buildx', 'build',
    '--build-arg', 'VERSION=1.0.0',
    '--cache-from', `type=registry,ref=${image}:buildcache`,
    '--cache-to', `type=registry,ref=${image}:buildcache,mode=max`,
    '--secret', 'id=envtok,env=CI_TOKEN',
    '--file', './Dockerfile',
    '--iidfile', path.join(tmp, 'build-iidfile-3c1f2e.txt'),
    '--label', 'org.opencontainers.image.title=app',
    '--label', 'org.opencontainers.image.revision=4f2a1c',
    '--platform', `linux/${HOST_ARCH}`,
    '--attest', 'type=provenance,mode=max,builder-id=https://github.com/acme/app/actions/runs/42/attempts/1',
    '--secret', `id=token,src=${path.join(tmp, 'tmp-1234-secret')}`,
    '--tag', `${image}:1.0.0`,
    '--tag', `${image}:latest`,
    '--metadata-file', path.join(tmp, 'build-metadata-3c1f2e.json'),
    '--push',
    '.',
  ];
}

let reg: Distribution | undefined;
test.after.always(async () => {
  await reg?.stop();
});

function skopeo(args: string[]): string {
  return execFileSync('skopeo', args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
}

serial("build-push-action's command line, with nbuild for docker: tags, labels, provenance, cache and metadata in the registry", async (t) => {
  reg = await startDistribution();
  skopeo(['copy', '--dest-tls-verify=false', `oci-archive:${busyboxImage()}`, `docker://${reg.host}/library/busybox:latest`]);
  const ctx = tempDir('bpa-ctx');
  const tmp = tempDir('bpa-runner-temp');
  writeFiles(ctx, {
    Dockerfile: [
      `FROM ${reg.host}/library/busybox:latest`,
      'ARG VERSION',
      'RUN --mount=type=secret,id=token --mount=type=secret,id=envtok,env=ENVTOK test "$(cat /run/secrets/token)" = s3cr3t && test "$ENVTOK" = e5v && echo "$VERSION" > /version',
      '',
    ].join('\n'),
  });
  fs.writeFileSync(path.join(tmp, 'tmp-1234-secret'), 's3cr3t');
  const registries = path.join(tmp, 'registries.toml');
  fs.writeFileSync(registries, '');
  const env = { CI_TOKEN: 'e5v', NBUILD_REGISTRIES_CONFIG: registries };
  const r = await nbuild(['--root', tempDir('bpa-store'), ...buildPushActionLine(reg.host, tmp)], { cwd: ctx, env });
  t.is(r.code, 0, r.stderr);

  const image = `${reg.host}/nbuild/app`;
  // Both tags name one index: the image, then its attestation manifest (BuildKit's layout).
  const raw = skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${image}:1.0.0`]);
  t.is(skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${image}:latest`]), raw);
  const index = JSON.parse(raw) as { mediaType: string; manifests: Desc[] };
  t.is(index.mediaType, 'application/vnd.oci.image.index.v1+json');
  t.is(index.manifests.length, 2);
  const [img, att] = index.manifests;
  t.deepEqual(img.platform, { architecture: HOST_ARCH, os: 'linux' });
  t.deepEqual(att.platform, { architecture: 'unknown', os: 'unknown' });
  t.deepEqual(att.annotations, { 'vnd.docker.reference.digest': img.digest, 'vnd.docker.reference.type': 'attestation-manifest' });

  // The whole index copied out of the registry: labels in the config, the provenance statement.
  const oci = path.join(tempDir('bpa-copy'), 'oci');
  skopeo(['copy', '--all', '--src-tls-verify=false', `docker://${image}:1.0.0`, `oci:${oci}:copy`]);
  const blob = (d: string) => JSON.parse(fs.readFileSync(path.join(oci, 'blobs', 'sha256', d.slice(7)), 'utf8'));
  const config = blob(blob(img.digest).config.digest) as { config: { Labels: Record<string, string> } };
  t.like(config.config.Labels, { 'org.opencontainers.image.title': 'app', 'org.opencontainers.image.revision': '4f2a1c' });
  const attManifest = blob(att.digest) as { layers: Desc[] };
  t.is(attManifest.layers.length, 1);
  t.is(attManifest.layers[0].mediaType, 'application/vnd.in-toto+json');
  t.is(attManifest.layers[0].annotations?.['in-toto.io/predicate-type'], 'https://slsa.dev/provenance/v0.2');
  const statement = blob(attManifest.layers[0].digest);
  t.is(statement.predicateType, 'https://slsa.dev/provenance/v0.2');
  t.deepEqual(statement.subject.map((s: { digest: { sha256: string } }) => s.digest.sha256), [img.digest.slice(7), img.digest.slice(7)]);
  const p = statement.predicate;
  t.is(p.builder.id, 'https://github.com/acme/app/actions/runs/42/attempts/1');
  t.is(p.invocation.configSource.entryPoint, 'Dockerfile');
  t.like(p.invocation.parameters.args, { 'build-arg:VERSION': '1.0.0', 'label:org.opencontainers.image.title': 'app' });
  t.deepEqual(p.invocation.parameters.secrets, [{ id: 'envtok' }, { id: 'token' }]);
  t.false(JSON.stringify(statement).includes('s3cr3t'), 'no secret value in the provenance');
  t.is(p.materials.length, 1);
  t.regex(p.materials[0].uri, new RegExp(`^pkg:docker/127\\.0\\.0\\.1:\\d+/library/busybox@latest\\?platform=linux%2F${HOST_ARCH}$`));
  t.regex(p.metadata.buildStartedOn, /^\d{4}-\d\d-\d\dT/);

  // The registry cache (mode=max) is there.
  const cache = JSON.parse(skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${image}:buildcache`])) as { mediaType?: string };
  t.truthy(cache.mediaType);

  // --metadata-file and --iidfile as buildx writes them (an index: its digest for both).
  const indexDigest = `sha256:${createHash('sha256').update(raw).digest('hex')}`;
  const metadata = JSON.parse(fs.readFileSync(path.join(tmp, 'build-metadata-3c1f2e.json'), 'utf8'));
  t.is(metadata['containerimage.digest'], indexDigest);
  t.is(metadata['image.name'], `${image}:1.0.0,${image}:latest`);
  t.like(metadata['containerimage.descriptor'], { mediaType: 'application/vnd.oci.image.index.v1+json', digest: indexDigest });
  t.is(fs.readFileSync(path.join(tmp, 'build-iidfile-3c1f2e.txt'), 'utf8'), indexDigest);
  // buildx's default BUILDX_METADATA_PROVENANCE=min: the provenance, without build args, in the metadata too.
  t.is(metadata['buildx.build.provenance'].buildType, 'https://mobyproject.org/buildkit@v1');
  t.deepEqual(metadata['buildx.build.provenance'].materials, p.materials);
  t.is(metadata['buildx.build.provenance'].invocation.parameters.args, undefined);
});
