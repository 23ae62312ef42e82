// Turns any thrown value into one line on stderr (or `out`: the tests' API harness renders a
// build's error as the CLI does) and an exit status.
import { isNbuildError } from '../errors.js';
import { stderr, type TextSink } from '../stdio.js';

export function reportError(error: unknown, debug: boolean, out: TextSink = stderr): number {
  if (isNbuildError(error)) {
    out.write(`nbuild: ${error.message}\n`);
    // The Dockerfile's lines at fault, marked with `>` (a located error has them).
    const frame = (error as { frame?: unknown }).frame;
    if (typeof frame === 'string' && frame !== '') out.write(`${frame}\n`);
    if (debug && error.stack) out.write(`${error.stack}\n`);
    return error.exitCode;
  }
  const message = error instanceof Error ? error.message : String(error);
  out.write(`nbuild: internal error: ${message}\n`);
  if (debug && error instanceof Error && error.stack) out.write(`${error.stack}\n`);
  else out.write('nbuild: run again with --log-level debug for details\n');
  return 1;
}
