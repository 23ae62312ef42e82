// Where the native helper executable lives: build/Release of the package, or $NBUILD_SANDBOX_HELPER.
import { accessSync, constants } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { NbuildError } from '../errors.js';

let cached: string | undefined;

export function helperPath(): string {
  if (cached !== undefined) return cached;
  const override = process.env['NBUILD_SANDBOX_HELPER'];
  // dist/src/sandbox/helper.js → package root is three levels up.
  const path = override ?? fileURLToPath(new URL('../../../build/Release/nbuild-sandbox', import.meta.url));
  try {
    accessSync(path, constants.X_OK);
  } catch (cause) {
    throw new NbuildError('SANDBOX_HELPER_MISSING', `the sandbox helper ${path} is missing; run \`npm run build:native\``, {
      cause,
    });
  }
  cached = path;
  return path;
}
