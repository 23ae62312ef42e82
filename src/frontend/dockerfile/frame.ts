// A short code frame for Dockerfile errors: the offending lines with numbers,
// marked with `>`, plus one line of context before.
import { DockerfileError, RunStepError } from '../../errors.js';

const MAX_LINES = 6;
const MAX_WIDTH = 120;

export function codeFrame(lines: readonly string[], start: number, end: number = start): string {
  const first = Math.max(1, start - 1);
  const last = Math.min(lines.length, end, start + MAX_LINES - 1);
  const width = String(last).length;
  const out: string[] = [];
  for (let n = first; n <= last; n++) {
    let text = (lines[n - 1] ?? '').replace(/\r+$/, '');
    if (text.length > MAX_WIDTH) text = text.slice(0, MAX_WIDTH) + '…';
    const mark = n >= start ? '>' : ' ';
    out.push(`${mark} ${String(n).padStart(width)} | ${text}`);
  }
  if (end > last) out.push(`  ${' '.repeat(width)} | …`);
  return out.join('\n');
}

/** A DockerfileError at lines start..end of `file`, with a code frame. */
export function errorAt(
  file: string,
  lines: readonly string[],
  detail: string,
  start: number,
  end: number = start,
  cause?: unknown,
): DockerfileError {
  const line = Math.max(1, start);
  return new DockerfileError(
    { file, line, endLine: Math.max(line, end) },
    detail,
    { frame: lines.length > 0 ? codeFrame(lines, line, Math.max(line, end)) : undefined, cause },
  );
}

/**
 * Gives an error located in `file` (a DockerfileError or a failed RUN) the code frame of its
 * lines, unless it has one; returns the error.
 */
export function attachFrame(error: unknown, file: string, text: string): unknown {
  if ((error instanceof DockerfileError || error instanceof RunStepError) && error.frame === undefined && error.location.file === file) {
    const start = Math.max(1, error.location.line);
    error.frame = codeFrame(text.split('\n'), start, Math.max(start, error.location.endLine ?? start));
  }
  return error;
}
