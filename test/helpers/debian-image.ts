// The Debian bookworm base of the tests that need a real distribution (apt, dpkg, merged /usr):
// made by scripts/make-debian-image.sh (as root, cached; .ci/run makes it), or NBUILD_DEBIAN_IMAGE.
import test, { type ExecutionContext, type TestFn } from 'ava';
import * as fs from 'node:fs';
import { loadImages } from '../../src/index.js';
import { tempDir } from './nbuild-cli.js';
import { inCi } from './ci.js';

export const DEBIAN_IMAGE = process.env['NBUILD_DEBIAN_IMAGE'] ?? '/var/cache/nbuild-ci/debian-bookworm.oci.tar';

/** CI must have everything: there a missing base image fails the test instead of skipping it. */

/**
 * `test` when `ready` (the base image and what else the file needs) or in CI, else `test.skip`
 * with one line on stderr saying what is missing and how to make it.
 */
export function testNeedingDebian(file: string, ready: boolean, missing = `no Debian base image at ${DEBIAN_IMAGE}`): TestFn {
  if (ready || inCi) return test;
  process.stderr.write(`\n${file}: SKIPPED: ${missing}; make it with \`sudo bash scripts/make-debian-image.sh\` (or set NBUILD_DEBIAN_IMAGE)\n\n`);
  return test.skip as unknown as TestFn;
}

/**
 * A fresh store with the Debian base loaded as `debian:bookworm` (through the API: the
 * user-namespace test set), or undefined after a failed assertion when the image is missing.
 */
export async function storeWithDebian(t: ExecutionContext, prefix: string, ready = fs.existsSync(DEBIAN_IMAGE)): Promise<string | undefined> {
  t.true(ready, `the Debian base image ${DEBIAN_IMAGE} is missing; .ci/run makes it with scripts/make-debian-image.sh`);
  if (!ready) return undefined;
  const root = tempDir(prefix);
  await loadImages({ storeRoot: root, input: DEBIAN_IMAGE, tag: 'debian:bookworm' });
  return root;
}
