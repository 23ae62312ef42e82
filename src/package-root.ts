// Paths inside the installed package. Modules run either from tsc's output (dist/src/…) or from
// the CLI bundle (dist/nbuild.mjs), so a path relative to import.meta.url would differ between
// the two: walk up to the folder that holds package.json and binding.gyp instead.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

export function packageRoot(): string {
  if (root !== undefined) return root;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'binding.gyp'))) return (root = dir);
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`nbuild: cannot find the package folder above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

/** A path inside the package, e.g. packagePath('build', 'Release', 'nbuild-sandbox'). */
export function packagePath(...parts: string[]): string {
  return path.join(packageRoot(), ...parts);
}

let version: string | undefined;

/** nbuild's version, from package.json. */
export function nbuildVersion(): string {
  return (version ??= (JSON.parse(readFileSync(packagePath('package.json'), 'utf8')) as { version: string }).version);
}

/** What nbuild sends as User-Agent to registries and ADD's servers. */
export function userAgent(): string {
  return `nbuild/${nbuildVersion()}`;
}
