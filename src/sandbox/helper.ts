// Where the native helper executable lives: $NBUILD_SANDBOX_HELPER, else next to the addon
// (src/native/location.ts: build/Release, the platform package, or the single executable's).
import { accessSync, constants } from 'node:fs';
import { NbuildError } from '../errors.js';
import { nativeFiles } from '../native/location.js';

let cached: string | undefined;

export function helperPath(): string {
  if (cached !== undefined) return cached;
  const override = process.env['NBUILD_SANDBOX_HELPER'];
  const path = override ?? nativeFiles().helper;
  try {
    accessSync(path, constants.X_OK);
  } catch (cause) {
    throw new NbuildError('SANDBOX_HELPER_MISSING', `the sandbox helper ${path} is missing or not executable; reinstall nbuild, or run \`npm run build:native\` in a source checkout`, {
      cause,
    });
  }
  cached = path;
  return path;
}
