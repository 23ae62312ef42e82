// Turns any thrown value into one line on stderr and an exit status.
import { isNbuildError } from '../errors.js';

export function reportError(error: unknown, debug: boolean): number {
  if (isNbuildError(error)) {
    process.stderr.write(`nbuild: ${error.message}\n`);
    // The Dockerfile's lines at fault, marked with `>` (a located error has them).
    const frame = (error as { frame?: unknown }).frame;
    if (typeof frame === 'string' && frame !== '') process.stderr.write(`${frame}\n`);
    if (debug && error.stack) process.stderr.write(`${error.stack}\n`);
    return error.exitCode;
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`nbuild: internal error: ${message}\n`);
  if (debug && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
  else process.stderr.write('nbuild: run again with --log-level debug for details\n');
  return 1;
}
