// Where the native helper executable lives: build/Release of the package, or $NBUILD_SANDBOX_HELPER.
import { accessSync, constants } from 'node:fs';
import { NbuildError } from '../errors.js';
import { packagePath } from '../package-root.js';

let cached: string | undefined;

export function helperPath(): string {
  if (cached !== undefined) return cached;
  const override = process.env['NBUILD_SANDBOX_HELPER'];
  const path = override ?? packagePath('build', 'Release', 'nbuild-sandbox');
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
