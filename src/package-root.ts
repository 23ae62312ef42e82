// Paths inside the installed package. Modules run either from tsc's output (dist/src/…) or from
// the CLI bundle (dist/nbuild.cjs), so a path relative to import.meta.url would differ between
// the two: walk up to the folder that holds package.json and binding.gyp instead. The single
// executable (src/cli/sea.ts) has no package folder: it says where its files are instead.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/** What the single executable tells about itself: its version, its addon and its helper. */
export interface SelfContained {
  version: string;
  addon: string;
  helper: string;
}

let selfContained: SelfContained | undefined;

/** Called once by the single executable, before anything asks for a path. */
export function setSelfContained(s: SelfContained): void {
  selfContained = s;
}

export function selfContainedFiles(): SelfContained | undefined {
  return selfContained;
}

export function packageRoot(): string {
  if (root !== undefined) return root;
  if (selfContained) throw new Error('nbuild: the single executable has no package folder');
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

/** nbuild's version (package.json's, or the one built into the single executable). */
export function nbuildVersion(): string {
  version ??= selfContained?.version ?? (JSON.parse(readFileSync(packagePath('package.json'), 'utf8')) as { version: string }).version;
  return version;
}

/** What nbuild sends as User-Agent to registries and ADD's servers. */
export function userAgent(): string {
  return `nbuild/${nbuildVersion()}`;
}
