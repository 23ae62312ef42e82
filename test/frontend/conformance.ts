// Locates the shared conformance data (../shared/conformance from the project
// root, or $NBUILD_CONFORMANCE). With CI=true it must exist; elsewhere a missing
// folder makes the conformance tests skip with a visible message.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestFn } from 'ava';
import { inCi } from '../helpers/ci.js';

const here = dirname(fileURLToPath(import.meta.url));
// dist/test/frontend → project root
const projectRoot = resolve(here, '..', '..', '..');

export const conformanceDir: string | undefined = (() => {
  const dir = process.env.NBUILD_CONFORMANCE || resolve(projectRoot, '..', 'shared', 'conformance');
  if (existsSync(dir)) return dir;
  if (inCi) throw new Error(`conformance data not found at ${dir} (required when CI=true)`);
  return undefined;
})();

/** When the data is missing, registers one visibly skipped test instead. */
export function reportMissing(test: TestFn, what: string): void {
  test(`${what}: conformance data missing`, (t) => {
    t.log('SKIPPED: conformance folder not found; set NBUILD_CONFORMANCE or place ../shared/conformance');
    t.pass();
  });
}

export function subdirs(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => statSync(join(dir, name)).isDirectory())
    .sort();
}

export function readText(path: string): string {
  return readFileSync(path, 'utf8');
}

export function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}
