// Bounds that keep a hostile Dockerfile from exhausting memory, time or the stack. Each is far
// above what real Dockerfiles use (docs/differences.md, "Limits"); crossing one is an error at
// the Dockerfile line that crossed it, in `nbuild build` and `nbuild check` alike.
import { DockerfileError } from '../../errors.js';
import type { Instruction } from './types.js';

/**
 * The longest word a variable expansion may produce, in characters (UTF-16 units). BuildKit's
 * lexer has no bound (frontend/dockerfile/shell/lex.go), so `ENV A=${A}${A}…` repeated grows it
 * without end; 1 MiB is far more than any path, label or flag needs.
 */
export const MAX_WORD_LENGTH = 1 << 20;

/** The most a stage's ENV may hold, summed over its `KEY=VALUE` entries (characters). */
export const MAX_ENV_LENGTH = 1 << 20;

/** Stages in one Dockerfile. */
export const MAX_STAGES = 10_000;

/** Instructions in one Dockerfile, and steps in one build (ONBUILD triggers included). */
export const MAX_STEPS = 100_000;

/**
 * Steps of the pattern matcher of `${V#p}`, `${V%p}`, `${V/p/r}` for one expansion (about a
 * second): its cost is the value's length times the pattern's.
 */
export const MAX_PATTERN_WORK = 1 << 26;

/** A bound crossed while expanding a word (the lexer turns it into a located error). */
export class LimitError extends Error {}

/** Thrown by the lexer's helpers when a word outgrows MAX_WORD_LENGTH. */
export class WordTooLongError extends LimitError {
  constructor() {
    super(`the expanded word is longer than ${MAX_WORD_LENGTH} characters (1 MiB), nbuild's limit`);
  }
}

export class PatternTooCostlyError extends LimitError {
  constructor() {
    super(`matching the pattern against the value takes more than ${MAX_PATTERN_WORK} steps, nbuild's limit (shorten one of them)`);
  }
}

/**
 * The text a build's steps may add to image history, in characters. History entries hold every
 * expanded ENV, LABEL and ARG value, so this also bounds how far the image config can grow.
 */
export const MAX_HISTORY_LENGTH = 1 << 26;

/** The error for an ENV that takes its stage's environment past MAX_ENV_LENGTH (else undefined). */
export function envTooLongError(length: number, instr: Instruction): DockerfileError | undefined {
  if (length <= MAX_ENV_LENGTH) return undefined;
  return new DockerfileError(
    { file: instr.source.file, line: instr.source.range.start.line },
    `ENV: the stage's environment is longer than ${MAX_ENV_LENGTH} characters (1 MiB), nbuild's limit`,
    { code: 'LIMIT' },
  );
}
