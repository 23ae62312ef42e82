// Where the native binaries (the addon nbuild_native.node and the helper nbuild-sandbox) are:
//  1. the single executable's own (its addon written out next to it, src/cli/sea.ts);
//  2. build/Release of the package: a source checkout, or an install that found no prebuilt
//     binaries and compiled them (src/install.ts);
//  3. the platform package (@nbuild/linux-x64, @nbuild/linux-arm64), an optional dependency
//     npm installs only on its os/cpu, next to nbuild (esbuild and sharp ship the same way).
// bin/nbuild finds the helper the same way before Node starts.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { nbuildVersion, packagePath, packageRoot, selfContainedFiles } from '../package-root.js';
import { NativeError } from './errors.js';

export const ADDON = 'nbuild_native.node';
export const HELPER = 'nbuild-sandbox';

/** The platform package for this host, e.g. @nbuild/linux-x64. */
export function platformPackage(platform: string = process.platform, arch: string = process.arch): string {
  return `@nbuild/${platform}-${arch}`;
}

export interface Prebuilt {
  name: string;
  version: string;
  dir: string;
}

/** The host's platform package as Node resolves it from the nbuild package, if installed. */
export function findPrebuilt(root: string = packageRoot()): Prebuilt | undefined {
  const name = platformPackage();
  let manifest: string;
  try {
    manifest = createRequire(path.join(root, 'package.json')).resolve(`${name}/package.json`);
  } catch {
    return undefined;
  }
  const dir = path.dirname(manifest);
  if (!existsSync(path.join(dir, ADDON)) || !existsSync(path.join(dir, HELPER))) return undefined;
  const { version } = JSON.parse(readFileSync(manifest, 'utf8')) as { version: string };
  return { name, version, dir };
}

export interface NativeFiles {
  addon: string;
  helper: string;
  /** where they come from, for `nbuild info` */
  from: string;
}

let cached: NativeFiles | undefined;

export function nativeFiles(): NativeFiles {
  if (cached) return cached;
  const sea = selfContainedFiles();
  if (sea) return (cached = { addon: sea.addon, helper: sea.helper, from: 'the single executable' });
  const built = packagePath('build', 'Release');
  if (existsSync(path.join(built, ADDON))) {
    return (cached = { addon: path.join(built, ADDON), helper: path.join(built, HELPER), from: `built from source (${built})` });
  }
  const pre = findPrebuilt();
  if (!pre) {
    throw new NativeError(
      'NATIVE_MISSING',
      `no native binaries: neither ${built} nor the package ${platformPackage()} is installed; ` +
        `reinstall nbuild (npm i -g nbuild) or, in a source checkout, run "npm run build:native"`,
      { path: built },
    );
  }
  if (pre.version !== nbuildVersion()) {
    throw new NativeError(
      'NATIVE_MISMATCH',
      `nbuild ${nbuildVersion()} found ${pre.name} ${pre.version} (${pre.dir}); install the same version of both (npm i -g nbuild@${nbuildVersion()})`,
      { path: pre.dir },
    );
  }
  return (cached = { addon: path.join(pre.dir, ADDON), helper: path.join(pre.dir, HELPER), from: `prebuilt (${pre.name} ${pre.version})` });
}
