// `--isolation` and `--run-fsync` (build and run) with their documented environment overrides,
// NBUILD_ISOLATION and NBUILD_RUN_FSYNC=1 (docs/decisions.md): read here, once, and passed down
// as build or run options; nothing below the CLI reads them from the environment.
import { parseIsolation, type IsolationMode } from '../snapshot/ladder.js';

/** The flag, else NBUILD_ISOLATION; undefined: the best mode this host allows. */
export function isolationOption(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): IsolationMode | undefined {
  return parseIsolation(flag || env['NBUILD_ISOLATION']);
}

/** The flag, or NBUILD_RUN_FSYNC=1. */
export function runFsyncOption(flag: boolean | undefined, env: NodeJS.ProcessEnv = process.env): boolean {
  return flag === true || env['NBUILD_RUN_FSYNC'] === '1';
}
