// containers-registries.conf(5) in builds, as the unprivileged user, against Debian's docker-registry
// on 127.0.0.1: a short name found through unqualified-search-registries (first that has it), a
// Docker Hub mirror that serves the image, a blocked registry refused with one line. Every file is
// in a temp HOME or named by CONTAINERS_REGISTRIES_CONF; nothing reaches docker.io.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { busyboxImage, hasCommand, nbuild, tempDir, writeFiles } from '../helpers/nbuild-cli.js';
import { haveDistribution, startDistribution, type Distribution } from '../registry/helpers/distribution.js';

const serial = haveDistribution && hasCommand('skopeo') ? test.serial : test.serial.skip;

let full: Distribution;
let empty: Distribution;
test.before(async () => {
  if (!haveDistribution) return;
  [full, empty] = await Promise.all([startDistribution(), startDistribution()]);
  for (const dest of ['library/busybox:latest', 'busybox:latest']) {
    execFileSync('skopeo', ['copy', '--dest-tls-verify=false', `oci-archive:${busyboxImage()}`, `docker://${full.host}/${dest}`], { stdio: 'pipe' });
  }
});
test.after.always(async () => {
  await Promise.all([full?.stop(), empty?.stop()]);
});

/** A fresh store builds `FROM from`, with HOME holding `files` (relative to HOME) and `env`. */
async function buildWith(from: string, files: Record<string, string>, env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stderr: string }> {
  const home = tempDir('creg-home');
  writeFiles(home, files);
  const ctx = tempDir('creg-ctx');
  writeFiles(ctx, { Dockerfile: `FROM ${from}\nRUN echo built > /built\n` });
  const root = tempDir('creg-store');
  const out = path.join(tempDir('creg-out'), 'fs');
  return nbuild(['--root', root, 'build', '--progress', 'plain', '-o', out, ctx], {
    env: { HOME: home, NBUILD_REGISTRIES_CONFIG: '', CONTAINERS_REGISTRIES_CONF: '', XDG_CONFIG_HOME: '', ...env },
  });
}

serial('unqualified-search-registries: FROM busybox is looked up in each registry in order, the first that has it wins', async (t) => {
  const conf = path.join(tempDir('creg-conf'), 'registries.conf');
  writeFiles(path.dirname(conf), {
    'registries.conf': `unqualified-search-registries = [\n  "${empty.host}",\n  "${full.host}",\n]\n`,
  });
  const r = await buildWith('busybox:latest', {}, { CONTAINERS_REGISTRIES_CONF: conf });
  t.is(r.code, 0, r.stderr);
  // v1 format, in the user's own registries.conf: only the registry that lacks it is an error naming both tries.
  const v1 = await buildWith('busybox:latest', { '.config/containers/registries.conf': `[registries.search]\nregistries = ['${empty.host}']\n` });
  t.is(v1.code, 1);
  t.regex(v1.stderr, new RegExp(`${empty.host.replace(/\./g, '\\.')}/busybox`));
});

serial('a [[registry]] mirror of docker.io serves FROM busybox', async (t) => {
  const r = await buildWith('busybox', {
    '.config/containers/registries.conf.d/50-mirror.conf': `[[registry]]\nprefix = "docker.io"\nlocation = "docker.io"\n[[registry.mirror]]\nlocation = "${full.host}"\ninsecure = true\n`,
  });
  t.is(r.code, 0, r.stderr);
});

serial('a blocked registry is refused with one line', async (t) => {
  const r = await buildWith(`${full.host}/library/busybox:latest`, {
    '.config/containers/registries.conf.d/99-block.conf': `[[registry]]\nlocation = "${full.host}"\nblocked = true\n`,
  });
  t.is(r.code, 1);
  const errors = r.stderr.split('\n').filter((l) => /blocked/.test(l));
  t.is(errors.length, 1, r.stderr);
  t.regex(errors[0], new RegExp(`${full.host.replace(/\./g, '\\.')}/library/busybox is blocked by the registries configuration`));
});
